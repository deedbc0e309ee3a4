"""Helpers shared by the produce/consume compatibility tests (confluent-kafka, kafka-python, kcat).

Consumers here never join a group: they assign() partitions and read from explicit offsets, which is
what a one-node Kafka serves without a group coordinator.
"""

import ctypes
import json
import subprocess
import sys
import time

import brook_harness as h

TIMEOUT = 15.0

# librdkafka prints connection noise when a broker it knew goes away (every restart test does that).
QUIET = {"log.connection.close": False}


def admin(srv):
    from confluent_kafka.admin import AdminClient
    # A fresh client per call: restarts move the broker to a new port.
    return AdminClient({"bootstrap.servers": srv.bootstrap, **QUIET})


def create_topic(srv, name, partitions=1, config=None):
    from confluent_kafka.admin import NewTopic
    client = admin(srv)  # must outlive the future
    futures = client.create_topics([NewTopic(name, partitions, 1, config=config or {})],
                                   request_timeout=TIMEOUT)
    futures[name].result(timeout=TIMEOUT)
    return name


def producer(srv, **conf):
    from confluent_kafka import Producer
    settings = {"bootstrap.servers": srv.bootstrap, "acks": "all", **QUIET}
    settings.update({k.replace("_", "."): v for k, v in conf.items()})
    return Producer(settings)


class Delivery:
    """One delivery report: the error (None on success) and where the record landed."""

    def __init__(self, err, msg):
        self.error = err
        self.topic = msg.topic()
        self.partition = msg.partition()
        self.offset = msg.offset()
        self.key = msg.key()
        self.value = msg.value()
        self.timestamp = msg.timestamp()

    def __repr__(self):
        return f"Delivery({self.error}, p{self.partition}@{self.offset}, key={self.key!r})"


def produce_all(prod, topic, records, flush_timeout=30.0):
    """Produces records (dicts of produce() keyword arguments) and waits for every delivery report.

    Returns the Delivery list in the order the records were given.
    """
    reports = [None] * len(records)

    def on_delivery(i):
        return lambda err, msg: reports.__setitem__(i, Delivery(err, msg))

    for i, rec in enumerate(records):
        while True:
            try:
                prod.produce(topic, on_delivery=on_delivery(i), **rec)
                break
            except BufferError:
                prod.poll(0.05)
        if i % 500 == 0:
            prod.poll(0)
    left = prod.flush(flush_timeout)
    assert left == 0, f"{left} messages still undelivered after {flush_timeout}s"
    missing = [i for i, r in enumerate(reports) if r is None]
    assert not missing, f"no delivery report for {len(missing)} records (first {missing[:5]})"
    return reports


def assert_delivered(reports):
    errors = [r for r in reports if r.error is not None]
    assert not errors, f"{len(errors)} of {len(reports)} deliveries failed, first: {errors[:3]} {errors[0].error}"


class Record:
    """A consumed record reduced to the fields a client can observe, comparable with ==."""

    __slots__ = ("partition", "offset", "key", "value", "headers", "timestamp")

    def __init__(self, partition, offset, key, value, headers, timestamp):
        self.partition, self.offset, self.key, self.value = partition, offset, key, value
        self.headers, self.timestamp = headers, timestamp

    def _tuple(self):
        return (self.partition, self.offset, self.key, self.value, self.headers, self.timestamp)

    def __eq__(self, other):
        return self._tuple() == other._tuple()

    def __repr__(self):
        v = self.value if self.value is None or len(self.value) < 40 else self.value[:40] + b"..."
        return f"Record(p{self.partition}@{self.offset} key={self.key!r} value={v!r} " \
               f"headers={self.headers} ts={self.timestamp})"


def consumer(srv, **conf):
    from confluent_kafka import Consumer
    settings = {"bootstrap.servers": srv.bootstrap, "group.id": "brook-compat-unused",
                "enable.auto.commit": False, "enable.auto.offset.store": False,
                "enable.partition.eof": True, **QUIET}
    settings.update({k.replace("_", "."): v for k, v in conf.items()})
    return Consumer(settings)


def watermarks(srv, topic, partition):
    """(low, high) as the broker reports them through ListOffsets."""
    from confluent_kafka import TopicPartition
    c = consumer(srv)
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT)
    finally:
        c.close()


def message_headers(msg):
    """msg.headers(), working around confluent-kafka 1.7 returning null header values as None
    without taking a reference to None (the interpreter later aborts in none_dealloc)."""
    headers = msg.headers()
    if headers and sys.version_info < (3, 12):  # None is immortal from 3.12 on
        for _, value in headers:
            if value is None:
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    return headers


def consume_to_end(srv, topic, partitions, start=0, timeout=TIMEOUT, **conf):
    """Reads `partitions` (a list, or a count meaning 0..count-1) from `start` until each reports EOF.

    Returns {partition: [Record, ...]} in offset order. Fails on any consumer error.
    """
    from confluent_kafka import KafkaError, TopicPartition
    if isinstance(partitions, int):
        partitions = list(range(partitions))
    c = consumer(srv, **conf)
    out = {p: [] for p in partitions}
    try:
        c.assign([TopicPartition(topic, p, start) for p in partitions])
        at_end = set()
        deadline = time.monotonic() + timeout
        while len(at_end) < len(partitions):
            assert time.monotonic() < deadline, \
                f"timed out reading {topic}: EOF on {sorted(at_end)}, counts {[len(v) for v in out.values()]}"
            for m in c.consume(1000, 0.5):
                err = m.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        at_end.add(m.partition())
                        continue
                    raise AssertionError(f"consumer error on {topic}: {err}")
                at_end.discard(m.partition())
                out[m.partition()].append(Record(m.partition(), m.offset(), m.key(), m.value(),
                                                 message_headers(m), m.timestamp()))
    finally:
        c.close()
    return out


def kcat(srv, *args, stdin=None, timeout=30, check=True):
    """Runs kcat against the broker; returns the CompletedProcess (bytes)."""
    path = h.require_program("kcat")
    r = subprocess.run([path, "-b", srv.bootstrap, "-m", "10", *args], input=stdin, capture_output=True,
                       timeout=timeout)
    if check:
        assert r.returncode == 0, \
            f"kcat {' '.join(args)} exited {r.returncode}: {r.stderr.decode('utf-8', 'replace')[-2000:]}"
    return r


def kcat_consume_json(srv, topic, *args, timeout=30):
    """kcat -C -J ... -e: one dict per consumed message (keys topic, partition, offset, tstype, ts,
    headers, key, payload)."""
    r = kcat(srv, "-C", "-t", topic, "-J", "-e", "-q", "-X", "fetch.wait.max.ms=100", *args, timeout=timeout)
    lines = [line for line in r.stdout.decode("utf-8").split("\n") if line.strip()]
    try:
        return [json.loads(line) for line in lines]
    except ValueError as e:
        raise AssertionError(f"kcat printed something that is not JSON: {r.stdout[:500]!r}") from e
