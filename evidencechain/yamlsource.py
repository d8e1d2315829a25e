"""Read YAML into plain data while keeping where every value came from.

PyYAML's composer gives nodes with marks; we construct the data ourselves so that:
- every mapping key and value keeps its line and column (schema errors point at them),
- dates stay strings (the schema checks their shape, not PyYAML's timestamp guesser),
- duplicate keys are errors instead of the last one silently winning,
- alias expansion is bounded (a "billion laughs" file cannot exhaust memory).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .problems import ERROR, Problem

try:  # libyaml is much faster; the pure-Python loader gives identical marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# Anchors are legitimate, but expanding one alias many times is how YAML bombs work.
MAX_NODES = 100_000
MAX_BYTES = 2 * 1024 * 1024

JsonPath = tuple[str | int, ...]

_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}


@dataclass
class YamlDocument:
    """Parsed data plus a map from JSON path to (line, col), both 1-based."""

    file: PurePosixPath
    data: Any
    value_marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    sha256: str = ""  # of the bytes `load_yaml` parsed ("" when not read from a file)

    def locate(self, path: JsonPath, *, key: bool = False) -> tuple[int, int]:
        """Where `path` is written; falls back to the nearest enclosing value that exists."""
        marks = self.key_marks if key else self.value_marks
        if path in marks:
            return marks[path]
        while path:
            path = path[:-1]
            if path in self.value_marks:
                return self.value_marks[path]
        return (1, 1)

    def problem(self, path: JsonPath, level: str, message: str) -> Problem:
        """A finding about the value at `path`, located in this file."""
        line, col = self.locate(path)
        return Problem(self.file, line, col, level, message, format_path(path))


class YamlLoadError(Exception):
    """A file that is not usable YAML; carries the located problem."""

    def __init__(self, problem: Problem):
        super().__init__(problem.format())
        self.problem = problem


def format_path(path: JsonPath) -> str:
    """`$.iterations[1].date` style, as check-jsonschema prints paths."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def load_yaml(path: Path, display: PurePosixPath) -> YamlDocument:
    """Read `path` as one YAML document; raise YamlLoadError with a located message."""
    raw = _read_bytes(path, display)
    text = _decode(raw, display)
    if not text.strip():
        raise _error(display, 1, 1, "file is empty; expected a YAML mapping")
    if "\t" in text:
        _reject_tab_indentation(text, display)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _from_marked(exc, display, text) from None
    except yaml.YAMLError as exc:
        raise _error(display, 1, 1, f"invalid YAML: {exc}") from None
    if node is None:
        raise _error(display, 1, 1, "file holds no YAML document; expected a mapping")
    doc = YamlDocument(file=display, data=None, sha256=hashlib.sha256(raw).hexdigest())
    doc.data = _Builder(doc).build(node, ())
    return doc


def _read_bytes(path: Path, display: PurePosixPath) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _error(display, 0, 0, f"file is {size} bytes; manifests are limited to "
                                        f"{MAX_BYTES} bytes")
        return path.read_bytes()
    except IsADirectoryError:
        raise _error(display, 0, 0, "is a directory; expected a YAML file") from None
    except OSError as exc:
        raise _error(display, 0, 0, f"cannot read file: {exc.strerror}") from None


def _decode(raw: bytes, display: PurePosixPath) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _error(display, line, col,
                     f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
                     ) from None
    return text.removeprefix("\ufeff")  # editors on Windows add a BOM; it carries no meaning


def _reject_tab_indentation(text: str, display: PurePosixPath) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(line) - len(stripped) + 1
            raise _error(display, number, col,
                         "tab used for indentation; YAML allows only spaces")


def _error(file: PurePosixPath, line: int, col: int, message: str) -> YamlLoadError:
    return YamlLoadError(Problem(file, line, col, ERROR, message))


def _from_marked(exc: yaml.MarkedYAMLError, display: PurePosixPath,
                 text: str) -> YamlLoadError:
    """PyYAML's error, placed where the mistake usually is rather than where parsing gave up.

    An unclosed quote or bracket is only noticed lines later; the place to fix is where
    it was opened, so that is where the message points.
    """
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    words = " ".join(part for part in (exc.context, exc.problem) if part)
    quote = _unclosed_quote(text, line)
    if quote:
        q_line, q_col, char = quote
        return _error(display, q_line, q_col,
                      f"invalid YAML: the {char} opened here is not closed on its line, so the "
                      f"text runs on until YAML fails at {line}:{col} ({words}); close it")
    bracket = _BRACKETS.get(exc.context or "")
    if bracket and exc.context_mark:
        b_line, b_col = exc.context_mark.line + 1, exc.context_mark.column + 1
        return _error(display, b_line, b_col,
                      f"invalid YAML: the '{bracket[0]}' opened here is not closed by "
                      f"'{bracket[1]}' before {line}:{col}; close it, or write one '- item' "
                      "per line instead")
    if exc.problem == "mapping values are not allowed in this context":
        words += ("; quote a value that contains ': ', or indent this line like the key "
                  "above it")
    return _error(display, line, col, f"invalid YAML: {words}")


_BRACKETS = {"while parsing a flow sequence": "[]", "while parsing a flow mapping": "{}"}
# A value that starts with a quote: `key: "...` or `- '...`.
_QUOTED_VALUE = re.compile(r"""^(\s*(?:-\s+)?(?:[^\s#'"][^#]*?:\s+)?)(["'])(.*)$""")


def _unclosed_quote(text: str, error_line: int) -> tuple[int, int, str] | None:
    """The first quote before `error_line` whose value does not close on its own line."""
    for number, line in enumerate(text.splitlines()[: error_line - 1], start=1):
        match = _QUOTED_VALUE.match(line)
        if not match:
            continue
        head, char, rest = match.groups()
        closing = (re.search(r'(?<!\\)"', rest) if char == '"'
                   else re.search(r"'(?!')", rest.replace("''", "")))
        if closing is None:
            return number, len(head) + 1, char
    return None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns composed nodes into Python data, recording marks as it goes."""

    def __init__(self, doc: YamlDocument):
        self.doc = doc
        self.count = 0
        self.scalars = _Loader("")  # only used for its scalar constructors

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            line, col = _mark(node)
            raise _error(self.doc.file, line, col,
                         f"document expands to more than {MAX_NODES} values "
                         "(aliases repeated too often?)")
        self.doc.value_marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        self.scalars.flatten_mapping(node)  # resolve `<<` merge keys the standard way
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key in result:
                line, col = _mark(key_node)
                first_line = self.doc.key_marks[path + (key,)][0]
                raise _error(self.doc.file, line, col,
                             f"duplicate key '{key}' in {format_path(path)} "
                             f"(first written on line {first_line})")
            self.doc.key_marks[path + (key,)] = _mark(key_node)
            result[key] = self.build(value_node, path + (key,))
        return result

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            line, col = _mark(node)
            raise _error(self.doc.file, line, col, "mapping keys must be plain words")
        return str(node.value)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag in _SCALAR_TAGS:
            return self.scalars.construct_object(node, deep=True)
        return node.value  # strings, and timestamps kept as written
