"""Consumer groups (classic protocol) with real clients.

- two confluent-kafka consumers split a 6-partition topic; every record is read exactly once, in
  order per key; DescribeGroups/ListGroups (AdminClient) show the members, state and protocol;
- a third member (its own process) joins, commits some records and is killed with SIGKILL: after
  its session times out its partitions move to the others, which resume from its last commit;
- kafka-python and kcat -G commit and resume across consumer restarts and broker restarts.
"""

import os
import signal
import subprocess
import sys
import threading
import time

import brook_harness as h
import produce_consume_util as u

h.require_modules("confluent_kafka", "kafka")

SESSION_MS = 6000  # the broker's group.min.session.timeout.ms
TIMEOUT = 40.0
GROUP_CONF = {"session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "enable.partition.eof": False, "fetch.wait.max.ms": 100,
              "topic.metadata.refresh.interval.ms": 1000, **u.QUIET}

# The third member: joins, reads and commits (one by one) up to N records, reports each committed
# record, then stops fetching and waits to be killed.
THIRD_MEMBER = r"""
import sys
from confluent_kafka import Consumer
bootstrap, group, topic, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest", "enable.auto.commit": False,
              "fetch.wait.max.ms": 100, "client.id": "third", "log.connection.close": False})
def assigned(consumer, parts):
    print("ASSIGNED " + " ".join(str(p.partition) for p in parts), flush=True)
c.subscribe([topic], on_assign=assigned)
done = 0
while True:
    m = c.poll(0.2)
    if m is None or m.error() is not None or done >= limit:
        if done >= limit:
            c.pause(c.assignment())
        continue
    try:
        c.commit(message=m, asynchronous=False)
    except Exception as e:
        print("UNCOMMITTED %d %d %s" % (m.partition(), m.offset(), m.value().decode()), flush=True)
        continue
    done += 1
    print("COMMITTED %d %d %s" % (m.partition(), m.offset(), m.value().decode()), flush=True)
    if done == limit:
        print("READY", flush=True)
"""


class Member:
    """A confluent-kafka consumer in the group, polled by the shared poller thread."""

    def __init__(self, srv, group, topic, name):
        from confluent_kafka import Consumer
        self.name = name
        self.records = []  # (partition, offset, key, value) in the order read
        self.uncommitted = set()  # values whose commit failed (a rebalance overtook it): may be read again
        self.assignment = set()
        self.consumer = Consumer({"bootstrap.servers": srv.bootstrap, "group.id": group, "client.id": name,
                                  **GROUP_CONF})
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, consumer, parts):
        self.assignment = {p.partition for p in parts}

    def _on_revoke(self, consumer, parts):
        self.assignment = set()

    def poll_once(self):
        m = self.consumer.poll(0.05)
        if m is None:
            return
        if m.error() is not None:
            return
        self.records.append((m.partition(), m.offset(), m.key(), m.value()))
        try:
            self.consumer.commit(message=m, asynchronous=False)
        except Exception:
            self.uncommitted.add(m.value())


class Poller:
    """Polls members on a background thread until stopped (so heartbeats and rebalances go on)."""

    def __init__(self, members):
        self.members = members
        self.lock = threading.Lock()
        self.stop_flag = False
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stop_flag:
                with self.lock:
                    for m in self.members:
                        m.poll_once()
        except Exception as e:  # surfaced by stop()
            self.error = e

    def stop(self):
        self.stop_flag = True
        self.thread.join(20)
        if self.error:
            raise self.error


def records_for(batch, n, keys=12):
    return [{"key": f"key-{i % keys}".encode(), "value": f"{batch}:{i % keys}:{i}".encode()} for i in range(n)]


def check_key_order(records):
    last = {}
    for _, _, key, value in records:
        batch, _, seq = value.decode().split(":")
        seq = int(seq)
        assert last.get((batch, key), -1) < seq, f"key {key} out of order at {value}"
        last[(batch, key)] = seq


def test_two_members_split_then_member_killed(srv):
    from confluent_kafka.admin import AdminClient
    topic, group = h.unique_name("grp-topic"), h.unique_name("grp")
    u.create_topic(srv, topic, partitions=6)
    prod = u.producer(srv)
    u.assert_delivered(u.produce_all(prod, topic, records_for("b1", 600)))

    a, b = Member(srv, group, topic, "member-a"), Member(srv, group, topic, "member-b")
    poller = Poller([a, b])
    try:
        h.wait_until(lambda: len(a.records) + len(b.records) >= 600 and len(a.assignment) == 3
                     and len(b.assignment) == 3, TIMEOUT, what="two members reading 600 records")
        assert a.assignment.isdisjoint(b.assignment)
        together = a.records + b.records
        assert len(set(r[3] for r in together)) == 600, "a record was lost"
        twice = len(together) - 600
        assert twice <= len(a.uncommitted | b.uncommitted), f"{twice} records read twice"
        check_key_order(a.records)
        check_key_order(b.records)

        # What AdminClient sees of the Stable group.
        admin = AdminClient({"bootstrap.servers": srv.bootstrap, **u.QUIET})
        groups = {g.id: g for g in admin.list_groups(timeout=10)}
        assert group in groups, f"{group} not listed: {list(groups)}"
        info = admin.list_groups(group, timeout=10)[0]
        assert info.state == "Stable", info.state
        assert info.protocol_type == "consumer"
        assert info.protocol in ("range", "roundrobin", "cooperative-sticky"), info.protocol
        assert sorted(m.client_id for m in info.members) == ["member-a", "member-b"]
        assert all(m.client_host == "/127.0.0.1" and len(m.assignment) > 0 for m in info.members)

        # A third member joins in its own process.
        third = subprocess.Popen([sys.executable, "-c", THIRD_MEMBER, srv.bootstrap, group, topic, "30"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        reader = threading.Thread(target=lambda: [lines.append(l.strip()) for l in third.stdout], daemon=True)
        reader.start()
        try:
            h.wait_until(lambda: any(l.startswith("ASSIGNED") for l in lines), TIMEOUT, what="third member assigned")
            h.wait_until(lambda: len(a.assignment) + len(b.assignment) == 6 - len(
                [l for l in lines if l.startswith("ASSIGNED")][-1].split()[1:]) and a.assignment and b.assignment,
                TIMEOUT, what="survivors reassigned after the join")
            third_parts = {int(p) for p in [l for l in lines if l.startswith("ASSIGNED")][-1].split()[1:]}
            assert len(third_parts) == 2, f"third member got {third_parts}"
            u.assert_delivered(u.produce_all(prod, topic, records_for("b2", 600)))
            h.wait_until(lambda: "READY" in lines, TIMEOUT, what="third member committing 30 records")
            third.send_signal(signal.SIGKILL)
            third.wait(10)
            killed_at = time.monotonic()
        finally:
            if third.poll() is None:
                third.kill()
        reader.join(5)
        committed_by_third = {l.split()[3] for l in lines if l.startswith("COMMITTED")}
        assert len(committed_by_third) == 30

        def batch2(member):
            return [r for r in member.records if r[3].startswith(b"b2:")]

        # After the session timeout the survivors take over and read the rest exactly once.
        h.wait_until(lambda: len(batch2(a)) + len(batch2(b)) >= 570, TIMEOUT, what="survivors reading batch 2")
        took = time.monotonic() - killed_at
        assert len(a.assignment) + len(b.assignment) == 6
        time.sleep(0.5)  # nothing more may arrive
        survivors = [r[3].decode() for r in batch2(a) + batch2(b)]
        retried = {v.decode() for v in a.uncommitted | b.uncommitted} | {
            l.split()[3] for l in lines if l.startswith("UNCOMMITTED")}
        assert len(survivors) - len(set(survivors)) <= len(retried), "a record was read twice by the survivors"
        assert committed_by_third.isdisjoint(survivors), "records committed by the killed member were read again"
        assert set(survivors) | committed_by_third == {f"b2:{i % 12}:{i}" for i in range(600)}, "a record was lost"
        check_key_order(a.records)
        check_key_order(b.records)
        print(f"  partitions moved {took:.1f}s after SIGKILL", flush=True)
    finally:
        poller.stop()
        a.consumer.close()
        b.consumer.close()
    del prod


def kp_consume(bootstrap, group, topic, limit, timeout=TIMEOUT):
    """kafka-python: joins `group`, reads up to `limit` records (fewer if the topic runs dry), commits
    and closes. Returns the values read."""
    from kafka import KafkaConsumer
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                      auto_offset_reset="earliest", session_timeout_ms=SESSION_MS, heartbeat_interval_ms=500,
                      fetch_max_wait_ms=100, api_version_auto_timeout_ms=10000)
    values = []
    deadline = time.monotonic() + timeout
    idle_since = None
    try:
        while len(values) < limit and time.monotonic() < deadline:
            batch = c.poll(timeout_ms=200, max_records=limit - len(values))
            got = [r.value.decode() for recs in batch.values() for r in recs]
            values += got
            if got or not c.assignment():
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 2.0:
                break
        c.commit()
    finally:
        c.close()
    return values


def test_kafka_python_commits_resume_across_restarts(srv):
    topic, group = h.unique_name("kp-topic"), h.unique_name("kp-grp")
    u.create_topic(srv, topic, partitions=3)
    prod = u.producer(srv)
    u.assert_delivered(u.produce_all(prod, topic, [{"value": f"v{i}".encode()} for i in range(30)]))
    del prod
    first = kp_consume(srv.bootstrap, group, topic, 15)
    assert len(first) == 15
    second = kp_consume(srv.bootstrap, group, topic, 100)
    assert sorted(first + second, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(30)], (first, second)

    srv.restart()
    prod = u.producer(srv)
    u.assert_delivered(u.produce_all(prod, topic, [{"value": f"v{i}".encode()} for i in range(30, 40)]))
    del prod
    third = kp_consume(srv.bootstrap, group, topic, 100)
    assert sorted(third, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(30, 40)], third

    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=srv.bootstrap)
    try:
        listed = dict(admin.list_consumer_groups())
        assert listed.get(group) == "consumer", listed
        offsets = admin.list_consumer_group_offsets(group)
        assert sum(o.offset for o in offsets.values()) == 40, offsets
        described = admin.describe_consumer_groups([group])[0]
        assert described.state == "Empty", described
    finally:
        admin.close()


def kcat_group(srv, group, topic):
    r = u.kcat(srv, "-G", group, "-X", "session.timeout.ms=6000", "-X", "auto.offset.reset=earliest",
               "-X", "fetch.wait.max.ms=100", "-e", "-q", "-f", "%s\n", topic, timeout=40)
    return [line for line in r.stdout.decode().split("\n") if line]


def test_kcat_group_resumes_across_restarts(srv):
    topic, group = h.unique_name("kcat-topic"), h.unique_name("kcat-grp")
    u.create_topic(srv, topic, partitions=2)
    u.kcat(srv, "-P", "-t", topic, stdin="".join(f"m{i}\n" for i in range(20)).encode())
    assert sorted(kcat_group(srv, group, topic)) == sorted(f"m{i}" for i in range(20))
    u.kcat(srv, "-P", "-t", topic, stdin="".join(f"m{i}\n" for i in range(20, 25)).encode())
    assert sorted(kcat_group(srv, group, topic)) == sorted(f"m{i}" for i in range(20, 25))
    srv.restart()
    u.kcat(srv, "-P", "-t", topic, stdin="".join(f"m{i}\n" for i in range(25, 28)).encode())
    assert sorted(kcat_group(srv, group, topic)) == sorted(f"m{i}" for i in range(25, 28))


if __name__ == "__main__":
    h.main(globals(), overrides={"group.initial.rebalance.delay.ms": "0"}, modules=("confluent_kafka", "kafka"),
           programs=("kcat",))
