"""KIP-848 consumer groups (group.protocol=consumer) against a real broker.

No Debian-packaged client speaks the consumer group protocol yet, so this script carries its own
small encoder and decoder for the frames it needs (ApiVersions v0, ConsumerGroupDescribe v0, ListGroups v5
here; ConsumerGroupHeartbeat v1 and OffsetCommit v9 in kip848_wire.py), written from Kafka's protocol guide: flexible versions use
compact strings and arrays (unsigned varint length + 1, 0 for null), tagged-field sections, and a
nullable struct is an int8 marker (-1 null, 1 present) before its fields.

The tests run in order on one broker and share one group. Every wait polls with real heartbeats
until the protocol reaches the expected state, within a deadline.
"""

import time
import uuid

import brook_harness as h
import kafka_wire as w
import kip848_wire
from kafka_wire import TAGS, compact_array, compact_string
import produce_consume_util as u

TOPIC = "kip848-orders"
GROUP = "kip848-group"
HEARTBEAT_MS = 200
DEADLINE = 20.0


# --- connection ---------------------------------------------------------------------------------

def Connection(port):
    return kip848_wire.Connection(port, client_id="kip848-test")


# --- the APIs ----------------------------------------------------------------------------------

def api_versions(conn):
    r = conn.request(18, 0, b"", flexible=False)  # v0: the response header is never flexible
    error = r.int16()
    ranges = {}
    for _ in range(r.int32()):
        key, lo, hi = r.int16(), r.int16(), r.int16()
        ranges[key] = (lo, hi)
    return error, ranges


def heartbeat(conn, member_id, epoch, topics=None, owned=None, instance_id=None, rebalance_timeout_ms=-1,
              assignor=None, regex=None, group=GROUP):
    """ConsumerGroupHeartbeat v1 (kip848_wire.heartbeat) to GROUP unless told otherwise."""
    return kip848_wire.heartbeat(conn, group, member_id, epoch, topics=topics, owned=owned, instance_id=instance_id,
                                 rebalance_timeout_ms=rebalance_timeout_ms, assignor=assignor, regex=regex)


def describe(conn, *groups):
    """ConsumerGroupDescribe v0."""
    body = compact_array(list(groups), compact_string) + b"\x00" + TAGS
    r = conn.request(69, 0, body, flexible=True)
    r.int32()

    def assignment(rd):
        def tp(x):
            out = (x.uuid(), x.compact_string(), x.compact_array(lambda y: y.int32()))
            x.skip_tagged_fields()
            return out
        parts = rd.compact_array(tp)
        rd.skip_tagged_fields()
        return {name: set(p) for _, name, p in parts}

    def member(rd):
        m = {"member_id": rd.compact_string(), "instance_id": rd.compact_string(), "rack_id": rd.compact_string(),
             "epoch": rd.int32(), "client_id": rd.compact_string(), "client_host": rd.compact_string(),
             "topics": rd.compact_array(lambda x: x.compact_string()), "regex": rd.compact_string(),
             "assignment": assignment(rd), "target": assignment(rd)}
        rd.skip_tagged_fields()
        return m

    def group(rd):
        g = {"error": rd.int16(), "message": rd.compact_string(), "group_id": rd.compact_string(),
             "state": rd.compact_string(), "group_epoch": rd.int32(), "assignment_epoch": rd.int32(),
             "assignor": rd.compact_string(), "members": rd.compact_array(member), "ops": rd.int32()}
        rd.skip_tagged_fields()
        return g

    groups_out = r.compact_array(group)
    r.skip_tagged_fields()
    return groups_out


def list_groups(conn, types):
    """ListGroups v5 with a types filter."""
    body = compact_array([], compact_string) + compact_array(types, compact_string) + TAGS
    r = conn.request(16, 5, body, flexible=True)
    r.int32()
    error = r.int16()

    def listed(rd):
        g = {"group_id": rd.compact_string(), "protocol_type": rd.compact_string(), "state": rd.compact_string(),
             "type": rd.compact_string()}
        rd.skip_tagged_fields()
        return g
    groups = r.compact_array(listed)
    r.skip_tagged_fields()
    return error, groups


def offset_commit(conn, member_id, epoch, partitions, offset=1):
    """OffsetCommit v9 of TOPIC in GROUP (kip848_wire.offset_commit). Returns {partition: error}."""
    return kip848_wire.offset_commit(conn, GROUP, TOPIC, member_id, epoch, partitions, offset)


# --- a member as a KIP-848 client runs it -------------------------------------------------------

class Member:
    def __init__(self, conn):
        self.conn = conn
        self.member_id = str(uuid.uuid4())  # v1: the client names itself
        self.epoch = 0
        self.owned = {}  # topic id -> set of partitions

    def total(self):
        return sum(len(p) for p in self.owned.values())

    def join(self):
        resp = heartbeat(self.conn, self.member_id, 0, topics=[TOPIC], owned={}, rebalance_timeout_ms=10000)
        return self._apply(resp)

    def beat(self, send_owned=True):
        resp = heartbeat(self.conn, self.member_id, self.epoch,
                         owned={t: p for t, p in self.owned.items()} if send_owned else None)
        return self._apply(resp)

    def _apply(self, resp):
        assert resp["error"] == 0, f"heartbeat error {resp['error']}: {resp['message']}"
        self.epoch = resp["epoch"]
        if resp["assignment"] is not None:
            # Revocations and additions both take effect at once in this test client.
            self.owned = {t: set(p) for t, p in resp["assignment"].items() if p}
        return resp

    def beat_until(self, predicate, what):
        deadline = time.monotonic() + DEADLINE
        while True:
            resp = self.beat()
            if predicate(resp):
                return resp
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(resp["interval"] / 1000.0)


state = {}


def connect(srv):
    if "conn" in state:
        state["conn"].close()
    state["conn"] = Connection(srv.port)
    return state["conn"]


# --- tests (in order) ----------------------------------------------------------------------------

def test_api_versions_advertise_consumer_group_apis(srv):
    error, ranges = api_versions(connect(srv))
    assert error == 0
    assert ranges.get(68) == (0, 1), ranges.get(68)
    assert ranges.get(69, (None, None))[0] == 0, ranges.get(69)


def test_heartbeat_to_an_unknown_group(srv):
    # As Kafka: GROUP_ID_NOT_FOUND (69) for a heartbeat or a leave naming a group that does not exist.
    member = str(uuid.uuid4())
    resp = heartbeat(state["conn"], member, 3, owned={}, group="kip848-no-such-group")
    assert resp["error"] == 69, resp
    resp = heartbeat(state["conn"], member, -1, group="kip848-no-such-group")
    assert resp["error"] == 69, resp


def test_first_member_gets_every_partition(srv):
    u.create_topic(srv, TOPIC, 6)
    a = Member(state["conn"])
    resp = a.join()
    assert resp["member_id"] == a.member_id
    assert resp["interval"] == HEARTBEAT_MS
    assert a.epoch >= 1
    assert a.total() == 6, a.owned
    state["a"] = a


def test_second_member_waits_for_the_revocation(srv):
    a = state["a"]
    b = Member(state["conn"])
    epoch_a = a.epoch
    resp = b.join()
    assert resp["assignment"] is not None and b.total() == 0, f"b got partitions a still owns: {b.owned}"
    assert b.epoch > epoch_a
    # a is asked to give up three partitions and stays at its epoch until it acknowledges.
    before = {t: set(p) for t, p in a.owned.items()}
    resp = heartbeat(a.conn, a.member_id, a.epoch, owned=before)
    assert resp["error"] == 0
    assert resp["epoch"] == epoch_a
    assert resp["assignment"] is not None
    kept = {t: set(p) for t, p in resp["assignment"].items() if p}
    assert sum(len(p) for p in kept.values()) == 3, kept
    revoked = {t: before[t] - kept.get(t, set()) for t in before}
    # b still gets none of them while a has not acknowledged.
    resp = b.beat()
    assert b.total() == 0, b.owned
    # a acknowledges by reporting the reduced set; it moves to the new epoch.
    a.owned = kept
    resp = a.beat()
    assert a.epoch == b.epoch, (a.epoch, b.epoch)
    # now b receives exactly what a gave up.
    b.beat_until(lambda r: b.total() == 3, "b to receive the revoked partitions")
    assert {t: p for t, p in b.owned.items()} == {t: p for t, p in revoked.items() if p}
    state["b"] = b


def test_describe_shows_both_members(srv):
    a, b = state["a"], state["b"]
    (g,) = describe(state["conn"], GROUP)
    assert g["error"] == 0, g["message"]
    assert g["state"] == "Stable", g["state"]
    assert g["group_epoch"] == a.epoch == g["assignment_epoch"]
    assert g["assignor"] == "uniform"
    members = {m["member_id"]: m for m in g["members"]}
    assert set(members) == {a.member_id, b.member_id}
    for m in (a, b):
        d = members[m.member_id]
        assert d["epoch"] == m.epoch
        assert d["topics"] == [TOPIC]
        assert len(d["assignment"][TOPIC]) == 3
        assert d["assignment"] == d["target"]
    assert members[a.member_id]["assignment"][TOPIC] | members[b.member_id]["assignment"][TOPIC] == set(range(6))
    # A group that does not exist.
    (missing,) = describe(state["conn"], "no-such-group")
    assert missing["error"] == 69, missing


def test_offset_commit_checks_the_member_epoch(srv):
    a = state["a"]
    parts = next(iter(a.owned.values()))
    assert set(offset_commit(state["conn"], a.member_id, a.epoch, parts).values()) == {0}
    # An older epoch commits the partitions a has held since then (KIP-1251), not others.
    held_since = offset_commit(state["conn"], a.member_id, a.epoch - 1, parts)
    assert set(held_since.values()) == {0}, held_since
    stale = offset_commit(state["conn"], a.member_id, a.epoch - 1, set(range(6)))
    assert set(stale.values()) == {113}, stale  # STALE_MEMBER_EPOCH
    newer = offset_commit(state["conn"], a.member_id, a.epoch + 1, parts)
    assert set(newer.values()) == {113}, newer
    unknown = offset_commit(state["conn"], "not-a-member", a.epoch, parts)
    assert set(unknown.values()) == {25}, unknown  # UNKNOWN_MEMBER_ID


def test_list_groups_reports_the_consumer_type(srv):
    error, groups = list_groups(state["conn"], ["consumer"])
    assert error == 0
    mine = [g for g in groups if g["group_id"] == GROUP]
    assert mine == [{"group_id": GROUP, "protocol_type": "consumer", "state": "Stable", "type": "consumer"}], groups
    error, groups = list_groups(state["conn"], ["classic"])
    assert all(g["group_id"] != GROUP for g in groups)


def test_classic_join_is_refused(srv):
    from kafka import KafkaConsumer
    from kafka.errors import InconsistentGroupProtocolError
    consumer = KafkaConsumer(TOPIC, bootstrap_servers=srv.bootstrap, group_id=GROUP, api_version=(2, 5),
                             consumer_timeout_ms=2000)
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                consumer.poll(timeout_ms=500)
            except InconsistentGroupProtocolError:
                break
            assert time.monotonic() < deadline, "JoinGroup into a consumer-protocol group was not refused"
            # Keep the KIP-848 members alive meanwhile.
            state["a"].beat()
            state["b"].beat()
    finally:
        consumer.close(autocommit=False)


def test_leave_returns_partitions(srv):
    a, b = state["a"], state["b"]
    resp = heartbeat(b.conn, b.member_id, -1)
    assert resp["error"] == 0 and resp["epoch"] == -1, resp
    a.beat_until(lambda r: a.total() == 6, "a to get every partition back")
    (g,) = describe(state["conn"], GROUP)
    assert [m["member_id"] for m in g["members"]] == [a.member_id]


def test_restart_keeps_the_group(srv):
    a = state["a"]
    epoch = a.epoch
    owned = {t: set(p) for t, p in a.owned.items()}
    srv.restart()
    a.conn = connect(srv)
    resp = heartbeat(a.conn, a.member_id, epoch, owned=owned)
    assert resp["error"] == 0, resp
    assert resp["epoch"] == epoch
    assert resp["assignment"] is None  # nothing changed: no rejoin
    (g,) = describe(a.conn, GROUP)
    assert g["state"] == "Stable"
    assert len(g["members"]) == 1 and g["members"][0]["member_id"] == a.member_id
    assert g["members"][0]["assignment"][TOPIC] == set(range(6))
    resp = heartbeat(a.conn, a.member_id, -1)
    assert resp["error"] == 0


if __name__ == "__main__":
    h.main(globals(), modules=["kafka"], overrides={
        "group.consumer.heartbeat.interval.ms": str(HEARTBEAT_MS),
        "group.consumer.min.heartbeat.interval.ms": "100",
        "group.consumer.session.timeout.ms": "15000",
        "group.consumer.min.session.timeout.ms": "1000",
        # Each step's target assignment at once: these tests follow one change at a time (Kafka's
        # batching of changes within the interval has unit tests of its own).
        "group.consumer.assignment.interval.ms": "0",
    })
