"""Cross-checks of a real signed workspace: declared chain vs signed chain, models, types.

Each test signs the small chain from test_signing.py with the test CA (in place, in
tmp_path), then changes one thing the way a careless or dishonest edit would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_signing import (
    CHAIN,
    CHAIN_FILES,
    chain_workspace,
    flip_byte,
    identity_of,
    jpeg,
    load_project,
    trust_of,
    write_ca,
)

from evidencechain.crosscheck import (
    ProvenanceSummary,
    _generating_agents,
    _normalise,
    _same_model,
    cross_check,
    summarize,
)
from evidencechain.model import Model, Project
from evidencechain.problems import WARNING
from evidencechain.provenance import (
    NO_CREDENTIALS,
    TAMPERED,
    UNKNOWN_SIGNER,
    VERIFIED,
    ProvenanceRecord,
    sign_asset,
    verify_file,
)
from evidencechain.signing import sign_project

AI = "trainedAlgorithmicMedia"


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> dict[str, Path]:
    return write_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def identity(ca):
    return identity_of(ca)


@pytest.fixture(scope="module")
def trust(ca):
    return trust_of(ca)


def records(project: Project, trust) -> dict[str, ProvenanceRecord]:
    return {a.path: verify_file(project.asset_file(a.path), trust)
            for a in project.manifest.assets}


def signed_project(root: Path, identity, trust, manifest: str = CHAIN) -> Project:
    """The chain workspace, every asset signed in place from its manifest."""
    project = load_project(chain_workspace(root, manifest))
    sign_project(project, identity, out_dir=None, in_place=True, trust=trust)
    return project


def line_of(project: Project, text: str) -> int:
    """1-based line of the first line of evidence.yml that ends with `text`."""
    lines = (project.folder / "evidence.yml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.rstrip().endswith(text))


def resign_final(project: Project, identity, trust, ingredients: list[str | Path], **kwargs):
    """Replace final.jpg by a freshly signed copy of its unsigned pixels."""
    src = project.folder.parent / "final-unsigned.jpg"
    src.write_bytes(CHAIN_FILES["final.jpg"])
    paths = [p if isinstance(p, Path) else project.asset_file(p) for p in ingredients]
    kwargs.setdefault("digital_source_type", "compositeWithTrainedAlgorithmicMedia")
    kwargs.setdefault("software_agents", ["Real-ESRGAN"])
    sign_asset(src, project.asset_file("final.jpg"), identity, title="final.jpg",
               ingredients=paths, trust=trust, **kwargs)


# --------------------------------------------------------------------------- chain


def test_a_chain_signed_as_declared_has_no_findings(tmp_path, identity, trust):
    project = signed_project(tmp_path, identity, trust)
    found = records(project, trust)
    assert {r.verdict for r in found.values()} == {VERIFIED}
    assert cross_check(project, found) == []


def test_tampered_raw_is_reported_where_the_final_declares_it(tmp_path, identity, trust):
    project = signed_project(tmp_path, identity, trust)
    flip_byte(project.asset_file("raw/a.jpg"))
    found = records(project, trust)
    assert found["final.jpg"].verdict == VERIFIED  # c2pa: the final alone looks fine

    (problem,) = cross_check(project, found)

    assert problem.level == WARNING
    assert problem.json_path == "$.assets[0].derived_from[0]"
    assert problem.line == line_of(project, "- raw/a.jpg")
    assert problem.file.as_posix() == "projects/p/evidence.yml"
    assert "source 'raw/a.jpg' fails verification on its own (tampered / invalid" in \
        problem.message
    assert "assertion.dataHash.mismatch" in problem.message
    assert "credentials of 'final.jpg'" in problem.message


def test_declared_source_missing_from_the_ingredients(tmp_path, identity, trust):
    project = signed_project(tmp_path, identity, trust)
    resign_final(project, identity, trust, ["raw/a.jpg", "photo.jpg"])

    (problem,) = cross_check(project, records(project, trust))

    assert problem.json_path == "$.assets[0].derived_from[1]"
    assert problem.line == line_of(project, "- raw/b.jpg")
    assert problem.message.startswith(
        "declared source 'raw/b.jpg' is not among the ingredients in the credentials of "
        "'final.jpg'")


def test_ingredient_that_was_never_declared_is_named(tmp_path, identity, trust):
    project = signed_project(tmp_path, identity, trust)
    stray = tmp_path / "stray.jpg"
    sign_asset(_write(tmp_path / "stray-src.jpg", jpeg(9)), stray, identity, title="stray.jpg",
               digital_source_type=AI)
    resign_final(project, identity, trust, ["raw/a.jpg", "raw/b.jpg", "photo.jpg", stray])

    (problem,) = cross_check(project, records(project, trust))

    assert problem.json_path == "$.assets[0].derived_from"
    assert problem.message == ("the credentials of 'final.jpg' list ingredient 'stray.jpg', "
                               "which is not a declared source")


def test_ingredient_that_is_a_declared_asset_gets_a_hint(tmp_path, identity, trust):
    manifest = CHAIN + "  - path: raw/c.jpg\n    role: raw\n    models: [Stable Diffusion XL]\n"
    files = {**CHAIN_FILES, "raw/c.jpg": jpeg(5)}
    project = load_project(chain_workspace(tmp_path, manifest, files))
    sign_project(project, identity, out_dir=None, in_place=True, trust=trust)
    resign_final(project, identity, trust, ["raw/a.jpg", "raw/b.jpg", "photo.jpg", "raw/c.jpg"])

    (problem,) = cross_check(project, records(project, trust))

    assert "list ingredient 'c.jpg', which is not a declared source; it is the declared " \
           "asset 'raw/c.jpg', add it to derived_from" in problem.message


def test_credentials_without_ingredients_are_reported_once(tmp_path, identity, trust):
    project = signed_project(tmp_path, identity, trust)
    resign_final(project, identity, trust, [])

    (problem,) = cross_check(project, records(project, trust))

    assert problem.json_path == "$.assets[0].derived_from"
    assert "list no ingredients, so none of its 3 declared source(s) is shown" in \
        problem.message


def test_unsigned_final_is_said_once_and_unsigned_sources_match_by_name(tmp_path, identity,
                                                                        trust):
    manifest = CHAIN.replace("    source_type: digitalCapture\n", "")  # photo stays unsigned
    project = signed_project(tmp_path, identity, trust, manifest)
    found = records(project, trust)
    assert found["photo.jpg"].verdict == NO_CREDENTIALS
    assert cross_check(project, found) == []  # photo.jpg matched by its file name

    project.asset_file("final.jpg").write_bytes(CHAIN_FILES["final.jpg"])
    problems = cross_check(project, records(project, trust))
    problem, esrgan = sorted(problems, key=lambda p: p.json_path)
    assert esrgan.json_path == "$.model_card.models[1]"  # only the final named Real-ESRGAN
    assert problem.json_path == "$.assets[0].derived_from"
    assert problem.message == ("'final.jpg' has no Content Credentials, so its declared "
                               "sources cannot be confirmed")


def test_ingredient_recorded_invalid_at_signing_time(tmp_path, identity, trust):
    project = signed_project(tmp_path, identity, trust)
    raw = project.asset_file("raw/a.jpg")
    good = raw.read_bytes()
    flip_byte(raw)
    resign_final(project, identity, trust, ["raw/a.jpg", "raw/b.jpg", "photo.jpg"])
    raw.write_bytes(good)  # the raw is fine again, but the final recorded what it was given

    (problem,) = cross_check(project, records(project, trust))

    assert problem.json_path == "$.assets[0].derived_from[0]"
    assert "record that ingredient 'raw/a.jpg' failed validation when it was used" in \
        problem.message
    assert "assertion.dataHash.mismatch" in problem.message


# --------------------------------------------------------------------------- source type


@pytest.mark.parametrize(
    ("asset", "declared", "signed_as", "words"),
    [
        ("photo.jpg", "digitalCapture", AI, "(not generative AI), but its credentials say "
                                            "trainedAlgorithmicMedia (generative AI)"),
        ("raw/b.jpg", AI, "digitalCapture", "(generative AI), but its credentials say "
                                            "digitalCapture (not generative AI)"),
    ],
)
def test_source_type_that_contradicts_the_credentials(tmp_path, identity, trust, asset,
                                                      declared, signed_as, words):
    manifest = CHAIN.replace("  - path: raw/b.jpg\n    role: raw\n",
                             "  - path: raw/b.jpg\n    role: raw\n    source_type: "
                             f"{AI}\n")
    project = signed_project(tmp_path, identity, trust, manifest)
    target = project.asset_file(asset)
    target.write_bytes(CHAIN_FILES[asset])
    sign_asset(target, target, identity, title=target.name, digital_source_type=signed_as)
    found = records(project, trust)

    problems = [p for p in cross_check(project, found) if "source_type" in p.json_path]

    index = [a.path for a in project.manifest.assets].index(asset)
    (problem,) = problems
    assert problem.json_path == f"$.assets[{index}].source_type"
    assert problem.message == f"declared source_type '{declared}' {words}"


# --------------------------------------------------------------------------- models


def test_model_in_credentials_but_not_in_the_model_card(tmp_path, identity, trust):
    project = signed_project(tmp_path, identity, trust)
    raw = project.asset_file("raw/b.jpg")
    raw.write_bytes(CHAIN_FILES["raw/b.jpg"])
    sign_asset(raw, raw, identity, title="b.jpg", digital_source_type=AI,
               software_agents=["Midjourney v6"])
    resign_final(project, identity, trust, ["raw/a.jpg", "raw/b.jpg", "photo.jpg"])

    (problem,) = cross_check(project, records(project, trust))

    assert problem.json_path == "$.assets[2].models"
    assert problem.message == ("the credentials of 'raw/b.jpg' name 'Midjourney v6' as the "
                               "generating software, but model_card.models has no matching "
                               "entry")


def test_model_card_entry_that_no_credential_names(tmp_path, identity, trust):
    manifest = CHAIN.replace("    - name: Real-ESRGAN\n",
                             "    - name: Real-ESRGAN\n    - name: Claude\n")
    project = signed_project(tmp_path, identity, trust, manifest)

    (problem,) = cross_check(project, records(project, trust))

    assert problem.json_path == "$.model_card.models[2]"
    assert problem.line == line_of(project, "- name: Claude")
    assert "model 'Claude' is in the model card, but no asset's credentials name it" in \
        problem.message


def test_unsigned_project_is_not_flooded_with_model_card_findings(tmp_path, trust):
    project = load_project(chain_workspace(tmp_path))  # nothing signed

    problems = cross_check(project, records(project, trust))

    assert [p.json_path for p in problems] == ["$.assets[0].derived_from"]  # unsigned final


def test_name_matching_is_simple_and_explainable():
    assert _normalise("FLUX.1 [schnell]") == "flux1schnell"
    assert _same_model(_normalise("Stable Diffusion XL 1.0"), Model("stable-diffusion-xl"))
    assert _same_model(_normalise("flux"), Model("FLUX.1 [schnell]"))  # one contains the other
    assert not _same_model(_normalise("SDXL 1.0"), Model("Stable Diffusion XL"))


def _record(**fields) -> ProvenanceRecord:
    base = {"path": "x.jpg", "sha256": "", "size": 0, "verdict": VERIFIED, "detail": ""}
    return ProvenanceRecord(**{**base, **fields})


def test_tools_are_not_models():
    firefly = _record(actions=("c2pa.opened", "c2pa.edited"), ai_generated=True,
                      claim_generator="Adobe Photoshop/25.0",
                      software_agents=("Adobe Photoshop", "Adobe Firefly"))
    edit_only = _record(actions=("c2pa.opened", "c2pa.edited"), software_agents=("GIMP 2.10",))
    created = _record(actions=("c2pa.created",), claim_generator="evidencechain/0.1.0",
                      software_agents=("gpt-image-1",))
    tampered = _record(verdict=TAMPERED, actions=("c2pa.created",), software_agents=("x",))

    assert _generating_agents(firefly) == ("Adobe Firefly",)
    assert _generating_agents(edit_only) == ()
    assert _generating_agents(created) == ("gpt-image-1",)
    assert _generating_agents(tampered) == ()  # a broken credential supports nothing


# --------------------------------------------------------------------------- summary


def test_summary_counts_verdicts_and_ai():
    found = [
        *[_record(ai_generated=i < 4) for i in range(6)],
        _record(verdict=NO_CREDENTIALS),
        _record(verdict=TAMPERED, ai_generated=True),  # a broken claim of AI is not counted
    ]
    summary = summarize(found)
    assert summary == ProvenanceSummary(8, {VERIFIED: 6, NO_CREDENTIALS: 1, TAMPERED: 1}, 4)
    assert summary.text == "6 of 8 assets verified · 4 AI-generated · 1 tampered · 1 unsigned"
    assert summarize([_record(verdict=UNKNOWN_SIGNER)]).describe("files") == (
        "0 of 1 files verified · 1 signed by an unknown signer")
    assert summarize([]).text == "no assets"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_final_that_cannot_carry_credentials_is_not_asked_for_them(tmp_path, identity, trust):
    manifest = CHAIN + "  - path: memo.md\n    role: final\n    derived_from: [final.jpg]\n"
    project = load_project(chain_workspace(tmp_path, manifest,
                                           {**CHAIN_FILES, "memo.md": b"# memo\n"}))
    sign_project(project, identity, out_dir=None, in_place=True, trust=trust)

    assert cross_check(project, records(project, trust)) == []


# --------------------------------------------------------------------------- chain issues


def test_chain_issues_follow_ingredients_and_declared_sources(tmp_path, identity, trust):
    from evidencechain.crosscheck import FAILS_ON_ITS_OWN, chain_issues

    project = signed_project(tmp_path, identity, trust)
    flip_byte(project.asset_file("raw/a.jpg"))
    found = records(project, trust)

    (issue,) = chain_issues("final.jpg", found)  # through the signed ingredients alone
    assert (issue.source, issue.kind, issue.direct) == ("raw/a.jpg", FAILS_ON_ITS_OWN, True)
    assert issue.describe().startswith("'raw/a.jpg' fails verification on its own "
                                       "(tampered / invalid: Validation failed:")
    assert chain_issues("raw/a.jpg", found) == []  # its own verdict is not a chain issue
    # A file that only declares final.jpg as its source: the raw is one step further up.
    (upstream,) = chain_issues("poster.jpg", {**found, "poster.jpg": found["photo.jpg"]},
                               {"poster.jpg": ["final.jpg"]})
    assert (upstream.source, upstream.direct, upstream.via) == ("raw/a.jpg", False,
                                                                "final.jpg")


def test_chain_issue_recorded_when_the_ingredient_was_used(tmp_path, identity, trust):
    from evidencechain.crosscheck import FAILED_WHEN_USED, chain_issues

    project = signed_project(tmp_path, identity, trust)
    raw = project.asset_file("raw/a.jpg")
    good = raw.read_bytes()
    flip_byte(raw)
    resign_final(project, identity, trust, ["raw/a.jpg", "raw/b.jpg", "photo.jpg"])
    raw.write_bytes(good)

    (issue,) = chain_issues("final.jpg", records(project, trust))

    assert (issue.source, issue.kind) == ("raw/a.jpg", FAILED_WHEN_USED)
    assert "assertion.dataHash.mismatch" in issue.codes
