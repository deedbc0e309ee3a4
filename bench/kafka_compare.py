#!/usr/bin/env python3
"""kafka_compare.py: Brook against Apache Kafka 4.4 on this machine, same loads, same clients.

What it measures. Each run starts four broker sessions one after the other, each with a fresh data
directory under --dir, and drives each with the same loads and clients:

  brook-default   brook-server conf/server.properties (fsync before acknowledging acks=all)
  brook-nofsync   the same with --override brook.log.fsync=false (no fsync at all)
  kafka-default   Kafka 4.4, one KRaft node, the settings of tests/client/kafka/kafka_broker.py (Kafka's
                  defaults: no fsync of its own, the page cache and replication are its durability)
  kafka-flush1    the same with log.flush.interval.messages=1 (fsync after every append)

and compares them in three pairings, Brook / Kafka, within each run:
  defaults        brook-default / kafka-default
  both fsync      brook-default / kafka-flush1   (same durability policy, fsync before the acknowledgement)
  no fsync        brook-nofsync / kafka-default  (same durability policy, page cache only)

Loads (one function each, below):
  produce    100 B, 1 KiB, 16 KiB records; acks=1 and acks=all; 1 and 16 partitions (librdkafka in every
             session; the Java producer and `brook perf produce` in the default sessions, 100 B and 1 KiB);
             in the default sessions also 1 KiB at 1,000 partitions and 1 KiB from 4 producers over 16.
  consume    from the log start: 100 B and 1 KiB from one partition, one consumer (librdkafka, Java,
             `brook perf consume`), and 1 KiB over 16 partitions by 4 librdkafka consumers; loopback TCP
             bandwidth as the yardstick.
  latency    end to end, produce (acks=all) -> consume, librdkafka, at 1,000, 10,000 and 100,000 msgs/s:
             p50, p99, p99.9, max, in every session; and in the default sessions the producer's
             send-to-acknowledgement latency of the Java producer and `brook perf produce` at 1,000 and
             10,000 msgs/s.
  resources  start to ready (spawn until it answers Metadata), idle RSS and descriptors, RSS and
             descriptors with a topic of 1,000 partitions; broker CPU (utime+stime of /proc/PID/stat, all
             threads) and client CPU (the client process's rusage) per million messages of every load.

The librdkafka client is build-bench/bin/brook_produce_consume_bench --targets external, Java's is
org.apache.kafka.tools.ProducerPerformance / ConsumerPerformance from the jars kafka_broker.py fetches, Brook's
is `brook perf`. Figures of every run, the ratios of every run and the medians over runs are printed;
all of them go to --json (default bench/kafka_compare.json) and a plot of the main figures to --png
(default bench/kafka_compare.png; matplotlib 3.9.2 in a venv under ~/.cache/brook, made on first use).

Run from the repository root after building the targets (see bench/README.md):

    python3 bench/kafka_compare.py              # 3 runs, about 30 minutes on 2 busy cores
    python3 bench/kafka_compare.py --quick      # 1 run, small counts, about 8 minutes
    python3 bench/kafka_compare.py --runs 5 --dir /var/tmp

The brokers it starts are stopped and their directories removed on exit, on an error and on Ctrl+C.
"""

import argparse
import atexit
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "client", "kafka"))
import kafka_broker  # noqa: E402  (Kafka's jars, server.properties template, Metadata probe)

PLOT_VENV = os.path.join(kafka_broker.cache_root(), "bench-plot-venv")
MATPLOTLIB = "matplotlib==3.9.2"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# Seconds for one Java or `brook perf` load (a librdkafka load fails on its own); each takes a few seconds.
CLIENT_TIMEOUT = 90
BROOK_PERF_TIMEOUT = 30

# ---------------------------------------------------------------------------------------------------------
# Clean-up: every process and directory this script makes is registered here and removed at exit.

_processes = []  # Popen objects of brokers
_directories = []


def _cleanup():
    for p in _processes:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
    _processes.clear()
    for d in _directories:
        shutil.rmtree(d, ignore_errors=True)
    _directories.clear()


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGINT, _on_signal)
signal.signal(signal.SIGTERM, _on_signal)


def log(text):
    print(text, flush=True)


def load_average():
    return os.getloadavg()[0]


# ---------------------------------------------------------------------------------------------------------
# /proc readings


def cpu_seconds(pid):
    """utime + stime of a process, all its threads included (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


# ---------------------------------------------------------------------------------------------------------
# Brokers


class Broker:
    """One broker process with its own directory; `start` returns once it answers Metadata."""

    def __init__(self, name, kind, scratch):
        self.name, self.kind, self.scratch = name, kind, scratch
        self.process = None
        self.port = None
        self.ready_s = None
        self.work = None

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.process.pid

    def _wait_ready(self, spawned, timeout):
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode} at start; see {self.work}")
            try:
                if kafka_broker.metadata_brokers(self.port) >= 1:
                    self.ready_s = time.monotonic() - spawned
                    return
            except (OSError, ConnectionError, kafka_broker.struct.error, KeyError):
                pass
            if time.monotonic() - spawned > timeout:
                raise SystemExit(f"{self.name} did not answer Metadata within {timeout}s")
            time.sleep(0.005)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process in _processes:
            _processes.remove(self.process)
        if self.work:
            shutil.rmtree(self.work, ignore_errors=True)
            if self.work in _directories:
                _directories.remove(self.work)


class BrookBroker(Broker):
    def __init__(self, name, scratch, server, fsync):
        super().__init__(name, "brook", scratch)
        self.server, self.fsync = server, fsync

    def start(self):
        self.work = tempfile.mkdtemp(prefix="brook-", dir=self.scratch)
        _directories.append(self.work)
        self.port = kafka_broker.free_port()
        args = [self.server, os.path.join(ROOT, "conf", "server.properties"),
                "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "--override", f"log.dirs={os.path.join(self.work, 'data')}"]
        if not self.fsync:
            args += ["--override", "brook.log.fsync=false"]
        out = open(os.path.join(self.work, "server.log"), "wb")
        spawned = time.monotonic()
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=self.work)
        _processes.append(self.process)
        out.close()
        self._wait_ready(spawned, 60)


class KafkaBroker(Broker):
    def __init__(self, name, scratch, extra_properties):
        super().__init__(name, "kafka", scratch)
        self.extra = extra_properties

    def start(self):
        java = shutil.which("java")
        if not java or kafka_broker.java_major(java) < 17:
            raise SystemExit("Kafka needs Java 17 or newer on PATH")
        lib = kafka_broker.server_jars()
        self.work = tempfile.mkdtemp(prefix="kafka-", dir=self.scratch)
        _directories.append(self.work)
        data, logs = os.path.join(self.work, "data"), os.path.join(self.work, "logs")
        os.makedirs(logs)
        self.port = kafka_broker.free_port()
        controller = kafka_broker.free_port()
        while controller == self.port:
            controller = kafka_broker.free_port()
        config = os.path.join(self.work, "server.properties")
        with open(config, "w") as f:
            f.write(kafka_broker.SERVER_PROPERTIES.format(port=self.port, controller_port=controller, data=data,
                                                          security_listeners="", security_protocols=""))
            for key, value in self.extra.items():
                f.write(f"{key}={value}\n")
        log4j = os.path.join(self.work, "log4j2.properties")
        with open(log4j, "w") as f:
            f.write(kafka_broker.LOG4J2_PROPERTIES.format(logs=logs))
        # kafka_broker.py's JVM settings.
        jvm = [java, "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
               f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={logs}", "-cp", os.path.join(lib, "*")]
        formatted = subprocess.run(jvm + ["kafka.tools.StorageTool", "format", "--config", config, "--cluster-id",
                                          kafka_broker.random_cluster_id(), "--standalone"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if formatted.returncode != 0:
            raise SystemExit(f"formatting Kafka's storage failed:\n{formatted.stdout[-3000:]}")
        out = open(os.path.join(logs, "stdout.log"), "wb")
        spawned = time.monotonic()
        self.process = subprocess.Popen(jvm + ["kafka.Kafka", config], stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True, cwd=self.work)
        _processes.append(self.process)
        out.close()
        self._wait_ready(spawned, 180)


# ---------------------------------------------------------------------------------------------------------
# Clients. Each returns a dict of figures; broker and client CPU are measured around every call.


class ClientFailed(Exception):
    """A Java or `brook perf` client failed or timed out: the load's figure is left out, the run goes on."""


class Clients:
    def __init__(self, args):
        self.rdkafka_bin = os.path.join(args.bin, "brook_produce_consume_bench")
        self.brook_bin = os.path.join(args.bin, "brook")
        self.java = shutil.which("java")
        self.lib = kafka_broker.server_jars()

    def _run(self, broker, cmd, timeout=900):
        broker_cpu = cpu_seconds(broker.pid) if broker else 0.0
        client_cpu = children_cpu()
        try:
            result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise ClientFailed(f"{' '.join(cmd[:8])}... did not finish within {timeout}s") from e
        used_client = children_cpu() - client_cpu
        used_broker = (cpu_seconds(broker.pid) - broker_cpu) if broker else 0.0
        if result.returncode != 0:
            raise ClientFailed(f"{' '.join(cmd[:8])}... exited {result.returncode}: {result.stdout[-600:]}")
        return result.stdout, used_broker, used_client

    def rdkafka(self, broker, test, **kw):
        cmd = [self.rdkafka_bin, "--targets", "external", "--test", test]
        if broker:
            cmd += ["--bootstrap", broker.bootstrap]
        for key, value in kw.items():
            cmd += ["--" + key.replace("_", "-"), str(value)]
        out, bcpu, ccpu = self._run(broker, cmd)
        m = re.search(r"^RESULT (\{.*\})$", out, re.M)
        if not m:
            raise RuntimeError(f"no RESULT line from {' '.join(cmd)}:\n{out[-2000:]}")
        r = json.loads(m.group(1))
        r["broker_cpu_s"], r["client_process_cpu_s"] = bcpu, ccpu
        return r

    def java_produce(self, broker, topic, size, count, acks, rate=-1):
        cmd = [self.java, "-Xmx512m", "-cp", os.path.join(self.lib, "*"), "org.apache.kafka.tools.ProducerPerformance",
               "--bootstrap-server", broker.bootstrap, "--topic", topic, "--num-records", str(count),
               "--record-size", str(size), "--throughput", str(rate),
               "--command-property", f"acks={acks}", "compression.type=none"]
        out, bcpu, ccpu = self._run(broker, cmd, CLIENT_TIMEOUT)
        m = re.findall(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
                       r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th", out)
        if not m:
            raise RuntimeError(f"no summary from ProducerPerformance:\n{out[-2000:]}")
        n, rps, mbps, _avg, mx, p50, _p95, p99, p999 = m[-1]
        return {"messages": int(n), "msgs_per_s": float(rps), "mb_per_s": float(rps) * size / 1e6,
                "p50_ms": float(p50), "p99_ms": float(p99), "p999_ms": float(p999), "max_ms": float(mx),
                "broker_cpu_s": bcpu, "client_process_cpu_s": ccpu}

    def java_consume(self, broker, topic, count):
        cmd = [self.java, "-Xmx512m", "-cp", os.path.join(self.lib, "*"), "org.apache.kafka.tools.ConsumerPerformance",
               "--bootstrap-server", broker.bootstrap, "--topic", topic, "--num-records", str(count),
               "--timeout", "60000"]
        out, bcpu, ccpu = self._run(broker, cmd, CLIENT_TIMEOUT)
        lines = [ln for ln in out.splitlines() if ln.count(",") >= 9 and not ln.startswith("start.time")]
        if not lines:
            raise RuntimeError(f"no summary from ConsumerPerformance:\n{out[-2000:]}")
        f = [x.strip() for x in lines[-1].split(",")]
        # start, end, MB, MB/s, nMsg, nMsg/s, rebalance ms, fetch ms, fetch MB/s, fetch nMsg/s
        return {"messages": int(float(f[4])), "msgs_per_s": float(f[9]), "mb_per_s": float(f[8]) * 1.048576,
                "broker_cpu_s": bcpu, "client_process_cpu_s": ccpu}

    def brook_perf(self, broker, mode, topic, size, count=None, acks=None, rate=None):
        cmd = [self.brook_bin, "-b", broker.bootstrap, "perf", mode, "-t", topic, "-s", str(size), "--json"]
        if count:
            cmd += ["-n", str(count)]
        if acks:
            cmd += ["--acks", acks]
        if rate:
            cmd += ["-r", str(rate)]
        out, bcpu, ccpu = self._run(broker, cmd, BROOK_PERF_TIMEOUT)
        j = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
        r = {"messages": j["records"], "msgs_per_s": j["msgs_per_sec"], "mb_per_s": j["mb_per_sec"],
             "broker_cpu_s": bcpu, "client_process_cpu_s": ccpu}
        if "latency_ms" in j:
            r.update({f"{k}_ms": v for k, v in j["latency_ms"].items()})
        return r


# ---------------------------------------------------------------------------------------------------------
# Loads. Each adds figures to `fig` (a dict name -> value) for one broker session.

SIZES = {"100B": 100, "1KiB": 1024, "16KiB": 16384}


def record(fig, name, value, unit=""):
    fig[name] = value
    log(f"    {name:<58} {value:>14.3f} {unit:<8} (load {load_average():.2f})")


def attempt(fig, name, call):
    """Runs one Java or `brook perf` load; a failure is logged and counted, its figures left out."""
    try:
        return call()
    except ClientFailed as e:
        log(f"    {name}: FAILED: {e}")
        fig["failed loads"] = fig.get("failed loads", 0) + 1
        fig.setdefault("failures", []).append(f"{name}: {str(e)[:300]}")
        return None


def record_throughput(fig, name, r):
    if r is None:
        return
    record(fig, name + " msgs/s", r["msgs_per_s"], "msgs/s")
    record(fig, name + " MB/s", r["mb_per_s"], "MB/s")
    per_m = 1e6 / max(r["messages"], 1)
    record(fig, name + " broker CPU s/M", r["broker_cpu_s"] * per_m, "s")
    record(fig, name + " client CPU s/M", r["client_process_cpu_s"] * per_m, "s")


def create_topic(ctx, broker, topic, partitions):
    ctx.clients.rdkafka(broker, "create", topic=topic, partitions=partitions)


def warm_up(ctx, broker):
    """Not measured: lets Kafka's JIT compile the hot paths (and warms Brook's page cache the same way)."""
    create_topic(ctx, broker, "warm-up", 1)
    ctx.clients.rdkafka(broker, "produce", topic="warm-up", size=1024, count=ctx.counts["warm"], acks="1")


def load_produce(ctx, broker, fig, full_matrix_clients):
    """Produce throughput: every record size x acks x 1 and 16 partitions; more clients and partitions
    in the default sessions (full_matrix_clients)."""
    c = ctx.clients
    for label, size in SIZES.items():
        count = ctx.counts["produce " + label]
        for acks in ("1", "all"):
            for parts in (1, 16):
                topic = f"p-{label}-{acks}-{parts}"
                create_topic(ctx, broker, topic, parts)
                r = c.rdkafka(broker, "produce", topic=topic, size=size, count=count, acks=acks, partitions=parts)
                record_throughput(fig, f"produce rdkafka {label} acks={acks} p={parts}", r)
                if full_matrix_clients and label != "16KiB":
                    topic_j = topic + "-java"
                    create_topic(ctx, broker, topic_j, parts)
                    name = f"produce java {label} acks={acks} p={parts}"
                    record_throughput(fig, name, attempt(fig, name, lambda: c.java_produce(
                        broker, topic_j, size, count, acks)))
                    topic_b = topic + "-brook"
                    create_topic(ctx, broker, topic_b, parts)
                    name = f"produce brook-perf {label} acks={acks} p={parts}"
                    record_throughput(fig, name, attempt(fig, name, lambda: c.brook_perf(
                        broker, "produce", topic_b, size, count=count, acks=acks)))
    if full_matrix_clients:
        count = ctx.counts["produce 1KiB"]
        # 1,000 partitions: the topic load_resources made (still empty).
        r = c.rdkafka(broker, "produce", topic="idle-1000", size=1024, count=count, acks="1", partitions=1000)
        record_throughput(fig, "produce rdkafka 1KiB acks=1 p=1000", r)
        topic = "p-1KiB-1-16-x4"
        create_topic(ctx, broker, topic, 16)
        r = c.rdkafka(broker, "produce", topic=topic, size=1024, count=count, acks="1", partitions=16, producers=4)
        record_throughput(fig, "produce rdkafka 1KiB acks=1 p=16 producers=4", r)


def load_consume(ctx, broker, fig):
    """Consume from the log start, topics filled by librdkafka (acks=1) just before."""
    c = ctx.clients
    for label in ("100B", "1KiB"):
        size, count = SIZES[label], ctx.counts["consume " + label]
        topic = f"c-{label}"
        create_topic(ctx, broker, topic, 1)
        c.rdkafka(broker, "produce", topic=topic, size=size, count=count, acks="1")
        r = c.rdkafka(broker, "consume", topic=topic)
        record_throughput(fig, f"consume rdkafka {label} p=1", r)
        record(fig, f"consume rdkafka {label} p=1 first record", r["first_record_ms"], "ms")
        name = f"consume java {label} p=1"
        record_throughput(fig, name, attempt(fig, name, lambda: c.java_consume(broker, topic, count)))
        name = f"consume brook-perf {label} p=1"
        record_throughput(fig, name, attempt(fig, name, lambda: c.brook_perf(broker, "consume", topic, size)))
    count = ctx.counts["consume 1KiB"]
    topic = "c-1KiB-16"
    create_topic(ctx, broker, topic, 16)
    c.rdkafka(broker, "produce", topic=topic, size=1024, count=count, acks="1", partitions=16)
    record_throughput(fig, "consume rdkafka 1KiB p=16 consumers=4",
                      c.rdkafka(broker, "consume", topic=topic, consumers=4))


def load_latency(ctx, broker, fig, ack_latency):
    """End-to-end latency at fixed rates (librdkafka), and (ack_latency) the Java and `brook perf`
    producers' acknowledgement latency."""
    c = ctx.clients
    for rate in ctx.rates:
        topic = f"e2e-{rate}"
        create_topic(ctx, broker, topic, 1)
        r = c.rdkafka(broker, "e2e", topic=topic, rate=rate, latency_seconds=ctx.latency_seconds, size=100)
        for q in ("p50", "p99", "p999", "max"):
            record(fig, f"e2e rdkafka @{rate}/s {q}", r[q + "_ms"], "ms")
        record(fig, f"e2e rdkafka @{rate}/s broker CPU s/M", r["broker_cpu_s"] * 1e6 / r["messages"], "s")
    for rate in ctx.ack_rates if ack_latency else []:
        count = rate * ctx.latency_seconds
        topic = f"ack-java-{rate}"
        create_topic(ctx, broker, topic, 1)
        name = f"ack java @{rate}/s"
        r = attempt(fig, name, lambda: c.java_produce(broker, topic, 100, count, "all", rate=rate))
        for q in ("p50", "p99", "p999", "max"):
            if r:
                record(fig, f"{name} {q}", r[q + "_ms"], "ms")
        topic = f"ack-brook-{rate}"
        create_topic(ctx, broker, topic, 1)
        name = f"ack brook-perf @{rate}/s"
        r = attempt(fig, name, lambda: c.brook_perf(broker, "produce", topic, 100, count=count, acks="all", rate=rate))
        for q in ("p50", "p99", "p999", "max"):
            if r:
                record(fig, f"{name} {q}", r[q + "_ms"], "ms")


def settled(pid, timeout=60):
    """RSS and descriptors once a broker has finished making new partitions (Kafka makes their logs after
    the controller has answered): the descriptor count unchanged over 2 s."""
    deadline = time.monotonic() + timeout
    last = descriptors(pid)
    while time.monotonic() < deadline:
        time.sleep(2.0)
        now = descriptors(pid)
        if now == last:
            break
        last = now
    return rss_bytes(pid), descriptors(pid)


def load_resources(ctx, broker, fig):
    """Start to ready (measured by start()), idle RSS and descriptors, then with 1,000 partitions."""
    record(fig, "start to ready", broker.ready_s * 1e3, "ms")
    time.sleep(1.0)
    rss0, fd0 = rss_bytes(broker.pid), descriptors(broker.pid)
    record(fig, "idle RSS", rss0 / 2**20, "MiB")
    record(fig, "idle descriptors", fd0, "")
    create_topic(ctx, broker, "idle-1000", 1000)
    rss1, fd1 = settled(broker.pid)
    record(fig, "RSS with 1000 idle partitions", rss1 / 2**20, "MiB")
    record(fig, "RSS per idle partition", (rss1 - rss0) / 1000 / 1024, "KiB")
    record(fig, "descriptors per idle partition", (fd1 - fd0) / 1000, "")


# ---------------------------------------------------------------------------------------------------------
# Sessions, runs, ratios


class Context:
    def __init__(self, args):
        self.args = args
        self.clients = Clients(args)
        q = args.quick
        self.counts = {
            "warm": 20000 if q else 100000,
            "produce 100B": 50000 if q else 200000,
            "produce 1KiB": 20000 if q else 100000,
            "produce 16KiB": 2000 if q else 8000,
            "consume 100B": 200000 if q else 1000000,
            "consume 1KiB": 50000 if q else 200000,
        }
        self.rates = [1000, 10000] if q else [1000, 10000, 100000]
        self.ack_rates = [1000] if q else [1000, 10000]
        self.latency_seconds = 2 if q else 5


SESSIONS = ["brook-default", "brook-nofsync", "kafka-default", "kafka-flush1"]
PAIRINGS = {"defaults": ("brook-default", "kafka-default"),
            "both fsync": ("brook-default", "kafka-flush1"),
            "no fsync": ("brook-nofsync", "kafka-default")}


def make_broker(ctx, session):
    scratch = ctx.scratch
    if session == "brook-default":
        return BrookBroker(session, scratch, os.path.join(ctx.args.bin, "brook-server"), fsync=True)
    if session == "brook-nofsync":
        return BrookBroker(session, scratch, os.path.join(ctx.args.bin, "brook-server"), fsync=False)
    if session == "kafka-default":
        return KafkaBroker(session, scratch, {})
    return KafkaBroker(session, scratch, {"log.flush.interval.messages": "1"})


def run_session(ctx, session):
    broker = make_broker(ctx, session)
    log(f"  {session}: starting (load {load_average():.2f})")
    broker.start()
    log(f"  {session}: pid {broker.pid} at {broker.bootstrap}, ready after {broker.ready_s * 1e3:.1f} ms")
    fig = {"load average at start": load_average()}
    try:
        default = session.endswith("default")
        if default:
            load_resources(ctx, broker, fig)
        warm_up(ctx, broker)
        load_produce(ctx, broker, fig, full_matrix_clients=default)
        if default:
            load_consume(ctx, broker, fig)
        load_latency(ctx, broker, fig, ack_latency=default)
        fig["load average at end"] = load_average()
    finally:
        broker.stop()
    return fig


LOWER_IS_BETTER = ("CPU", "ms", " p50", " p99", " p999", " max", "RSS", "descriptors", "start to ready")


def ratios_of(run):
    """Brook / Kafka for every figure both sessions of a pairing have."""
    out = {}
    for pairing, (b, k) in PAIRINGS.items():
        for name, value in run[b].items():
            if name.startswith("load average") or not isinstance(value, (int, float)) or name == "failed loads":
                continue
            kv = run[k].get(name)
            if kv:
                out[f"{pairing}: {name}"] = value / kv
    return out


def median_of(runs, getter):
    values = [v for v in (getter(r) for r in runs) if v is not None]
    return (statistics.median(values), min(values), max(values)) if values else None


def goals(med_ratio, med_fig, tcp):
    """The goals of bench/README.md's Kafka section, from the medians: [(goal, measured, met)]."""
    out = []
    produce = [n for n in med_ratio if re.match(r"(both fsync|no fsync): produce rdkafka .* msgs/s$", n)]
    worst = min(produce, key=lambda n: med_ratio[n][0]) if produce else None
    if worst:
        out.append(("produce >= 1.5x Kafka at every size, acks, partitions (same policy, librdkafka)",
                    f"lowest {med_ratio[worst][0]:.2f} ({worst})",
                    all(med_ratio[n][0] >= 1.5 for n in produce)))
    for acks in ("1", "all"):
        n = f"defaults: produce rdkafka 1KiB acks={acks} p=1 msgs/s"
        if n in med_ratio:
            out.append((f"defaults, 1 KiB acks={acks}: Brook >= Kafka", f"{med_ratio[n][0]:.2f}", med_ratio[n][0] >= 1.0))
    for n in sorted(med_ratio, key=lambda n: (n.split(":")[0], int(re.sub(r"\D", "", n.split("@")[-1]) or 0))):
        if re.match(r"[a-z ]+: e2e rdkafka @\d+/s p99$", n):
            out.append((f"{n} <= 0.5x Kafka", f"{med_ratio[n][0]:.2f}", med_ratio[n][0] <= 0.5))
    b = med_fig.get("brook-default", {})
    if "consume rdkafka 1KiB p=1 MB/s" in b and tcp:
        share = b["consume rdkafka 1KiB p=1 MB/s"][0] / tcp
        out.append(("consume 1 KiB >= 0.6 of loopback TCP", f"{share:.2f}", share >= 0.6))
    n = "defaults: consume rdkafka 100B p=1 msgs/s"
    if n in med_ratio:
        out.append(("consume 100 B >= 2x Kafka", f"{med_ratio[n][0]:.2f}", med_ratio[n][0] >= 2.0))
    for name, limit in (("idle RSS", 1 / 20), ("start to ready", 1 / 20)):
        n = "defaults: " + name
        if n in med_ratio:
            out.append((f"{name} <= 1/20 of Kafka's", f"{med_ratio[n][0]:.4f}", med_ratio[n][0] <= limit))
    if "descriptors per idle partition" in b:
        v = b["descriptors per idle partition"][0]
        out.append(("<= 1 descriptor per idle partition", f"{v:.2f}", v <= 1.0))
    if "RSS per idle partition" in b:
        v = b["RSS per idle partition"][0]
        out.append(("<= 16 KiB RSS per idle partition", f"{v:.1f} KiB", v <= 16.0))
    k = med_fig.get("kafka-default", {})
    name1, name1000 = "produce rdkafka 1KiB acks=1 p=1 msgs/s", "produce rdkafka 1KiB acks=1 p=1000 msgs/s"
    if all(n in b and n in k for n in (name1, name1000)):
        rb, rk = b[name1000][0] / b[name1][0], k[name1000][0] / k[name1][0]
        out.append(("msgs/s at 1,000 partitions / at 1 no worse than Kafka's", f"Brook {rb:.2f}, Kafka {rk:.2f}", rb >= rk))
    return out


def summarise(runs, tcp_runs):
    med_fig = {}
    for s in SESSIONS:
        names = sorted({n for r in runs for n in r[s] if isinstance(r[s][n], (int, float))})
        med_fig[s] = {n: median_of(runs, lambda r, n=n: r[s].get(n)) for n in names}
    per_run_ratios = [ratios_of(r) for r in runs]
    med_ratio = {n: median_of(per_run_ratios, lambda r, n=n: r.get(n))
                 for n in sorted({n for r in per_run_ratios for n in r})}
    tcp = statistics.median(tcp_runs) if tcp_runs else None
    return med_fig, med_ratio, tcp, per_run_ratios


def print_summary(runs, med_fig, med_ratio, tcp, goal_rows):
    log(f"\n=== medians over {len(runs)} runs (min-max); MB/s = 10^6 bytes/s of payload ===")
    if tcp:
        log(f"  loopback TCP: {tcp:.0f} MB/s")
    for s in SESSIONS:
        log(f"  {s}:")
        for n, (m, lo, hi) in med_fig[s].items():
            log(f"    {n:<58} {m:>14.3f}   ({lo:.3f}-{hi:.3f})")
    log("\n=== ratios Brook / Kafka, taken within each run, median (min-max) ===")
    for n, (m, lo, hi) in med_ratio.items():
        log(f"  {n:<78} {m:>8.3f}   ({lo:.3f}-{hi:.3f})")
    log("\n=== goals ===")
    for goal, measured, met in goal_rows:
        log(f"  {'met   ' if met else 'MISSED'}  {goal}: {measured}")


# ---------------------------------------------------------------------------------------------------------
# Plot (a separate interpreter: matplotlib lives in a venv of its own)


def ensure_plot_python():
    python = os.path.join(PLOT_VENV, "bin", "python")
    if not os.path.exists(python):
        log(f"making {PLOT_VENV} with {MATPLOTLIB} (once)")
        subprocess.run([sys.executable, "-m", "venv", PLOT_VENV], check=True)
    check = subprocess.run([python, "-c", "import matplotlib"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", MATPLOTLIB], check=True)
    return python


def plot(json_path, png_path):
    with open(json_path) as f:
        data = json.load(f)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    med_ratio, med_fig = data["median_ratios"], data["median_figures"]
    fig, axes = plt.subplots(2, 2, figsize=(16, 11))
    fig.suptitle(f"Brook vs Apache Kafka 4.4, medians of {data['runs']} runs ({data['date']}, "
                 f"load average {data['load_average_start']:.1f}-{data['load_average_end']:.1f})")

    # 1: produce throughput ratios, librdkafka, per pairing.
    ax = axes[0][0]
    loads = [f"{s} acks={a} p={p}" for s in SIZES for a in ("1", "all") for p in (1, 16)]
    width = 0.27
    for i, pairing in enumerate(PAIRINGS):
        ys = [med_ratio.get(f"{pairing}: produce rdkafka {ld} msgs/s", [0])[0] for ld in loads]
        ax.bar([x + (i - 1) * width for x in range(len(loads))], ys, width, label=pairing)
    ax.axhline(1.5, color="green", linestyle="--", linewidth=1, label="goal 1.5x (same policy)")
    ax.axhline(1.0, color="grey", linewidth=1)
    ax.set_xticks(range(len(loads)))
    ax.set_xticklabels(loads, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("msgs/s Brook / Kafka")
    ax.set_yscale("log")
    ax.set_title("produce throughput ratio (librdkafka)")
    ax.legend(fontsize=8)

    # 2: consume MB/s per client, Brook and Kafka, with loopback TCP.
    ax = axes[0][1]
    names = ["consume rdkafka 100B p=1", "consume java 100B p=1", "consume brook-perf 100B p=1",
             "consume rdkafka 1KiB p=1", "consume java 1KiB p=1", "consume brook-perf 1KiB p=1",
             "consume rdkafka 1KiB p=16 consumers=4"]
    for i, s in enumerate(("brook-default", "kafka-default")):
        ys = [med_fig[s].get(n + " MB/s", [0])[0] for n in names]
        ax.bar([x + (i - 0.5) * 0.4 for x in range(len(names))], ys, 0.4, label=s)
    if data.get("loopback_tcp_mb_per_s"):
        ax.axhline(data["loopback_tcp_mb_per_s"], color="black", linestyle=":", label="loopback TCP")
        ax.axhline(0.6 * data["loopback_tcp_mb_per_s"], color="green", linestyle="--", label="0.6 x loopback")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([n[len("consume "):] for n in names], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("MB/s")
    ax.set_title("consume from the log start")
    ax.legend(fontsize=8)

    # 3: end-to-end latency, p50 / p99 / p99.9.
    ax = axes[1][0]
    rates = sorted({int(m.group(1)) for n in med_fig["brook-default"]
                    for m in [re.match(r"e2e rdkafka @(\d+)/s p99$", n)] if m})
    labels, bars_b, bars_k = [], [], []
    for rate in rates:
        for q in ("p50", "p99", "p999"):
            labels.append(f"{rate}/s {q}")
            bars_b.append(med_fig["brook-default"].get(f"e2e rdkafka @{rate}/s {q}", [0])[0])
            bars_k.append(med_fig["kafka-default"].get(f"e2e rdkafka @{rate}/s {q}", [0])[0])
    ax.bar([x - 0.2 for x in range(len(labels))], bars_b, 0.4, label="brook-default")
    ax.bar([x + 0.2 for x in range(len(labels))], bars_k, 0.4, label="kafka-default")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ms")
    ax.set_title("end-to-end latency, produce (acks=all) -> consume (librdkafka)")
    ax.legend(fontsize=8)

    # 4: resources, Brook / Kafka.
    ax = axes[1][1]
    names = ["start to ready", "idle RSS", "RSS with 1000 idle partitions", "RSS per idle partition",
             "descriptors per idle partition", "produce rdkafka 1KiB acks=1 p=1 broker CPU s/M",
             "consume rdkafka 1KiB p=1 broker CPU s/M"]
    ys = [med_ratio.get("defaults: " + n, [0])[0] for n in names]
    ax.bar(range(len(names)), ys, color="tab:purple")
    ax.axhline(1 / 20, color="green", linestyle="--", linewidth=1, label="goal 1/20 (start, idle RSS)")
    ax.axhline(1.0, color="grey", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("Brook / Kafka (lower is better)")
    ax.set_title("resources (defaults)")
    ax.legend(fontsize=8)

    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    print(f"wrote {png_path}")


# ---------------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small counts, shorter latency tests (default 1 run)")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build-bench", "bin"),
                        help="where brook-server, brook and brook_produce_consume_bench are")
    parser.add_argument("--dir", default=os.environ.get("TMPDIR") or "/tmp", help="parent of the brokers' data")
    parser.add_argument("--json", default=os.path.join(HERE, "kafka_compare.json"))
    parser.add_argument("--png", default=os.path.join(HERE, "kafka_compare.png"))
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--plot-only", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plot_only:
        plot(args.plot_only, args.png)
        return 0
    if args.quick and "--runs" not in sys.argv:
        args.runs = 1
    for b in ("brook-server", "brook", "brook_produce_consume_bench"):
        if not os.access(os.path.join(args.bin, b), os.X_OK):
            raise SystemExit(f"{os.path.join(args.bin, b)} is missing: build it first (bench/README.md)")

    ctx = Context(args)
    ctx.scratch = tempfile.mkdtemp(prefix="brook-kafka-compare-", dir=args.dir)
    _directories.append(ctx.scratch)
    started = time.time()
    load_start = load_average()
    log(f"{args.runs} runs, data under {ctx.scratch}, load average {load_start:.2f}, {os.cpu_count()} CPUs")
    runs, tcp_runs = [], []
    for run in range(1, args.runs + 1):
        order = SESSIONS if run % 2 else SESSIONS[2:] + SESSIONS[:2]
        log(f"run {run}: {', '.join(order)}")
        tcp = ctx.clients.rdkafka(None, "tcp", tcp_gib=0.5 if args.quick else 1)["mb_per_s"]
        log(f"  loopback TCP {tcp:.0f} MB/s (load {load_average():.2f})")
        tcp_runs.append(tcp)
        runs.append({s: run_session(ctx, s) for s in order})
        for n, v in sorted(ratios_of(runs[-1]).items()):
            log(f"  run {run} ratio {n:<78} {v:8.3f}")
    med_fig, med_ratio, tcp, per_run_ratios = summarise(runs, tcp_runs)
    goal_rows = goals(med_ratio, med_fig, tcp)
    print_summary(runs, med_fig, med_ratio, tcp, goal_rows)
    data = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), "runs": args.runs,
            "quick": args.quick, "minutes": (time.time() - started) / 60, "cpus": os.cpu_count(),
            "load_average_start": load_start, "load_average_end": load_average(),
            "loopback_tcp_mb_per_s": tcp, "per_run": runs, "per_run_ratios": per_run_ratios,
            "median_figures": med_fig, "median_ratios": med_ratio,
            "goals": [{"goal": g, "measured": m, "met": ok} for g, m, ok in goal_rows]}
    with open(args.json, "w") as f:
        json.dump(data, f, indent=1)
    log(f"wrote {args.json} ({data['minutes']:.1f} minutes)")
    if not args.no_plot:
        try:
            python = ensure_plot_python()
            subprocess.run([python, os.path.abspath(__file__), "--plot-only", args.json, "--png", args.png], check=True)
        except (subprocess.CalledProcessError, OSError) as e:
            log(f"no plot: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
