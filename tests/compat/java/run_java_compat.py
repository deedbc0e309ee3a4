#!/usr/bin/env python3
"""The Java ecosystem side by side on Brook and on Apache Kafka 4.4: one JUnit run (pom.xml here).

  run_java_compat.py BROOK_SERVER KAFKA_BOOTSTRAP_FILE WORK_DIR [MAVEN_ARGS...]
  run_java_compat.py fetch        only downloads what the suite needs (tools/dev.sh test does this
                                  before ctest, so that no test's time includes a download)

starts one `brook-server --ephemeral` (with the settings the Kafka fixture's server.properties has, so
that configuration sources compare), reads the shared Kafka's address from KAFKA_BOOTSTRAP_FILE (which
ctest's "start the Kafka broker" fixture writes), and runs `mvn test` on this directory with both
addresses in the environment; Maven builds into WORK_DIR. Brook gets the Kafka fixture's security
listeners too, with the same settings and certificates (../security_certs.py and the fixture's
KAFKA_BOOTSTRAP_FILE.security.json); both brokers' listener addresses and the certificates' directory
go to the JVM in the environment as well. Every scenario runs against both brokers in
the same JVM and compares what came back (see src/test/java/io/brook/compat/SideBySide.java).

Maven's downloads are cached in ~/.m2; once a run of this pom.xml has resolved everything, later runs
are offline (-o), which a marker under ~/.cache/brook/ keyed by pom.xml's content records. Exit codes:
0 all passed, 1 a scenario failed, 77 skipped: Java or Maven missing, or no Kafka in this run; under
CI=true those are failures instead.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import security_certs  # noqa: E402  (the security listeners the Kafka fixture has as well)
POM = os.path.join(HERE, "pom.xml")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

# What kafka_broker.py's server.properties sets and Brook knows: Brook reports them as
# STATIC_BROKER_CONFIG too. (--ephemeral already sets group.initial.rebalance.delay.ms=0.)
BROOK_OVERRIDES = {
    "node.id": "1",
    "num.partitions": "1",
    "default.replication.factor": "1",
    "auto.create.topics.enable": "true",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
}


def log(message):
    print(message, flush=True)


def skip(reason):
    if os.environ.get("CI", "").lower() == "true":
        log(f"FAIL (CI=true, not skipped): {reason}")
        sys.exit(1)
    log(f"SKIP: {reason}")
    sys.exit(SKIP)


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "brook")


def kafka_bootstrap(path):
    if os.path.exists(path):
        with open(path) as f:
            bootstrap = f.read().strip()
        if bootstrap:
            return bootstrap
    unavailable = path + ".unavailable"
    if os.path.exists(unavailable):
        with open(unavailable) as f:
            skip("no Kafka broker in this run: " + f.read().strip())
    raise SystemExit(f"no Kafka broker in this run: {path} does not exist (ctest starts one with the fixture "
                     f"'client[kafka]:start the Kafka broker'; by hand: tests/client/kafka/kafka_broker.py start "
                     f"--bootstrap-file {path})")


def kafka_security(bootstrap_file):
    """The Kafka fixture's security listeners {name: "host:port"} and its certificates' directory."""
    path = bootstrap_file + ".security.json"
    if not os.path.exists(path):
        raise SystemExit(f"{path} does not exist: the Kafka fixture was started by an older kafka_broker.py; "
                         f"restart it")
    with open(path) as f:
        published = json.load(f)
    return published["listeners"], published["certificates"]


def listeners_text(listeners):
    """NAME=host:port,... as the JVM reads it."""
    return ",".join(f"{name}={address}" for name, address in listeners.items())


LISTENING = re.compile(r"listening on ([A-Z0-9_]+)://([0-9.]+):(\d+)")


def _die_with_parent():
    # brook-server goes when this script goes, whatever ends it (a ctest timeout included).
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Brook:
    """One `brook-server --ephemeral --exit-on-stdin-eof`; its stderr is kept for when it fails.

    Its first listener is PLAINTEXT (the one --ephemeral announces); the security listeners follow on
    ports of their own, read from its log as `security_listeners` {name: "host:port"}.
    """

    def __init__(self, binary, cert_dir):
        overrides = dict(BROOK_OVERRIDES)
        overrides["listeners"] = ",".join(["PLAINTEXT://127.0.0.1:0"] + [
            f"{name}://127.0.0.1:0" for name in security_certs.SECURITY_LISTENERS])
        overrides["listener.security.protocol.map"] = ",".join(["PLAINTEXT:PLAINTEXT"] + [
            f"{name}:{protocol}" for name, protocol in security_certs.SECURITY_LISTENERS.items()])
        overrides.update(security_certs.security_properties(cert_dir))
        args = [binary, "--ephemeral", "--exit-on-stdin-eof"]
        for key, value in overrides.items():
            args += ["--override", f"{key}={value}"]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        preexec_fn=_die_with_parent)
        self.stderr = []
        self.security_listeners = {}
        self._heard = threading.Condition()
        threading.Thread(target=self._drain, daemon=True).start()
        line = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        text = line[0].decode("utf-8", "replace").strip() if line else ""
        m = re.match(r"^bootstrap\.servers=(\S+)$", text)
        if not m:
            self.stop()
            raise SystemExit(f"brook-server did not announce itself within {START_TIMEOUT}s (first line {text!r}):\n"
                             + "\n".join(self.stderr[-30:]))
        self.bootstrap = m.group(1)
        # Every listener was bound before the announcement; its log line may still be on the way.
        with self._heard:
            if not self._heard.wait_for(lambda: len(self.security_listeners) == len(security_certs.SECURITY_LISTENERS),
                                        START_TIMEOUT):
                self.stop()
                raise SystemExit(f"brook-server did not log its security listeners (heard: {self.security_listeners}):\n"
                                 + "\n".join(self.stderr[-30:]))

    def _drain(self):
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._heard:
                self.stderr.append(line)
                m = LISTENING.search(line)
                if m and m.group(1) in security_certs.SECURITY_LISTENERS:
                    self.security_listeners[m.group(1)] = f"{m.group(2)}:{m.group(3)}"
                    self._heard.notify_all()

    def stop(self):
        """Closes its stdin (it stops and removes its data) and waits; returns its exit code."""
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def offline_marker():
    with open(POM, "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    return os.path.join(cache_root(), f"java-compat-{key}.resolved")


# Arguments after the three positional ones, passed to Maven as they are.
EXTRA_MAVEN_ARGS: list[str] = []

RESOLUTION_FAILURE = re.compile(r"offline mode|Could not resolve|could not be resolved|Cannot access .* in offline")


def maven(work, environment):
    """Runs the suite; offline when an earlier run resolved this pom.xml, online (once) otherwise."""
    marker = offline_marker()
    base = ["mvn", "-B", "-ntp", "-f", POM, f"-Dbrook.build.dir={work}", "-Dstyle.color=never", *EXTRA_MAVEN_ARGS,
            "test"]
    # Maven's own JVM does little: a quick start matters more than peak speed.
    environment = dict(environment)
    environment.setdefault("MAVEN_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    attempts = [True, False] if os.path.exists(marker) else [False]
    for offline in attempts:
        command = base[:1] + (["-o"] if offline else []) + base[1:]
        log("$ " + " ".join(command))
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment, cwd=HERE)
        output = []
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            output.append(line)
            sys.stdout.write(line)
        sys.stdout.flush()
        code = process.wait()
        text = "".join(output)
        ran = "Tests run:" in text
        if ran:
            os.makedirs(os.path.dirname(marker), exist_ok=True)
            open(marker, "w").close()
        if code != 0 and offline and not ran and RESOLUTION_FAILURE.search(text):
            log("the offline run could not resolve everything from ~/.m2; running online once")
            os.remove(marker)
            continue
        return code
    return code


def fetch():
    """Resolves every dependency and plugin of the suite into ~/.m2 (running no test), then marks it."""
    if not shutil.which("mvn"):
        log("SKIP: Maven is not installed (tools/dev.sh test installs it)")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="brook-java-compat-") as scratch:
        # Surefire resolves its JUnit provider only when it runs: run it once, selecting no test.
        result = subprocess.run(["mvn", "-B", "-ntp", "-q", "-f", POM, f"-Dbrook.build.dir={scratch}",
                                 "-Dtest=NoTestIsNamedSo", "-Dsurefire.failIfNoSpecifiedTests=false", "test"])
    if result.returncode == 0:
        marker = offline_marker()
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        open(marker, "w").close()
    return result.returncode


def main():
    if sys.argv[1:] == ["fetch"]:
        return fetch()
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    server, bootstrap_file, work = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    EXTRA_MAVEN_ARGS.extend(sys.argv[4:])  # e.g. -Dtest=... to select or leave out tests
    started = time.monotonic()
    if not shutil.which("java") or not shutil.which("mvn"):
        skip("Java or Maven is not installed (tools/dev.sh test installs them)")
    if not os.access(server, os.X_OK):
        raise SystemExit(f"{server} is not an executable brook-server")
    kafka = kafka_bootstrap(bootstrap_file)
    kafka_listeners, cert_dir = kafka_security(bootstrap_file)
    os.makedirs(work, exist_ok=True)

    brook = Brook(server, cert_dir)
    log(f"Kafka at {kafka} ({listeners_text(kafka_listeners)}), "
        f"Brook at {brook.bootstrap} ({listeners_text(brook.security_listeners)})")
    try:
        environment = dict(os.environ, BROOK_COMPAT_KAFKA_BOOTSTRAP=kafka, BROOK_COMPAT_BROOK_BOOTSTRAP=brook.bootstrap,
                           BROOK_COMPAT_KAFKA_LISTENERS=listeners_text(kafka_listeners),
                           BROOK_COMPAT_BROOK_LISTENERS=listeners_text(brook.security_listeners),
                           BROOK_COMPAT_CERTIFICATES=cert_dir)
        code = maven(work, environment)
    finally:
        stopped = brook.stop()
    if stopped != 0:
        log(f"brook-server exited with {stopped}; its last lines:\n" + "\n".join(brook.stderr[-30:]))
        code = code or 1
    clients_log = os.path.join(work, "clients.log")
    if code != 0 and os.path.exists(clients_log):
        log(f"(the clients' and tools' own log: {clients_log})")
    log(f"java compatibility suite: exit {code} after {time.monotonic() - started:.1f}s")
    return 1 if code else 0


if __name__ == "__main__":
    sys.exit(main())
