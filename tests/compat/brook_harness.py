"""Shared pieces of the real-client compatibility tests.

`brook_server()` starts the broker named by $BROOK_SERVER on a free port with a fresh data
directory and stops it again; `run_tests()` runs a script's test_* functions and reports them the
way CTest expects (exit 0 = all passed, 1 = something failed, 77 = skipped).

Scripts print one line per test and end with "N passed, M failed".
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONF = os.path.join(HERE, "..", "..", "conf", "server.properties")
LISTENING = re.compile(r"listening on ([A-Z0-9_]+)://([0-9.]+):(\d+)")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0

# Interpreters that carry the distribution's client packages, tried when the running one lacks them
# (e.g. a version-managed python3 that comes first on PATH).
SYSTEM_PYTHONS = ["/usr/bin/python3"]
_REEXEC_MARK = "BROOK_COMPAT_REEXEC"


def skip(message):
    print("SKIP: " + message, flush=True)
    sys.exit(SKIP)


def require_modules(*names):
    """Exits 77 unless every module in `names` can be imported.

    If this interpreter lacks them but the system interpreter has them, the script is re-run under
    that interpreter instead, so that the test does not depend on which python3 comes first on PATH.
    """
    missing = []
    for name in names:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if not missing:
        return
    if not os.environ.get(_REEXEC_MARK) and sys.argv and os.path.isfile(sys.argv[0]):
        here = os.path.realpath(sys.executable or "")
        for candidate in SYSTEM_PYTHONS:
            if not os.path.exists(candidate) or os.path.realpath(candidate) == here:
                continue
            probe = subprocess.run([candidate, "-c", "; ".join("import " + n for n in names)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if probe.returncode == 0:
                print(f"note: {sys.executable} lacks {', '.join(missing)}; re-running under {candidate}",
                      flush=True)
                os.environ[_REEXEC_MARK] = "1"
                os.execv(candidate, [candidate] + sys.argv)
    skip(f"python module(s) not importable: {', '.join(missing)}")


def require_program(name):
    path = shutil.which(name)
    if not path:
        skip(f"program not found on PATH: {name}")
    return path


def server_binary():
    path = os.environ.get("BROOK_SERVER")
    if not path:
        skip("BROOK_SERVER is not set (path to brook-server)")
    if not os.access(path, os.X_OK):
        skip(f"BROOK_SERVER={path} is not an executable file")
    return path


def _die_with_parent():
    # If the test process is killed (e.g. by a CTest timeout), take the broker down with it.
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    """Polls `predicate` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class BrookServer:
    """One brook-server process (and its successors after restart()) on one data directory.

    Owned by the brook_server() block. While `process` runs, `port`/`bootstrap` are the port it
    announced; `_lines` holds everything it printed across restarts, guarded by `_lock`.
    """

    def __init__(self, binary, conf, overrides, data_dir):
        self.binary = binary
        self.conf = conf
        self.overrides = dict(overrides)
        self.data_dir = data_dir
        self.process = None
        self.port = None
        self.bootstrap = None
        self.listener_ports = {}  # listener name -> port, as announced
        self._lines = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._reader = None

    def start(self, timeout=START_TIMEOUT):
        """Starts the broker and waits until every client listener is announced, at most `timeout` s."""
        assert self.process is None or self.process.poll() is not None, "broker already running"
        args = [self.binary, self.conf]
        overrides = {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": self.data_dir}
        overrides.update(self.overrides)
        for key, value in overrides.items():
            args += ["--override", f"{key}={value}"]
        self.port = None
        self.bootstrap = None
        self.listener_ports = {}
        controllers = {n.strip().upper() for n in overrides.get("controller.listener.names", "").split(",")}
        wanted = len([l for l in overrides["listeners"].split(",")
                      if l.strip() and l.split("://")[0].strip().upper() not in controllers])
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self._reader = threading.Thread(target=self._read_output, args=(self.process,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.port is None or len(self.listener_ports) < wanted:
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"brook-server exited with {self.process.returncode} before "
                                         f"listening:\n{self._log_text_locked()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.process.kill()
                    raise AssertionError(f"brook-server did not announce its port within "
                                         f"{timeout}s:\n{self._log_text_locked()}")
                self._cond.wait(min(left, 0.5))
        self.bootstrap = f"127.0.0.1:{self.port}"
        return self

    def _read_output(self, process):
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self._lines.append(line)
                m = LISTENING.search(line)
                if m and m.group(1) not in self.listener_ports:
                    self.listener_ports[m.group(1)] = int(m.group(3))
                    if self.port is None:
                        self.port = int(m.group(3))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _log_text_locked(self):
        return "\n".join(self._lines)

    def log_text(self):
        """Everything the broker has printed so far (across restarts)."""
        with self._lock:
            return "\n".join(self._lines)

    def log_lines(self):
        with self._lock:
            return list(self._lines)

    def wait_for_log(self, predicate, timeout=10.0, what="log line"):
        """Waits until predicate(list of log lines) is truthy; returns its value."""
        return wait_until(lambda: predicate(self.log_lines()), timeout, what=what)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def pid(self):
        return self.process.pid

    def stop(self):
        """SIGTERM, then asserts a clean exit (code 0) within STOP_TIMEOUT."""
        assert self.process is not None, "broker was never started"
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"brook-server did not stop within {STOP_TIMEOUT}s of SIGTERM")
        self._reader.join(5)
        code = self.process.returncode
        assert code == 0, f"brook-server exited with {code}:\n{self.log_text()[-4000:]}"

    def restart(self):
        """Stops cleanly and starts again on the same data dir (the port changes)."""
        self.stop()
        return self.start()

    def kill_quietly(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def brook_server(extra_overrides=None, data_dir=None, conf=None):
    binary = server_binary()
    own_dir = data_dir is None
    if own_dir:
        data_dir = tempfile.mkdtemp(prefix="brook-compat-")
    srv = BrookServer(binary, conf or os.environ.get("BROOK_CONF", DEFAULT_CONF), extra_overrides or {}, data_dir)
    try:
        srv.start()
        yield srv
    finally:
        # A test that wants the exit code checked calls srv.stop() itself.
        if srv.alive():
            srv.process.send_signal(signal.SIGTERM)
            try:
                srv.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                srv.kill_quietly()
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


def unique_name(prefix):
    unique_name.counter += 1
    return f"{prefix}-{os.getpid()}-{unique_name.counter}"


unique_name.counter = 0


def run_tests(namespace, *args, server=None):
    """Runs every function named test_* in `namespace` (in definition order) with `args`.

    Prints one line per test and a final "N passed, M failed" line; returns the number failed.
    When `server` is given, a failure also prints the broker's last log lines.
    """
    only = set(sys.argv[1:])
    tests = [(name, fn) for name, fn in namespace.items()
             if name.startswith("test_") and callable(fn) and (not only or name in only)]
    passed = failed = 0
    for name, fn in tests:
        started = time.monotonic()
        try:
            fn(*args)
        except Exception:
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - started:.2f}s)", flush=True)
            traceback.print_exc(file=sys.stdout)
            if server is not None:
                tail = server.log_lines()[-15:]
                print("  broker log tail:\n    " + "\n    ".join(tail), flush=True)
        else:
            passed += 1
            print(f"PASS {name} ({time.monotonic() - started:.2f}s)", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return failed


def main(namespace, overrides=None, modules=(), programs=()):
    """The usual script body: skip checks, one broker for all tests, exit code for CTest.

    Each test function receives the running BrookServer.
    """
    for program in programs:
        require_program(program)
    require_modules(*modules)
    server_binary()
    with brook_server(extra_overrides=overrides) as srv:
        failed = run_tests(namespace, srv, server=srv)
    sys.exit(1 if failed else 0)
