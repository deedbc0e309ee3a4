"""The walk-through Brook grew from, with kafka-demo (Brook's own client) against brook-server:
a 3-partition topic, two consumers of one group sharing its partitions (each message read once), the
producer's five keyed messages (the same key on the same partition, in order, on the partition the Java
client's murmur2 partitioner picks), a second group that gets all five, a member restarted after more
messages were sent that resumes from its committed offsets, and the messages still there after the broker
restarts. What kafka-demo wrote, kcat reads back identically."""

import os
import signal
import subprocess
import threading
import time

import brook_harness as h
import produce_consume_util as u

DEMO_MESSAGES = [
    ("user-1", "Hello from Kafka Producer!"),
    ("user-2", "This is message number 2"),
    ("user-3", "Learning Kafka topics"),
    ("user-1", "Another message for user-1"),
    ("user-4", "Final test message"),
]
TIMEOUT = 60.0


def demo_binary():
    path = os.environ.get("BROOK_DEMO")
    if not path or not os.path.exists(path):
        h.skip("BROOK_DEMO does not name the kafka-demo program")
    return path


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2 (the Java client's key partitioner), as a signed 32-bit int."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h32 = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h32 = (h32 * m) & 0xFFFFFFFF
        h32 ^= k
    rest = length % 4
    tail = length - rest
    if rest == 3:
        h32 ^= data[tail + 2] << 16
    if rest >= 2:
        h32 ^= data[tail + 1] << 8
    if rest >= 1:
        h32 ^= data[tail]
        h32 = (h32 * m) & 0xFFFFFFFF
    h32 ^= h32 >> 13
    h32 = (h32 * m) & 0xFFFFFFFF
    h32 ^= h32 >> 15
    return h32 - (1 << 32) if h32 & 0x80000000 else h32


def java_partition(key: str, partitions: int) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class DemoConsumer:
    """A `kafka-demo -mode consumer` process whose output lines are collected as they come."""

    def __init__(self, srv, topic, group, count=None):
        args = [demo_binary(), "-mode", "consumer", "-topic", topic, "-group", group, "-brokers", srv.bootstrap]
        if count is not None:
            args += ["-count", str(count)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                assert left > 0, f"kafka-demo consumer: no {what} within {TIMEOUT}s; output:\n" + "\n".join(self.lines)
                self.cond.wait(min(left, 0.5))

    def sessions(self):
        with self.cond:
            return sum(1 for line in self.lines if line == "Consumer group session setup")

    def messages(self):
        """(partition, offset, key, value) of each [Message #N] line, in order."""
        out = []
        with self.cond:
            for line in self.lines:
                if line.startswith("[Message #"):
                    fields = dict(part.split(": ", 1) for part in line.split("] ", 1)[1].split(", ", 4))
                    out.append((int(fields["Partition"]), int(fields["Offset"]), fields["Key"], fields["Value"]))
        return out

    def interrupt(self):
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(TIMEOUT)
        self.reader.join(5)
        assert code == 0, f"kafka-demo consumer exited {code} after SIGINT:\n" + "\n".join(self.lines)

    def wait_exit(self):
        code = self.process.wait(TIMEOUT)
        self.reader.join(5)
        assert code == 0, f"kafka-demo consumer exited {code}:\n" + "\n".join(self.lines)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_producer(srv, topic):
    r = subprocess.run([demo_binary(), "-mode", "producer", "-topic", topic, "-brokers", srv.bootstrap],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, f"kafka-demo producer exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    lines = r.stdout.splitlines()
    assert lines[0] == "=== Starting Kafka Producer Demo ===", lines
    sent = []
    for line in lines[1:]:
        assert line.startswith("Message sent successfully! "), line
        fields = dict(part.split(": ", 1) for part in line[len("Message sent successfully! "):].split(", "))
        assert fields["Topic"] == topic, line
        sent.append((int(fields["Partition"]), int(fields["Offset"]), fields["Key"]))
    assert [k for _, _, k in sent] == [k for k, _ in DEMO_MESSAGES], sent
    return sent


def test_the_walkthrough(srv):
    topic = u.create_topic(srv, h.unique_name("test-topic"), 3)
    group = h.unique_name("my-group")
    first = DemoConsumer(srv, topic, group)
    second = None
    try:
        # The first member is given every partition alone; the second one's arrival rebalances the group,
        # which hands the first its new share (a second session).
        first.wait_for(lambda lines: lines[:1] == ["=== Starting Kafka Consumer Demo ==="], "banner")
        first.wait_for(lambda lines: "Consumer group session setup" in lines, "session setup")
        second = DemoConsumer(srv, topic, group)
        second.wait_for(lambda lines: lines[:1] == ["=== Starting Kafka Consumer Demo ==="], "banner")
        second.wait_for(lambda lines: "Consumer group session setup" in lines, "session setup")
        first.wait_for(lambda lines: lines.count("Consumer group session setup") >= 2, "second session setup")

        sent = run_producer(srv, topic)
        # The same key on the same partition, in order; each key where the Java client puts it.
        for partition, offset, key in sent:
            assert partition == java_partition(key, 3), f"{key} went to {partition}, Java picks {java_partition(key, 3)}"
        user1 = [(p, o) for p, o, k in sent if k == "user-1"]
        assert user1[0][0] == user1[1][0] and user1[0][1] < user1[1][1], user1

        # The two members share the partitions: together they print each message exactly once.
        expected = {(p, o, k, v) for (p, o, k), (_, v) in zip(sent, DEMO_MESSAGES)}
        deadline = time.monotonic() + TIMEOUT
        while len(first.messages()) + len(second.messages()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        got = first.messages() + second.messages()
        assert sorted(got) == sorted(expected), f"group read {got}, expected each of {expected} once"
        partitions_of = [{p for p, _, _, _ in c.messages()} for c in (first, second)]
        assert not (partitions_of[0] & partitions_of[1]), f"both members read a partition: {partitions_of}"

        # A second group gets everything.
        other = DemoConsumer(srv, topic, h.unique_name("group-2"), count=5)
        other.wait_exit()
        assert sorted(other.messages()) == sorted(expected), other.messages()

        # Both members stop; five more messages; a member of the group resumes from the committed offsets.
        first.interrupt()
        second.interrupt()
        more = run_producer(srv, topic)
        resumed = DemoConsumer(srv, topic, group, count=5)
        resumed.wait_exit()
        expected_more = {(p, o, k, v) for (p, o, k), (_, v) in zip(more, DEMO_MESSAGES)}
        assert sorted(resumed.messages()) == sorted(expected_more), \
            f"resumed member read {resumed.messages()}, expected only the new {expected_more}"

        # Durability: after a broker restart a new group reads all ten.
        srv.restart()
        after = DemoConsumer(srv, topic, h.unique_name("group-3"), count=10)
        after.wait_exit()
        assert sorted(after.messages()) == sorted(expected | expected_more), after.messages()

        # kcat reads what kafka-demo wrote identically: keys, values, partitions, offsets.
        kcat_seen = {(m["partition"], m["offset"], m["key"], m["payload"])
                     for m in u.kcat_consume_json(srv, topic, "-o", "beginning")}
        assert kcat_seen == expected | expected_more, kcat_seen
    finally:
        for c in (first, second):
            if c is not None:
                c.kill()


def test_bad_usage_exits_2(srv):
    r = subprocess.run([demo_binary(), "-mode", "sideways"], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "mode" in (r.stdout + r.stderr), r.stderr


if __name__ == "__main__":
    h.main(globals(), overrides={"group.initial.rebalance.delay.ms": "0"}, programs=("kcat",),
           modules=("confluent_kafka",))
