"""Side by side: every scenario runs against Brook and against a real Apache Kafka broker, and the tests
compare what the two answer.

`clusters` starts one `brook-server --ephemeral` for the whole session (the binary named by
$BROOK_SERVER) and reads the Kafka broker's address from $BROOK_KAFKA_BOOTSTRAP_FILE, written by ctest's
fixture (tests/client/kafka/kafka_broker.py). `both(clusters, scenario, ...)` runs a scenario against
the two at once, on two threads (`both_async` for coroutines), and returns {"brook": ..., "kafka": ...};
`assert_same` compares them. Scenarios return only what must agree: ids, hosts, ports and timings are
left out or normalised by the scenario itself.

Topic and group names start with "py-<client>-" and end with this run's random suffix, as the Kafka
broker is shared by every suite of a ctest run.
"""

import asyncio
import concurrent.futures
import os
import subprocess
import threading
import time
import traceback
import uuid

import pytest

RUN = uuid.uuid4().hex[:8]
# Record timestamps (CreateTime) the scenarios set, the same on both brokers: recent enough that no
# retention deletes them, old enough that Kafka's message.timestamp.after.max.ms does not refuse them.
T0 = (int(time.time()) - 600) * 1000
START_TIMEOUT = 20.0


class Cluster:
    def __init__(self, name, bootstrap, control=None):
        self.name = name
        self.bootstrap = bootstrap
        self.control = control  # Brook's control API (http://127.0.0.1:PORT); None for Kafka

    def __repr__(self):
        return f"{self.name}({self.bootstrap})"


def unique(client, what):
    """A topic or group name for one scenario; the same on both clusters."""
    return f"py-{client}-{what}-{RUN}"


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls `predicate` until it returns something truthy (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


async def wait_until_async(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


class Brook:
    """One `brook-server --ephemeral --exit-on-stdin-eof`; closing its stdin stops it."""

    def __init__(self, binary):
        self.process = subprocess.Popen([binary, "--ephemeral", "--exit-on-stdin-eof"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr = []
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()
        text = self._read_line()
        if not text.startswith("bootstrap.servers="):
            self.stop()
            tail = b"".join(self.stderr[-20:]).decode("utf-8", "replace")
            raise RuntimeError(f"brook-server did not print its address within {START_TIMEOUT}s:\n{tail}")
        self.bootstrap = text.split("=", 1)[1]
        # The control API's address follows on the next line.
        text = self._read_line()
        if not text.startswith("control="):
            self.stop()
            raise RuntimeError(f"brook-server did not print its control API's address: {text!r}")
        self.control = text.split("=", 1)[1]

    def _read_line(self):
        """The next line of its stdout, stripped; empty if none comes within START_TIMEOUT."""
        line = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        return line[0].decode().strip() if line else ""

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def kafka_bootstrap():
    path = os.environ.get("BROOK_KAFKA_BOOTSTRAP_FILE")
    if not path:
        pytest.fail("BROOK_KAFKA_BOOTSTRAP_FILE is not set (ctest sets it)")
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    reason = "no Kafka broker: the fixture 'client[kafka]:start the Kafka broker' did not run"
    if os.path.exists(path + ".unavailable"):
        with open(path + ".unavailable") as f:
            reason = "the Kafka broker is unavailable: " + f.read().strip()
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def clusters():
    kafka = kafka_bootstrap()
    binary = os.environ.get("BROOK_SERVER")
    if not binary:
        pytest.fail("BROOK_SERVER is not set (path to brook-server)")
    brook = Brook(binary)
    yield [Cluster("brook", brook.bootstrap, brook.control), Cluster("kafka", kafka)]
    code = brook.stop()
    assert code == 0, f"brook-server exited with {code}"


def both(clusters, scenario, *args, **kwargs):
    """Runs scenario(cluster, *args, **kwargs) against both clusters at once; {name: result}."""
    with concurrent.futures.ThreadPoolExecutor(len(clusters)) as pool:
        futures = {c.name: pool.submit(scenario, c, *args, **kwargs) for c in clusters}
        return {name: _result(name, f.result) for name, f in futures.items()}


def both_async(clusters, scenario, *args, **kwargs):
    """The same for a coroutine function: both run in one event loop."""
    async def run():
        results = await asyncio.gather(*(scenario(c, *args, **kwargs) for c in clusters), return_exceptions=True)
        return dict(zip((c.name for c in clusters), results))
    results = asyncio.run(run())
    for name, value in results.items():
        if isinstance(value, BaseException):
            failed(name, value)
    return results


def _result(name, get):
    try:
        return get()
    except Exception as e:
        failed(name, e)


def failed(name, e):
    """Fails the test naming the cluster, the error and where the scenario raised it (the last frames)."""
    where = "".join(traceback.format_tb(e.__traceback__)[-3:])
    pytest.fail(f"the scenario failed against {name}: {e!r}\n{where}", pytrace=False)


def flatten(value, path="", out=None):
    """{path: leaf} of nested dicts, lists and tuples, so that a difference reads as the paths that differ."""
    out = {} if out is None else out
    if isinstance(value, dict) and value:
        for k, v in value.items():
            flatten(v, f"{path}/{k}", out)
    elif isinstance(value, (list, tuple)) and value:
        for i, v in enumerate(value):
            flatten(v, f"{path}[{i}]", out)
    else:
        out[path or "/"] = value
    return out


def differences(brook, kafka):
    b, k = flatten(brook), flatten(kafka)
    lines = []
    for path in sorted(set(b) | set(k)):
        if path not in k:
            lines.append(f"  only Brook:  {path} = {b[path]!r}")
        elif path not in b:
            lines.append(f"  only Kafka:  {path} = {k[path]!r}")
        elif b[path] != k[path]:
            lines.append(f"  differ:      {path}: Brook {b[path]!r}, Kafka {k[path]!r}")
    return lines


def assert_same(results, what):
    """Brook's answer equals Kafka's; otherwise fails listing every path where they differ."""
    if results["brook"] != results["kafka"]:
        lines = differences(results["brook"], results["kafka"])
        pytest.fail(f"{what}: Brook and Kafka differ at {len(lines)} place(s):\n" + "\n".join(lines),
                    pytrace=False)
