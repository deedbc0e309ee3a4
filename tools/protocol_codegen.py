#!/usr/bin/env python3
"""Generates Brook's protocol codecs from common/protocol/schema/*.api.

For each API it writes <api>.hpp/.cpp (structs with encode/decode), plus catalog.hpp/.cpp (every
API's key and version ranges) and examples.hpp/.cpp (a populated example of every struct at every
version, used by the round-trip tests). A data declaration (a versioned message with no API key)
gets its <name>.hpp/.cpp too, with one top-level struct `message`; it is not in the catalogue, and
its examples are listed by all_data_examples(). Run by CMake; the output lives in the build tree only.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol_schema import Api, Field, SchemaError, Versions, parse_api  # noqa: E402

CPP_TYPES = {
    "bool": "bool", "int8": "int8_t", "int16": "int16_t", "uint16": "uint16_t", "int32": "int32_t",
    "uint32": "uint32_t", "int64": "int64_t", "float64": "double", "string": "std::string",
    "bytes": "bytes", "records": "record_set", "uuid": "common::uuid",
}
INT_TYPES = {"int8", "int16", "uint16", "int32", "uint32", "int64"}
NULLABLE_KINDS = {"string", "bytes", "records"}


class Struct:
    def __init__(self, name: str, fields: list[Field]):
        self.name = name
        self.fields = fields


def versions_cond(r: Versions, var: str = "v") -> str:
    """A C++ condition for 'var is in range r' (clipped to the api's versions by the caller)."""
    if r.empty:
        return "false"
    parts = []
    if r.lo > 0:
        parts.append(f"{var} >= {r.lo}")
    if r.hi is not None:
        parts.append(f"{var} <= {r.hi}")
    return " && ".join(parts) if parts else "true"


class Generator:
    def __init__(self, api: Api):
        self.api = api
        self.structs: list[Struct] = []  # dependency order: nested before their users
        self.known: dict[str, Struct] = {}
        for name, fields in api.structs.items():
            self.collect(name, fields)
        if api.is_data:
            self.collect("message", api.message)
        else:
            self.collect("request", api.request)
            self.collect("response", api.response)

    # ---- model -------------------------------------------------------------------------------
    def collect(self, name: str, fields: list[Field]) -> Struct:
        if name in self.known:
            if fields and self.known[name].fields is not fields:
                raise SchemaError(f"{self.api.path}: struct {name} declared twice")
            return self.known[name]
        for f in fields:
            self.validate(f)
            if f.is_struct:
                if f.fields:
                    self.collect(f.element_type, f.fields)
                elif f.element_type in self.api.structs and f.element_type not in self.known:
                    self.collect(f.element_type, self.api.structs[f.element_type])
                elif f.element_type not in self.known:
                    raise SchemaError(f"{self.api.path}:{f.line}: unknown struct {f.element_type}")
        s = Struct(name, fields)
        self.structs.append(s)
        self.known[name] = s
        return s

    def validate(self, f: Field) -> None:
        t = f.element_type
        if not f.is_struct and f.fields:
            raise SchemaError(f"{self.api.path}:{f.line}: primitive field {f.name} has nested fields")
        if not f.nullable.empty and not (f.is_array or t in NULLABLE_KINDS or f.is_struct):
            raise SchemaError(f"{self.api.path}:{f.line}: {f.type} cannot be nullable")
        if f.tag is not None and self.api.flexible.empty:
            raise SchemaError(f"{self.api.path}:{f.line}: tagged field in an API with no flexible versions")

    def is_optional(self, f: Field) -> bool:
        return not f.nullable.empty

    def cpp_type(self, f: Field) -> str:
        elem = f.element_type
        base = CPP_TYPES.get(elem, elem)
        if f.is_array:
            base = f"std::vector<{base}>"
        return f"std::optional<{base}>" if self.is_optional(f) else base

    def initializer(self, f: Field) -> str:
        d = f.default
        if f.is_array and not self.is_optional(f):
            return ""
        if self.is_optional(f):
            if d == "null":
                return ""
            if f.is_struct and not f.is_array:
                return f"{f.element_type}{{}}"
            if f.is_array or f.element_type != "string":
                return "std::in_place"
            return f"std::string({d})" if d and d.startswith('"') else "std::in_place"
        if f.element_type in INT_TYPES or f.element_type == "float64":
            if d is None:
                return "0"
            if d.startswith("0x"):
                return f"static_cast<{CPP_TYPES[f.element_type]}>({d})"
            if d == "-2147483648":
                return "INT32_MIN"
            if d == "-9223372036854775808":
                return "INT64_MIN"
            return d
        if f.element_type == "bool" and not f.is_array:
            return d if d in ("true", "false") else "false"
        if f.element_type == "string" and not f.is_array and d and d.startswith('"'):
            return d
        return ""

    # ---- encode ------------------------------------------------------------------------------
    def encode_value(self, f: Field, expr: str, out: list[str], ind: str, nullable_here: str) -> None:
        """Writes one field value; nullable_here is a C++ condition (or 'false')."""
        t = f.element_type
        if f.is_array:
            elem = f"{f.name}_elem"
            if self.is_optional(f):
                out.append(f"{ind}if (!{expr}) {{")
                out.append(f"{ind}  w.array_length(({nullable_here}) ? -1 : 0, flex);")
                out.append(f"{ind}}} else {{")
                inner = f"(*{expr})"
                out.append(f"{ind}  w.array_size({inner}.size(), flex);")
                out.append(f"{ind}  for (const auto& {elem} : {inner}) {{")
                self.encode_scalar(t, elem, out, ind + "    ")
                out.append(f"{ind}  }}")
                out.append(f"{ind}}}")
            else:
                out.append(f"{ind}w.array_size({expr}.size(), flex);")
                out.append(f"{ind}for (const auto& {elem} : {expr}) {{")
                self.encode_scalar(t, elem, out, ind + "  ")
                out.append(f"{ind}}}")
            return
        if f.is_struct:
            if self.is_optional(f):
                out.append(f"{ind}if (({nullable_here}) && !{expr}) {{")
                out.append(f"{ind}  w.int8(-1);")
                out.append(f"{ind}}} else {{")
                out.append(f"{ind}  if ({nullable_here}) w.int8(1);")
                out.append(f"{ind}  {expr}.value_or({t}{{}}).encode(w, v);")
                out.append(f"{ind}}}")
            else:
                out.append(f"{ind}{expr}.encode(w, v);")
            return
        if t == "string" and f.name.endswith("error_message"):
            expr = f"fit_message({expr})"  # a long error message is cut to fit, never fails the response
        if self.is_optional(f):
            # Nullable string/bytes: outside its nullable versions a null goes out as empty.
            if t == "string":
                out.append(f"{ind}if ({nullable_here}) w.nullable_string({expr}, flex); "
                           f"else w.string({expr} ? std::string_view(*{expr}) : std::string_view(), flex);")
            elif t == "records":
                out.append(f"{ind}if ({nullable_here}) w.nullable_records({expr}, flex); "
                           f"else w.records({expr} ? *{expr} : record_set(), flex);")
            else:
                out.append(f"{ind}if ({nullable_here}) w.nullable_byte_array({expr}, flex); "
                           f"else w.byte_array({expr} ? std::span<const uint8_t>(*{expr}) : std::span<const uint8_t>(), flex);")
            return
        self.encode_scalar(t, expr, out, ind)

    def encode_scalar(self, t: str, expr: str, out: list[str], ind: str) -> None:
        if t in self.known:
            out.append(f"{ind}{expr}.encode(w, v);")
        elif t == "bool":
            out.append(f"{ind}w.boolean({expr});")
        elif t in INT_TYPES or t == "float64":
            out.append(f"{ind}w.{t}({expr});")
        elif t == "string":
            out.append(f"{ind}w.string({expr}, flex);")
        elif t == "bytes":
            out.append(f"{ind}w.byte_array({expr}, flex);")
        elif t == "records":
            out.append(f"{ind}w.records({expr}, flex);")
        elif t == "uuid":
            out.append(f"{ind}w.uuid({expr});")
        else:
            raise SchemaError(f"unknown type {t}")

    # ---- decode ------------------------------------------------------------------------------
    def decode_value(self, f: Field, target: str, out: list[str], ind: str, nullable_here: str) -> None:
        t = f.element_type
        if f.is_array:
            n = f"{f.name}_count"
            out.append(f"{ind}{{")
            out.append(f"{ind}  int32_t {n} = r.array_length(flex);")
            if self.is_optional(f):
                out.append(f"{ind}  if ({n} < 0) {{")
                out.append(f"{ind}    if (!({nullable_here})) throw decode_error(\"null array {f.name} in a version where it is not nullable\");")
                out.append(f"{ind}    {target}.reset();")
                out.append(f"{ind}  }} else {{")
                out.append(f"{ind}    auto& {f.name}_list = {target}.emplace();")
            else:
                out.append(f"{ind}  if ({n} < 0) throw decode_error(\"null array {f.name}\");")
                out.append(f"{ind}  {{")
                out.append(f"{ind}    auto& {f.name}_list = {target};")
                out.append(f"{ind}    {f.name}_list.clear();")
            # Kafka's readers presize for at most 1000 elements; the rest grows as elements decode.
            out.append(f"{ind}    {f.name}_list.reserve(static_cast<size_t>(std::min({n}, array_reserve_limit)));")
            out.append(f"{ind}    for (int32_t i = 0; i < {n}; ++i) {{")
            out.append(f"{ind}      auto& e = {f.name}_list.emplace_back();")
            self.decode_scalar(t, "e", out, ind + "      ")
            out.append(f"{ind}    }}")
            out.append(f"{ind}  }}")
            out.append(f"{ind}}}")
            return
        if f.is_struct:
            if self.is_optional(f):
                out.append(f"{ind}if (({nullable_here}) && r.int8() < 0) {{")
                out.append(f"{ind}  {target}.reset();")
                out.append(f"{ind}}} else {{")
                out.append(f"{ind}  {target}.emplace().decode(r, v);")
                out.append(f"{ind}}}")
            else:
                out.append(f"{ind}{target}.decode(r, v);")
            return
        if self.is_optional(f):
            if t == "string":
                out.append(f"{ind}if ({nullable_here}) {target} = r.nullable_string(flex); else {target} = r.string(flex);")
            elif t == "records":
                out.append(f"{ind}if ({nullable_here}) {target} = r.nullable_records(flex); else {target} = r.records(flex);")
            else:
                out.append(f"{ind}if ({nullable_here}) {target} = r.nullable_byte_array(flex); else {target} = r.byte_array(flex);")
            return
        self.decode_scalar(t, target, out, ind)

    def decode_scalar(self, t: str, target: str, out: list[str], ind: str) -> None:
        if t in self.known:
            out.append(f"{ind}{target}.decode(r, v);")
        elif t == "bool":
            out.append(f"{ind}{target} = r.boolean();")
        elif t in INT_TYPES or t == "float64":
            out.append(f"{ind}{target} = r.{t}();")
        elif t == "string":
            out.append(f"{ind}{target} = r.string(flex);")
        elif t == "bytes":
            out.append(f"{ind}{target} = r.byte_array(flex);")
        elif t == "records":
            out.append(f"{ind}{target} = r.records(flex);")
        elif t == "uuid":
            out.append(f"{ind}{target} = r.uuid();")
        else:
            raise SchemaError(f"unknown type {t}")

    # ---- structs -----------------------------------------------------------------------------
    def header(self) -> str:
        a = self.api
        ns = a.name
        flex = a.flexible.lo if not a.flexible.empty else -1
        out = [
            "// Generated by tools/protocol_codegen.py from common/protocol/schema/"
            f"{a.path.name}. Do not edit.",
            "#pragma once",
            "",
            "#include <algorithm>",
            "#include <climits>",
            "#include <cstdint>",
            "#include <optional>",
            "#include <string>",
            "#include <vector>",
            "",
            '#include "common/protocol/wire.hpp"',
            '#include "common/uuid.hpp"',
            "",
            f"namespace brook::common::protocol::{ns} {{",
            "",
            "// encode() skips the fields a version does not carry; decode() expects a default-constructed",
            "// object and leaves such fields at their defaults.",
        ]
        if a.is_data:
            out += ["// A data message: no API key, no request header; whoever carries it frames it (for",
                    "// the consumer protocol, an int16 version before the message).",]
        else:
            out.append(f"inline constexpr int16_t api_key = {a.key};")
        out += [
            f"inline constexpr int16_t min_version = {a.versions.lo};",
            f"inline constexpr int16_t max_version = {a.versions.hi};",
            f"inline constexpr int16_t first_flexible = {flex};",
            "inline constexpr bool is_flexible(int16_t v) { return first_flexible >= 0 && v >= first_flexible; }",
            "",
        ]
        for s in self.structs:
            out.append(f"struct {s.name} {{")
            for f in s.fields:
                init = self.initializer(f)
                out.append(f"  {self.cpp_type(f)} {f.name}{{{init}}};")
            out.append("  void encode(writer& w, int16_t v) const;")
            out.append("  void decode(reader& r, int16_t v);")
            out.append(f"  bool operator==(const {s.name}&) const = default;")
            out.append("};")
            out.append("")
        out.append(f"}}  // namespace brook::common::protocol::{ns}")
        return "\n".join(out) + "\n"

    def source(self) -> str:
        a = self.api
        ns = a.name
        out = [
            f"// Generated by tools/protocol_codegen.py from common/protocol/schema/{a.path.name}. Do not edit.",
            f'#include "common/protocol/messages/{ns}.hpp"',
            "",
            f"namespace brook::common::protocol::{ns} {{",
            "",
        ]
        for s in self.structs:
            regular = [f for f in s.fields if f.tag is None]
            tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)
            # encode
            out.append(f"void {s.name}::encode(writer& w, int16_t v) const {{")
            out.append("  [[maybe_unused]] const bool flex = is_flexible(v);")
            for f in regular:
                cond = versions_cond(f.versions)
                if cond == "true":
                    self.encode_value(f, f.name, out, "  ", versions_cond(f.nullable))
                    continue
                out.append(f"  if ({cond}) {{")
                self.encode_value(f, f.name, out, "    ", versions_cond(f.nullable))
                out.append("  }")
            if not a.flexible.empty:
                out.append("  if (flex) {")
                if tagged:
                    out.append("    uint32_t tagged_count = 0;")
                    for f in tagged:
                        out.append(f"    const bool has_{f.name} = ({versions_cond(f.tagged)}) && !({f.name} == decltype({f.name}){{{self.initializer(f)}}});")
                        out.append(f"    tagged_count += has_{f.name} ? 1 : 0;")
                    out.append("    w.uvarint(tagged_count);")
                    for f in tagged:
                        out.append(f"    if (has_{f.name}) {{")
                        out.append("      writer tw;")
                        out.append("      {")
                        out.append("        writer& w = tw;  // the field is written into its own buffer to learn its size")
                        self.encode_value(f, f.name, out, "        ", versions_cond(f.nullable))
                        out.append("      }")
                        out.append(f"      w.uvarint({f.tag});")
                        out.append("      w.uvarint(static_cast<uint32_t>(tw.size()));")
                        out.append("      w.raw(tw.data());")
                        out.append("    }")
                else:
                    out.append("    w.uvarint(0);")
                out.append("  }")
            out.append("}")
            out.append("")
            # decode
            out.append(f"void {s.name}::decode(reader& r, int16_t v) {{")
            out.append("  [[maybe_unused]] const bool flex = is_flexible(v);")
            for f in regular:
                cond = versions_cond(f.versions)
                if cond == "true":
                    self.decode_value(f, f.name, out, "  ", versions_cond(f.nullable))
                    continue
                out.append(f"  if ({cond}) {{")
                self.decode_value(f, f.name, out, "    ", versions_cond(f.nullable))
                out.append("  }")
            if not a.flexible.empty:
                out.append("  if (flex) {")
                out.append("    const uint32_t tagged_count = r.tagged_field_count();")
                out.append("    for (uint32_t t = 0; t < tagged_count; ++t) {")
                out.append("      const uint32_t tag = r.uvarint();")
                out.append("      const uint32_t size = r.uvarint();")
                out.append("      reader tr(r.take(size));")
                if tagged:
                    out.append("      switch (tag) {")
                    for f in tagged:
                        out.append(f"        case {f.tag}:")
                        out.append(f"          if ({versions_cond(f.tagged)}) {{")
                        out.append("            reader& r = tr;")
                        self.decode_value(f, f.name, out, "            ", versions_cond(f.nullable))
                        # Bytes after the value, within the size the tag declared, are ignored (they
                        # were taken with it), as Kafka ignores bytes it does not need.
                        out.append("          }")
                        out.append("          break;")
                    out.append("        default:")
                    out.append("          break;  // unknown tags are skipped, as KIP-482 requires")
                    out.append("      }")
                else:
                    out.append("      (void)tag;  // no known tags: skip them all, as KIP-482 requires")
                out.append("    }")
                out.append("  }")
            out.append("}")
            out.append("")
        out.append(f"}}  // namespace brook::common::protocol::{ns}")
        return "\n".join(out) + "\n"

    # ---- examples for round-trip tests -------------------------------------------------------
    def examples(self) -> str:
        """example_<struct>(v, variant): every field this version carries set away from its
        default (variant 0), or null/empty where allowed (variant 1)."""
        ns = self.api.name
        out = [f"namespace ex_{ns} {{", "using namespace brook::common::protocol;", "namespace common = brook::common;",
               f"using namespace brook::common::protocol::{ns};"]
        for s in self.structs:
            out.append(f"[[maybe_unused]] {s.name} example_{s.name}(int16_t v, int variant, int depth);")
        for s in self.structs:
            out.append(f"{s.name} example_{s.name}(int16_t v, int variant, int depth) {{")
            out.append(f"  {s.name} x;")
            out.append("  int seed = depth * 7 + variant;")
            out.append("  (void)seed;")
            for f in s.fields:
                present = versions_cond(f.versions) if f.tag is None else \
                    f"({versions_cond(f.versions)}) && ({versions_cond(f.tagged)})"
                out.append(f"  if ({present}) {{")
                nullable = versions_cond(f.nullable)
                if self.is_optional(f):
                    out.append(f"    if (variant == 1 && ({nullable})) {{ x.{f.name}.reset(); }} else {{")
                    self.example_value(f, f"x.{f.name}.emplace()", out, "      ", optional=True)
                    out.append("    }")
                else:
                    self.example_value(f, f"x.{f.name}", out, "    ", optional=False)
                out.append("  }")
            out.append("  return x;")
            out.append("}")
        out.append(f"}}  // namespace ex_{ns}")
        return "\n".join(out) + "\n"

    def example_value(self, f: Field, target: str, out: list[str], ind: str, optional: bool) -> None:
        t = f.element_type
        value = self.example_scalar(t)
        if f.is_array:
            out.append(f"{ind}{{ auto& list = {target}; list.clear();")
            out.append(f"{ind}  int n = variant == 1 || depth > 3 ? 0 : 2;")
            out.append(f"{ind}  for (int i = 0; i < n; ++i) list.push_back({value.replace('SEED', 'seed + i')}); }}")
        else:
            out.append(f"{ind}{target} = {value.replace('SEED', 'seed')};")

    def example_scalar(self, t: str) -> str:
        if t in self.known:
            return f"example_{t}(v, variant, depth + 1)"
        if t == "bool":
            return "((SEED) % 2 == 0)"
        if t in INT_TYPES:
            return f"static_cast<{CPP_TYPES[t]}>(11 + (SEED))"
        if t == "float64":
            return "(0.5 + (SEED))"
        if t == "string":
            return 'std::string("s") + std::to_string(SEED)'
        if t == "bytes":
            return "bytes{1, 2, static_cast<uint8_t>(SEED)}"
        if t == "records":
            return "record_set(bytes{1, 2, static_cast<uint8_t>(SEED)})"
        if t == "uuid":
            return "common::uuid{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, static_cast<uint8_t>(SEED)}}"
        raise SchemaError(f"unknown type {t}")


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("schemas", nargs="+")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        parsed = [parse_api(p) for p in args.schemas]
        apis = sorted((a for a in parsed if not a.is_data), key=lambda a: a.key)
        datas = sorted((a for a in parsed if a.is_data), key=lambda a: a.name)
        gens = [Generator(a) for a in apis]
        data_gens = [Generator(a) for a in datas]
    except SchemaError as e:
        print(f"protocol_codegen: {e}", file=sys.stderr)
        return 1
    names = {}
    for a in parsed:
        if a.name in names:
            print(f"protocol_codegen: {a.name} declared in {names[a.name]} and {a.path}", file=sys.stderr)
            return 1
        names[a.name] = a.path
    keys = {}
    for a in apis:
        if a.key in keys:
            print(f"protocol_codegen: api key {a.key} used by {keys[a.key]} and {a.name}", file=sys.stderr)
            return 1
        keys[a.key] = a.name
    for g in gens + data_gens:
        write_if_changed(out / f"{g.api.name}.hpp", g.header())
        write_if_changed(out / f"{g.api.name}.cpp", g.source())

    cat_h = ["// Generated by tools/protocol_codegen.py. Do not edit.", "#pragma once", "",
             "#include <cstdint>", "#include <span>", "#include <string_view>", "",
             "namespace brook::common::protocol {", "",
             "// What the schema declares for one API: its key, name and version ranges.",
             "struct api_schema {", "  int16_t key;", "  std::string_view name;", "  int16_t min_version;",
             "  int16_t max_version;", "  int16_t first_flexible;  // -1 when no version is flexible", "};", "",
             "std::span<const api_schema> all_api_schemas();",
             "const api_schema* find_api_schema(int16_t key);", "",
             "}  // namespace brook::common::protocol"]
    write_if_changed(out / "catalog.hpp", "\n".join(cat_h) + "\n")
    rows = ",\n".join(
        f'    {{{a.key}, "{a.name}", {a.versions.lo}, {a.versions.hi}, {a.flexible.lo if not a.flexible.empty else -1}}}'
        for a in apis)
    cat_c = ["// Generated by tools/protocol_codegen.py. Do not edit.",
             '#include "common/protocol/messages/catalog.hpp"', "", "#include <array>", "",
             "namespace brook::common::protocol {", "namespace {",
             f"constexpr std::array<api_schema, {len(apis)}> schemas{{{{", rows, "}};", "}  // namespace", "",
             "std::span<const api_schema> all_api_schemas() { return schemas; }", "",
             "const api_schema* find_api_schema(int16_t key) {",
             "  for (const auto& s : schemas)", "    if (s.key == key) return &s;", "  return nullptr;", "}", "",
             "}  // namespace brook::common::protocol"]
    write_if_changed(out / "catalog.cpp", "\n".join(cat_c) + "\n")

    ex_h = ["// Generated by tools/protocol_codegen.py. Do not edit.", "#pragma once", "",
            "#include <cstdint>", "#include <functional>", "#include <string>", "#include <vector>", "",
            "#include \"common/protocol/wire.hpp\"", "",
            "namespace brook::common::protocol {", "",
            "// One populated message of one API at one version, for round-trip tests.",
            "struct example_case {", "  std::string api;", "  bool request;", "  int16_t version;", "  int variant;",
            "  std::function<bytes()> encode;",
            "  // Decodes the bytes and reports whether they equal the example and were consumed whole.",
            "  std::function<bool(const bytes&, std::string& why)> decode_matches;", "};", "",
            "std::vector<example_case> all_examples();", "",
            "// The same for every data message (request is true, there being a single message kind).",
            "std::vector<example_case> all_data_examples();", "",
            "}  // namespace brook::common::protocol"]
    write_if_changed(out / "examples.hpp", "\n".join(ex_h) + "\n")
    ex_c = ["// Generated by tools/protocol_codegen.py. Do not edit.",
            '#include "common/protocol/messages/examples.hpp"', ""]
    ex_c += [f'#include "common/protocol/messages/{g.api.name}.hpp"' for g in gens + data_gens]
    ex_c += ["", "namespace {"]
    for g in gens + data_gens:
        ex_c.append(g.examples())
    ex_c += ["template <class T>",
             "brook::common::protocol::example_case make_case(std::string api, bool request, int16_t v, int variant, T value) {",
             "  using namespace brook::common::protocol;",
             "  auto enc = [value, v] { writer w; value.encode(w, v); return w.take(); };",
             "  auto dec = [value, v](const bytes& b, std::string& why) {",
             "    reader r(b);", "    T got;",
             "    try { got.decode(r, v); } catch (const decode_error& e) { why = e.what(); return false; }",
             "    if (r.remaining() != 0) { why = \"bytes left over\"; return false; }",
             "    if (!(got == value)) { why = \"decoded value differs\"; return false; }",
             "    return true;", "  };",
             "  return {std::move(api), request, v, variant, enc, dec};", "}", "}  // namespace", "",
             "namespace brook::common::protocol {", "std::vector<example_case> all_examples() {",
             "  std::vector<example_case> out;"]
    for g in gens:
        a = g.api
        ex_c.append(f"  for (int16_t v = {a.versions.lo}; v <= {a.versions.hi}; ++v) {{")
        ex_c.append("    for (int variant = 0; variant < 2; ++variant) {")
        ex_c.append(f'      out.push_back(make_case("{a.name}", true, v, variant, ex_{a.name}::example_request(v, variant, 0)));')
        ex_c.append(f'      out.push_back(make_case("{a.name}", false, v, variant, ex_{a.name}::example_response(v, variant, 0)));')
        ex_c.append("    }")
        ex_c.append("  }")
    ex_c += ["  return out;", "}", "", "std::vector<example_case> all_data_examples() {",
             "  std::vector<example_case> out;"]
    for g in data_gens:
        a = g.api
        ex_c.append(f"  for (int16_t v = {a.versions.lo}; v <= {a.versions.hi}; ++v) {{")
        ex_c.append("    for (int variant = 0; variant < 2; ++variant) {")
        ex_c.append(f'      out.push_back(make_case("{a.name}", true, v, variant, ex_{a.name}::example_message(v, variant, 0)));')
        ex_c.append("    }")
        ex_c.append("  }")
    ex_c += ["  return out;", "}", "}  // namespace brook::common::protocol"]
    write_if_changed(out / "examples.cpp", "\n".join(ex_c) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
