"""aiokafka side by side: the producer with each codec it supports, a consumer group that commits and
resumes from its commits, and the admin client."""

import aiokafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import OffsetAndMetadata

from conftest import T0, assert_same, both_async, unique, wait_until_async

CLIENT = "aiokafka"


def test_client_version():
    assert aiokafka.__version__ == "0.14.0"


async def started(client):
    await client.start()
    return client


async def create_topic(cluster, topic, partitions):
    admin = await started(AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap, client_id=f"py-{CLIENT}"))
    try:
        answer = (await admin.create_topics([NewTopic(topic, partitions, 1)])).to_object()
        assert [t["error_code"] for t in answer["topic_errors"]] == [0], answer
        await known(admin, topic, partitions)
    finally:
        await admin.close()


async def known(admin, topic, partitions):
    """Waits until the broker's metadata has the topic: Kafka's learn of it a moment after CreateTopics answers."""
    async def described():
        d = await admin.describe_topics([topic])
        return d and d[0]["error_code"] == 0 and len(d[0]["partitions"]) == partitions
    await wait_until_async(described, 30, f"topic {topic} in the metadata")


CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


async def produce_consume(cluster, topic):
    await create_topic(cluster, topic, 2)
    seen = {"sent": {}}
    for i, codec in enumerate(CODECS):
        producer = await started(AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, compression_type=codec,
                                                  acks="all", linger_ms=20, client_id=f"py-{CLIENT}"))
        try:
            futures = [await producer.send(topic, key=f"k{j}".encode(), value=f"{codec}-{j}".encode() * 20,
                                           partition=i % 2, timestamp_ms=T0 + 10 * i + j,
                                           headers=[("codec", str(codec).encode())])
                       for j in range(3)]
            metadata = [await f for f in futures]
            seen["sent"][str(codec)] = [(m.partition, m.offset, m.timestamp, m.timestamp_type, m.log_start_offset)
                                        for m in metadata]
        finally:
            await producer.stop()

    consumer = await started(AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap, client_id=f"py-{CLIENT}",
                                              enable_auto_commit=False, auto_offset_reset="earliest"))
    try:
        tps = [TopicPartition(topic, p) for p in (0, 1)]
        consumer.assign(tps)
        await consumer.seek_to_beginning()
        records = []

        async def all_read():
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return len(records) >= 3 * len(CODECS)
        await wait_until_async(all_read, 20, "every record")
        seen["read"] = sorted((r.partition, r.offset, r.key, r.value, r.headers, r.timestamp, r.timestamp_type)
                              for r in records)
        seen["end"] = {tp.partition: o for tp, o in (await consumer.end_offsets(tps)).items()}
        by_time = await consumer.offsets_for_times({tps[0]: T0 + 15, tps[1]: T0 + 1000})
        seen["for times"] = {tp.partition: None if o is None else (o.offset, o.timestamp) for tp, o in by_time.items()}
    finally:
        await consumer.stop()
    return seen


def test_produce_consume_every_codec(clusters):
    results = both_async(clusters, produce_consume, unique(CLIENT, "codecs"))
    assert len(results["kafka"]["read"]) == 3 * len(CODECS)
    assert_same(results, "RecordMetadata of sent records, records read back, ListOffsets")


async def commits(cluster, topic, group):
    await create_topic(cluster, topic, 2)
    producer = await started(AIOKafkaProducer(bootstrap_servers=cluster.bootstrap))
    for p in (0, 1):
        for j in range(5):
            await producer.send(topic, value=f"{p}-{j}".encode(), partition=p, timestamp_ms=T0)
    await producer.flush()
    await producer.stop()
    tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    admin = await started(AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap, client_id=f"py-{CLIENT}"))
    seen = {}

    def member():
        return AIOKafkaConsumer(topic, bootstrap_servers=cluster.bootstrap, group_id=group, client_id=f"py-{CLIENT}",
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                heartbeat_interval_ms=300, session_timeout_ms=10000)
    try:
        first = await started(member())
        try:
            read = []

            async def all_read():
                for batch in (await first.getmany(timeout_ms=200)).values():
                    read.extend(batch)
                return len(read) >= 10
            await wait_until_async(all_read, 30, "every record in the group")
            seen["first member's assignment"] = sorted(tp.partition for tp in first.assignment())
            await first.commit({tps[0]: OffsetAndMetadata(3, "three"), tps[1]: OffsetAndMetadata(4, "")})
            seen["committed"] = {tp.partition: await first.committed(tp) for tp in tps}
            described = await admin.describe_consumer_groups([group])
            seen["while a member is in"] = [group_view(d) for d in described]
        finally:
            await first.stop()
        seen["after it left"] = [group_view(d) for d in await admin.describe_consumer_groups([group])]
        seen["listed"] = [g for g in await admin.list_consumer_groups() if g[0] == group]
        seen["offsets"] = {tp.partition: (o.offset, o.metadata)
                           for tp, o in (await admin.list_consumer_group_offsets(group)).items()}

        second = await started(member())
        try:
            resumed = []

            async def resumed_both():
                for batch in (await second.getmany(timeout_ms=200)).values():
                    resumed.extend(batch)
                return len(resumed) >= 3
            await wait_until_async(resumed_both, 30, "the second member to read from the commits")
            seen["resumed at"] = sorted((r.partition, r.offset) for r in resumed)
        finally:
            await second.stop()
    finally:
        await admin.close()
    return seen


def group_view(described):
    """A DescribeGroups answer without member ids, hosts and the members' opaque metadata."""
    d = described.to_object() if hasattr(described, "to_object") else described
    return [{"error": g["error_code"], "state": g["state"], "protocol type": g["protocol_type"],
             "protocol": g["protocol"], "members": sorted((m["client_id"], len(m["member_assignment"]) > 0)
                                                          for m in g["members"])}
            for g in d["groups"]]


def test_group_commits_and_resume(clusters):
    results = both_async(clusters, commits, unique(CLIENT, "commits"), unique(CLIENT, "commits"))
    assert results["kafka"]["resumed at"] == [(0, 3), (0, 4), (1, 4)]
    assert_same(results, "group, commits, resuming from them")


def config_view(responses):
    """{resource name: {config: (value, read only, default, sensitive)}} of DescribeConfigs answers."""
    out = {}
    for response in responses:
        for r in response.to_object()["resources"]:
            out[r["resource_name"]] = {"error": r["error_code"],
                                       "configs": {c["config_names"]: c for c in r["config_entries"]}}
    return out


async def admin_scenario(cluster, topic):
    admin = await started(AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap, client_id=f"py-{CLIENT}"))
    seen = {}
    try:
        created = (await admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"retention.ms": "7200000"}),
                                              NewTopic(topic + "-bad", -5, 1)])).to_object()
        seen["create"] = sorted((t["topic"], t["error_code"]) for t in created["topic_errors"])
        await known(admin, topic, 2)
        await create_topic(cluster, topic + "-second", 1)
        seen["topics"] = sorted(t for t in await admin.list_topics() if t.startswith(topic))
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, {"retention.ms": None, "cleanup.policy": None})
        seen["described configs"] = config_view(await admin.describe_configs([resource]))
        altered = await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                            {"retention.ms": "60000", "segment.ms": "3600000"})])
        seen["alter"] = [(r["resource_name"], r["error_code"]) for a in altered for r in a.to_object()["resources"]]

        # Kafka's broker applies the change a moment after the controller answers.
        async def altered():
            view = config_view(await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, {"retention.ms": None, "segment.ms": None,
                                                                 "cleanup.policy": None})]))
            return view[topic]["configs"].get("retention.ms", {}).get("config_value") == "60000" and view
        seen["configs after alter"] = await wait_until_async(altered, 30, "the altered retention.ms")
        partitions = (await admin.create_partitions({topic: NewPartitions(4)})).to_object()
        seen["create partitions"] = [(r["topic"], r["error_code"]) for r in partitions["topic_errors"]]
        cluster_view = await admin.describe_cluster()
        seen["cluster"] = {"brokers": [b["node_id"] for b in cluster_view["brokers"]],
                           "controller": cluster_view["controller_id"]}
        deleted = (await admin.delete_topics([topic, topic + "-second", topic + "-missing"])).to_object()
        seen["delete"] = sorted((t["topic"], t["error_code"]) for t in deleted["topic_error_codes"])
    finally:
        await admin.close()
    return seen


def test_admin(clusters):
    results = both_async(clusters, admin_scenario, unique(CLIENT, "admin"))
    assert [code for _, code in results["kafka"]["create"]] == [0, 37]  # INVALID_PARTITIONS for -5
    assert_same(results, "create/list/delete topics, configs, partitions, cluster")
