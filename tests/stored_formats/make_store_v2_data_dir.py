#!/usr/bin/env python3
"""Writes the data directory in store_v2_data_dir.tar.gz: a broker of metadata store format 2 (the
format before persisted values became declared records), with one of every kind of persisted value,
as a user's broker would hold them. The tarball is checked in and opened by
tests/broker/stored_format_test.cpp and tests/log/metadata_store_test.cpp, so that a data directory written by that format keeps opening.
This script documents how it was made; it needs a brook-server of that format (commit e929fce) and
confluent-kafka and Java:

    KAFKA_LIB=<Kafka 4.4 jars> make_store_v2_data_dir.py BROOK_SERVER OUT.tar.gz

What the directory holds (the test checks each):
- cluster id and producer ids handed out (next_producer_id);
- topic "orders" (3 partitions, configs cleanup.policy=delete, retention.ms=86400000), topic
  "compacted" (1 partition, cleanup.policy=compact); 10 keyed records per orders partition from an
  idempotent producer (producer state), 4 records in compacted;
- classic group "classic-group": offsets committed for orders 0..2 at 4, 5 and 6 with metadata
  "m0".."m2", and one member still joined (range assignor) when the broker stopped;
- consumer-protocol group "consumer-group" (KIP-848): offsets committed for orders 0..2 at 7, 8,
  9, one member still joined when the broker stopped;
- a client quota (client-id "quota-client", producer_byte_rate 1048576, set with Kafka's
  ConfigCommand from the jars in KAFKA_LIB) and a dynamic cluster-wide broker default
  log.retention.ms=3600000 (the same tool).
"""
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def main():
    server, out = sys.argv[1], os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp()
    data = os.path.join(work, "data")
    props = os.path.join(work, "server.properties")
    with open(props, "w") as f:
        f.write(f"node.id=1\nlisteners=PLAINTEXT://127.0.0.1:29092\nlog.dirs={data}\n"
                "group.initial.rebalance.delay.ms=0\n")
    broker = subprocess.Popen([server, props], stderr=open(os.path.join(work, "broker.log"), "w"))
    bootstrap = "127.0.0.1:29092"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for _ in range(100):
        try:
            admin.list_topics(timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    futures = admin.create_topics([
        NewTopic("orders", 3, 1, config={"cleanup.policy": "delete", "retention.ms": "86400000"}),
        NewTopic("compacted", 1, 1, config={"cleanup.policy": "compact"}),
    ])
    for f in futures.values():
        f.result()

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for p in range(3):
        for i in range(10):
            producer.produce("orders", key=f"k{p}-{i}", value=f"v{p}-{i}", partition=p)
    for i in range(4):
        producer.produce("compacted", key=f"c{i % 2}", value=f"c{i}", partition=0)
    producer.flush(30)

    classic = Consumer({"bootstrap.servers": bootstrap, "group.id": "classic-group", "enable.auto.commit": False,
                        "auto.offset.reset": "earliest", "partition.assignment.strategy": "range"})
    classic.subscribe(["orders"])
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "consumer-group", "group.protocol": "consumer",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe(["orders"])
    deadline = time.time() + 60
    while time.time() < deadline and (not classic.assignment() or len(consumer.assignment()) < 3):
        classic.poll(0.2)
        consumer.poll(0.2)
    assert len(classic.assignment()) == 3 and len(consumer.assignment()) == 3
    classic.commit(offsets=[TopicPartition("orders", p, 4 + p, metadata=f"m{p}") for p in range(3)],
                   asynchronous=False)
    consumer.commit(offsets=[TopicPartition("orders", p, 7 + p) for p in range(3)], asynchronous=False)

    subprocess.run(["java", "-cp", os.path.join(os.environ["KAFKA_LIB"], "*"), "org.apache.kafka.tools.ConfigCommand",
                    "--bootstrap-server", bootstrap, "--alter", "--entity-type", "clients", "--entity-name",
                    "quota-client", "--add-config", "producer_byte_rate=1048576"], check=True)
    subprocess.run(["java", "-cp", os.path.join(os.environ["KAFKA_LIB"], "*"), "org.apache.kafka.tools.ConfigCommand",
                    "--bootstrap-server", bootstrap, "--alter", "--entity-type", "brokers", "--entity-default",
                    "--add-config", "log.retention.ms=3600000"], check=True)

    broker.send_signal(signal.SIGTERM)
    assert broker.wait(30) == 0
    classic.close()
    consumer.close()
    with tarfile.open(out, "w:gz") as tar:
        tar.add(data, arcname="data")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
