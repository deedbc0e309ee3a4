"""Exactly-once copying through transactions while processes die, after Kafka's TransactionsTest
(tests/kafkatest/tests/core/transactions_test.py with its TransactionalMessageCopier).

Each input partition has a copier of its own (transactional_copier.py, a separate process with a
transactional id per input partition): a read_committed consumer of one group and a transactional
producer, committing each batch's copies together with the consumer's position. The copiers write
interleaved transactions into every output partition.

- test_copier_killed_repeatedly: every copier is SIGKILLed several times, at different points of
  its transactions (chosen by a seeded random generator; once while it waits with a whole
  transaction's copies in the log), and restarted with the same transactional id; the restarted
  one aborts what its predecessor left open, rewinds to the group's committed offset and goes on.
- test_broker_killed_repeatedly: the broker is SIGKILLed several times while the copiers run and
  restarted on the same data directory and port. The copiers are not restarted: as with Kafka, a
  transactional producer and a consumer ride through a broker restart with their retries, so a
  copier that exits with a fatal error fails the test.

Then: the output's committed records are exactly one copy of every input record, each input
partition's copies in input order within an output partition; a read_committed
consumer reading the output all along never saw a record that is not among them (no aborted copy);
a read_uncommitted consumer finds the aborted copies in the log (after copier kills there must be
some); the last stable offset reaches the high watermark; and the group's committed offsets are
the input's end offsets.

BROOK_COPIER_SEED=<n> repeats a run's kill points; every run prints its seed. BROOK_COPIER_DEBUG=<librdkafka
debug contexts> and BROOK_COPIER_LOG_DIR=<dir> keep the copiers' client logs.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict

import brook_harness as h
import produce_consume_util as u

h.require_modules("confluent_kafka")

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The command that runs a copier (its arguments follow: transactional_copier.py's usage).
PYTHON_COPIER = [sys.executable, os.path.join(HERE, "transactional_copier.py")]
INPUT_PARTITIONS = 2
OUTPUT_PARTITIONS = 3
RECORDS_PER_PARTITION = 10_000
MAX_BATCH = 400
COPIER_KILLS = 4     # per copier
BROKER_KILLS = 4
# Where a kill lands: just after the copier printed this step (transactional_copier.py).
STEPS = ["begin", "produced", "flushed", "offsets", "committing", "committed"]
# The copier waits after this step until the test has acted: a kill there lands in a transaction
# whose copies are all in the log, before its offsets are sent (so it must end up aborted, or be
# committed by the copier after a broker restart).
PAUSE = "flushed"
RUN_TIMEOUT = 90.0  # one run's copying, kills included (about 10 s)
SEED = int(os.environ.get("BROOK_COPIER_SEED") or random.SystemRandom().randrange(1 << 30))


def free_port():
    """A free port below the ephemeral range, so that no client connection takes it as its own
    port while the broker is down between a kill and its restart."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    pick = random.SystemRandom()
    for _ in range(100):
        port = pick.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port found")


class Copier:
    """One input partition's copier and its successive incarnations.

    `kill_at` is a list of (step, input position): the incarnation running when the copier prints
    that step at or past that position is SIGKILLed (by the thread reading its output, at once);
    each kill point is used once. `on_step(copier, step, position)` may do the same for others.
    """

    def __init__(self, srv, names, partition, kill_at=(), on_step=None, command=PYTHON_COPIER):
        self.srv, self.names, self.partition, self.command = srv, names, partition, command
        self.kill_at = list(kill_at)
        self.on_step = on_step
        self.incarnation = -1
        self.process = None
        self.kills = 0
        self.position = 0
        self.end = None
        self.done = None   # the "done" line's words
        self.lines = []    # (incarnation, line) of every incarnation, for a failure message
        self.commit_times = []  # time.monotonic() of every "committed" line
        self.stderr = []
        self.lock = threading.Lock()

    def start(self):
        self.incarnation += 1
        n = self.names
        args = [*self.command, self.srv.bootstrap, n["input"], str(self.partition), n["output"],
                str(OUTPUT_PARTITIONS), n["group"], f"{n['txn']}-{self.partition}", str(self.incarnation),
                str(MAX_BATCH), str(RUN_TIMEOUT), PAUSE]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.PIPE, preexec_fn=h._die_with_parent)
        self.reader = threading.Thread(target=self._read_stdout, args=(self.process, self.incarnation), daemon=True)
        self.reader.start()
        threading.Thread(target=self._read_stderr, args=(self.process, self.incarnation), daemon=True).start()

    def _read_stdout(self, process, incarnation):
        killed = False
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").strip()
            words = line.split()
            with self.lock:
                self.lines.append((incarnation, line))
                if words and words[0] == "committed":
                    self.commit_times.append(time.monotonic())
                if not words:
                    continue
                step = words[0]
                if step == "ready":
                    self.end = int(words[2])
                if step in STEPS or step in ("ready", "aborted", "done"):
                    self.position = int(words[1])
                if step == "done":
                    self.done = words
                if (not killed and self.kill_at and step == self.kill_at[0][0]
                        and self.position >= self.kill_at[0][1]):
                    self.kill_at.pop(0)
                    killed = True
                    process.send_signal(signal.SIGKILL)
                    self.kills += 1
                    self.lines.append((incarnation, f"-- SIGKILL after {line}"))
            if self.on_step is not None and step in STEPS:
                self.on_step(self, step, int(words[1]))
            if step == PAUSE and not killed:
                try:
                    process.stdin.write(b"go\n")
                    process.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass  # it died (the broker's kill may have made it exit)

    def _read_stderr(self, process, incarnation):
        # BROOK_COPIER_LOG_DIR=<dir> keeps every copier's whole stderr there (with BROOK_COPIER_DEBUG).
        log_dir = os.environ.get("BROOK_COPIER_LOG_DIR")
        keep = open(os.path.join(log_dir, f"{self.names['txn']}-{self.partition}.{incarnation}.log"), "wb") \
            if log_dir else None
        for raw in process.stderr:
            if keep:
                keep.write(raw)
            with self.lock:
                self.stderr.append(f"[{incarnation}] " + raw.decode("utf-8", "replace").rstrip())
        if keep:
            keep.close()

    def describe(self):
        with self.lock:
            tail = [f"  [{i}] {line}" for i, line in self.lines[-12:]]
            err = self.stderr[-20:]
        return (f"copier {self.partition}, incarnation {self.incarnation}, position {self.position}/{self.end}:\n"
                + "\n".join(tail) + ("\n  stderr:\n    " + "\n    ".join(err) if err else ""))


class CommittedReader(threading.Thread):
    """A read_committed consumer of the whole output from offset 0, for as long as the run lasts.

    `seen` maps (partition, offset) to the value read there; reading one offset twice with different
    values is a failure (`conflicts`).
    """

    def __init__(self, srv, topic):
        super().__init__(daemon=True)
        self.srv, self.topic = srv, topic
        self.seen = {}
        self.conflicts = []
        self.errors = Counter()
        self.fatal = None
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        c = Consumer({"bootstrap.servers": self.srv.bootstrap, "group.id": "unused-concurrent-reader",
                      "enable.auto.commit": False, "isolation.level": "read_committed",
                      "reconnect.backoff.max.ms": 1000, **u.QUIET})
        c.assign([TopicPartition(self.topic, p, 0) for p in range(OUTPUT_PARTITIONS)])
        try:
            while not self.stop.is_set():
                for m in c.consume(1000, 0.1):
                    err = m.error()
                    if err is not None:
                        if err.fatal():
                            self.fatal = str(err)
                            return
                        self.errors[err.name()] += 1
                        continue
                    place = (m.partition(), m.offset())
                    with self.lock:
                        before = self.seen.setdefault(place, m.value())
                        if before != m.value():
                            self.conflicts.append((place, before, m.value()))
        finally:
            c.close()

    def count(self):
        with self.lock:
            return len(self.seen)


def fill_input(srv, topic):
    prod = u.producer(srv, linger_ms=20, enable_idempotence=True)
    records = [{"partition": p, "key": b"k-%d-%d" % (p, i), "value": b"v-%d-%d" % (p, i)}
               for i in range(RECORDS_PER_PARTITION) for p in range(INPUT_PARTITIONS)]
    reports = u.produce_all(prod, topic, records)
    u.assert_delivered(reports)
    for r in reports:
        assert r.offset == int(r.key.split(b"-")[2]), f"input record {r.key!r} at offset {r.offset}"


def input_value(partition, offset):
    return b"v-%d-%d" % (partition, offset)


def offsets_of(srv, topic, isolation):
    c = Consumer({"bootstrap.servers": srv.bootstrap, "group.id": "unused-offsets",
                  "isolation.level": isolation, **u.QUIET})
    try:
        return [c.get_watermark_offsets(TopicPartition(topic, p), timeout=u.TIMEOUT)[1]
                for p in range(OUTPUT_PARTITIONS)]
    finally:
        c.close()


def group_offsets(srv, group, topic):
    c = Consumer({"bootstrap.servers": srv.bootstrap, "group.id": group, "enable.auto.commit": False, **u.QUIET})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(INPUT_PARTITIONS)],
                                                timeout=u.TIMEOUT)]
    finally:
        c.close()


def wait_for_copiers(copiers, restart_killed, deadline, watch=None):
    """Until every copier said "done" and exited 0. A killed incarnation is restarted when
    `restart_killed`; any other exit fails. `watch()` runs in between (the broker's restarts)."""
    while True:
        running = False
        for c in copiers:
            code = c.process.poll()
            if code is None:
                running = True
            elif code == -signal.SIGKILL and restart_killed:
                c.process.wait()
                c.start()
                running = True
            else:
                c.reader.join(10)  # its last lines ("done") may still be in the pipe
                if code != 0 or c.done is None:
                    raise AssertionError(f"copier exited with {code}\n{c.describe()}")
        if watch is not None:
            watch()
        if not running:
            return
        if time.monotonic() > deadline:
            raise AssertionError("copying did not finish in time\n" + "\n".join(c.describe() for c in copiers))
        time.sleep(0.02)


def run_copiers(srv, tag, rng, copier_kills=0, broker_kills=0, command=PYTHON_COPIER):
    started = time.monotonic()
    names = {"input": f"{tag}-input", "output": f"{tag}-output", "group": f"{tag}-group", "txn": f"{tag}-copier"}
    u.create_topic(srv, names["input"], INPUT_PARTITIONS)
    u.create_topic(srv, names["output"], OUTPUT_PARTITIONS)
    fill_input(srv, names["input"])
    end = RECORDS_PER_PARTITION

    def kill_points(count):
        # One point in each of `count` equal stretches of the input, at a random step; one of them
        # where the copier pauses.
        steps = [rng.choice(STEPS) for _ in range(count)]
        if count:
            steps[rng.randrange(count)] = PAUSE
        return [(steps[k], int(end * (k + rng.uniform(0.15, 0.85)) / (count + 1))) for k in range(count)]

    # The broker's kills are driven by copier 0's steps; the main thread restarts it.
    broker_plan = kill_points(broker_kills)
    broker_lock = threading.Lock()
    broker_killed = []

    def maybe_kill_broker(copier, step, position):
        if copier.partition != 0:
            return
        with broker_lock:
            if broker_plan and step == broker_plan[0][0] and position >= broker_plan[0][1]:
                broker_plan.pop(0)
                srv.process.send_signal(signal.SIGKILL)
                broker_killed.append((step, position, time.monotonic()))

    broker_restarts = [0]

    def restart_broker():
        with broker_lock:
            if srv.process.poll() is None:
                return
            code = srv.process.wait()
            assert code == -signal.SIGKILL, f"broker exited with {code}:\n{srv.log_text()[-3000:]}"
            srv._reader.join(5)
            srv.start()
            broker_restarts[0] += 1

    plans = {p: kill_points(copier_kills) for p in range(INPUT_PARTITIONS)}
    print(f"  {tag}: seed {SEED}, copier kill points {plans}, broker kill points {broker_plan}", flush=True)

    reader = CommittedReader(srv, names["output"])
    reader.start()
    copiers = [Copier(srv, names, p, plans[p], maybe_kill_broker if broker_kills else None, command)
               for p in range(INPUT_PARTITIONS)]
    for c in copiers:
        c.start()
    try:
        wait_for_copiers(copiers, restart_killed=copier_kills > 0, deadline=started + RUN_TIMEOUT,
                         watch=restart_broker if broker_kills else None)
        copied = time.monotonic()
        assert [c.kills for c in copiers] == [copier_kills] * INPUT_PARTITIONS, \
            f"copier kills {[c.kills for c in copiers]}, planned {copier_kills} each"
        assert len(broker_killed) == broker_kills, f"broker killed at {broker_killed}, planned {broker_kills}"
        assert broker_restarts[0] == broker_kills, f"broker restarted {broker_restarts[0]} times"

        # Every transaction ended: the last stable offset reaches the high watermark.
        def stable():
            lso = offsets_of(srv, names["output"], "read_committed")
            hwm = offsets_of(srv, names["output"], "read_uncommitted")
            return (lso, hwm) if lso == hwm else None
        try:
            lso, hwm = h.wait_until(stable, 15, interval=0.1, what="LSO == high watermark")
        except AssertionError:
            raise AssertionError(f"a transaction never ended: the output's last stable offsets "
                                 f"{offsets_of(srv, names['output'], 'read_committed')} stay below its high "
                                 f"watermarks {offsets_of(srv, names['output'], 'read_uncommitted')}") from None

        committed = u.consume_to_end(srv, names["output"], OUTPUT_PARTITIONS, timeout=30,
                                     isolation_level="read_committed")
        everything = u.consume_to_end(srv, names["output"], OUTPUT_PARTITIONS, timeout=30,
                                      isolation_level="read_uncommitted")
        total = INPUT_PARTITIONS * end
        h.wait_until(lambda: reader.count() >= total or reader.fatal, 30, interval=0.05,
                     what=f"the concurrent read_committed consumer to read {total} records")
    finally:
        reader.stop.set()
        for c in copiers:
            if c.process.poll() is None:
                c.process.kill()
                c.process.wait()
    reader.join(10)
    assert reader.fatal is None, f"the concurrent consumer failed: {reader.fatal}"
    assert not reader.conflicts, f"the concurrent consumer read different records at one offset: {reader.conflicts[:3]}"

    # Exactly one committed copy of every input record.
    committed_at = {}
    copies = defaultdict(list)
    by_incarnation = Counter()
    for p, records in committed.items():
        for r in records:
            committed_at[(p, r.offset)] = r.value
            ip, ioff, incarnation, value = r.value.split(b":", 3)
            ip, ioff = int(ip), int(ioff)
            assert value == input_value(ip, ioff) and r.key == b"k-%d-%d" % (ip, ioff), f"bad copy {r}"
            assert p == ioff % OUTPUT_PARTITIONS, f"copy {r} in the wrong partition"
            copies[(ip, ioff)].append((p, r.offset, int(incarnation)))
            by_incarnation[(ip, int(incarnation))] += 1
    missing = [(p, o) for p in range(INPUT_PARTITIONS) for o in range(end) if (p, o) not in copies]
    duplicated = {k: v for k, v in copies.items() if len(v) > 1}
    assert not missing, f"{len(missing)} input records have no committed copy, e.g. {missing[:10]}"
    assert not duplicated, \
        f"{len(duplicated)} input records have more than one committed copy, e.g. {list(duplicated.items())[:5]}"
    assert len(committed_at) == total
    # In each output partition, one input partition's copies are in input order (each transaction
    # starts where the last committed one ended).
    for p, records in committed.items():
        last = {}
        for r in records:
            ip, ioff = (int(x) for x in r.value.split(b":", 2)[:2])
            assert ioff > last.get(ip, -1), \
                f"output partition {p}: the copy of {ip}@{ioff} at offset {r.offset} follows the copy of {ip}@{last[ip]}"
            last[ip] = ioff

    # The concurrent read_committed consumer only ever saw committed copies, and saw them all.
    not_committed = [(place, v) for place, v in reader.seen.items() if committed_at.get(place) != v]
    assert not not_committed, \
        f"the concurrent read_committed consumer saw {len(not_committed)} records that are not committed " \
        f"copies (aborted ones), e.g. {not_committed[:5]}"
    assert len(reader.seen) == total, f"the concurrent consumer read {len(reader.seen)} of {total} copies"

    # The log holds the aborted copies too, between the committed ones.
    aborted = Counter()  # by input partition
    for p, records in everything.items():
        for r in records:
            place = (p, r.offset)
            if place in committed_at:
                assert committed_at[place] == r.value, f"{place}: read_committed and read_uncommitted differ"
            else:
                aborted[int(r.value.split(b":", 1)[0])] += 1
    assert sum(len(v) for v in everything.values()) == total + sum(aborted.values())

    ends = group_offsets(srv, names["group"], names["input"])
    assert ends == [end] * INPUT_PARTITIONS, f"group offsets {ends}, input end offsets {[end] * INPUT_PARTITIONS}"

    incarnations = {p: [by_incarnation[(p, i)] for i in range(copiers[p].incarnation + 1)]
                    for p in range(INPUT_PARTITIONS)}
    # How long each broker kill held the copiers up: until each had committed again.
    stalls = [round(max([min([t for t in c.commit_times if t > killed_at], default=killed_at) for c in copiers])
                    - killed_at, 1)
              for _, _, killed_at in broker_killed]
    print(f"  {tag}: {total} records copied in {copied - started:.1f}s; copier kills "
          f"{[c.kills for c in copiers]}, broker kills {len(broker_killed)} at {[k[:2] for k in broker_killed]} "
          f"(copiers committing again after {stalls} s); "
          f"aborted copies in the log per input partition {dict(aborted)}; copies per incarnation {incarnations}; "
          f"output end offsets {hwm}; concurrent reader errors {dict(reader.errors)}", flush=True)
    return aborted


def copiers_killed(srv, tag, command=PYTHON_COPIER):
    aborted = run_copiers(srv, tag, random.Random(SEED), copier_kills=COPIER_KILLS, command=command)
    # Each copier was killed once with a transaction's copies in the log.
    assert all(aborted[p] > 0 for p in range(INPUT_PARTITIONS)), \
        f"aborted copies per input partition {dict(aborted)}: expected some of each after the kills"


def broker_killed(srv, tag, command=PYTHON_COPIER):
    run_copiers(srv, tag, random.Random(SEED + 1), broker_kills=BROKER_KILLS, command=command)


def test_copier_killed_repeatedly(srv):
    copiers_killed(srv, "copier-kills")


def test_broker_killed_repeatedly(srv):
    broker_killed(srv, "broker-kills")


def main(namespace):
    """Runs the test_* functions of `namespace` on one broker (see brook_harness.main)."""
    h.server_binary()
    print(f"seed {SEED} (BROOK_COPIER_SEED)", flush=True)
    # A fixed port, so that clients find the broker again after it restarts.
    with h.brook_server(extra_overrides={"listeners": f"PLAINTEXT://127.0.0.1:{free_port()}"}) as server:
        failed = h.run_tests(namespace, server, server=server)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(globals())
