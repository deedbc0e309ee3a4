"""Brook's client tools next to kcat (librdkafka) on a brook-server:
- what `brook produce` and `kafka-demo` write, kcat reads identically (keys, values, headers, null keys and
  values, partitions, offsets, timestamps);
- what kcat writes with each codec, `brook consume` reads identically;
- `brook consume` options (-o beginning|end|N|-N|s@MS, -n, -p, -f tokens compared with kcat's -f, -g resuming
  from committed offsets) and `brook produce`/`brook consume` exit codes (1 for a missing topic, 2 for usage).
The Java client's side is in test_cross_client_java.py.

Needs $BROOK_SERVER, $BROOK_CLI, $BROOK_DEMO, kcat and confluent-kafka.
"""

import json
import subprocess
import time

import brook_harness as h
import cross_client_util as x
import produce_consume_util as u

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
TAB = "\t"


def kcat_read(srv, topic, *args):
    return [x.from_kcat(m) for m in u.kcat_consume_json(srv, topic, "-o", "beginning", *args)]


def brook_read(srv, topic, *args):
    return [x.from_brook(m) for m in x.brook_consume_json(srv, topic, "-o", "beginning", *args)]


# ---- 1. what Brook's tools write, kcat reads -------------------------------------------------------

def test_brook_produce_read_by_kcat(srv):
    topic = u.create_topic(srv, h.unique_name("cross-bp"), 3)
    lines = ["k1\tv1", "NULL\tnull key", "k3\tNULL", "no separator: the whole line is the value", "",
             "k5\t", "\tempty key", "k7\tvalue\twith a tab", "ключ\tзначение €"]
    expected_kv = [("k1", "v1"), (None, "null key"), ("k3", None), (None, "no separator: the whole line is the value"),
                   (None, ""), ("k5", ""), ("", "empty key"), ("k7", "value\twith a tab"), ("ключ", "значение €")]
    headers = [("a", "1"), ("eq", "x=y"), ("empty", ""), ("a", "again")]
    args = ["produce", topic, "-K", TAB, "--null", "NULL", "-p", "2"]
    for k, v in headers:
        args += ["-H", f"{k}={v}"]
    x.ok(srv, *args, stdin="".join(line + "\n" for line in lines))

    seen = kcat_read(srv, topic)
    assert [(p, o, k, v, hs) for p, o, k, v, hs, _ in seen] == \
        [(2, i, k, v, headers) for i, (k, v) in enumerate(expected_kv)], seen
    assert all(abs(ts - time.time() * 1000) < 120_000 for *_, ts in seen), seen
    # brook consume reads it the same, timestamps included.
    assert brook_read(srv, topic) == seen

    # Keyed lines without -p: the same key always on the same partition, kcat and brook agreeing.
    keyed = u.create_topic(srv, h.unique_name("cross-bp-keyed"), 5)
    keys = [f"user-{i % 13}" for i in range(60)]
    x.ok(srv, "produce", keyed, "-K", ":", "-z", "lz4", stdin="".join(f"{k}:{i}\n" for i, k in enumerate(keys)))
    seen = kcat_read(srv, keyed)
    assert sorted(int(v) for _, _, _, v, _, _ in seen) == list(range(60)), seen
    partition_of = {}
    for p, _, k, v, hs, _ in seen:
        assert k == keys[int(v)] and hs == [], (p, k, v, hs)
        assert partition_of.setdefault(k, p) == p, f"key {k} on partitions {partition_of[k]} and {p}"
    for p in range(5):  # per partition in the order sent
        values = [int(v) for q, _, _, v, _, _ in seen if q == p]
        assert values == sorted(values), (p, values)
    assert x.by_position(brook_read(srv, keyed)) == x.by_position(seen)


def test_brook_produce_acks_and_codecs_read_by_kcat(srv):
    for codec in CODECS:
        for acks in ("all", "1", "0"):
            topic = u.create_topic(srv, h.unique_name(f"cross-bp-{codec}-{acks}"), 1)
            values = [f"{codec}/{acks} record {i} " + "pad" * (i % 50) for i in range(100)]
            x.ok(srv, "produce", topic, "-z", codec, "--acks", acks, "-H", f"codec={codec}",
                 stdin="".join(v + "\n" for v in values))
            # acks=0: the tool may exit before the broker has appended the last batches.
            seen = h.wait_until(lambda: (lambda r: r if len(r) >= len(values) else None)(kcat_read(srv, topic)),
                                20, interval=0.1, what=f"{len(values)} records ({codec}, acks={acks})")
            assert [(o, k, v, hs) for _, o, k, v, hs, _ in seen] == \
                [(i, None, v, [("codec", codec)]) for i, v in enumerate(values)], (codec, acks, seen[:3])
            assert x.stored_codecs(srv, topic, [0]) == {x.CODEC_IDS[codec]}, (codec, acks)


def test_kafka_demo_read_by_kcat(srv):
    topic = u.create_topic(srv, h.unique_name("cross-demo"), 3)
    r = subprocess.run([x.demo_binary(), "-mode", "producer", "-topic", topic, "-brokers", srv.bootstrap],
                       capture_output=True, text=True, timeout=x.TIMEOUT)
    assert r.returncode == 0, (r.stdout, r.stderr)
    sent = []
    for line in r.stdout.splitlines()[1:]:
        fields = dict(f.split(": ", 1) for f in line[len("Message sent successfully! "):].split(", "))
        sent.append((int(fields["Partition"]), int(fields["Offset"]), fields["Key"]))
    values = ["Hello from Kafka Producer!", "This is message number 2", "Learning Kafka topics",
              "Another message for user-1", "Final test message"]
    expected = [(p, o, k, v, []) for (p, o, k), v in zip(sent, values)]
    seen = kcat_read(srv, topic)
    assert x.by_position([s[:5] for s in seen]) == x.by_position(expected), (seen, expected)
    assert x.by_position(brook_read(srv, topic)) == x.by_position(seen)
    # brook produce puts each key where kafka-demo did (one partitioner, the Java client's).
    other = u.create_topic(srv, h.unique_name("cross-demo-brook"), 3)
    x.ok(srv, "produce", other, "-K", "=", stdin="".join(f"{k}={v}\n" for (_, _, k), v in zip(sent, values)))
    assert {(p, k) for p, _, k, *_ in kcat_read(srv, other)} == {(p, k) for p, _, k in sent}


# ---- 2. what kcat writes, brook consume reads ------------------------------------------------------

def test_kcat_codecs_read_by_brook_consume(srv):
    for codec in CODECS:
        topic = u.create_topic(srv, h.unique_name(f"cross-kcat-{codec}"), 3)
        lines = [f"key-{i % 7}|{codec} value {i} ünï €" for i in range(50)]
        lines += ["nokey-line", "key-x|", "big|" + "0123456789abcdef" * 8192]
        # Keyed and partitioned by librdkafka; -Z: an empty value is sent as null.
        u.kcat(srv, "-P", "-t", topic, "-K", "|", "-Z", "-z", codec, "-H", "h1=one", "-H", "h2=", "-H", "h1=two",
               "-X", "linger.ms=20", stdin="".join(line + "\n" for line in lines).encode())
        # Explicit partitions, no headers.
        for p in range(3):
            u.kcat(srv, "-P", "-t", topic, "-p", str(p), "-z", codec,
                   stdin="".join(f"p{p}-{i}\n" for i in range(10)).encode())
        expected = kcat_read(srv, topic)
        assert len(expected) == len(lines) + 30, (codec, len(expected))
        # librdkafka sends a batch uncompressed when compressing does not make it smaller (small batches).
        stored = x.stored_codecs(srv, topic, [0, 1, 2])
        assert x.CODEC_IDS[codec] in stored and stored <= {0, x.CODEC_IDS[codec]}, f"kcat wrote {stored}, not {codec}"
        assert any(k is None for _, _, k, *_ in expected) and any(v is None for _, _, _, v, *_ in expected), \
            f"{codec}: null keys and values should be among the records"
        got = brook_read(srv, topic)
        assert x.by_position(got) == x.by_position(expected), \
            f"{codec}: brook consume read something else than kcat:\n{x.by_position(got)[:3]}\n{x.by_position(expected)[:3]}"
        for p in range(3):
            offsets = [o for q, o, *_ in got if q == p]
            assert offsets == list(range(len(offsets))), (codec, p, offsets)


# ---- 3. brook consume options ------------------------------------------------------------------------

def timestamped_topic(srv, name, per_partition=10, partitions=2):
    """A topic whose record i of partition p has value p{p}-{i} and timestamp BASE + i*1000 + p."""
    topic = u.create_topic(srv, h.unique_name(name), partitions)
    base = 1_600_000_000_000
    records = [{"partition": p, "key": f"k{i}", "value": f"p{p}-{i}", "timestamp": base + i * 1000 + p}
               for p in range(partitions) for i in range(per_partition)]
    u.assert_delivered(u.produce_all(u.producer(srv), topic, records))
    return topic, base


def values(srv, topic, *args):
    return x.ok(srv, "consume", topic, "-f", "%s\\n", *args).splitlines()


def test_consume_start_offsets(srv):
    topic, base = timestamped_topic(srv, "cross-offsets")
    everything = {f"p{p}-{i}" for p in range(2) for i in range(10)}
    assert set(values(srv, topic, "-o", "beginning", "-e")) == everything
    assert set(values(srv, topic, "--from-beginning", "-e")) == everything
    assert values(srv, topic, "-o", "end", "-e") == []
    assert set(values(srv, topic, "-o", "7", "-e")) == {f"p{p}-{i}" for p in range(2) for i in range(7, 10)}
    assert set(values(srv, topic, "-o", "-2", "-e")) == {"p0-8", "p0-9", "p1-8", "p1-9"}
    assert set(values(srv, topic, "-o", "-50", "-e")) == everything  # clamped at the log start
    assert set(values(srv, topic, "-o", f"s@{base + 4000}", "-e")) == \
        {f"p{p}-{i}" for p in range(2) for i in range(4, 10)}
    assert set(values(srv, topic, "-o", f"s@{base + 4001}", "-e")) == \
        {f"p0-{i}" for i in range(5, 10)} | {f"p1-{i}" for i in range(4, 10)}
    assert values(srv, topic, "-o", f"s@{base + 10**9}", "-e") == []
    # -p: only the named partitions; -n: that many records, then exit (without -e).
    assert values(srv, topic, "-o", "beginning", "-p", "1", "-e") == [f"p1-{i}" for i in range(10)]
    assert set(values(srv, topic, "-o", "beginning", "-p", "0", "-p", "1", "-e")) == everything
    assert values(srv, topic, "-o", "3", "-p", "0", "-n", "4") == ["p0-3", "p0-4", "p0-5", "p0-6"]
    assert values(srv, topic, "-o", "-3", "-p", "1", "-n", "2") == ["p1-7", "p1-8"]
    assert len(values(srv, topic, "-o", "beginning", "-n", "5")) == 5
    # Timestamps as set by the producer (s@ relies on them).
    stamps = {m["value"]: m["timestamp"] for m in x.brook_consume_json(srv, topic, "-o", "beginning")}
    assert stamps == {f"p{p}-{i}": base + i * 1000 + p for p in range(2) for i in range(10)}


def test_consume_from_end_sees_only_new_records(srv):
    topic = u.create_topic(srv, h.unique_name("cross-end"), 2)
    x.ok(srv, "produce", topic, stdin="old-1\nold-2\nold-3\n")
    proc = subprocess.Popen([x.cli_binary(), "-b", srv.bootstrap, "consume", topic, "-o", "end", "-n", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # New records until the consumer has printed two (it may not be positioned when the first arrive).
        deadline = time.monotonic() + x.TIMEOUT
        i = 0
        while proc.poll() is None:
            assert time.monotonic() < deadline, "brook consume -o end -n 2 did not exit"
            x.ok(srv, "produce", topic, stdin=f"new-{i}\n")
            i += 1
            time.sleep(0.3)
        out, err = proc.communicate(timeout=x.TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (out, err)
    printed = out.splitlines()
    assert len(printed) == 2 and all(v.startswith("new-") for v in printed), printed


def test_format_tokens_like_kcat(srv):
    topic = u.create_topic(srv, h.unique_name("cross-format"), 2)
    u.kcat(srv, "-P", "-t", topic, "-p", "0", "-K", "|", "-Z", "-H", "a=1", "-H", "b=x=y",
           stdin=b"k1|v1\n|null key\nk3|\nk4|a longer value \xc3\xa9\n")
    u.kcat(srv, "-P", "-t", topic, "-p", "1", stdin=b"no key, no headers\n")
    fmt = "%t|%p|%o|%k|%s|%K|%S|%h|%T\\n"
    theirs = u.kcat(srv, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt).stdout.decode()
    ours = x.ok(srv, "consume", topic, "-o", "beginning", "-e", "-f", fmt)
    assert sorted(ours.splitlines()) == sorted(theirs.splitlines()), f"brook:\n{ours}\nkcat:\n{theirs}"
    assert len(ours.splitlines()) == 5, ours
    # Escapes and a literal percent sign; no newline unless asked for.
    out = x.ok(srv, "consume", topic, "-p", "1", "-o", "beginning", "-e", "-f", "[%p:%o]\\t100%% %s;")
    assert out == "[1:0]\t100% no key, no headers;", repr(out)
    # The default format is the value and a newline.
    assert x.ok(srv, "consume", topic, "-p", "1", "-o", "beginning", "-e") == "no key, no headers\n"


def test_binary_keys_and_values_as_kcat_shows_them(srv):
    topic = u.create_topic(srv, h.unique_name("cross-binary"), 1)
    records = [{"key": b"\xff\xfe\x00", "value": b"a\x00b\xc3\x28\x01\n\"\\"}, {"key": b"", "value": bytes(range(256))},
               {"key": "ключ".encode(), "value": "😀 €".encode(), "headers": [("h", b"\x80\xff")]}]  # no NUL: kcat's %h stops at one
    u.assert_delivered(u.produce_all(u.producer(srv), topic, records))

    def lines(out):
        return [json.loads(line.decode("utf-8", "surrogateescape")) for line in out.splitlines() if line.strip()]
    ours = lines(subprocess.run([x.cli_binary(), "-b", srv.bootstrap, "consume", topic, "--json", "-e", "-o",
                                 "beginning"], capture_output=True, timeout=x.TIMEOUT, check=True).stdout)
    theirs = lines(u.kcat(srv, "-C", "-t", topic, "-J", "-e", "-q", "-o", "beginning").stdout)
    assert [x.from_brook(m) for m in ours] == [x.from_kcat(m) for m in theirs], (ours, theirs)
    fmt = "%k|%s|%K|%S|%h\\n"
    ours = subprocess.run([x.cli_binary(), "-b", srv.bootstrap, "consume", topic, "-e", "-o", "beginning", "-f", fmt],
                          capture_output=True, timeout=x.TIMEOUT, check=True).stdout
    theirs = u.kcat(srv, "-C", "-t", topic, "-e", "-q", "-o", "beginning", "-f", fmt).stdout
    assert ours == theirs, f"brook:\n{ours!r}\nkcat:\n{theirs!r}"


def test_group_resumes_from_committed_offsets(srv):
    topic = u.create_topic(srv, h.unique_name("cross-group"), 3)
    group = h.unique_name("cross-group")
    x.ok(srv, "produce", topic, "-K", ":", stdin="".join(f"k{i}:first-{i}\n" for i in range(12)))
    first = values(srv, topic, "-g", group, "-o", "beginning", "-e")
    assert sorted(first) == sorted(f"first-{i}" for i in range(12)), first
    # Nothing new: the second run prints nothing.
    assert values(srv, topic, "-g", group, "-o", "beginning", "-e") == []
    x.ok(srv, "produce", topic, "-K", ":", stdin="".join(f"k{i}:second-{i}\n" for i in range(7)))
    second = values(srv, topic, "-g", group, "-o", "beginning", "-e")
    assert sorted(second) == sorted(f"second-{i}" for i in range(7)), second
    # -n stops in the middle: exactly what was printed counts as consumed.
    x.ok(srv, "produce", topic, "-p", "0", stdin="".join(f"third-{i}\n" for i in range(6)))
    part = values(srv, topic, "-g", group, "-n", "2")
    rest = values(srv, topic, "-g", group, "-e")
    assert part + rest == [f"third-{i}" for i in range(6)], (part, rest)
    # The group's committed offsets are at the log ends; a new group starting at the end prints nothing.
    described = x.ok(srv, "group", "describe", group)
    lags = [line.split()[5] for line in described.splitlines() if line.startswith(group)]
    assert lags == ["0", "0", "0"], described
    assert values(srv, topic, "-g", h.unique_name("cross-group-new"), "-o", "end", "-e") == []
    # -o stored: the committed offsets, explicitly.
    x.ok(srv, "produce", topic, "-p", "2", stdin="fourth-0\nfourth-1\n")
    assert values(srv, topic, "-g", group, "-o", "stored", "-e") == ["fourth-0", "fourth-1"]


def test_missing_topic_exits_1(srv):
    # This broker auto-creates topics: producing to a new one works (kcat reads it back).
    created = h.unique_name("cross-autocreated")
    x.ok(srv, "produce", created, stdin="hello\n")
    assert [v for _, _, _, v, _, _ in kcat_read(srv, created)] == ["hello"]
    with h.brook_server(extra_overrides={"auto.create.topics.enable": "false"}) as strict:
        missing = h.unique_name("cross-missing")
        started = time.monotonic()
        err = x.fails(strict, 1, "produce", missing, stdin="a\nb\n")
        assert f"topic '{missing}' does not exist" in err and "UNKNOWN_TOPIC_OR_PARTITION" in err, err
        err = x.fails(strict, 1, "consume", missing, "-e")
        assert f"topic '{missing}' does not exist" in err and "UNKNOWN_TOPIC_OR_PARTITION" in err, err
        assert time.monotonic() - started < 20, "a missing topic should be reported at once"
        assert missing not in x.ok(strict, "topic", "list").split()


def test_client_properties_reach_producer_and_consumer(srv):
    # -X takes the producer's keys for produce and the consumer's for consume (as kcat's -X does).
    topic = u.create_topic(srv, h.unique_name("cross-props"), 2)
    x.ok(srv, "-X", "linger.ms=5", "-X", "batch.size=1024", "-X", "request.timeout.ms=20000", "produce", topic,
         "-K", ":", stdin="".join(f"k{i}:v{i}\n" for i in range(20)))
    out = values(srv, topic, "-X", "fetch.max.wait.ms=50", "-X", "max.poll.records=3", "-o", "beginning", "-e")
    assert sorted(out) == sorted(f"v{i}" for i in range(20)), out
    group = h.unique_name("cross-props-group")
    out = values(srv, topic, "-X", "heartbeat.interval.ms=500", "-X", "session.timeout.ms=10000", "-g", group,
                 "-o", "beginning", "-e")
    assert sorted(out) == sorted(f"v{i}" for i in range(20)), out
    # Keys the command's client does not know are usage errors naming the key; nothing is produced.
    assert "linger.ms" in x.fails(srv, 2, "-X", "linger.ms=5", "consume", topic, "-e")
    assert "fetch.max.wait.ms" in x.fails(srv, 2, "-X", "fetch.max.wait.ms=5", "produce", topic, stdin="x\n")
    assert "no.such.key" in x.fails(srv, 2, "-X", "no.such.key=1", "produce", topic, stdin="x\n")
    assert len(kcat_read(srv, topic)) == 20


def test_unreachable_broker_exits_1(srv):
    # A closed port: produce gives up after max.block.ms, consume after default.api.timeout.ms (which, as
    # in Java's admin client, is at least request.timeout.ms for the admin that looks the topic up).
    for args, stdin in ((["-X", "max.block.ms=1500", "produce", "t"], "x\n"),
                        (["-X", "default.api.timeout.ms=1500", "-X", "request.timeout.ms=1000", "consume", "t", "-e"],
                         None)):
        started = time.monotonic()
        r = subprocess.run([x.cli_binary(), "-b", "127.0.0.1:1", *args], input=stdin, capture_output=True, text=True,
                           timeout=x.TIMEOUT)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "127.0.0.1:1" in r.stderr and "NETWORK_EXCEPTION" in r.stderr, (args, r.stderr)
        assert time.monotonic() - started < 15, f"{args}: the timeout was not kept"


def test_usage_errors_exit_2(srv):
    topic = u.create_topic(srv, h.unique_name("cross-usage"), 2)
    for args, stdin in ((["produce"], ""), (["produce", topic, "-z", "brotli"], "x\n"),
                        (["produce", topic, "--acks", "2"], "x\n"), (["produce", topic, "-p", "-1"], "x\n"),
                        (["produce", topic, "-p", "2"], "x\n"), (["produce", topic, "-H", "novalue"], "x\n"),
                        (["produce", topic, "--no-such-flag"], "x\n"),
                        (["-X", "no.such.property=1", "produce", topic], "x\n"),
                        (["consume"], None), (["consume", topic, "-o", "sideways"], None),
                        (["consume", topic, "-o", "s@soon"], None), (["consume", topic, "-o", "stored"], None),
                        (["consume", topic, "-n", "0"], None), (["consume", topic, "-f", "%x"], None),
                        (["consume", topic, "--json", "-f", "%s"], None),
                        (["consume", topic, "-g", "g", "-p", "0"], None), (["consume", topic, "-g", "g", "-o", "5"], None),
                        (["consume", topic, "-p", "9", "-e"], None)):
        err = x.fails(srv, 2, *args, stdin=stdin, timeout=30)
        assert err.strip(), f"{args}: no message"
    assert "brotli" in x.fails(srv, 2, "produce", topic, "-z", "brotli", stdin="x\n")
    assert "%x" in x.fails(srv, 2, "consume", topic, "-f", "%x")
    assert f"topic '{topic}' has no partition 9" in x.fails(srv, 2, "consume", topic, "-p", "9", "-e")
    assert f"topic '{topic}' has no partition 2" in x.fails(srv, 2, "produce", topic, "-p", "2", stdin="x\n")
    # Nothing was produced by the refused commands.
    assert kcat_read(srv, topic) == []


if __name__ == "__main__":
    x.cli_binary()
    x.demo_binary()
    h.main(globals(), overrides={"group.initial.rebalance.delay.ms": "0"}, programs=("kcat",),
           modules=("confluent_kafka",))
