"""confluent-kafka (PyPI's wheel, which bundles a current librdkafka) side by side: consumer groups with
group.protocol=classic and with group.protocol=consumer (KIP-848), and the admin calls that describe
them, list offsets and elect leaders."""

import confluent_kafka
import pytest
from confluent_kafka import (Consumer, ConsumerGroupTopicPartitions, ElectionType, IsolationLevel, Producer,
                             TopicCollection, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from conftest import T0, assert_same, both, unique, wait_until

# What a commit gets while its group rebalances (classic and KIP-848 protocols).
REBALANCE_COMMIT_ERRORS = {confluent_kafka.KafkaError.REBALANCE_IN_PROGRESS,
                           confluent_kafka.KafkaError.ILLEGAL_GENERATION,
                           confluent_kafka.KafkaError.STALE_MEMBER_EPOCH,
                           confluent_kafka.KafkaError.UNKNOWN_MEMBER_ID}

CLIENT = "confluent"
TIMEOUT = 15


def test_client_version():
    assert confluent_kafka.version() == "2.16.2"


def admin(cluster):
    return AdminClient({"bootstrap.servers": cluster.bootstrap, "client.id": f"py-{CLIENT}"})


def create_topic(cluster, topic, partitions):
    a = admin(cluster)
    a.create_topics([NewTopic(topic, partitions, 1)])[topic].result(TIMEOUT)

    # Kafka's brokers learn of a new topic a moment after CreateTopics answers.
    def known():
        t = a.list_topics(topic, timeout=TIMEOUT).topics.get(topic)
        return t is not None and t.error is None and len(t.partitions) == partitions
    wait_until(known, 30, f"topic {topic} in the metadata")


def produce(cluster, topic, partitions, per_partition):
    p = Producer({"bootstrap.servers": cluster.bootstrap, "client.id": f"py-{CLIENT}", "linger.ms": 5})
    for partition in range(partitions):
        for j in range(per_partition):
            p.produce(topic, key=f"k{j}", value=f"{partition}-{j}", partition=partition, timestamp=T0 + j)
    assert p.flush(TIMEOUT) == 0


def member_config(cluster, group, protocol, n):
    config = {"bootstrap.servers": cluster.bootstrap, "group.id": group, "client.id": f"py-{CLIENT}-{n}",
              "group.protocol": protocol, "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    if protocol == "classic":
        config.update({"session.timeout.ms": 10000, "heartbeat.interval.ms": 300})
    return config


def group_scenario(cluster, topic, group, protocol):
    create_topic(cluster, topic, 4)
    produce(cluster, topic, 4, 3)
    members = [Consumer(member_config(cluster, group, protocol, n)) for n in (0, 1)]
    a = admin(cluster)
    seen = {}
    try:
        read = set()
        for c in members:
            c.subscribe([topic])

        def step():
            for c in members:
                m = c.poll(0.1)
                if m is not None and m.error() is None:
                    read.add((m.partition(), m.offset(), m.key(), m.value(), m.timestamp()))

        def balanced():
            step()
            assignments = [set((tp.topic, tp.partition) for tp in c.assignment()) for c in members]
            return all(assignments) and sum(map(len, assignments)) == 4 and not (assignments[0] & assignments[1])
        wait_until(balanced, 30, "both members to share the four partitions")
        seen["assignment sizes"] = sorted(len(c.assignment()) for c in members)

        def all_read():
            step()
            return len(read) == 12
        wait_until(all_read, 20, "every record")
        seen["read"] = sorted(read)
        # Explicit offsets: which member read a partition first depends on when the assignment settled.
        # A commit that meets a rebalance (a member late on a loaded machine) is refused; as a client does,
        # keep polling until the group is balanced again, then commit again.
        def balanced_and_committed():
            if not balanced():
                return False
            try:
                for n, c in enumerate(members):
                    c.commit(offsets=[TopicPartition(topic, tp.partition, 3 - n, metadata=f"m{n}")
                                      for tp in c.assignment()], asynchronous=False)
            except confluent_kafka.KafkaException as e:
                if e.args[0].code() not in REBALANCE_COMMIT_ERRORS:
                    raise
                return False
            return True
        wait_until(balanced_and_committed, 30, "both members' commits")
        seen["committed"] = sorted((tp.offset, tp.metadata) for c in members
                                   for tp in c.committed(c.assignment(), TIMEOUT))

        [described] = a.describe_consumer_groups([group])[group].result(TIMEOUT),
        seen["described"] = describe_view(described)
        listed = a.list_consumer_groups().result(TIMEOUT)
        seen["listed"] = [(g.is_simple_consumer_group, g.state.name, g.type.name)
                          for g in listed.valid if g.group_id == group]
        offsets = a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(TIMEOUT)
        seen["offsets"] = sorted((tp.offset, tp.metadata) for tp in offsets.topic_partitions)
    finally:
        for c in members:
            c.close()
    after = a.describe_consumer_groups([group])[group].result(TIMEOUT)
    seen["after close"] = (after.state.name, len(after.members))
    seen["delete"] = [f.exception(TIMEOUT) is None for f in a.delete_consumer_groups([group]).values()]
    return seen


def describe_view(d):
    return {"simple": d.is_simple_consumer_group, "state": d.state.name, "type": d.type.name,
            "assignor": d.partition_assignor,
            "members": sorted((m.client_id, len(m.assignment.topic_partitions)) for m in d.members),
            "authorized operations": None if d.authorized_operations is None else
            sorted(o.name for o in d.authorized_operations)}


@pytest.mark.parametrize("protocol", ["classic", "consumer"])
def test_consumer_group(clusters, protocol):
    name = unique(CLIENT, f"group-{protocol}")
    results = both(clusters, group_scenario, name, name, protocol)
    assert results["kafka"]["assignment sizes"] == [2, 2]
    assert results["kafka"]["described"]["type"] == protocol.upper()
    assert_same(results, f"group.protocol={protocol}: membership, commits, describe/list/delete")


def offsets_scenario(cluster, topic):
    create_topic(cluster, topic, 2)
    p = Producer({"bootstrap.servers": cluster.bootstrap})
    for j, ts in enumerate([T0 + 5, T0 + 50, T0 + 20]):
        p.produce(topic, value=b"v", partition=0, timestamp=ts)
    assert p.flush(TIMEOUT) == 0
    a = admin(cluster)
    seen = {}
    for name, spec in [("earliest", OffsetSpec.earliest()), ("latest", OffsetSpec.latest()),
                       ("max timestamp", OffsetSpec.max_timestamp()), ("at T0+10", OffsetSpec.for_timestamp(T0 + 10))]:
        answer = a.list_offsets({TopicPartition(topic, p): spec for p in (0, 1)},
                                isolation_level=IsolationLevel.READ_COMMITTED)
        seen[name] = sorted((tp.partition, r.result(TIMEOUT).offset, r.result(TIMEOUT).timestamp)
                            for tp, r in answer.items())
    deleted = a.delete_records([TopicPartition(topic, 0, 1)])
    seen["delete records"] = sorted((tp.partition, r.result(TIMEOUT).low_watermark) for tp, r in deleted.items())
    described = a.describe_topics(TopicCollection([topic]))[topic].result(TIMEOUT)
    seen["describe topic"] = {"internal": described.is_internal,
                              "partitions": [(p.id, p.leader.id, [r.id for r in p.replicas], [r.id for r in p.isr])
                                             for p in described.partitions]}
    info = a.describe_cluster().result(TIMEOUT)
    seen["describe cluster"] = {"controller": info.controller.id, "nodes": [n.id for n in info.nodes]}
    return seen


def test_list_offsets_delete_records_describe(clusters):
    results = both(clusters, offsets_scenario, unique(CLIENT, "offsets"))
    assert results["kafka"]["max timestamp"][0] == (0, 1, T0 + 50)
    assert_same(results, "ListOffsets, DeleteRecords, DescribeTopics, DescribeCluster")


def elect_scenario(cluster, topic):
    create_topic(cluster, topic, 2)
    a = admin(cluster)
    answer = a.elect_leaders(ElectionType.PREFERRED, [TopicPartition(topic, 0), TopicPartition(topic, 1)])
    result = answer.result(TIMEOUT)
    return sorted((tp.partition, None if e is None else e.name()) for tp, e in result.items())


def test_elect_leaders(clusters):
    results = both(clusters, elect_scenario, unique(CLIENT, "elect"))
    assert_same(results, "ElectLeaders")
