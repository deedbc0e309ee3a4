#!/usr/bin/env python3
"""Kafka's own kafka-configs tool (org.apache.kafka.tools.ConfigCommand, Kafka 4.4 from Maven Central)
against brook-server: dynamic broker configs for one broker and as the cluster-wide default, group
configs, and client quotas for users, clients and ips, each altered and described back.

The tool runs from the jars tests/client/kafka/kafka_broker.py caches (its pom.xml names kafka-tools).
Without Java or Maven the test is skipped."""
import os
import shutil
import subprocess
import sys

import brook_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))


class ConfigTool:
    def __init__(self):
        if not shutil.which("java"):
            h.skip("Java is not installed (tools/dev.sh test installs openjdk-17-jdk-headless)")
        if not shutil.which("mvn"):
            h.skip("Maven is not installed (tools/dev.sh test installs it); it fetches Kafka's jars")
        sys.path.insert(0, os.path.join(HERE, "..", "client", "kafka"))
        import kafka_broker
        self.classpath = os.path.join(kafka_broker.server_jars(), "*")

    def run(self, srv, *args, ok=True):
        p = subprocess.run(["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", self.classpath,
                            "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", srv.bootstrap, *args],
                           capture_output=True, text=True, timeout=180)
        out = p.stdout + p.stderr
        if ok:
            assert p.returncode == 0, f"kafka-configs {' '.join(args)} exited {p.returncode}:\n{out[-3000:]}"
        else:
            assert p.returncode != 0, f"kafka-configs {' '.join(args)} succeeded:\n{out[-3000:]}"
        return out


_tool = []


def tool():
    if not _tool:
        _tool.append(ConfigTool())
    return _tool[0]


def test_broker_configs_per_broker_and_default(srv):
    t = tool()
    out = t.run(srv, "--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config",
                "log.retention.ms=5000,message.max.bytes=2000000")
    assert "Completed updating config for broker 1." in out, out
    out = t.run(srv, "--entity-type", "brokers", "--entity-default", "--alter", "--add-config", "log.cleaner.backoff.ms=20000")
    assert "Completed updating default config for brokers in the cluster." in out, out
    out = t.run(srv, "--entity-type", "brokers", "--entity-name", "1", "--describe")
    # (conf/server.properties sets log.retention.hours: the synonyms go on with it)
    assert "log.retention.ms=5000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=5000, " \
           "STATIC_BROKER_CONFIG:log.retention.hours=168, DEFAULT_CONFIG:log.retention.hours=168}" in out, out
    assert "message.max.bytes=2000000" in out, out
    out = t.run(srv, "--entity-type", "brokers", "--entity-default", "--describe")
    assert "log.cleaner.backoff.ms=20000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:" \
           "log.cleaner.backoff.ms=20000}" in out, out
    out = t.run(srv, "--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config", "log.retention.hours=5",
                ok=False)
    assert "Cannot update these configs dynamically: [log.retention.hours]" in out, out
    t.run(srv, "--entity-type", "brokers", "--entity-name", "1", "--alter", "--delete-config",
          "log.retention.ms,message.max.bytes")
    t.run(srv, "--entity-type", "brokers", "--entity-default", "--alter", "--delete-config", "log.cleaner.backoff.ms")
    out = t.run(srv, "--entity-type", "brokers", "--entity-name", "1", "--describe")
    assert "log.retention.ms" not in out, out


def test_group_configs(srv):
    t = tool()
    t.run(srv, "--entity-type", "groups", "--entity-name", "g1", "--alter", "--add-config",
          "consumer.session.timeout.ms=50000")
    out = t.run(srv, "--entity-type", "groups", "--entity-name", "g1", "--describe")
    assert "consumer.session.timeout.ms=50000" in out, out
    out = t.run(srv, "--entity-type", "groups", "--describe")  # lists the groups through ListConfigResources
    assert "Dynamic configs for group g1 are:" in out, out
    out = t.run(srv, "--entity-type", "groups", "--entity-name", "g1", "--alter", "--add-config",
                "consumer.session.timeout.ms=1000", ok=False)
    assert "consumer.session.timeout.ms must be in the range 45000 to 60000 inclusive." in out, out


def test_client_quotas(srv):
    t = tool()
    t.run(srv, "--entity-type", "users", "--entity-name", "alice", "--alter", "--add-config",
          "producer_byte_rate=2048,consumer_byte_rate=100")
    t.run(srv, "--entity-type", "users", "--entity-default", "--alter", "--add-config", "producer_byte_rate=10")
    t.run(srv, "--entity-type", "clients", "--entity-name", "c1", "--entity-type", "users", "--entity-name", "alice",
          "--alter", "--add-config", "request_percentage=50")
    t.run(srv, "--entity-type", "ips", "--entity-name", "127.0.0.1", "--alter", "--add-config",
          "connection_creation_rate=5")
    out = t.run(srv, "--entity-type", "clients", "--entity-name", "c1", "--entity-type", "users", "--entity-name",
                "alice", "--describe")
    assert "request_percentage=50.0" in out, out
    out = t.run(srv, "--entity-type", "ips", "--describe")
    assert "Quota configs for ip '127.0.0.1' are connection_creation_rate=5.0" in out, out
    out = t.run(srv, "--entity-type", "users", "--entity-name", "bob", "--alter", "--add-config",
                "producer_byte_rate=1.5", ok=False)
    assert "producer_byte_rate cannot be a fractional value." in out, out


if __name__ == "__main__":
    h.main(globals())
