"""The fixture itself, and real client paths (confluent-kafka) driven through the control API."""

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

TIMEOUT = 30


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def producer(brook, **extra):
    return Producer({"bootstrap.servers": brook.bootstrap_servers, "linger.ms": 0, **extra})


def produce_one(p, topic, value, timeout=TIMEOUT):
    """Produces one record and waits for its delivery report; returns the error (None = delivered)."""
    reports = []
    p.produce(topic, value=value, on_delivery=lambda err, msg: reports.append(err))
    deadline = time.monotonic() + timeout
    while not reports and time.monotonic() < deadline:
        p.poll(0.1)
    assert reports, f"no delivery report within {timeout}s"
    return reports[0]


def topics(brook, client_id="brook-pytest"):
    admin = AdminClient({"bootstrap.servers": brook.bootstrap_servers, "client.id": client_id})
    return set(admin.list_topics(timeout=TIMEOUT).topics)


def test_produce_and_consume(brook):
    topic = name("orders")
    brook.create_topic(topic, partitions=2)
    p = producer(brook)
    for i in range(5):
        p.produce(topic, key=str(i).encode(), value=f"order {i}".encode(), partition=i % 2)
    assert p.flush(TIMEOUT) == 0

    c = Consumer({"bootstrap.servers": brook.bootstrap_servers, "group.id": name("g"),
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, 0, 0), TopicPartition(topic, 1, 0)])
        seen = []
        deadline = time.monotonic() + TIMEOUT
        while len(seen) < 5 and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is not None and not msg.error():
                seen.append(msg.value().decode())
        assert sorted(seen) == [f"order {i}" for i in range(5)]
    finally:
        c.close()


def test_reset_isolation_part_1_leaves_things_behind(brook):
    brook.create_topic("left-behind")
    brook.inject_error("Fetch", "NOT_LEADER_OR_FOLLOWER", count=100)
    assert "left-behind" in topics(brook, client_id="isolation-probe")


def test_reset_isolation_part_2_starts_clean(brook):
    # The previous test's topic, fault rule and request log are gone.
    assert brook.faults() == []
    assert "left-behind" not in topics(brook)
    assert all(r["client_id"] != "isolation-probe" for r in brook.requests())


@pytest.mark.brook(fresh=True)
def test_fresh_marker_gives_a_broker_of_its_own(brook, brook_session):
    assert brook.bootstrap_servers != brook_session.bootstrap_servers
    brook.create_topic("only-here")
    assert "only-here" in topics(brook)
    assert "only-here" not in topics(brook_session)


@pytest.mark.brook(overrides={"num.partitions": 3})
def test_overrides_reach_the_broker(brook):
    p = producer(brook)
    assert produce_one(p, "auto-created", b"x") is None  # auto-created with num.partitions
    admin = AdminClient({"bootstrap.servers": brook.bootstrap_servers})
    assert len(admin.list_topics("auto-created", timeout=TIMEOUT).topics["auto-created"].partitions) == 3


def test_not_leader_on_produce_is_retried_and_delivered(brook):
    topic = name("retry")
    brook.create_topic(topic)
    p = producer(brook)
    assert produce_one(p, topic, b"warm-up") is None
    brook.inject_error("Produce", "NOT_LEADER_OR_FOLLOWER", count=1, topic=topic)
    before = len(brook.requests("Produce"))
    assert produce_one(p, topic, b"survives a leader change") is None
    assert len(brook.requests("Produce")) - before >= 2, "the refused produce was not sent again"
    assert brook.faults() == []  # the rule's one use is spent


def test_not_coordinator_on_offset_commit_is_retried(brook):
    topic = name("commits")
    group = name("group")
    brook.create_topic(topic)
    c = Consumer({"bootstrap.servers": brook.bootstrap_servers, "group.id": group, "enable.auto.commit": False})
    try:
        c.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)  # finds the coordinator
        brook.inject_error("OffsetCommit", "NOT_COORDINATOR", count=1, group=group)
        before = len(brook.requests("OffsetCommit"))
        committed = c.commit(offsets=[TopicPartition(topic, 0, 7)], asynchronous=False)
        assert committed[0].error is None and committed[0].offset == 7
        assert len(brook.requests("OffsetCommit")) - before >= 2
        assert c.committed([TopicPartition(topic, 0)], timeout=TIMEOUT)[0].offset == 7
    finally:
        c.close()


def test_paused_broker_times_the_request_out(brook):
    topic = name("paused")
    brook.create_topic(topic)
    p = producer(brook, **{"request.timeout.ms": 1000, "message.timeout.ms": 1500, "socket.timeout.ms": 2000,
                           "retries": 0})
    assert produce_one(p, topic, b"warm-up") is None
    with brook.paused():
        err = produce_one(p, topic, b"never answered", timeout=15)
    assert err is not None and err.code() in (KafkaError._MSG_TIMED_OUT, KafkaError.REQUEST_TIMED_OUT,
                                              KafkaError._TIMED_OUT), err
    assert produce_one(p, topic, b"after resume") is None


def test_storage_error_on_append_is_reported_to_the_producer(brook):
    topic = name("full-disk")
    brook.create_topic(topic)
    p = producer(brook, retries=0)
    assert produce_one(p, topic, b"warm-up") is None
    # A full disk: the append fails, the log dir stays usable (EIO would fail the whole dir).
    brook.disk_fault("append", "ENOSPC", count=1, topic=topic)
    err = produce_one(p, topic, b"no room")
    assert err is not None and err.code() == KafkaError.KAFKA_STORAGE_ERROR, err
    assert produce_one(p, topic, b"room again") is None


def test_delay_slows_the_answer(brook):
    topic = name("slow")
    brook.create_topic(topic)
    p = producer(brook)
    assert produce_one(p, topic, b"warm-up") is None
    brook.delay("Produce", ms=400, count=1)
    started = time.monotonic()
    assert produce_one(p, topic, b"late") is None
    assert time.monotonic() - started >= 0.4


def test_dropped_and_closed_connections_are_survived(brook):
    topic = name("dropped")
    brook.create_topic(topic)
    p = producer(brook)
    assert produce_one(p, topic, b"warm-up") is None
    assert brook.close_connections() >= 1
    assert produce_one(p, topic, b"reconnected") is None
    brook.drop_connection("Produce", count=1)
    assert produce_one(p, topic, b"sent again after the drop") is None


def test_version_cap_limits_what_the_client_uses(brook):
    topic = name("capped")
    brook.create_topic(topic)
    brook.cap_version("Produce", 7)
    p = producer(brook)
    assert produce_one(p, topic, b"old protocol") is None
    versions = {r["api_version"] for r in brook.requests("Produce")}
    assert versions and max(versions) <= 7, versions
    rules = brook.faults()
    assert len(rules) == 1
    brook.clear_faults(rules[0]["id"])
    assert brook.faults() == []
