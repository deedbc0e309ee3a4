"""A throwaway Brook broker for tests: `brook-server --ephemeral --exit-on-stdin-eof`, and a client
for its control API (fault injection, reset, request log).

The broker is started with a pipe on its stdin that only this process holds, so it stops when the
pipe closes: at stop(), and also when the test process dies in any way, so it cannot be left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Iterator, Mapping, Optional

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
CONTROL_TIMEOUT = 30.0


class BrookError(Exception):
    """The broker could not be found, started or stopped."""


class BrookControlError(BrookError):
    """The control API refused a request (4xx/5xx); `status` and the broker's `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def find_server(explicit: Optional[str] = None) -> str:
    """The brook-server to run: `explicit`, else $BROOK_SERVER, else brook-server on PATH."""
    candidate = explicit or os.environ.get("BROOK_SERVER") or shutil.which("brook-server")
    if not candidate:
        raise BrookError("brook-server not found: put it on PATH or set BROOK_SERVER to its path")
    if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        raise BrookError(f"{candidate} is not an executable file (from BROOK_SERVER or --brook-server)")
    return candidate


class Brook:
    """One running broker. `bootstrap_servers` goes into the client's configuration; the other
    methods drive the control API. Use `start()`, or the pytest fixture `brook`."""

    def __init__(self, server: Optional[str] = None, overrides: Optional[Mapping[str, Any]] = None):
        self._binary = find_server(server)
        self._overrides = dict(overrides or {})
        self._process: Optional[subprocess.Popen] = None
        self._log = None
        self.bootstrap_servers: str = ""
        self.control_url: str = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Brook":
        args = [self._binary, "--ephemeral", "--exit-on-stdin-eof"]
        for key, value in self._overrides.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            args += ["--override", f"{key}={value}"]
        # The broker's log goes to a file (shown when it fails to start); stdout has its two lines.
        self._log = tempfile.TemporaryFile(prefix="brook-server-", suffix=".log")
        self._process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            self.bootstrap_servers = self._read_value("bootstrap.servers=", deadline)
            self.control_url = self._read_value("control=", deadline)
        except BaseException:
            self.stop(check=False)
            raise
        return self

    def _read_value(self, prefix: str, deadline: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        out = self._process.stdout
        line = b""
        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise BrookError(f"brook-server printed no '{prefix}' line within {START_TIMEOUT}s\n"
                                     + self.log_text())
                chunk = os.read(out.fileno(), 1)  # byte by byte: nothing past the line is consumed
                if not chunk:
                    code = self._process.wait()
                    raise BrookError(f"brook-server exited with {code} before printing '{prefix}'\n"
                                     + self.log_text())
                line += chunk
        text = line.decode().strip()
        if not text.startswith(prefix):
            raise BrookError(f"brook-server printed {text!r}, expected '{prefix}...'")
        return text[len(prefix):]

    def stop(self, check: bool = True) -> None:
        """Closes the broker's stdin (it stops cleanly and removes its data) and waits for it.
        With `check`, a non-zero exit raises BrookError."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
            try:
                code = process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGTERM)
                try:
                    code = process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                    raise BrookError("brook-server did not stop; killed\n" + self._log_text_of())
            if process.stdout:
                process.stdout.close()
            if check and code != 0:
                raise BrookError(f"brook-server exited with {code}\n" + self._log_text_of())
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self, tail_bytes: int = 8000) -> str:
        """The end of the broker's log."""
        return self._log_text_of(tail_bytes)

    def _log_text_of(self, tail_bytes: int = 8000) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - tail_bytes))
        return self._log.read().decode("utf-8", "replace")

    def __enter__(self) -> "Brook":
        return self if self.running() else self.start()

    def __exit__(self, *exc) -> None:
        self.stop(check=exc[0] is None)

    # --- control API -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> Any:
        if not self.control_url:
            raise BrookError("the broker is not running")
        data = None if body is None else json.dumps({k: v for k, v in body.items() if v is not None}).encode()
        request = urllib.request.Request(self.control_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT) as response:
                text = response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw).get("error", raw.decode())
            except ValueError:
                message = raw.decode("utf-8", "replace")
            raise BrookControlError(e.code, f"{method} {path}: {message}") from None
        return json.loads(text) if text else {}

    def health(self) -> dict:
        return self._call("GET", "/health")

    def reset(self) -> None:
        """Deletes every topic, group, committed offset and producer state; clears fault rules and
        the request log. The broker keeps serving (clients may see their topics vanish)."""
        self._call("POST", "/reset", {})

    def create_topic(self, name: str, partitions: int = 1, configs: Optional[Mapping[str, str]] = None) -> None:
        self._call("POST", "/topics", {"name": name, "partitions": partitions, "configs": dict(configs or {})})

    def inject_error(self, api: "str | int", error: "str | int", count: int = 1, topic: Optional[str] = None,
                     group: Optional[str] = None) -> int:
        """The next `count` requests of `api` (Kafka's name, e.g. "Produce", or key), optionally only
        those for `topic` / `group`, are answered with `error` (e.g. "NOT_LEADER_OR_FOLLOWER").
        Returns the rule's id."""
        return self._call("POST", "/faults/errors",
                          {"api": api, "error": error, "count": count, "topic": topic, "group": group})["id"]

    def delay(self, api: "str | int", ms: int, count: Optional[int] = None) -> int:
        """Delays the answers to `api` by `ms` (the next `count` requests, or until cleared)."""
        return self._call("POST", "/faults/delay", {"api": api, "ms": ms, "count": count})["id"]

    def drop_connection(self, api: "str | int", count: int = 1) -> int:
        """Closes the connection on receipt of the next `count` requests of `api`, unanswered."""
        return self._call("POST", "/faults/drop", {"api": api, "count": count})["id"]

    def cap_version(self, api: "str | int", max_version: int) -> int:
        """ApiVersions advertises at most `max_version` for `api` until the rule is cleared."""
        return self._call("POST", "/faults/version-cap", {"api": api, "max_version": max_version})["id"]

    def disk_fault(self, op: str = "append", error: str = "EIO", count: int = 1, topic: Optional[str] = None) -> int:
        """The next `count` log `op`s ("append" or "fsync") fail with `error` ("EIO" or "ENOSPC")."""
        return self._call("POST", "/faults/disk", {"op": op, "error": error, "count": count, "topic": topic})["id"]

    def faults(self) -> list:
        """The fault rules in force, each with its id, kind and what is left of its count."""
        return self._call("GET", "/faults")["rules"]

    def clear_faults(self, rule_id: Optional[int] = None) -> None:
        """Removes one rule, or every rule."""
        self._call("DELETE", "/faults" if rule_id is None else f"/faults/{rule_id}")

    def pause(self) -> None:
        """Stops answering: connections stay open and are accepted, nothing is answered until resume()."""
        self._call("POST", "/pause", {})

    def resume(self) -> None:
        self._call("POST", "/resume", {})

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def close_connections(self) -> int:
        """Closes every client connection; returns how many."""
        return self._call("POST", "/connections/close", {})["closed"]

    def requests(self, api: Optional[str] = None) -> list:
        """The requests the broker received (oldest first, bounded), each a dict with api, api_key,
        api_version, client_id and correlation_id; only those of `api` when given."""
        log = self._call("GET", "/requests")["requests"]
        return [r for r in log if api is None or r["api"] == api]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")


@contextlib.contextmanager
def start(server: Optional[str] = None, overrides: Optional[Mapping[str, Any]] = None) -> Iterator[Brook]:
    """`with brook_pytest.start() as brook:` runs a broker for the block."""
    brook = Brook(server, overrides).start()
    try:
        yield brook
    finally:
        brook.stop(check=False)
