"""Brook's client against Kafka's own Java client (kafka-clients 4.4.0), both on a brook-server:
- keyed records land on the partition the Java client's partitioner picks, whether `brook produce -K` or
  `kafka-demo` sends them;
- what the Java producer writes with each codec (none, gzip, snappy, lz4, zstd), `brook consume` reads
  identically: keys, values, headers (null ones too), partitions, offsets, timestamps — and kcat agrees.

Needs $BROOK_SERVER, $BROOK_CLI, $BROOK_DEMO, kcat, confluent-kafka (topic creation), and Java with javac
plus Maven (exit 77 without them: tools/dev.sh test installs them).
"""

import random
import subprocess

import brook_harness as h
import cross_client_util as x
import produce_consume_util as u

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
JAVA = None  # the compiled Java producer, shared by the tests (one compilation per run)


def java():
    global JAVA
    if JAVA is None:
        JAVA = x.JavaProducer()
    return JAVA


def partition_keys():
    rng = random.Random(20261206)
    keys = ["user-1", "user-2", "user-3", "user-4", "", "a", "ab", "abc", "abcd", "abcde", "é", "ключ", "键-🔑",
            "key with spaces", "x" * 300]
    keys += ["k-%d-%s" % (i, "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(i % 23)))
             for i in range(200)]
    return keys


def test_keyed_partitions_match_the_java_client(srv):
    keys = partition_keys()
    for partitions in (3, 7):
        java_topic = u.create_topic(srv, h.unique_name(f"cross-java-keys{partitions}"), partitions)
        brook_topic = u.create_topic(srv, h.unique_name(f"cross-brook-keys{partitions}"), partitions)
        java_sent = java().produce(srv, [{"topic": java_topic, "key": k.encode(), "value": b"v"} for k in keys])
        java_partition = dict(zip(keys, (p for p, _, _ in java_sent)))
        assert len(set(java_partition.values())) == partitions, "the keys should cover every partition"

        x.ok(srv, "produce", brook_topic, "-K", "\t", stdin="".join(f"{k}\tv-{i}\n" for i, k in enumerate(keys)))
        seen = x.brook_consume_json(srv, brook_topic, "-o", "beginning")
        assert len(seen) == len(keys), f"{len(seen)} records read back, {len(keys)} sent"
        brook_partition = {}
        for m in seen:
            key = keys[int(m["value"][2:])]
            assert m["key"] == key, m
            brook_partition[key] = m["partition"]
        wrong = {k: (brook_partition[k], java_partition[k]) for k in keys if brook_partition[k] != java_partition[k]}
        assert not wrong, f"{partitions} partitions: keys brook produce placed elsewhere than Java (brook, java): {wrong}"

        # kafka-demo's five keyed messages, on a topic of their own.
        demo_topic = u.create_topic(srv, h.unique_name(f"cross-demo-keys{partitions}"), partitions)
        r = subprocess.run([x.demo_binary(), "-mode", "producer", "-topic", demo_topic, "-brokers", srv.bootstrap],
                           capture_output=True, text=True, timeout=x.TIMEOUT)
        assert r.returncode == 0, (r.stdout, r.stderr)
        demo = [line for line in r.stdout.splitlines() if line.startswith("Message sent successfully! ")]
        assert len(demo) == 5, r.stdout
        for line in demo:
            fields = dict(f.split(": ", 1) for f in line[len("Message sent successfully! "):].split(", "))
            assert int(fields["Partition"]) == java_partition[fields["Key"]], \
                f"kafka-demo put {fields['Key']} on {fields['Partition']}, Java on {java_partition[fields['Key']]}"


def codec_records(topic, codec, base_ts):
    """A mix for one codec: keyed (the partitioner decides), explicit partitions, null keys and values,
    headers with null and empty values, non-ASCII text, a large compressible value, explicit timestamps."""
    records = []
    for i in range(40):
        rec = {"codec": codec, "topic": topic, "timestamp": base_ts + i * 1000,
               "key": f"key-{i % 9}".encode(), "value": f"{codec} value {i} ünïcødé €".encode(),
               "headers": [("i", str(i).encode()), ("codec", codec.encode())]}
        if i % 5 == 1:
            rec["key"] = None
            rec["partition"] = i % 3
        if i % 7 == 2:
            rec["value"] = None
        if i % 6 == 3:
            rec["headers"] = [("null-header", None), ("empty", b""), ("dup", b"1"), ("dup", b"2")]
        if i % 8 == 4:
            rec["headers"] = []
        records.append(rec)
    records.append({"codec": codec, "topic": topic, "partition": 0, "timestamp": base_ts - 5,
                    "key": b"big", "value": ("0123456789abcdef" * 16384).encode(), "headers": []})
    return records


def test_java_codecs_read_by_brook_consume(srv):
    base_ts = 1_700_000_000_000
    batches = []
    for codec in CODECS:
        topic = u.create_topic(srv, h.unique_name(f"cross-java-{codec}"), 3)
        batches.append((codec, topic, codec_records(topic, codec, base_ts)))
    sent = java().produce(srv, [r for _, _, records in batches for r in records])
    at = 0
    for codec, topic, records in batches:
        expected = []
        for rec, (partition, offset, ts) in zip(records, sent[at:at + len(records)]):
            assert ts == rec["timestamp"], (codec, rec, ts)
            if rec.get("partition") is not None:
                assert partition == rec["partition"], (codec, rec, partition)
            text = lambda b: None if b is None else b.decode()  # noqa: E731
            expected.append((partition, offset, text(rec["key"]), text(rec["value"]),
                             [(k, text(v)) for k, v in rec["headers"]], rec["timestamp"]))
        at += len(records)
        assert x.stored_codecs(srv, topic, [0, 1, 2]) == {x.CODEC_IDS[codec]}, f"Java did not write {codec}"
        got = [x.from_brook(m) for m in x.brook_consume_json(srv, topic, "-o", "beginning")]
        assert x.by_position(got) == x.by_position(expected), \
            f"{codec}: brook consume read\n{x.by_position(got)[:5]}...\nJava wrote\n{x.by_position(expected)[:5]}..."
        # Per partition in offset order as printed.
        for p in range(3):
            offsets = [r[1] for r in got if r[0] == p]
            assert offsets == sorted(offsets), (codec, p, offsets)
        kcat_seen = [x.from_kcat(m) for m in u.kcat_consume_json(srv, topic, "-o", "beginning")]
        assert x.by_position(kcat_seen) == x.by_position(expected), f"{codec}: kcat disagrees"


if __name__ == "__main__":
    x.cli_binary()
    x.demo_binary()
    h.require_program("kcat")
    h.require_modules("confluent_kafka")  # may re-run the script under the system python: before compiling
    try:
        java()  # skips (77) without Java, javac or Maven before a broker starts
        h.main(globals(), programs=("kcat",), modules=("confluent_kafka",))
    finally:
        if JAVA is not None:
            JAVA.close()
