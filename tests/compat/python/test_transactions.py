"""confluent-kafka's transactional producer and read_committed consumer side by side (KIP-98): a
consume-transform-produce loop in transactions (send_offsets_to_transaction with the consumer's group
metadata), an aborted transaction in between, what read_committed and read_uncommitted consumers then
read, the group's committed offsets, and a zombie fenced by a producer of the same transactional id.
librdkafka runs transaction version 1 on both brokers."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from conftest import assert_same, both, unique, wait_until  # noqa: E402

TIMEOUT = 30


def create_topics(cluster, topics):
    a = AdminClient({"bootstrap.servers": cluster.bootstrap})
    for f in a.create_topics([NewTopic(t, n, 1) for t, n in topics]).values():
        f.result(TIMEOUT)

    def known():
        md = a.list_topics(timeout=TIMEOUT).topics
        return all(t in md and md[t].error is None and len(md[t].partitions) == n for t, n in topics)
    wait_until(known, TIMEOUT, f"topics {topics} in the metadata")


def transactional(cluster, transactional_id):
    p = Producer({"bootstrap.servers": cluster.bootstrap, "transactional.id": transactional_id,
                  "transaction.timeout.ms": 60000})
    p.init_transactions(TIMEOUT)
    return p


def read(cluster, topic, partitions, isolation, expected):
    """(partition, offset, key, value) of every record a consumer of `isolation` reads, and end offsets."""
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": unique("py", "txn-reader"),
                  "isolation.level": isolation, "enable.auto.commit": False})
    tps = [TopicPartition(topic, p, 0) for p in range(partitions)]
    c.assign(tps)
    got = []
    deadline = time.monotonic() + TIMEOUT
    while len(got) < expected and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            got.append((m.partition(), m.offset(), m.key().decode(), m.value().decode()))
    # Nothing more arrives.
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        m = c.poll(0.1)
        if m is not None and m.error() is None:
            got.append(("unexpected", m.partition(), m.offset()))
    ends = [c.get_watermark_offsets(TopicPartition(topic, p), TIMEOUT)[1] for p in range(partitions)]
    c.close()
    return {"records": sorted(got, key=str), "high_watermarks": ends}


def copy_loop(cluster, names):
    source, sink, group = names["source"], names["sink"], names["group"]
    create_topics(cluster, [(source, 1), (sink, 2)])
    plain = Producer({"bootstrap.servers": cluster.bootstrap})
    for i in range(6):
        plain.produce(source, key=f"k{i}", value=f"v{i}", partition=0)
    plain.flush(TIMEOUT)

    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    consumer.assign([TopicPartition(source, 0, 0)])
    producer = transactional(cluster, names["txn"])
    copied, outcome = [], []
    # Three transactions of two records each: commit, abort, commit.
    for n, commit in enumerate([True, False, True]):
        batch = []
        deadline = time.monotonic() + TIMEOUT
        while len(batch) < 2 and time.monotonic() < deadline:
            m = consumer.poll(0.2)
            if m is not None and m.error() is None:
                batch.append(m)
        assert len(batch) == 2, f"transaction {n}: read {len(batch)} records"
        producer.begin_transaction()
        for m in batch:
            producer.produce(sink, key=m.key(), value=m.value().upper(), partition=m.offset() % 2)
        producer.send_offsets_to_transaction([TopicPartition(source, 0, batch[-1].offset() + 1)],
                                             consumer.consumer_group_metadata(), TIMEOUT)
        producer.flush(TIMEOUT)  # an abort would drop records not yet sent: make both sides send them
        if commit:
            producer.commit_transaction(TIMEOUT)
        else:
            producer.abort_transaction(TIMEOUT)
        outcome.append("committed" if commit else "aborted")
        copied.append([m.offset() for m in batch])
    consumer.close()
    a = AdminClient({"bootstrap.servers": cluster.bootstrap})
    from confluent_kafka import ConsumerGroupTopicPartitions
    offsets = a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(TIMEOUT)
    return {
        "transactions": outcome,
        "copied": copied,
        "read_committed": read(cluster, sink, 2, "read_committed", 4),
        "read_uncommitted": read(cluster, sink, 2, "read_uncommitted", 6),
        "group_offsets": sorted((tp.topic == source, tp.partition, tp.offset) for tp in offsets.topic_partitions),
    }


def test_transactional_copy_loop_commits_aborts_and_offsets(clusters):
    names = {"source": unique("py", "txn-source"), "sink": unique("py", "txn-sink"), "group": unique("py", "txn-group"),
             "txn": unique("py", "txn-copier")}
    results = both(clusters, copy_loop, names)
    assert results["kafka"]["transactions"] == ["committed", "aborted", "committed"]
    assert len(results["kafka"]["read_committed"]["records"]) == 4
    assert_same(results, "a transactional copy loop")


def zombie(cluster, names):
    topic = names["topic"]
    create_topics(cluster, [(topic, 1)])
    old = transactional(cluster, names["txn"])
    old.begin_transaction()
    old.produce(topic, key="zombie", value="0", partition=0)
    old.flush(TIMEOUT)
    fresh = transactional(cluster, names["txn"])  # fences the old producer, aborting its transaction
    fresh.begin_transaction()
    fresh.produce(topic, key="fresh", value="1", partition=0)
    fresh.commit_transaction(TIMEOUT)
    try:
        old.produce(topic, key="zombie", value="2", partition=0)
        old.commit_transaction(TIMEOUT)
        fenced = "committed"
    except KafkaException as e:
        err = e.args[0]
        fenced = {"fatal": err.fatal(), "name": err.name()}
    return {"zombie": fenced, "read_committed": read(cluster, topic, 1, "read_committed", 1)}


def test_a_zombie_producer_is_fenced(clusters):
    names = {"topic": unique("py", "txn-zombie"), "txn": unique("py", "txn-zombie-id")}
    results = both(clusters, zombie, names)
    assert results["kafka"]["zombie"] != "committed"
    assert_same(results, "a zombie producer fenced by a new one")
