"""A hostile producer on a raw socket sends record batches with correct CRCs around malformed records
and decompression bombs. The broker answers each as Kafka's LogValidator does (INVALID_RECORD with
record_errors, CORRUPT_MESSAGE, UNSUPPORTED_COMPRESSION_TYPE, MESSAGE_TOO_LARGE for what decompresses
past its bound), appends none of them, stays within a stated memory bound during the bombs, keeps
serving well-behaved clients (librdkafka with every codec, kafka-python) and, after a restart, gives
back every good record and nothing else.

The tests run in order on one broker.
"""

import socket
import struct
import time
import zlib

import brook_harness as h
import kafka_wire as w
import produce_consume_util as u
from kafka_wire import Reader, frame, header_v1, read_response, string

h.require_modules("confluent_kafka", "kafka")

PRODUCE = 0
INVALID_RECORD, CORRUPT_MESSAGE, UNSUPPORTED_COMPRESSION_TYPE, MESSAGE_TOO_LARGE = 87, 2, 76, 10
NONE, GZIP, SNAPPY, LZ4, ZSTD = 0, 1, 2, 3, 4
CONTROL_BIT = 0x20
MiB = 1024 * 1024
IO_TIMEOUT = 30.0
# Peak RSS growth allowed while the broker refuses the bombs below (1 GiB zstd, 2 GiB snappy, 256 MiB
# gzip): the decompressor holds one 64 KiB chunk and stops at max.message.bytes per record.
BOMB_RSS_BOUND = 64 * MiB

TOPIC = "hostile"
# Records acknowledged: {partition: {offset: (key, value)}}. Partition 0 gets librdkafka's records in
# every codec; partition 1 the hostile producer's one good batch and kafka-python's records (Debian's
# kafka-python reads only uncompressed and gzip batches).
good = {0: {}, 1: {}}


# --- batches, written from Kafka's record format (implementation.html) ----------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(n):
    return w.uvarint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


def record(offset_delta, key=b"k", value=b"v"):
    body = bytes([0]) + varint(0) + varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(len(value)) + value + varint(0)
    return varint(len(body)) + body


def records(n):
    return b"".join(record(i, b"k%d" % i, b"hostile-%d" % i) for i in range(n))


def batch(section, count=1, last_offset_delta=None, attributes=0):
    """One v2 batch around `section` (compressed already if the attributes say so), CRC correct."""
    if last_offset_delta is None:
        last_offset_delta = count - 1
    now = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", attributes, last_offset_delta, now, now, -1, -1, -1, count) + section
    head = struct.pack(">qiib", 0, 4 + 1 + 4 + len(after_crc), -1, 2)
    return head + struct.pack(">I", crc32c(after_crc)) + after_crc


def zstd_rle_bomb(prefix, zeros):
    """A zstd frame: `prefix` as a raw block, then `zeros` zero bytes as 128 KiB RLE blocks (4 bytes each)."""
    out = struct.pack("<I", 0xFD2FB528) + bytes([0x00, 7 << 3])  # no content size; 128 KiB window
    out += struct.pack("<I", len(prefix) << 3)[:3] + prefix      # raw block
    block = 128 * 1024
    while zeros > 0:
        n = min(block, zeros)
        zeros -= n
        last = 1 if zeros == 0 else 0
        out += struct.pack("<I", last | (1 << 1) | (n << 3))[:3] + b"\x00"
    return out


def snappy_lie(declared, size=82):
    """A raw snappy block that declares `declared` bytes: one literal byte, then 64-byte copies of it."""
    out = w.uvarint(declared) + b"\x00\x00"
    while len(out) + 3 <= size:
        out += b"\xfe\x01\x00"
    return out.ljust(size, b"\x00")


def gzip_bomb(prefix, zeros):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = c.compress(prefix)
    chunk = bytes(MiB)
    for _ in range(zeros // MiB):
        out += c.compress(chunk)
    return out + c.flush()


def big_value_record_prefix(value_size):
    """The start of one record whose value is `value_size` bytes (the value not included)."""
    body = bytes([0]) + varint(0) + varint(0) + varint(-1) + varint(value_size)
    return varint(len(body) + value_size + 1) + body


# --- Produce v8 on a raw socket ------------------------------------------------------------------

class HostileProducer:
    def __init__(self, srv):
        self.sock = w.connect(srv.port, IO_TIMEOUT)
        self.correlation = 0

    def close(self):
        self.sock.close()

    def produce(self, batches, topic=TOPIC):
        """Sends one batch per partition (partition i gets batches[i]); returns
        [(error_code, base_offset, [(batch_index, message)], error_message)] by partition."""
        self.correlation += 1
        body = string(None) + struct.pack(">hi", -1, 10000) + struct.pack(">i", 1) + string(topic)
        body += struct.pack(">i", len(batches))
        for i, b in enumerate(batches):
            body += struct.pack(">ii", i, len(b)) + b
        self.sock.sendall(frame(header_v1(PRODUCE, 8, self.correlation) + body))
        r = Reader(read_response(self.sock))
        assert r.int32() == self.correlation
        assert r.int32() == 1
        r.take(r.int16())  # topic name
        out = []
        for _ in range(r.int32()):
            r.int32()  # partition index
            error, base = r.int16(), r.int64()
            r.int64(), r.int64()  # log_append_time_ms, log_start_offset
            errors = []
            for _ in range(r.int32()):
                index = r.int32()
                n = r.int16()
                errors.append((index, r.take(n).decode() if n >= 0 else None))
            n = r.int16()
            out.append((error, base, errors, r.take(n).decode() if n >= 0 else None))
        r.int32()  # throttle_time_ms
        r.done()
        return out


def end_offset(srv, partition=0):
    return u.watermarks(srv, TOPIC, partition)[1]


def rss_status(srv, field):
    with open(f"/proc/{srv.pid()}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc status")


def produce_good(srv, n, tag, **conf):
    """Produces n records with confluent_kafka and remembers them."""
    prod = u.producer(srv, linger_ms=5, **conf)
    records_ = [{"key": f"{tag}-{i}".encode(), "value": f"{tag}-value-{i}".encode() * (1 + i % 5), "partition": 0}
                for i in range(n)]
    reports = u.produce_all(prod, TOPIC, records_)
    u.assert_delivered(reports)
    for rec, rep in zip(records_, reports):
        good[0][rep.offset] = (rec["key"], rec["value"])


def check_everything_back(srv):
    for partition, got in u.consume_to_end(srv, TOPIC, [0, 1]).items():
        assert [r.offset for r in got] == list(range(len(got))), f"offsets of partition {partition} are not dense"
        assert {r.offset: (r.key, r.value) for r in got} == good[partition], \
            f"partition {partition}: {len(got)} records read, {len(good[partition])} expected"


# --- tests ---------------------------------------------------------------------------------------

def test_setup(srv):
    u.create_topic(srv, TOPIC, partitions=2)
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        produce_good(srv, 50, codec, compression_type=codec)
    assert end_offset(srv) == len(good[0])


def test_malformed_batches_get_kafkas_errors_and_are_not_appended(srv):
    huge = 2 ** 31 - 1
    cases = [
        ("count 2^31-1 over one record", batch(records(1), count=huge), INVALID_RECORD, 1),
        ("more records than counted", batch(records(3), count=2), INVALID_RECORD, None),
        ("fewer records than counted", batch(records(2), count=3), INVALID_RECORD, 2),
        ("record length overruns", batch(varint(400) + records(1)), INVALID_RECORD, 0),
        ("key length overruns", batch(varint(7) + b"\x00" + varint(0) + varint(0) + varint(100) + b"abc"),
         INVALID_RECORD, 0),
        ("value length overruns", batch(varint(7) + b"\x00" + varint(0) + varint(0) + varint(-1) + varint(50) + b"ab"),
         INVALID_RECORD, 0),
        ("header value length overruns",
         batch(varint(10) + b"\x00" + varint(0) + varint(0) + varint(-1) + varint(-1) + varint(1) + varint(1) + b"x"
               + varint(70) + b"y"), INVALID_RECORD, 0),
        ("6-byte varint", batch(b"\x80\x80\x80\x80\x80\x00"), INVALID_RECORD, 0),
        ("trailing bytes", batch(records(1) + b"\x01\x02"), INVALID_RECORD, None),
        ("offset deltas not 0, 1, 2", batch(record(0) + record(2) + record(2), count=3), INVALID_RECORD, 1),
        ("codec bits 5", batch(records(1), attributes=5), UNSUPPORTED_COMPRESSION_TYPE, None),
        ("codec bits 7", batch(records(1), attributes=7), UNSUPPORTED_COMPRESSION_TYPE, None),
        ("garbage gzip", batch(b"\x1f\x8b" + bytes(range(200)), attributes=GZIP), CORRUPT_MESSAGE, None),
        ("garbage snappy", batch(w.uvarint(100) + b"\xff" * 50, attributes=SNAPPY), CORRUPT_MESSAGE, None),
        ("garbage lz4", batch(bytes(range(200)), attributes=LZ4), CORRUPT_MESSAGE, None),
        ("garbage zstd", batch(bytes(range(200)), attributes=ZSTD), CORRUPT_MESSAGE, None),
        ("client control batch", batch(records(1), attributes=CONTROL_BIT), INVALID_RECORD, None),
    ]
    before = end_offset(srv)
    p = HostileProducer(srv)
    try:
        for name, b, code, index in cases:
            [(error, base, errors, message)] = p.produce([b])
            assert error == code, f"{name}: error {error}, expected {code} ({message})"
            assert base == -1, f"{name}: base offset {base}"
            if index is None:
                assert errors == [], f"{name}: record_errors {errors}"
            else:
                assert [e[0] for e in errors] == [index], f"{name}: record_errors {errors}"
            assert end_offset(srv) == before, f"{name}: the log end moved"
        # A good partition in the same request as a bad one is appended, as Kafka does per partition.
        [(bad, _, _, _), (ok, base, _, _)] = p.produce([batch(records(1), count=huge), batch(records(2), count=2)])
        assert bad == INVALID_RECORD and ok == 0 and base == 0, (bad, ok, base)
        good[1].update({0: (b"k0", b"hostile-0"), 1: (b"k1", b"hostile-1")})
        assert end_offset(srv) == before
        assert end_offset(srv, 1) == 2
    finally:
        p.close()


def test_bombs_stay_within_the_memory_bound(srv):
    gib = 1 << 30
    zstd = batch(zstd_rle_bomb(big_value_record_prefix(gib - 64), gib - 64), attributes=ZSTD)
    gzip = batch(gzip_bomb(big_value_record_prefix(256 * MiB), 256 * MiB), attributes=GZIP)
    snappy = batch(snappy_lie(2 * gib), attributes=SNAPPY)
    xerial = batch(b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + struct.pack(">i", 82) + snappy_lie(2 * gib),
                   attributes=SNAPPY)
    print(f"  compressed sizes: zstd {len(zstd)}, gzip {len(gzip)}, snappy {len(snappy)} bytes", flush=True)
    before = end_offset(srv)
    rss_before = rss_status(srv, "VmRSS")
    with open(f"/proc/{srv.pid()}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM (the peak RSS) to the current RSS
    started = time.monotonic()
    p = HostileProducer(srv)
    try:
        for name, b in (("zstd 1 GiB", zstd), ("gzip 256 MiB", gzip), ("snappy 2 GiB", snappy),
                        ("xerial snappy 2 GiB", xerial)):
            for _ in range(3):
                [(error, base, errors, message)] = p.produce([b])
                assert error == MESSAGE_TOO_LARGE, f"{name}: error {error} ({message})"
    finally:
        p.close()
    elapsed = time.monotonic() - started
    peak = rss_status(srv, "VmHWM")
    print(f"  RSS {rss_before / MiB:.1f} MiB before, peak {peak / MiB:.1f} MiB; 12 bombs refused in {elapsed:.2f}s",
          flush=True)
    assert peak - rss_before < BOMB_RSS_BOUND, f"peak RSS {peak / MiB:.1f} MiB, {rss_before / MiB:.1f} MiB before"
    assert elapsed < 20, f"refusing the bombs took {elapsed:.1f}s"
    assert end_offset(srv) == before


def test_well_behaved_clients_keep_working(srv):
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        produce_good(srv, 20, "after-" + codec, compression_type=codec)
    # kafka-python (which raises CorruptRecordException on a broken batch it fetches), on partition 1.
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    prod = KafkaProducer(bootstrap_servers=srv.bootstrap, acks="all", compression_type="gzip", linger_ms=5)
    start = end_offset(srv, 1)
    futures = [prod.send(TOPIC, key=b"kp-%d" % i, value=b"kafka-python-%d" % i, partition=1) for i in range(10)]
    for i, f in enumerate(futures):
        md = f.get(timeout=15)
        good[1][md.offset] = (b"kp-%d" % i, b"kafka-python-%d" % i)
    prod.close()
    assert end_offset(srv, 1) == start + 10
    cons = KafkaConsumer(bootstrap_servers=srv.bootstrap, enable_auto_commit=False)
    tp = TopicPartition(TOPIC, 1)
    cons.assign([tp])
    cons.seek(tp, 0)
    seen = {}
    deadline = time.monotonic() + 20
    while len(seen) < len(good[1]) and time.monotonic() < deadline:
        for msgs in cons.poll(timeout_ms=500).values():
            for m in msgs:
                seen[m.offset] = (m.key, m.value)
    cons.close()
    assert seen == good[1], f"kafka-python read {len(seen)} of {len(good[1])} records"
    check_everything_back(srv)


def test_restart_gives_back_every_good_record(srv):
    srv.restart()
    check_everything_back(srv)


if __name__ == "__main__":
    h.main(globals(), modules=["confluent_kafka", "kafka"])
