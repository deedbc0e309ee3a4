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

Loads in sessions of their own, run only when named in --loads (e.g. --loads recovery,connections), one
run each unless --runs is given; their figures go to --json under the load's name, the others kept:
  recovery     a 100-partition topic filled with ~10 GiB (librdkafka, 16 KiB records, acks=1, round-robin),
               kill -9, start again on the same data: spawn until it serves (every partition led in
               Metadata, ListOffsets latest adding up to the records there before the kill, the last
               record of every partition fetched); then the same after a clean shutdown. brook-default and
               kafka-default; the page cache is dropped before each start where the VM allows it.
  connections  1,000 and 10,000 idle client connections (each past one ApiVersions exchange): RSS,
               descriptors, idle CPU, and a Metadata round trip on a fresh connection. RLIMIT_NOFILE is
               raised for this script and the brokers it starts.
  callgrind    brook-server under valgrind --tool=callgrind (Brook only: the JVM under valgrind is
               impractical): the broker's user-space instructions per record of produce 100 B and 1 KiB
               (acks=1, and 1 KiB acks=all) and consume, from callgrind_control -d dumps between phases.

The librdkafka client is build-bench/bin/brook_produce_consume_bench --targets external, Java's is
org.apache.kafka.tools.ProducerPerformance / ConsumerPerformance from the jars kafka_broker.py fetches, Brook's
is `brook perf`. Figures of every run, the ratios of every run and the medians over runs are printed;
all of them go to --json (default bench/kafka_compare.json) and a plot of the main figures to --png
(default bench/kafka_compare.png; matplotlib 3.9.2 in a venv under ~/.cache/brook, made on first use).

Run from the repository root after building the targets (see bench/README.md):

    python3 bench/kafka_compare.py              # 3 runs, about 30 minutes on 2 busy cores
    python3 bench/kafka_compare.py --quick      # 1 run, small counts, about 8 minutes
    python3 bench/kafka_compare.py --runs 5 --dir /var/tmp
    python3 bench/kafka_compare.py --loads recovery,connections,callgrind   # about 15 minutes

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
import broker_probe  # noqa: E402  (bench/: Metadata, ListOffsets, Fetch, idle connections)

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

    def _spawn(self, output):
        """Starts self.command with its output appended to `output`; returns the monotonic spawn time."""
        out = open(output, "ab")
        spawned = time.monotonic()
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=self.work)
        _processes.append(self.process)
        out.close()
        return spawned

    def kill9(self):
        """SIGKILL, as a crash: nothing flushed, no clean-shutdown marker; the directory is kept."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        _processes.remove(self.process)

    def stop_keeping_data(self, timeout=120):
        """SIGTERM (a clean shutdown), SIGKILL after `timeout` s; the directory is kept (for a restart)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process in _processes:
            _processes.remove(self.process)

    def restart(self):
        """Starts the broker again on the same directory, ports and settings; returns the spawn time
        (readiness is the caller's to wait for)."""
        return self._spawn(self.output)

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
        self.stop_keeping_data(30)
        if self.work:
            shutil.rmtree(self.work, ignore_errors=True)
            if self.work in _directories:
                _directories.remove(self.work)


class BrookBroker(Broker):
    def __init__(self, name, scratch, server, fsync, wrapper=(), ready_timeout=60):
        super().__init__(name, "brook", scratch)
        self.server, self.fsync = server, fsync
        self.wrapper, self.ready_timeout = list(wrapper), ready_timeout  # e.g. valgrind in front of it

    def start(self):
        self.work = tempfile.mkdtemp(prefix="brook-", dir=self.scratch)
        _directories.append(self.work)
        self.port = kafka_broker.free_port()
        args = [self.server, os.path.join(ROOT, "conf", "server.properties"),
                "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "--override", f"log.dirs={os.path.join(self.work, 'data')}"]
        if not self.fsync:
            args += ["--override", "brook.log.fsync=false"]
        self.command = self.wrapper + args
        self.output = self.log_file = os.path.join(self.work, "server.log")
        self._wait_ready(self._spawn(self.output), self.ready_timeout)


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
        self.command = jvm + ["kafka.Kafka", config]
        self.output = os.path.join(logs, "stdout.log")
        self.log_file = os.path.join(logs, "server.log")
        self._wait_ready(self._spawn(self.output), 180)


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
        if "resources" not in ctx.loads:
            create_topic(ctx, broker, "idle-1000", 1000)
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


def load_latency(ctx, broker, fig, ack_latency, disk_yardstick=False):
    """End-to-end latency at fixed rates (librdkafka), (ack_latency) the Java and `brook perf`
    producers' acknowledgement latency, and (disk_yardstick) the disk's own fdatasync latency under the
    broker's directory, paced at 1,000/s, with an ideal group-commit writer at that rate."""
    c = ctx.clients
    if disk_yardstick:
        r = c.rdkafka(None, "fsync", dir=broker.work, rate=1000, latency_seconds=ctx.latency_seconds, size=100)
        for q in ("p50", "p99", "max"):
            record(fig, f"disk fdatasync paced 1000/s {q}", r[f"fdatasync_{q}_ms"], "ms")
            record(fig, f"disk ideal group commit 1000/s {q}", r[f"group_commit_{q}_ms"], "ms")
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
# Loads run in sessions of their own (--loads recovery,connections,callgrind): each starts its brokers
# itself and returns its figures; kafka_compare.json keeps them under the load's name.


def drop_page_cache():
    """sync, then drop the clean page cache; False where the VM refuses it."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def log_lines_from(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace").splitlines()


LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[.,](\d{3})")


def log_time(line):
    """Seconds (epoch, local time) of a Brook ([2026-12-07 16:40:01.123]) or Kafka ([..,123]) log line."""
    m = LOG_TIME.match(line)
    return time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1e3 if m else None


def recovery_log_report(broker, lines):
    """What the broker's own log says about the recovery it did: lines of recovered partitions/segments, and
    the span from its first log line to the last of them."""
    if broker.kind == "brook":
        pattern = re.compile(r"recovered; log start offset|no clean-shutdown marker|: cut \d+ bytes|recovering every")
        counted = re.compile(r": recovered; log start offset")
    else:
        pattern = re.compile(r"Recovering unflushed segment|Loaded \d+ logs in|no clean shutdown file|"
                             r"Completed load of Log")
        counted = re.compile(r"Recovering unflushed segment")
    hits = [ln for ln in lines if pattern.search(ln)]
    times = [t for t in (log_time(ln) for ln in lines) if t]
    hit_times = [t for t in (log_time(ln) for ln in hits) if t]
    out = {"recovery log lines": len(hits), "recovered segments or partitions logged": sum(
        1 for ln in hits if counted.search(ln))}
    if times and hit_times:
        out["first log line to last recovery line ms"] = (max(hit_times) - min(times)) * 1e3
    loaded = [ln for ln in hits if "Loaded " in ln and " logs in " in ln]
    # The loading of the logs alone: Kafka's LogManager times it; Brook's from the marker line to the last
    # partition recovered.
    if loaded:
        out["log loading ms (its own log)"] = float(re.search(r" logs in (\d+)ms", loaded[-1]).group(1))
    elif broker.kind == "brook" and hit_times and hits and "no clean-shutdown marker" in hits[0]:
        out["log loading ms (its own log)"] = (max(hit_times) - log_time(hits[0])) * 1e3
    samples = loaded + [ln for ln in hits if ln not in loaded][:3] + hits[-2:]
    return out, [ln[:400] for ln in samples]


def topic_bytes(data_dir, topic):
    """Bytes and count of the .log segment files of `topic`'s partitions."""
    total = segments = 0
    for name in os.listdir(data_dir):
        if name.rsplit("-", 1)[0] != topic:
            continue
        for f in os.listdir(os.path.join(data_dir, name)):
            if f.endswith(".log"):
                total += os.path.getsize(os.path.join(data_dir, name, f))
                segments += 1
    return total, segments


def latest_total(broker, topic, partitions):
    with broker_probe.Connection(broker.port, timeout=60) as c:
        offsets = c.latest_offsets(topic, list(range(partitions)))
    return sum(o for _, o in offsets.values())


def time_to_serve(ctx, broker, fig, label, topic, partitions, expected, timeout):
    """Drops the page cache (or only syncs, --recovery-keep-cache), restarts `broker` on its data, and records
    the milliseconds from the spawn until each stage of broker_probe.serving passed."""
    if ctx.recovery["drop_cache"]:
        dropped = drop_page_cache()
    else:  # written back, still cached: the same start for both brokers
        os.sync()
        dropped = False
    fig[f"{label}: page cache dropped"] = dropped
    mark = log_size(broker.log_file)
    record(fig, f"{label}: load average before", load_average())
    spawned = broker.restart()
    reached, _ = broker_probe.wait_serving(broker.port, topic, partitions, expected, spawned,
                                         lambda: broker.process.poll() is None, timeout)
    record(fig, f"{label}: spawn to listening", reached["connect passed"] * 1e3, "ms")
    record(fig, f"{label}: spawn to every partition led", reached["metadata passed"] * 1e3, "ms")
    record(fig, f"{label}: spawn to latest offsets", reached["offsets passed"] * 1e3, "ms")
    record(fig, f"{label}: spawn to serving", reached["served"] * 1e3, "ms")
    record(fig, f"{label}: RSS when serving", rss_bytes(broker.pid) / 2**20, "MiB")
    time.sleep(1.0)  # the last log lines of the start
    report, samples = recovery_log_report(broker, log_lines_from(broker.log_file, mark))
    for name, value in report.items():
        record(fig, f"{label}: {name}", value)
    fig.setdefault("log samples", {})[label] = samples
    for ln in samples:
        log(f"      | {ln[:200]}")


def load_recovery(ctx, session):
    """Fills a topic of P partitions with ~N GiB (librdkafka, acks=1, records round-robin), kill -9, start
    again on the same data, and times spawn -> serving (every partition led, latest offsets adding up to
    what was there before the kill, the last record of every partition fetched); then the same after a
    clean shutdown, for reference. The page cache is dropped before each start where the VM allows it."""
    rc = ctx.recovery
    topic, partitions, size = "recovery", rc["partitions"], rc["size"]
    count = rc["bytes"] // size
    broker = make_broker(ctx, session)
    fig = {"load average at start": load_average()}
    log(f"  {session}: recovery, {count:,} records of {size} B over {partitions} partitions "
        f"(load {load_average():.2f}, free {shutil.disk_usage(ctx.scratch).free / 2**30:.1f} GiB)")
    broker.start()
    try:
        create_topic(ctx, broker, topic, partitions)
        fill_start, produced = time.monotonic(), 0
        chunk = max(1, min(count, rc["chunk_bytes"] // size))
        while produced < count:
            n = min(chunk, count - produced)
            ctx.clients.rdkafka(broker, "produce", topic=topic, size=size, count=n, acks="1", partitions=partitions)
            produced += n
            log(f"    filled {produced * size / 2**30:.2f} GiB ({time.monotonic() - fill_start:.0f} s, "
                f"load {load_average():.2f})")
        fill_s = time.monotonic() - fill_start
        expected = latest_total(broker, topic, partitions)
        data_dir = os.path.join(broker.work, "data")
        on_disk, segments = topic_bytes(data_dir, topic)
        record(fig, "fill MB/s (librdkafka acks=1)", produced * size / fill_s / 1e6, "MB/s")
        record(fig, "records in the log", expected)
        record(fig, "log bytes on disk", on_disk / 2**30, "GiB")
        record(fig, "log segments", segments)
        broker.kill9()
        log(f"    kill -9 after the fill; restarting on {on_disk / 2**30:.2f} GiB")
        time_to_serve(ctx, broker, fig, "after kill -9", topic, partitions, expected, rc["timeout"])
        broker.stop_keeping_data()
        time_to_serve(ctx, broker, fig, "after a clean shutdown", topic, partitions, expected, rc["timeout"])
        fig["load average at end"] = load_average()
    finally:
        broker.stop()
    return fig


def idle_readings(ctx, broker, fig, n, rss0=None):
    time.sleep(2.0)  # let the broker settle (Kafka's selectors, Brook's buffers)
    cpu0 = cpu_seconds(broker.pid)
    time.sleep(ctx.connections["idle_seconds"])
    cpu = (cpu_seconds(broker.pid) - cpu0) / ctx.connections["idle_seconds"]
    rss, fds = rss_bytes(broker.pid), descriptors(broker.pid)
    samples = [broker_probe.fresh_metadata_ms(broker.port) for _ in range(ctx.connections["probes"])]
    total = sorted(s[0] for s in samples)
    rtt = sorted(s[1] for s in samples)
    record(fig, f"{n} idle connections: RSS", rss / 2**20, "MiB")
    record(fig, f"{n} idle connections: descriptors", fds)
    record(fig, f"{n} idle connections: broker CPU while idle", cpu * 100, "%")
    record(fig, f"{n} idle connections: fresh connection to Metadata answer p50", statistics.median(total), "ms")
    record(fig, f"{n} idle connections: fresh connection to Metadata answer max", total[-1], "ms")
    record(fig, f"{n} idle connections: Metadata round trip p50", statistics.median(rtt), "ms")
    if rss0 is not None and n:
        record(fig, f"{n} idle connections: RSS per connection", (rss - rss0) / n / 1024, "KiB")
    return rss


def load_connections(ctx, session):
    """N idle client connections (each past one ApiVersions exchange), kept open: the broker's RSS,
    descriptors and idle CPU, and a Metadata round trip on a fresh connection, at 0 and each N."""
    broker = make_broker(ctx, session)
    fig = {"load average at start": load_average()}
    log(f"  {session}: idle connections {ctx.connections['counts']} (load {load_average():.2f})")
    broker.start()
    sockets = []
    try:
        time.sleep(1.0)
        rss0 = idle_readings(ctx, broker, fig, 0)
        for n in ctx.connections["counts"]:
            t0 = time.monotonic()
            sockets += broker_probe.open_idle_connections(broker.port, n - len(sockets))
            record(fig, f"{n} idle connections: opening them (ApiVersions answered)", time.monotonic() - t0, "s")
            idle_readings(ctx, broker, fig, n, rss0)
        for s in sockets:
            s.close()
        sockets = []
        time.sleep(3.0)
        record(fig, "RSS after closing them", rss_bytes(broker.pid) / 2**20, "MiB")
        record(fig, "descriptors after closing them", descriptors(broker.pid))
        fig["load average at end"] = load_average()
    finally:
        for s in sockets:
            s.close()
        broker.stop()
    return fig


def callgrind_dump(pid, label, directory, seen):
    """callgrind_control -d: (instructions (Ir) since the previous dump, the new dump file)."""
    subprocess.run(["callgrind_control", "-d", label, str(pid)], check=True, stdout=subprocess.DEVNULL,
                   timeout=600)
    return callgrind_new_totals(directory, seen)


def callgrind_totals(path):
    total = 0
    with open(path) as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                total = max(total, int(line.split()[1]))
    return total


def callgrind_new_totals(directory, seen):
    """(Ir, path) of the dump callgrind_control -d wrote: callgrind.out.N, N counting up (callgrind.out
    itself is written at the exit)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = sorted(set(os.listdir(directory)) - seen - {"callgrind.out"})
        if new:
            seen.update(new)
            paths = [os.path.join(directory, name) for name in new]
            return sum(callgrind_totals(p) for p in paths), paths[-1]
        time.sleep(0.2)
    raise RuntimeError(f"no new callgrind dump in {directory}")


def callgrind_top(path, n=12):
    """The n functions with the most instructions of their own (self cost) in a dump (written with
    --compress-strings=no --compress-pos=no): ["55.1% function"]. Read here rather than by callgrind_annotate,
    which credits a dump taken mid-run wholly to the threads' entry point (clone)."""
    self_cost, fn, after_call = {}, None, False
    with open(path) as f:
        for line in f:
            if line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("calls="):
                after_call = True  # the next cost line is the call's inclusive cost
            elif line[:1].isdigit() and fn is not None:
                if after_call:
                    after_call = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    self_cost[fn] = self_cost.get(fn, 0) + int(parts[1])
    total = sum(self_cost.values()) or 1
    top = sorted(self_cost.items(), key=lambda kv: -kv[1])[:n]
    # Arguments left out: "brook::common::validate_produced_batch(std::span<...>, ...)" -> "...batch()"
    short = [name.replace("(anonymous namespace)::", "") for name, _ in top]
    short = [name[:name.index("(", 1)] + "()" if "(" in name[1:] else name for name in short]
    return [f"{100 * cost / total:.1f}% {name[:160]}" for name, (_, cost) in zip(short, top)]


def load_callgrind(ctx):
    """brook-server (brook-default settings) under valgrind --tool=callgrind with a fixed load; the broker's
    user-space instructions (Ir) of each phase, from callgrind_control -d dumps between the phases. The idle
    rate (Ir/s of an idle broker, its timers) times each phase's length is subtracted for the per-record
    figures. Kernel work (copies, fsync) is not counted by callgrind."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("the callgrind load needs valgrind (apt-get install valgrind)")
    cg = ctx.callgrind
    out_dir = tempfile.mkdtemp(prefix="callgrind-", dir=ctx.scratch)
    _directories.append(out_dir)
    wrapper = ["valgrind", "--tool=callgrind", "--compress-strings=no", "--compress-pos=no",
               f"--callgrind-out-file={out_dir}/callgrind.out"]
    broker = BrookBroker("brook-callgrind", ctx.scratch, os.path.join(ctx.args.bin, "brook-server"), fsync=True,
                         wrapper=wrapper, ready_timeout=600)
    fig = {"load average at start": load_average()}
    seen = set()
    log(f"  brook-server under callgrind (load {load_average():.2f})")
    broker.start()
    try:
        record(fig, "start to ready under callgrind", broker.ready_s, "s")
        record(fig, "start to ready Ir", callgrind_dump(broker.pid, "start", out_dir, seen)[0] / 1e6, "M Ir")
        time.sleep(cg["idle_seconds"])
        idle_rate = callgrind_dump(broker.pid, "idle", out_dir, seen)[0] / cg["idle_seconds"]
        record(fig, "idle Ir/s", idle_rate / 1e6, "M Ir/s")
        phases = [("produce 100B acks=1", "produce", "cg-100B", 100, cg["records 100B"], "1"),
                  ("produce 1KiB acks=1", "produce", "cg-1KiB", 1024, cg["records 1KiB"], "1"),
                  ("produce 1KiB acks=all", "produce", "cg-1KiB-all", 1024, cg["records 1KiB"], "all"),
                  ("consume 100B", "consume", "cg-100B", 100, cg["records 100B"], None),
                  ("consume 1KiB", "consume", "cg-1KiB", 1024, cg["records 1KiB"], None)]
        for topic in ("cg-100B", "cg-1KiB", "cg-1KiB-all"):
            create_topic(ctx, broker, topic, 1)
        callgrind_dump(broker.pid, "create", out_dir, seen)
        for name, test, topic, size, count, acks in phases:
            t0 = time.monotonic()
            kw = {"size": size, "count": count, "acks": acks} if test == "produce" else {}
            r = ctx.clients.rdkafka(broker, test, topic=topic, **kw)
            seconds = time.monotonic() - t0
            ir, dump = callgrind_dump(broker.pid, name, out_dir, seen)
            records = r["messages"] + (1 if test == "produce" else 0)  # + the producer's warm-up record
            net = max(ir - idle_rate * seconds, 0)
            record(fig, f"{name}: Ir", ir / 1e6, "M Ir")
            record(fig, f"{name}: seconds under callgrind", seconds, "s")
            record(fig, f"{name}: Ir per record", ir / records, "Ir")
            record(fig, f"{name}: Ir per record, idle subtracted", net / records, "Ir")
            fig.setdefault("top functions", {})[name] = callgrind_top(dump)
            for row in fig["top functions"][name][:6]:
                log(f"      | {row}")
        os.killpg(broker.pid, signal.SIGTERM)
        broker.process.wait(600)
        record(fig, "clean shutdown Ir", callgrind_totals(os.path.join(out_dir, "callgrind.out")) / 1e6, "M Ir")
        fig["load average at end"] = load_average()
    finally:
        broker.stop()
    return fig


def ratios_brook_kafka(per_session):
    b, k = per_session.get("brook-default", {}), per_session.get("kafka-default", {})
    return {n: v / k[n] for n, v in b.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not n.startswith("load average")
            and isinstance(k.get(n), (int, float)) and k.get(n)}


def run_extra_load(ctx, name):
    """Runs `name` (recovery, connections: brook-default and kafka-default, alternating which goes first each
    run; callgrind: Brook only) --runs times; returns its JSON entry."""
    started, load0 = time.time(), load_average()
    runs = []
    for run in range(1, ctx.extra_runs + 1):
        if name == "callgrind":
            runs.append({"brook-default": load_callgrind(ctx)})
            continue
        order = ["brook-default", "kafka-default"] if run % 2 else ["kafka-default", "brook-default"]
        log(f"{name} run {run}: {', '.join(order)}")
        fn = load_recovery if name == "recovery" else load_connections
        runs.append({s: fn(ctx, s) for s in order})
    per_run_ratios = [ratios_brook_kafka(r) for r in runs]
    names = sorted({n for r in per_run_ratios for n in r})
    med_ratio = {n: median_of(per_run_ratios, lambda r, n=n: r.get(n)) for n in names}
    med_fig = {}
    for s in sorted({s for r in runs for s in r}):
        fnames = sorted({n for r in runs for n, v in r.get(s, {}).items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool)})
        med_fig[s] = {n: median_of(runs, lambda r, n=n, s=s: r.get(s, {}).get(n)) for n in fnames}
    goal_rows = []
    b = med_fig.get("brook-default", {})
    if name == "recovery":
        n = "after kill -9: spawn to serving"
        if n in med_ratio:
            goal_rows.append(("time to serve after kill -9 no slower than Kafka's, same log",
                              f"{b[n][0]:.0f} ms vs {med_fig['kafka-default'][n][0]:.0f} ms, ratio "
                              f"{med_ratio[n][0]:.2f}", med_ratio[n][0] <= 1.0))
    if name == "connections":
        counts = ctx.connections["counts"]
        n = f"{counts[-1]} idle connections: RSS"
        if n in b:
            goal_rows.append((f"{counts[-1]:,} idle connections within 100 MiB RSS", f"{b[n][0]:.1f} MiB",
                              b[n][0] <= 100))
    log(f"\n=== {name}: medians over {len(runs)} run(s) (min-max) ===")
    for s, figs in med_fig.items():
        log(f"  {s}:")
        for n, (m, lo, hi) in figs.items():
            log(f"    {n:<70} {m:>14.3f}   ({lo:.3f}-{hi:.3f})")
    if med_ratio:
        log("  ratios Brook / Kafka:")
        for n, (m, lo, hi) in med_ratio.items():
            log(f"    {n:<70} {m:>10.3f}   ({lo:.3f}-{hi:.3f})")
    for goal, measured, met in goal_rows:
        log(f"  {'met   ' if met else 'MISSED'}  {goal}: {measured}")
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), "runs": ctx.extra_runs,
            "quick": ctx.args.quick, "minutes": (time.time() - started) / 60, "load_average_start": load0,
            "load_average_end": load_average(), "settings": ctx.extra_settings(name), "per_run": runs,
            "per_run_ratios": per_run_ratios, "median_figures": med_fig, "median_ratios": med_ratio,
            "goals": [{"goal": g, "measured": m, "met": ok} for g, m, ok in goal_rows]}


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
        self.loads = args.loads
        # The loads in sessions of their own: one run unless --runs is given.
        self.extra_runs = args.runs if args.runs_given else 1
        self.recovery = {"bytes": int(args.recovery_gib * 2**30), "partitions": args.recovery_partitions,
                         "size": args.recovery_record_size, "chunk_bytes": 2**30, "timeout": 1800,
                         "drop_cache": not args.recovery_keep_cache}
        self.connections = {"counts": args.connection_counts, "idle_seconds": 5, "probes": 20}
        self.callgrind = {"records 100B": 100000, "records 1KiB": 30000, "idle_seconds": 10}

    def extra_settings(self, name):
        return {"recovery": self.recovery, "connections": self.connections, "callgrind": self.callgrind}[name]


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
        if default and "resources" in ctx.loads:
            load_resources(ctx, broker, fig)
        if "produce" in ctx.loads or "latency" in ctx.loads:
            warm_up(ctx, broker)
        if "produce" in ctx.loads:
            load_produce(ctx, broker, fig, full_matrix_clients=default)
        if default and "consume" in ctx.loads:
            load_consume(ctx, broker, fig)
        if "latency" in ctx.loads:
            load_latency(ctx, broker, fig, ack_latency=default, disk_yardstick=session == "brook-default")
        fig["load average at end"] = load_average()
    finally:
        broker.stop()
    return fig


LOWER_IS_BETTER = ("CPU", "ms", " p50", " p99", " p999", " max", "RSS", "descriptors", "start to ready")


def ratios_of(run):
    """Brook / Kafka for every figure both sessions of a pairing have."""
    out = {}
    for pairing, (b, k) in PAIRINGS.items():
        for name, value in run.get(b, {}).items():
            if name.startswith("load average") or not isinstance(value, (int, float)) or name == "failed loads":
                continue
            kv = run.get(k, {}).get(name)
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
    disk = b.get("disk fdatasync paced 1000/s p99")
    for rate in (1000, 10000):
        n = f"ack brook-perf @{rate}/s p99"
        if disk and n in b:
            out.append((f"acks=all p99 <= 2x the disk's paced fdatasync p99 (brook perf @{rate}/s)",
                        f"{b[n][0]:.1f} ms vs 2 x {disk[0]:.2f} ms", b[n][0] <= 2 * disk[0]))
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
        names = sorted({n for r in runs for n, v in r.get(s, {}).items() if isinstance(v, (int, float))})
        med_fig[s] = {n: median_of(runs, lambda r, n=n: r.get(s, {}).get(n)) for n in names}
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


CLASSIC_LOADS = ("produce", "consume", "latency", "resources")
EXTRA_LOADS = ("recovery", "connections", "callgrind")
EXTRA_KEYS = EXTRA_LOADS + ("recovery-warm",)  # their entries in the JSON


def run_classic(ctx, args):
    """The four-session runs of the produce, consume, latency and resources loads; their JSON."""
    started = time.time()
    load_start = load_average()
    log(f"{args.runs} runs, data under {ctx.scratch}, load average {load_start:.2f}, {os.cpu_count()} CPUs")
    runs, tcp_runs = [], []
    # consume and resources alone need only the default sessions
    sessions = SESSIONS if {"produce", "latency"} & set(args.loads) else ["brook-default", "kafka-default"]
    for run in range(1, args.runs + 1):
        order = sessions if run % 2 else sessions[len(sessions) // 2:] + sessions[:len(sessions) // 2]
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
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), "runs": args.runs,
            "quick": args.quick, "minutes": (time.time() - started) / 60, "cpus": os.cpu_count(),
            "loads": [ld for ld in args.loads if ld in CLASSIC_LOADS],
            "load_average_start": load_start, "load_average_end": load_average(),
            "loopback_tcp_mb_per_s": tcp, "per_run": runs, "per_run_ratios": per_run_ratios,
            "median_figures": med_fig, "median_ratios": med_ratio,
            "goals": [{"goal": g, "measured": m, "met": ok} for g, m, ok in goal_rows]}


def raise_descriptor_limit(want):
    """RLIMIT_NOFILE of this process, inherited by the brokers it starts: soft and hard to `want` (root may
    raise the hard limit), else soft to the hard limit. Returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small counts, shorter latency tests (default 1 run)")
    parser.add_argument("--loads", default=",".join(CLASSIC_LOADS),
                        help=f"comma-separated, of {', '.join(CLASSIC_LOADS + EXTRA_LOADS)} (default: the first four)")
    parser.add_argument("--recovery-gib", type=float, default=None, help="recovery: GiB to fill (default 10; --quick 1)")
    parser.add_argument("--recovery-partitions", type=int, default=100)
    parser.add_argument("--recovery-record-size", type=int, default=16384)
    parser.add_argument("--recovery-keep-cache", action="store_true",
                        help="recovery: keep the page cache (the log read from memory); its figures go to the "
                             "JSON as recovery-warm")
    parser.add_argument("--connections", default=None,
                        help="connections: idle connection counts, ascending (default 1000,10000; --quick 1000)")
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
    args.bin = os.path.abspath(args.bin)  # the brokers run in their own directories
    args.runs_given = "--runs" in sys.argv
    if args.quick and not args.runs_given:
        args.runs = 1
    args.loads = [ld.strip() for ld in args.loads.split(",") if ld.strip()]
    unknown = [ld for ld in args.loads if ld not in CLASSIC_LOADS + EXTRA_LOADS]
    if unknown or not args.loads:
        raise SystemExit(f"unknown --loads {unknown}; choose from {', '.join(CLASSIC_LOADS + EXTRA_LOADS)}")
    if args.recovery_gib is None:
        args.recovery_gib = 1.0 if args.quick else 10.0
    args.connection_counts = sorted(int(n) for n in (args.connections or ("1000" if args.quick else "1000,10000"))
                                    .split(","))
    for b in ("brook-server", "brook", "brook_produce_consume_bench"):
        if not os.access(os.path.join(args.bin, b), os.X_OK):
            raise SystemExit(f"{os.path.join(args.bin, b)} is missing: build it first (bench/README.md)")
    if "connections" in args.loads:
        want = 2 * args.connection_counts[-1] + 4096
        limit = raise_descriptor_limit(want)
        log(f"RLIMIT_NOFILE {limit} for this script and the brokers it starts")
        if limit < args.connection_counts[-1] + 1024:
            raise SystemExit(f"RLIMIT_NOFILE {limit} is too low for {args.connection_counts[-1]} connections")

    ctx = Context(args)
    ctx.scratch = tempfile.mkdtemp(prefix="brook-kafka-compare-", dir=args.dir)
    _directories.append(ctx.scratch)
    classic = any(ld in CLASSIC_LOADS for ld in args.loads)
    try:  # the figures of the loads not run this time are kept
        with open(args.json) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        previous = {}
    if classic:
        data = run_classic(ctx, args)
        data.update({k: previous[k] for k in EXTRA_KEYS if k in previous})
    else:
        data = previous
    for name in EXTRA_LOADS:
        if name in args.loads:
            key = "recovery-warm" if name == "recovery" and args.recovery_keep_cache else name
            data[key] = run_extra_load(ctx, name)
            with open(args.json, "w") as f:  # after each, so a later failure keeps it
                json.dump(data, f, indent=1)
    with open(args.json, "w") as f:
        json.dump(data, f, indent=1)
    log(f"wrote {args.json}")
    if classic and not args.no_plot:
        try:
            python = ensure_plot_python()
            subprocess.run([python, os.path.abspath(__file__), "--plot-only", args.json, "--png", args.png], check=True)
        except (subprocess.CalledProcessError, OSError) as e:
            log(f"no plot: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
