"""Offset commits of consumer-protocol members (KIP-848) whose epoch moved on, side by side: Kafka 4.4
keeps, for each partition a member holds, the epoch at which it got it (KIP-1251), and accepts an
OffsetCommit carrying an older member epoch for partitions held since then. The members are driven by
hand on raw sockets (kip848_wire.py) so that a commit can carry exactly the epoch the scenario needs."""

import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import kip848_wire as kw  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from conftest import assert_same, both, unique, wait_until  # noqa: E402

TIMEOUT = 15
NONE, STALE_MEMBER_EPOCH = 0, 113


def create_topic(cluster, topic, partitions):
    a = AdminClient({"bootstrap.servers": cluster.bootstrap})
    a.create_topics([NewTopic(topic, partitions, 1)])[topic].result(TIMEOUT)

    def known():
        t = a.list_topics(topic, timeout=TIMEOUT).topics.get(topic)
        return t is not None and t.error is None and len(t.partitions) == partitions
    wait_until(known, 30, f"topic {topic} in the metadata")


class Member:
    """One member as a client runs it, except that revocations are reported only when asked."""

    def __init__(self, cluster, group, topic):
        self.conn = kw.Connection(int(cluster.bootstrap.rsplit(":", 1)[1]), client_id="py-kip1251")
        self.group, self.topic = group, topic
        self.member_id = str(uuid.uuid4())
        self.epoch = 0
        self.assigned = {}  # topic id -> partitions, as last told
        self.owned = {}     # what it reports owning

    def beat(self, **kwargs):
        answer = kw.heartbeat(self.conn, self.group, self.member_id, self.epoch, **kwargs)
        assert answer["error"] == 0, answer
        self.epoch = answer["epoch"]
        if answer["assignment"] is not None:
            self.assigned = {t: set(p) for t, p in answer["assignment"].items() if p}
        return answer

    def join(self):
        return self.beat(topics=[self.topic], owned={}, rebalance_timeout_ms=30000)

    def partitions(self):
        return set().union(*self.assigned.values()) if self.assigned else set()

    def beat_until(self, predicate, what, owned=None):
        """Heartbeats (reporting `owned`, or what it was last told) until predicate(self) holds."""
        deadline = time.monotonic() + 30
        while not predicate(self):
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            self.beat(owned=self.assigned if owned is None else owned)
            time.sleep(0.05)

    def commit(self, epoch, partitions):
        return kw.offset_commit(self.conn, self.group, self.topic, self.member_id, epoch, partitions)


def scenario(cluster, topic, group):
    create_topic(cluster, topic, 2)
    a, b = Member(cluster, group, topic), Member(cluster, group, topic)
    try:
        a.join()
        a.beat_until(lambda m: m.partitions() == {0, 1}, "a to get both partitions")
        first_epoch = a.epoch
        everything = a.assigned
        b.join()
        # a keeps reporting both partitions: it is asked to revoke one and stays at its epoch.
        a.beat_until(lambda m: len(m.partitions()) == 1, "a to be asked to give one partition up", owned=everything)
        asked_epoch = a.epoch
        kept = a.partitions()
        (given_up,) = {0, 1} - kept
        a.beat_until(lambda m: m.epoch > first_epoch, "a to move to the new epoch")
        b.beat_until(lambda m: m.partitions() == {given_up}, "b to get the partition a gave up")
        return {
            "a stayed at its epoch while revoking": asked_epoch == first_epoch,
            "a's older epoch, the partition it kept": a.commit(first_epoch, kept),
            "a's older epoch, the partition it gave up": a.commit(first_epoch, {given_up}),
            "a's older epoch, both": a.commit(first_epoch, {0, 1}),
            "a's current epoch, both": a.commit(a.epoch, {0, 1}),
            "a's epoch + 1": a.commit(a.epoch + 1, kept),
            "b's epoch - 1, its partition": b.commit(b.epoch - 1, {given_up}),
            "b's current epoch": b.commit(b.epoch, {given_up}),
        }
    finally:
        for m in (a, b):
            try:
                kw.heartbeat(m.conn, group, m.member_id, -1)
            finally:
                m.conn.close()


def test_commit_with_an_older_member_epoch(clusters):
    name = unique("kip1251", "commits")
    results = both(clusters, scenario, name, name)
    k = results["kafka"]
    assert k["a's older epoch, the partition it kept"] == {p: NONE for p in k["a's older epoch, the partition it kept"]}
    assert set(k["a's older epoch, the partition it gave up"].values()) == {STALE_MEMBER_EPOCH}
    assert_same(results, "OffsetCommit errors by member epoch")
