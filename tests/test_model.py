"""The dataclasses mirror the JSON Schema exactly: the schema stays the single source of truth."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from evidencechain import model
from evidencechain.schema import EVIDENCE_SCHEMA, WORKSPACE_SCHEMA, load_schema


def _walk(cls: type, schema: dict, where: str):
    """Yield (where, dataclass, object schema) for `cls` and every nested dataclass."""
    yield where, cls, schema
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        sub = schema["properties"][f.name]
        inner = _dataclass_in(hints[f.name])
        if inner is None:
            continue
        if sub.get("type") == "array":
            sub = sub["items"]
        elif sub.get("type") == "object" and "additionalProperties" in sub and \
                isinstance(sub["additionalProperties"], dict):
            sub = sub["additionalProperties"]
        yield from _walk(inner, sub, f"{where}.{f.name}")


def _dataclass_in(hint: object) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint  # type: ignore[return-value]
    for arg in typing.get_args(hint):
        found = _dataclass_in(arg)
        if found:
            return found
    return None


CASES = [
    *_walk(model.Manifest, load_schema(EVIDENCE_SCHEMA), "evidence"),
    *_walk(model.WorkspaceConfig, load_schema(WORKSPACE_SCHEMA), "workspace"),
]


@pytest.mark.parametrize(("where", "cls", "schema"), CASES, ids=[c[0] for c in CASES])
def test_dataclass_fields_match_schema_properties(where, cls, schema):
    fields = {f.name for f in dataclasses.fields(cls)}
    assert fields == set(schema["properties"]), where
    required = {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert required == set(schema.get("required", [])), where


def test_every_object_in_the_schema_rejects_unknown_keys():
    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    for name in (EVIDENCE_SCHEMA, WORKSPACE_SCHEMA):
        for node in objects(load_schema(name)):
            assert node.get("additionalProperties") is False, node.get("description")


def test_from_data_builds_nested_objects():
    data = {"schema_version": 1, "title": "T", "summary": "S", "kind": "other",
            "source": "client", "assets": [{"path": "a.png", "role": "raw"}],
            "reproduce": {"expected": {"precision": {"value": 1, "tolerance": 0.01}}}}
    manifest = model.from_data(model.Manifest, data)

    assert manifest.assets == [model.Asset(path="a.png", role="raw")]
    assert manifest.reproduce.expected["precision"].value == 1.0
    assert isinstance(manifest.reproduce.expected["precision"].value, float)
    assert manifest.case_study == model.CaseStudy()


def test_field_types_are_resolved_once_per_class_and_match_the_annotations():
    classes = [c for c in vars(model).values()
               if isinstance(c, type) and dataclasses.is_dataclass(c)
               and c.__module__ == model.__name__]
    assert len(classes) > 10
    for cls in classes:
        hints = typing.get_type_hints(cls)
        expected = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
        assert dict(model.field_types(cls)) == expected, cls
        assert model.field_types(cls) is model.field_types(cls)  # cached, not recomputed
    # The cache is per class: classes sharing a field name keep their own types.
    assert model.field_types(model.Brief)["text"] is str
    assert model.field_types(model.Dates)["end"] == str | None
