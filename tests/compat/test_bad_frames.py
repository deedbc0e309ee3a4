"""Malformed and hostile traffic on raw sockets: the broker closes only the offending connection,
logs each rejected frame once, keeps serving everyone else, and its memory does not follow the
sizes that peers merely announce."""

import fcntl
import os
import random
import selectors
import socket
import struct
import termios
import time

import brook_harness as h
import kafka_wire as w
from kafka_wire import Reader, compact_string, frame, header_v1, header_v2, read_response, uvarint

h.require_modules("confluent_kafka")

from confluent_kafka.admin import AdminClient  # noqa: E402

MAX_REQUEST = 104857600  # socket.request.max.bytes in conf/server.properties
API_VERSIONS, METADATA = 18, 3
UNSUPPORTED_VERSION = 35
IO_TIMEOUT = 5.0
MiB = 1024 * 1024

# Connections kept open across tests (stalled senders); closed by the last test.
_stalled = []


# --- requests ------------------------------------------------------------------------------------

def api_versions_v3(correlation_id):
    body = compact_string("brook-compat") + compact_string("1.0") + uvarint(0)
    return frame(header_v2(API_VERSIONS, 3, correlation_id) + body)


def connect(srv):
    return w.connect(srv.port, IO_TIMEOUT)


def parse_api_versions(body, version):
    """-> (correlation_id, error_code, {api_key: (min, max)}); ApiVersions answers with header v0."""
    r = Reader(body)
    correlation_id = r.int32()
    error = r.int16()
    flexible = version >= 3
    count = r.uvarint() - 1 if flexible else r.int32()
    apis = {}
    for _ in range(count):
        key, lo, hi = r.int16(), r.int16(), r.int16()
        if flexible:
            r.skip_tagged_fields()
        apis[key] = (lo, hi)
    if version >= 1:
        r.int32()  # throttle_time_ms
    if flexible:
        r.skip_tagged_fields()
    r.done()
    return correlation_id, error, apis


def send_quietly(s, data):
    # The broker may close before it has read everything we send; that is the point.
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def wait_closed(s, timeout=IO_TIMEOUT):
    """Asserts the broker closes the connection (EOF or reset) without sending anything."""
    s.settimeout(timeout)
    try:
        data = s.recv(65536)
    except ConnectionResetError:
        return
    except socket.timeout:
        raise AssertionError(f"broker kept the connection open for {timeout}s")
    assert data == b"", f"broker answered a bad frame with {data[:32]!r}"


def log_mark(srv):
    """Where the log ends now; lines after it belong to connections opened afterwards (ports get
    reused, so a port alone does not identify a connection)."""
    return len(srv.log_lines())


def closing_lines(srv, port, since):
    needle = f"closing connection from 127.0.0.1:{port}:"
    return [line for line in srv.log_lines()[since:] if needle in line]


def warning_count(srv):
    return sum(1 for line in srv.log_lines() if "closing connection from" in line and " warn" in line)


def synced_warning_count(srv):
    """Warnings logged so far, counted once a marker frame's warning has arrived.

    The broker logs from one network thread and our reader thread may lag behind it, so a count is
    only trustworthy after a line we caused last has been read. The marker's own warning is
    included in the count.
    """
    synced_warning_count.marker += 1
    correlation_id = 700000 + synced_warning_count.marker
    send_bad(srv, frame(header_v1(9999, 0, correlation_id)), f"correlation id {correlation_id})")
    return warning_count(srv)


synced_warning_count.marker = 0


def expect_logged_once(srv, since, port, *fragments):
    lines = srv.wait_for_log(lambda _: closing_lines(srv, port, since), what=f"warning for port {port}")
    assert len(lines) == 1, f"logged {len(lines)} times: {lines}"
    assert " warn" in lines[0], f"not a warning: {lines[0]}"
    for f in fragments:
        assert f in lines[0], f"{f!r} missing from {lines[0]!r}"
    return lines[0]


def send_bad(srv, data, *fragments):
    """One connection, one bad frame: closed by the broker and logged exactly once."""
    since = log_mark(srv)
    s = connect(srv)
    port = s.getsockname()[1]
    try:
        send_quietly(s, data)
        wait_closed(s)
    finally:
        s.close()
    return expect_logged_once(srv, since, port, *fragments)


def check_healthy(srv):
    """A hand-written ApiVersions v3 on a new connection and a real client both get correct answers."""
    assert srv.alive(), f"broker died:\n{srv.log_text()[-3000:]}"
    s = connect(srv)
    try:
        for correlation_id in (7, 8):  # two requests on one connection, answered in order
            s.sendall(api_versions_v3(correlation_id))
            cid, error, apis = parse_api_versions(read_response(s), 3)
            assert (cid, error) == (correlation_id, 0), f"correlation {cid}, error {error}"
            assert apis[API_VERSIONS][0] == 0 and apis[API_VERSIONS][1] >= 3, apis
            for key in (METADATA, 19, 20, 32, 33, 37):
                assert key in apis, f"API {key} missing from {sorted(apis)}"
    finally:
        s.close()
    client = AdminClient({"bootstrap.servers": srv.bootstrap, "log.connection.close": False})
    md = client.list_topics(timeout=10)
    assert md.controller_id == 1 and list(md.brokers) == [1], f"metadata {md.brokers}"
    return apis


def rss_bytes(srv):
    with open(f"/proc/{srv.pid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc status")


def unsent_bytes(s):
    """Bytes still in our socket's send queue (not yet acknowledged by the peer)."""
    buf = fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def open_fds(srv):
    return len(os.listdir(f"/proc/{srv.pid()}/fd"))


def rejected_frames():
    """Frames the broker must refuse, each with a fragment of the warning it logs."""
    return [
        (struct.pack(">I", 0x7FFFFFFF), "request size 2147483647"),
        (struct.pack(">i", MAX_REQUEST + 1), f"request size {MAX_REQUEST + 1}"),
        (struct.pack(">i", -1), "request size -1"),
        (struct.pack(">I", 0x80000000), "request size -2147483648"),
        (struct.pack(">i", 0), "request size 0"),
        (frame(b"\x00\x12\x00"), "request size 3"),
        (frame(header_v1(9999, 0, 42)), "unknown API key 9999"),
        (frame(header_v2(METADATA, 99, 43)), "Metadata v99"),
        # Metadata v0 whose topic array claims 2^31-1 entries and stops: must not allocate them.
        (frame(header_v1(METADATA, 0, 44) + struct.pack(">i", 0x7FFFFFFF)), "does not decode"),
        # Metadata v12 (flexible) with a compact array length of 2^32-1 and nothing after it.
        (frame(header_v2(METADATA, 12, 45) + b"\xff\xff\xff\xff\x0f"), "does not decode"),
        # A client_id length that runs past the end of the frame.
        (frame(struct.pack(">hhih", API_VERSIONS, 0, 46, 500) + b"abc"), "does not decode"),
    ]


# --- tests ---------------------------------------------------------------------------------------

def test_broker_healthy_at_start(srv):
    check_healthy(srv)


def test_size_prefix_above_max(srv):
    send_bad(srv, struct.pack(">I", 0x7FFFFFFF), "request size 2147483647", "socket.request.max.bytes")
    send_bad(srv, struct.pack(">i", MAX_REQUEST + 1) + b"\x00" * 1000, f"request size {MAX_REQUEST + 1}")
    check_healthy(srv)


def test_negative_size_prefix(srv):
    send_bad(srv, struct.pack(">i", -1), "request size -1")
    send_bad(srv, struct.pack(">I", 0x80000000) + b"\x01" * 64, "request size -2147483648")
    check_healthy(srv)


def test_tiny_frames(srv):
    send_bad(srv, struct.pack(">i", 0), "request size 0")
    send_bad(srv, frame(b"\x00\x12\x00"), "request size 3")
    check_healthy(srv)


def test_unknown_api_key(srv):
    send_bad(srv, frame(header_v1(9999, 0, 1234)), "unknown API key 9999", "correlation id 1234")
    send_bad(srv, frame(header_v1(-1, 0, 1235)), "unknown API key -1")
    check_healthy(srv)


def test_unsupported_metadata_version(srv):
    # Metadata is flexible from v9, so a client sending v99 uses request header v2.
    send_bad(srv, frame(header_v2(METADATA, 99, 1)), "Metadata v99")
    send_bad(srv, frame(header_v1(METADATA, -1, 2)), "Metadata v-1")
    check_healthy(srv)


def test_bodies_that_do_not_decode(srv):
    for data, fragment in rejected_frames()[-3:]:
        send_bad(srv, data, fragment)
    check_healthy(srv)


def test_api_versions_v99_gets_unsupported_version_in_v0(srv):
    advertised = check_healthy(srv)[API_VERSIONS]
    s = connect(srv)
    try:
        # A future client: header v2 as for every flexible ApiVersions, and a body we cannot know.
        s.sendall(frame(header_v2(API_VERSIONS, 99, 555) + b"\x01\x02\x03future"))
        cid, error, apis = parse_api_versions(read_response(s), 0)
        assert cid == 555, f"correlation id {cid}"
        assert error == UNSUPPORTED_VERSION, f"error {error}, expected {UNSUPPORTED_VERSION}"
        assert apis == {API_VERSIONS: advertised}, f"api_keys {apis}, expected only ApiVersions {advertised}"
        # The connection stays usable: the client retries with a version we both know.
        s.sendall(api_versions_v3(556))
        cid, error, _ = parse_api_versions(read_response(s), 3)
        assert (cid, error) == (556, 0)
    finally:
        s.close()


def test_garbage_bodies(srv):
    rng = random.Random(20261127)
    answered = closed = 0
    for i in range(200):
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(8, 300)))
        since = log_mark(srv)
        s = connect(srv)
        port = s.getsockname()[1]
        try:
            s.sendall(frame(body))
            s.settimeout(IO_TIMEOUT)
            try:
                head = s.recv(8)
            except ConnectionResetError:
                head = b""
        finally:
            s.close()
        if head:
            # Random bytes that happen to form a request get a proper answer to that request.
            assert len(head) >= 8 and head[4:8] == body[4:8], f"frame {i}: answer {head!r} to {body[:8]!r}"
            answered += 1
        else:
            expect_logged_once(srv, since, port)
            closed += 1
    print(f"  {closed} random frames refused, {answered} answered")
    assert closed > 150, f"only {closed} of 200 random frames were refused"
    check_healthy(srv)


def test_valid_request_then_bad_frame_on_one_connection(srv):
    since = log_mark(srv)
    s = connect(srv)
    port = s.getsockname()[1]
    try:
        s.sendall(api_versions_v3(900) + frame(header_v1(9999, 0, 901)))
        cid, error, _ = parse_api_versions(read_response(s), 3)
        assert (cid, error) == (900, 0), "the good request before the bad one was not answered"
        wait_closed(s)
    finally:
        s.close()
    expect_logged_once(srv, since, port, "unknown API key 9999")
    check_healthy(srv)


def test_truncated_frame(srv):
    before = synced_warning_count(srv)
    for _ in range(20):
        s = connect(srv)
        s.sendall(struct.pack(">i", 100) + b"\x00" * 50)
        s.close()
    s = connect(srv)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset instead of FIN
    s.sendall(struct.pack(">i", 100) + b"\x00" * 50)
    s.close()
    check_healthy(srv)
    # A peer that goes away mid-frame is an ordinary disconnect, not a bad frame.
    assert synced_warning_count(srv) == before + 1, "a truncated frame was logged as an error"


def test_stalled_half_frame(srv):
    s = connect(srv)
    s.sendall(struct.pack(">i", 100) + header_v1(API_VERSIONS, 0, 77)[:10])
    _stalled.append(s)
    # Other clients are served while it waits (the stalled connection stays open for the remaining tests).
    check_healthy(srv)
    s.settimeout(0.05)
    try:
        data = s.recv(1)
        raise AssertionError(f"stalled connection got {data!r}")
    except socket.timeout:
        pass


def test_rapid_connect_disconnect(srv):
    check_healthy(srv)
    fds = open_fds(srv)
    before = synced_warning_count(srv)
    for i in range(3000):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.connect(("127.0.0.1", srv.port))
        s.close()
    check_healthy(srv)
    h.wait_until(lambda: open_fds(srv) <= fds, timeout=10, what=f"broker fds back to {fds} (now {open_fds(srv)})")
    assert synced_warning_count(srv) == before + 1, "plain connects/disconnects were logged as bad frames"


def test_many_concurrent_bad_connections(srv):
    fds = open_fds(srv)
    before = synced_warning_count(srv)
    frames = rejected_frames()
    socks = []
    sel = selectors.DefaultSelector()
    try:
        for i in range(300):
            s = connect(srv)
            socks.append(s)
        for i, s in enumerate(socks):
            send_quietly(s, frames[i % len(frames)][0])
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        open_left = set(socks)
        deadline = time.monotonic() + 15
        while open_left and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                try:
                    data = key.fileobj.recv(4096)
                except ConnectionResetError:
                    data = b""
                assert data == b"", f"bad frame answered with {data[:16]!r}"
                sel.unregister(key.fileobj)
                open_left.discard(key.fileobj)
        assert not open_left, f"{len(open_left)} bad connections still open"
    finally:
        sel.close()
        for s in socks:
            s.close()
    check_healthy(srv)
    after = synced_warning_count(srv)
    assert after == before + 300 + 1, f"{after - before - 1} warnings for 300 bad frames"
    h.wait_until(lambda: open_fds(srv) <= fds, timeout=10, what=f"broker fds back to {fds}")


def test_memory_flat_under_bad_frames(srv):
    frames = rejected_frames()

    def burst(n):
        for i in range(n):
            s = connect(srv)
            try:
                send_quietly(s, frames[i % len(frames)][0])
                wait_closed(s)
            finally:
                s.close()

    burst(300)  # warm-up: allocator arenas and log buffers reach their working size
    check_healthy(srv)
    before_rss, before_warnings = rss_bytes(srv), synced_warning_count(srv)
    burst(2000)
    check_healthy(srv)
    after_warnings = synced_warning_count(srv)
    growth = rss_bytes(srv) - before_rss
    print(f"  RSS {before_rss / MiB:.1f} MiB after warm-up, {growth / MiB:+.1f} MiB after 2000 bad frames")
    # Every one of these frames is refused after at most a few hundred bytes, so nothing should stay
    # behind. 20 MiB is far above allocator noise (a few MiB) yet catches a leak of 10 KiB per frame,
    # and is a fifth of what honouring a single 100 MiB size prefix would cost.
    assert growth < 20 * MiB, f"RSS grew by {growth / MiB:.1f} MiB over 2000 bad frames"
    assert after_warnings == before_warnings + 2000 + 1, \
        f"{after_warnings - before_warnings - 1} warnings for 2000 bad frames"


def test_max_size_prefix_with_stalled_sender(srv):
    check_healthy(srv)
    before = rss_bytes(srv)
    socks = []
    for _ in range(4):
        s = connect(srv)
        s.sendall(struct.pack(">i", MAX_REQUEST) + header_v1(METADATA, 0, 1) + b"\x00" * (2 * MiB))
        socks.append(s)
        _stalled.append(s)
    # Once our send queues are empty the broker's kernel has everything, and with its receive buffer
    # (socket.receive.buffer.bytes=102400, set below) full it must have read all but ~100 KiB of each frame.
    for s in socks:
        h.wait_until(lambda: unsent_bytes(s) == 0, timeout=10, what="the broker to read the stalled frames")
    check_healthy(srv)
    growth = rss_bytes(srv) - before
    print(f"  RSS {growth / MiB:+.1f} MiB with 4 stalled 100 MiB frames (2 MiB sent each)")
    # Four peers announce 100 MiB each but send 2 MiB: the broker holds what arrived (with slack for
    # buffer growth), never the announced size.
    assert growth < 40 * MiB, f"RSS grew by {growth / MiB:.1f} MiB for 4 stalled 100 MiB frames"


def test_stalled_connections_closed_and_broker_stops_cleanly(srv):
    # Close all but the first stalled sender; SIGTERM must not wait for that one to finish its frame.
    for s in _stalled[1:]:
        s.close()
    check_healthy(srv)
    srv.stop()  # asserts exit code 0
    for s in _stalled:
        s.close()
    _stalled.clear()


if __name__ == "__main__":
    # Kafka's fixed receive buffer (Brook's default leaves it to the kernel's auto-tuning, which could
    # hold a stalled frame's 2 MiB without the broker reading any of it).
    h.main(globals(), overrides={"socket.receive.buffer.bytes": "102400"}, modules=["confluent_kafka"])
