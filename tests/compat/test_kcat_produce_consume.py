"""kcat as producer (-P) and consumer (-C, no group): keys, partitioning, headers, timestamps,
start offsets, compression codecs, -e and -c, as against one-node Kafka."""

import random
import string
import time
import zlib

import brook_harness as h
import produce_consume_util as u

h.require_program("kcat")
h.require_modules("confluent_kafka")


def kcat_produce(srv, topic, lines, *args):
    data = b"".join(line + b"\n" for line in lines)
    u.kcat(srv, "-P", "-t", topic, *args, stdin=data)


def offsets(msgs):
    return [m["offset"] for m in msgs]


# --- tests ---------------------------------------------------------------------------------------

def test_keyed_produce_same_key_same_partition_in_order(srv):
    topic = u.create_topic(srv, h.unique_name("kcat-keyed"), 4)
    keys = [f"key-{i}" for i in range(12)]
    lines = [f"{keys[i % len(keys)]}:value-{i}".encode() for i in range(240)]
    kcat_produce(srv, topic, lines, "-K:")
    msgs = u.kcat_consume_json(srv, topic, "-o", "beginning")
    assert len(msgs) == 240, f"consumed {len(msgs)} of 240"
    by_partition = {}
    for m in msgs:
        by_partition.setdefault(m["partition"], []).append(m)
    for p, ms in by_partition.items():
        assert offsets(ms) == list(range(len(ms))), f"partition {p} offsets not dense from 0: {offsets(ms)[:20]}"
    partition_of = {}
    for m in msgs:
        partition_of.setdefault(m["key"], set()).add(m["partition"])
    for key, parts in partition_of.items():
        assert len(parts) == 1, f"key {key} spread over partitions {parts}"
        # librdkafka's default partitioner (consistent_random) is CRC32(key) % partition count.
        expected = zlib.crc32(key.encode()) % 4
        assert parts == {expected}, f"key {key} in partition {parts}, librdkafka would choose {expected}"
    assert len(by_partition) > 1, "all keys landed in one partition"
    for key in keys:
        seqs = [int(m["payload"].split("-")[1]) for m in msgs if m["key"] == key]
        assert seqs == sorted(seqs) and len(seqs) == 20, f"key {key}: out of order or missing: {seqs}"
        assert all(s % len(keys) == keys.index(key) for s in seqs), f"key {key} carries foreign values {seqs}"


def test_explicit_partition(srv):
    topic = u.create_topic(srv, h.unique_name("kcat-part"), 4)
    kcat_produce(srv, topic, [b"p3-a", b"p3-b"], "-p", "3")
    kcat_produce(srv, topic, [b"p1-a"], "-p", "1")
    msgs = u.kcat_consume_json(srv, topic, "-o", "beginning")
    got = sorted((m["partition"], m["offset"], m["payload"]) for m in msgs)
    assert got == [(1, 0, "p1-a"), (3, 0, "p3-a"), (3, 1, "p3-b")], got
    only3 = u.kcat_consume_json(srv, topic, "-p", "3", "-o", "beginning")
    assert [m["payload"] for m in only3] == ["p3-a", "p3-b"], only3


def test_headers_round_trip(srv):
    topic = u.create_topic(srv, h.unique_name("kcat-headers"), 1)
    kcat_produce(srv, topic, [b"k1:with-headers", b"k2:second"], "-K:", "-H", "trace=abc123", "-H", "empty=",
                 "-H", "trace=dup", "-H", "bin=\u00e9t\u00e9")
    kcat_produce(srv, topic, [b"k3:no-headers"], "-K:")
    msgs = u.kcat_consume_json(srv, topic, "-o", "beginning")
    assert len(msgs) == 3, msgs
    want = ["trace", "abc123", "empty", "", "trace", "dup", "bin", "\u00e9t\u00e9"]
    for m in msgs[:2]:
        assert m["headers"] == want, f"offset {m['offset']}: headers {m['headers']}, expected {want}"
    assert "headers" not in msgs[2] or not msgs[2]["headers"], f"record without headers came back with {msgs[2]}"
    # The text format too: %h prints k=v pairs in order.
    r = u.kcat(srv, "-C", "-t", topic, "-e", "-q", "-o", "beginning", "-c", "1", "-f", "%k|%s|%h\n")
    assert r.stdout.decode() == "k1|with-headers|trace=abc123,empty=,trace=dup,bin=\u00e9t\u00e9\n", r.stdout


def test_consumed_timestamps_are_create_time_near_now(srv):
    topic = u.create_topic(srv, h.unique_name("kcat-ts"), 2)
    before = int(time.time() * 1000)
    kcat_produce(srv, topic, [f"k{i}:v{i}".encode() for i in range(20)], "-K:")
    after = int(time.time() * 1000)
    msgs = u.kcat_consume_json(srv, topic, "-o", "beginning")
    assert len(msgs) == 20
    for m in msgs:
        assert m["tstype"] == "create", f"timestamp type {m['tstype']}, expected create: {m}"
        assert before - 1000 <= m["ts"] <= after + 1000, f"timestamp {m['ts']} not within [{before}, {after}]"
    r = u.kcat(srv, "-C", "-t", topic, "-p", "0", "-e", "-q", "-o", "beginning", "-f", "%T\n")
    stamps = [int(x) for x in r.stdout.split()]
    assert stamps and all(before - 1000 <= t <= after + 1000 for t in stamps), stamps


def test_start_offsets(srv):
    topic = u.create_topic(srv, h.unique_name("kcat-offsets"), 1)
    t0 = int(time.time() * 1000) - 60_000
    prod = u.producer(srv)
    reports = u.produce_all(prod, topic, [{"value": f"m{i}".encode(), "timestamp": t0 + 1000 * i} for i in range(10)])
    u.assert_delivered(reports)
    assert [r.offset for r in reports] == list(range(10)), reports

    def consumed(*args):
        return offsets(u.kcat_consume_json(srv, topic, *args))

    assert consumed("-o", "beginning") == list(range(10))
    assert consumed("-o", "end") == [], "-o end -e must print nothing"
    assert consumed("-o", "4") == list(range(4, 10))
    assert consumed("-o", "10") == []
    assert consumed("-o", "-3") == [7, 8, 9]
    assert consumed("-o", f"s@{t0 + 2000}") == list(range(2, 10)), "s@ an exact timestamp starts at that record"
    assert consumed("-o", f"s@{t0 + 2500}") == list(range(3, 10)), "s@ between timestamps starts at the next"
    assert consumed("-o", f"s@{t0 - 5000}") == list(range(10))
    assert consumed("-o", f"s@{t0 + 9000}") == [9]
    msgs = u.kcat_consume_json(srv, topic, "-o", "beginning")
    assert [m["ts"] for m in msgs] == [t0 + 1000 * i for i in range(10)], "explicit timestamps not kept"
    assert all(m["tstype"] == "create" for m in msgs)
    del prod


def test_count_limit(srv):
    topic = u.create_topic(srv, h.unique_name("kcat-count"), 1)
    kcat_produce(srv, topic, [f"c{i}".encode() for i in range(10)])
    # -c without -e: kcat must stop after exactly that many messages.
    r = u.kcat(srv, "-C", "-t", topic, "-q", "-o", "beginning", "-c", "4", "-f", "%o:%s\n", timeout=20)
    assert r.stdout.decode().split() == ["0:c0", "1:c1", "2:c2", "3:c3"], r.stdout
    r = u.kcat(srv, "-C", "-t", topic, "-q", "-o", "7", "-c", "10", "-e", "-f", "%o:%s\n", timeout=20)
    assert r.stdout.decode().split() == ["7:c7", "8:c8", "9:c9"], r.stdout


def test_exit_at_end_on_empty_partition(srv):
    topic = u.create_topic(srv, h.unique_name("kcat-empty"), 3)
    started = time.monotonic()
    assert u.kcat_consume_json(srv, topic, "-o", "beginning") == []
    assert time.monotonic() - started < 10, "kcat -e on empty partitions took too long"


def _codec_round_trip(srv, codec):
    topic = u.create_topic(srv, h.unique_name(f"kcat-{codec}"), 2)
    rnd = random.Random(codec)
    big = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(100 * 1024))
    values = [f"{codec}-small-{i}-" + "x" * (i % 50) for i in range(200)] + [big, "after-big"]
    lines = [f"key{i % 5}|{v}".encode() for i, v in enumerate(values)]
    kcat_produce(srv, topic, lines, "-K|", "-z", codec, "-X", "linger.ms=50")
    msgs = u.kcat_consume_json(srv, topic, "-o", "beginning", timeout=60)
    assert len(msgs) == len(values), f"{codec}: consumed {len(msgs)} of {len(values)}"
    got = {}
    for m in msgs:
        got.setdefault(m["key"], []).append(m["payload"])
    for k in range(5):
        want = [v for i, v in enumerate(values) if i % 5 == k]
        have = got.get(f"key{k}", [])
        assert len(have) == len(want), f"{codec} key{k}: {len(have)} values, expected {len(want)}"
        for i, (a, b) in enumerate(zip(have, want)):
            assert a == b, f"{codec} key{k} #{i}: value differs (len {len(a)} vs {len(b)})"


def test_compression_gzip(srv):
    _codec_round_trip(srv, "gzip")


def test_compression_snappy(srv):
    _codec_round_trip(srv, "snappy")


def test_compression_lz4(srv):
    _codec_round_trip(srv, "lz4")


def test_compression_zstd(srv):
    _codec_round_trip(srv, "zstd")


if __name__ == "__main__":
    h.main(globals(), modules=["confluent_kafka"], programs=["kcat"])
