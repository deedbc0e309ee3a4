"""kafka-python (PyPI's current release; Debian's 2.0.2 is tested by tests/compat/test_*.py) side by side:
its admin client, producer with every codec, a consumer group, and the newer admin APIs it speaks."""

import kafka
import kafka.errors as Errors
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.protocol.admin.topics import ElectionType
from kafka.protocol.consumer.offsets import OffsetSpec
from kafka.structs import OffsetAndMetadata

from conftest import T0, assert_same, both, unique, wait_until

CLIENT = "kafka-python"


def admin(cluster):
    return KafkaAdminClient(bootstrap_servers=cluster.bootstrap, client_id=f"py-{CLIENT}")


def partition_codes(response):
    """{topic: error code} of a CreatePartitions answer (the messages are free text)."""
    return {r.name: r.error_code for r in response.results}


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def create_topic(cluster, topic, partitions):
    with_admin = admin(cluster)
    try:
        answer = with_admin.create_topics([NewTopic(topic, partitions, 1)], raise_errors=False)
        assert answer["topics"][0]["error_code"] == 0, answer
        # Kafka's broker learns of a new topic a moment after the controller answers, and leads its
        # partitions a moment after its metadata lists them: every partition answers ListOffsets once it does.
        with_admin.wait_for_topics([topic])
        latest = {TopicPartition(topic, p): OffsetSpec.LATEST for p in range(partitions)}

        def answering():
            try:
                return len(with_admin.list_partition_offsets(latest)) == partitions
            except Errors.KafkaError:
                return False
        wait_until(answering, 30, f"{topic}'s partitions to answer")
    finally:
        with_admin.close()


def test_client_version():
    assert kafka.__version__ == "3.0.12"


def topic_lifecycle(cluster, topic):
    a = admin(cluster)
    try:
        seen = {}
        created = a.create_topics([NewTopic(topic, 3, 1, topic_configs={"retention.ms": "3600000"})],
                                  raise_errors=False)["topics"][0]
        seen["create"] = without(created, "topic_id", "error_message", "configs")
        seen["create again"] = a.create_topics([NewTopic(topic, 3, 1)], raise_errors=False)["topics"][0]["error_code"]
        seen["create with no partitions"] = a.create_topics([NewTopic(topic + "-none", 0, 1)],
                                                            raise_errors=False)["topics"][0]["error_code"]
        seen["create with 2 replicas"] = a.create_topics([NewTopic(topic + "-rf2", 1, 2)],
                                                         raise_errors=False)["topics"][0]["error_code"]
        a.wait_for_topics([topic])
        [described] = a.describe_topics([topic])
        seen["describe"] = without(described, "topic_id")
        seen["add partitions"] = partition_codes(a.create_partitions({topic: NewPartitions(5)}, raise_errors=False))
        seen["shrink partitions"] = partition_codes(a.create_partitions({topic: NewPartitions(2)},
                                                                        raise_errors=False))
        # Kafka's broker learns of new partitions a moment after the controller answers.
        seen["partitions after"] = wait_until(
            lambda: len(a.describe_topics([topic])[0]["partitions"]) == 5 and
            sorted(p["partition_index"] for p in a.describe_topics([topic])[0]["partitions"]), 30, "five partitions")
        seen["modified configs"] = config_lines(
            a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic])
        for step in ("delete", "delete again"):
            seen[step] = [without(t, "topic_id", "error_message")
                          for t in a.delete_topics([topic], raise_errors=False)["topics"]]
        return seen
    finally:
        a.close()


def test_topic_lifecycle(clusters):
    results = both(clusters, topic_lifecycle, unique(CLIENT, "lifecycle"))
    assert results["kafka"]["create"]["error_code"] == 0
    assert results["kafka"]["create again"] == Errors.TopicAlreadyExistsError.errno
    assert_same(results, "create, describe, add partitions, delete")


def config_lines(configs):
    """{name: "value (source, flags)"}: one line per config in a difference."""
    return {name: f"{c['value']!r} ({c['config_source']}{', read-only' if c['read_only'] else ''}"
                  f"{', sensitive' if c['is_sensitive'] else ''}{', ' + c['config_type'] if 'config_type' in c else ''})"
            for name, c in configs.items()}


def created_configs(cluster, topic):
    a = admin(cluster)
    try:
        created = a.create_topics([NewTopic(topic, 1, 1, topic_configs={"cleanup.policy": "compact"})],
                                  raise_errors=False)["topics"][0]
        a.wait_for_topics([topic])
        described = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
        return {"from CreateTopics": config_lines(created["configs"]),
                "from DescribeConfigs": config_lines(described["topic"][topic])}
    finally:
        a.close()


def test_topic_configs(clusters):
    """Every topic config, its value, source and flags, as CreateTopics and DescribeConfigs report them."""
    results = both(clusters, created_configs, unique(CLIENT, "configs"))
    assert results["kafka"]["from CreateTopics"]["cleanup.policy"] == "'compact' (DYNAMIC_TOPIC_CONFIG)"
    assert_same(results, "topic configs")


CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def produce_consume(cluster, topic):
    create_topic(cluster, topic, 2)
    seen = {"sent": {}}
    for i, codec in enumerate(CODECS):
        producer = KafkaProducer(bootstrap_servers=cluster.bootstrap, compression_type=None if codec == "none" else codec,
                                 acks="all", linger_ms=50, client_id=f"py-{CLIENT}")
        futures = [producer.send(topic, key=f"k{j}".encode(), value=f"{codec}-{j}".encode() * 20,
                                 headers=[("codec", codec.encode()), ("n", str(j).encode())],
                                 partition=i % 2, timestamp_ms=T0 + 10 * i + j)
                   for j in range(4)]
        producer.flush(10)
        seen["sent"][codec] = [(m.partition, m.offset, m.timestamp) for m in (f.get(10) for f in futures)]
        producer.close(5)

    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap, client_id=f"py-{CLIENT}",
                             enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        tps = [TopicPartition(topic, p) for p in (0, 1)]
        consumer.assign(tps)
        records = []

        def all_read():
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            return len(records) >= 4 * len(CODECS)
        wait_until(all_read, 20, "every record")
        seen["read"] = sorted((r.partition, r.offset, r.key, r.value, r.headers, r.timestamp, r.timestamp_type)
                              for r in records)
        seen["beginning"] = {tp.partition: o for tp, o in consumer.beginning_offsets(tps).items()}
        seen["end"] = {tp.partition: o for tp, o in consumer.end_offsets(tps).items()}
        by_time = consumer.offsets_for_times({tps[0]: T0 + 20, tps[1]: T0 + 1000})
        seen["for times"] = {tp.partition: None if o is None else (o.offset, o.timestamp) for tp, o in by_time.items()}
    finally:
        consumer.close()
    return seen


def test_produce_consume_every_codec(clusters):
    results = both(clusters, produce_consume, unique(CLIENT, "codecs"))
    assert len(results["kafka"]["read"]) == 4 * len(CODECS)
    assert_same(results, "offsets and timestamps of sent records, records read back, ListOffsets")


def consumer_group(cluster, topic, group):
    create_topic(cluster, topic, 4)
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap, client_id=f"py-{CLIENT}")
    for p in range(4):
        for j in range(3):
            producer.send(topic, value=f"{p}-{j}".encode(), partition=p, timestamp_ms=T0)
    producer.flush(10)
    producer.close(5)

    def member(n):
        c = KafkaConsumer(bootstrap_servers=cluster.bootstrap, group_id=group, client_id=f"py-{CLIENT}-{n}",
                          enable_auto_commit=False, auto_offset_reset="earliest",
                          heartbeat_interval_ms=300, session_timeout_ms=10000)
        # The topic's partitions first: a leader that assigns before its metadata has them assigns nothing,
        # and rejoins only when that metadata next changes.
        wait_until(lambda: len(c.partitions_for_topic(topic) or ()) == 4, 30, "the topic's partitions")
        c.subscribe([topic])
        return c
    members = [member(0), member(1)]
    a = admin(cluster)
    seen = {}
    try:
        read = {0: [], 1: []}

        def balanced():
            for n, c in enumerate(members):
                for batch in c.poll(timeout_ms=100).values():
                    read[n].extend(batch)
            assignments = [c.assignment() for c in members]
            return all(assignments) and sum(len(x) for x in assignments) == 4 and \
                not (assignments[0] & assignments[1])
        wait_until(balanced, 30, "both members to share the four partitions")
        seen["assignment sizes"] = sorted(len(c.assignment()) for c in members)

        def all_read():
            for n, c in enumerate(members):
                for batch in c.poll(timeout_ms=100).values():
                    read[n].extend(batch)
            return len({(r.partition, r.offset) for n in read for r in read[n]}) == 12
        wait_until(all_read, 20, "every record")

        # A late rebalance (a slow member on a loaded machine) can move a partition to a member that has
        # not read it yet: commit once every owner's position is at the partition's end.
        def caught_up():
            for n, c in enumerate(members):
                for batch in c.poll(timeout_ms=100).values():
                    read[n].extend(batch)
            assignments = [c.assignment() for c in members]
            return sum(len(x) for x in assignments) == 4 and \
                all(c.position(tp) == 3 for c in members for tp in c.assignment())
        # A commit that meets a rebalance gets REBALANCE_IN_PROGRESS (CommitFailedError once the member's
        # generation is gone): as the error says, poll to complete the rebalance, then commit again.
        def caught_up_and_committed():
            if not caught_up():
                return False
            try:
                for c in members:
                    c.commit({tp: OffsetAndMetadata(c.position(tp), "done", -1) for tp in c.assignment()})
            except (Errors.RebalanceInProgressError, Errors.CommitFailedError):
                return False
            return True
        wait_until(caught_up_and_committed, 30, "every member at the end of its partitions, and its commit")
        described = a.describe_groups([group])
        seen["described"] = [{"state": g["group_state"], "protocol type": g["protocol_type"],
                              "protocol": g["protocol_data"], "members": len(g["members"]), "error": g["error"],
                              "authorized operations": sorted(g["authorized_operations"])}
                             for g in described.values()]
        listed = [g for g in a.list_groups() if g["group_id"] == group]
        seen["listed"] = [without(g, "group_id") for g in listed]
        offsets = a.list_group_offsets({group: None})
        seen["committed"] = sorted((tp.partition, o.offset, o.metadata) for tp, o in offsets[group].items())
    finally:
        for c in members:
            c.close(autocommit=False)
    try:
        seen["after close"] = [g["group_state"] for g in a.describe_groups([group]).values()]
        seen["delete"] = {k: repr(v) for k, v in a.delete_groups([group]).items()}
        seen["delete again"] = {k: repr(v) for k, v in a.delete_groups([group]).items()}
    finally:
        a.close()
    return seen


def test_consumer_group(clusters):
    results = both(clusters, consumer_group, unique(CLIENT, "group"), unique(CLIENT, "group"))
    assert results["kafka"]["assignment sizes"] == [2, 2]
    assert len(results["kafka"]["committed"]) == 4
    assert_same(results, "group membership, commits, describe/list/delete")


def cluster_view(cluster):
    a = admin(cluster)
    try:
        described = a.describe_cluster()
        return {"controller": described["controller_id"],
                "brokers": [without(b, "host", "port") for b in described["brokers"]],
                "authorized operations": described["authorized_operations"]}
    finally:
        a.close()


def test_describe_cluster(clusters):
    assert_same(both(clusters, cluster_view), "DescribeCluster")


# The admin APIs below are newer than most of Brook: each is a test of its own, so that a missing one
# fails alone.

def log_dirs(cluster, topic):
    create_topic(cluster, topic, 2)
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap)
    producer.send(topic, value=b"x" * 100, partition=0).get(10)
    producer.close(5)
    a = admin(cluster)
    try:
        answer = a.describe_log_dirs({topic: [0, 1]})
        result = []
        for broker in answer:
            for d in broker["log_dirs"]:
                topics = [{"name": t["name"],
                           "partitions": sorted((p["partition_index"], p["partition_size"] > 0, p["offset_lag"],
                                                 p["is_future_key"]) for p in t["partitions"])}
                          for t in d["topics"] if t["name"] == topic]
                result.append({"error": d["error_code"], "topics": topics,
                               "has sizes": d.get("total_bytes", -1) > 0 and d.get("usable_bytes", -1) > 0})
        return result
    finally:
        a.close()


def test_describe_log_dirs(clusters):
    assert_same(both(clusters, log_dirs, unique(CLIENT, "logdirs")), "DescribeLogDirs")


# Features Brook deliberately leaves at level 0 (README.md, "Deliberate differences"): it has no share
# or streams groups and no KRaft quorum, which Kafka 4.4 finalizes above 0.
# Their lowest supported level is compared; their highest and their finalized level are not.
FEATURES_BROOK_LACKS = {"share.version", "streams.version", "kraft.version"}


def features(cluster):
    a = admin(cluster)
    try:
        answer = a.describe_features()
        seen = {}
        for name, f in answer.items():
            if name in FEATURES_BROOK_LACKS:
                seen[name] = {"lowest supported": f["supported"][0]}
            else:
                seen[name] = {"supported": f["supported"], "finalized": f.get("finalized")}
        # The epoch of the finalized levels is the metadata offset on Kafka; both must have one.
        seen["finalized epoch present"] = any(f.get("finalized_epoch", -1) >= 0 for f in answer.values())
        return seen
    finally:
        a.close()


def test_describe_features(clusters):
    """Every feature with its supported levels and finalized level (Kafka's are pinned with its version)."""
    results = both(clusters, features)
    assert results["kafka"]["metadata.version"]["finalized"][0] >= 33
    assert_same(results, "ApiVersions features")


def topic_partitions(cluster, topic):
    create_topic(cluster, topic, 3)
    a = admin(cluster)
    try:
        answer = a.describe_topic_partitions([topic, topic + "-missing"])
        return {"topics": [without(t, "topic_id") for t in answer["topics"]], "next cursor": answer["next_cursor"]}
    finally:
        a.close()


def test_describe_topic_partitions(clusters):
    assert_same(both(clusters, topic_partitions, unique(CLIENT, "dtp")), "DescribeTopicPartitions")


def partition_offsets(cluster, topic):
    create_topic(cluster, topic, 1)
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap)
    for j, ts in enumerate([T0 + 5, T0 + 50, T0 + 20]):
        producer.send(topic, value=b"v", partition=0, timestamp_ms=ts)
    producer.flush(10)
    producer.close(5)
    a = admin(cluster)
    tp = TopicPartition(topic, 0)
    try:
        seen = {}
        for name, spec in [("earliest", OffsetSpec.EARLIEST), ("latest", OffsetSpec.LATEST),
                           ("max timestamp", OffsetSpec.MAX_TIMESTAMP), ("at T0+10", T0 + 10)]:
            answer = a.list_partition_offsets({tp: spec})
            seen[name] = {p.partition: (o.offset, o.timestamp) for p, o in answer.items()}
        seen["delete records"] = {p.partition: repr(v) for p, v in a.delete_records({tp: 2}).items()}
        seen["earliest after"] = {p.partition: o.offset for p, o in
                                  a.list_partition_offsets({tp: OffsetSpec.EARLIEST}).items()}
        return seen
    finally:
        a.close()


def test_list_offsets_and_delete_records(clusters):
    assert_same(both(clusters, partition_offsets, unique(CLIENT, "offsets")), "ListOffsets, DeleteRecords")


def elect_leaders(cluster, topic):
    create_topic(cluster, topic, 2)
    a = admin(cluster)
    try:
        answer = a.elect_leaders(ElectionType.PREFERRED, {topic: [0, 1]}, raise_errors=False)
        return {"error": answer.error_code,
                "partitions": sorted((t.topic, p.partition_id, p.error_code)
                                     for t in answer.replica_election_results for p in t.partition_result)}
    finally:
        a.close()


def test_elect_leaders(clusters):
    assert_same(both(clusters, elect_leaders, unique(CLIENT, "elect")), "ElectLeaders")


def reassignments(cluster, topic):
    create_topic(cluster, topic, 1)
    a = admin(cluster)
    try:
        return a.list_partition_reassignments([TopicPartition(topic, 0)])
    finally:
        a.close()


def test_list_partition_reassignments(clusters):
    assert_same(both(clusters, reassignments, unique(CLIENT, "reassign")), "ListPartitionReassignments")


def producers(cluster, topic):
    create_topic(cluster, topic, 1)
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap, enable_idempotence=True, acks="all")
    for _ in range(3):
        producer.send(topic, value=b"v", partition=0, timestamp_ms=T0)
    producer.flush(10)
    a = admin(cluster)
    try:
        answer = a.describe_producers([TopicPartition(topic, 0)])
        return {tp.partition: [without(p._asdict(), "producer_id", "last_timestamp") for p in state.active_producers]
                for tp, state in answer.items()}
    finally:
        producer.close(5)
        a.close()


def test_describe_producers(clusters):
    assert_same(both(clusters, producers, unique(CLIENT, "producers")), "DescribeProducers")
