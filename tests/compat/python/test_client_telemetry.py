"""Client telemetry (KIP-714) side by side: a Kafka broker without a metrics reporter plugin does not
offer GetTelemetrySubscriptions (71) or PushTelemetry (72) in ApiVersions, and neither does Brook, so
clients that push metrics by default (librdkafka 2.16 here, `enable.metrics.push=true`) stay quiet.
Brook's request log, which notes every request whose header decodes (an API it does not serve too),
shows that they do."""

import json
import os
import socket
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import kafka_wire as wire  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

from conftest import T0, assert_same, both, unique  # noqa: E402

TELEMETRY_APIS = {71: "GetTelemetrySubscriptions", 72: "PushTelemetry"}
TIMEOUT = 15


def offered_apis(cluster):
    """The API keys an ApiVersions v3 answer lists (read on a raw socket)."""
    host, port = cluster.bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        body = wire.compact_string("brook-compat") + wire.compact_string("1.0") + wire.TAGS
        s.sendall(wire.frame(wire.header_v2(18, 3, 1) + body))
        r = wire.Reader(wire.read_response(s))
        assert r.int32() == 1  # correlation id (ApiVersions answers with response header v0)
        assert r.int16() == 0  # error code

        def entry(reader):
            key = reader.int16()
            reader.int16(), reader.int16()
            reader.skip_tagged_fields()
            return key
        return set(r.compact_array(entry))


def control(cluster, method, path):
    request = urllib.request.Request(cluster.control + path, method=method)
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        return json.load(answer)


def produce_and_consume(cluster, topic, client_id):
    """Produces and reads back a few records with metrics push on; returns what was read."""
    p = Producer({"bootstrap.servers": cluster.bootstrap, "client.id": client_id, "enable.metrics.push": True,
                  "linger.ms": 5})
    for i in range(5):
        p.produce(topic, key=f"k{i}", value=f"v{i}", partition=0, timestamp=T0 + i)
    assert p.flush(TIMEOUT) == 0
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "client.id": client_id, "enable.metrics.push": True,
                  "group.id": topic, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        read = []
        while len(read) < 5:
            m = c.poll(TIMEOUT)
            assert m is not None, f"only {len(read)} of 5 records read"
            assert m.error() is None, m.error()
            read.append((m.key().decode(), m.value().decode()))
        return read
    finally:
        c.close()


def scenario(cluster, topic, client_id):
    offered = offered_apis(cluster)
    return {"telemetry APIs offered": sorted(TELEMETRY_APIS[k] for k in offered & set(TELEMETRY_APIS)),
            "ApiVersions lists Produce and Fetch": {0, 1} <= offered,
            "read": produce_and_consume(cluster, topic, client_id)}


def test_no_telemetry_offered_and_clients_stay_quiet(clusters):
    topic = unique("telemetry", "quiet")
    client_id = topic + "-client"
    brook = next(c for c in clusters if c.name == "brook")
    control(brook, "DELETE", "/requests")
    results = both(clusters, scenario, topic, client_id)
    assert results["kafka"]["telemetry APIs offered"] == []
    assert_same(results, "telemetry APIs offered, and the records read")
    sent = [r for r in control(brook, "GET", "/requests")["requests"] if r["client_id"] == client_id]
    assert any(r["api"] == "Produce" for r in sent), sent  # the log saw this client's requests
    assert [r for r in sent if r["api_key"] in TELEMETRY_APIS] == []
