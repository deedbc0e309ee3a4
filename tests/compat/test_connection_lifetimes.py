"""Connections on raw sockets: bytes after a request body are ignored as Kafka ignores them; a
parked Fetch ends with its client (no socket left in CLOSE_WAIT) and with the broker (SIGTERM);
a reconnecting consumer may drop a fetch session while a long poll of it waits; the accept loop
backs off, quietly, while the broker is out of file descriptors; and accepted sockets get the
configured socket.receive.buffer.bytes and socket.send.buffer.bytes."""

import os
import re
import shutil
import socket
import stat
import struct
import subprocess
import tempfile
import time

import brook_harness as h
import kafka_wire as w
from kafka_wire import Reader, compact_string, frame, header_v1, header_v2, read_response, uvarint

PRODUCE, FETCH, METADATA, API_VERSIONS, CREATE_TOPICS, DESCRIBE_CLUSTER = 0, 1, 3, 18, 19, 60
IO_TIMEOUT = 10.0
HUGE_WAIT_MS = 2**31 - 1
TCP_CLOSE_WAIT = 0x08


# --- requests ------------------------------------------------------------------------------------

def api_versions_v3(correlation_id, trailing=b""):
    body = compact_string("brook-compat") + compact_string("1.0") + uvarint(0)
    return frame(header_v2(API_VERSIONS, 3, correlation_id) + body + trailing)


def string(s):
    return w.string(s)


def create_topic_v4(correlation_id, name, partitions=1):
    topic = string(name) + struct.pack(">ihii", partitions, 1, 0, 0)  # no assignments, no configs
    body = struct.pack(">i", 1) + topic + struct.pack(">i?", 10000, False)
    return frame(header_v1(CREATE_TOPICS, 4, correlation_id) + body)


def fetch_v4(correlation_id, topic, max_wait_ms, offset=0):
    partition = struct.pack(">iqi", 0, offset, 1 << 20)
    body = struct.pack(">iiiib", -1, max_wait_ms, 1, 1 << 20, 0)
    body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1) + partition
    return frame(header_v1(FETCH, 4, correlation_id) + body)


def fetch_v7(correlation_id, topic, max_wait_ms, session_id, session_epoch, partitions=(0,)):
    body = struct.pack(">iiiibii", -1, max_wait_ms, 1, 1 << 20, 0, session_id, session_epoch)
    if partitions:
        parts = b"".join(struct.pack(">iqqi", p, 0, -1, 1 << 20) for p in partitions)
        body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", len(partitions)) + parts
    else:
        body += struct.pack(">i", 0)
    body += struct.pack(">i", 0)  # no forgotten topics
    return frame(header_v1(FETCH, 7, correlation_id) + body)


def parse_fetch_v7(body):
    """-> (correlation_id, error_code, session_id)."""
    r = Reader(body)
    correlation_id = r.int32()
    r.int32()  # throttle_time_ms
    return correlation_id, r.int16(), r.int32()


def call(s, request, correlation_id):
    s.sendall(request)
    body = read_response(s)
    assert struct.unpack(">i", body[:4])[0] == correlation_id, "response to another request"
    return body


def healthy(port):
    s = w.connect(port, IO_TIMEOUT)
    try:
        call(s, api_versions_v3(999), 999)
    finally:
        s.close()


def create_topic(port, name, partitions=1):
    s = w.connect(port, IO_TIMEOUT)
    try:
        body = call(s, create_topic_v4(1, name, partitions), 1)
        r = Reader(body)
        r.int32(), r.int32()
        assert r.int32() == 1
        assert r.nullable_string() == name
        error = r.int16()
        assert error == 0, f"CreateTopics failed with {error}"
    finally:
        s.close()


def close_wait_sockets(port):
    """Sockets of the broker's listening port in CLOSE_WAIT (the peer closed, the broker did not)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    if local_port == port and int(fields[3], 16) == TCP_CLOSE_WAIT:
                        count += 1
        except FileNotFoundError:
            pass
    return count


def no_answer_within(s, seconds):
    s.settimeout(seconds)
    try:
        data = s.recv(1)
        return False if data else True
    except socket.timeout:
        return True
    finally:
        s.settimeout(IO_TIMEOUT)


def park_fetches(port, topic, count, pipelined=False):
    """`pipelined`: every other client sends a second request behind its fetch, which the broker
    reads and holds until the fetch is answered, so that it has stopped reading that socket."""
    sockets = []
    for i in range(count):
        s = w.connect(port, IO_TIMEOUT)
        request = fetch_v4(i, topic, HUGE_WAIT_MS)
        if pipelined and i % 2:
            request += api_versions_v3(10000 + i)
        s.sendall(request)
        sockets.append(s)
    # They are parked: none is answered (nothing to read, min_bytes 1, a wait of 24 days).
    assert no_answer_within(sockets[-1], 0.5), "a fetch with nothing to read was answered at once"
    return sockets


# --- tests ---------------------------------------------------------------------------------------

def test_a_fresh_data_dir_is_logged_as_new(srv):
    first_start = srv.log_text()
    assert "new, no partitions yet" in first_start
    assert "recovering unflushed data" not in first_start


def test_bytes_after_the_body_are_ignored_on_several_apis(srv):
    s = w.connect(srv.port, IO_TIMEOUT)
    try:
        # librdkafka 2.15's all-topics Metadata v12: the null topic array takes 4 bytes, the first
        # of which reads as the compact null; the 3 after the body are left over.
        metadata_v12 = b"\x00\x00\x00\x00" + b"\x01\x00\x00"
        call(s, frame(header_v2(METADATA, 12, 1) + metadata_v12), 1)
        # Metadata v1 (classic encoding): a null topic array, then junk.
        call(s, frame(header_v1(METADATA, 1, 2) + struct.pack(">i", -1) + b"\xde\xad"), 2)
        call(s, api_versions_v3(3, trailing=b"\x00\x01\x02\x03"), 3)
        # DescribeCluster v0: include_cluster_authorized_operations, tags, junk.
        call(s, frame(header_v2(DESCRIBE_CLUSTER, 0, 4) + b"\x00\x00" + b"\xff" * 5), 4)
        # Produce v9 (acks=1, no topics) with junk after it.
        produce = compact_string(None) + struct.pack(">hi", 1, 1000) + uvarint(1) + uvarint(0) + b"\x07\x07"
        call(s, frame(header_v2(PRODUCE, 9, 5) + produce), 5)
        # The connection is still in service.
        call(s, api_versions_v3(6), 6)
    finally:
        s.close()
    assert "bytes left over" not in srv.log_text()


def test_create_topics_with_a_32767_character_name_is_answered_intact(srv):
    name = "n" * 32767
    s = w.connect(srv.port, IO_TIMEOUT)
    try:
        body = call(s, create_topic_v4(7, name), 7)
        r = Reader(body)
        r.int32(), r.int32()  # correlation id, throttle_time_ms
        assert r.int32() == 1
        assert r.nullable_string() == name
        assert r.int16() == 17  # INVALID_TOPIC_EXCEPTION: longer than 249 characters
        message = r.nullable_string()
        assert message is not None and message.startswith("Topic name is invalid"), repr(message)[:80]
        assert len(message.encode()) <= 32767
        r.done()
        call(s, api_versions_v3(8), 8)  # the connection is still in service
    finally:
        s.close()


def test_parked_fetches_end_with_their_clients(srv):
    topic = h.unique_name("parked")
    create_topic(srv.port, topic)
    sockets = park_fetches(srv.port, topic, 200, pipelined=True)
    for s in sockets:
        s.close()
    # The broker notices every peer closing and cancels its wait: no socket stays in CLOSE_WAIT.
    h.wait_until(lambda: close_wait_sockets(srv.port) == 0, timeout=5.0, what="no CLOSE_WAIT sockets left")
    healthy(srv.port)


def test_reconnecting_consumer_drops_a_session_during_a_long_poll(srv):
    topic = h.unique_name("session")
    create_topic(srv.port, topic)
    a = w.connect(srv.port, IO_TIMEOUT)
    b = w.connect(srv.port, IO_TIMEOUT)
    try:
        _, error, session = parse_fetch_v7(call(a, fetch_v7(1, topic, 0, 0, 0), 1))
        assert error == 0 and session > 0, (error, session)
        # An incremental fetch of that session parks (nothing to read) for 1.5 s.
        a.sendall(fetch_v7(2, topic, 1500, session, 1, partitions=()))
        assert no_answer_within(a, 0.3)
        # The consumer reconnects and starts over: epoch 0 on the old id frees the session.
        _, error, fresh = parse_fetch_v7(call(b, fetch_v7(3, topic, 0, session, 0), 3))
        assert error == 0 and fresh not in (0, session), (error, fresh)
        # The parked fetch answers at its deadline without the session it had.
        correlation_id, error, answered_session = parse_fetch_v7(read_response(a))
        assert correlation_id == 2
        assert error == 0, error
        assert answered_session == 0, answered_session
        # The old session is gone; the new one works; the broker is healthy.
        _, error, _ = parse_fetch_v7(call(a, fetch_v7(4, topic, 0, session, 1), 4))
        assert error == 70, error  # FETCH_SESSION_ID_NOT_FOUND
        _, error, again = parse_fetch_v7(call(b, fetch_v7(5, topic, 0, fresh, 1, partitions=()), 5))
        assert error == 0 and again == fresh, (error, again)
    finally:
        a.close()
        b.close()
    healthy(srv.port)


def test_sigterm_stops_the_broker_with_parked_fetches(_shared):
    """Uses a broker of its own, since it stops it."""
    with h.brook_server() as other:
        topic = h.unique_name("parked")
        create_topic(other.port, topic)
        sockets = park_fetches(other.port, topic, 20)
        started = time.monotonic()
        try:
            other.stop()  # SIGTERM; asserts exit code 0 within the harness's bound
            took = time.monotonic() - started
            assert took < 5.0, f"stopping took {took:.1f}s"
            # Every parked fetch was answered (empty) before the connection closed.
            for i, s in enumerate(sockets):
                assert struct.unpack(">i", read_response(s)[:4])[0] == i
        finally:
            for s in sockets:
                s.close()


def test_idle_limit_closes_a_connection_with_a_parked_fetch(_shared):
    """Uses a broker of its own with connections.max.idle.ms=1000."""
    with h.brook_server({"connections.max.idle.ms": "1000"}) as other:
        topic = h.unique_name("idle")
        create_topic(other.port, topic)
        s = park_fetches(other.port, topic, 1)[0]
        try:
            s.settimeout(6.0)
            try:
                data = s.recv(1 << 16)
            except ConnectionResetError:
                data = b""
            except socket.timeout:
                raise AssertionError("a connection idle past connections.max.idle.ms was kept open")
            assert data == b"", "the parked fetch was answered instead of the idle connection closing"
        finally:
            s.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def accept_warnings(srv):
    return sum(1 for line in srv.log_lines() if "accept" in line and "failed" in line)


def test_accept_loop_backs_off_while_out_of_descriptors(_shared):
    """Uses a broker of its own, started with a low open-file limit."""
    limit = 160
    wrapper_dir = tempfile.mkdtemp(prefix="brook-nofile-")
    wrapper = os.path.join(wrapper_dir, "brook-server-nofile")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nulimit -n {limit} || exit 1\nexec '{h.server_binary()}' \"$@\"\n")
    os.chmod(wrapper, stat.S_IRWXU)
    saved = os.environ.get("BROOK_SERVER")
    os.environ["BROOK_SERVER"] = wrapper
    clients = []
    try:
        with h.brook_server() as srv:
            first = w.connect(srv.port, IO_TIMEOUT)
            call(first, api_versions_v3(1), 1)
            # Open connections until the broker runs out of descriptors (the rest wait in the backlog).
            for _ in range(limit + 40):
                clients.append(w.connect(srv.port, IO_TIMEOUT))
            h.wait_until(lambda: accept_warnings(srv) > 0, timeout=10.0, what="the accept failure warning")
            warnings_before = accept_warnings(srv)
            cpu_before = cpu_seconds(srv.pid())
            time.sleep(3.0)  # measuring CPU use over a fixed window, not waiting for an event
            cpu_used = cpu_seconds(srv.pid()) - cpu_before
            warnings = accept_warnings(srv) - warnings_before
            print(f"  out of descriptors for 3s: {cpu_used:.2f}s of broker CPU, {warnings} accept warning(s)")
            assert cpu_used < 0.3, f"the broker used {cpu_used:.2f}s of CPU in 3s while out of descriptors"
            assert warnings <= 1, f"{warnings} accept warnings in 3s"
            # Existing connections are still served.
            call(first, api_versions_v3(2), 2)
            # Once descriptors are free again, waiting connections are accepted and served.
            for s in clients:
                s.close()
            clients.clear()
            late = w.connect(srv.port, IO_TIMEOUT)
            try:
                call(late, api_versions_v3(3), 3)
            finally:
                late.close()
            first.close()
    finally:
        for s in clients:
            s.close()
        if saved is None:
            os.environ.pop("BROOK_SERVER", None)
        else:
            os.environ["BROOK_SERVER"] = saved
        os.remove(wrapper)
        os.rmdir(wrapper_dir)

def server_socket_buffers(port):
    """(SO_RCVBUF, SO_SNDBUF) of the broker's side of each established connection on `port`, as the
    kernel reports them (ss's skmem rb and tb: twice the value set, as Linux doubles it)."""
    out = subprocess.run(["ss", "-tmnH", "state", "established", f"( sport = :{port} )"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return [(int(m.group(1)), int(m.group(2))) for m in re.finditer(r"skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)", out)]


def test_accepted_sockets_get_the_configured_buffer_sizes(_shared):
    """Uses a broker of its own, with buffer sizes no kernel default has."""
    if shutil.which("ss") is None:
        raise AssertionError("this test reads the broker's socket buffers with ss (iproute2), which is not installed")
    with h.brook_server({"socket.receive.buffer.bytes": "50000", "socket.send.buffer.bytes": "70000"}) as srv:
        s = w.connect(srv.port, IO_TIMEOUT)
        try:
            call(s, api_versions_v3(1), 1)
            assert server_socket_buffers(srv.port) == [(100000, 140000)]
        finally:
            s.close()


if __name__ == "__main__":
    h.main(globals())
