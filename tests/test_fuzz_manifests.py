"""Random manifests: the tool accepts them or reports located errors, never a traceback."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MINIMAL_CONFIG, run_cli
from evidencechain.schema import EVIDENCE_SCHEMA, load_schema

KEYS = sorted(load_schema(EVIDENCE_SCHEMA)["properties"])
PROBLEM_LINE = re.compile(r"^projects/p/evidence\.yml(:\d+:\d+)?: (error|warning): .+$")

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["raw", "final", "client", "v1",
                                                          "2024-01-01", "ai-creative"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(KEYS + ["path", "role", "id", "name"]),
                              st.text(max_size=8)), inner, max_size=4)), max_leaves=20)
manifests = st.dictionaries(st.sampled_from(KEYS + ["extra", "titel"]), values, max_size=10)


def _check(text: str | bytes):
    root = Path(tempfile.mkdtemp())
    try:
        (root / "projects" / "p").mkdir(parents=True)
        (root / "evidencechain.yml").write_text(MINIMAL_CONFIG)
        manifest = root / "projects" / "p" / "evidence.yml"
        manifest.write_bytes(text.encode() if isinstance(text, str) else text)
        return run_cli("check", root)
    finally:
        shutil.rmtree(root)


def _assert_clean(result) -> None:
    assert result.exit_code in (0, 1), result.output
    for line in result.output.splitlines():
        if line.startswith("projects/"):
            assert PROBLEM_LINE.match(line), line
    assert "Traceback" not in result.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests)
def test_random_structures_never_crash(data):
    _assert_clean(_check(yaml.safe_dump(data, allow_unicode=True)))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(raw):
    _assert_clean(_check(raw))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab:- \n\t[]{}&*!|>'\"%@`#,?", max_size=120))
def test_random_yaml_punctuation_never_crashes(text):
    _assert_clean(_check(text))
