#!/usr/bin/env python3
"""brook-server --ephemeral: a throwaway broker for tests.

It prints `bootstrap.servers=127.0.0.1:PORT` as its first stdout line once it accepts connections
(then the control line), logs only to stderr, keeps its data in a temporary directory that is gone
after a clean exit (SIGTERM, or stdin closed with --exit-on-stdin-eof), and lets --override win over
its own settings."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request

import brook_harness as h
import kafka_wire as kw

BOOTSTRAP = re.compile(r"^bootstrap\.servers=127\.0\.0\.1:(\d+)$")
CONTROL = re.compile(r"^control=http://127\.0\.0\.1:(\d+)$")


class Ephemeral:
    """One `brook-server --ephemeral` process; stderr is collected on a thread into `stderr_lines`."""

    def __init__(self, *extra, exit_on_stdin_eof=False):
        args = [h.server_binary(), "--ephemeral", *extra]
        if exit_on_stdin_eof:
            args.append("--exit-on-stdin-eof")
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, preexec_fn=h._die_with_parent)
        self.stderr_lines = []
        self._stderr = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr.start()

    def _read_stderr(self):
        for raw in self.process.stderr:
            self.stderr_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def read_line(self, timeout=h.START_TIMEOUT):
        """The next stdout line (without the newline); fails if none comes in `timeout` seconds."""
        result = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        assert result, f"no stdout line within {timeout}s; stderr:\n" + "\n".join(self.stderr_lines[-20:])
        return result[0].decode("utf-8", "replace").rstrip("\n")

    def data_dir(self):
        """The temporary data directory, as the broker logs it when it opens the log dir."""
        text = "\n".join(self.stderr_lines)
        m = re.search(r"(/\S*?/brook-[A-Za-z0-9]{6})", text)
        return m.group(1) if m else None

    def wait(self, timeout=h.STOP_TIMEOUT):
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"brook-server did not exit within {timeout}s")
        self._stderr.join(5)
        return code

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start(*extra, exit_on_stdin_eof=False):
    """Starts one and reads its bootstrap line; returns (server, port)."""
    srv = Ephemeral(*extra, exit_on_stdin_eof=exit_on_stdin_eof)
    line = srv.read_line()
    m = BOOTSTRAP.match(line)
    assert m, f"first stdout line is {line!r}; stderr:\n" + "\n".join(srv.stderr_lines[-20:])
    return srv, int(m.group(1))


def api_versions_answered(port):
    """Connects and gets an ApiVersions v0 answer (the broker serves requests)."""
    with kw.connect(port, 10) as s:
        s.sendall(kw.frame(kw.header_v1(18, 0, 1)))
        body = kw.read_response(s)
        assert body[:4] == (1).to_bytes(4, "big"), body[:8]
        assert body[4:6] == b"\0\0", f"ApiVersions error {body[4:6]!r}"
        return body


def broker_configs(port, names):
    """The broker's values of `names`, through DescribeConfigs (confluent-kafka's admin client)."""
    from confluent_kafka.admin import AdminClient, ConfigResource
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    res = ConfigResource(ConfigResource.Type.BROKER, "1")
    entries = admin.describe_configs([res], request_timeout=20)[res].result(30)
    return {name: entries[name].value for name in names}


def find_data_dir(srv, port):
    """The broker's data directory: the one temporary brook-XXXXXX directory holding its metadata."""
    d = srv.data_dir()
    assert d and os.path.isdir(d), f"data directory not found in the log:\n" + "\n".join(srv.stderr_lines[-20:])
    assert os.path.isdir(os.path.join(d, "__brook_metadata")), os.listdir(d)
    return d


def test_prints_bootstrap_then_control_and_accepts_at_once():
    srv, port = start(exit_on_stdin_eof=True)
    try:
        # Right after the first line, with no retry loop: the listener already accepts.
        api_versions_answered(port)
        control_line = srv.read_line()
        m = CONTROL.match(control_line)
        assert m, f"second stdout line is {control_line!r}"
        with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/health", timeout=10) as r:
            health = json.loads(r.read())
        assert health["bootstrap_servers"] == f"127.0.0.1:{port}", health
        # The logs went to stderr.
        h.wait_until(lambda: any("listening on" in line for line in srv.stderr_lines), 10, what="stderr log")
    finally:
        srv.process.stdin.close()
        assert srv.wait() == 0
    rest = srv.process.stdout.read().decode()
    assert rest == "", f"stdout has more than the two lines: {rest!r}"


def test_sigterm_exits_cleanly_and_removes_the_data_directory():
    srv, port = start()
    try:
        api_versions_answered(port)
        h.wait_until(lambda: srv.data_dir(), 10, what="the data directory in the log")
        data = find_data_dir(srv, port)
        base = os.path.dirname(data)
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            assert base == "/dev/shm", data
        srv.process.send_signal(signal.SIGTERM)
        code = srv.wait()
    finally:
        srv.kill()
    assert code == 0, "\n".join(srv.stderr_lines[-20:])
    assert not os.path.exists(data), f"{data} is still there after exit"


def test_closing_stdin_stops_it():
    srv, port = start(exit_on_stdin_eof=True)
    try:
        api_versions_answered(port)
        h.wait_until(lambda: srv.data_dir(), 10, what="the data directory in the log")
        data = find_data_dir(srv, port)
        srv.process.stdin.close()
        code = srv.wait()
    finally:
        srv.kill()
    assert code == 0, "\n".join(srv.stderr_lines[-20:])
    assert any("stdin closed" in line for line in srv.stderr_lines), srv.stderr_lines[-5:]
    assert not os.path.exists(data), f"{data} is still there after exit"


def test_without_the_flag_stdin_eof_does_not_stop_it():
    srv, port = start()
    try:
        srv.process.stdin.close()
        # Still serving after stdin closed: a request round trip after the close proves it.
        api_versions_answered(port)
        assert srv.process.poll() is None
        srv.process.send_signal(signal.SIGTERM)
        assert srv.wait() == 0
    finally:
        srv.kill()


def test_override_wins_over_the_ephemeral_settings():
    # The ephemeral setting group.initial.rebalance.delay.ms=0 and the fsync switch, overridden.
    srv, port = start("--override", "group.initial.rebalance.delay.ms=1234",
                      "--override", "brook.log.fsync=true", exit_on_stdin_eof=True)
    try:
        configs = broker_configs(port, ["group.initial.rebalance.delay.ms", "brook.log.fsync"])
        assert configs["group.initial.rebalance.delay.ms"] == "1234", configs
        assert configs["brook.log.fsync"] == "true", configs
    finally:
        srv.process.stdin.close()
        assert srv.wait() == 0
    srv, port = start(exit_on_stdin_eof=True)
    try:
        configs = broker_configs(port, ["group.initial.rebalance.delay.ms", "brook.log.fsync"])
        assert configs["group.initial.rebalance.delay.ms"] == "0", configs
        assert configs["brook.log.fsync"] == "false", configs
    finally:
        srv.process.stdin.close()
        assert srv.wait() == 0


if __name__ == "__main__":
    h.require_modules("confluent_kafka")
    h.server_binary()
    sys.exit(1 if h.run_tests({k: v for k, v in globals().items()}) else 0)
