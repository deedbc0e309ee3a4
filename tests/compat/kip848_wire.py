"""The consumer group protocol (KIP-848) on a raw socket, for tests that drive a group member by hand:
ConsumerGroupHeartbeat v1 and OffsetCommit v9, written from Kafka's protocol guide (flexible versions:
compact strings and arrays, tagged-field sections; a nullable struct is an int8 marker, -1 for null,
before its fields). Shared by the Brook-only KIP-848 test and the side-by-side commit scenario."""

import struct

import kafka_wire as w
from kafka_wire import TAGS, Reader, compact_array, compact_string


class Connection:
    """One socket to a broker; requests are answered in order."""

    def __init__(self, port, client_id="kip848-test"):
        self.sock = w.connect(port, timeout=10)  # 127.0.0.1
        self.client_id = client_id
        self.correlation = 0

    def close(self):
        self.sock.close()

    def request(self, api_key, version, body, flexible):
        self.correlation += 1
        header = (w.header_v2 if flexible else w.header_v1)(api_key, version, self.correlation, self.client_id)
        self.sock.sendall(w.frame(header + body))
        r = Reader(w.read_response(self.sock))
        assert r.int32() == self.correlation
        if flexible:
            r.skip_tagged_fields()  # response header v1
        return r


def heartbeat(conn, group, member_id, epoch, topics=None, owned=None, instance_id=None, rebalance_timeout_ms=-1,
              assignor=None, regex=None):
    """ConsumerGroupHeartbeat v1. `owned` is {topic_id: [partitions]} or None (unchanged). Returns the
    answer as a dict; "assignment" is {topic_id: set of partitions} or None (unchanged)."""
    def topic_partitions(item):
        topic_id, parts = item
        return topic_id + compact_array(sorted(parts), lambda p: struct.pack(">i", p)) + TAGS
    body = (compact_string(group) + compact_string(member_id) + struct.pack(">i", epoch) + compact_string(instance_id)
            + compact_string(None) + struct.pack(">i", rebalance_timeout_ms)
            + compact_array(topics, compact_string) + compact_string(regex) + compact_string(assignor)
            + compact_array(None if owned is None else sorted(owned.items()), topic_partitions) + TAGS)
    r = conn.request(68, 1, body, flexible=True)
    resp = {"throttle": r.int32(), "error": r.int16(), "message": r.compact_string(), "member_id": r.compact_string(),
            "epoch": r.int32(), "interval": r.int32(), "assignment": None}
    if r.int8() >= 0:
        def tp(rd):
            topic_id = rd.uuid()
            parts = rd.compact_array(lambda x: x.int32())
            rd.skip_tagged_fields()
            return topic_id, parts
        resp["assignment"] = {t: set(p) for t, p in r.compact_array(tp)}
        r.skip_tagged_fields()
    r.skip_tagged_fields()
    return resp


def offset_commit(conn, group, topic, member_id, epoch, partitions, offset=1):
    """OffsetCommit v9 of one topic (by name): the generation field carries the member epoch.
    Returns {partition: error code}."""
    def part(p):
        return struct.pack(">iqi", p, offset, -1) + compact_string(None) + TAGS
    topic_entry = compact_string(topic) + compact_array(sorted(partitions), part) + TAGS
    body = (compact_string(group) + struct.pack(">i", epoch) + compact_string(member_id) + compact_string(None)
            + compact_array([topic_entry], lambda t: t) + TAGS)
    r = conn.request(8, 9, body, flexible=True)
    r.int32()
    errors = {}

    def topic_result(rd):
        rd.compact_string()

        def p(x):
            partition = x.int32()
            errors[partition] = x.int16()
            x.skip_tagged_fields()
        rd.compact_array(p)
        rd.skip_tagged_fields()
    r.compact_array(topic_result)
    r.skip_tagged_fields()
    return errors
