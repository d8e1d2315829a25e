"""Every kind of bad workspace gets located, one-line messages and the right exit code.

Each folder under `cases/invalid/` is a workspace with one kind of mistake; its
`expected.txt` holds the exact problem lines the command must print. The command is `check`
unless the folder has a `command` file naming another (`build`, for problems only found
while decoding images). A case whose expected lines hold an error must exit 1; a case of
warnings only (a format the page cannot show) exits 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

CASES = Path(__file__).parent / "cases" / "invalid"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())


def test_the_corpus_has_at_least_fifty_cases():
    assert len(CASE_DIRS) >= 50


def _command(case: Path) -> str:
    command = case / "command"
    return command.read_text().strip() if command.exists() else "check"


def _located(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if line.startswith(("projects/", "evidencechain.yml"))]


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_each_case_prints_the_expected_located_messages(case: Path, tmp_path: Path):
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert expected, "every case must expect at least one message"
    command = _command(case)

    result = run_cli(command, case, *(["-o", tmp_path / "site"] if command == "build" else []))

    has_error = any(": error: " in line for line in expected)
    assert result.exit_code == (1 if has_error else 0)
    printed = result.output if command == "check" else result.stderr
    assert _located(printed) == expected
    assert "Traceback" not in result.output + result.stderr
    if command == "build":
        assert not (tmp_path / "site").exists()


ERROR_CASES = [c for c in CASE_DIRS if _command(c) == "check"
               and ": error: " in (c / "expected.txt").read_text()]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[p.name for p in ERROR_CASES])
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

