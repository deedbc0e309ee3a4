"""What the cross-client tests (test_cross_client*.py) share: running the `brook` tool and `kafka-demo`,
reading `brook consume --json` and kcat -J output as comparable tuples, and Kafka's Java producer
(CrossClientProducer.java, compiled at test time against the kafka-clients jar that
tests/client/kafka/kafka_broker.py caches)."""

import json
import struct
import os
import shutil
import subprocess
import tempfile

import brook_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 60


def cli_binary():
    path = os.environ.get("BROOK_CLI")
    if not path or not os.access(path, os.X_OK):
        h.skip(f"BROOK_CLI ({path}) does not name the brook tool")
    return path


def demo_binary():
    path = os.environ.get("BROOK_DEMO")
    if not path or not os.access(path, os.X_OK):
        h.skip(f"BROOK_DEMO ({path}) does not name the kafka-demo program")
    return path


def brook(srv, *args, stdin=None, timeout=TIMEOUT):
    """Runs `brook -b <srv> args...`; returns the CompletedProcess (text)."""
    return subprocess.run([cli_binary(), "-b", srv.bootstrap, *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def ok(srv, *args, stdin=None):
    r = brook(srv, *args, stdin=stdin)
    assert r.returncode == 0, f"brook {' '.join(args)} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r.stdout


def fails(srv, code, *args, stdin=None, timeout=TIMEOUT):
    r = brook(srv, *args, stdin=stdin, timeout=timeout)
    assert r.returncode == code, \
        f"brook {' '.join(args)} exited {r.returncode}, not {code}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r.stderr


def brook_consume_json(srv, topic, *args):
    """`brook consume TOPIC --json -e args...` as a list of dicts, in printed order."""
    out = ok(srv, "consume", topic, "--json", "-e", *args)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def from_brook(m):
    """(partition, offset, key, value, headers, timestamp) of one `brook consume --json` record."""
    assert m["timestamp_type"] == "CreateTime", m
    return (m["partition"], m["offset"], m["key"], m["value"],
            [(x["key"], x["value"]) for x in m["headers"]], m["timestamp"])


def from_kcat(m):
    """The same tuple from one kcat -J record (headers come as a flat [k, v, k, v, ...] list)."""
    assert m["tstype"] == "create", m
    flat = m.get("headers") or []
    return (m["partition"], m["offset"], m["key"], m["payload"],
            [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)], m["ts"])


def by_position(records):
    return sorted(records, key=lambda r: (r[0], r[1]))


# ---- Kafka's Java producer ------------------------------------------------------------------------

class JavaProducer:
    """CrossClientProducer compiled once per test run into a temporary directory (removed by close())."""

    def __init__(self):
        java, javac = shutil.which("java"), shutil.which("javac")
        if not java:
            h.skip("Java is not installed (tools/dev.sh test installs openjdk-17-jdk-headless)")
        if not javac:
            h.skip("javac is not installed: the JDK (openjdk-17-jdk-headless, which tools/dev.sh test installs) "
                   "is needed to compile CrossClientProducer.java")
        if not shutil.which("mvn"):
            h.skip("Maven is not installed (tools/dev.sh test installs it); it fetches the kafka-clients jar")
        import sys
        sys.path.insert(0, os.path.join(HERE, "..", "kafka"))
        import kafka_broker
        self.lib = kafka_broker.server_jars()
        self.java = java
        self.classes = tempfile.mkdtemp(prefix="brook-cross-java-")
        r = subprocess.run([javac, "-nowarn", "-d", self.classes, "-cp", os.path.join(self.lib, "*"),
                            os.path.join(HERE, "CrossClientProducer.java")], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, f"javac failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"

    def produce(self, srv, records):
        """Produces `records`, dicts with codec, topic and optionally partition, timestamp, key, value (bytes or
        None) and headers ([(str, bytes or None)]), in one JVM; returns [(partition, offset, timestamp)]."""
        def hx(b):
            return "-" if b is None else b.hex()
        lines = []
        for r in records:
            headers = ",".join(f"{k.encode().hex()}:{hx(v)}" for k, v in r.get("headers", []))
            partition, ts = r.get("partition"), r.get("timestamp")
            lines.append("\t".join([r.get("codec", "none"), r["topic"], "-" if partition is None else str(partition),
                                    "-" if ts is None else str(ts), hx(r.get("key")), hx(r.get("value")), headers]))
        p = subprocess.run([self.java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
                            os.path.join(self.lib, "*") + os.pathsep + self.classes, "CrossClientProducer",
                            srv.bootstrap], input="\n".join(lines) + "\n", capture_output=True, text=True,
                           timeout=180)
        assert p.returncode == 0, f"the Java producer exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
        out = [tuple(int(x) for x in line.split("\t")) for line in p.stdout.splitlines() if line.strip()]
        assert len(out) == len(records), f"{len(out)} results for {len(records)} records:\n{p.stdout}\n{p.stderr}"
        return out

    def close(self):
        shutil.rmtree(self.classes, ignore_errors=True)


# ---- what the broker stores ----------------------------------------------------------------------

CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def stored_codecs(srv, topic, partitions):
    """The compression codec ids (a record batch's attributes & 7) of every batch stored in `partitions`
    of `topic`, read with a raw Fetch v4, so that a codec test knows the writer really used the codec."""
    import kafka_wire as w
    body = struct.pack(">iiiib", -1, 0, 1, 64 << 20, 0) + struct.pack(">i", 1) + w.string(topic)
    body += struct.pack(">i", len(partitions))
    for p in partitions:
        body += struct.pack(">iqi", p, 0, 32 << 20)
    s = w.connect(srv.port, 30)
    try:
        s.sendall(w.frame(w.header_v1(1, 4, 7) + body))
        r = w.Reader(w.read_response(s, 1 << 27))
    finally:
        s.close()
    assert r.int32() == 7
    r.int32()  # throttle time
    codecs = set()
    for _ in range(r.int32()):
        r.nullable_string()
        for _ in range(r.int32()):
            partition, error = r.int32(), r.int16()
            assert error == 0, f"Fetch {topic}-{partition}: error {error}"
            r.int64(), r.int64()  # high watermark, last stable offset
            aborted = r.int32()
            for _ in range(max(aborted, 0)):
                r.int64(), r.int64()
            size = r.int32()
            records = r.take(size) if size > 0 else b""
            at = 0
            while at + 61 <= len(records):  # a whole batch header
                length = struct.unpack_from(">i", records, at + 8)[0]
                if at + 12 + length > len(records):
                    break  # a partial batch at the end of the response
                assert records[at + 16] == 2, "magic 2 batches expected"
                codecs.add(struct.unpack_from(">h", records, at + 21)[0] & 7)
                at += 12 + length
    return codecs
