"""Rubrics: built-in profiles, custom rubric files, located errors, weighted totals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import make_workspace, run_cli
from evidencechain.check import check_workspace
from evidencechain.schema import load_schema
from evidencechain.scoring import (
    DEFAULT_BY_KIND,
    EVIDENCE_TARGETS,
    RUBRIC_SCHEMA,
    RUBRICS_DIR,
    assess,
    builtin_names,
    builtin_rubric,
    load_rubric,
)

CUSTOM = """schema_version: 1
name: studio-review
title: Studio review
pass_threshold: 60
competencies:
  - id: idea
    title: Idea
    weight: 40
    evidence: [brief, problem]
    guide: {"0": none, "1": weak, "2": fair, "3": good, "4": great}
  - id: finish
    title: Finish
    weight: 60
    evidence: [assets, provenance, repo]
    guide: {"0": none, "1": weak, "2": fair, "3": good, "4": great}
"""


def _weights(name: str) -> dict[str, float]:
    return {c.title: c.weight for c in builtin_rubric(name).competencies}


def test_the_built_in_profiles_are_shipped_yaml_files_that_pass_the_rubric_schema():
    assert builtin_names() == ["ai-creative", "ai-portfolio", "ml-engineering"]
    for name in builtin_names():
        path = RUBRICS_DIR / f"{name}.yml"
        rubric, problems = load_rubric(path, Path(path.name))
        assert problems == [], name
        assert rubric.name == name
        assert sum(c.weight for c in rubric.competencies) == 100
        assert all(set(c.guide) == {"0", "1", "2", "3", "4"} for c in rubric.competencies)
        assert all(c.evidence for c in rubric.competencies)
    assert set(DEFAULT_BY_KIND.values()) == set(builtin_names())


def test_the_profiles_weigh_what_the_hiring_brief_asks():
    assert _weights("ml-engineering") == {
        "Problem framing & assumptions": 15, "Data handling & feature pipeline": 20,
        "Modeling choices & metrics": 20, "Reproducibility & code hygiene": 20,
        "Deployment & monitoring readiness": 15, "Ethics & bias mitigation": 10}
    assert builtin_rubric("ml-engineering").pass_threshold == 70
    assert _weights("ai-portfolio") == {
        "Data & preprocessing": 20, "Modeling & optimization": 25,
        "Evaluation & robustness": 25, "Deployment & reproducibility": 20,
        "Communication & docs": 10}
    assert list(_weights("ai-creative")) == [
        "Brief & constraints", "Process & iteration", "Failure handling",
        "Craft between raw and final", "Provenance & licensing", "Communication"]


def test_every_evidence_target_in_the_schema_has_a_page_anchor():
    enum = load_schema(RUBRIC_SCHEMA)["properties"]["competencies"]["items"]["properties"][
        "evidence"]["items"]["enum"]
    assert set(enum) == set(EVIDENCE_TARGETS)


@pytest.mark.parametrize(("scores", "total", "passed"), [
    ({}, 0, None),
    (dict.fromkeys(["problem-framing", "data-pipeline", "modelling-metrics",
                    "reproducibility", "deployment-monitoring", "ethics-bias"], 4), 100, True),
    (dict.fromkeys(["problem-framing", "data-pipeline", "modelling-metrics",
                    "reproducibility", "deployment-monitoring", "ethics-bias"], 2), 50, False),
    # 15*3/4 + 20*4/4 + 20*2/4 + 20*3/4 + 15*2/4 + 10*1/4
    ({"problem-framing": 3, "data-pipeline": 4, "modelling-metrics": 2, "reproducibility": 3,
      "deployment-monitoring": 2, "ethics-bias": 1}, 66.25, False),
    # the four heaviest at 4, the rest at 0: 15 + 20 + 20 + 20
    ({"problem-framing": 4, "data-pipeline": 4, "modelling-metrics": 4, "reproducibility": 4,
      "deployment-monitoring": 0, "ethics-bias": 0}, 75, True),
    ({"problem-framing": 4, "data-pipeline": 4, "modelling-metrics": 4, "reproducibility": 4,
      "deployment-monitoring": None, "ethics-bias": 2}, 80, None),
])
def test_weighted_total_and_pass_mark(scores, total, passed):
    outcome = assess(builtin_rubric("ml-engineering"), scores)

    assert outcome.total == total
    assert outcome.passed is passed
    assert outcome.complete is (passed is not None)


def test_a_total_exactly_at_the_threshold_passes(tmp_path):
    (tmp_path / "r.yml").write_text(CUSTOM)
    rubric, _ = load_rubric(tmp_path / "r.yml", Path("r.yml"))

    assert assess(rubric, {"idea": 0, "finish": 4}).passed is True  # 60 of a 60 threshold
    assert assess(rubric, {"idea": 4, "finish": 1}).total == 55


def test_default_rubric_follows_the_project_kind(tmp_path):
    for kind, expected in DEFAULT_BY_KIND.items():
        ws = make_workspace(tmp_path / kind)
        manifest = ws / "projects" / "p" / "evidence.yml"
        manifest.write_text(manifest.read_text().replace("kind: ai-creative", f"kind: {kind}"))
        checked = check_workspace(ws, verify=False)
        assert checked.projects[0].rubric.name == expected


def test_a_custom_rubric_from_the_workspace_file_and_a_project_override(tmp_path):
    config = "schema_version: 1\ncandidate: {name: T C, headline: h}\nreview:\n  rubric: " \
             "rubrics/studio.yml\n"
    ws = make_workspace(tmp_path / "ws", config=config)
    make_workspace(ws, slug="q", config=config, manifest_extra="rubric: ml-engineering\n")
    (ws / "rubrics").mkdir()
    (ws / "rubrics" / "studio.yml").write_text(CUSTOM)

    checked = check_workspace(ws, verify=False)

    assert checked.errors == 0
    assert {c.project.slug: c.rubric.name for c in checked.projects} == {
        "p": "studio-review", "q": "ml-engineering"}


BAD_RUBRICS = {
    "weights-off": (CUSTOM.replace("weight: 60", "weight: 55"),
                    "rubrics/studio.yml:6:3: error: $.competencies: the weights add up to 95; "
                    "they must add up to 100"),
    "duplicate-id": (CUSTOM.replace("id: finish", "id: idea"),
                     "rubrics/studio.yml:11:9: error: $.competencies[1].id: competency id "
                     "'idea' is used twice (first in competencies[0])"),
    "missing-guide-level": (CUSTOM.replace('"3": good, "4": great}\n', '"4": great}\n', 1),
                            "rubrics/studio.yml:10:12: error: $.competencies[0].guide: "
                            "missing required key '3'"),
    "weight-not-a-number": (CUSTOM.replace("weight: 40", "weight: forty"),
                            "rubrics/studio.yml:8:13: error: $.competencies[0].weight: "
                            "expected a number, got a string"),
    "unknown-key": (CUSTOM.replace("pass_threshold: 60", "pass_threshold: 60\ndescriptoin: x"),
                    "rubrics/studio.yml:5:1: error: $: unknown key 'descriptoin' (did you "
                    "mean 'description'?)"),
    "unknown-evidence": (CUSTOM.replace("[brief, problem]", "[brief, readme]"),
                         "rubrics/studio.yml:9:23: error: $.competencies[0].evidence[1]: "
                         '"readme" is not one of: brief'),
    "bad-yaml": (CUSTOM.replace("title: Idea", "title: [Idea"),
                 "rubrics/studio.yml:"),
}


@pytest.mark.parametrize("case", sorted(BAD_RUBRICS))
def test_bad_rubric_files_get_located_errors(tmp_path, case):
    text, expected = BAD_RUBRICS[case]
    config = "schema_version: 1\ncandidate: {name: T C, headline: h}\nreview:\n  rubric: " \
             "rubrics/studio.yml\n"
    ws = make_workspace(tmp_path / "ws", config=config)
    make_workspace(ws, slug="q", config=config)  # two projects, one rubric: reported once
    (ws / "rubrics").mkdir()
    (ws / "rubrics" / "studio.yml").write_text(text)

    result = run_cli("check", ws)

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("rubrics/")]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(expected), lines[0]
    assert re.match(r"^rubrics/studio\.yml:\d+:\d+: error: ", lines[0])


def test_unknown_built_in_and_missing_file_are_located_where_they_are_named(tmp_path):
    ws = make_workspace(tmp_path / "ws", manifest_extra="rubric: ml-engineer\n")
    make_workspace(ws, slug="q", manifest_extra="rubric: rubrics/nowhere.yml\n")

    result = run_cli("check", ws)

    assert result.exit_code == 1
    assert ("projects/p/evidence.yml:6:9: error: $.rubric: no built-in rubric is called "
            "'ml-engineer' (did you mean 'ml-engineering'?); built in: ai-creative, "
            "ai-portfolio, ml-engineering; or give a rubric .yml file") in result.output
    assert ("projects/q/evidence.yml:6:9: error: $.rubric: rubric file "
            "'rubrics/nowhere.yml' does not exist") in result.output


def test_built_pages_link_each_competency_to_real_section_anchors(built_example):
    for page in sorted(built_example.glob("projects/*/index.html")):
        html = page.read_text(encoding="utf-8")
        sheet = html[html.index('<section class="ec-scoresheet"'):]
        sheet = sheet[:sheet.index("</section>")]
        anchors = re.findall(r'href="#([^"]+)"', sheet)
        assert len(anchors) >= 10, page
        for anchor in set(anchors):
            assert f'id="{anchor}"' in html, f"{page.parent.name}: #{anchor}"
        assert sheet.count("<fieldset") == len(re.findall(r'name="ec-score-[^"]+" value="0"',
                                                          sheet))


def test_the_score_sheet_follows_what_i_learned(built_example):
    html = (built_example / "projects/support-ticket-classifier/index.html").read_text()
    ids = re.findall(r'<h2 id="([^"]+)"', html)

    assert ids[-1] == "score-this-project"
    assert ids.index("what-i-learned") < ids.index("score-this-project")
    assert 'data-rubric="ml-engineering"' in html
    assert re.search(r'data-build-id="[0-9a-f]{12}"', html)
