"""The reproduction runner's parts: comparing claims, naming the code, reading records back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import make_workspace, run_cli
from evidencechain import reproduce
from evidencechain.model import ExpectedResult
from evidencechain.reproduce import (
    DIFFERS,
    NOT_PRODUCED,
    RECORD_FILE,
    REPRODUCED,
    Isolation,
    Record,
    compare_metrics,
    content_hash,
    format_seconds,
    git_commit,
)
from evidencechain.schema import load_schema

MANIFEST = """repo:
  path: code
reproduce:
  commands:
    - python train.py
  expected:
    precision:
      value: 0.9
      tolerance: 0.01
"""
TRAIN = b"print('precision=0.905')\n"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=T", "-c", "user.email=t@example.com",
                           *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def _git_workspace(tmp_path: Path) -> tuple[Path, Path]:
    ws = make_workspace(tmp_path / "ws", MANIFEST, {"code/train.py": TRAIN})
    repo = ws / "projects/p/code"
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    return ws, repo


# --- comparing claims -------------------------------------------------------------------------

@pytest.mark.parametrize(("claim", "output", "value", "outcome"), [
    (ExpectedResult(0.88, 0.01, r"precision=([0-9.]+)"), "precision=0.5\nprecision=0.885\n",
     0.885, REPRODUCED),
    (ExpectedResult(0.88, 0.01, r"precision=([0-9.]+)"), "precision=0.9\n", 0.9, DIFFERS),
    (ExpectedResult(0.88, None, r"precision=([0-9.]+)"), "precision=0.88\n", 0.88, REPRODUCED),
    (ExpectedResult(0.88, None, r"precision=([0-9.]+)"), "precision=0.881\n", 0.881, DIFFERS),
    (ExpectedResult(0.88, 0.01, r"precision=([0-9.]+)"), "recall=0.88\n", None, NOT_PRODUCED),
    (ExpectedResult(0.88, 0.01, r"precision=([0-9.]+"), "precision=0.88\n", None, NOT_PRODUCED),
    (ExpectedResult(0.88, 0.01, r"precision=(\S+)"), "precision=nan\n", None, NOT_PRODUCED),
    (ExpectedResult(0.88, 0.01), "val precision: 0.884 (macro)\n", 0.884, REPRODUCED),
    (ExpectedResult(0.88, 0.01), "test_precision=0.2\n", None, NOT_PRODUCED),
])
def test_claims_against_output(claim, output, value, outcome):
    (result,) = compare_metrics({"precision": claim}, output)

    assert (result.value, result.outcome) == (value, outcome)
    assert result.detail or outcome != NOT_PRODUCED


@pytest.mark.parametrize(("data", "value", "detail"), [
    ({"test": {"recall": 0.7}}, 0.7, ""),
    ({"test": {"recall": "0.7"}}, 0.7, ""),
    ({"test": {}}, None, "no 'test.recall' in out.json"),
    ({"test": {"recall": True}}, None, "'test.recall' in out.json is not a number"),
])
def test_claims_against_a_result_file(data, value, detail):
    (result,) = compare_metrics({"test.recall": ExpectedResult(0.7, 0.01)}, "",
                                (data, ""), "out.json")

    assert (result.value, result.detail) == (value, detail)


def test_a_result_file_that_was_not_written_produces_nothing():
    (result,) = compare_metrics({"x": ExpectedResult(1.0)}, "x=1", (None, "out.json was not "
                                                                    "written"), "out.json")

    assert (result.outcome, result.detail) == (NOT_PRODUCED, "out.json was not written")


# --- naming the code ------------------------------------------------------------------------------

def test_content_hash_ignores_caches_and_line_endings(tmp_path):
    (tmp_path / "a.py").write_bytes(b"x = 1\r\ny = 2\r\n")
    before = content_hash(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__/a.pyc").write_bytes(b"\0")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv/pyvenv.cfg").write_text("home = /usr\n")
    assert content_hash(tmp_path) == before
    (tmp_path / "a.py").write_bytes(b"x = 1\ny = 2\n")
    assert content_hash(tmp_path) == before
    (tmp_path / "b.py").write_bytes(b"")
    assert content_hash(tmp_path) != before


def test_a_folder_inside_another_repository_is_not_a_git_repo(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "code").mkdir()
    (tmp_path / "code/x.py").write_text("1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "x")

    assert git_commit(tmp_path / "code") is None
    assert git_commit(tmp_path) == _git(tmp_path, "rev-parse", "HEAD")


def test_a_git_repo_is_recorded_by_commit_and_a_new_commit_makes_it_stale(tmp_path):
    ws, repo = _git_workspace(tmp_path)
    first = _git(repo, "rev-parse", "HEAD")

    assert run_cli("reproduce", ws, "--yes").exit_code == 0
    record = json.loads((ws / "projects/p" / RECORD_FILE).read_text())
    assert record["source"]["kind"] == "git"
    assert record["source"]["commit"] == first
    assert record["tools"]["git"]
    assert "stale" not in run_cli("check", ws).output

    (repo / "README.md").write_text("# Train\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "second")
    second = _git(repo, "rev-parse", "HEAD")
    output = run_cli("check", ws).output

    assert (f"the reproduction is stale: the repository moved from commit {first[:7]} to "
            f"{second[:7]}") in output


def test_uncommitted_changes_to_a_git_repo_make_it_stale(tmp_path):
    ws, repo = _git_workspace(tmp_path)
    assert run_cli("reproduce", ws, "--yes").exit_code == 0

    (repo / "train.py").write_bytes(TRAIN + b"# tweak\n")
    output = run_cli("check", ws).output

    assert "the reproduction is stale: files in code changed since the run" in output


def test_an_empty_commit_still_makes_it_stale(tmp_path):
    ws, repo = _git_workspace(tmp_path)
    assert run_cli("reproduce", ws, "--yes").exit_code == 0

    _git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")

    assert "the repository moved from commit" in run_cli("check", ws).output


# --- isolation --------------------------------------------------------------------------------

def test_without_unshare_it_runs_unisolated_and_says_so(tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(reproduce.shutil, "which",
                        lambda name, *a, **k: None if name == "unshare" else real_which(name))
    ws = make_workspace(tmp_path / "ws", MANIFEST, {"code/train.py": TRAIN})

    result = run_cli("reproduce", ws, "--yes")

    assert result.exit_code == 0, result.output
    assert ("Isolation on this machine: no isolation: the commands could use the network and "
            "write anywhere this user can (unshare is not installed)") in result.output
    record = json.loads((ws / "projects/p" / RECORD_FILE).read_text())
    assert record["isolation"] == {"network_off": False, "read_only_outside_copy": False,
                                   "own_process_namespace": False, "method": "none",
                                   "note": "unshare is not installed"}


def test_isolation_is_described_plainly():
    net_only = Isolation(True, False, False, "unshare --user --map-root-user --net",
                         "no read-only file system: mount failed")

    assert net_only.describe() == (
        "network off, files outside the copy NOT protected (unshare --user --map-root-user "
        "--net); no read-only file system: mount failed")


# --- the record ---------------------------------------------------------------------------------

def test_a_record_round_trips_through_its_schema(tmp_path):
    import jsonschema

    ws = make_workspace(tmp_path / "ws", MANIFEST, {"code/train.py": TRAIN})
    assert run_cli("reproduce", ws, "--yes").exit_code == 0
    data = json.loads((ws / "projects/p" / RECORD_FILE).read_text())

    jsonschema.Draft202012Validator(load_schema("reproduction.schema.json")).validate(data)
    assert Record.from_dict(data).to_dict() == data


@pytest.mark.parametrize(("seconds", "text"), [
    (0.42, "0.4 s"), (41.2, "41 s"), (200, "3 min 20 s"), (3900, "1 h 5 min"), (120, "2 min"),
])
def test_durations_read_well(seconds, text):
    assert format_seconds(seconds) == text
