"""The static code audit: what a reviewer checks first, found or missing with the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import make_workspace, run_cli
from evidencechain.audit import CodeAudit, audit_project, count_failure_modes
from evidencechain.manifest import load_workspace

REPO = "repo:\n  path: code\n"
README_STEPS = b"# Demo\n\nA demo.\n\n## Reproduce\n\n```sh\nsh run.sh\n```\n"
MEMO = (b"# Memo\n\n## Failure modes\n\n- Long inputs are truncated and misrouted.\n"
        b"- The cache goes stale after a deploy and serves wrong answers.\n")
COMPLETE_REPO = {
    "code/requirements.txt": b"numpy==1.26.4\nscikit-learn==1.5.0  # the baseline\n",
    "code/run.sh": b"#!/bin/sh\npython train.py\n",
    "code/README.md": README_STEPS,
    "code/tests/test_train.py": b"def test_x():\n    pass\n",
    "code/tests/test_data.py": b"def test_y():\n    pass\n",
    "code/memo.md": MEMO,
    "code/train.py": b"print('precision=0.9')\n",
}
ML = "kind: ml-engineering\n"
MONITORING = """monitoring:
  data_drift: Weekly PSI against training data; alert above 0.2.
  label_distribution: Alert when a class share moves 5 points in a week.
  latency_slo: p95 < 150 ms over 5-minute windows.
  cost_anomaly: Alert above 1.5 times the 14-day median spend.
  rollback: Roll back to the previous model when precision < 0.8.
"""
MODEL_CARD = """model_card:
  intended_use: Suggesting a queue to a human.
  limitations: English only.
"""


def _audit(tmp_path: Path, files: dict[str, bytes], extra: str = REPO) -> CodeAudit:
    ws = make_workspace(tmp_path / "ws", extra, files)
    loaded = load_workspace(ws)
    assert loaded.workspace is not None, loaded.problems
    return audit_project(loaded.workspace.projects[0])


def _found(audit: CodeAudit) -> dict[str, bool]:
    return {f.key: f.found for f in audit.findings}


def _check_json(ws: Path) -> dict:
    result = run_cli("check", ws, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["projects"][0]


def test_a_complete_repository_has_every_item_with_the_file_that_shows_it(tmp_path):
    audit = _audit(tmp_path, COMPLETE_REPO)

    assert _found(audit) == {"pinned_deps": True, "run_script": True, "readme_steps": True,
                             "tests": True, "tradeoff_memo": True}
    by_key = {f.key: f for f in audit.findings}
    assert by_key["pinned_deps"].evidence == "requirements.txt: 2 of 2 pinned to exact versions"
    assert by_key["run_script"].files == ("run.sh",)
    assert by_key["readme_steps"].evidence == "README.md: section 'Reproduce' with commands"
    assert by_key["tests"].evidence.startswith("2 test files: tests/test_data.py")
    assert by_key["tradeoff_memo"].files == ("memo.md",)
    missing = [m["key"] for m in _check_json(tmp_path / "ws")["missing"]]
    assert not {"pinned_deps", "run_script", "readme_steps", "tests", "tradeoff_memo"} & set(
        missing)


def test_an_empty_repository_misses_every_item_and_check_says_why(tmp_path):
    ws = make_workspace(tmp_path / "ws", REPO, {"code/train.py": b"print(1)\n"})

    project = _check_json(ws)

    missing = {m["key"]: m["hint"] for m in project["missing"]}
    assert missing["pinned_deps"].startswith("no requirements file, lock file or environment")
    assert missing["run_script"].startswith("no run.sh, Makefile target, Dockerfile")
    assert missing["readme_steps"].startswith("no README")
    assert missing["tests"].startswith("no test files")
    assert missing["tradeoff_memo"].startswith("no memo.md and no case_study.tradeoffs")
    text = run_cli("check", ws).output
    assert "missing: Dependencies pinned (no requirements file" in text


def test_unpinned_requirements_are_named_and_pinned_ones_are_not(tmp_path):
    files = {"code/requirements.txt": b"numpy>=1.26\npandas\nrequests==2.32.3 \\\n"
                                      b"    --hash=sha256:abc\n-e .\n--index-url https://x\n"
                                      b"-r requirements-dev.txt\n",
             "code/requirements-dev.txt": b"pytest~=8.0\n"}

    finding = _audit(tmp_path, files).finding("pinned_deps")

    assert not finding.found
    assert "requirements.txt: numpy>=1.26" in finding.evidence
    assert "requirements.txt: pandas" in finding.evidence
    assert "pytest~=8.0" in finding.evidence
    assert "requests" not in finding.evidence


@pytest.mark.parametrize(("files", "found", "evidence"), [
    ({"code/uv.lock": b"version = 1\n", "code/requirements.txt": b"numpy>=1\n"}, True,
     "lock file uv.lock; unpinned elsewhere: requirements.txt: numpy>=1"),
    ({"code/environment.yml": b"dependencies:\n  - python=3.11\n  - numpy=1.26.4\n"
                              b"  - pip:\n    - torch==2.3.0\n"}, True,
     "environment.yml: 3 of 3 pinned to exact versions"),
    ({"code/environment.yml": b"dependencies:\n  - numpy\n  - pip:\n    - torch>=2\n"}, False,
     "not pinned: environment.yml: numpy; environment.yml: torch>=2"),
    ({"code/requirements.txt": b"# standard library only\n"}, True,
     "requirements.txt: no third-party packages to pin"),
    ({"code/requirements.txt": b"lib @ git+https://github.com/o/r@"
                               + b"a" * 40 + b"\n"}, True,
     "requirements.txt: 1 of 1 pinned to exact versions"),
    ({"code/requirements.txt": b"numpy==1.*\n"}, False, "not pinned: requirements.txt: numpy==1.*"),
])
def test_dependency_pinning_forms(tmp_path, files, found, evidence):
    finding = _audit(tmp_path, files).finding("pinned_deps")

    assert (finding.found, finding.evidence) == (found, evidence)


def test_pyproject_dependencies_are_read_where_python_has_tomllib(tmp_path):
    pytest.importorskip("tomllib")
    files = {"code/pyproject.toml": b'[project]\nname = "x"\ndependencies = ["httpx>=0.27"]\n'}

    finding = _audit(tmp_path, files).finding("pinned_deps")

    assert not finding.found
    assert "pyproject.toml: httpx>=0.27" in finding.evidence


@pytest.mark.parametrize(("files", "found", "evidence"), [
    ({"code/Makefile": b".PHONY: all\nall: train\ntrain:\n\tpython train.py\nX := 1\n"}, True,
     "Makefile (targets: all, train)"),
    ({"code/Makefile": b".PHONY: x\nCC := gcc\n"}, False, None),
    ({"code/Dockerfile": b"FROM python:3.11\n"}, True, "Dockerfile"),
    ({"code/docker/compose.yaml": b"services: {}\n"}, True, "docker/compose.yaml"),
    ({"code/scripts/reproduce.sh": b"python x.py\n"}, True, "scripts/reproduce.sh"),
    ({"code/notes.txt": b"run it somehow\n"}, False, None),
])
def test_run_script_or_container_recipe(tmp_path, files, found, evidence):
    finding = _audit(tmp_path, files).finding("run_script")

    assert finding.found is found
    if evidence:
        assert finding.evidence == evidence


@pytest.mark.parametrize(("readme", "found"), [
    (b"# Demo\n\nJust a demo of something.\n", False),
    (b"# Demo\n\n## Usage\n\nRun it with the script.\n", False),  # a heading but no command
    (b"# Demo\n\n## Quick start\n\n    python train.py\n", True),
    (b"Demo\n====\n\nHow to run\n----------\n\n```\nmake\n```\n", True),
    (b"To reproduce, run:\n\n$ python train.py\n", True),  # no headings at all
])
def test_readme_needs_a_section_on_running_it_with_commands(tmp_path, readme, found):
    finding = _audit(tmp_path, {"code/README.md": readme}).finding("readme_steps")

    assert finding.found is found


def test_test_files_are_counted_wherever_they_are(tmp_path):
    files = {"code/tests/test_a.py": b"", "code/pkg/b_test.py": b"", "code/web/c.test.ts": b"",
             "code/.venv/lib/test_hidden.py": b"", "code/testing_notes.md": b""}

    audit = _audit(tmp_path, files)

    assert audit.finding("tests").found
    assert sorted(audit.test_files) == ["pkg/b_test.py", "tests/test_a.py", "web/c.test.ts"]
    assert audit.finding("tests").evidence.startswith("3 test files")


def test_a_memo_naming_one_failure_mode_is_not_enough(tmp_path):
    files = {"code/memo.md": b"# Memo\n\nWe chose speed over accuracy. It can time out.\n"}

    finding = _audit(tmp_path, files).finding("tradeoff_memo")

    assert not finding.found
    assert finding.evidence == "memo.md names 1 failure mode(s); name at least 2"


def test_the_manifest_tradeoffs_can_be_the_memo(tmp_path):
    extra = REPO + ("case_study:\n  tradeoffs: Gave up recall for latency. Misroutes refund "
                    "tickets. Drifts when products change.\n")

    finding = _audit(tmp_path, {"code/x.py": b""}, extra).finding("tradeoff_memo")

    assert finding.found
    assert finding.evidence == "case_study.tradeoffs names 2 failure modes"


def test_a_memo_in_the_project_folder_counts(tmp_path):
    files = {"code/x.py": b"", "memo.md": MEMO}

    finding = _audit(tmp_path, files).finding("tradeoff_memo")

    assert finding.found
    assert finding.evidence == "memo.md in the project folder names 2 failure modes"


def test_failure_mode_heuristic_counts_sentences_and_list_items():
    assert count_failure_modes("It is fast. It is cheap.") == 0
    assert count_failure_modes("1. Misclassifies sarcasm.\n2. Breaks on empty input.\n") == 2
    assert count_failure_modes("Other misses the floor; truncation loses the middle.") == 1
    sectioned = ("# Memo\n\nWe fail fast. Errors are cheap.\n\n## Failure modes\n\n"
                 "- Drifts after launch.\n\n## Next\n\nIt breaks less.\n")
    assert count_failure_modes(sectioned) == 1  # only the failure-modes section counts


def _ml_workspace(tmp_path: Path, extra: str) -> Path:
    ws = make_workspace(tmp_path / "ws", extra)
    manifest = ws / "projects/p/evidence.yml"
    manifest.write_text(manifest.read_text().replace("kind: ai-creative", "kind: ml-engineering"))
    return ws


def test_ml_projects_need_a_monitoring_plan_and_a_model_card(tmp_path):
    ws = _ml_workspace(tmp_path, "model_card:\n  intended_use: Suggesting a queue.\n")

    project = _check_json(ws)

    missing = {m["key"]: m["hint"] for m in project["missing"]}
    assert missing["monitoring"].startswith("no monitoring section; add monitoring:")
    assert missing["model_card_use"].startswith("model_card lacks limitations")
    assert "pinned_deps" not in missing  # no repo.path: no code to audit


def test_a_partial_monitoring_plan_names_what_it_lacks(tmp_path):
    plan = MONITORING.replace("Roll back to the previous model when precision < 0.8.", "TBD")
    ws = _ml_workspace(tmp_path, plan + MODEL_CARD)

    audit = audit_project(load_workspace(ws).workspace.projects[0])

    assert audit.finding("monitoring").evidence == "monitoring lacks: rollback condition"
    assert audit.finding("model_card_use").found


def test_a_full_monitoring_plan_completes_the_ml_chain_links(tmp_path):
    ws = _ml_workspace(tmp_path, MONITORING + MODEL_CARD)

    project = _check_json(ws)

    assert not {"monitoring", "model_card_use"} & {m["key"] for m in project["missing"]}


def test_monitoring_is_not_expected_of_other_kinds(tmp_path):
    audit = _audit(tmp_path, {}, REPO)

    assert audit.finding("monitoring") is None
    assert audit.finding("model_card_use") is None


def test_projects_without_code_are_not_audited_and_keep_their_score(tmp_path):
    ws = make_workspace(tmp_path / "ws")

    project = _check_json(ws)
    audit = _audit(tmp_path / "again", {}, "")

    assert audit.findings == ()
    assert not {m["key"] for m in project["missing"]} & {"pinned_deps", "monitoring"}


def test_the_example_classifier_passes_the_whole_audit():
    from conftest import EXAMPLE_SITE

    loaded = load_workspace(EXAMPLE_SITE)
    project = next(p for p in loaded.workspace.projects if p.slug == "support-ticket-classifier")

    audit = audit_project(project)

    assert all(f.found for f in audit.findings), [f for f in audit.findings if not f.found]
    assert {f.key for f in audit.findings} == {"pinned_deps", "run_script", "readme_steps",
                                               "tests", "tradeoff_memo", "monitoring",
                                               "model_card_use"}
