"""broker_probe.py: the few Kafka requests bench/kafka_compare.py sends itself, over plain sockets.

Used by the recovery load (is the broker serving every partition yet: Metadata, ListOffsets latest, Fetch of
the last record) and the connections load (many idle client connections, each past an ApiVersions exchange;
a Metadata round trip on a fresh connection). Only non-flexible request versions that both Brook and
Kafka 4.4 serve: ApiVersions v0, Metadata v8, ListOffsets v2, Fetch v4 (Kafka 4 removed the older ones).
Built on the wire primitives of tests/compat/kafka_wire.py (on the path through kafka_broker.py).
"""

import errno
import selectors
import socket
import struct
import time

import kafka_wire as wire  # tests/compat

API_FETCH, API_LIST_OFFSETS, API_METADATA, API_VERSIONS = 1, 2, 3, 18
FETCH_GROUP = 10
# Failures of one probe attempt: the broker not listening yet, closing, or answering short.
PROBE_ERRORS = (OSError, ConnectionError, AssertionError, struct.error)


def request(api_key, version, correlation, body):
    return wire.frame(wire.header_v1(api_key, version, correlation, "brook-kafka-compare") + body)


def int32_array(r):
    return [r.int32() for _ in range(r.int32())]


class Connection:
    """One blocking client connection; `call` sends a request and returns a wire.Reader over the response
    body after the correlation id."""

    def __init__(self, port, timeout=10.0):
        self.sock = wire.connect(port, timeout)
        self.correlation = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def call(self, api_key, version, body):
        self.correlation += 1
        self.sock.sendall(request(api_key, version, self.correlation, body))
        r = wire.Reader(wire.read_response(self.sock, max_size=1 << 30))
        correlation = r.int32()
        if correlation != self.correlation:
            raise ConnectionError(f"correlation id {correlation}, expected {self.correlation}")
        return r

    def api_versions(self):
        r = self.call(API_VERSIONS, 0, b"")
        error = r.int16()
        if error:
            raise ConnectionError(f"ApiVersions error {error}")
        return {r.int16(): (r.int16(), r.int16()) for _ in range(r.int32())}

    def metadata(self, topics=()):
        """Metadata v8 for `topics` (none: brokers only); {topic: (error, {partition: (error, leader)})}."""
        body = struct.pack(">i", len(topics)) + b"".join(wire.string(t) for t in topics) + b"\x00\x00\x00"
        r = self.call(API_METADATA, 8, body)
        r.int32()  # throttle
        for _ in range(r.int32()):  # brokers: id, host, port, rack
            r.int32(), r.nullable_string(), r.int32(), r.nullable_string()
        r.nullable_string(), r.int32()  # cluster id, controller
        out = {}
        for _ in range(r.int32()):
            error, name, _internal = r.int16(), r.nullable_string(), r.int8()
            partitions = {}
            for _ in range(r.int32()):
                p_error, index, leader, _epoch = r.int16(), r.int32(), r.int32(), r.int32()
                int32_array(r), int32_array(r), int32_array(r)  # replicas, isr, offline
                partitions[index] = (p_error, leader)
            r.int32()  # topic authorized operations
            out[name] = (error, partitions)
        return out

    def latest_offsets(self, topic, partitions):
        """ListOffsets v2, latest, read_uncommitted: {partition: (error, offset)}."""
        body = struct.pack(">ibi", -1, 0, 1) + wire.string(topic) + struct.pack(">i", len(partitions))
        body += b"".join(struct.pack(">iq", p, -1) for p in partitions)
        r = self.call(API_LIST_OFFSETS, 2, body)
        r.int32()
        out = {}
        for _ in range(r.int32()):
            r.nullable_string()
            for _ in range(r.int32()):
                p, error, _timestamp, offset = r.int32(), r.int16(), r.int64(), r.int64()
                out[p] = (error, offset)
        return out

    def fetch(self, topic, offsets, partition_max_bytes=4 << 20, max_bytes=512 << 20):
        """Fetch v4 from {partition: offset}: {partition: (error, high watermark, [(base, last offset) of each
        whole batch])}."""
        body = struct.pack(">iiiibi", -1, 500, 1, max_bytes, 0, 1) + wire.string(topic)
        body += struct.pack(">i", len(offsets))
        body += b"".join(struct.pack(">iqi", p, o, partition_max_bytes) for p, o in offsets.items())
        r = self.call(API_FETCH, 4, body)
        r.int32()
        out = {}
        for _ in range(r.int32()):
            r.nullable_string()
            for _ in range(r.int32()):
                p, error, high, _lso = r.int32(), r.int16(), r.int64(), r.int64()
                for _ in range(max(r.int32(), 0)):  # aborted transactions
                    r.int64(), r.int64()
                size = r.int32()
                records = r.take(size) if size > 0 else b""
                batches, pos = [], 0
                while pos + 27 <= len(records):  # baseOffset .. lastOffsetDelta
                    base, length = struct.unpack_from(">qi", records, pos)
                    if pos + 12 + length > len(records):
                        break  # a partial batch at the end
                    (delta,) = struct.unpack_from(">i", records, pos + 23)
                    batches.append((base, base + delta))
                    pos += 12 + length
                out[p] = (error, high, batches)
        return out


# ---------------------------------------------------------------------------------------------------------
# Is the broker serving a topic: every partition led, its latest offset known, its last record readable.


def serving(port, topic, partitions, expected_records):
    """One attempt; returns (stage reached, detail). Stages: 'connect', 'metadata' (answered, but not every
    partition has a leader), 'offsets', 'fetch', 'served'."""
    try:
        conn = Connection(port, timeout=30)
    except OSError as e:
        return "connect", str(e)
    with conn:
        try:
            md = conn.metadata([topic])
            error, parts = md.get(topic, (-1, {}))
            led = [p for p, (e, leader) in parts.items() if e == 0 and leader >= 0]
            if error != 0 or len(led) < partitions:
                return "metadata", f"topic error {error}, {len(led)} of {partitions} partitions led"
            offsets = conn.latest_offsets(topic, list(range(partitions)))
            bad = {p: e for p, (e, _) in offsets.items() if e != 0}
            if bad or len(offsets) < partitions:
                return "offsets", f"ListOffsets errors {dict(list(bad.items())[:5])}, {len(offsets)} answered"
            total = sum(o for _, o in offsets.values())
            if expected_records is not None and total != expected_records:
                return "offsets", f"latest offsets add up to {total}, {expected_records} were produced"
            # FETCH_GROUP partitions a request: Kafka cuts a response at fetch.max.bytes (55 MiB), and the
            # batch holding a partition's last record can be up to 1 MiB.
            wanted = sorted((p, o - 1) for p, (_, o) in offsets.items() if o > 0)
            for i in range(0, len(wanted), FETCH_GROUP):
                fetched = conn.fetch(topic, dict(wanted[i:i + FETCH_GROUP]))
                for p, last_offset in wanted[i:i + FETCH_GROUP]:
                    error, _high, batches = fetched.get(p, (-1, 0, []))
                    if error != 0 or not any(b <= last_offset <= last for b, last in batches):
                        return "fetch", f"partition {p}: error {error}, batches {batches[:3]}, wanted {last_offset}"
            return "served", total
        except PROBE_ERRORS as e:
            return "metadata", f"{type(e).__name__}: {e}"


def wait_serving(port, topic, partitions, expected_records, spawned, alive, timeout):
    """Polls `serving` every 10 ms from `spawned` (time.monotonic()) until it succeeds; returns the seconds
    from the spawn to each stage first passed: {'connect': s, 'metadata': s, 'offsets': s, 'served': s},
    and the last detail. `alive()` false ends the wait with an error."""
    order = ["connect", "metadata", "offsets", "fetch", "served"]
    reached = {}
    detail = None
    while True:
        stage, detail = serving(port, topic, partitions, expected_records)
        now = time.monotonic() - spawned
        for s in order[:order.index(stage)]:  # every stage before the one that failed has passed
            reached.setdefault(s + " passed", now)
        if stage == "served":
            reached.setdefault("served", now)
            return reached, detail
        if not alive():
            raise RuntimeError(f"the broker exited while recovering (last: {stage}: {detail})")
        if now > timeout:
            raise RuntimeError(f"not serving {topic} after {timeout} s (last: {stage}: {detail})")
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------------------
# Idle connections


def open_idle_connections(port, count, batch=100, timeout=60.0):
    """Opens `count` connections, each sending ApiVersions v0 and reading the answer, `batch` at a time (in
    flight together); returns the open sockets. Raises if one fails."""
    api_versions = request(API_VERSIONS, 0, 1, b"")
    sockets = []
    sel = selectors.DefaultSelector()
    try:
        while len(sockets) < count:
            pending = {}
            for _ in range(min(batch, count - len(sockets))):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                pending[s] = {"sent": False, "buf": b""}
                sel.register(s, selectors.EVENT_WRITE)
            deadline = time.monotonic() + timeout
            while pending:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(pending)} connections got no ApiVersions answer within {timeout} s "
                                       f"({len(sockets)} open)")
                for key, _ in sel.select(1.0):
                    s, st = key.fileobj, pending[key.fileobj]
                    if not st["sent"]:
                        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            raise OSError(err, f"connect: {errno.errorcode.get(err, err)} "
                                               f"({len(sockets)} open)")
                        s.send(api_versions)  # 40 bytes: fits any send buffer
                        st["sent"] = True
                        sel.modify(s, selectors.EVENT_READ)
                        continue
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError(f"closed by the broker after {len(sockets)} connections")
                    st["buf"] += chunk
                    buf = st["buf"]
                    if len(buf) >= 4 and len(buf) >= 4 + struct.unpack_from(">i", buf)[0]:
                        if struct.unpack_from(">h", buf, 8)[0] != 0:
                            raise ConnectionError("ApiVersions answered with an error")
                        sel.unregister(s)
                        del pending[s]
                        sockets.append(s)
    except BaseException:
        for s in sockets:
            s.close()
        raise
    finally:
        sel.close()
    return sockets


def fresh_metadata_ms(port):
    """A new connection: (ms from connect to the Metadata answer, ms of the Metadata round trip alone);
    ApiVersions first, as a client does."""
    t0 = time.perf_counter()
    with Connection(port) as c:
        c.api_versions()
        t1 = time.perf_counter()
        c.metadata()
        t2 = time.perf_counter()
    return (t2 - t0) * 1e3, (t2 - t1) * 1e3
