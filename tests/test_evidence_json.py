"""evidence.json: the site's evidence for machines, in the words of check and verify."""

from __future__ import annotations

import json
import re

import jsonschema

from conftest import EXAMPLE_SITE, make_workspace, run_cli
from evidencechain.schema import load_schema

SCHEMA = load_schema("evidence-output.schema.json")


def _evidence(site) -> dict:
    return json.loads((site / "evidence.json").read_text(encoding="utf-8"))


def test_evidence_json_matches_its_schema(built_example):
    data = _evidence(built_example)

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(data, SCHEMA)
    assert data["candidate"]["name"] == "Maya Okafor"
    assert data["alias"] is None and data["build"]["blind"] is False
    assert [p["slug"] for p in data["projects"]] == [
        "brand-campaign-visuals", "support-ticket-classifier", "legible-lettering-study"]


def test_it_holds_what_a_reviewer_checks(built_example):
    projects = {p["slug"]: p for p in _evidence(built_example)["projects"]}
    router = projects["support-ticket-classifier"]
    brand = projects["brand-campaign-visuals"]

    assert router["reproduction"]["ok"] is True
    assert router["reproduction"]["headline"].startswith("reproduced 1 of 1 metrics")
    assert router["rubric"]["name"] == "ml-engineering"
    assert router["success_metrics"][0]["name"].startswith("p95 latency")
    assert {m["name"]: m["commercial_use"] for m in router["models"]}
    verdicts = {a["path"]: a["provenance"]["verdict"] for a in brand["assets"]}
    assert verdicts["assets/raw/v4-flux-schnell-seed-771203.jpg"] == "tampered"
    assert verdicts["assets/reference/halden-packshot-client.jpg"] == "no-credentials"
    assert brand["provenance_summary"]["counts"]["verified"] == 7
    for asset in brand["assets"]:
        assert (built_example / asset["original"]).is_file()
        assert asset["display"] is None or (built_example / asset["display"]).is_file()
    assert brand["provenance_summary"]["text"].startswith("7 of 9 assets verified")
    assert projects["legible-lettering-study"]["reproduction"] is None


def test_check_and_verify_use_the_same_words(built_example):
    evidence = {p["slug"]: p for p in _evidence(built_example)["projects"]}
    check = json.loads(run_cli("check", "--format", "json", EXAMPLE_SITE).output)
    verify = json.loads(run_cli("verify", "--json", built_example / "projects" /
                                "brand-campaign-visuals" / "files").output)

    assert check["trust"]["anchors"] == _evidence(built_example)["receipt"]["trust"]["anchors"]
    assert check["trust"]["digest"] == _evidence(built_example)["receipt"]["trust"]["digest"]
    for project in check["projects"]:
        ours = evidence[project["slug"]]
        assert project["completeness"] == ours["completeness"]
        assert project["missing"] == ours["missing"]
        assert project["provenance_summary"] == ours["provenance_summary"]
        assert project["reproduction"] == ours["reproduction"]
        assert project["rubric"] == ours["rubric"]["name"]
        for asset in ours["assets"]:
            record = project["provenance"][asset["path"]]
            for key, value in asset["provenance"].items():
                assert record[key] == value, (asset["path"], key)
    assert set(verify["summary"]) == set(check["projects"][0]["provenance_summary"])
    assert set(verify["summary"]["counts"]) == set(
        SCHEMA["properties"]["projects"]["items"]["properties"]["provenance_summary"][
            "properties"]["counts"]["properties"])


def test_a_final_made_from_a_tampered_raw_carries_the_issue(built_example):
    brand = next(p for p in _evidence(built_example)["projects"]
                 if p["slug"] == "brand-campaign-visuals")
    assets = {a["path"]: a["provenance"] for a in brand["assets"]}
    final = assets["assets/final/halden-harvest-key-visual-web.jpg"]

    assert final["verdict"] == "verified"  # its own bytes and signature are intact
    (issue,) = final["ingredient_issues"]
    assert issue["source"] == "assets/raw/v4-flux-schnell-seed-771203.jpg"
    assert issue["kind"] == "fails-on-its-own" and issue["direct"] is True
    assert issue["verdict_label"] == "Tampered / invalid"
    assert assets["assets/raw/v4-flux-schnell-seed-771203.jpg"]["ingredient_issues"] == []
    assert brand["provenance_summary"]["failing_ingredients"] == 2  # final and intermediate


def test_the_build_id_is_on_every_page_and_in_the_file(built_example):
    build_id = _evidence(built_example)["build"]["id"]

    for page in built_example.glob("projects/*/index.html"):
        text = page.read_text(encoding="utf-8")
        assert f'data-build-id="{build_id}"' in text
        assert f'<code class="ec-build-id">{build_id}</code>' in text
        assert "@@EVIDENCECHAIN" not in text


def test_the_build_id_is_stable_and_follows_the_content(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    ids = []
    for attempt in range(3):
        if attempt == 2:
            manifest = ws / "projects/p/evidence.yml"
            manifest.write_text(manifest.read_text().replace("made by a test", "made by hand"))
        result = run_cli("build", ws, "-o", tmp_path / "site")
        assert result.exit_code == 0, result.output
        ids.append(re.search(r"^Build ([0-9a-f]{12})$", result.output, re.M).group(1))
        assert _evidence(tmp_path / "site")["build"]["id"] == ids[-1]

    assert ids[0] == ids[1] != ids[2]
