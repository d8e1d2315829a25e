"""Signing a project from its manifest: the plan, copies vs in place, refused identities.

Real c2pa and real files: small Pillow images signed with a test CA written to tmp_path.
The helpers at the top are shared with test_crosscheck.py and test_cli_provenance.py.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from PIL import Image

from conftest import make_workspace
from evidencechain.errors import ProvenanceError, UsageError
from evidencechain.manifest import load_workspace
from evidencechain.model import Project
from evidencechain.provenance import (
    NO_CREDENTIALS,
    UNKNOWN_SIGNER,
    VERIFIED,
    SigningIdentity,
    TrustSettings,
    verify_file,
)
from evidencechain.signing import (
    FAILED,
    SIGNED,
    SKIPPED,
    check_identity,
    plan_signing,
    sign_project,
)
from evidencechain.testca import build_test_ca, make_test_ca

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"

# --------------------------------------------------------------------------- shared helpers


def jpeg(seed: int, size: tuple[int, int] = (96, 64)) -> bytes:
    """A small noisy JPEG, different per seed (noise keeps image data past the headers)."""
    image = Image.effect_noise(size, 30 + seed).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (seed % 256, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def flip_byte(path: Path, offset: int = -200) -> None:
    """Change one byte of image data, as an edit after signing would."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def load_project(root: Path) -> Project:
    result = load_workspace(root)
    assert result.workspace is not None and not result.problems, result.problems
    return result.workspace.projects[0]


def write_ca(folder: Path) -> dict[str, Path]:
    """The deterministic test CA in `folder`: keys "ca", "chain", "key"."""
    return make_test_ca(folder)


def identity_of(ca: dict[str, Path]) -> SigningIdentity:
    return SigningIdentity.from_files(ca["chain"], ca["key"])


def trust_of(ca: dict[str, Path]) -> TrustSettings:
    return TrustSettings.from_files([ca["ca"]])


EXPIRED = build_test_ca(not_before=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
                        not_after=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc))

# A small AI-creative chain: a final declared first, built from two raws and a photo.
CHAIN = """model_card:
  models:
    - name: Stable Diffusion XL
      version: "1.0"
    - name: Real-ESRGAN
assets:
  - path: final.jpg
    role: final
    source_type: compositeWithTrainedAlgorithmicMedia
    models: [Real-ESRGAN]
    derived_from:
      - raw/a.jpg
      - raw/b.jpg
      - photo.jpg
  - path: raw/a.jpg
    role: raw
    models: [Stable Diffusion XL]
  - path: raw/b.jpg
    role: raw
    models: [Stable Diffusion XL]
  - path: photo.jpg
    role: reference
    source_type: digitalCapture
"""
CHAIN_FILES = {"final.jpg": jpeg(1), "raw/a.jpg": jpeg(2), "raw/b.jpg": jpeg(3),
               "photo.jpg": jpeg(4)}


def chain_workspace(root: Path, manifest: str = CHAIN,
                    files: dict[str, bytes] | None = None) -> Path:
    return make_workspace(root, manifest, files or CHAIN_FILES)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> dict[str, Path]:
    return write_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def identity(ca) -> SigningIdentity:
    return identity_of(ca)


@pytest.fixture(scope="module")
def trust(ca) -> TrustSettings:
    return trust_of(ca)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------- plan


def test_plan_signs_sources_before_what_is_derived_from_them(tmp_path):
    project = load_project(chain_workspace(tmp_path))

    jobs = plan_signing(project)

    assert [j.asset_path for j in jobs] == ["raw/a.jpg", "raw/b.jpg", "photo.jpg", "final.jpg"]
    raw, _, photo, final = jobs
    assert raw.digital_source_type == "trainedAlgorithmicMedia"  # raw + models, ai-creative
    assert raw.software_agents == ("Stable Diffusion XL 1.0",)  # version from the model card
    assert raw.title == "a.jpg" and raw.source == project.folder / "raw/a.jpg"
    assert photo.digital_source_type == "digitalCapture"
    assert final.ingredients == ("raw/a.jpg", "raw/b.jpg", "photo.jpg")
    assert final.digital_source_type == "compositeWithTrainedAlgorithmicMedia"
    assert final.software_agents == ("Real-ESRGAN",)
    assert not any(j.skipped for j in jobs)


def test_plan_orders_deep_chains(tmp_path):
    manifest = """assets:
  - {path: c.png, role: final, derived_from: [b.png]}
  - {path: b.png, role: intermediate, derived_from: [a.png]}
  - {path: a.png, role: raw, source_type: digitalCreation}
"""
    files = {"a.png": png(1), "b.png": png(2), "c.png": png(3)}
    project = load_project(make_workspace(tmp_path, manifest, files))
    jobs = plan_signing(project)
    assert [j.asset_path for j in jobs] == ["a.png", "b.png", "c.png"]
    assert jobs[1].digital_source_type is None  # an edit: no source type is claimed


def test_plan_never_guesses_how_a_file_was_made(tmp_path):
    manifest = """model_card:
  models: [{name: GPT Image}]
assets:
  - {path: raw.jpg, role: raw}
  - {path: ref.jpg, role: reference, models: [GPT Image]}
  - {path: notes.md, role: reference, source_type: digitalCreation}
  - {path: chart.png, role: final, derived_from: [data.csv]}
  - {path: data.csv, role: raw}
"""
    files = {"raw.jpg": jpeg(1), "ref.jpg": jpeg(2), "notes.md": b"# notes\n",
             "chart.png": png(1), "data.csv": b"a,b\n1,2\n"}
    project = load_project(make_workspace(tmp_path, manifest, files))

    reasons = {j.asset_path: j.skip_reason for j in plan_signing(project)}

    assert "list its models or add a source_type" in reasons["raw.jpg"]
    assert "add a source_type" in reasons["ref.jpg"]  # models only count for raw assets
    assert reasons["notes.md"] == ".md files cannot carry Content Credentials"
    assert reasons["data.csv"] == ".csv files cannot carry Content Credentials"
    # chart.png's only source cannot be an ingredient, so it needs its own source type
    assert "add a source_type" in reasons["chart.png"]


def test_plan_uses_models_only_in_ai_creative_projects(tmp_path):
    root = chain_workspace(tmp_path)
    evidence = root / "projects/p/evidence.yml"
    evidence.write_text(evidence.read_text().replace("kind: ai-creative", "kind: other"))

    jobs = {j.asset_path: j for j in plan_signing(load_project(root))}

    assert jobs["raw/a.jpg"].skipped and jobs["raw/b.jpg"].skipped
    assert not jobs["final.jpg"].skipped  # it states its own source type


def test_plan_skips_a_derived_from_cycle(tmp_path):
    manifest = """assets:
  - {path: a.png, role: intermediate, derived_from: [b.png]}
  - {path: b.png, role: intermediate, derived_from: [a.png]}
  - {path: c.png, role: raw, source_type: digitalCreation}
"""
    project = load_project(make_workspace(tmp_path, manifest,
                                          {"a.png": png(1), "b.png": png(2), "c.png": png(3)}))
    jobs = {j.asset_path: j for j in plan_signing(project)}
    assert "cycle" in jobs["a.png"].skip_reason and "cycle" in jobs["b.png"].skip_reason
    assert not jobs["c.png"].skipped


# --------------------------------------------------------------------------- sign


def test_sign_writes_copies_and_never_touches_originals(tmp_path, identity, trust):
    root = chain_workspace(tmp_path / "ws")
    project = load_project(root)
    before = _snapshot(root)
    out = tmp_path / "signed"

    outcomes = sign_project(project, identity, out_dir=out, in_place=False, trust=trust)

    assert [(o.asset_path, o.status) for o in outcomes] == [
        ("raw/a.jpg", SIGNED), ("raw/b.jpg", SIGNED), ("photo.jpg", SIGNED), ("final.jpg", SIGNED)]
    assert _snapshot(root) == before
    assert {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} == {
        "final.jpg", "raw/a.jpg", "raw/b.jpg", "photo.jpg"}
    assert all(o.output == out / o.asset_path for o in outcomes)


def test_signed_chain_reads_back_as_declared(tmp_path, identity, trust):
    project = load_project(chain_workspace(tmp_path / "ws"))
    out = tmp_path / "signed"
    sign_project(project, identity, out_dir=out, in_place=False, trust=trust)

    raw = verify_file(out / "raw/a.jpg", trust)
    photo = verify_file(out / "photo.jpg", trust)
    final = verify_file(out / "final.jpg", trust)

    assert raw.verdict == VERIFIED and raw.ai_generated
    assert raw.actions == ("c2pa.created",)
    assert raw.software_agents == ("Stable Diffusion XL 1.0",)
    assert photo.digital_source_types == (IPTC + "digitalCapture",) and not photo.ai_generated
    assert final.verdict == VERIFIED and final.ai_generated
    assert final.actions == ("c2pa.opened", "c2pa.placed", "c2pa.placed", "c2pa.edited")
    parent, *components = final.ingredients
    assert (parent.title, parent.relationship) == ("a.jpg", "parentOf")
    assert {c.relationship for c in components} == {"componentOf"}
    # the ingredients are the signed copies: their manifests are the files' own
    assert parent.active_manifest == raw.active_manifest
    assert components[1].active_manifest == photo.active_manifest
    # validated against the trust anchors at signing: nothing recorded as untrusted
    assert all(i.failure_codes == () for i in final.ingredients)


def test_sign_refuses_to_guess_a_destination(tmp_path, identity):
    project = load_project(chain_workspace(tmp_path / "ws"))
    with pytest.raises(UsageError, match="never overwritten"):
        sign_project(project, identity, out_dir=None, in_place=False)
    with pytest.raises(UsageError, match="not both"):
        sign_project(project, identity, out_dir=tmp_path / "o", in_place=True)


def test_sign_refuses_an_out_dir_that_is_the_project_itself(tmp_path, identity):
    root = chain_workspace(tmp_path / "ws")
    project = load_project(root)
    before = _snapshot(root)
    with pytest.raises(UsageError, match="overwrite the original"):
        sign_project(project, identity, out_dir=project.folder, in_place=False)
    assert _snapshot(root) == before


def test_sign_in_place_replaces_originals_and_is_idempotent(tmp_path, identity, trust):
    root = chain_workspace(tmp_path / "ws")
    project = load_project(root)
    originals = {a.path: project.asset_file(a.path).read_bytes() for a in project.manifest.assets}

    first = sign_project(project, identity, out_dir=None, in_place=True, trust=trust)

    assert {o.status for o in first} == {SIGNED}
    for path, data in originals.items():
        record = verify_file(project.asset_file(path), trust)
        assert record.verdict == VERIFIED, (path, record.detail)
        assert project.asset_file(path).read_bytes() != data
    final = verify_file(project.asset_file("final.jpg"), trust)
    raw = verify_file(project.asset_file("raw/a.jpg"), trust)
    assert final.ingredients[0].active_manifest == raw.active_manifest
    assert not list(project.folder.rglob(".*.tmp"))

    signed = _snapshot(root)
    again = sign_project(project, identity, out_dir=None, in_place=True, trust=trust)
    assert {o.status for o in again} == {SKIPPED}
    assert all("already carries Content Credentials (verified)" in o.detail for o in again)
    assert _snapshot(root) == signed


def test_sign_keeps_going_past_a_file_it_cannot_sign(tmp_path, identity, trust):
    files = {**CHAIN_FILES, "raw/b.jpg": b"not a jpeg at all"}
    project = load_project(chain_workspace(tmp_path / "ws", files=files))

    outcomes = {o.asset_path: o for o in sign_project(project, identity, out_dir=tmp_path / "o",
                                                      in_place=False, trust=trust)}

    assert outcomes["raw/b.jpg"].status == FAILED
    assert "b.jpg" in outcomes["raw/b.jpg"].detail and "\n" not in outcomes["raw/b.jpg"].detail
    assert outcomes["raw/a.jpg"].status == SIGNED
    assert outcomes["photo.jpg"].status == SIGNED
    # signing the final now would link the unsigned raw: it waits for a fixed run
    assert (outcomes["final.jpg"].status, outcomes["final.jpg"].detail) == (
        SKIPPED, "its source 'raw/b.jpg' could not be signed")
    assert not (tmp_path / "o/final.jpg").exists()


def test_refused_certificate_fails_before_touching_anything(tmp_path):
    root = chain_workspace(tmp_path / "ws")
    project = load_project(root)
    before = _snapshot(root)
    expired = SigningIdentity(EXPIRED.chain_pem, EXPIRED.key_pem)
    out = tmp_path / "out"

    with pytest.raises(ProvenanceError) as err:
        sign_project(project, expired, out_dir=out, in_place=False, identity_name="me.pem")

    message = str(err.value)
    assert message.startswith("me.pem: c2pa refuses this certificate or key: ")
    assert "not valid at time of signing" in message and "\n" not in message
    assert not out.exists()
    assert _snapshot(root) == before


def test_check_identity_reports_whether_the_signer_is_trusted(identity, trust):
    assert check_identity(identity, trust=trust).verdict == VERIFIED
    assert check_identity(identity).verdict == UNKNOWN_SIGNER


def test_unsigned_sources_still_become_ingredients(tmp_path, identity, trust):
    manifest = CHAIN.replace("    source_type: digitalCapture\n", "")
    project = load_project(chain_workspace(tmp_path / "ws", manifest))
    out = tmp_path / "o"

    outcomes = {o.asset_path: o.status for o in
                sign_project(project, identity, out_dir=out, in_place=False, trust=trust)}

    assert outcomes["photo.jpg"] == SKIPPED
    assert verify_file(project.asset_file("photo.jpg"), trust).verdict == NO_CREDENTIALS
    final = verify_file(out / "final.jpg", trust)
    photo = final.ingredients[2]
    assert photo.title == "photo.jpg" and not photo.has_provenance
