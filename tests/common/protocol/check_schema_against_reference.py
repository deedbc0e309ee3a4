#!/usr/bin/env python3
"""Cross-checks Brook's protocol schema (common/protocol/schema/*.api) against Kafka's message definitions.

Usage: check_schema_against_reference.py SCHEMA_DIR

The reference definitions (Kafka's *Request.json / *Response.json) are looked up in
$BROOK_KAFKA_REFERENCE, else in <repo>/../shared/kafka-reference; either folder may hold them directly
or in a `message/` subfolder. Without them the check is skipped (exit 77).

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
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools"))

from protocol_schema import PRIMITIVES, SchemaError, Versions, parse_api  # noqa: E402

SKIP = 77

# Deliberate differences from Kafka's validVersions, api name -> Brook's range.
VERSION_EXCEPTIONS = {
    # Fetch v0-3 only return the old message formats (v0/v1), which Brook does not store or serve.
    "fetch": "4-17",
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


def load_reference(path: Path) -> dict:
    return json.loads(strip_comments(path.read_text()))


def find_reference_dir() -> Path | None:
    env = os.environ.get("BROOK_KAFKA_REFERENCE")
    base = Path(env) if env else REPO.parent / "shared" / "kafka-reference"
    for candidate in (base / "message", base):
        if candidate.is_dir() and any(candidate.glob("*Request.json")):
            return candidate
    return None


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

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def compare_fields(self, where: str, api_name: str, kafka_path: str, ours: list, theirs: list,
                       our_structs: dict, their_structs: dict) -> None:
        def expected(t: dict) -> str:
            return RENAMES.get((api_name, f"{kafka_path}.{t['name']}"), snake_case(t["name"]))

        # Walk both lists in order; a name found later in the other list marks a missing or an
        # extra field, so one omission does not turn every following field into a mismatch.
        i = j = 0
        while i < len(ours) or j < len(theirs):
            if j >= len(theirs):
                self.error(f"{where}.{ours[i].name}", "field not in Kafka's definition")
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
                    self.error(f"{where}.{o.name}", "field not in Kafka's definition")
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

    def check_file(self, api_path: Path, ref_dir: Path) -> None:
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
            self.check_data(where, api, ref_dir)
            return
        camel = None
        for candidate in ref_dir.glob("*Request.json"):
            if snake_case(candidate.name[: -len("Request.json")]) == api.name:
                camel = candidate.name[: -len("Request.json")]
        if camel is None:
            self.error(where, f"no Kafka definition matches api {api.name!r}")
            return
        our_structs = api.structs
        for kind, ours in (("request", api.request), ("response", api.response)):
            ref_path = ref_dir / f"{camel}{kind.capitalize()}.json"
            if not ref_path.exists():
                self.error(where, f"{ref_path.name} missing from the reference")
                continue
            ref = load_reference(ref_path)
            if ref.get("apiKey") != api.key:
                self.error(f"{where}:{kind}", f"key: {api.key} vs Kafka {ref.get('apiKey')}")
            valid = Versions.parse(VERSION_EXCEPTIONS.get(api.name, ref["validVersions"]))
            if api.versions != valid:
                self.error(f"{where}:{kind}", f"versions: {api.versions} vs expected {valid}"
                           f" (Kafka {ref['validVersions']})")
            flexible = kafka_versions(ref.get("flexibleVersions", "none"))
            if api.flexible != flexible:
                self.error(f"{where}:{kind}", f"flexible: {api.flexible} vs Kafka {flexible}")
            their_structs = {s["name"]: s.get("fields", []) for s in ref.get("commonStructs", [])}
            self.compare_fields(f"{where}:{kind}", api.name, kind, ours, ref.get("fields", []),
                                our_structs, their_structs)

    def check_data(self, where: str, api, ref_dir: Path) -> None:
        ref_path = None
        for candidate in ref_dir.glob("*.json"):
            if snake_case(candidate.stem) == api.name:
                ref_path = candidate
        if ref_path is None:
            self.error(where, f"no Kafka definition matches data {api.name!r}")
            return
        ref = load_reference(ref_path)
        if ref.get("type") != "data":
            self.error(where, f"{ref_path.name} is of type {ref.get('type')!r}, not data")
            return
        valid = Versions.parse(VERSION_EXCEPTIONS.get(api.name, ref["validVersions"]))
        if api.versions != valid:
            self.error(f"{where}:message", f"versions: {api.versions} vs expected {valid}"
                       f" (Kafka {ref['validVersions']})")
        flexible = kafka_versions(ref.get("flexibleVersions", "none"))
        if api.flexible != flexible:
            self.error(f"{where}:message", f"flexible: {api.flexible} vs Kafka {flexible}")
        their_structs = {s["name"]: s.get("fields", []) for s in ref.get("commonStructs", [])}
        self.compare_fields(f"{where}:message", api.name, "message", api.message, ref.get("fields", []),
                            api.structs, their_structs)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} SCHEMA_DIR", file=sys.stderr)
        return 2
    ref_dir = find_reference_dir()
    if ref_dir is None:
        print("skipped: Kafka's message definitions not found (set BROOK_KAFKA_REFERENCE)")
        return SKIP
    files = sorted(Path(argv[1]).glob("*.api"))
    if not files:
        print(f"no .api files in {argv[1]}", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        checker = Checker()
        checker.check_file(path, ref_dir)
        for e in checker.errors:
            print(e)
        if checker.errors:
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
