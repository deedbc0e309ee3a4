"""Topic administration through kafka-python's KafkaAdminClient and KafkaConsumer metadata calls."""

import logging

import brook_harness as h

h.require_modules("kafka")

import kafka.errors as Errors  # noqa: E402
from kafka import KafkaConsumer  # noqa: E402
from kafka.protocol.admin import CreatePartitionsRequest, CreateTopicsRequest  # noqa: E402
from kafka.admin import (ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions,  # noqa: E402
                         NewTopic)

logging.basicConfig(level=logging.CRITICAL)  # the client logs expected errors loudly

# Kafka's DescribeConfigs config_source values.
DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 1, 4, 5
_admins = {}


def admin(srv):
    if srv.bootstrap not in _admins:
        # No api_version: the client works it out from the broker's ApiVersions answer.
        _admins[srv.bootstrap] = KafkaAdminClient(bootstrap_servers=srv.bootstrap, request_timeout_ms=10000,
                                                  client_id="brook-compat")
    return _admins[srv.bootstrap]


def expect_error(error_class, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except error_class:
        return
    except Exception as e:  # report what came instead
        raise AssertionError(f"expected {error_class.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {error_class.__name__}, call succeeded")


def describe_configs(srv, resource_type, name, keys=None, include_synonyms=True):
    configs = dict.fromkeys(keys) if keys else None
    responses = admin(srv).describe_configs([ConfigResource(resource_type, name, configs)],
                                            include_synonyms=include_synonyms)
    assert len(responses) == 1 and len(responses[0].resources) == 1, f"responses {responses}"
    error_code, error_message, rtype, rname, entries = responses[0].resources[0]
    return error_code, {e[0]: e for e in entries}


# --- tests ---------------------------------------------------------------------------------------

def test_version_detected_from_api_versions(srv):
    a = admin(srv)
    version = a.config["api_version"]
    assert isinstance(version, tuple) and version >= (1, 0, 0), f"detected broker version {version}"
    api = a._client.get_api_versions()
    for key in (3, 18, 19, 20, 32, 33, 37):  # Metadata, ApiVersions, Create/DeleteTopics, Describe/AlterConfigs,
        assert key in api, f"API {key} not advertised: {sorted(api)}"  # CreatePartitions
    assert api[18][0] == 0 and api[18][1] >= 3, f"ApiVersions range {api[18]}"


def test_describe_cluster(srv):
    c = admin(srv).describe_cluster()
    assert c["controller_id"] == 1, c
    assert isinstance(c["cluster_id"], str) and len(c["cluster_id"]) == 22, c
    assert len(c["brokers"]) == 1, c
    b = c["brokers"][0]
    assert (b["node_id"], b["host"], b["port"]) == (1, "127.0.0.1", srv.port), b


def test_create_topics(srv):
    resp = admin(srv).create_topics([NewTopic("kp-events", 4, 1, topic_configs={"retention.ms": "60000"}),
                                     NewTopic("kp-compact", 1, 1, topic_configs={"cleanup.policy": "compact"})])
    errors = {t[0]: t[1] for t in resp.topic_errors}
    assert errors == {"kp-events": 0, "kp-compact": 0}, f"topic errors {resp.topic_errors}"
    names = admin(srv).list_topics()
    assert {"kp-events", "kp-compact"} <= set(names), f"topics {names}"


def test_create_validate_only(srv):
    resp = admin(srv).create_topics([NewTopic("kp-validated", 2, 1)], validate_only=True)
    assert [t[:2] for t in resp.topic_errors] == [("kp-validated", 0)], resp.topic_errors
    assert "kp-validated" not in admin(srv).list_topics()


def test_create_topic_errors(srv):
    a = admin(srv)
    expect_error(Errors.TopicAlreadyExistsError, a.create_topics, [NewTopic("kp-events", 1, 1)])
    expect_error(Errors.InvalidPartitionsError, a.create_topics, [NewTopic("kp-zero", 0, 1)])
    expect_error(Errors.InvalidReplicationFactorError, a.create_topics, [NewTopic("kp-rf3", 1, 3)])
    expect_error(Errors.InvalidTopicError, a.create_topics, [NewTopic("bad/name", 1, 1)])
    expect_error(Errors.InvalidConfigurationError, a.create_topics,
                 [NewTopic("kp-badcfg", 1, 1, topic_configs={"no.such.config": "x"})])
    expect_error(Errors.InvalidConfigurationError, a.create_topics,
                 [NewTopic("kp-badval", 1, 1, topic_configs={"retention.ms": "-5x"})])
    names = set(a.list_topics())
    assert not names & {"kp-zero", "kp-rf3", "bad/name", "kp-badcfg", "kp-badval"}, f"topics {names}"


def raw_to_controller(srv, request):
    """Sends a request as built and returns the response without the client's error handling."""
    a = admin(srv)
    future = a._send_request_to_node(a._controller_id, request)
    a._wait_for_futures([future])
    return future.value


def test_create_topics_request_edge_cases(srv):
    def create(*topics):
        resp = raw_to_controller(srv, CreateTopicsRequest[3](create_topic_requests=list(topics), timeout=10000,
                                                             validate_only=False))
        return [(t[0], t[1]) for t in resp.topic_errors]

    def check(got, expected):
        assert got == expected, f"(topic, error) {got}, expected {expected}"

    # The same name twice in one request: both entries refused with INVALID_REQUEST.
    check(create(("kp-dup", 1, 1, [], []), ("kp-dup", 1, 1, [], [])), [("kp-dup", 42), ("kp-dup", 42)])
    # A count and an assignment together: INVALID_REQUEST.
    check(create(("kp-both", 2, 1, [(0, [1]), (1, [1])], [])), [("kp-both", 42)])
    # Assignments must number partitions from 0 without gaps: INVALID_REPLICA_ASSIGNMENT.
    check(create(("kp-gap", -1, -1, [(0, [1]), (2, [1])], [])), [("kp-gap", 39)])
    # Below segment.bytes' minimum (14): INVALID_CONFIG.
    check(create(("kp-seg", 1, 1, [], [("segment.bytes", "13")])), [("kp-seg", 40)])
    names = set(admin(srv).list_topics())
    assert not names & {"kp-dup", "kp-both", "kp-gap", "kp-seg"}, f"topics {names}"

    resp = raw_to_controller(srv, CreatePartitionsRequest[1](
        topic_partitions=[("kp-events", (5, None)), ("kp-events", (6, None))], timeout=10000, validate_only=False))
    assert [(t[0], t[1]) for t in resp.topic_errors] == [("kp-events", 42), ("kp-events", 42)], resp

    # Kafka refuses a null config value at creation: INVALID_CONFIG "Null value not supported for
    # topic configs: retention.ms".
    check(create(("kp-nullcfg", 1, 1, [], [("retention.ms", None)])), [("kp-nullcfg", 40)])


def test_describe_topics(srv):
    topics = admin(srv).describe_topics(["kp-events", "kp-compact"])
    by_name = {t["topic"]: t for t in topics}
    assert set(by_name) == {"kp-events", "kp-compact"}, topics
    ev = by_name["kp-events"]
    assert ev["error_code"] == 0 and ev["is_internal"] is False, ev
    parts = sorted(ev["partitions"], key=lambda p: p["partition"])
    assert [p["partition"] for p in parts] == [0, 1, 2, 3], parts
    for p in parts:
        assert (p["error_code"], p["leader"], p["replicas"], p["isr"]) == (0, 1, [1], [1]), p


def test_describe_unknown_topic_does_not_create_it(srv):
    # kafka-python sends allow_auto_topic_creation=false; the broker must honour it even though
    # auto.create.topics.enable=true.
    topics = admin(srv).describe_topics(["kp-not-there"])
    assert len(topics) == 1 and topics[0]["topic"] == "kp-not-there", topics
    assert topics[0]["error_code"] == Errors.UnknownTopicOrPartitionError.errno, topics
    assert "kp-not-there" not in admin(srv).list_topics()


def test_describe_topic_configs(srv):
    error, entries = describe_configs(srv, ConfigResourceType.TOPIC, "kp-events")
    assert error == 0, f"error {error}"
    name, value, read_only, source, sensitive, synonyms = entries["retention.ms"]
    assert (value, read_only, source, sensitive) == ("60000", False, DYNAMIC_TOPIC_CONFIG, False), entries["retention.ms"]
    assert [tuple(s) for s in synonyms] == [("retention.ms", "60000", DYNAMIC_TOPIC_CONFIG)], synonyms
    # The raw synonym list keeps both entries for a key set in server.properties.
    name, value, read_only, source, sensitive, synonyms = entries["segment.bytes"]
    assert (value, source) == ("1073741824", STATIC_BROKER_CONFIG), entries["segment.bytes"]
    assert [tuple(s) for s in synonyms] == [("log.segment.bytes", "1073741824", STATIC_BROKER_CONFIG),
                                            ("log.segment.bytes", "1073741824", DEFAULT_CONFIG)], synonyms
    assert entries["cleanup.policy"][1:5] == ("delete", False, DEFAULT_CONFIG, False), entries["cleanup.policy"]

    error, entries = describe_configs(srv, ConfigResourceType.TOPIC, "kp-compact",
                                      keys=["cleanup.policy", "retention.ms"], include_synonyms=False)
    assert error == 0 and set(entries) == {"cleanup.policy", "retention.ms"}, entries
    assert entries["cleanup.policy"][1:5] == ("compact", False, DYNAMIC_TOPIC_CONFIG, False)
    assert entries["cleanup.policy"][5] == [], "synonyms sent although not asked for"

    error, entries = describe_configs(srv, ConfigResourceType.TOPIC, "kp-not-there")
    assert error == Errors.UnknownTopicOrPartitionError.errno and entries == {}, (error, entries)


def test_describe_broker_configs(srv):
    error, entries = describe_configs(srv, ConfigResourceType.BROKER, "1")
    assert error == 0, f"error {error}"
    assert entries["num.partitions"][1:5] == ("1", True, STATIC_BROKER_CONFIG, False), entries["num.partitions"]
    assert entries["log.segment.bytes"][1] == "1073741824"
    assert entries["log.segment.bytes"][3] == STATIC_BROKER_CONFIG
    syn = [tuple(s) for s in entries["log.segment.bytes"][5]]
    assert syn == [("log.segment.bytes", "1073741824", STATIC_BROKER_CONFIG),
                   ("log.segment.bytes", "1073741824", DEFAULT_CONFIG)], syn
    assert entries["log.retention.check.interval.ms"][1:4:2] == ("300000", STATIC_BROKER_CONFIG)
    assert entries["message.max.bytes"][1:4:2] == ("1048588", DEFAULT_CONFIG)
    for e in entries.values():
        if e[4]:
            assert e[1] is None, f"sensitive {e[0]} has a value"


def test_alter_configs(srv):
    a = admin(srv)
    resp = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-events",
                                           {"retention.ms": "120000", "cleanup.policy": "compact,delete"})])
    assert [tuple(r[:1]) + tuple(r[2:4]) for r in resp.resources] == [(0, 2, "kp-events")], resp.resources
    error, entries = describe_configs(srv, ConfigResourceType.TOPIC, "kp-events")
    assert entries["retention.ms"][1:4:2] == ("120000", DYNAMIC_TOPIC_CONFIG), entries["retention.ms"]
    assert entries["cleanup.policy"][1:4:2] == ("compact,delete", DYNAMIC_TOPIC_CONFIG), entries["cleanup.policy"]

    resp = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-events", {"cleanup.policy": "nope"})])
    assert resp.resources[0][0] == Errors.InvalidConfigurationError.errno, resp.resources
    resp = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-not-there", {"retention.ms": "1"})])
    assert resp.resources[0][0] == Errors.UnknownTopicOrPartitionError.errno, resp.resources
    error, entries = describe_configs(srv, ConfigResourceType.TOPIC, "kp-events", keys=["retention.ms"])
    assert entries["retention.ms"][1] == "120000", "a failed alter changed the topic"


def test_create_partitions(srv):
    a = admin(srv)
    resp = a.create_partitions({"kp-compact": NewPartitions(3)})
    assert [t[:2] for t in resp.topic_errors] == [("kp-compact", 0)], resp.topic_errors
    (t,) = a.describe_topics(["kp-compact"])
    assert sorted(p["partition"] for p in t["partitions"]) == [0, 1, 2], t
    expect_error(Errors.InvalidPartitionsError, a.create_partitions, {"kp-compact": NewPartitions(1)})
    expect_error(Errors.UnknownTopicOrPartitionError, a.create_partitions, {"kp-not-there": NewPartitions(2)})


def test_consumer_metadata(srv):
    consumer = KafkaConsumer(bootstrap_servers=srv.bootstrap, request_timeout_ms=11000,
                             consumer_timeout_ms=1000)
    try:
        topics = consumer.topics()
        assert {"kp-events", "kp-compact"} <= topics, f"topics {topics}"
        assert consumer.partitions_for_topic("kp-events") == {0, 1, 2, 3}
        assert consumer.partitions_for_topic("kp-compact") == {0, 1, 2}
    finally:
        consumer.close()


def test_delete_topics(srv):
    a = admin(srv)
    resp = a.delete_topics(["kp-compact"])
    assert [tuple(t[:2]) for t in resp.topic_error_codes] == [("kp-compact", 0)], resp.topic_error_codes
    assert "kp-compact" not in a.list_topics()
    expect_error(Errors.UnknownTopicOrPartitionError, a.delete_topics, ["kp-compact"])


def test_restart_keeps_topics(srv):
    srv.restart()
    names = admin(srv).list_topics()
    assert "kp-events" in names and "kp-compact" not in names, names
    error, entries = describe_configs(srv, ConfigResourceType.TOPIC, "kp-events", keys=["retention.ms"])
    assert entries["retention.ms"][1:4:2] == ("120000", DYNAMIC_TOPIC_CONFIG), entries


def test_clean_shutdown(srv):
    for a in _admins.values():
        a.close()
    srv.stop()


if __name__ == "__main__":
    h.main(globals(), modules=["kafka"])
