"""`check` and `build` verify every asset: verdicts in the report, findings located, strictness."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from conftest import make_workspace, run_cli
from evidencechain.provenance import SigningIdentity, sign_asset
from evidencechain.testca import build_test_ca

AI = "trainedAlgorithmicMedia"


def _jpeg(seed: int) -> bytes:
    image = Image.effect_noise((320, 240), 40 + seed).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


ASSETS = """assets:
  - path: signed.jpg
    role: raw
  - path: tampered.jpg
    role: raw
  - path: unsigned.jpg
    role: reference
  - path: notes.md
    role: reference
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Three JPEGs (one signed, one signed then altered, one unsigned) and a memo."""
    files = {"signed.jpg": _jpeg(1), "tampered.jpg": _jpeg(2), "unsigned.jpg": _jpeg(3),
             "notes.md": b"# notes\n"}
    ws = make_workspace(tmp_path / "ws", ASSETS, files)
    bundle = build_test_ca()
    (ws / "ca.pem").write_bytes(bundle.ca_pem)
    identity = SigningIdentity(bundle.chain_pem, bundle.key_pem)
    project = ws / "projects" / "p"
    for name in ("signed.jpg", "tampered.jpg"):
        sign_asset(project / name, project / name, identity, title=name,
                   digital_source_type=AI, software_agents=["SDXL 1.0"])
    data = bytearray((project / "tampered.jpg").read_bytes())
    data[-200] ^= 0xFF  # flip one byte of image data after signing
    (project / "tampered.jpg").write_bytes(bytes(data))
    return ws


def _trust(ws: Path) -> None:
    config = ws / "evidencechain.yml"
    config.write_text(config.read_text() + "provenance:\n  trust_anchors: [ca.pem]\n")


def test_check_without_anchors_reports_unknown_signer_and_says_so(workspace):
    result = run_cli("check", workspace)

    assert result.exit_code == 0, result.output
    summary = next(line for line in result.output.splitlines() if "assets verified" in line)
    assert summary.split("provenance: ")[1] == (
        "0 of 3 assets verified · 1 AI-generated · 1 signed by an unknown signer · 1 tampered · "
        "1 unsigned · 1 other file(s) that cannot carry credentials")
    assert "No trust anchors configured" in result.output
    assert ("projects/p/evidence.yml:9:11: warning: $.assets[1].path: 'tampered.jpg' "
            "provenance: tampered / invalid:") in result.output


def test_check_with_the_anchor_verifies_the_signed_asset(workspace):
    _trust(workspace)

    result = run_cli("check", "--format", "json", workspace)

    report = json.loads(result.output)
    records = report["projects"][0]["provenance"]
    assert records["signed.jpg"]["verdict"] == "verified"
    assert records["signed.jpg"]["ai_generated"] is True
    assert "SDXL 1.0" in records["signed.jpg"]["software_agents"]
    assert records["tampered.jpg"]["verdict"] == "tampered"
    assert "assertion.dataHash.mismatch" in records["tampered.jpg"]["failure_codes"]
    assert records["unsigned.jpg"]["verdict"] == "no-credentials"
    assert report["trust"]["anchors"] == 1
    assert report["valid"] is True


def test_strict_provenance_turns_findings_into_errors(workspace):
    _trust(workspace)

    result = run_cli("check", "--strict-provenance", workspace)

    assert result.exit_code == 1
    assert "7:11: error: $.assets[0].path" not in result.output  # verified stays fine
    assert "9:11: error: $.assets[1].path: 'tampered.jpg'" in result.output
    assert "11:11: error: $.assets[2].path: 'unsigned.jpg' provenance: no credentials" \
        in result.output
    assert "notes.md" not in result.output  # a memo cannot carry credentials


def test_a_trust_anchor_that_is_not_a_certificate_is_a_located_error(workspace):
    (workspace / "ca.pem").write_text("not a certificate\n")
    _trust(workspace)

    result = run_cli("check", workspace)

    assert result.exit_code == 1
    assert result.output.startswith("evidencechain.yml:6:18: error: $.provenance.trust_anchors:")
    assert "ca.pem" in result.output.splitlines()[0]


def test_the_site_shows_verdicts_and_the_receipt(workspace):
    _trust(workspace)

    result = run_cli("build", workspace)

    assert result.exit_code == 0, result.stderr
    page = (workspace / "site/projects/p/index.html").read_text()
    assert '<span class="ec-badge ec-verdict ec-v-verified">Verified</span>' in page
    assert "ec-v-tampered" in page and "assertion.dataHash.mismatch" in page
    assert "1 of 3 assets verified" in page
    assert "1 trust anchor(s)" in page
    assert "evidencechain verify FILE" in page
