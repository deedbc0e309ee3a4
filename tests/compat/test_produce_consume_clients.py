"""Produce and consume through confluent-kafka-python (librdkafka) and kafka-python, with assign()-ed
consumers: delivery reports against consumed records, headers and timestamps, LogAppendTime, offset
queries (earliest, latest, by time), DeleteRecords and the produce errors a one-node Kafka returns."""

import os
import time

import brook_harness as h
import produce_consume_util as u

h.require_modules("confluent_kafka", "kafka")

from confluent_kafka import (TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, KafkaError,  # noqa: E402
                             TopicPartition)
import kafka  # noqa: E402
from kafka.client_async import KafkaClient  # noqa: E402
from kafka.protocol.api import Request, Response  # noqa: E402
from kafka.protocol.produce import ProduceRequest  # noqa: E402
from kafka.protocol.types import Array, Int16, Int32, Int64, Schema, String  # noqa: E402
from kafka.record.memory_records import MemoryRecordsBuilder  # noqa: E402
from kafka.structs import OffsetAndTimestamp  # noqa: E402

KP_TOPIC_PARTITION = kafka.TopicPartition


# --- kafka-python plumbing -----------------------------------------------------------------------

# Neither confluent-kafka 1.7 nor kafka-python 2.0.2 has a DeleteRecords call, so the request is
# declared with kafka-python's own wire types (DeleteRecords, API key 21, version 0).
class DeleteRecordsResponse_v0(Response):
    API_KEY = 21
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("topics", Array(
            ("name", String("utf-8")),
            ("partitions", Array(
                ("partition_index", Int32),
                ("low_watermark", Int64),
                ("error_code", Int16))))))


class DeleteRecordsRequest_v0(Request):
    API_KEY = 21
    API_VERSION = 0
    RESPONSE_TYPE = DeleteRecordsResponse_v0
    SCHEMA = Schema(
        ("topics", Array(
            ("name", String("utf-8")),
            ("partitions", Array(
                ("partition_index", Int32),
                ("offset", Int64))))),
        ("timeout_ms", Int32))


def raw_request(srv, request, timeout=10.0):
    """Sends one request with kafka-python's network client to the broker; returns the response."""
    client = KafkaClient(bootstrap_servers=srv.bootstrap, client_id="brook-compat-raw")
    try:
        update = client.cluster.request_update()
        client.poll(future=update, timeout_ms=timeout * 1000)
        brokers = list(client.cluster.brokers())
        assert brokers, "kafka-python got no brokers from Metadata"
        node = brokers[0].nodeId
        deadline = time.monotonic() + timeout
        while not client.ready(node):  # ready() starts the connection; poll() advances it
            assert time.monotonic() < deadline, "kafka-python could not connect to the broker"
            client.poll(timeout_ms=50)
        future = client.send(node, request)
        client.poll(future=future, timeout_ms=timeout * 1000)
        assert future.succeeded(), f"{type(request).__name__} failed: {future.exception!r}"
        return future.value
    finally:
        client.close()


def kp_producer(srv, **conf):
    return kafka.KafkaProducer(bootstrap_servers=srv.bootstrap, acks="all", linger_ms=5, **conf)


def kp_consumer(srv, **conf):
    return kafka.KafkaConsumer(bootstrap_servers=srv.bootstrap, group_id=None, enable_auto_commit=False,
                               request_timeout_ms=15000, **conf)


def kp_read(consumer, count, timeout=u.TIMEOUT):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        assert time.monotonic() < deadline, f"kafka-python read {len(got)} of {count} records"
        for records in consumer.poll(timeout_ms=200).values():
            got.extend(records)
    return got


# --- confluent-kafka -----------------------------------------------------------------------------

def test_confluent_10000_acks_all_reports_match_consumed(srv):
    topic = u.create_topic(srv, h.unique_name("cf-bulk"), 3)
    records = []
    for i in range(10_000):
        key = None if i % 101 == 0 else f"key-{i % 37}".encode()
        value = None if i % 997 == 0 else f"value-{i}-".encode() + os.urandom(i % 64)
        records.append({"key": key, "value": value})
    prod = u.producer(srv, linger_ms=5)
    reports = u.produce_all(prod, topic, records)
    u.assert_delivered(reports)
    consumed = u.consume_to_end(srv, topic, 3)
    assert sum(len(v) for v in consumed.values()) == 10_000, \
        f"consumed {[len(v) for v in consumed.values()]} records, expected 10000 in all"
    by_place = {}
    for p, recs in consumed.items():
        assert [r.offset for r in recs] == list(range(len(recs))), f"partition {p}: offsets not dense from 0"
        assert u.watermarks(srv, topic, p) == (0, len(recs)), f"partition {p} watermarks"
        for r in recs:
            by_place[(p, r.offset)] = r
    seen = set()
    for i, (rec, rep) in enumerate(zip(records, reports)):
        place = (rep.partition, rep.offset)
        assert place not in seen, f"two delivery reports name {place}"
        seen.add(place)
        got = by_place.get(place)
        assert got is not None, f"record {i} reported at {place} but not consumed there"
        assert (got.key, got.value) == (rec["key"], rec["value"]), \
            f"record {i} at {place}: consumed {got.key!r}/{got.value!r}, produced {rec['key']!r}/{rec['value']!r}"
    # Same key, same partition, produce order.
    partitions_of_key = {}
    for rep, rec in zip(reports, records):
        if rec["key"] is not None:
            partitions_of_key.setdefault(rec["key"], set()).add(rep.partition)
    assert all(len(ps) == 1 for ps in partitions_of_key.values()), "a key was spread over partitions"
    del prod


def test_confluent_headers_and_timestamps_identical(srv):
    topic = u.create_topic(srv, h.unique_name("cf-headers"), 2)
    t0 = int(time.time() * 1000) - 3_600_000
    records = []
    for i in range(300):
        headers = [("trace", f"t-{i}".encode()), ("bin", bytes(range(i % 7, i % 7 + 20))), ("dup", b"1"),
                   ("dup", b"2"), ("empty", b"")]
        if i % 3 == 0:
            headers.append(("null", None))
        if i % 10 == 0:
            headers = []
        records.append({"key": f"k{i % 5}".encode(), "value": f"v{i}".encode(), "headers": headers,
                        "timestamp": t0 + 7 * i})
    prod = u.producer(srv, linger_ms=5)
    reports = u.produce_all(prod, topic, records)
    u.assert_delivered(reports)
    consumed = u.consume_to_end(srv, topic, 2)
    by_place = {(p, r.offset): r for p, rs in consumed.items() for r in rs}
    assert len(by_place) == 300, f"consumed {len(by_place)} of 300"
    for i, (rec, rep) in enumerate(zip(records, reports)):
        got = by_place[(rep.partition, rep.offset)]
        want_headers = rec["headers"] or None  # librdkafka reports "no headers" as None
        assert got.headers == want_headers, f"record {i}: headers {got.headers}, produced {want_headers}"
        assert got.timestamp == (TIMESTAMP_CREATE_TIME, rec["timestamp"]), \
            f"record {i}: timestamp {got.timestamp}, produced (CreateTime, {rec['timestamp']})"
        assert (got.key, got.value) == (rec["key"], rec["value"]), f"record {i}: {got}"
        assert rep.timestamp == (TIMESTAMP_CREATE_TIME, rec["timestamp"]), f"delivery report {i}: {rep.timestamp}"
    del prod


def test_confluent_log_append_time_topic(srv):
    topic = u.create_topic(srv, h.unique_name("cf-logappend"), 1, {"message.timestamp.type": "LogAppendTime"})
    old = int(time.time() * 1000) - 86_400_000
    before = int(time.time() * 1000)
    prod = u.producer(srv, linger_ms=5)
    reports = u.produce_all(prod, topic, [{"value": f"a{i}".encode(), "timestamp": old + i} for i in range(50)])
    after = int(time.time() * 1000)
    u.assert_delivered(reports)
    recs = u.consume_to_end(srv, topic, 1)[0]
    assert len(recs) == 50, f"consumed {len(recs)} of 50"
    for r, rep in zip(recs, reports):
        ts_type, ts = r.timestamp
        assert ts_type == TIMESTAMP_LOG_APPEND_TIME, \
            f"offset {r.offset}: timestamp type {ts_type}, expected LogAppendTime ({TIMESTAMP_LOG_APPEND_TIME})"
        assert before - 1000 <= ts <= after + 1000, f"offset {r.offset}: timestamp {ts} is not broker time " \
                                                    f"[{before}, {after}] (producer's was {old + r.offset})"
        # Kafka returns the append time in the Produce response and librdkafka puts it in the report.
        assert rep.timestamp == r.timestamp, \
            f"offset {r.offset}: delivery report timestamp {rep.timestamp}, consumed {r.timestamp}"
    del prod


def test_confluent_offsets_for_times_and_watermarks(srv):
    topic = u.create_topic(srv, h.unique_name("cf-times"), 1)
    t0 = int(time.time() * 1000) - 600_000
    prod = u.producer(srv)
    u.assert_delivered(u.produce_all(prod, topic, [{"value": b"x", "timestamp": t0 + 1000 * i} for i in range(10)]))
    c = u.consumer(srv)
    try:
        def lookup(ts):
            res = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=u.TIMEOUT)
            assert res[0].error is None, res
            return res[0].offset
        assert lookup(t0 + 1500) == 2
        assert lookup(t0 + 2000) == 2
        assert lookup(t0 - 1) == 0
        assert lookup(t0 + 9000) == 9
        assert lookup(t0 + 9001) == -1, "no record at or after the time: Kafka answers offset -1"
        assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=u.TIMEOUT) == (0, 10)
    finally:
        c.close()
    del prod


def test_confluent_message_too_large(srv):
    topic = u.create_topic(srv, h.unique_name("cf-big"), 1, {"max.message.bytes": "2000"})
    prod = u.producer(srv, linger_ms=0)
    reports = u.produce_all(prod, topic, [{"value": os.urandom(10_000)}])
    assert reports[0].error is not None, "10000-byte batch accepted by a topic with max.message.bytes=2000"
    assert reports[0].error.code() == KafkaError.MSG_SIZE_TOO_LARGE, \
        f"expected MSG_SIZE_TOO_LARGE (10), got {reports[0].error.code()} {reports[0].error}"
    ok = u.produce_all(prod, topic, [{"value": os.urandom(500)}])
    u.assert_delivered(ok)
    assert ok[0].offset == 0, f"the rejected batch must not take an offset: small record at {ok[0].offset}"
    del prod


def test_confluent_produce_to_missing_partition(srv):
    topic = u.create_topic(srv, h.unique_name("cf-nopart"), 2)
    prod = u.producer(srv, message_timeout_ms=5000)
    reports = u.produce_all(prod, topic, [{"value": b"nowhere", "partition": 7}])
    assert reports[0].error is not None and reports[0].error.code() == KafkaError._UNKNOWN_PARTITION, \
        f"expected _UNKNOWN_PARTITION, got {reports[0].error}"
    del prod


def test_raw_produce_to_missing_partition_is_unknown_topic_or_partition(srv):
    # Clients check partitions against metadata first; this asks the broker directly.
    topic = u.create_topic(srv, h.unique_name("raw-nopart"), 2)
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    builder.append(timestamp=int(time.time() * 1000), key=b"k", value=b"v", headers=[])
    builder.close()
    batch = builder.buffer()
    req = ProduceRequest[3](transactional_id=None, required_acks=-1, timeout=5000,
                            topics=[(topic, [(7, batch), (1, batch)])])
    resp = raw_request(srv, req)
    parts = {p[0]: p for t in resp.topics for p in t[1]}
    assert parts[7][1] == 3, f"partition 7 of a 2-partition topic: error {parts[7][1]}, expected " \
                             f"UNKNOWN_TOPIC_OR_PARTITION (3)"
    assert parts[1][1] == 0 and parts[1][2] == 0, f"partition 1 in the same request: {parts[1]}"

def test_raw_produce_to_unknown_topic_does_not_create_it(srv):
    # Kafka creates topics automatically only for Metadata requests (auto.create.topics.enable=true);
    # a Produce for an unknown topic is answered UNKNOWN_TOPIC_OR_PARTITION and creates nothing.
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    builder.append(timestamp=int(time.time() * 1000), key=b"k", value=b"v", headers=[])
    builder.close()
    absent = h.unique_name("raw-absent")
    req = ProduceRequest[3](transactional_id=None, required_acks=1, timeout=5000,
                            topics=[(absent, [(0, builder.buffer())])])
    resp = raw_request(srv, req)
    code = resp.topics[0][1][0][1]
    assert code == 3, f"Produce to unknown topic {absent}: error {code}, expected UNKNOWN_TOPIC_OR_PARTITION (3)"
    topics = u.admin(srv).list_topics(timeout=u.TIMEOUT).topics
    assert absent not in topics, f"Produce created topic {absent}"


# --- kafka-python --------------------------------------------------------------------------------

def test_kafka_python_keyed_send_and_offset_queries(srv):
    topic = u.create_topic(srv, h.unique_name("kp-times"), 2)
    t0 = int(time.time() * 1000) - 600_000
    prod = kp_producer(srv)
    metas = []
    try:
        for i in range(10):
            metas.append(prod.send(topic, key=f"key-{i % 3}".encode(), value=f"value-{i}".encode(), partition=0,
                                   timestamp_ms=t0 + 1000 * i, headers=[("i", str(i).encode())]))
        keyed = [prod.send(topic, key=b"same-key", value=f"s{i}".encode()) for i in range(20)]
        metas = [m.get(timeout=u.TIMEOUT) for m in metas]
        keyed = [m.get(timeout=u.TIMEOUT) for m in keyed]
    finally:
        prod.close(timeout=5)
    assert [(m.partition, m.offset) for m in metas] == [(0, i) for i in range(10)], metas
    assert len({m.partition for m in keyed}) == 1, "one key went to several partitions"
    keyed_partition = keyed[0].partition
    base = 10 if keyed_partition == 0 else 0
    assert [m.offset for m in keyed] == list(range(base, base + 20)), [m.offset for m in keyed]

    tp0, tp1 = KP_TOPIC_PARTITION(topic, 0), KP_TOPIC_PARTITION(topic, 1)
    end0 = 30 if keyed_partition == 0 else 10
    end1 = 20 if keyed_partition == 1 else 0
    c = kp_consumer(srv)
    try:
        c.assign([tp0, tp1])
        assert c.end_offsets([tp0, tp1]) == {tp0: end0, tp1: end1}
        assert c.beginning_offsets([tp0, tp1]) == {tp0: 0, tp1: 0}
        times = c.offsets_for_times({tp0: t0 + 1500})
        assert times[tp0] == OffsetAndTimestamp(2, t0 + 2000), f"offsets_for_times(t0+1500) = {times}"
        assert c.offsets_for_times({tp0: t0})[tp0] == OffsetAndTimestamp(0, t0)
        assert c.offsets_for_times({tp0: t0 + 9000})[tp0] == OffsetAndTimestamp(9, t0 + 9000)
        after_last = c.offsets_for_times({tp0: t0 + 9001})[tp0]
        if keyed_partition == 1:
            assert after_last is None, f"beyond the last timestamp: {after_last}, expected None"
        else:  # the keyed records (timestamped now) follow in partition 0
            assert after_last == OffsetAndTimestamp(10, keyed[0].timestamp), after_last
        far = int(time.time() * 1000) + 3_600_000
        assert c.offsets_for_times({tp0: far, tp1: far}) == {tp0: None, tp1: None}

        c.seek_to_beginning(tp0)
        c.seek(tp1, end1)
        got = kp_read(c, end0)
        first = [r for r in got if r.partition == 0][:10]
        assert [(r.offset, r.key, r.value, r.timestamp, r.timestamp_type) for r in first] == \
               [(i, f"key-{i % 3}".encode(), f"value-{i}".encode(), t0 + 1000 * i, 0) for i in range(10)], first
        assert [list(r.headers) for r in first] == [[("i", str(i).encode())] for i in range(10)]
    finally:
        c.close()


def test_delete_records_moves_log_start(srv):
    topic = u.create_topic(srv, h.unique_name("kp-delete"), 1)
    prod = u.producer(srv)
    u.assert_delivered(u.produce_all(prod, topic, [{"value": f"d{i}".encode()} for i in range(10)]))
    resp = raw_request(srv, DeleteRecordsRequest_v0(topics=[(topic, [(0, 4)])], timeout_ms=5000))
    (name, parts), = resp.topics
    assert name == topic and parts == [(0, 4, 0)], f"DeleteRecords(offset 4): {resp.topics}"

    c = kp_consumer(srv, auto_offset_reset="earliest")
    tp = KP_TOPIC_PARTITION(topic, 0)
    try:
        c.assign([tp])
        assert c.beginning_offsets([tp]) == {tp: 4}
        assert c.end_offsets([tp]) == {tp: 10}
        c.seek_to_beginning(tp)
        assert [r.offset for r in kp_read(c, 6)] == list(range(4, 10))
    finally:
        c.close()
    # A confluent consumer positioned below the log start is reset (auto.offset.reset=earliest).
    recs = u.consume_to_end(srv, topic, [0], start=1, auto_offset_reset="earliest")[0]
    assert [r.offset for r in recs] == list(range(4, 10)), [r.offset for r in recs]

    resp = raw_request(srv, DeleteRecordsRequest_v0(topics=[(topic, [(0, 11)])], timeout_ms=5000))
    assert resp.topics[0][1][0][2] == 1, f"delete beyond the high watermark: {resp.topics}, expected " \
                                         f"OFFSET_OUT_OF_RANGE (1)"
    resp = raw_request(srv, DeleteRecordsRequest_v0(topics=[(topic, [(0, -1)])], timeout_ms=5000))
    assert resp.topics[0][1][0][1:] == (10, 0), f"delete up to the high watermark (-1): {resp.topics}"
    assert u.watermarks(srv, topic, 0) == (10, 10)
    u.assert_delivered(more := u.produce_all(prod, topic, [{"value": b"after"}]))
    assert more[0].offset == 10
    del prod


if __name__ == "__main__":
    h.main(globals(), modules=["confluent_kafka", "kafka"])
