#!/usr/bin/env python3
"""A real Apache Kafka broker (the version pom.xml pins) for Brook's client scenario tests.

  kafka_broker.py start --bootstrap-file FILE   starts one KRaft node (broker and controller in one
                                                process) on free ports of 127.0.0.1, waits until it
                                                answers Metadata, writes "127.0.0.1:PORT" (its PLAINTEXT
                                                listener) to FILE and prints it
  kafka_broker.py stop --bootstrap-file FILE    stops that broker and removes its directory
  kafka_broker.py fetch                         fills the jar cache (below) and prints its directory;
                                                other tests import server_jars() for the same

ctest runs `start` once before the client[kafka] tests (a fixture) and `stop` after them. The server's
jars come from Maven Central through `mvn dependency:copy-dependencies`, once, into a cache directory
keyed by pom.xml's content (~/.cache/brook/kafka-<hash>/); each start formats a fresh storage directory
under /tmp with a random cluster id. Without Java 17+ or Maven, `start` exits 77 (skipped) and writes
the reason to FILE.unavailable, which the tests report when they skip.

Beside PLAINTEXT, which every suite uses, the broker has the security listeners of
tests/compat/security_certs.py (SASL_PLAINTEXT, SSL, SASL_SSL, MTLS, REAUTH) with that module's
settings and certificates made at each start with the openssl command into its directory.
`start` writes them to FILE.security.json: {"listeners": {"<name>": "127.0.0.1:PORT", ...},
"protocols": {"<name>": "<security protocol>", ...}, "certificates": "<directory>"}. Without the
openssl command, `start` exits 77 as without Java.
"""

import argparse
import base64
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "compat"))
import security_certs  # noqa: E402  (tests/compat: certificates and security listeners shared with Brook)
POM = os.path.join(HERE, "pom.xml")
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0


def log(message):
    print(message, flush=True)


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "brook")


def unavailable(bootstrap_file, reason):
    """Records why there is no broker (the tests skip with it) and exits as skipped."""
    os.makedirs(os.path.dirname(os.path.abspath(bootstrap_file)), exist_ok=True)
    with open(bootstrap_file + ".unavailable", "w") as f:
        f.write(reason + "\n")
    log("SKIP: " + reason)
    sys.exit(SKIP)


def java_major(java):
    out = subprocess.run([java, "-version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return 0
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def jar_cache_dir():
    """Where server_jars() keeps this pom.xml's jars (filled or not)."""
    with open(POM, "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    return os.path.join(cache_root(), f"kafka-{key}", "lib")


def cached_server_jars():
    """The jar directory if server_jars() has filled it already, else None (never downloads)."""
    lib = jar_cache_dir()
    return lib if os.path.isfile(os.path.join(lib, ".complete")) else None


def server_jars():
    """The directory holding every jar the server needs at run time, filled once per pom.xml content."""
    lib = jar_cache_dir()
    key = os.path.basename(os.path.dirname(lib))[len("kafka-"):]
    root = cache_root()
    if os.path.isfile(os.path.join(lib, ".complete")):
        return lib
    os.makedirs(root, exist_ok=True)
    # One download at a time (parallel test runs share the cache); the directory appears whole or not at all.
    with open(os.path.join(root, f"kafka-{key}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(os.path.join(lib, ".complete")):
            return lib
        started = time.monotonic()
        log(f"copying the Kafka server's jars into {lib} (once for this pom.xml)")
        with tempfile.TemporaryDirectory(prefix="brook-kafka-pom-") as project:
            shutil.copy(POM, os.path.join(project, "pom.xml"))
            out = os.path.join(project, "lib")
            result = subprocess.run(
                ["mvn", "-q", "-B", "-f", os.path.join(project, "pom.xml"), "dependency:copy-dependencies",
                 "-DincludeScope=runtime", f"-DoutputDirectory={out}"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode != 0:
                raise SystemExit(f"mvn dependency:copy-dependencies failed ({result.returncode}):\n"
                                 f"{result.stdout[-4000:]}")
            open(os.path.join(out, ".complete"), "w").close()
            shutil.rmtree(os.path.dirname(lib), ignore_errors=True)
            os.makedirs(os.path.dirname(lib))
            shutil.move(out, lib)
        log(f"jars copied in {time.monotonic() - started:.1f}s")
    return lib


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_cluster_id():
    # Kafka's Uuid as text: 16 bytes, URL-safe base64 without padding; like Uuid.randomUuid(), none
    # that starts with '-' (it would read as an option on a command line).
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


SERVER_PROPERTIES = """\
# One node that is both the KRaft controller (a single-voter quorum) and the broker.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}{security_listeners}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}{security_listeners}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT{security_protocols}
log.dirs={data}
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
# Internal topics of a single node: one replica each.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests form groups at once instead of waiting for more members.
group.initial.rebalance.delay.ms=0
"""

LOG4J2_PROPERTIES = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {logs}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def request_frame(api_key, version, correlation, body):
    client_id = b"brook-kafka-broker-py"
    header = struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id
    return struct.pack(">i", len(header) + len(body)) + header + body


def read_frame(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    (size,) = struct.unpack(">i", exactly(4))
    return exactly(size)


def metadata_brokers(port):
    """The number of brokers a Metadata request (non-flexible, v4..v8) lists; raises until it answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request_frame(18, 0, 1, b""))  # ApiVersions v0
        frame = read_frame(s)
        error, count = struct.unpack(">hi", frame[4:10])
        if error != 0:
            raise ConnectionError(f"ApiVersions error {error}")
        ranges = {}
        for i in range(count):
            key, low, high = struct.unpack(">hhh", frame[10 + 6 * i:16 + 6 * i])
            ranges[key] = (low, high)
        low, high = ranges[3]
        version = min(high, 8)
        if version < max(low, 4):
            raise SystemExit(f"the broker serves Metadata v{low}-{high}, none of v4-v8")
        body = struct.pack(">i", 0) + b"\x01"  # no topics; allow_auto_topic_creation
        if version >= 8:
            body += b"\x00\x00"  # no authorized operations
        s.sendall(request_frame(3, version, 2, body))
        frame = read_frame(s)
        (brokers,) = struct.unpack(">i", frame[8:12])  # after correlation id and throttle time
        return brokers


def process_is_ours(pid, work_dir):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return "kafka.Kafka" in cmdline and work_dir in cmdline


def stop_process(pid, work_dir):
    if not process_is_ours(pid, work_dir):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while process_is_ours(pid, work_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    if process_is_ours(pid, work_dir):
        log(f"Kafka (pid {pid}) did not stop within {STOP_TIMEOUT}s of SIGTERM; killing it")
        os.kill(pid, signal.SIGKILL)


def security_file(bootstrap_file):
    """Where `start` publishes the security listeners' addresses and the certificates' directory."""
    return bootstrap_file + ".security.json"


def stop(bootstrap_file):
    state_file = bootstrap_file + ".state"
    for path in (bootstrap_file, bootstrap_file + ".unavailable", security_file(bootstrap_file)):
        if os.path.exists(path):
            os.remove(path)
    if not os.path.exists(state_file):
        log("no Kafka broker to stop")
        return 0
    with open(state_file) as f:
        state = json.load(f)
    stop_process(state["pid"], state["dir"])
    shutil.rmtree(state["dir"], ignore_errors=True)
    os.remove(state_file)
    log(f"stopped Kafka (pid {state['pid']}) and removed {state['dir']}")
    return 0


class PortTaken(Exception):
    """The broker could not bind a port chosen as free (another process took it meanwhile)."""


def launch(java, lib, bootstrap_file):
    """Formats a fresh node on newly chosen free ports, starts it and waits until it answers Metadata.

    Returns (process, bootstrap, cluster id, directory, security listeners {name: "127.0.0.1:PORT"}).
    Leaves nothing behind when it raises.
    """
    work = tempfile.mkdtemp(prefix="brook-kafka-")
    data, logs, certs = os.path.join(work, "data"), os.path.join(work, "logs"), os.path.join(work, "certs")
    os.makedirs(logs)
    os.makedirs(certs)
    try:
        security_certs.make_certificates(certs)
    except AssertionError as e:
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit(str(e))
    ports = set()
    while len(ports) < 2 + len(security_certs.SECURITY_LISTENERS):
        ports.add(free_port())
    port, controller_port, *others = sorted(ports)
    security = {name: f"127.0.0.1:{p}" for name, p in zip(security_certs.SECURITY_LISTENERS, others)}
    config = os.path.join(work, "server.properties")
    with open(config, "w") as f:
        f.write(SERVER_PROPERTIES.format(
            port=port, controller_port=controller_port, data=data,
            security_listeners="".join(f",{name}://{address}" for name, address in security.items()),
            security_protocols="".join(f",{name}:{protocol}"
                                       for name, protocol in security_certs.SECURITY_LISTENERS.items())))
        f.write("# The security listeners (tests/compat/security_certs.py), as Brook gets them.\n")
        for key, value in security_certs.security_properties(certs).items():
            f.write(f"{key}={value}\n")
    log4j = os.path.join(work, "log4j2.properties")
    with open(log4j, "w") as f:
        f.write(LOG4J2_PROPERTIES.format(logs=logs))
    jvm = [java, "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
           f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={logs}", "-cp", os.path.join(lib, "*")]

    cluster_id = random_cluster_id()
    formatted = subprocess.run(jvm + ["kafka.tools.StorageTool", "format", "--config", config,
                                      "--cluster-id", cluster_id, "--standalone"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if formatted.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit(f"formatting the storage failed ({formatted.returncode}):\n{formatted.stdout[-4000:]}")

    # Its own session, its output in a file: the broker outlives this script, and ctest does not wait
    # for output pipes it would otherwise hold open.
    with open(os.path.join(logs, "stdout.log"), "wb") as out:
        process = subprocess.Popen(jvm + ["kafka.Kafka", config], stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True, cwd=work)
    with open(bootstrap_file + ".state", "w") as f:
        json.dump({"pid": process.pid, "dir": work}, f)

    deadline = time.monotonic() + START_TIMEOUT
    last = None
    while True:
        if process.poll() is not None:
            logs_text = ""
            for name in ("stdout.log", "server.log"):
                path = os.path.join(logs, name)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        logs_text += f"--- {name}\n" + f.read()[-4000:]
            stop(bootstrap_file)
            if "Address already in use" in logs_text:
                raise PortTaken(logs_text)
            raise SystemExit(f"Kafka exited with {process.returncode} before answering:\n{logs_text}")
        try:
            if metadata_brokers(port) >= 1:
                return process, f"127.0.0.1:{port}", cluster_id, work, security
        except (OSError, ConnectionError, struct.error, KeyError) as e:
            last = e
        if time.monotonic() > deadline:
            stop(bootstrap_file)
            raise SystemExit(f"Kafka did not answer Metadata within {START_TIMEOUT}s (last: {last})")
        time.sleep(0.2)


def start(bootstrap_file):
    started = time.monotonic()
    bootstrap_file = os.path.abspath(bootstrap_file)
    os.makedirs(os.path.dirname(bootstrap_file), exist_ok=True)
    stop(bootstrap_file)  # what an interrupted run left behind

    java, mvn = shutil.which("java"), shutil.which("mvn")
    if not java or not mvn:
        unavailable(bootstrap_file, "Java or Maven is not installed (tools/dev.sh test installs them)")
    if java_major(java) < 17:
        unavailable(bootstrap_file, f"Kafka needs Java 17 or newer; {java} is older")
    if not shutil.which("openssl"):
        unavailable(bootstrap_file, "the openssl command is not installed (tools/dev.sh test installs it)")

    lib = server_jars()
    for attempt in range(1, 4):
        try:
            process, bootstrap, cluster_id, work, security = launch(java, lib, bootstrap_file)
            break
        except PortTaken as e:
            if attempt == 3:
                raise SystemExit(f"Kafka could not bind free ports three times:\n{e}")
            log("a port chosen for Kafka was taken meanwhile; trying other ports")

    with open(security_file(bootstrap_file) + ".tmp", "w") as f:
        json.dump({"listeners": security, "protocols": security_certs.SECURITY_LISTENERS,
                   "certificates": os.path.join(work, "certs")}, f, indent=1)
    os.replace(security_file(bootstrap_file) + ".tmp", security_file(bootstrap_file))
    # The bootstrap file last: it is what tells a reader that the broker is up.
    with open(bootstrap_file + ".tmp", "w") as f:
        f.write(bootstrap + "\n")
    os.replace(bootstrap_file + ".tmp", bootstrap_file)
    log(f"Kafka (pid {process.pid}, cluster {cluster_id}) answers at {bootstrap} after "
        f"{time.monotonic() - started:.1f}s; its directory: {work}")
    print(bootstrap, flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "fetch"])
    parser.add_argument("--bootstrap-file", help="where `start` writes host:port (start and stop)")
    args = parser.parse_args()
    if args.command == "fetch":
        if not shutil.which("mvn"):
            log("SKIP: Maven is not installed (tools/dev.sh test installs it)")
            return SKIP
        print(server_jars(), flush=True)
        return 0
    if not args.bootstrap_file:
        parser.error("start and stop need --bootstrap-file")
    return start(args.bootstrap_file) if args.command == "start" else stop(args.bootstrap_file)


if __name__ == "__main__":
    sys.exit(main())
