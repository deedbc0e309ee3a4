"""The `brook` command-line tool against a real brook-server: topic and group commands, their output,
exit codes (0 ok, 1 Kafka error, 2 usage) and error messages that name the problem.

Needs $BROOK_CLI (the brook binary) and $BROOK_SERVER; the group tests make their groups with kafka-python.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "compat"))
import brook_harness as h  # noqa: E402


def cli_binary():
    path = os.environ.get("BROOK_CLI")
    if not path:
        h.skip("BROOK_CLI is not set (path to the brook tool)")
    if not os.access(path, os.X_OK):
        h.skip(f"BROOK_CLI={path} is not an executable file")
    return path


def brook(srv, *args, timeout=60):
    """Runs the tool against `srv`; returns (exit code, stdout, stderr)."""
    cmd = [cli_binary(), "-b", srv.bootstrap, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def ok(srv, *args):
    code, out, err = brook(srv, *args)
    assert code == 0, f"brook {' '.join(args)} exited {code}:\n{out}\n{err}"
    return out


def fails(srv, expected_code, *args):
    code, out, err = brook(srv, *args)
    assert code == expected_code, f"brook {' '.join(args)} exited {code}, not {expected_code}:\n{out}\n{err}"
    return err


def partition_lines(describe_output):
    return [line for line in describe_output.splitlines() if line.startswith("\t")]


def table(output):
    """The rows of the tool's table output (after its header row), split into columns."""
    lines = [line for line in output.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("GROUP"))
    return [line.split() for line in lines[start + 1:]]


# ---- topics -----------------------------------------------------------------------------------

def test_topic_create_list_describe(srv):
    topic = h.unique_name("cli-topic")
    out = ok(srv, "topic", "create", topic, "--partitions", "3", "--config", "retention.ms=3600000")
    assert f"Created topic {topic}." in out
    assert topic in ok(srv, "topic", "list").split()
    out = ok(srv, "topic", "describe", topic)
    first = out.splitlines()[0]
    assert f"Topic: {topic}" in first and "PartitionCount: 3" in first and "ReplicationFactor: 1" in first, out
    assert "retention.ms=3600000" in first, out
    parts = partition_lines(out)
    assert len(parts) == 3, out
    for i, line in enumerate(parts):
        assert f"Partition: {i}\t" in line and "Leader: 1" in line and "Replicas: 1" in line and "Isr: 1" in line, line
    # Described among every topic when none is named.
    assert f"Topic: {topic}\t" in ok(srv, "topic", "describe")


def test_topic_create_twice_and_validate_only(srv):
    topic = h.unique_name("cli-twice")
    ok(srv, "topic", "create", topic, "-p", "1")
    err = fails(srv, 1, "topic", "create", topic, "-p", "1")
    assert f"topic '{topic}' already exists" in err and "TOPIC_ALREADY_EXISTS" in err, err
    ok(srv, "topic", "create", topic, "-p", "1", "--if-not-exists")
    dry = h.unique_name("cli-dry")
    ok(srv, "topic", "create", dry, "-p", "2", "--validate-only")
    assert dry not in ok(srv, "topic", "list").split()


def test_topic_alter_config(srv):
    topic = h.unique_name("cli-config")
    ok(srv, "topic", "create", topic, "-p", "1", "-c", "retention.ms=3600000")
    out = ok(srv, "topic", "alter-config", topic, "--set", "cleanup.policy=compact", "--delete", "retention.ms")
    assert f"Completed updating config for topic {topic}." in out
    first = ok(srv, "topic", "describe", topic).splitlines()[0]
    assert "cleanup.policy=compact" in first and "retention.ms" not in first, first
    err = fails(srv, 1, "topic", "alter-config", topic, "--set", "no.such.key=1")
    assert f"topic '{topic}'" in err and "INVALID_CONFIG" in err, err


def test_topic_add_partitions(srv):
    topic = h.unique_name("cli-grow")
    ok(srv, "topic", "create", topic, "-p", "2")
    ok(srv, "topic", "add-partitions", topic, "--partitions", "5")
    out = ok(srv, "topic", "describe", topic)
    assert "PartitionCount: 5" in out and len(partition_lines(out)) == 5, out
    err = fails(srv, 1, "topic", "add-partitions", topic, "--partitions", "3")
    assert f"topic '{topic}'" in err and "INVALID_PARTITIONS" in err, err


def test_topic_delete(srv):
    topic = h.unique_name("cli-delete")
    ok(srv, "topic", "create", topic, "-p", "1")
    assert f"Deleted topic {topic}." in ok(srv, "topic", "delete", topic)
    h.wait_until(lambda: topic not in ok(srv, "topic", "list").split(), 10, what="topic gone from the list")
    ok(srv, "topic", "delete", topic, "--if-exists")


def test_missing_topic_is_named(srv):
    missing = h.unique_name("cli-missing")
    for args in (["topic", "describe", missing], ["topic", "delete", missing],
                 ["topic", "add-partitions", missing, "-p", "4"],
                 ["topic", "alter-config", missing, "--set", "retention.ms=1000"]):
        started = time.monotonic()
        err = fails(srv, 1, *args)
        assert f"topic '{missing}' does not exist" in err, (args, err)
        assert "UNKNOWN_TOPIC_OR_PARTITION" in err, (args, err)
        assert time.monotonic() - started < 20, f"{args} waited for the timeout instead of failing at once"


# ---- usage ------------------------------------------------------------------------------------

def test_bad_usage_exits_2(srv):
    topic = h.unique_name("cli-usage")
    for args in ([], ["topic"], ["group"], ["topic", "frobnicate"], ["topic", "create"],
                 ["topic", "create", topic, "--partitions", "zero"], ["topic", "create", topic, "--no-such-flag"],
                 ["topic", "create", topic, "--config", "novalue"],
                 ["topic", "alter-config", topic],
                 ["-X", "no.such.client.property=1", "topic", "list"],
                 ["group", "reset-offsets", "g", "--all-topics"],
                 ["group", "reset-offsets", "g", "--to-earliest"],
                 ["group", "reset-offsets", "g", "--all-topics", "--to-earliest", "--to-latest"],
                 ["group", "reset-offsets", "g", "--all-topics", "--to-datetime", "yesterday"]):
        err = fails(srv, 2, *args)
        assert err.strip(), f"{args}: no message"
    err = fails(srv, 2, "-X", "no.such.client.property=1", "topic", "list")
    assert "no.such.client.property" in err, err


def test_help_on_every_command(srv):
    for args in ([], ["topic"], ["group"], ["topic", "create"], ["topic", "list"], ["topic", "describe"],
                 ["topic", "alter-config"], ["topic", "add-partitions"], ["topic", "delete"], ["group", "list"],
                 ["group", "describe"], ["group", "reset-offsets"], ["group", "delete"]):
        out = ok(srv, *args, "--help")
        assert "Usage:" in out, (args, out)


# ---- groups -----------------------------------------------------------------------------------

def make_group(srv, topic, group, produce=10, consume=6):
    """Produces `produce` records over 2 partitions and lets a kafka-python consumer of `group`
    commit after consuming `consume`; returns the consumer, still in the group."""
    from kafka import KafkaConsumer, KafkaProducer
    producer = KafkaProducer(bootstrap_servers=srv.bootstrap)
    for i in range(produce):
        producer.send(topic, value=b"v%d" % i, partition=i % 2)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=srv.bootstrap, group_id=group, client_id="cli-test",
                             auto_offset_reset="earliest", enable_auto_commit=False)
    got = 0
    deadline = time.monotonic() + 30
    while got < consume and time.monotonic() < deadline:
        for records in consumer.poll(500, max_records=consume - got).values():
            got += len(records)
    assert got == consume, f"consumed {got} of {consume}"
    consumer.commit()
    return consumer


def offsets_of(output):
    """{partition: (current, log end, lag)} from `group describe`."""
    out = {}
    for row in table(output):
        if row[1] != "-":
            out[int(row[2])] = (row[3], row[4], row[5])
    return out


def test_group_list_describe_reset(srv):
    topic, group = h.unique_name("cli-gt"), h.unique_name("cli-group")
    ok(srv, "topic", "create", topic, "-p", "2")
    consumer = make_group(srv, topic, group)
    try:
        assert group in ok(srv, "group", "list").split()
        rows = table(ok(srv, "group", "list", "--verbose"))
        assert [group, "classic", "Stable", "consumer"] in rows, rows
        out = ok(srv, "group", "describe", group)
        committed = offsets_of(out)
        assert sorted(committed) == [0, 1], out
        assert sum(int(c) for c, _, _ in committed.values()) == 6, out
        for current, end, lag in committed.values():
            assert end == "5" and int(lag) == 5 - int(current), out
        assert "cli-test" in out, out  # the member is shown
        # Each partition's row names the member the group assigned it to (decoded from its assignment).
        assert all(row[6] != "-" and row[-1] == "cli-test" for row in table(out) if row[1] != "-"), out
        state = table(ok(srv, "group", "describe", group, "--state"))
        assert state[0][0] == group and "Stable" in state[0], state
        members = table(ok(srv, "group", "describe", group, "--members"))
        assert len(members) == 1 and members[0][3] == "cli-test", members
        # The group is active: resetting its offsets is refused, naming the state.
        err = fails(srv, 1, "group", "reset-offsets", group, "--all-topics", "--to-earliest", "--execute")
        assert f"group '{group}'" in err and "Stable" in err, err
        err = fails(srv, 1, "group", "delete", group)
        assert f"group '{group}' is not empty" in err and "NON_EMPTY_GROUP" in err, err
    finally:
        consumer.close()
    h.wait_until(lambda: [group, "classic", "Empty", "consumer"] in table(ok(srv, "group", "list", "-v")), 15,
                 what="the group to become empty")

    # A dry run (the default) shows the new offsets and changes nothing.
    rows = table(ok(srv, "group", "reset-offsets", group, "--all-topics", "--to-earliest"))
    assert rows == [[group, topic, "0", "0"], [group, topic, "1", "0"]], rows
    assert offsets_of(ok(srv, "group", "describe", group)) == committed

    ok(srv, "group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--execute")
    assert offsets_of(ok(srv, "group", "describe", group)) == {0: ("0", "5", "5"), 1: ("0", "5", "5")}
    ok(srv, "group", "reset-offsets", group, "--topic", f"{topic}:1", "--shift-by", "2", "--execute")
    assert offsets_of(ok(srv, "group", "describe", group)) == {0: ("0", "5", "5"), 1: ("2", "5", "3")}
    ok(srv, "group", "reset-offsets", group, "--all-topics", "--to-offset", "4", "--execute")
    assert offsets_of(ok(srv, "group", "describe", group)) == {0: ("4", "5", "1"), 1: ("4", "5", "1")}
    ok(srv, "group", "reset-offsets", group, "--all-topics", "--to-latest", "--execute")
    assert offsets_of(ok(srv, "group", "describe", group)) == {0: ("5", "5", "0"), 1: ("5", "5", "0")}
    ok(srv, "group", "reset-offsets", group, "--all-topics", "--to-datetime", "2000-01-01T00:00:00.000Z", "--execute")
    assert offsets_of(ok(srv, "group", "describe", group)) == {0: ("0", "5", "5"), 1: ("0", "5", "5")}
    ok(srv, "group", "reset-offsets", group, "--all-topics", "--shift-by", "-3", "--execute")  # clamped at 0
    assert offsets_of(ok(srv, "group", "describe", group)) == {0: ("0", "5", "5"), 1: ("0", "5", "5")}
    out = ok(srv, "group", "describe", group)
    assert f"Consumer group '{group}' has no active members." in out, out

    assert f"Deleted group '{group}'." in ok(srv, "group", "delete", group)
    assert group not in ok(srv, "group", "list").split()
    err = fails(srv, 1, "group", "delete", group)
    assert f"group '{group}' does not exist" in err and "GROUP_ID_NOT_FOUND" in err, err


def test_unknown_group_is_named(srv):
    missing = h.unique_name("cli-no-group")
    err = fails(srv, 1, "group", "describe", missing)
    assert f"group '{missing}' does not exist" in err and "GROUP_ID_NOT_FOUND" in err, err


def test_unreachable_broker_fails_with_1(srv):
    # A closed port: the call gives up after the configured timeout, naming the connection problem.
    r = subprocess.run([cli_binary(), "-b", "127.0.0.1:1", "-X", "default.api.timeout.ms=1500",
                        "-X", "request.timeout.ms=1000", "topic", "list"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "127.0.0.1" in r.stderr and "NETWORK_EXCEPTION" in r.stderr, r.stderr


if __name__ == "__main__":
    cli_binary()
    h.main(globals(), modules=("kafka",))
