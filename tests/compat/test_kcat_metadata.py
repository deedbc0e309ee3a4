"""kcat's metadata listing (-L, -L -J, -L -t) against topics created with an AdminClient."""

import json
import re
import subprocess

import brook_harness as h

KCAT = h.require_program("kcat")
h.require_modules("confluent_kafka")

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPICS = {"kc-one": 1, "kc-three": 3, "kc-eight": 8}


def kcat(srv, *args):
    r = subprocess.run([KCAT, "-b", srv.bootstrap, "-m", "5", *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"kcat {' '.join(args)} exited {r.returncode}: {r.stderr}"
    return r.stdout


def kcat_json(srv, *args):
    out = kcat(srv, "-L", "-J", *args)
    try:
        return json.loads(out)
    except ValueError as e:
        raise AssertionError(f"kcat -J printed no JSON: {out!r}") from e


def create_topics(srv):
    a = AdminClient({"bootstrap.servers": srv.bootstrap})
    fs = a.create_topics([NewTopic(name, n, 1) for name, n in TOPICS.items()], request_timeout=15)
    for name, f in fs.items():
        assert f.result(timeout=15) is None, name


def check_partitions_json(topic, count):
    assert "error" not in topic, f"topic error {topic}"
    parts = sorted(topic["partitions"], key=lambda p: p["partition"])
    assert [p["partition"] for p in parts] == list(range(count)), f"{topic['topic']}: {parts}"
    for p in parts:
        assert p["leader"] == 1 and p["replicas"] == [{"id": 1}] and p["isrs"] == [{"id": 1}], p
        assert "error" not in p, p


# --- tests ---------------------------------------------------------------------------------------

def test_empty_cluster_listing(srv):
    md = kcat_json(srv)
    assert md["controllerid"] == 1, md
    assert md["brokers"] == [{"id": 1, "name": srv.bootstrap}], md["brokers"]
    assert md["originating_broker"] == {"id": 1, "name": f"{srv.bootstrap}/1"}, md["originating_broker"]
    assert md["topics"] == [], md["topics"]


def test_json_listing_after_admin_create(srv):
    create_topics(srv)
    md = kcat_json(srv)
    assert md["query"] == {"topic": "*"}, md["query"]
    by_name = {t["topic"]: t for t in md["topics"]}
    assert set(by_name) == set(TOPICS), f"topics {sorted(by_name)}"
    for name, count in TOPICS.items():
        check_partitions_json(by_name[name], count)


def test_text_listing(srv):
    out = kcat(srv, "-L")
    assert f"Metadata for all topics (from broker 1: {srv.bootstrap}/1):" in out, out
    assert re.search(r"^ 1 brokers:\n  broker 1 at " + re.escape(srv.bootstrap) + r" \(controller\)$", out, re.M), out
    assert re.search(rf"^ {len(TOPICS)} topics:$", out, re.M), out
    for name, count in TOPICS.items():
        assert f'  topic "{name}" with {count} partitions:' in out, out
    for p in range(8):
        assert f"    partition {p}, leader 1, replicas: 1, isrs: 1" in out, out
    assert "error" not in out.lower(), out


def test_single_topic_listing(srv):
    md = kcat_json(srv, "-t", "kc-three")
    assert md["query"] == {"topic": "kc-three"}, md["query"]
    assert [t["topic"] for t in md["topics"]] == ["kc-three"], md["topics"]
    check_partitions_json(md["topics"][0], 3)


def test_listing_unknown_topic_auto_creates(srv):
    # conf/server.properties: auto.create.topics.enable=true, num.partitions=1.
    out = kcat(srv, "-L", "-t", "kc-auto")
    assert 'topic "kc-auto" with 1 partitions:' in out, out
    assert "    partition 0, leader 1, replicas: 1, isrs: 1" in out, out
    srv.wait_for_log(lambda lines: any("created topic kc-auto" in l for l in lines), what="creation logged")
    md = kcat_json(srv)
    assert {t["topic"] for t in md["topics"]} == set(TOPICS) | {"kc-auto"}, md["topics"]
    check_partitions_json(next(t for t in md["topics"] if t["topic"] == "kc-auto"), 1)


def test_invalid_names_are_not_auto_created(srv):
    for name in ("kc/slash", "x" * 250, ".."):
        md = kcat_json(srv, "-t", name)
        assert md["topics"] == [{"topic": name, "error": "Broker: Invalid topic", "partitions": []}], md["topics"]
    names = {t["topic"] for t in kcat_json(srv)["topics"]}
    assert names == set(TOPICS) | {"kc-auto"}, f"topics {sorted(names)}"


def test_auto_create_disabled_reports_unknown_topic(srv):
    with h.brook_server(extra_overrides={"auto.create.topics.enable": "false"}) as other:
        out = kcat(other, "-L", "-t", "kc-missing")
        assert 'topic "kc-missing" with 0 partitions: Broker: Unknown topic or partition' in out, out
        md = kcat_json(other, "-t", "kc-missing")
        assert md["topics"] == [{"topic": "kc-missing", "error": "Broker: Unknown topic or partition",
                                 "partitions": []}], md["topics"]
        assert kcat_json(other)["topics"] == [], "the topic was created anyway"
        other.stop()


def test_clean_shutdown(srv):
    srv.stop()


if __name__ == "__main__":
    h.main(globals(), modules=["confluent_kafka"], programs=["kcat"])
