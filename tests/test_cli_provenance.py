"""`evidencechain sign` and `evidencechain verify`, run the way a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_signing import (
    CHAIN_FILES,
    EXPIRED,
    chain_workspace,
    flip_byte,
    jpeg,
    write_ca,
)

from conftest import make_workspace, run_cli
from evidencechain.cli_provenance import _fails
from evidencechain.provenance import (
    NO_CREDENTIALS,
    TAMPERED,
    UNKNOWN_SIGNER,
    UNREADABLE,
    VERIFIED,
    ProvenanceRecord,
    TrustSettings,
    verify_file,
)

TRUSTED = "Verified — Signed by Evidencechain Test Signer (evidencechain test), a trusted signer"


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> dict[str, Path]:
    return write_ca(tmp_path_factory.mktemp("ca"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _sign_args(ca: dict[str, Path]) -> list[str | Path]:
    return ["--cert", ca["chain"], "--key", ca["key"]]


def _anchored(root: Path, ca: dict[str, Path]) -> Path:
    """Give the workspace the test CA as its trust anchor, as a candidate would."""
    (root / "trust").mkdir(exist_ok=True)
    (root / "trust" / "ca.pem").write_bytes(ca["ca"].read_bytes())
    config = root / "evidencechain.yml"
    config.write_text(config.read_text() + "provenance:\n  trust_anchors: [trust/ca.pem]\n")
    return root


@pytest.fixture
def signed(tmp_path, ca) -> Path:
    """The chain workspace, signed in place through the CLI; returns the project folder."""
    root = _anchored(chain_workspace(tmp_path / "ws"), ca)
    result = run_cli("sign", root, "--in-place", *_sign_args(ca))
    assert result.exit_code == 0, result.output
    return root / "projects" / "p"


# --------------------------------------------------------------------------- sign


def test_sign_out_writes_copies_and_reports_each_asset(tmp_path, ca):
    root = _anchored(chain_workspace(tmp_path / "ws"), ca)
    before = _snapshot(root)
    out = tmp_path / "signed"

    result = run_cli("sign", root, "--out", out, *_sign_args(ca))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "projects/p/raw/a.jpg: signed — trainedAlgorithmicMedia; by Stable Diffusion XL 1.0",
        "projects/p/raw/b.jpg: signed — trainedAlgorithmicMedia; by Stable Diffusion XL 1.0",
        "projects/p/photo.jpg: signed — digitalCapture",
        "projects/p/final.jpg: signed — compositeWithTrainedAlgorithmicMedia; by Real-ESRGAN; "
        "from raw/a.jpg, raw/b.jpg, photo.jpg",
        f"4 signed into {out}, 0 skipped, 0 failed",
    ]
    assert _snapshot(root) == before  # originals untouched
    trust = TrustSettings.from_files([ca["ca"]])
    final = verify_file(out / "projects/p/final.jpg", trust)
    assert final.verdict == VERIFIED
    assert all(i.failure_codes == () for i in final.ingredients)  # anchors used at signing


def test_sign_needs_a_destination(tmp_path, ca):
    root = chain_workspace(tmp_path / "ws")
    before = _snapshot(root)
    for extra in ([], ["--in-place", "--out", tmp_path / "o"]):
        result = run_cli("sign", root, *_sign_args(ca), *extra)
        assert result.exit_code == 2
        assert result.output.startswith("error: give ")
    assert _snapshot(root) == before


def test_sign_in_place_replaces_and_a_rerun_skips(signed, ca):
    trust = TrustSettings.from_files([ca["ca"]])
    assert {verify_file(p, trust).verdict for p in signed.rglob("*.jpg")} == {VERIFIED}

    again = run_cli("sign", signed.parents[1], "--in-place", *_sign_args(ca))

    assert again.exit_code == 0
    assert "projects/p/final.jpg: skipped — already carries Content Credentials (verified)" \
        in again.output
    assert again.output.splitlines()[-1] == "0 signed in place, 4 skipped, 0 failed"


def test_sign_warns_when_the_workspace_does_not_trust_the_signer(tmp_path, ca):
    root = chain_workspace(tmp_path / "ws")
    result = run_cli("sign", root, "--out", tmp_path / "o", *_sign_args(ca))
    assert result.exit_code == 0
    assert "does not chain to the workspace's trust anchors" in result.output


def test_refused_certificate_is_one_line_exit_1_and_touches_nothing(tmp_path):
    root = chain_workspace(tmp_path / "ws")
    cert, key = tmp_path / "expired.pem", tmp_path / "expired.key"
    cert.write_bytes(EXPIRED.chain_pem)
    key.write_bytes(EXPIRED.key_pem)
    before = _snapshot(root)

    result = run_cli("sign", root, "--in-place", "--cert", cert, "--key", key)

    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith(f"error: {cert}: c2pa refuses this certificate or key: ")
    assert "not valid at time of signing" in line
    assert _snapshot(root) == before


def test_sign_prints_workspace_problems_and_exits_1(tmp_path, ca):
    root = make_workspace(tmp_path / "ws", "assets:\n  - path: missing.jpg\n    role: raw\n")
    result = run_cli("sign", root, "--in-place", *_sign_args(ca))
    assert result.exit_code == 1
    assert "$.assets[0].path: file 'missing.jpg' does not exist" in result.output
    assert result.output.splitlines()[-1] == (
        "error: 1 error(s) in the workspace; nothing was signed")


def test_sign_selects_projects_by_slug(tmp_path, ca):
    root = chain_workspace(tmp_path / "ws")
    make_workspace(root, "assets:\n  - {path: x.jpg, role: raw, source_type: digitalCapture}\n",
                   {"x.jpg": jpeg(7)}, slug="q")
    out = tmp_path / "o"

    result = run_cli("sign", root, "--out", out, "--project", "q", *_sign_args(ca))

    assert result.exit_code == 0, result.output
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.jpg")] == ["projects/q/x.jpg"]
    unknown = run_cli("sign", root, "--out", out, "--project", "nope", *_sign_args(ca))
    assert unknown.exit_code == 2 and "no project has slug 'nope'" in unknown.output


def test_sign_exits_1_when_an_asset_fails(tmp_path, ca):
    root = chain_workspace(tmp_path / "ws", files={**CHAIN_FILES, "photo.jpg": b"garbage"})
    result = run_cli("sign", root, "--out", tmp_path / "o", *_sign_args(ca))
    assert result.exit_code == 1
    assert "projects/p/photo.jpg: FAILED — cannot sign photo.jpg: " in result.output
    assert result.output.splitlines()[-1].endswith(", 1 failed")


# --------------------------------------------------------------------------- verify


def test_verify_single_files_with_and_without_trust(signed, ca):
    final = signed / "final.jpg"

    trusted = run_cli("verify", final, "--trust", ca["ca"])
    stranger = run_cli("verify", final)

    assert trusted.exit_code == 0 and stranger.exit_code == 0
    line, note, footer = trusted.output.splitlines()
    assert line.startswith(f"{final}: {TRUSTED}")
    assert note == ("  note: 3 signed ingredient(s) show no failure in this file's credentials, "
                    "but were not checked on their own: their files were not given (verify "
                    "them too, e.g. the whole folder)")
    assert line.endswith("· AI-generated (compositeWithTrainedAlgorithmicMedia) "
                         "· agents: Real-ESRGAN · 3 ingredient(s)")
    assert footer == "1 of 1 files verified · 1 AI-generated: ok"
    assert f"{final}: Signed, unknown signer — " in stranger.output


def test_verify_exit_codes_and_strict(signed, ca):
    raw = signed / "raw" / "a.jpg"
    unsigned = signed.parent / "unsigned.jpg"
    unsigned.write_bytes(jpeg(8))

    assert run_cli("verify", raw, unsigned).exit_code == 0  # reported, not failures
    assert run_cli("verify", "--strict", raw, "--trust", ca["ca"]).exit_code == 0
    assert run_cli("verify", "--strict", raw).exit_code == 1  # unknown signer
    assert run_cli("verify", "--strict", unsigned, "--trust", ca["ca"]).exit_code == 1

    flip_byte(raw)
    tampered = run_cli("verify", raw, "--trust", ca["ca"])
    assert tampered.exit_code == 1
    assert f"{raw}: Tampered / invalid — Validation failed: assertion.dataHash.mismatch" in \
        tampered.output
    assert tampered.output.splitlines()[-1] == "0 of 1 files verified · 1 tampered: 1 failed"


def test_verify_names_a_tampered_ingredient_beside_the_intact_file(signed, ca):
    raw, final = signed / "raw" / "a.jpg", signed / "final.jpg"
    flip_byte(raw)  # tampered after final.jpg was made from it

    alone = run_cli("verify", final, "--trust", ca["ca"])
    both = run_cli("verify", final, raw, "--trust", ca["ca"])
    strict = run_cli("verify", "--strict", final, raw, "--trust", ca["ca"])

    assert alone.exit_code == 0  # its credentials cannot show a change made afterwards
    assert "note: 3 signed ingredient(s) show no failure" in alone.output
    assert both.exit_code == 1  # the raw itself is tampered
    lines = both.output.splitlines()
    assert lines[0].startswith(f"{final}: {TRUSTED}")
    assert lines[1] == (
        f"  warning: ingredient '{raw}' fails verification on its own (tampered / invalid: "
        "Validation failed: assertion.dataHash.mismatch (the content changed after signing)); "
        "this file itself is intact: c2pa does not carry an ingredient's damage into the file "
        "made from it")
    assert lines[2] == ("  note: 2 signed ingredient(s) show no failure in this file's "
                        "credentials, but were not checked on their own: their files were not "
                        "given (verify them too, e.g. the whole folder)")
    assert lines[-1] == ("1 of 2 files verified · 1 AI-generated · 1 tampered · 1 made from an "
                         "ingredient that fails verification: 1 failed")
    assert strict.exit_code == 1


def test_verify_reports_an_ingredient_recorded_invalid_when_used(signed, ca, tmp_path):
    from test_crosscheck import resign_final
    from test_signing import identity_of, load_project, trust_of

    raw = signed / "raw" / "a.jpg"
    good = raw.read_bytes()
    flip_byte(raw)
    project = load_project(signed.parents[1])
    resign_final(project, identity_of(ca), trust_of(ca), ["raw/a.jpg", "raw/b.jpg",
                                                          "photo.jpg"])
    raw.write_bytes(good)  # the raw is fine again; the final recorded what it was given
    final = signed / "final.jpg"

    text = run_cli("verify", final, "--trust", ca["ca"])
    strict = run_cli("verify", "--strict", final, "--trust", ca["ca"])
    report = json.loads(run_cli("verify", "--json", final, "--trust", ca["ca"]).output)

    assert text.exit_code == 0  # the verdict of the file itself is unchanged
    assert text.output.splitlines()[0].startswith(f"{final}: {TRUSTED}")
    assert ("  warning: ingredient 'a.jpg' failed validation when it was used, as its "
            "credentials record (assertion.dataHash.mismatch); this file itself is intact"
            ) in text.output
    assert text.output.splitlines()[-1].endswith(
        "1 made from an ingredient that fails verification: ok")
    assert strict.exit_code == 1
    (record,) = report["records"]
    assert record["verdict"] == VERIFIED and record["fails"] is False and report["ok"] is True
    (issue,) = record["ingredient_issues"]
    assert issue["kind"] == "failed-when-used" and issue["source"] == "a.jpg"
    assert issue["codes"] == ["assertion.dataHash.mismatch"]
    assert report["summary"]["failing_ingredients"] == 1


def test_verify_json_has_the_full_record(signed, ca):
    flip_byte(signed / "raw" / "b.jpg")

    result = run_cli("verify", "--json", signed, "--trust", ca["ca"])

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert set(report) == {"ok", "strict", "summary", "records", "skipped"}
    assert report["ok"] is False and report["strict"] is False
    assert report["summary"]["counts"] == {VERIFIED: 3, UNKNOWN_SIGNER: 0, TAMPERED: 1,
                                           NO_CREDENTIALS: 0, UNREADABLE: 0}
    assert report["skipped"] == [str(signed / "evidence.yml")]
    by_name = {Path(r["path"]).relative_to(signed).as_posix(): r for r in report["records"]}
    assert sorted(by_name) == ["final.jpg", "photo.jpg", "raw/a.jpg", "raw/b.jpg"]
    bad = by_name["raw/b.jpg"]
    assert bad["fails"] is True and bad["verdict"] == TAMPERED
    assert "assertion.dataHash.mismatch" in bad["failure_codes"]
    final = by_name["final.jpg"]
    assert final["verdict_label"] == "Verified" and final["fails"] is False
    assert final["validation_state"] == "Trusted" and final["success_codes"]
    assert [i["relationship"] for i in final["ingredients"]] == [
        "parentOf", "componentOf", "componentOf"]
    assert ProvenanceRecord.from_dict(final).verdict == VERIFIED
    (issue,) = final["ingredient_issues"]  # raw/b.jpg, found among the files verified
    assert issue["source"] == str(signed / "raw" / "b.jpg")
    assert issue["kind"] == "fails-on-its-own" and issue["verdict_label"] == "Tampered / invalid"
    assert final["unchecked_ingredients"] == 0
    assert report["summary"]["failing_ingredients"] == 1


def test_verify_a_built_site_reads_only_its_published_originals(signed, ca, tmp_path):
    notes = signed / "notes.md"
    notes.write_text("# notes\n")
    evidence = signed / "evidence.yml"
    evidence.write_text(evidence.read_text() + "  - path: notes.md\n    role: reference\n")
    site = tmp_path / "site"
    assert run_cli("build", signed.parents[1], "-o", site).exit_code == 0

    result = run_cli("verify", site, "--trust", ca["ca"])

    assert result.exit_code == 0, result.output
    listed = [line.split(":")[0] for line in result.output.splitlines()[:-1]]
    assert listed == [str(site / "projects/p/files" / name)
                      for name in ("final.jpg", "photo.jpg", "raw/a.jpg", "raw/b.jpg")]
    assert result.output.splitlines()[-1] == (
        "4 of 4 files verified · 3 AI-generated (1 other file(s) skipped: formats without "
        "credentials): ok")


def test_verify_needs_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("nothing to see")
    assert run_cli("verify").exit_code == 2
    assert run_cli("verify", tmp_path / "missing.jpg").exit_code == 2
    result = run_cli("verify", empty)
    assert result.exit_code == 2 and "no file that can carry Content Credentials" in result.output


def _record(verdict: str, **fields) -> ProvenanceRecord:
    return ProvenanceRecord(path="x.jpg", sha256="", size=0, verdict=verdict, detail="",
                            **fields)


@pytest.mark.parametrize(
    ("record", "fails", "fails_strict"),
    [
        (_record(VERIFIED), False, False),
        (_record(UNKNOWN_SIGNER), False, True),
        (_record(NO_CREDENTIALS, has_manifest=False), False, True),
        (_record(TAMPERED, has_manifest=True), True, True),
        # credentials present but damaged (c2pa could not decode them): fails
        (_record(UNREADABLE, has_manifest=True, c2pa_error="Decoding: bad"), True, True),
        # c2pa could not even parse the media: cannot vouch for it
        (_record(UNREADABLE, has_manifest=None), True, True),
        # a remote manifest is never fetched (offline): reported, not failed
        (_record(UNREADABLE, has_manifest=True, remote_manifest_url="https://x.example/m"),
         False, True),
        # an empty or non-image file under an image name has no credentials to be invalid
        (_record(UNREADABLE, has_manifest=False), False, True),
    ],
    ids=["verified", "unknown-signer", "no-credentials", "tampered", "damaged-manifest",
         "unparsable", "remote", "empty"],
)
def test_which_verdicts_fail(record, fails, fails_strict):
    assert _fails(record, strict=False) is fails
    assert _fails(record, strict=True) is fails_strict


def test_verify_a_damaged_manifest_fails(signed, ca):
    """Bytes inside the manifest store changed so c2pa can no longer trust or read it."""
    raw = signed / "raw" / "a.jpg"
    data = raw.read_bytes()
    at = data.index(b"c2pa.signature") + 40
    raw.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    record = verify_file(raw, TrustSettings.from_files([ca["ca"]]))
    assert record.verdict in (TAMPERED, UNREADABLE)

    result = run_cli("verify", raw, "--trust", ca["ca"])

    assert result.exit_code == 1, result.output
