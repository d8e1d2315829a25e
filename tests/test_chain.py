"""Completeness: each link is found or missing with a hint; placeholders count as missing."""

from __future__ import annotations

import pytest

from evidencechain.chain import assess, is_filled
from evidencechain.model import Manifest, from_data

COMPLETE = {
    "schema_version": 1, "title": "T", "summary": "S", "kind": "ml-engineering",
    "source": "take-home",
    "brief": {"text": "Classify tickets.", "constraints": ["CPU only"],
              "success_metrics": [{"name": "p95", "target": "< 150 ms", "achieved": "118 ms"}]},
    "case_study": {"problem": "p", "why_it_matters": "w", "approach": "a",
                   "decisions": [{"decision": "d", "rationale": "r"}],
                   "tradeoffs": "t", "learned": "l"},
    "iterations": [{"id": "v1", "change": "c", "why": "w", "outcome": "o"},
                   {"id": "v2", "change": "c", "why": "w", "outcome": "o"}],
    "failures": [{"what_broke": "b", "fix": "f"}],
    "model_card": {"models": [{"name": "DistilBERT", "licence": "Apache-2.0"}]},
    "assets": [{"path": "raw.png", "role": "raw"},
               {"path": "final.png", "role": "final", "derived_from": ["raw.png"]}],
    "workflow": [{"tool": "PyTorch"}],
    "reproduce": {"commands": ["make"], "environment": "Python 3.11"},
}


def _manifest(**changes) -> Manifest:
    data = {**COMPLETE, **changes}
    return from_data(Manifest, {k: v for k, v in data.items() if v is not None})


def test_a_complete_chain_is_100_percent():
    result = assess(_manifest())
    assert result.percent == 100
    assert result.missing == []


def test_reproduction_only_applies_to_ml_engineering():
    ml = assess(_manifest(reproduce=None))
    creative = assess(_manifest(kind="ai-creative", reproduce=None))

    assert [link.key for link in ml.missing] == ["reproduce"]
    assert "reproduce" not in [link.key for link in creative.links]
    assert creative.percent == 100


@pytest.mark.parametrize(("changes", "missing_key"), [
    ({"brief": {"text": "x", "success_metrics": [{"name": "n", "target": "t", "achieved": "a"}]}},
     "brief"),
    ({"brief": {"text": "x", "constraints": ["c"],
                "success_metrics": [{"name": "n", "target": "t"}]}},
     "results"),
    ({"iterations": [{"id": "v1", "change": "c", "why": "w", "outcome": "o"}]}, "iterations"),
    ({"iterations": [{"id": "v1", "change": "c", "why": "w", "outcome": "o"},
                     {"id": "v2", "change": "c", "why": "TBD", "outcome": "o"}]}, "iterations"),
    ({"failures": [{"what_broke": "b"}]}, "failures"),
    ({"assets": [{"path": "final.png", "role": "final"}]}, "raw_final"),
    ({"model_card": {"models": [{"name": "SDXL"}]}}, "model_card"),
    ({"workflow": None}, "workflow"),
    ({"case_study": {**COMPLETE["case_study"], "tradeoffs": "lorem ipsum dolor"}}, "tradeoffs"),
    ({"case_study": {**COMPLETE["case_study"], "learned": "More information needed"}},
     "learned"),
])
def test_each_missing_link_is_reported_with_a_hint(changes, missing_key):
    result = assess(_manifest(**changes))

    assert [link.key for link in result.missing] == [missing_key]
    assert result.missing[0].hint
    assert result.percent == 100 * (len(result.links) - 1) // len(result.links)


@pytest.mark.parametrize("text", ["", "   ", "TBD", "tbd.", "N/A", "...", "todo",
                                  "More information needed", "Lorem ipsum dolor sit amet",
                                  "[insert metric here]", None])
def test_placeholders_are_not_filled(text):
    assert not is_filled(text)


@pytest.mark.parametrize("text", ["Cut p95 latency to 118 ms", "None of the models fit, so",
                                  "TBD items were resolved in v3"])
def test_real_text_is_filled(text):
    assert is_filled(text)
