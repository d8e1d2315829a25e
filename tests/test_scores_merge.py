"""`evidencechain scores merge`: reviewers' exports side by side, disagreements flagged."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import run_cli
from evidencechain.scoring import builtin_rubric

RUBRIC = builtin_rubric("ml-engineering")
BUILD = "0123456789ab"


def _export(reviewer: str, scores: list[int | None], *, project: str = "router",
            build: str = BUILD, site: str = "Candidate 7F3A") -> dict:
    """A score sheet export as the page writes it."""
    return {
        "format": "evidencechain-scores", "format_version": 1, "reviewer": reviewer,
        "project": project, "project_title": "Router", "site": site, "build_id": build,
        "exported_at": "2026-01-05T10:00:00Z",
        "rubric": {"name": RUBRIC.name, "title": RUBRIC.title,
                   "pass_threshold": RUBRIC.pass_threshold},
        "scores": [{"competency": c.id, "title": c.title, "weight": c.weight, "score": s,
                    "note": ""} for c, s in zip(RUBRIC.competencies, scores, strict=True)],
    }


def _csv(export: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["reviewer", "site", "project", "build_id", "rubric", "pass_threshold",
                     "competency", "title", "weight", "score", "note"])
    for entry in export["scores"]:
        writer.writerow([export["reviewer"], export["site"], export["project"],
                         export["build_id"], export["rubric"]["name"], 70, entry["competency"],
                         entry["title"], entry["weight"],
                         "" if entry["score"] is None else entry["score"],
                         _guard(entry["note"])])
    return out.getvalue()


def _guard(text: str) -> str:
    """A cell as scoresheet.js writes it: a leading = + - @ tab or CR is quoted away."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@pytest.fixture
def three_reviewers(tmp_path: Path) -> list[Path]:
    ab = tmp_path / "scores-router-AB.json"
    ab.write_text(json.dumps(_export("AB", [3, 4, 2, 3, 2, 1]), indent=2))
    cd = tmp_path / "scores-router-CD.json"
    cd.write_text(json.dumps(_export("CD", [4, 4, 3, 3, 3, 3]), indent=2))
    ef = tmp_path / "scores-router-EF.csv"
    ef.write_text(_csv(_export("EF", [1, 3, 2, 4, 3, 2])))
    return [ab, cd, ef]


def test_merge_prints_one_table_with_means_spreads_flags_and_totals(three_reviewers):
    result = run_cli("scores", "merge", *three_reviewers)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("router (Candidate 7F3A): rubric ml-engineering, pass at 70%, "
                        "3 reviewer(s), build 0123456789ab")
    framing = next(line for line in lines if "Problem framing" in line)
    assert framing.split()[-9:] == ["15%", "3", "4", "1", "2.67", "3", "differ", "by", "2+"]
    data = next(line for line in lines if "Data handling" in line)
    assert "differ" not in data and "3.67" in data
    ethics = next(line for line in lines if "Ethics" in line)
    assert ethics.rstrip().endswith("differ by 2+")
    totals = next(line for line in lines if "Weighted total" in line).split()
    assert totals[-4:] == ["66.25%", "83.75%", "65%", "71.67%"]  # the last: the panel's mean
    assert next(line for line in lines if "Result" in line).split()[-4:] == [
        "fail", "pass", "fail", "pass"]
    assert ("Reviewers differ by 2 or more points on: Problem framing & assumptions; "
            "Ethics & bias mitigation.") in result.output


def test_merge_as_json(three_reviewers):
    result = run_cli("scores", "merge", "--format", "json", *three_reviewers)

    assert result.exit_code == 0
    (project,) = json.loads(result.output)["projects"]
    assert project["reviewers"] == ["AB", "CD", "EF"]
    rows = {r["id"]: r for r in project["competencies"]}
    assert rows["problem-framing"]["scores"] == {"AB": 3, "CD": 4, "EF": 1}
    assert rows["problem-framing"]["spread"] == 3
    assert rows["problem-framing"]["disagreement"] is True
    assert rows["reproducibility"]["mean"] == pytest.approx(10 / 3)
    assert rows["reproducibility"]["disagreement"] is False
    assert project["totals"]["CD"] == {"total": 83.75, "scored": 6, "complete": True,
                                       "passed": True}
    assert project["mean_total"] == pytest.approx((66.25 + 83.75 + 65) / 3)
    assert project["mean_passed"] is True


def test_merge_as_csv(three_reviewers):
    result = run_cli("scores", "merge", "--format", "csv", *three_reviewers)

    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["competency"] for r in rows][-2:] == ["total", "result"]
    framing = rows[0]
    assert (framing["AB"], framing["CD"], framing["EF"]) == ("3", "4", "1")
    assert framing["mean"] == "2.67" and framing["disagreement"] == "yes"
    assert rows[-1]["CD"] == "pass"


def test_unscored_competencies_leave_the_total_incomplete(tmp_path):
    partial = tmp_path / "p.json"
    partial.write_text(json.dumps(_export("GH", [4, 4, None, 4, 4, 4])))

    result = run_cli("scores", "merge", "--format", "json", partial)

    project = json.loads(result.output)["projects"][0]
    assert project["totals"]["GH"] == {"total": 80.0, "scored": 5, "complete": False,
                                       "passed": None}
    assert project["mean_total"] == 80.0  # nobody scored modelling: it counts as 0
    assert project["mean_complete"] is False
    assert project["mean_passed"] is None


def test_the_panels_total_is_the_weighted_sum_of_the_means_shown(tmp_path):
    # AB's complete sheet totals 75% (a pass); CD scored three competencies, all 1. The
    # panel's total must add up from the means in its column, CD's scores included.
    ab = tmp_path / "ab.json"
    ab.write_text(json.dumps(_export("AB", [3, 3, 3, 3, 3, 3])))
    cd = tmp_path / "cd.json"
    cd.write_text(json.dumps(_export("CD", [1, 1, 1, None, None, None])))

    result = run_cli("scores", "merge", "--format", "json", ab, cd)

    (project,) = json.loads(result.output)["projects"]
    weighted = sum(r["weight"] * r["mean"] / 4 for r in project["competencies"])
    assert weighted == pytest.approx(61.25)
    assert project["mean_total"] == pytest.approx(weighted)
    assert (project["mean_complete"], project["mean_passed"]) == (True, False)

    text = run_cli("scores", "merge", ab, cd).output.splitlines()
    assert next(line for line in text if "Weighted total" in line).split()[-3:] == [
        "75%", "13.75%", "61.25%"]
    assert next(line for line in text if "Result" in line).split()[-3:] == [
        "pass", "incomplete", "fail"]
    rows = list(csv.DictReader(io.StringIO(
        run_cli("scores", "merge", "--format", "csv", ab, cd).output)))
    assert (rows[-2]["mean"], rows[-1]["mean"]) == ("61.25", "fail")


def test_the_panel_is_incomplete_while_a_competency_has_no_score(tmp_path):
    ab = tmp_path / "ab.json"
    ab.write_text(json.dumps(_export("AB", [4, 4, 4, 4, 4, None])))
    cd = tmp_path / "cd.json"
    cd.write_text(json.dumps(_export("CD", [4, 4, 4, 4, 4, None])))

    result = run_cli("scores", "merge", ab, cd)
    as_json = json.loads(run_cli("scores", "merge", "--format", "json", ab, cd).output)

    (project,) = as_json["projects"]
    assert (project["mean_total"], project["mean_passed"]) == (90.0, None)
    lines = result.output.splitlines()
    assert next(line for line in lines if "Weighted total" in line).split()[-1] == "90%"
    assert next(line for line in lines if "Result" in line).split()[-1] == "incomplete"


def test_the_guide_shows_the_real_output_of_scores_merge(three_reviewers):
    guide = (Path(__file__).parents[1] / "docs" / "guide.md").read_text(encoding="utf-8")
    command = ("$ evidencechain scores merge scores-router-AB.json scores-router-CD.json "
               "scores-router-EF.csv\n")
    start = guide.index(command) + len(command)
    shown = guide[start:guide.index("```", start)]

    result = run_cli("scores", "merge", *three_reviewers)

    assert shown == result.output


def test_projects_and_sites_are_kept_apart(tmp_path):
    files = []
    for i, (site, project) in enumerate([("Candidate A", "router"), ("Candidate B", "router"),
                                         ("Candidate A", "poster")]):
        path = tmp_path / f"{i}.json"
        path.write_text(json.dumps(_export("AB", [2] * 6, site=site, project=project)))
        files.append(path)

    result = run_cli("scores", "merge", "--format", "json", *files)

    projects = json.loads(result.output)["projects"]
    assert [(p["site"], p["project"]) for p in projects] == [
        ("Candidate A", "router"), ("Candidate B", "router"), ("Candidate A", "poster")]


def test_the_same_reviewer_twice_and_different_builds_are_warnings(tmp_path):
    first = tmp_path / "a.json"
    first.write_text(json.dumps(_export("AB", [2] * 6)))
    again = tmp_path / "b.json"
    again.write_text(json.dumps(_export("AB", [3] * 6, build="ba9876543210")))

    result = run_cli("scores", "merge", "--format", "json", first, again)

    assert result.exit_code == 0
    assert json.loads(result.stdout)["projects"][0]["reviewers"] == ["AB", "AB (2)"]
    assert (f"{again.as_posix()}:1:1: warning: reviewer 'AB' scored router more than once; "
            "this sheet is shown as 'AB (2)'") in result.stderr
    assert ("router: reviewers scored different builds (0123456789ab, ba9876543210); the "
            "page changed between reviews") in result.stderr


def _with_notes(export: dict) -> dict:
    export["scores"][0]["note"] = "Framing is argued from the brief."
    export["scores"][3]["note"] = '=run.sh ran; "2 commands", all green.\nSecond line.'
    return export


def test_a_sheets_json_and_csv_exports_count_once(tmp_path):
    as_json = tmp_path / "scores-router-AB.json"
    as_json.write_text(json.dumps(_with_notes(_export("AB", [3, 4, 2, 3, 2, 1])), indent=2))
    as_csv = tmp_path / "scores-router-AB.csv"
    as_csv.write_text(_csv(_with_notes(_export("AB", [3, 4, 2, 3, 2, 1]))), newline="")
    other = tmp_path / "scores-router-CD.json"
    other.write_text(json.dumps(_export("CD", [4, 4, 3, 3, 3, 3])))

    result = run_cli("scores", "merge", "--format", "json", as_json, other, as_csv)

    assert result.exit_code == 0, result.output
    (project,) = json.loads(result.stdout)["projects"]
    assert project["reviewers"] == ["AB", "CD"]
    assert project["mean_total"] == pytest.approx((66.25 + 83.75) / 2)
    assert result.stderr.splitlines() == [
        f"{as_csv.as_posix()}:2:1: warning: reviewer 'AB', router: same sheet as "
        f"{as_json.as_posix()}; counted once"]
    text = run_cli("scores", "merge", as_csv, other, as_json).stdout
    assert "2 reviewer(s)" in text and "AB (2)" not in text


def test_one_file_given_twice_counts_once(tmp_path):
    path = tmp_path / "ab.json"
    path.write_text(json.dumps(_export("AB", [2] * 6)))

    result = run_cli("scores", "merge", "--format", "json", path, path)

    assert json.loads(result.stdout)["projects"][0]["reviewers"] == ["AB"]
    assert (f"{path.as_posix()}:1:1: warning: reviewer 'AB', router: same sheet as "
            f"{path.as_posix()}:1; counted once") in result.stderr


def test_the_same_scores_with_other_notes_are_another_sheet(tmp_path):
    first = tmp_path / "a.json"
    first.write_text(json.dumps(_export("AB", [2] * 6)))
    again = tmp_path / "b.csv"
    again.write_text(_csv(_with_notes(_export("AB", [2] * 6))), newline="")

    result = run_cli("scores", "merge", "--format", "json", first, again)

    assert json.loads(result.stdout)["projects"][0]["reviewers"] == ["AB", "AB (2)"]
    assert "shown as 'AB (2)'" in result.stderr and "counted once" not in result.stderr


def _bad(tmp_path: Path, name: str, text: str) -> tuple[Path, str]:
    path = tmp_path / name
    path.write_text(text)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_export("AB", [2] * 6)))
    result = run_cli("scores", "merge", good, path)
    assert result.exit_code == 1
    assert "router (Candidate 7F3A)" in result.stdout  # the good file is still merged
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    return path, errors[0]


def test_a_score_out_of_range_is_located_in_the_json(tmp_path):
    export = _export("CD", [2] * 6)
    export["scores"][1]["score"] = 7
    text = json.dumps(export, indent=2)
    path, error = _bad(tmp_path, "cd.json", text)

    line = next(i for i, t in enumerate(text.splitlines(), 1) if '"score": 7' in t)
    assert error == (f"{path.as_posix()}:{line}:16: error: $.scores[1].score: 7 is greater "
                     "than the maximum of 4")


def test_broken_json_is_located(tmp_path):
    path, error = _bad(tmp_path, "cd.json", '{\n  "reviewer": "CD",\n  "scores": [,]\n}\n')

    assert error == f"{path.as_posix()}:3:14: error: not valid JSON: Expecting value"


def test_a_json_that_is_not_a_score_sheet_says_what_is_missing(tmp_path):
    path, error = _bad(tmp_path, "x.json", '{"reviewer": "CD"}')
    assert error == (f'{path.as_posix()}:1:1: error: not a score sheet export (it has no '
                     '"format": "evidencechain-scores"); export the scores from a project page')

    export = _export("CD", [2] * 6)
    del export["build_id"]
    path, error = _bad(tmp_path, "y.json", json.dumps(export))
    assert error == f"{path.as_posix()}:1:1: error: $: missing required key 'build_id'"


def test_weights_that_do_not_add_up_are_located(tmp_path):
    export = _export("CD", [2] * 6)
    export["scores"][0]["weight"] = 25
    path, error = _bad(tmp_path, "cd.json", json.dumps(export, indent=2))

    assert error == (f"{path.as_posix()}:15:13: error: $.scores: the weights add up to 110; "
                     "they must add up to 100")


def test_a_bad_csv_cell_is_located_at_its_line_and_column(tmp_path):
    text = _csv(_export("EF", [1, 3, 2, 4, 3, 2])).replace('"4","', '"x","', 1)
    path, error = _bad(tmp_path, "ef.csv", text)

    line = text.splitlines()[4]
    col = line.index('"x"') + 1
    assert error == (f"{path.as_posix()}:5:{col}: error: score: 'x' is not a whole number "
                     "from 0 to 4 (leave it empty when not scored)")


def test_a_csv_without_the_columns_says_which_are_missing(tmp_path):
    path, error = _bad(tmp_path, "ef.csv", "name,points\nEF,3\n")

    assert error.startswith(f"{path.as_posix()}:1:1: error: missing column(s) reviewer, "
                            "project, build_id, rubric")


def test_a_sheet_against_another_rubric_is_left_out(tmp_path):
    other = _export("CD", [2] * 6)
    other["scores"][0]["weight"], other["scores"][1]["weight"] = 20, 15
    path, error = _bad(tmp_path, "cd.json", json.dumps(other))

    assert error.startswith(f"{path.as_posix()}:1:1: error: scored against rubric "
                            "'ml-engineering' with other competencies or weights")


def test_an_empty_or_binary_file_is_one_line(tmp_path):
    path, error = _bad(tmp_path, "e.csv", "")
    assert error == (f"{path.as_posix()}:1:1: error: file is empty; expected a score sheet "
                     "export (JSON or CSV)")
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = run_cli("scores", "merge", binary)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{binary.as_posix()}:1:1: error: not UTF-8 text")


def test_initials_in_any_case_are_one_reviewer(tmp_path):
    lower = tmp_path / "old.json"
    lower.write_text(json.dumps(_export(" ab", [3, 4, 2, 3, 2, 1])))  # an older export
    upper = tmp_path / "new.json"
    upper.write_text(json.dumps(_export("AB", [3, 4, 2, 3, 2, 1])))

    result = run_cli("scores", "merge", "--format", "json", lower, upper)

    assert json.loads(result.stdout)["projects"][0]["reviewers"] == ["AB"]
    assert f"same sheet as {lower.as_posix()}; counted once" in result.stderr
