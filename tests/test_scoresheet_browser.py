"""The score sheet in a real Chromium: score, reload, export, and read the export back."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

import axe_playwright_python
import jsonschema
import pytest

from conftest import run_cli
from evidencechain.schema import load_schema
from evidencechain.scoresheet import SCORES_SCHEMA, read_export
from evidencechain.scoring import assess, builtin_rubric

AXE_JS = Path(axe_playwright_python.__file__).with_name("axe.min.js")
PAGE = "projects/support-ticket-classifier/index.html"
SCORES = {"problem-framing": 3, "data-pipeline": 4, "modelling-metrics": 2,
          "reproducibility": 3, "deployment-monitoring": 2, "ethics-bias": 1}


@pytest.fixture
def context(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 900},
                                   accept_downloads=True)
    yield context
    context.close()


def _open(context, url: str):
    page = context.new_page()
    page.problems = []
    # From file://, Material's search cannot load its index: not the score sheet's doing.
    noise = ("search_index", "ERR_FILE_NOT_FOUND")
    page.on("pageerror", lambda e: None if any(n in str(e) for n in noise)
            else page.problems.append(str(e)))
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" and
            not any(n in m.text for n in noise) else None)
    page.goto(url)
    page.wait_for_load_state("load")
    return page


def _score(page, scores: dict[str, int]) -> None:
    for competency, score in scores.items():
        page.locator(f"input[name='ec-score-{competency}'][value='{score}']").check()


def _download(page, kind: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.locator(f"[data-ec-export='{kind}']").click()
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(target)
    return target


def test_score_reload_export_and_read_back(context, site_server, tmp_path):
    page = _open(context, site_server + PAGE)
    page.fill("#ec-score-reviewer", "AB")
    _score(page, SCORES)
    page.fill("#ec-note-reproducibility", 'Ran "run.sh"; 2 commands, all green.')

    expected = assess(builtin_rubric("ml-engineering"), SCORES)
    assert page.locator("[data-ec-total]").inner_text() == f"{expected.total:g}%"
    assert page.locator("[data-ec-verdict]").inner_text() == "fail"  # 66.25 < 70
    assert page.locator("[data-ec-scored]").inner_text() == "6 of 6 competencies scored"

    page.reload()
    page.wait_for_load_state("load")
    assert page.input_value("#ec-score-reviewer") == "AB"
    for competency, score in SCORES.items():
        assert page.locator(f"input[name='ec-score-{competency}'][value='{score}']").is_checked()
    assert page.input_value("#ec-note-reproducibility") == 'Ran "run.sh"; 2 commands, all green.'
    assert page.locator("[data-ec-total]").inner_text() == "66.25%"
    assert "Restored" in page.locator("[data-ec-storage]").inner_text()

    exported = _download(page, "json", tmp_path)
    assert exported.name == "scores-support-ticket-classifier-AB.json"
    data = json.loads(exported.read_text(encoding="utf-8"))
    jsonschema.validate(data, load_schema(SCORES_SCHEMA))
    build_id = page.locator("[data-ec-scoresheet]").get_attribute("data-build-id")
    assert re.fullmatch(r"[0-9a-f]{12}", build_id)
    assert page.locator(".ec-build-id").inner_text() == build_id
    assert (data["reviewer"], data["project"], data["build_id"]) == (
        "AB", "support-ticket-classifier", build_id)
    assert data["site"] == "Maya Okafor · AI work with the receipts"
    assert {s["competency"]: s["score"] for s in data["scores"]} == SCORES
    assert (data["total"], data["complete"], data["passed"]) == (66.25, True, False)
    assert data["scores"][3]["note"] == 'Ran "run.sh"; 2 commands, all green.'

    exported_csv = _download(page, "csv", tmp_path)
    (from_json,), problems = read_export(exported, PurePosixPath(exported.name))
    (from_csv,), csv_problems = read_export(exported_csv, PurePosixPath(exported_csv.name))
    assert problems == csv_problems == []
    assert from_csv.scores == from_json.scores == SCORES
    assert from_csv.build_id == from_json.build_id == build_id
    assert from_csv.competencies == from_json.competencies
    assert page.problems == []


def test_exports_merge_across_reviewers(chromium, site_server, tmp_path):
    files = []
    for reviewer, shift in (("AB", 0), ("CD", 1)):
        context = chromium.new_context(accept_downloads=True)  # another reviewer's browser
        page = _open(context, site_server + PAGE)
        page.fill("#ec-score-reviewer", reviewer)
        _score(page, {k: min(4, v + shift * (2 if k == "ethics-bias" else 0))
                      for k, v in SCORES.items()})
        files.append(_download(page, "json" if reviewer == "AB" else "csv", tmp_path))
        context.close()

    result = run_cli("scores", "merge", *files)

    assert result.exit_code == 0, result.output
    ethics = next(line for line in result.output.splitlines() if "Ethics" in line)
    assert ethics.split()[-7:] == ["1", "3", "2.00", "2", "differ", "by", "2+"]


def test_initials_are_typed_once_for_the_site_and_kept_uppercase(context, site_server,
                                                                 tmp_path):
    page = _open(context, site_server + PAGE)
    field = page.locator("#ec-score-reviewer")
    field.press_sequentially("b.d")
    assert page.input_value("#ec-score-reviewer") == "BD"
    field.press("Home")
    field.press_sequentially("a")  # the caret stays where the reviewer typed
    assert page.input_value("#ec-score-reviewer") == "ABD"
    field.press("Backspace")
    field.press("End")
    field.press("Backspace")
    field.press_sequentially("c")
    assert page.input_value("#ec-score-reviewer") == "BC"

    other = _open(context, site_server + "projects/brand-campaign-visuals/index.html")
    assert other.input_value("#ec-score-reviewer") == "BC"  # not typed again
    other.locator("input[name='ec-score-communication'][value='3']").check()
    exported = _download(other, "json", tmp_path)
    exported_csv = _download(other, "csv", tmp_path)

    assert exported.name == "scores-brand-campaign-visuals-BC.json"
    data = json.loads(exported.read_text(encoding="utf-8"))
    jsonschema.validate(data, load_schema(SCORES_SCHEMA))
    assert data["reviewer"] == "BC"
    (from_csv,), problems = read_export(exported_csv, PurePosixPath(exported_csv.name))
    assert problems == [] and from_csv.reviewer == "BC"
    # Remembered for the site, not for one project: a third page has them too, and the
    # first page's own saved sheet keeps its reviewer.
    third = _open(context, site_server + "projects/legible-lettering-study/index.html")
    assert third.input_value("#ec-score-reviewer") == "BC"
    page.reload()
    page.wait_for_load_state("load")
    assert page.input_value("#ec-score-reviewer") == "BC"
    assert page.problems == other.problems == third.problems == []


def test_export_asks_for_initials_first(context, site_server):
    page = _open(context, site_server + PAGE)
    page.locator("[data-ec-export='json']").click()

    assert "initials" in page.locator("[data-ec-storage]").inner_text()
    assert page.evaluate("document.activeElement.id") == "ec-score-reviewer"


def test_scoring_with_the_keyboard_and_no_serious_accessibility_violations(context,
                                                                           site_server):
    page = _open(context, site_server + PAGE)
    first = page.locator("input[name='ec-score-problem-framing'][value='0']")
    first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")

    assert page.locator("input[name='ec-score-problem-framing'][value='2']").is_checked()
    assert page.locator("[data-ec-total]").inner_text() == "7.5%"
    assert page.locator("[data-ec-verdict]").inner_text() == "incomplete"
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("axe.run(document.querySelector('.ec-scoresheet'), "
                           "{resultTypes: ['violations']})")
    serious = [f"{v['id']}: {v['help']}" for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []
    labels = page.evaluate("[...document.querySelectorAll('.ec-scoresheet input, "
                           ".ec-scoresheet textarea')].filter(e => !e.labels.length).length")
    assert labels == 0


def test_scores_survive_a_reload_from_disk(context, built_example):
    url = (built_example / PAGE).as_uri()
    page = _open(context, url)
    _score(page, {"reproducibility": 4})
    page.reload()
    page.wait_for_load_state("load")

    assert page.url.startswith("file://")
    assert page.locator("input[name='ec-score-reproducibility'][value='4']").is_checked()
    assert page.locator("[data-ec-total]").inner_text() == "20%"
    assert page.problems == []


def test_nothing_is_sent_anywhere(context, site_server, tmp_path):
    requests = []
    page = context.new_page()
    page.on("request", lambda r: requests.append((r.method, r.url)))
    page.goto(site_server + PAGE)
    page.wait_for_load_state("networkidle")
    before = len(requests)
    page.fill("#ec-score-reviewer", "AB")
    _score(page, SCORES)
    _download(page, "json", tmp_path)
    page.wait_for_load_state("networkidle")

    # Scrolling to the sheet may lazy-load images from the site; nothing else is fetched,
    # and nothing is sent.
    after = requests[before:]
    assert [r for r in after if r[0] != "GET" or not r[1].startswith((site_server, "blob:"))
            ] == []
    assert [u for _, u in after if u.startswith(site_server) and "/display/" not in u] == []
