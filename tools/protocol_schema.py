"""Parser for Brook's protocol schema files (common/protocol/schema/*.api).

The format is described in common/protocol/schema/README.md. This module only reads the files into
a small data model; protocol_codegen.py turns that model into C++, and the schema cross-check test
compares it with Kafka's own message definitions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PRIMITIVES = {"bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64",
              "string", "bytes", "records", "uuid"}


class SchemaError(Exception):
    pass


@dataclass(frozen=True)
class Versions:
    """An inclusive version range; hi None means open-ended; lo > hi (or lo None) means none."""
    lo: int | None
    hi: int | None

    @staticmethod
    def parse(text: str) -> "Versions":
        if text == "none":
            return Versions(None, None)
        m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
        if not m:
            raise SchemaError(f"bad version range {text!r}")
        lo = int(m.group(1))
        if m.group(2) == "+":
            return Versions(lo, None)
        if m.group(3) is not None:
            return Versions(lo, int(m.group(3)))
        return Versions(lo, lo)

    @property
    def empty(self) -> bool:
        return self.lo is None

    def contains(self, v: int) -> bool:
        return self.lo is not None and v >= self.lo and (self.hi is None or v <= self.hi)

    def __str__(self) -> str:
        if self.lo is None:
            return "none"
        if self.hi is None:
            return f"{self.lo}+"
        return f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}"


NONE = Versions(None, None)


@dataclass
class Field:
    name: str
    type: str                     # as written: int32, string, []int32, []topic, topic
    versions: Versions
    nullable: Versions = NONE
    default: str | None = None
    tag: int | None = None
    tagged: Versions = NONE
    ignorable: bool = False
    fields: list["Field"] = field(default_factory=list)  # inline struct declaration
    line: int = 0

    @property
    def is_array(self) -> bool:
        return self.type.startswith("[]")

    @property
    def element_type(self) -> str:
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self) -> bool:
        return self.element_type not in PRIMITIVES


@dataclass
class Api:
    """One schema file: an API (`api` line: key, request and response) or a data message (`data`
    line: no key, one `message` section; Kafka's "type": "data" definitions, such as the consumer
    protocol's subscription and assignment carried inside JoinGroup and SyncGroup)."""
    name: str
    key: int | None               # None for a data message
    versions: Versions
    flexible: Versions
    path: Path
    structs: dict[str, list[Field]] = field(default_factory=dict)  # from `struct` blocks
    request: list[Field] = field(default_factory=list)
    response: list[Field] = field(default_factory=list)
    message: list[Field] = field(default_factory=list)  # a data message's fields

    @property
    def is_data(self) -> bool:
        return self.key is None


def _strip_comment(line: str) -> str:
    """Drops a '#' comment (at the start of the line or after a space), but not a '#' inside a quoted
    string default."""
    in_quotes = False
    for i, c in enumerate(line):
        if c == '"':
            in_quotes = not in_quotes
        elif c == "#" and not in_quotes and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _split_words(text: str, lineno: int, path: Path) -> list[str]:
    """Splits on spaces outside double quotes. Quotes are kept, so a string default stays "text"
    (the code generator emits it as a C++ literal) and never reads as null, true or a number."""
    if text.count('"') % 2:
        raise SchemaError(f"{path}:{lineno}: unbalanced quotes")
    return re.findall(r'(?:[^\s"]+|"[^"]*")+', text)


def _parse_field(text: str, lineno: int, path: Path) -> Field:
    parts = _split_words(text, lineno, path)
    if len(parts) < 3:
        raise SchemaError(f"{path}:{lineno}: expected 'name type versions [options]'")
    f = Field(name=parts[0], type=parts[1], versions=Versions.parse(parts[2]), line=lineno)
    for opt in parts[3:]:
        key, _, value = opt.partition("=")
        if key == "nullable":
            f.nullable = Versions.parse(value)
        elif key == "default":
            f.default = value
        elif key == "tag":
            if not value.isdigit():
                raise SchemaError(f"{path}:{lineno}: bad tag {value!r}")
            f.tag = int(value)
        elif key == "tagged":
            f.tagged = Versions.parse(value)
        elif key == "ignorable" and not value:
            f.ignorable = True
        else:
            raise SchemaError(f"{path}:{lineno}: unknown option {opt!r}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", f.name):
        raise SchemaError(f"{path}:{lineno}: field names are snake_case: {f.name!r}")
    if (f.tag is None) != f.tagged.empty:
        raise SchemaError(f"{path}:{lineno}: a tagged field needs both tag= and tagged=")
    return f


def parse_api(path: str | Path) -> Api:
    path = Path(path)
    api: Api | None = None
    section: list[Field] | None = None
    stack: list[tuple[int, Field]] = []  # (indent, field) of the enclosing struct fields
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = _strip_comment(raw).rstrip()  # comments: '#' to the end of the line
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        words = line.split()
        if indent == 0:
            stack.clear()
            if words[0] == "api":
                if api is not None:
                    raise SchemaError(f"{path}:{lineno}: a second 'api' or 'data' line")
                opts = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                if len(words) < 2 or len(opts) != len(words) - 2 or "key" not in opts \
                        or "versions" not in opts or not opts["key"].isdigit() \
                        or not set(opts) <= {"key", "versions", "flexible"}:
                    raise SchemaError(f"{path}:{lineno}: expected 'api NAME key=N versions=RANGE [flexible=N+]'")
                api = Api(name=words[1], key=int(opts["key"]), versions=Versions.parse(opts["versions"]),
                          flexible=Versions.parse(opts.get("flexible", "none")), path=path)
            elif words[0] == "data":
                if api is not None:
                    raise SchemaError(f"{path}:{lineno}: a second 'api' or 'data' line")
                opts = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                if len(words) < 2 or len(opts) != len(words) - 2 or "versions" not in opts \
                        or not set(opts) <= {"versions", "flexible"}:
                    raise SchemaError(f"{path}:{lineno}: expected 'data NAME versions=RANGE [flexible=N+]'")
                api = Api(name=words[1], key=None, versions=Versions.parse(opts["versions"]),
                          flexible=Versions.parse(opts.get("flexible", "none")), path=path)
            elif api is None:
                raise SchemaError(f"{path}:{lineno}: the file must start with an 'api' or a 'data' line")
            elif words[0] in ("request", "response") and len(words) == 1:
                if api.is_data:
                    raise SchemaError(f"{path}:{lineno}: a data message has one 'message' section, "
                                      f"not {words[0]!r}")
                section = api.request if words[0] == "request" else api.response
            elif words[0] == "message" and len(words) == 1:
                if not api.is_data:
                    raise SchemaError(f"{path}:{lineno}: 'message' belongs to a data declaration; "
                                      "an api has 'request' and 'response'")
                section = api.message
            elif words[0] == "struct" and len(words) == 2:
                section = api.structs.setdefault(words[1], [])
            else:
                raise SchemaError(f"{path}:{lineno}: unexpected {words[0]!r}")
            continue
        if section is None or indent % 2:
            raise SchemaError(f"{path}:{lineno}: field outside a section or odd indentation")
        f = _parse_field(line.strip(), lineno, path)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            if stack[-1][0] != indent - 2:
                raise SchemaError(f"{path}:{lineno}: indentation jumps more than one level")
            stack[-1][1].fields.append(f)
        elif indent == 2:
            section.append(f)
        else:
            raise SchemaError(f"{path}:{lineno}: unexpected indentation")
        stack.append((indent, f))
    if api is None:
        raise SchemaError(f"{path}: empty schema file")
    return api
