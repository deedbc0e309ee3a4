"""Floods of topics and partitions: per-request and broker-wide limits, descriptors, orphan
directories, bounded auto-creation, prompt shutdown, and the log cleaner's own schedule.

Each test starts its own broker. CreateTopics and Metadata are spoken on raw sockets (kafka_wire);
produce and consume use confluent-kafka.
"""

import os
import stat
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import brook_harness as h
import kafka_wire as w
import produce_consume_util as pc

POLICY_VIOLATION = 44
UNKNOWN_TOPIC_OR_PARTITION = 3
TIMEOUT = 30.0


def create_topics(port, topics, timeout_s=TIMEOUT):
    """CreateTopics v4 with (name, partitions) pairs; returns {name: (error_code, message)}."""
    body = struct.pack(">i", len(topics))
    for name, partitions in topics:
        body += w.string(name) + struct.pack(">ihii", partitions, 1, 0, 0)  # no assignments, no configs
    body += struct.pack(">i?", 30000, False)
    s = w.connect(port, timeout_s)
    try:
        s.sendall(w.frame(w.header_v1(19, 4, 7) + body))
        r = w.Reader(w.read_response(s))
        assert r.int32() == 7
        r.int32()  # throttle
        out = {}
        for _ in range(r.int32()):
            name = r.nullable_string()
            code = r.int16()
            out[name] = (code, r.nullable_string())
        return out
    finally:
        s.close()


def metadata_v4(s, names, allow_auto_create=True, correlation_id=9):
    """Sends Metadata v4 for `names` on socket s."""
    body = struct.pack(">i", len(names)) + b"".join(w.string(n) for n in names) + struct.pack(">?", allow_auto_create)
    s.sendall(w.frame(w.header_v1(3, 4, correlation_id) + body))


def read_metadata_v4(s):
    """{topic: error_code} of a Metadata v4 response."""
    r = w.Reader(w.read_response(s, max_size=1 << 28))
    r.int32()  # correlation id
    r.int32()  # throttle
    for _ in range(r.int32()):
        r.int32(), r.nullable_string(), r.int32(), r.nullable_string()
    r.nullable_string()  # cluster id
    r.int32()  # controller
    out = {}
    for _ in range(r.int32()):
        code = r.int16()
        name = r.nullable_string()
        r.int8()  # internal
        for _ in range(r.int32()):
            r.int16(), r.int32(), r.int32()
            for _ in range(r.int32()):
                r.int32()
            for _ in range(r.int32()):
                r.int32()
        out[name] = code
    return out


def partition_dirs(data_dir):
    return sorted(d for d in os.listdir(data_dir)
                  if os.path.isdir(os.path.join(data_dir, d)) and not d.startswith("__"))


def produce_ok(srv, topic, count=3):
    prod = pc.producer(srv)
    reports = pc.produce_all(prod, topic, [{"value": b"v%d" % i} for i in range(count)])
    pc.assert_delivered(reports)


def test_million_partitions_refused_with_policy_violation():
    with h.brook_server() as srv:
        pc.create_topic(srv, "bystander")
        started = time.monotonic()
        result = create_topics(srv.port, [("huge", 1_000_000), ("small", 2)])
        assert time.monotonic() - started < 10, "the refusal should not depend on the partition count"
        assert result["huge"][0] == POLICY_VIOLATION, result
        assert result["small"][0] == POLICY_VIOLATION, result  # the whole request is refused
        assert "partitions per request" in (result["huge"][1] or ""), result
        assert partition_dirs(srv.data_dir) == ["bystander-0"], partition_dirs(srv.data_dir)
        # Nothing registered: asking for it without auto-creation says unknown.
        s = w.connect(srv.port, TIMEOUT)
        metadata_v4(s, ["huge"], allow_auto_create=False)
        assert read_metadata_v4(s) == {"huge": UNKNOWN_TOPIC_OR_PARTITION}
        s.close()
        produce_ok(srv, "bystander")
        # 10,000 partitions in one request is still within the limit (validated only: no disk work).
        srv.stop()


def _wrapper_with_file_limit(limit):
    """A script running brook-server under RLIMIT_NOFILE = limit (soft and hard, so it cannot raise it)."""
    fd, path = tempfile.mkstemp(prefix="brook-nofile-", suffix=".sh")
    with os.fdopen(fd, "w") as f:
        f.write(f"#!/bin/sh\nulimit -n {limit}\nexec '{h.server_binary()}' \"$@\"\n")
    os.chmod(path, stat.S_IRWXU)
    return path


def test_partitions_beyond_the_descriptor_limit_fail_per_request_and_the_broker_keeps_working():
    wrapper = _wrapper_with_file_limit(512)
    data_dir = tempfile.mkdtemp(prefix="brook-compat-")
    srv = h.BrookServer(wrapper, os.environ.get("BROOK_CONF", h.DEFAULT_CONF), {}, data_dir)
    try:
        srv.start()
        pc.create_topic(srv, "keeps-working")
        created, refused = [], []
        for i in range(40):  # 40 x 50 partitions: far more descriptors than 512
            name = f"flood-{i}"
            code, message = create_topics(srv.port, [(name, 50)])[name]
            (created if code == 0 else refused).append((name, code, message))
        assert created, "some topics fit under the limit"
        assert refused, "the limit must be reached"
        assert all(code == POLICY_VIOLATION for _, code, _ in refused), refused[:3]
        on_disk = partition_dirs(data_dir)
        assert len(on_disk) == 1 + 50 * len(created), (len(on_disk), len(created))
        produce_ok(srv, "keeps-working")
        produce_ok(srv, created[-1][0])
        srv.restart()
        produce_ok(srv, "keeps-working")
        assert "Too many open files" not in srv.log_text()
        srv.stop()
    finally:
        srv.kill_quietly()
        os.unlink(wrapper)
        import shutil
        shutil.rmtree(data_dir, ignore_errors=True)


def test_orphan_partition_directories_are_removed_at_start():
    with h.brook_server() as srv:
        pc.create_topic(srv, "kept", partitions=2)
        srv.stop()
        for orphan in ("ghost-0", "ghost-1", "kept-7"):
            os.makedirs(os.path.join(srv.data_dir, orphan))
        srv.start()
        assert partition_dirs(srv.data_dir) == ["kept-0", "kept-1"], partition_dirs(srv.data_dir)
        produce_ok(srv, "kept")
        srv.stop()


def test_metadata_with_100000_unknown_topics_creates_nothing_and_shutdown_is_prompt():
    with h.brook_server({"auto.create.topics.enable": "true"}) as srv:
        names = [f"auto-{i}" for i in range(100_000)]
        s = w.connect(srv.port, TIMEOUT)
        started = time.monotonic()
        metadata_v4(s, names)
        answer = read_metadata_v4(s)
        assert time.monotonic() - started < 15
        assert len(answer) == len(names)
        assert set(answer.values()) == {UNKNOWN_TOPIC_OR_PARTITION}, set(answer.values())
        assert partition_dirs(srv.data_dir) == []
        # A bounded request is still auto-created.
        metadata_v4(s, ["auto-a", "auto-b"], correlation_id=10)
        assert read_metadata_v4(s) == {"auto-a": 0, "auto-b": 0}
        # The same flood again, then the client goes away at once and the broker is told to stop.
        metadata_v4(s, names, correlation_id=11)
        s.close()
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 10, "SIGTERM must stop the broker promptly"


def test_compaction_follows_the_cleaner_backoff_not_the_retention_timer():
    overrides = {"log.cleaner.backoff.ms": "200", "log.retention.check.interval.ms": "300000"}
    with h.brook_server(overrides) as srv:
        topic = "compacted"
        pc.create_topic(srv, topic, config={"cleanup.policy": "compact", "segment.ms": "1000",
                                            "min.cleanable.dirty.ratio": "0.01",
                                            "max.compaction.lag.ms": "2000"})
        prod = pc.producer(srv)
        first = [{"key": b"k%d" % (i % 3), "value": b"old-%d" % i} for i in range(30)]
        pc.assert_delivered(pc.produce_all(prod, topic, first))
        time.sleep(1.2)  # past segment.ms: the next append rolls the segment
        pc.assert_delivered(pc.produce_all(prod, topic, [{"key": b"k9", "value": b"roll"}]))

        def compacted():
            msgs = pc.consume_to_end(srv, topic, [0])[0]
            return len(msgs) <= 4 and msgs

        msgs = h.wait_until(compacted, 15.0, interval=0.5, what="compaction within the cleaner backoff")
        latest = {m.key: m.value for m in msgs}
        assert latest[b"k0"] == b"old-27" and latest[b"k1"] == b"old-28" and latest[b"k2"] == b"old-29", latest
        srv.stop()


if __name__ == "__main__":
    h.require_modules("confluent_kafka")
    sys.exit(1 if h.run_tests({k: v for k, v in globals().items()}) else 0)
