"""Validate parsed YAML against the JSON Schemas in `schemas/` and locate every error.

The schemas are the single source of truth for both file formats; this module only turns
jsonschema's errors into messages a candidate can act on, pointing at the line and column
where the offending key or value is written.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import Cache, code_version, make_key
from .problems import ERROR, Problem
from .yamlsource import YamlDocument, format_path

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

# Beyond this many, a list of allowed keys buries the message; the reference lists them.
MAX_KEYS_LISTED = 10
EVIDENCE_SCHEMA = "evidence.schema.json"
WORKSPACE_SCHEMA = "workspace.schema.json"
SCHEMA_KIND = "schema"  # the cache entries recording that a document was valid

_JSON_TYPES = {
    dict: "a mapping", list: "a list", str: "a string", bool: "true or false",
    int: "a number", float: "a number", type(None): "empty (null)",
}


def data_dir() -> Path:
    """Folder holding `schemas/` and `themes/`: inside the wheel, or the source checkout."""
    packaged = Path(__file__).parent / "_data"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent


def schema_path(name: str) -> Path:
    """Path of a schema file shipped with evidencechain."""
    return data_dir() / "schemas" / name


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema `name` (cached: schemas do not change while we run)."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema  # here, not at the top: a build whose manifests are cached never needs it

    return jsonschema.Draft202012Validator(load_schema(name))


def validate(doc: YamlDocument, schema_name: str, cache: Cache | None = None) -> list[Problem]:
    """Every schema violation in `doc`, located and worded for people, in file order.

    With a `cache`, a document parsed from bytes found valid before against the same schema
    (by the same code and libraries) is not validated again; only that verdict is kept, so
    problems are always found afresh, with their positions.
    """
    key = _validity_key(doc, schema_name) if cache is not None and doc.sha256 else None
    if key is not None and cache.get(SCHEMA_KIND, key, str(doc.file)) is True:
        return []
    problems = []
    for error in _validator(schema_name).iter_errors(doc.data):
        problems.extend(_problems_for(doc, error))
    if key is not None and not problems:
        cache.put(SCHEMA_KIND, key, True)
    return sorted(set(problems))


def _validity_key(doc: YamlDocument, schema_name: str) -> str:
    """The document's bytes (its data is a function of them, PyYAML and our code), the
    schema's content, and the versions of the code that parse and validate."""
    return make_key(SCHEMA_KIND, doc.sha256, schema_name, _schema_digest(schema_name),
                    code_version(), _library_versions())


@functools.cache
def _schema_digest(name: str) -> str:
    return hashlib.sha256(schema_path(name).read_bytes()).hexdigest()


@functools.cache
def _library_versions() -> tuple[str, str]:
    from importlib.metadata import version

    return version("jsonschema"), version("PyYAML")


def _problems_for(doc: YamlDocument, error: ValidationError) -> list[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        return [_unknown_key(doc, path, key, error.schema) for key in _unexpected(error)]
    if error.validator == "required":
        line, col = doc.locate(path)
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [Problem(doc.file, line, col, ERROR,
                        f"missing required key '{missing}'", format_path(path))]
    line, col = doc.locate(path)
    return [Problem(doc.file, line, col, ERROR, _message(error), format_path(path))]


def _unexpected(error: ValidationError) -> list[str]:
    allowed = error.schema.get("properties", {})
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [key for key in instance if key not in allowed]


def _unknown_key(doc: YamlDocument, path: tuple, key: str, schema: dict) -> Problem:
    line, col = doc.locate(path + (key,), key=True)
    allowed = sorted(schema.get("properties", {}))
    message = f"unknown key '{key}'"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    elif len(allowed) <= MAX_KEYS_LISTED:
        message += f"; allowed here: {', '.join(allowed)}"
    else:
        message += "; see the manifest reference for the keys allowed here"
    return Problem(doc.file, line, col, ERROR, message, format_path(path))


def _message(error: ValidationError) -> str:
    kind = error.validator
    value = error.instance
    schema = error.schema
    if kind == "type":
        return f"expected {_type_words(schema['type'])}, got {_describe(value)}"
    if kind == "minLength" and value == "":
        return "must not be empty"
    if kind == "minLength":
        return f"must be at least {schema['minLength']} characters"
    if kind == "maxLength":
        return f"is {len(value)} characters; at most {schema['maxLength']} allowed"
    if kind == "enum":
        return _enum_message(value, schema["enum"])
    if kind == "const":
        return f"must be {json.dumps(schema['const'])}, got {json.dumps(value)}"
    if kind == "pattern":
        return f"{json.dumps(value)} is not valid here: {_pattern_hint(schema)}"
    if kind == "minimum":
        return f"must be at least {schema['minimum']}, got {value}"
    return error.message


def _enum_message(value: Any, allowed: list[Any]) -> str:
    message = f"{json.dumps(value)} is not one of: {', '.join(map(str, allowed))}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [str(a) for a in allowed], n=1, cutoff=0.6)
        if close:
            message += f" (did you mean '{close[0]}'?)"
    return message


def _pattern_hint(schema: dict[str, Any]) -> str:
    # The first sentence of the description says what the value is; a regex would not.
    description = schema.get("description", "")
    if "YYYY-MM" in description:
        return "expected a date written as YYYY-MM-DD or YYYY-MM"
    if "http(s)://" in description:
        return "expected an http(s):// or mailto: address"
    first = description.split(". ")[0].rstrip(".")
    return f"expected {first[:1].lower()}{first[1:]}" if first else "a value of another shape"


def _type_words(expected: str | list[str]) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string",
             "boolean": "true or false", "number": "a number", "integer": "a whole number",
             "null": "nothing"}
    kinds = expected if isinstance(expected, list) else [expected]
    return " or ".join(names.get(k, k) for k in kinds)


def _describe(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)
