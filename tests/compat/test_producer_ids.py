"""InitProducerId without a transactional id, on raw sockets: every request gets a new producer id.

Some clients (@platformatic/kafka) send producerId 0 / epoch 0 in their very first InitProducerId.
Kafka ignores the pair when there is no transactional id and always allocates a fresh id with epoch
0; a broker that trusted it would give every such producer id 0, so that one producer's batch is
taken for a duplicate of another's (acknowledged, never written) or refused as out of order. Ids
stay unique across broker restarts.
"""

import struct
import time

import brook_harness as h
import kafka_wire as w
from kafka_wire import Reader, frame, header_v1, header_v2, read_response, string
import produce_consume_util as u

h.require_modules("confluent_kafka", "kafka")

from kafka.record.default_records import DefaultRecordBatchBuilder  # noqa: E402

PRODUCE, INIT_PRODUCER_ID = 0, 22
NONE, INVALID_REQUEST = 0, 42
IO_TIMEOUT = 10.0


def init_producer_id_v4(correlation_id, producer_id, producer_epoch):
    body = w.compact_string(None) + struct.pack(">iqh", 60000, producer_id, producer_epoch) + w.TAGS
    return frame(header_v2(INIT_PRODUCER_ID, 4, correlation_id) + body)


def init_producer_id(srv, producer_id, producer_epoch):
    """-> (error, producer id, epoch) on a fresh connection."""
    with w.connect(srv.port, IO_TIMEOUT) as s:
        s.sendall(init_producer_id_v4(7, producer_id, producer_epoch))
        r = Reader(read_response(s))
        assert r.int32() == 7
        r.skip_tagged_fields()  # response header v1
        r.int32()  # throttle
        error, pid, epoch = r.int16(), r.int64(), r.int16()
        r.skip_tagged_fields()
        r.done()
        return error, pid, epoch


def batch(values, producer_id, producer_epoch, base_sequence):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=producer_id,
                                  producer_epoch=producer_epoch, base_sequence=base_sequence, batch_size=1 << 20)
    now = int(time.time() * 1000)
    for offset, value in enumerate(values):
        b.append(offset, timestamp=now, key=None, value=value, headers=[])
    return bytes(b.build())


def produce_v8(srv, topic, records):
    """One acks=all Produce v8 of one batch to partition 0 -> (error, base offset)."""
    body = struct.pack(">hhi", -1, -1, 30000) + struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1)
    body += struct.pack(">ii", 0, len(records)) + records
    with w.connect(srv.port, IO_TIMEOUT) as s:
        s.sendall(frame(header_v1(PRODUCE, 8, 9) + body))
        r = Reader(read_response(s))
        assert r.int32() == 9
        assert r.int32() == 1 and r.nullable_string() == topic and r.int32() == 1
        assert r.int32() == 0
        error, base_offset = r.int16(), r.int64()
        return error, base_offset


def test_two_producers_sending_id_zero_get_distinct_fresh_ids(srv):
    first = init_producer_id(srv, 0, 0)
    second = init_producer_id(srv, 0, 0)
    assert first[0] == NONE and second[0] == NONE, (first, second)
    assert first[1] != second[1], f"both producers got id {first[1]}"
    assert first[2] == 0 and second[2] == 0, (first, second)


def test_two_id_zero_producers_both_get_their_records_written(srv):
    topic = u.create_topic(srv, h.unique_name("pid-zero"))
    producers = [init_producer_id(srv, 0, 0) for _ in range(2)]
    for n, (error, pid, epoch) in enumerate(producers):
        assert error == NONE
        # Both start at sequence 0 with the same number of records: had they the same id and
        # epoch, the second batch would look like a retry of the first.
        got = produce_v8(srv, topic, batch([f"producer-{n}-{k}".encode() for k in range(3)], pid, epoch, 0))
        assert got == (NONE, 3 * n), f"producer {n} (id {pid}, epoch {epoch}): {got}"
    records = u.consume_to_end(srv, topic, [0])[0]
    assert [r.value for r in records] == [f"producer-{n}-{k}".encode() for n in range(2) for k in range(3)]


def test_an_existing_id_and_epoch_get_a_new_id_too(srv):
    error, pid, epoch = init_producer_id(srv, -1, -1)
    assert error == NONE and epoch == 0
    again = init_producer_id(srv, pid, epoch)
    assert again[0] == NONE and again[1] != pid and again[2] == 0, (pid, again)


def test_half_set_id_and_epoch_is_an_invalid_request(srv):
    for producer_id, producer_epoch in ((5, -1), (-1, 3)):
        error, pid, epoch = init_producer_id(srv, producer_id, producer_epoch)
        assert (error, pid, epoch) == (INVALID_REQUEST, -1, -1), (producer_id, producer_epoch, error, pid, epoch)


def test_ids_after_a_restart_are_above_every_earlier_id(srv):
    before = [init_producer_id(srv, 0, 0)[1] for _ in range(3)]
    srv.restart()
    after = [init_producer_id(srv, 0, 0)[1] for _ in range(3)]
    assert min(after) > max(before), (before, after)
    assert len(set(after)) == 3


if __name__ == "__main__":
    h.main(globals())
