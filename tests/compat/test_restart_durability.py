"""Acknowledged records survive a broker restart, clean (SIGTERM) or not (SIGKILL): same key, value,
headers, timestamp and offset, dense offsets, and new records continue at the old end offset.

The tests run in order on one broker and one data directory; each restart moves the broker to a new
port, so every client is created after the restart it follows.
"""

import time

import brook_harness as h
import produce_consume_util as u

h.require_modules("confluent_kafka")

from confluent_kafka import TIMESTAMP_CREATE_TIME  # noqa: E402

PARTITIONS = 3
# Everything acknowledged so far, per topic: {topic: {(partition, offset): Record}}.
expected = {}
TOPIC = "durable"
COMPRESSED = "durable-zstd"


def make_records(n, tag, t0):
    records = []
    for i in range(n):
        headers = [("seq", str(i).encode()), ("tag", tag.encode()), ("bin", bytes([i % 256, 0, 255]))]
        records.append({"key": f"key-{i % 11}".encode(), "value": f"{tag}-value-{i}-".encode() * (1 + i % 4),
                        "headers": headers if i % 9 else [], "timestamp": t0 + i})
    return records


def produce_and_remember(srv, topic, n, tag, **conf):
    t0 = int(time.time() * 1000) - 10_000_000 + len(expected.get(topic, {}))
    records = make_records(n, tag, t0)
    prod = u.producer(srv, linger_ms=5, **conf)
    reports = u.produce_all(prod, topic, records)
    del prod
    u.assert_delivered(reports)
    remember(topic, records, reports)
    return reports


def remember(topic, records, reports):
    known = expected.setdefault(topic, {})
    for rec, rep in zip(records, reports):
        if rep.error is not None:
            continue
        place = (rep.partition, rep.offset)
        assert place not in known, f"{topic}: offset {place} acknowledged twice"
        known[place] = u.Record(rep.partition, rep.offset, rec["key"], rec["value"], rec["headers"] or None,
                                (TIMESTAMP_CREATE_TIME, rec["timestamp"]))


def end_offsets(topic):
    ends = {p: 0 for p in range(PARTITIONS)}
    for (p, off) in expected[topic]:
        ends[p] = max(ends[p], off + 1)
    return ends


def check_everything_back(srv, topic, allow_unacknowledged_tail=False):
    consumed = u.consume_to_end(srv, topic, PARTITIONS, timeout=30)
    known = expected[topic]
    ends = end_offsets(topic)
    for p, recs in consumed.items():
        offsets = [r.offset for r in recs]
        assert offsets == list(range(len(recs))), f"{topic}[{p}]: offsets not dense from 0 ({len(recs)} records)"
        if allow_unacknowledged_tail:
            assert len(recs) >= ends[p], f"{topic}[{p}]: {len(recs)} records, {ends[p]} were acknowledged"
        else:
            assert len(recs) == ends[p], f"{topic}[{p}]: {len(recs)} records after restart, expected {ends[p]}"
        low, high = u.watermarks(srv, topic, p)
        assert (low, high) == (0, len(recs)), f"{topic}[{p}]: watermarks ({low}, {high}), expected (0, {len(recs)})"
        for r in recs:
            want = known.get((p, r.offset))
            if want is None:
                assert allow_unacknowledged_tail, f"{topic}[{p}]@{r.offset} was never acknowledged: {r}"
                continue
            assert r == want, f"{topic}[{p}]@{r.offset} changed across the restart:\n  got  {r}\n  want {want}"
    missing = [place for place in known if place[1] >= len(consumed[place[0]])]
    assert not missing, f"{topic}: {len(missing)} acknowledged records lost, e.g. {sorted(missing)[:5]}"


def check_produce_continues(srv, topic):
    before = end_offsets(topic)
    reports = produce_and_remember(srv, topic, 300, f"after-{time.monotonic_ns()}")
    for p in range(PARTITIONS):
        offs = sorted(r.offset for r in reports if r.partition == p)
        assert offs == list(range(before[p], before[p] + len(offs))), \
            f"{topic}[{p}]: new records at {offs[:3]}..., expected to continue at {before[p]}"


def kill_and_restart(srv):
    srv.process.kill()
    srv.process.wait(10)
    srv._reader.join(5)
    assert srv.process.returncode == -9, f"broker exit status {srv.process.returncode}"
    srv.start()


# --- tests (in order) ----------------------------------------------------------------------------

def test_produce_acknowledged_records(srv):
    u.create_topic(srv, TOPIC, PARTITIONS)
    u.create_topic(srv, COMPRESSED, PARTITIONS)
    produce_and_remember(srv, TOPIC, 3000, "first")
    produce_and_remember(srv, COMPRESSED, 1000, "first", compression_type="zstd")
    check_everything_back(srv, TOPIC)


def test_clean_restart_keeps_every_record(srv):
    srv.stop()  # asserts exit code 0
    srv.start()
    check_everything_back(srv, TOPIC)
    check_everything_back(srv, COMPRESSED)


def test_produce_after_clean_restart_continues_at_end(srv):
    check_produce_continues(srv, TOPIC)
    check_everything_back(srv, TOPIC)


def test_kill9_restart_keeps_every_record(srv):
    kill_and_restart(srv)
    check_everything_back(srv, TOPIC)
    check_everything_back(srv, COMPRESSED)


def test_produce_after_kill9_continues_at_end(srv):
    check_produce_continues(srv, TOPIC)
    check_produce_continues(srv, COMPRESSED)
    check_everything_back(srv, TOPIC)


def test_kill9_during_produce_keeps_acknowledged_records(srv):
    topic = "durable-inflight"
    u.create_topic(srv, topic, PARTITIONS)
    records = make_records(30_000, "inflight", int(time.time() * 1000) - 5_000_000)
    reports = [None] * len(records)
    prod = u.producer(srv, linger_ms=2, message_timeout_ms=3000, retries=0, batch_num_messages=200)

    acked = [0]

    def on_delivery(i):
        def report(err, msg):
            reports[i] = u.Delivery(err, msg)
            acked[0] += err is None
        return report

    # Queue records much faster than they are acknowledged; kill the broker once 3000 are
    # acknowledged, with later ones still queued or in flight.
    deadline = time.monotonic() + 30
    for i, rec in enumerate(records):
        while True:
            try:
                prod.produce(topic, on_delivery=on_delivery(i), **rec)
                break
            except BufferError:
                prod.poll(0.01)
        if i % 100 == 99:
            prod.poll(0)
            if acked[0] >= 3000:
                break
    while acked[0] < 3000:
        assert time.monotonic() < deadline, f"only {acked[0]} records acknowledged"
        prod.poll(0.001)
    srv.process.kill()
    in_flight = len(records) - acked[0]
    prod.flush(10)
    del prod
    srv.process.wait(10)
    srv._reader.join(5)
    srv.start()
    done = [(rec, rep) for rec, rep in zip(records, reports) if rep is not None]
    remember(topic, [d[0] for d in done], [d[1] for d in done])
    acked = sum(1 for _, rep in done if rep.error is None)
    assert acked >= 3000, acked
    print(f"  killed with {in_flight} records unacknowledged; {acked} acknowledged in all", flush=True)
    check_everything_back(srv, topic, allow_unacknowledged_tail=True)


def test_clean_stop_at_the_end(srv):
    srv.stop()


if __name__ == "__main__":
    h.main(globals(), modules=["confluent_kafka"])
