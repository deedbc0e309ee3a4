"""test_transactional_copier.py with Kafka's Java client as the copier (TransactionalCopier.java,
kafka-clients of tests/compat/java/pom.xml), which runs transaction version 2 (KIP-890: partitions
added by the produce requests themselves, an epoch bump at every commit or abort) where librdkafka
runs version 1. The copiers are killed again and again, then the broker; the same checks follow.

Needs java and javac, and the jars the Java side-by-side suite downloads into ~/.m2
(tests/compat/java/run_java_compat.py fetch, which tools/dev.sh test runs first). Skipped (77)
without them, except under CI=true, where that fails.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import brook_harness as h
import test_transactional_copier as base

HERE = os.path.dirname(os.path.abspath(__file__))
POM = os.path.join(HERE, "java", "pom.xml")
SOURCE = os.path.join(HERE, "TransactionalCopier.java")


def skip(reason):
    if os.environ.get("CI", "").lower() == "true":
        print(f"FAIL (CI=true, not skipped): {reason}", flush=True)
        sys.exit(1)
    h.skip(reason)


def java_copier(work_dir):
    """The command that runs TransactionalCopier, compiled into `work_dir`."""
    for program in ("java", "javac"):
        if not shutil.which(program):
            skip(f"program not found on PATH: {program}")
    pom = open(POM).read()
    versions = {name: re.search(rf"<{name}>([^<]+)</{name}>", pom).group(1) for name in ("kafka.version", "slf4j.version")}
    repo = os.path.join(os.path.expanduser("~"), ".m2", "repository")
    jars = [os.path.join(repo, "org/apache/kafka/kafka-clients", versions["kafka.version"],
                         f"kafka-clients-{versions['kafka.version']}.jar")]
    jars += [os.path.join(repo, "org/slf4j", name, versions["slf4j.version"], f"{name}-{versions['slf4j.version']}.jar")
             for name in ("slf4j-api", "slf4j-simple")]
    missing = [j for j in jars if not os.path.isfile(j)]
    if missing:
        skip(f"not in ~/.m2 (tests/compat/java/run_java_compat.py fetch downloads them): {', '.join(missing)}")
    classpath = ":".join(jars)
    compiled = subprocess.run(["javac", "-cp", classpath, "-d", work_dir, SOURCE], capture_output=True, text=True)
    assert compiled.returncode == 0, f"javac failed:\n{compiled.stdout}{compiled.stderr}"
    # A short-lived JVM: the client compiles little, and the machine may have two cores.
    return ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp", f"{work_dir}:{classpath}", "TransactionalCopier"]


def test_java_copier_killed_repeatedly(srv):
    base.copiers_killed(srv, "java-copier-kills", JAVA_COPIER)


def test_java_broker_killed_repeatedly(srv):
    base.broker_killed(srv, "java-broker-kills", JAVA_COPIER)


if __name__ == "__main__":
    h.server_binary()
    with tempfile.TemporaryDirectory(prefix="brook-java-copier-") as classes:
        JAVA_COPIER = java_copier(classes)
        base.main(globals())
