"""Requests pipelined on one connection, and the per-record errors of a refused Produce.

Raw sockets, so that requests really are sent back to back before any answer is read (clients do
this with max.in.flight.requests.per.connection > 1): the broker must answer in request order, let
partitions see the appends in request order (an idempotent producer's sequence numbers prove it),
send nothing for acks=0, and on a frame that does not decode answer everything before it and then
close.

Produce responses (v8+) carry record_errors: as Kafka's LogValidator does, the broker lists every
offending record by its index in the batch (batch_index) with its message, and sums them up in the
partition's error_message.
"""

import struct
import time

import brook_harness as h
import kafka_wire as w
from kafka_wire import Reader, frame, header_v1, read_response, string
import produce_consume_util as u

h.require_modules("confluent_kafka", "kafka")

from kafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402

PRODUCE, METADATA, API_VERSIONS, INIT_PRODUCER_ID = 0, 3, 18, 22
NONE, INVALID_TIMESTAMP, INVALID_RECORD = 0, 32, 87
IO_TIMEOUT = 10.0


# --- requests ------------------------------------------------------------------------------------

def batch(records, producer_id=-1, producer_epoch=-1, base_sequence=-1):
    """One v2 batch, uncompressed; records are (key, value, timestamp_ms)."""
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=producer_id,
                                  producer_epoch=producer_epoch, base_sequence=base_sequence, batch_size=1 << 20)
    for offset, (key, value, ts) in enumerate(records):
        b.append(offset, timestamp=ts, key=key, value=value, headers=[])
    return bytes(b.build())


def produce_v8(correlation_id, acks, partitions):
    """partitions: [(topic, index, batch bytes)], one topic entry per partition for simplicity."""
    body = struct.pack(">hhi", -1, acks, 30000) + struct.pack(">i", len(partitions))
    for topic, index, records in partitions:
        body += string(topic) + struct.pack(">i", 1) + struct.pack(">ii", index, len(records)) + records
    return frame(header_v1(PRODUCE, 8, correlation_id) + body)


def init_producer_id_v0(correlation_id):
    return frame(header_v1(INIT_PRODUCER_ID, 0, correlation_id) + struct.pack(">hi", -1, 60000))


def metadata_v1(correlation_id, topic):
    return frame(header_v1(METADATA, 1, correlation_id) + struct.pack(">i", 1) + string(topic))


def api_versions_v0(correlation_id):
    return frame(header_v1(API_VERSIONS, 0, correlation_id))


def parse_produce_v8(body):
    """-> (correlation_id, {(topic, partition): dict}), header v0."""
    r = Reader(body)
    correlation_id = r.int32()
    out = {}
    for _ in range(r.int32()):
        topic = r.nullable_string()
        for _ in range(r.int32()):
            index, error = r.int32(), r.int16()
            base_offset, _append_time, _start = r.int64(), r.int64(), r.int64()
            record_errors = [(r.int32(), r.nullable_string()) for _ in range(r.int32())]
            message = r.nullable_string()
            out[(topic, index)] = {"error": error, "base_offset": base_offset, "record_errors": record_errors,
                                   "message": message}
    r.int32()  # throttle_time_ms
    r.done()
    return correlation_id, out


def connect(srv):
    return w.connect(srv.port, IO_TIMEOUT)


def correlation_of(body):
    return struct.unpack(">i", body[:4])[0]


def wait_closed(s):
    s.settimeout(IO_TIMEOUT)
    try:
        data = s.recv(65536)
    except ConnectionResetError:
        return
    assert data == b"", f"expected the connection to close, got {data[:32]!r}"


def now_ms():
    return int(time.time() * 1000)


# --- pipelining ----------------------------------------------------------------------------------

def test_pipelined_idempotent_produce_keeps_order(srv):
    topic = u.create_topic(srv, h.unique_name("pipe-idem"), partitions=2)
    with connect(srv) as s:
        s.sendall(init_producer_id_v0(1))
        r = Reader(read_response(s))
        assert r.int32() == 1
        r.int32()  # throttle
        assert r.int16() == NONE
        pid, epoch = r.int64(), r.int16()
        # 12 requests of 3 records per partition, sent before reading any answer. A partition that
        # saw them out of order would refuse the later sequence (OUT_OF_ORDER_SEQUENCE_NUMBER).
        requests, per_request = 12, 3
        out = b""
        for i in range(requests):
            parts = [(topic, p, batch([(None, f"p{p}-{i}-{k}".encode(), now_ms()) for k in range(per_request)],
                                      pid, epoch, i * per_request)) for p in (0, 1)]
            out += produce_v8(100 + i, -1, parts)
        s.sendall(out)
        for i in range(requests):
            cid, parts = parse_produce_v8(read_response(s))
            assert cid == 100 + i, f"answer {i} has correlation id {cid}: answers out of order"
            for p in (0, 1):
                got = parts[(topic, p)]
                assert got["error"] == NONE, f"request {i} partition {p}: error {got['error']} {got['message']}"
                assert got["base_offset"] == i * per_request, f"request {i} partition {p}: {got['base_offset']}"
    low, high = u.watermarks(srv, topic, 0)
    assert (low, high) == (0, requests * per_request), (low, high)


def test_pipelined_mixed_requests_answer_in_order(srv):
    topic = u.create_topic(srv, h.unique_name("pipe-mixed"))
    with connect(srv) as s:
        rec = batch([(b"k", b"v", now_ms())])
        # acks=0 gets no answer at all; everything else comes back in the order sent.
        s.sendall(produce_v8(1, -1, [(topic, 0, rec)]) + metadata_v1(2, topic) + produce_v8(3, 0, [(topic, 0, rec)]) +
                  produce_v8(4, 1, [(topic, 0, rec)]) + api_versions_v0(5) + produce_v8(6, -1, [(topic, 0, rec)]))
        order = [correlation_of(read_response(s)) for _ in range(5)]
        assert order == [1, 2, 4, 5, 6], order
    low, high = u.watermarks(srv, topic, 0)
    assert high == 4, f"4 batches were produced, the log ends at {high}"


def test_bad_frame_after_pipelined_requests_closes_after_their_answers(srv):
    topic = u.create_topic(srv, h.unique_name("pipe-bad"))
    with connect(srv) as s:
        rec = batch([(b"k", b"v", now_ms())])
        bad = frame(header_v1(9999, 0, 3))  # unknown API key
        s.sendall(produce_v8(1, -1, [(topic, 0, rec)]) + api_versions_v0(2) + bad + api_versions_v0(4))
        assert correlation_of(read_response(s)) == 1
        assert correlation_of(read_response(s)) == 2
        wait_closed(s)


# --- record errors -------------------------------------------------------------------------------

def test_compacted_topic_reports_every_record_without_key(srv):
    topic = u.create_topic(srv, h.unique_name("rec-err-key"), config={"cleanup.policy": "compact"})
    records = [(None, b"a", now_ms()), (b"k1", b"b", now_ms()), (None, b"c", now_ms()), (None, b"d", now_ms()),
               (None, b"e", now_ms())]
    with connect(srv) as s:
        s.sendall(produce_v8(7, -1, [(topic, 0, batch(records))]))
        cid, parts = parse_produce_v8(read_response(s))
    got = parts[(topic, 0)]
    assert got["error"] == INVALID_RECORD, got
    assert got["base_offset"] == -1, got
    why = f"Compacted topic cannot accept message without key in topic partition {topic}-0"
    assert got["record_errors"] == [(0, why), (2, why), (3, why), (4, why)], got["record_errors"]
    shown = ", ".join(f"RecordError(batchIndex={i}, message='{why}')" for i in (0, 2, 3))
    assert got["message"] == ("One or more records have been rejected due to 4 record errors in total, and only "
                              f"showing the first three errors at most: [{shown}]"), got["message"]
    assert u.watermarks(srv, topic, 0) == (0, 0)


def test_out_of_range_timestamps_are_reported_per_record(srv):
    topic = u.create_topic(srv, h.unique_name("rec-err-ts"),
                           config={"message.timestamp.after.max.ms": "60000",
                                   "message.timestamp.before.max.ms": "3600000"})
    now = now_ms()
    future, past = now + 600_000, now - 7_200_000
    records = [(b"a", b"1", now), (b"b", b"2", future), (b"c", b"3", now), (b"d", b"4", past)]
    with connect(srv) as s:
        s.sendall(produce_v8(8, -1, [(topic, 0, batch(records))]))
        cid, parts = parse_produce_v8(read_response(s))
    got = parts[(topic, 0)]
    assert got["error"] == INVALID_TIMESTAMP, got
    assert got["message"] == "One or more records have been rejected due to invalid timestamp", got["message"]
    assert [i for i, _ in got["record_errors"]] == [1, 3], got["record_errors"]
    assert got["record_errors"][0][1].startswith(f"Timestamp {future} of message with offset 1 is out of range. "
                                                 "The timestamp should be within ["), got["record_errors"][0][1]
    assert got["record_errors"][1][1].startswith(f"Timestamp {past} of message with offset 3 is out of range."), \
        got["record_errors"][1][1]
    assert u.watermarks(srv, topic, 0) == (0, 0)


def test_valid_batch_on_checked_topic_is_appended(srv):
    topic = u.create_topic(srv, h.unique_name("rec-ok"), config={"cleanup.policy": "compact",
                                                                "message.timestamp.before.max.ms": "3600000"})
    with connect(srv) as s:
        s.sendall(produce_v8(9, -1, [(topic, 0, batch([(b"a", b"1", now_ms()), (b"b", b"2", now_ms())]))]))
        cid, parts = parse_produce_v8(read_response(s))
    got = parts[(topic, 0)]
    assert (got["error"], got["base_offset"], got["record_errors"]) == (NONE, 0, []), got
    assert u.watermarks(srv, topic, 0) == (0, 2)


if __name__ == "__main__":
    h.main(globals(), modules=["confluent_kafka", "kafka"])
