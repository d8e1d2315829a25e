"""The manifest reference in docs/ is generated from the schemas and must not go stale."""

from __future__ import annotations

from conftest import REPO_ROOT
from evidencechain.reference import PAGES, render
from evidencechain.schema import load_schema


def test_committed_reference_pages_match_the_schemas():
    for name, (schema_name, label) in PAGES.items():
        committed = (REPO_ROOT / "docs" / "reference" / name).read_text(encoding="utf-8")
        assert committed == render(schema_name, label), (
            f"docs/reference/{name} is stale: run `python -m evidencechain.reference "
            "docs/reference`")


def test_every_schema_key_is_documented():
    page = render("evidence.schema.json", "evidence.yml")
    schema = load_schema("evidence.schema.json")
    for key in schema["properties"]:
        assert f"| `{key}` |" in page
    for nested in ("brief.success_metrics[]", "case_study.decisions[]", "assets[]",
                   "reproduce.expected.<name>", "model_card.models[]"):
        assert f"## `{nested}`" in page
