"""Topic administration through confluent-kafka's AdminClient (librdkafka), as against one-node Kafka."""

import brook_harness as h

h.require_modules("confluent_kafka")

from confluent_kafka import KafkaError, KafkaException  # noqa: E402
from confluent_kafka.admin import (AdminClient, ConfigResource, ConfigSource, NewPartitions,  # noqa: E402
                                   NewTopic)

TIMEOUT = 15
_admins = {}


def admin(srv):
    # One client per broker incarnation: a restart moves the broker to a new port.
    if srv.bootstrap not in _admins:
        _admins[srv.bootstrap] = AdminClient({"bootstrap.servers": srv.bootstrap, "socket.timeout.ms": 10000,
                                              "log.connection.close": False})
    return _admins[srv.bootstrap]


def result_of(futures, key):
    return futures[key].result(timeout=TIMEOUT)


def error_of(futures, key):
    """The KafkaError a future failed with (AssertionError if it succeeded)."""
    try:
        futures[key].result(timeout=TIMEOUT)
    except KafkaException as e:
        return e.args[0]
    raise AssertionError(f"{key} succeeded, expected an error")


def expect_code(err, code, what):
    assert err.code() == code, f"{what}: expected {KafkaError(code).name()} ({code}), got {err.code()} {err}"


def create(srv, *topics, validate_only=False):
    futures = admin(srv).create_topics(list(topics), request_timeout=TIMEOUT, validate_only=validate_only)
    return futures


def topic_names(srv):
    # No topic argument: librdkafka asks for all topics, which never auto-creates.
    return set(admin(srv).list_topics(timeout=TIMEOUT).topics)


def describe_topic(srv, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return result_of(admin(srv).describe_configs([res], request_timeout=TIMEOUT), res)


def check_entry(entries, name, value, source, is_default=None, read_only=False):
    assert name in entries, f"{name} missing from described configs"
    e = entries[name]
    assert e.value == value, f"{name}: value {e.value!r}, expected {value!r}"
    assert e.source == source.value, f"{name}: source {ConfigSource(e.source)}, expected {source}"
    if is_default is None:
        is_default = source == ConfigSource.DEFAULT_CONFIG
    assert e.is_default == is_default, f"{name}: is_default {e.is_default}, expected {is_default}"
    if read_only is not None:
        assert e.is_read_only == read_only, f"{name}: read_only {e.is_read_only}, expected {read_only}"
    assert e.is_sensitive is False, f"{name}: unexpectedly sensitive"
    return e


def synonym_list(entry):
    return [(s.name, s.value, ConfigSource(s.source)) for s in entry.synonyms.values()]


# --- tests ---------------------------------------------------------------------------------------

def test_cluster_metadata(srv):
    md = admin(srv).list_topics(timeout=TIMEOUT)
    assert isinstance(md.cluster_id, str) and len(md.cluster_id) == 22, f"cluster id {md.cluster_id!r}"
    assert md.controller_id == 1, f"controller {md.controller_id}"
    assert list(md.brokers) == [1], f"brokers {md.brokers}"
    b = md.brokers[1]
    assert (b.id, b.host, b.port) == (1, "127.0.0.1", srv.port), f"broker {b.id} {b.host}:{b.port}"
    # The broker that answered, as the client knows it: newer librdkafka keeps its bootstrap connection
    # apart from the brokers it learns from Metadata and reports an answer over it as -1 (unknown id).
    assert md.orig_broker_id in (1, -1), f"answered by {md.orig_broker_id}"


def test_create_topic_with_partitions_and_configs(srv):
    name = "orders"
    fs = create(srv, NewTopic(name, num_partitions=3, replication_factor=1,
                              config={"retention.ms": "3600000", "cleanup.policy": "compact"}))
    assert result_of(fs, name) is None
    md = admin(srv).list_topics(timeout=TIMEOUT)
    assert name in md.topics, f"{name} not listed: {sorted(md.topics)}"
    t = md.topics[name]
    assert t.error is None, f"topic error {t.error}"
    assert sorted(t.partitions) == [0, 1, 2], f"partitions {sorted(t.partitions)}"
    for pid, p in t.partitions.items():
        assert p.id == pid and p.error is None
        assert p.leader == 1 and p.replicas == [1] and p.isrs == [1], f"p{pid}: {p.leader} {p.replicas} {p.isrs}"


def test_create_with_default_partitions(srv):
    # -1 partitions / replication factor: the broker's num.partitions and default.replication.factor.
    fs = create(srv, NewTopic("defaults-topic", num_partitions=-1, replication_factor=-1))
    assert result_of(fs, "defaults-topic") is None
    t = admin(srv).list_topics(timeout=TIMEOUT).topics["defaults-topic"]
    assert sorted(t.partitions) == [0]


def test_create_several_topics_in_one_request(srv):
    fs = create(srv, NewTopic("multi-a", 2, 1), NewTopic("multi-b", 4, 1), NewTopic("orders", 1, 1))
    assert result_of(fs, "multi-a") is None
    assert result_of(fs, "multi-b") is None
    expect_code(error_of(fs, "orders"), KafkaError.TOPIC_ALREADY_EXISTS, "orders again")
    md = admin(srv).list_topics(timeout=TIMEOUT)
    assert len(md.topics["multi-a"].partitions) == 2
    assert len(md.topics["multi-b"].partitions) == 4
    assert len(md.topics["orders"].partitions) == 3, "failed re-create changed the existing topic"


def test_validate_only(srv):
    fs = create(srv, NewTopic("validated", 2, 1, config={"retention.ms": "1000"}), validate_only=True)
    assert result_of(fs, "validated") is None
    assert "validated" not in topic_names(srv), "validate_only created the topic"
    # Errors are still reported when only validating.
    fs = create(srv, NewTopic("validated", 0, 1), NewTopic("orders", 1, 1), validate_only=True)
    expect_code(error_of(fs, "validated"), KafkaError.INVALID_PARTITIONS, "validate_only with 0 partitions")
    expect_code(error_of(fs, "orders"), KafkaError.TOPIC_ALREADY_EXISTS, "validate_only of an existing topic")
    assert "validated" not in topic_names(srv)


def test_create_errors(srv):
    cases = [
        (NewTopic("orders", 1, 1), KafkaError.TOPIC_ALREADY_EXISTS),
        (NewTopic("zero-partitions", 0, 1), KafkaError.INVALID_PARTITIONS),
        (NewTopic("three-replicas", 1, 3), KafkaError.INVALID_REPLICATION_FACTOR),
        (NewTopic("bad/name", 1, 1), KafkaError.TOPIC_EXCEPTION),
        (NewTopic("..", 1, 1), KafkaError.TOPIC_EXCEPTION),
        (NewTopic("x" * 250, 1, 1), KafkaError.TOPIC_EXCEPTION),
        (NewTopic("unknown-config", 1, 1, config={"no.such.config": "1"}), KafkaError.INVALID_CONFIG),
        (NewTopic("bad-number", 1, 1, config={"retention.ms": "soon"}), KafkaError.INVALID_CONFIG),
        (NewTopic("bad-choice", 1, 1, config={"cleanup.policy": "shred"}), KafkaError.INVALID_CONFIG),
        (NewTopic("out-of-range", 1, 1, config={"min.cleanable.dirty.ratio": "2"}), KafkaError.INVALID_CONFIG),
    ]
    for topic, code in cases:
        fs = create(srv, topic)
        expect_code(error_of(fs, topic.topic), code, f"create {topic.topic[:40]!r}")
    listed = topic_names(srv)
    for topic, code in cases[1:]:
        assert topic.topic not in listed, f"failed create left {topic.topic[:40]!r} behind"


def test_topic_name_rules(srv):
    longest = "y" * 249  # Kafka's limit; one more is refused above
    try:
        fs = create(srv, NewTopic(longest, 1, 1), NewTopic("dots.and_under-scores", 1, 1))
        assert result_of(fs, longest) is None
        assert result_of(fs, "dots.and_under-scores") is None
        # '.' and '_' map to the same metric name, so Kafka refuses a name that differs from an
        # existing one only in them: INVALID_TOPIC_EXCEPTION "... collides with existing topic".
        fs = create(srv, NewTopic("dots_and.under-scores", 1, 1))
        expect_code(error_of(fs, "dots_and.under-scores"), KafkaError.TOPIC_EXCEPTION, "colliding name")
    finally:
        admin(srv).delete_topics([longest, "dots.and_under-scores", "dots_and.under-scores"],
                                 request_timeout=TIMEOUT)
        h.wait_until(lambda: not {longest, "dots.and_under-scores", "dots_and.under-scores"} & topic_names(srv),
                     timeout=TIMEOUT, what="name-rule topics deleted")


def test_create_with_replica_assignment(srv):
    fs = create(srv, NewTopic("assigned", 3, replica_assignment=[[1], [1], [1]]))
    assert result_of(fs, "assigned") is None
    t = admin(srv).list_topics(timeout=TIMEOUT).topics["assigned"]
    assert sorted(t.partitions) == [0, 1, 2] and all(p.replicas == [1] for p in t.partitions.values())
    fs = create(srv, NewTopic("assigned-elsewhere", 2, replica_assignment=[[1], [2]]))
    expect_code(error_of(fs, "assigned-elsewhere"), KafkaError.INVALID_REPLICA_ASSIGNMENT, "unknown broker 2")
    fs = admin(srv).create_partitions([NewPartitions("assigned", 4, replica_assignment=[[1]])],
                                      request_timeout=TIMEOUT)
    assert result_of(fs, "assigned") is None
    fs = admin(srv).create_partitions([NewPartitions("assigned", 5, replica_assignment=[[2]])],
                                      request_timeout=TIMEOUT)
    expect_code(error_of(fs, "assigned"), KafkaError.INVALID_REPLICA_ASSIGNMENT, "new partition on broker 2")
    assert len(admin(srv).list_topics(timeout=TIMEOUT).topics["assigned"].partitions) == 4
    assert "assigned-elsewhere" not in topic_names(srv)
    fs = admin(srv).delete_topics(["assigned"], request_timeout=TIMEOUT)
    assert result_of(fs, "assigned") is None


def test_describe_topic_configs(srv):
    entries = describe_topic(srv, "orders")
    e = check_entry(entries, "retention.ms", "3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    # Kafka lists the broker synonyms of log.retention.ms only from log.retention.ms itself on, so the
    # log.retention.hours set in server.properties does not show up (nor below, for an untouched topic).
    syn = synonym_list(e)
    assert syn == [("retention.ms", "3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG)], f"synonyms {syn}"
    check_entry(entries, "cleanup.policy", "compact", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    # Untouched, and not set in server.properties: Kafka's default.
    e = check_entry(entries, "max.message.bytes", "1048588", ConfigSource.DEFAULT_CONFIG)
    assert synonym_list(e) == [("message.max.bytes", "1048588", ConfigSource.DEFAULT_CONFIG)], \
        f"synonyms {synonym_list(e)}"
    # A new data directory holds Kafka 4.4's cluster-wide dynamic default of min.insync.replicas.
    check_entry(entries, "min.insync.replicas", "1", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)
    check_entry(entries, "compression.type", "producer", ConfigSource.DEFAULT_CONFIG)
    # Untouched, but the broker's server.properties sets its synonym: that static value.
    e = check_entry(entries, "segment.bytes", "1073741824", ConfigSource.STATIC_BROKER_CONFIG)
    # Kafka sends two synonyms here (STATIC_BROKER_CONFIG and DEFAULT_CONFIG, both log.segment.bytes);
    # the Python binding keys synonyms by name, so only one survives (the raw list is checked with
    # kafka-python).
    assert list(e.synonyms) == ["log.segment.bytes"], f"synonyms {synonym_list(e)}"
    for name, entry in entries.items():
        assert not entry.is_read_only, f"topic config {name} is read-only"
        assert not entry.is_sensitive, f"topic config {name} is sensitive"


def test_describe_untouched_topic(srv):
    entries = describe_topic(srv, "multi-a")
    e = check_entry(entries, "retention.ms", "604800000", ConfigSource.DEFAULT_CONFIG)
    assert synonym_list(e) == [], f"synonyms {synonym_list(e)}"
    check_entry(entries, "cleanup.policy", "delete", ConfigSource.DEFAULT_CONFIG)


def test_describe_unknown_topic(srv):
    res = ConfigResource(ConfigResource.Type.TOPIC, "no-such-topic")
    fs = admin(srv).describe_configs([res], request_timeout=TIMEOUT)
    expect_code(error_of(fs, res), KafkaError.UNKNOWN_TOPIC_OR_PART, "describe unknown topic")
    assert "no-such-topic" not in topic_names(srv), "describe_configs created the topic"


def test_describe_broker_configs(srv):
    res = ConfigResource(ConfigResource.Type.BROKER, "1")
    entries = result_of(admin(srv).describe_configs([res], request_timeout=TIMEOUT), res)
    assert len(entries) > 50, f"only {len(entries)} broker configs"
    # Read-only: Kafka cannot change these without a restart.
    check_entry(entries, "num.partitions", "1", ConfigSource.STATIC_BROKER_CONFIG, read_only=True)
    check_entry(entries, "log.retention.hours", "168", ConfigSource.STATIC_BROKER_CONFIG, read_only=True)
    check_entry(entries, "auto.create.topics.enable", "true", ConfigSource.STATIC_BROKER_CONFIG, read_only=True)
    # Not set in the file: Kafka's defaults. (Kafka marks these two dynamically updatable, so not
    # read-only; Brook has no dynamic broker configs yet and marks every broker key read-only.)
    check_entry(entries, "message.max.bytes", "1048588", ConfigSource.DEFAULT_CONFIG, read_only=None)
    check_entry(entries, "log.cleaner.threads", "1", ConfigSource.DEFAULT_CONFIG, read_only=None)
    listeners = entries["listeners"]
    assert listeners.value == "PLAINTEXT://127.0.0.1:0", f"listeners {listeners.value!r}"
    sensitive = [e for e in entries.values() if e.is_sensitive]
    for e in sensitive:
        assert e.value is None, f"sensitive {e.name} has a value"


def test_alter_configs_replaces_topic_overrides(srv):
    res = ConfigResource(ConfigResource.Type.TOPIC, "orders", set_config={"retention.ms": "7200000",
                                                                          "max.message.bytes": "2000000"})
    assert result_of(admin(srv).alter_configs([res], request_timeout=TIMEOUT), res) is None
    entries = describe_topic(srv, "orders")
    check_entry(entries, "retention.ms", "7200000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    check_entry(entries, "max.message.bytes", "2000000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    # AlterConfigs (not incremental) replaces the whole set: compact is gone.
    check_entry(entries, "cleanup.policy", "delete", ConfigSource.DEFAULT_CONFIG)


def test_alter_configs_validate_only_and_errors(srv):
    res = ConfigResource(ConfigResource.Type.TOPIC, "orders", set_config={"retention.ms": "1"})
    assert result_of(admin(srv).alter_configs([res], validate_only=True, request_timeout=TIMEOUT), res) is None
    check_entry(describe_topic(srv, "orders"), "retention.ms", "7200000", ConfigSource.DYNAMIC_TOPIC_CONFIG)

    bad = ConfigResource(ConfigResource.Type.TOPIC, "orders", set_config={"retention.ms": "forever"})
    expect_code(error_of(admin(srv).alter_configs([bad], request_timeout=TIMEOUT), bad),
                KafkaError.INVALID_CONFIG, "alter with a bad value")
    unknown = ConfigResource(ConfigResource.Type.TOPIC, "orders", set_config={"no.such.config": "1"})
    expect_code(error_of(admin(srv).alter_configs([unknown], request_timeout=TIMEOUT), unknown),
                KafkaError.INVALID_CONFIG, "alter with an unknown key")
    missing = ConfigResource(ConfigResource.Type.TOPIC, "no-such-topic", set_config={"retention.ms": "1"})
    expect_code(error_of(admin(srv).alter_configs([missing], request_timeout=TIMEOUT), missing),
                KafkaError.UNKNOWN_TOPIC_OR_PART, "alter an unknown topic")
    # Nothing above changed the topic.
    check_entry(describe_topic(srv, "orders"), "retention.ms", "7200000", ConfigSource.DYNAMIC_TOPIC_CONFIG)


def test_create_partitions(srv):
    a = admin(srv)
    fs = a.create_partitions([NewPartitions("orders", 5)], request_timeout=TIMEOUT)
    assert result_of(fs, "orders") is None
    assert sorted(a.list_topics(timeout=TIMEOUT).topics["orders"].partitions) == [0, 1, 2, 3, 4]

    fs = a.create_partitions([NewPartitions("orders", 8)], validate_only=True, request_timeout=TIMEOUT)
    assert result_of(fs, "orders") is None
    assert len(a.list_topics(timeout=TIMEOUT).topics["orders"].partitions) == 5, "validate_only grew the topic"

    for count, what in ((2, "shrink"), (5, "same count")):
        fs = a.create_partitions([NewPartitions("orders", count)], request_timeout=TIMEOUT)
        expect_code(error_of(fs, "orders"), KafkaError.INVALID_PARTITIONS, what)
    fs = a.create_partitions([NewPartitions("no-such-topic", 3)], request_timeout=TIMEOUT)
    expect_code(error_of(fs, "no-such-topic"), KafkaError.UNKNOWN_TOPIC_OR_PART, "grow an unknown topic")
    assert len(a.list_topics(timeout=TIMEOUT).topics["orders"].partitions) == 5


def test_delete_topics(srv):
    a = admin(srv)
    fs = a.delete_topics(["multi-b", "no-such-topic"], request_timeout=TIMEOUT)
    assert result_of(fs, "multi-b") is None
    expect_code(error_of(fs, "no-such-topic"), KafkaError.UNKNOWN_TOPIC_OR_PART, "delete an unknown topic")
    names = topic_names(srv)
    assert "multi-b" not in names and "multi-a" in names, f"topics {sorted(names)}"
    # The name is free again.
    fs = create(srv, NewTopic("multi-b", 1, 1))
    assert result_of(fs, "multi-b") is None
    assert len(a.list_topics(timeout=TIMEOUT).topics["multi-b"].partitions) == 1
    fs = a.delete_topics(["multi-b"], request_timeout=TIMEOUT)
    assert result_of(fs, "multi-b") is None


def test_restart_keeps_topics_and_configs(srv):
    before = admin(srv).list_topics(timeout=TIMEOUT)
    _admins.clear()  # a client left behind would keep retrying the old port
    srv.restart()
    after = admin(srv).list_topics(timeout=TIMEOUT)
    assert after.cluster_id == before.cluster_id, f"cluster id changed {before.cluster_id} -> {after.cluster_id}"
    assert set(after.topics) == set(before.topics), f"{sorted(before.topics)} -> {sorted(after.topics)}"
    assert "multi-b" not in after.topics
    assert len(after.topics["orders"].partitions) == 5
    assert len(after.topics["multi-a"].partitions) == 2
    entries = describe_topic(srv, "orders")
    check_entry(entries, "retention.ms", "7200000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    check_entry(entries, "max.message.bytes", "2000000", ConfigSource.DYNAMIC_TOPIC_CONFIG)
    check_entry(entries, "cleanup.policy", "delete", ConfigSource.DEFAULT_CONFIG)
    fs = create(srv, NewTopic("orders", 1, 1))
    expect_code(error_of(fs, "orders"), KafkaError.TOPIC_ALREADY_EXISTS, "orders after restart")


def test_clean_shutdown(srv):
    _admins.clear()
    srv.stop()  # asserts exit code 0


if __name__ == "__main__":
    h.main(globals(), modules=["confluent_kafka"])
