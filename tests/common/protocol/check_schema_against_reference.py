#!/usr/bin/env python3
"""Cross-checks Brook's protocol schema (common/protocol/schema/*.api) against Kafka's message definitions.

Usage: check_schema_against_reference.py [--fetch] SCHEMA_DIR

The reference is Kafka's own definitions (*Request.json, *Response.json and the "type": "data" ones)
of the Kafka release the client tests run against (tests/client/kafka/pom.xml's kafka.version). They
ship inside that release's kafka-clients jar (common/message/*.json), which the check reads directly,
looking in order at:
  1. $BROOK_KAFKA_REFERENCE: a kafka-clients jar, or a folder of the JSON files (directly, or in a
     `message/` or `common/message/` subfolder);
  2. kafka-clients-<version>.jar in Maven's local repository (~/.m2/repository/org/apache/kafka/...);
  3. the jar cache that tests/client/kafka/kafka_broker.py fills with the Kafka broker's jars;
  4. with --fetch (as ctest runs it): `kafka_broker.py fetch`, which fills that cache from Maven
     Central (once per pom.xml) and prints its directory.
Without a reference the check is skipped (exit 77), except when CI=true: there it fails.

For every .api file the check compares the API key, valid and flexible versions, and then, field by
field and in wire order (nested structs included): name, type, versions, nullable versions, tag,
tagged versions, ignorable and default value. A data declaration (`data NAME ...`, no API key) is
compared the same way with Kafka's "type": "data" definition of that name (<Name>.json). Struct type names are Brook's own and are not compared,
but they must be usable in C++: unique within the API and never also the name of a field.
Every mismatch is printed with its file and field path; the exit status is 1 if there is any.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools"))

from protocol_schema import PRIMITIVES, SchemaError, Versions, parse_api  # noqa: E402

SKIP = 77

# Where the schema declares versions below Kafka's lowest (Kafka 4.0 dropped the oldest versions of
# many APIs): api name -> (Brook's lowest version, why). Brook's highest version must still be Kafka's.
# Fields that only those older versions carry (their versions end below Kafka's lowest) are accepted
# although Kafka's definitions no longer list them. Nowhere else may Brook's lowest version differ.
LOWER_MINIMUMS: dict[str, tuple[int, str]] = {
    "produce": (0, "v0-2 are advertised, as Kafka 4.x does for librdkafka's sake (KAFKA-18659), and "
                   "answered with UNSUPPORTED_VERSION"),
    "create_topics": (0, "served: clients that still send v0-1 keep working"),
    "delete_topics": (0, "served: clients that still send v0 keep working"),
    "describe_configs": (0, "served: clients that still send v0 keep working"),
    "describe_log_dirs": (0, "declared for old clients; not served yet"),
    "offset_commit": (0, "declared for old clients; the broker serves v2+, as Kafka 4.x"),
    "offset_fetch": (0, "declared for old clients; the broker serves v1+, as Kafka 4.x"),
    "offset_for_leader_epoch": (0, "declared for old clients; the broker serves v2+, as Kafka 4.x"),
}

# Deliberate field renames: (api name, Kafka field path) -> Brook field name. Paths are Kafka names
# joined by '.', prefixed with 'request' or 'response'. Empty so far: every name is the snake_case of
# Kafka's.
RENAMES: dict[tuple[str, str], str] = {}


def snake_case(name: str) -> str:
    """ThrottleTimeMs -> throttle_time_ms, ResultsByTopicV3AndBelow -> results_by_topic_v3_and_below."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def strip_comments(text: str) -> str:
    """Drops // comments outside JSON strings (Kafka's definitions carry licence and history notes)."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


POM = REPO / "tests" / "client" / "kafka" / "pom.xml"
KAFKA_BROKER_SCRIPT = REPO / "tests" / "client" / "kafka" / "kafka_broker.py"


class Reference:
    """Kafka's message definitions, by file name (ProduceRequest.json), from a folder or a jar."""

    def __init__(self, where: str, texts: dict[str, str]) -> None:
        self.where = where
        self.texts = texts

    @staticmethod
    def from_dir(path: Path) -> "Reference | None":
        for candidate in (path / "common" / "message", path / "message", path):
            if candidate.is_dir() and any(candidate.glob("*Request.json")):
                return Reference(str(candidate), {p.name: p.read_text() for p in candidate.glob("*.json")})
        return None

    @staticmethod
    def from_jar(path: Path) -> "Reference | None":
        prefix = "common/message/"
        with zipfile.ZipFile(path) as jar:
            texts = {name[len(prefix):]: jar.read(name).decode("utf-8") for name in jar.namelist()
                     if name.startswith(prefix) and name.endswith(".json") and "/" not in name[len(prefix):]}
        if not any(name.endswith("Request.json") for name in texts):
            return None
        return Reference(str(path), texts)

    def names(self) -> list[str]:
        return sorted(self.texts)

    def load(self, name: str) -> dict | None:
        text = self.texts.get(name)
        return None if text is None else json.loads(strip_comments(text))


def kafka_version() -> str:
    """The Kafka release the client tests run against: pom.xml's kafka.version."""
    m = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    if not m:
        raise SystemExit(f"no <kafka.version> in {POM}")
    return m.group(1).strip()


def jar_in(directory: Path, version: str) -> Path | None:
    jar = directory / f"kafka-clients-{version}.jar"
    return jar if jar.is_file() else None


def find_reference(fetch: bool) -> tuple[Reference | None, str]:
    """The reference, or None and why there is none."""
    env = os.environ.get("BROOK_KAFKA_REFERENCE")
    if env:
        path = Path(env)
        ref = Reference.from_jar(path) if path.is_file() else Reference.from_dir(path)
        return ref, f"BROOK_KAFKA_REFERENCE={env} holds no Kafka message definitions"
    version = kafka_version()
    m2 = Path(os.environ.get("MAVEN_REPOSITORY", Path.home() / ".m2" / "repository"))
    jar = jar_in(m2 / "org" / "apache" / "kafka" / "kafka-clients" / version, version)
    if jar is None:
        sys.path.insert(0, str(KAFKA_BROKER_SCRIPT.parent))
        import kafka_broker  # noqa: E402  (the client tests' Kafka broker: its jar cache)
        cached = kafka_broker.cached_server_jars()
        if cached:
            jar = jar_in(Path(cached), version)
    if jar is None and fetch:
        print(f"fetching the Kafka {version} broker's jars (kafka_broker.py fetch)", flush=True)
        result = subprocess.run([sys.executable, str(KAFKA_BROKER_SCRIPT), "fetch"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines = result.stdout.strip().splitlines()
        if result.returncode != 0 or not lines:
            return None, f"kafka_broker.py fetch failed ({result.returncode}): {result.stdout[-2000:]}"
        jar = jar_in(Path(lines[-1]), version)
        if jar is None:
            return None, f"kafka_broker.py fetch gave {lines[-1]}, which holds no kafka-clients-{version}.jar"
    if jar is None:
        return None, (f"kafka-clients-{version}.jar not found (in {m2} or the Kafka broker's jar cache; "
                      "--fetch downloads it)")
    ref = Reference.from_jar(jar)
    return ref, f"{jar} holds no message definitions"


def kafka_versions(text: str | None) -> Versions:
    return Versions.parse(text) if text else Versions(None, None)


def zero_default(type_: str) -> str:
    if type_ == "bool":
        return "false"
    if type_ in ("int8", "int16", "uint16", "int32", "uint32", "int64", "float64"):
        return "0"
    return ""  # strings, bytes, records, uuids, arrays and structs: empty


def normalize_default(value, type_: str) -> str:
    """Puts a default in one spelling: none given means the type's zero; 0x7fffffff means 2147483647.

    Kafka writes defaults as strings, but a few as JSON numbers or booleans."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif value is not None and not isinstance(value, str):
        value = str(value)
    if value is None or value == "":
        return zero_default(type_)
    if type_ == "bool":
        return value.lower()  # Kafka spells one of them "False"
    if type_ in ("int8", "int16", "uint16", "int32", "uint32", "int64"):
        try:
            return str(int(value, 0))
        except ValueError:
            return value
    if type_ == "float64":
        try:
            return repr(float(value))
        except ValueError:
            return value
    return value


class Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.notes: list[str] = []
        # Kafka's lowest version of the API being compared, when LOWER_MINIMUMS lets Brook go lower:
        # fields that end below it are Brook's own (Kafka dropped them with those versions).
        self.older_than_kafka: int | None = None

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def extra_field(self, where: str, o) -> None:
        if self.older_than_kafka is not None and o.versions.hi is not None and o.versions.hi < self.older_than_kafka:
            return  # carried only by versions Kafka no longer has (see LOWER_MINIMUMS)
        self.error(f"{where}.{o.name}", "field not in Kafka's definition")

    def check_versions(self, where: str, api, valid_text: str) -> None:
        """Brook's versions are Kafka's, or reach lower where LOWER_MINIMUMS says so."""
        valid = Versions.parse(valid_text)
        self.older_than_kafka = None
        allowed = [valid]
        if api.name in LOWER_MINIMUMS:
            lowest = LOWER_MINIMUMS[api.name][0]
            if lowest < valid.lo:
                allowed.append(Versions(lowest, valid.hi))
                if api.versions.lo is not None and api.versions.lo < valid.lo:
                    self.older_than_kafka = valid.lo
            else:
                self.notes.append(f"{where}: note: LOWER_MINIMUMS lists v{lowest}, but Kafka's lowest is "
                                  f"v{valid.lo}; the entry is no longer needed")
        if api.versions not in allowed:
            self.error(where, f"versions: {api.versions} vs expected {' or '.join(map(str, allowed))}"
                              f" (Kafka {valid_text})")

    def compare_fields(self, where: str, api_name: str, kafka_path: str, ours: list, theirs: list,
                       our_structs: dict, their_structs: dict) -> None:
        def expected(t: dict) -> str:
            return RENAMES.get((api_name, f"{kafka_path}.{t['name']}"), snake_case(t["name"]))

        # Walk both lists in order; a name found later in the other list marks a missing or an
        # extra field, so one omission does not turn every following field into a mismatch.
        i = j = 0
        while i < len(ours) or j < len(theirs):
            if j >= len(theirs):
                self.extra_field(where, ours[i])
                i += 1
                continue
            t = theirs[j]
            if i >= len(ours):
                self.error(f"{where}.{expected(t)}", f"missing (Kafka field {t['name']})")
                j += 1
                continue
            o = ours[i]
            if o.name != expected(t):
                later_theirs = [expected(x) for x in theirs[j + 1:]]
                later_ours = [x.name for x in ours[i + 1:]]
                if o.name in later_theirs and expected(t) not in later_ours:
                    self.error(f"{where}.{expected(t)}", f"missing (Kafka field {t['name']})")
                    j += 1
                    continue
                if expected(t) in later_ours and o.name not in later_theirs:
                    self.extra_field(where, o)
                    i += 1
                    continue
                self.error(f"{where}.{o.name}", f"name: expected {expected(t)!r} (Kafka {t['name']})")
            self.compare_field(f"{where}.{o.name}", api_name, f"{kafka_path}.{t['name']}", o, t,
                               our_structs, their_structs)
            i += 1
            j += 1

    def compare_field(self, path: str, api_name: str, kafka_path: str, o, t: dict,
                      our_structs: dict, their_structs: dict) -> None:
        t_type = t["type"]
        t_array = t_type.startswith("[]")
        t_elem = t_type[2:] if t_array else t_type
        t_struct = t_elem not in PRIMITIVES
        if o.is_array != t_array:
            self.error(path, f"type: {o.type} vs Kafka {t_type} (array mismatch)")
        if t_struct != o.is_struct:
            self.error(path, f"type: {o.type} vs Kafka {t_type} (struct mismatch)")
        elif not t_struct and o.element_type != t_elem:
            self.error(path, f"type: {o.type} vs Kafka {t_type}")

        checks = [
            ("versions", o.versions, kafka_versions(t.get("versions"))),
            ("nullable", o.nullable, kafka_versions(t.get("nullableVersions"))),
            ("tag", o.tag, t.get("tag")),
            ("tagged", o.tagged, kafka_versions(t.get("taggedVersions"))),
            ("ignorable", o.ignorable, bool(t.get("ignorable", False))),
        ]
        for what, mine, theirs in checks:
            if mine != theirs:
                self.error(path, f"{what}: {mine} vs Kafka {theirs}")
        if not t_struct or t_array:
            d_type = "array" if t_array else t_elem
            ours_default = o.default
            if ours_default is not None and ours_default.startswith('"'):
                if t.get("default") == "null" or d_type != "string":
                    self.error(path, f"default: the quoted string {ours_default} where Kafka has "
                                     f"{t.get('default')!r}")
                ours_default = ours_default[1:-1]
            mine, theirs = normalize_default(ours_default, d_type), normalize_default(t.get("default"), d_type)
            if mine != theirs:
                self.error(path, f"default: {mine or '(none)'} vs Kafka {theirs or '(none)'}")

        if t_struct:
            their_fields = t.get("fields")
            if their_fields is None:
                if t_elem not in their_structs:
                    self.error(path, f"Kafka struct {t_elem} not found in commonStructs")
                    return
                their_fields = their_structs[t_elem]
            our_fields = o.fields
            if not our_fields:
                if o.element_type not in our_structs:
                    self.error(path, f"struct {o.element_type} is neither declared inline nor as a struct block")
                    return
                our_fields = our_structs[o.element_type]
            self.compare_fields(path, api_name, kafka_path, our_fields, their_fields, our_structs, their_structs)

    def check_names(self, where: str, api) -> None:
        """Struct names share one C++ namespace per API: two different structs may not share a name, and
        a member may not be named like a struct type (`replica_state replica_state;` is ill-formed)."""
        layouts: dict[str, str] = {}
        field_names: set[str] = set()

        def layout(fields: list) -> str:
            return ";".join(f"{f.name} {f.type} {f.versions} {f.nullable} {f.tag} {f.tagged} "
                            f"{f.default} {f.ignorable} ({layout(f.fields)})" for f in fields)

        def walk(fields: list) -> None:
            for f in fields:
                field_names.add(f.name)
                if f.fields:
                    text = layout(f.fields)
                    if layouts.setdefault(f.element_type, text) != text:
                        self.error(where, f"struct {f.element_type} is declared twice with different fields")
                    walk(f.fields)

        for name, fields in api.structs.items():
            layouts[name] = layout(fields)
            walk(fields)
        walk(api.request)
        walk(api.response)
        walk(api.message)
        for clash in sorted(field_names & (set(layouts) | {"request", "response", "message"})):
            self.error(where, f"{clash!r} names both a field and a struct type")

    def check_file(self, api_path: Path, ref: Reference) -> None:
        where = api_path.name
        try:
            api = parse_api(api_path)
        except SchemaError as e:
            self.error(where, f"does not parse: {e}")
            return
        self.check_names(where, api)
        if api.name != api_path.stem:
            self.error(where, f"api name {api.name!r} differs from the file name")
        if api.is_data:
            self.check_data(where, api, ref)
            return
        camel = None
        for name in ref.names():
            if name.endswith("Request.json") and snake_case(name[: -len("Request.json")]) == api.name:
                camel = name[: -len("Request.json")]
        if camel is None:
            self.error(where, f"no Kafka definition matches api {api.name!r}")
            return
        our_structs = api.structs
        for kind, ours in (("request", api.request), ("response", api.response)):
            ref_name = f"{camel}{kind.capitalize()}.json"
            definition = ref.load(ref_name)
            if definition is None:
                self.error(where, f"{ref_name} missing from the reference")
                continue
            if definition.get("apiKey") != api.key:
                self.error(f"{where}:{kind}", f"key: {api.key} vs Kafka {definition.get('apiKey')}")
            self.check_versions(f"{where}:{kind}", api, definition["validVersions"])
            flexible = kafka_versions(definition.get("flexibleVersions", "none"))
            if api.flexible != flexible:
                self.error(f"{where}:{kind}", f"flexible: {api.flexible} vs Kafka {flexible}")
            their_structs = {s["name"]: s.get("fields", []) for s in definition.get("commonStructs", [])}
            self.compare_fields(f"{where}:{kind}", api.name, kind, ours, definition.get("fields", []),
                                our_structs, their_structs)

    def check_data(self, where: str, api, ref: Reference) -> None:
        ref_name = None
        for name in ref.names():
            if snake_case(name[: -len(".json")]) == api.name:
                ref_name = name
        if ref_name is None:
            self.error(where, f"no Kafka definition matches data {api.name!r}")
            return
        definition = ref.load(ref_name)
        if definition.get("type") != "data":
            self.error(where, f"{ref_name} is of type {definition.get('type')!r}, not data")
            return
        self.check_versions(f"{where}:message", api, definition["validVersions"])
        flexible = kafka_versions(definition.get("flexibleVersions", "none"))
        if api.flexible != flexible:
            self.error(f"{where}:message", f"flexible: {api.flexible} vs Kafka {flexible}")
        their_structs = {s["name"]: s.get("fields", []) for s in definition.get("commonStructs", [])}
        self.compare_fields(f"{where}:message", api.name, "message", api.message, definition.get("fields", []),
                            api.structs, their_structs)


def main(argv: list[str]) -> int:
    args = argv[1:]
    fetch = "--fetch" in args
    args = [a for a in args if a != "--fetch"]
    if len(args) != 1:
        print(f"usage: {argv[0]} [--fetch] SCHEMA_DIR", file=sys.stderr)
        return 2
    ref, why_not = find_reference(fetch)
    if ref is None:
        if os.environ.get("CI", "").lower() == "true":
            print(f"FAILED: Kafka's message definitions are required in CI: {why_not}")
            return 1
        print(f"skipped: Kafka's message definitions not found: {why_not}")
        return SKIP
    print(f"reference: {ref.where}")
    files = sorted(Path(args[0]).glob("*.api"))
    if not files:
        print(f"no .api files in {args[0]}", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        checker = Checker()
        checker.check_file(path, ref)
        for line in checker.notes + checker.errors:
            print(line)
        if checker.errors:
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
