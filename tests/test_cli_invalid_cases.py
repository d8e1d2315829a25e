"""Every kind of bad workspace gets located, one-line errors and exit code 1.

Each folder under `cases/invalid/` is a workspace with one kind of mistake; its
`expected.txt` holds the exact problem lines `evidencechain check` must print.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

CASES = Path(__file__).parent / "cases" / "invalid"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())


def test_the_corpus_is_not_empty():
    assert len(CASE_DIRS) >= 40


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_check_prints_the_expected_located_errors(case: Path):
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert expected, "every case must expect at least one error"

    result = run_cli("check", case)

    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines()
                if line.startswith(("projects/", "evidencechain.yml"))]
    assert problems == expected
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_build_refuses_with_the_same_errors_and_writes_nothing(case: Path, tmp_path: Path):
    out = tmp_path / "site"
    result = run_cli("build", case, "-o", out)

    assert result.exit_code == 1
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    for line in expected:
        assert line in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no scratch folder left behind


def test_json_format_reports_the_same_problems():
    case = CASES / "schema-several-errors"
    result = run_cli("check", "--format", "json", case)

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["valid"] is False
    assert report["errors"] == 3
    assert [p["path"] for p in report["problems"]] == ["$.kind", "$.brief.text", "$"]
    assert report["problems"][0]["line"] == 4

