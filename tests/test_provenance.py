"""Tests for evidencechain.provenance: real c2pa-python, no mocks, no network.

Two halves: agreement with the third-party conformance set in ../shared/c2pa-conformance,
and round trips through files signed here with a throwaway test CA.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from PIL import Image

from evidencechain import provenance as prov
from evidencechain.errors import ProvenanceError
from evidencechain.provenance import (
    NO_CREDENTIALS,
    TAMPERED,
    UNKNOWN_SIGNER,
    UNREADABLE,
    VERIFIED,
    ProvenanceRecord,
    SigningIdentity,
    TrustSettings,
    sign_asset,
    verify_file,
    verify_files,
)
from evidencechain.testca import build_test_ca, make_test_ca

# CI clones the repository with shared/ beside it: <parent>/main and <parent>/shared.
CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "c2pa-conformance"
C2PA_TEST_SETTINGS = CONFORMANCE / "certs" / "c2pa-python" / "trust_config_test_settings.json"

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"


# --------------------------------------------------------------------------- conformance


def _expected_records() -> list[dict]:
    path = CONFORMANCE / "expected.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


EXPECTED = _expected_records()
# A missing folder must fail (CI has it), so it becomes one failing case, never a skip.
CASES = [(r["file"], anchors) for r in EXPECTED for anchors in (False, True)] or [
    ("<conformance folder missing>", False)
]


def _is_high(record: dict) -> bool:
    # "high", or "high (...); medium (...)": the high part is what the checks below assert.
    return str(record.get("confidence", "")).startswith("high")


def _c2pa_test_trust() -> TrustSettings:
    """The C2PA test roots and EKU list from c2pa-python's test settings, as TrustSettings."""
    trust = json.loads(C2PA_TEST_SETTINGS.read_text(encoding="utf-8"))["trust"]
    # trust_config is one OID per line, with `//` comment lines.
    ekus = [
        line.strip()
        for line in trust.get("trust_config", "").splitlines()
        if line.strip() and not line.strip().startswith("//")
    ]
    return TrustSettings(anchors_pem=trust["trust_anchors"], allowed_ekus=tuple(ekus))


@pytest.fixture(scope="module")
def c2pa_test_trust() -> TrustSettings:
    return _c2pa_test_trust()


def test_conformance_folder_is_complete():
    """Every media file has an expectation and every expectation has its file."""
    assert CONFORMANCE.is_dir(), f"conformance set missing: {CONFORMANCE}"
    files = {p.name for p in (CONFORMANCE / "files").iterdir()}
    assert files == {r["file"] for r in EXPECTED}
    assert sum(_is_high(r) for r in EXPECTED) >= 10


def _expected_verdict(expected: dict, state: str | None) -> str:
    if expected.get("has_manifest") is False:
        return NO_CREDENTIALS
    return {"Trusted": VERIFIED, "Valid": UNKNOWN_SIGNER, "Invalid": TAMPERED}.get(
        state or "", UNREADABLE
    )


def _check_codes(rec: ProvenanceRecord, codes: dict) -> None:
    failures = set(rec.failure_codes)
    if "failure_allowed_only" in codes:
        assert failures <= set(codes["failure_allowed_only"]), rec.failure_codes
    assert set(codes.get("failure_must_include", ())) <= failures, rec.failure_codes
    if "failure_must_include_one_of" in codes:
        assert failures & set(codes["failure_must_include_one_of"]), rec.failure_codes
    assert set(codes.get("success_must_include", ())) <= set(rec.success_codes)
    assert set(codes.get("informational_must_include", ())) <= set(rec.informational_codes)
    ingredient_info = {c for i in rec.ingredients for c in i.informational_codes}
    assert set(codes.get("ingredient_informational", ())) <= ingredient_info


def _check_manifest_presence(rec: ProvenanceRecord, expected: dict) -> None:
    has = expected.get("has_manifest")
    if has is False:
        assert rec.verdict == NO_CREDENTIALS and rec.has_manifest is False
    elif has == "remote only":
        assert rec.verdict == UNREADABLE
        assert "remote manifest, not fetched" in rec.detail
        assert rec.remote_manifest_url == expected["remote_url"]
    elif has is True:
        assert rec.verdict != NO_CREDENTIALS and rec.has_manifest is not False


def _check_content(rec: ProvenanceRecord, expected: dict) -> None:
    if expected.get("hash_ok") is True:
        assert "assertion.dataHash.mismatch" not in rec.failure_codes
    if expected.get("hash_ok") is False:
        assert "assertion.dataHash.mismatch" in rec.failure_codes
    if expected.get("valid_signature") is True:
        assert "claimSignature.mismatch" not in rec.failure_codes
    if expected.get("valid_signature") is False:
        assert rec.verdict in (TAMPERED, UNREADABLE)
    for key in ("ai_generated", "ingredient_count", "manifest_count", "active_manifest"):
        if key in expected:
            actual = len(rec.ingredients) if key == "ingredient_count" else getattr(rec, key)
            assert actual == expected[key], key
    if "digital_source_types" in expected:
        assert list(rec.digital_source_types) == expected["digital_source_types"]


@pytest.mark.parametrize(
    ("name", "anchors"), CASES, ids=[f"{n}-{'anchors' if a else 'no-anchors'}" for n, a in CASES]
)
def test_conformance(name: str, anchors: bool):
    """verify_file agrees with every high-confidence expectation, with and without anchors."""
    assert CONFORMANCE.is_dir(), f"conformance set missing: {CONFORMANCE}"
    record = next(r for r in EXPECTED if r["file"] == name)
    trust = _c2pa_test_trust() if anchors else TrustSettings()
    rec = verify_file(CONFORMANCE / "files" / name, trust)
    assert rec.sha256 == record["sha256"]  # the fixture itself is intact
    assert rec.verdict in prov.VERDICT_LABELS
    if not _is_high(record):
        return  # medium/low: only "reads without raising" is required
    expected = record["expected"]
    state_key = (
        "validation_state_with_c2pa_test_anchors"
        if anchors
        else "validation_state_no_trust_anchors"
    )
    state = expected.get(state_key, expected.get("validation_state", "absent"))
    if state != "absent":
        assert rec.validation_state == state
        assert rec.verdict == _expected_verdict(expected, state), rec.detail
    _check_manifest_presence(rec, expected)
    _check_content(rec, expected)
    _check_codes(rec, expected.get("expected_validation_codes", {}))


def test_cloud_manifest_is_not_fetched_and_fast():
    start = time.monotonic()
    rec = verify_file(CONFORMANCE / "files" / "c2pa-rs_cloud.jpg", TrustSettings())
    assert time.monotonic() - start < 2
    assert rec.verdict == UNREADABLE
    assert "remote manifest" in rec.detail
    assert "must fetch remote manifests" in (rec.c2pa_error or "")


def test_ai_flag_ignores_plain_algorithmic_media():
    """C.jpg says algorithmicMedia (not generative AI); ocsp.jpg says composite with AI."""
    plain = verify_file(CONFORMANCE / "files" / "c2pa-rs_C.jpg", TrustSettings())
    composite = verify_file(CONFORMANCE / "files" / "c2pa-rs_ocsp.jpg", TrustSettings())
    assert plain.digital_source_types == (IPTC + "algorithmicMedia",)
    assert not plain.ai_generated
    assert composite.ai_generated and composite.ai_in_history
    assert "Adobe Firefly" in composite.software_agents


def test_verify_files_keeps_order_and_matches_single_reads(c2pa_test_trust):
    paths = sorted((CONFORMANCE / "files").iterdir())
    many = verify_files(paths, c2pa_test_trust, workers=2)
    assert [r.path for r in many] == [str(p) for p in paths]
    single = [verify_file(p, c2pa_test_trust) for p in paths]
    assert [(r.verdict, r.failure_codes) for r in many] == [
        (r.verdict, r.failure_codes) for r in single
    ]



# --------------------------------------------------------------------------- offline settings


def test_settings_keys_take_effect(monkeypatch):
    """c2pa accepts misspelled keys silently, so flip each one and watch the outcome change."""
    cloud = CONFORMANCE / "files" / "c2pa-rs_cloud.jpg"
    c_jpg = CONFORMANCE / "files" / "c2pa-rs_C.jpg"
    assert (
        "signingCredential.ocsp.skipped" in verify_file(c_jpg, TrustSettings()).informational_codes
    )

    hosts_only = {"verify": {"ocsp_fetch": True}, "core": {"allowed_network_hosts": []}}
    monkeypatch.setattr(prov, "OFFLINE_SETTINGS", hosts_only)
    # Fetching allowed, but no host is: refused by the allow-list, still offline.
    assert "not permitted" in (verify_file(cloud, TrustSettings()).c2pa_error or "")
    # OCSP fetching on, but no host allowed: now "inaccessible" instead of "skipped".
    info = verify_file(c_jpg, TrustSettings()).informational_codes
    assert "signingCredential.ocsp.inaccessible" in info
    assert "signingCredential.ocsp.skipped" not in info


# --------------------------------------------------------------------------- trust settings


def test_trust_from_files_reads_and_hashes(tmp_path):
    paths = make_test_ca(tmp_path)
    trust = TrustSettings.from_files([paths["ca"]])
    assert "BEGIN CERTIFICATE" in trust.anchors_pem
    assert len(trust.digest()) == 64
    assert trust.digest() == TrustSettings.from_files([paths["ca"]]).digest()
    assert trust.digest() != TrustSettings().digest()
    assert trust.digest() != TrustSettings.from_files([paths["ca"]], ("1.2.3",)).digest()


def test_trust_digest_ignores_order_and_layout(c2pa_test_trust):
    blocks = c2pa_test_trust.anchors_pem.split("-----END CERTIFICATE-----")
    certs = [b + "-----END CERTIFICATE-----" for b in blocks if "BEGIN" in b]
    shuffled = "\r\n\r\n".join(reversed(certs))
    reordered = TrustSettings(shuffled, tuple(reversed(c2pa_test_trust.allowed_ekus)))
    assert reordered.digest() == c2pa_test_trust.digest()


def test_trust_from_files_missing_file(tmp_path):
    missing = tmp_path / "nope.pem"
    with pytest.raises(ProvenanceError) as err:
        TrustSettings.from_files([missing])
    assert str(missing) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content", ["not a certificate\n", "", "-----BEGIN CERTIFICATE-----\n"])
def test_trust_from_files_rejects_non_certificates(tmp_path, content):
    bad = tmp_path / "bad.pem"
    bad.write_text(content)
    with pytest.raises(ProvenanceError, match="bad.pem"):
        TrustSettings.from_files([bad])


def test_trust_from_files_rejects_a_private_key(tmp_path):
    paths = make_test_ca(tmp_path)
    with pytest.raises(ProvenanceError, match="signer.key"):
        TrustSettings.from_files([paths["ca"], paths["key"]])


def test_trust_rejects_bad_eku():
    with pytest.raises(ProvenanceError, match="dotted OID"):
        TrustSettings(allowed_ekus=("emailProtection",))


# --------------------------------------------------------------------------- test CA


def test_make_test_ca_is_deterministic(tmp_path):
    first = make_test_ca(tmp_path / "a")
    second = make_test_ca(tmp_path / "b")
    for key in ("ca", "chain", "key"):
        assert first[key].read_bytes() == second[key].read_bytes(), key
    chain = x509.load_pem_x509_certificates(first["chain"].read_bytes())
    assert [c.subject.rfc4514_string() for c in chain] == [
        "CN=Evidencechain Test Signer,O=evidencechain test",
        "CN=Evidencechain Test Root CA,O=evidencechain test",
    ]


def test_make_test_ca_script(tmp_path):
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_test_ca.py"
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], check=False)
    assert done.returncode == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["ca.pem", "signer-chain.pem", "signer.key"]
    assert (tmp_path / "out" / "ca.pem").read_bytes() == build_test_ca().ca_pem


# --------------------------------------------------------------------------- round trips


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> dict[str, Path]:
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def identity(ca) -> SigningIdentity:
    return SigningIdentity.from_files(ca["chain"], ca["key"])


@pytest.fixture(scope="module")
def anchored(ca) -> TrustSettings:
    return TrustSettings.from_files([ca["ca"]])


def _image(path: Path, color=(200, 40, 40), size=(64, 48), noise: bool = False) -> Path:
    img = Image.effect_noise(size, 60).convert("RGB") if noise else Image.new("RGB", size, color)
    img.save(path)
    return path


def _signed(tmp_path: Path, identity, name="art.jpg", noise=False, **kwargs) -> Path:
    src = (
        _image(tmp_path / f"src-{name}", size=(128, 96), noise=True)
        if noise
        else (_image(tmp_path / f"src-{name}"))
    )
    dst = tmp_path / name
    kwargs.setdefault("digital_source_type", "trainedAlgorithmicMedia")
    sign_asset(src, dst, identity, title=name, **kwargs)
    return dst


@pytest.mark.parametrize("name", ["art.jpg", "art.png"])
def test_sign_then_verify(tmp_path, identity, anchored, name):
    dst = _signed(tmp_path, identity, name, software_agents=["gpt-image-1"])
    rec = verify_file(dst, anchored)
    assert rec.verdict == VERIFIED, rec.detail
    assert rec.verdict_label == "Verified"
    assert rec.validation_state == "Trusted" and rec.failure_codes == ()
    assert rec.ai_generated and rec.ai_in_history
    assert rec.software_agents == ("gpt-image-1",)
    assert rec.actions == ("c2pa.created",)
    assert rec.digital_source_types == (IPTC + "trainedAlgorithmicMedia",)
    assert rec.signer_common_name == "Evidencechain Test Signer"
    assert rec.signer_issuer == "evidencechain test"
    assert rec.signature_alg == "ES256"
    assert rec.claim_generator == "evidencechain/0.1.0"
    assert rec.title == name and rec.manifest_count == 1
    assert rec.trust_digest == anchored.digest()
    assert rec.verified_at.endswith("Z")

    stranger = verify_file(dst, TrustSettings())
    assert stranger.verdict == UNKNOWN_SIGNER
    assert stranger.verdict_label == "Signed, unknown signer"
    assert stranger.failure_codes == ("signingCredential.untrusted",)


def test_record_to_dict_is_json_and_round_trips(tmp_path, identity, anchored):
    rec = verify_file(_signed(tmp_path, identity), anchored)
    data = json.loads(json.dumps(rec.to_dict()))
    assert data["verdict_label"] == "Verified"
    assert data["software_agents"] == [] and data["actions"] == ["c2pa.created"]
    assert ProvenanceRecord.from_dict(data) == rec


@pytest.mark.parametrize(
    ("source_type", "ai"),
    [
        ("compositeWithTrainedAlgorithmicMedia", True),
        (IPTC + "trainedAlgorithmicMedia", True),
        ("algorithmicMedia", False),
        ("digitalCreation", False),
    ],
)
def test_ai_generated_flag(tmp_path, identity, anchored, source_type, ai):
    rec = verify_file(_signed(tmp_path, identity, digital_source_type=source_type), anchored)
    assert rec.ai_generated is ai


def test_several_software_agents_read_back(tmp_path, identity, anchored):
    agents = ["gpt-image-1", "claude-sonnet", "photoshop"]
    rec = verify_file(_signed(tmp_path, identity, software_agents=agents), anchored)
    assert rec.verdict == VERIFIED and rec.software_agents == tuple(agents)


def test_thumbnails_are_off(tmp_path, identity):
    """A noisy image would gain hundreds of KB with a manifest thumbnail."""
    src = _image(tmp_path / "noise.jpg", size=(512, 512), noise=True)
    dst = tmp_path / "signed.jpg"
    sign_asset(src, dst, identity, title="noise", digital_source_type="digitalCreation")
    assert dst.stat().st_size - src.stat().st_size < 20_000


def test_raw_to_final_with_ingredients(tmp_path, identity, anchored):
    raw = _signed(tmp_path, identity, "raw.jpg", software_agents=["gpt-image-1"])
    second = _signed(tmp_path, identity, "second.png")
    unsigned = _image(tmp_path / "photo.jpg", color=(1, 2, 3))
    final = tmp_path / "final.jpg"
    sign_asset(
        _image(tmp_path / "edit.jpg"),
        final,
        identity,
        title="final.jpg",
        digital_source_type=None,
        software_agents=["photoshop"],
        ingredients=[raw, second, unsigned],
        trust=anchored,  # ingredients are validated (and their results stored) at signing
    )
    rec = verify_file(final, anchored)
    assert rec.verdict == VERIFIED, rec.detail
    assert rec.actions == ("c2pa.opened", "c2pa.placed", "c2pa.placed", "c2pa.edited")
    assert not rec.ai_generated and rec.ai_in_history
    assert rec.software_agents == ("photoshop",)
    parent, component, plain = rec.ingredients
    assert (parent.title, parent.relationship) == ("raw.jpg", "parentOf")
    assert parent.active_manifest == verify_file(raw, anchored).active_manifest
    assert component.active_manifest == verify_file(second, anchored).active_manifest
    assert component.relationship == "componentOf"
    assert parent.has_provenance and parent.failure_codes == ()
    assert not plain.has_provenance and plain.active_manifest is None
    assert "ingredient.unknownProvenance" in plain.informational_codes


def test_tampered_ingredient_shows_only_on_the_ingredient(tmp_path, identity, anchored):
    raw = _signed(tmp_path, identity, "raw.jpg")
    _flip_byte(raw, -20)
    final = tmp_path / "final.jpg"
    src = _image(tmp_path / "edit.jpg")
    sign_asset(src, final, identity, title="f", digital_source_type=None, ingredients=[raw])
    rec = verify_file(final, anchored)
    assert rec.verdict == VERIFIED  # c2pa: ingredient damage does not change the final's state
    assert "assertion.dataHash.mismatch" in rec.ingredients[0].failure_codes
    assert verify_file(raw, anchored).verdict == TAMPERED  # hence: verify every raw on its own


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _patch_after(path: Path, needle: bytes) -> None:
    data = path.read_bytes()
    at = data.index(needle) + 2
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])


@pytest.mark.parametrize(
    ("damage", "verdicts", "code"),
    [
        (lambda p: _flip_byte(p, -20), {TAMPERED}, "assertion.dataHash.mismatch"),
        (
            lambda p: p.write_bytes(p.read_bytes() + b"extra"),
            {TAMPERED},
            "assertion.dataHash.mismatch",
        ),
        (lambda p: p.write_bytes(p.read_bytes()[:-100]), {TAMPERED}, "assertion.dataHash.mismatch"),
        (lambda p: _patch_after(p, b"gpt-image-1"), {TAMPERED}, "assertion.hashedURI.mismatch"),
        (lambda p: _patch_after(p, b"evidencechain"), {TAMPERED}, "claimSignature.mismatch"),
        (lambda p: _patch_after(p, b"c2pa.signature"), {TAMPERED, UNREADABLE}, None),
        (lambda p: _patch_after(p, b"jumb"), {TAMPERED, UNREADABLE}, None),
        (lambda p: _patch_after(p, b"c2cl"), {TAMPERED, UNREADABLE}, None),
    ],
    ids=[
        "pixels",
        "appended",
        "truncated",
        "assertion",
        "claim",
        "signature-box",
        "jumbf-header",
        "claim-box",
    ],
)
def test_tampering_is_caught(tmp_path, identity, anchored, damage, verdicts, code):
    # A noisy image, so cutting its tail hits image data, not JPEG headers.
    path = _signed(tmp_path, identity, noise=True, software_agents=["gpt-image-1"])
    damage(path)
    rec = verify_file(path, anchored)
    assert rec.verdict in verdicts, rec.detail
    if code:
        assert code in rec.failure_codes
        assert code in rec.detail
    assert "\n" not in rec.detail


def test_unsigned_file_has_no_credentials(tmp_path, anchored):
    rec = verify_file(_image(tmp_path / "plain.png"), anchored)
    assert rec.verdict == NO_CREDENTIALS and rec.verdict_label == "No credentials"
    assert rec.has_manifest is False and len(rec.sha256) == 64


@pytest.mark.parametrize(
    ("name", "content", "verdict", "words"),
    [
        ("text.jpg", b"hello, not a jpeg", UNREADABLE, "not a readable JPG"),
        ("empty.jpg", b"", UNREADABLE, "empty"),
        ("notes.md", b"# notes\n", NO_CREDENTIALS, "cannot carry"),
        ("table.csv", b"a,b\n1,2\n", NO_CREDENTIALS, "cannot carry"),
        ("run.ipynb", b'{"cells": []}', NO_CREDENTIALS, "cannot carry"),
        ("noext", b"plain words", NO_CREDENTIALS, "cannot carry"),
    ],
)
def test_odd_files_never_raise(tmp_path, anchored, name, content, verdict, words):
    path = tmp_path / name
    path.write_bytes(content)
    rec = verify_file(path, anchored)
    assert rec.verdict == verdict and words in rec.detail


def test_bmp_cannot_carry_credentials(tmp_path, anchored):
    rec = verify_file(_image(tmp_path / "pic.bmp"), anchored)
    assert rec.verdict == NO_CREDENTIALS and "cannot carry" in rec.detail


def test_missing_file_and_directory_are_unreadable(tmp_path, anchored):
    missing = verify_file(tmp_path / "gone.jpg", anchored)
    assert missing.verdict == UNREADABLE and missing.sha256 == "" and "not exist" in missing.detail
    folder = verify_file(tmp_path, anchored)
    assert folder.verdict == UNREADABLE and folder.verdict_label == "Unreadable"


def test_sha256_matches_file_bytes(tmp_path, identity, anchored):
    path = _signed(tmp_path, identity)
    rec = verify_file(path, anchored)
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec.size == path.stat().st_size


# --------------------------------------------------------------------------- signing rules


def test_sign_never_touches_the_source(tmp_path, identity):
    src = _image(tmp_path / "src.jpg")
    before = src.read_bytes()
    sign_asset(
        src,
        tmp_path / "out" / "dst.jpg",
        identity,
        title="t",
        digital_source_type="digitalCreation",
    )
    assert src.read_bytes() == before
    assert (tmp_path / "out" / "dst.jpg").stat().st_mode == src.stat().st_mode


def test_sign_in_place_only_when_asked(tmp_path, identity, anchored):
    src = _image(tmp_path / "src.jpg")
    sign_asset(src, src, identity, title="t", digital_source_type="digitalCreation")
    assert verify_file(src, anchored).verdict == VERIFIED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.jpg"]  # no temp file left


def test_failed_sign_keeps_old_destination(tmp_path, identity):
    src = _image(tmp_path / "src.jpg")
    dst = tmp_path / "dst.jpg"
    dst.write_bytes(b"old")
    with pytest.raises(ProvenanceError):
        sign_asset(src, dst, identity, title="t", digital_source_type=None)
    bad = SigningIdentity(identity.chain_pem, _other_key_pem())
    with pytest.raises(ProvenanceError):
        sign_asset(src, dst, bad, title="t", digital_source_type="digitalCreation")
    assert dst.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst.jpg", "src.jpg"]


def _other_key_pem() -> bytes:
    key = ec.derive_private_key(424242, ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _identity(**variant) -> SigningIdentity:
    bundle = build_test_ca(**variant)
    return SigningIdentity(bundle.chain_pem, bundle.key_pem)


EXPIRED = {
    "not_before": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    "not_after": dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc),
}


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        (EXPIRED, "not valid at time of signing"),
        ({"ekus": (ExtendedKeyUsageOID.SERVER_AUTH,)}, "certificate is invalid"),
        ({"ekus": ()}, "certificate is invalid"),
    ],
    ids=["expired", "server-auth-only", "no-eku"],
)
def test_sign_refuses_bad_certificates(tmp_path, variant, reason):
    src = _image(tmp_path / "src.jpg")
    with pytest.raises(ProvenanceError) as err:
        sign_asset(
            src,
            tmp_path / "dst.jpg",
            _identity(**variant),
            title="t",
            digital_source_type="digitalCreation",
        )
    message = str(err.value)
    assert reason in message and "\n" not in message and "src.jpg" in message
    assert not (tmp_path / "dst.jpg").exists()


def test_sign_refuses_a_key_that_does_not_match(tmp_path, identity):
    bad = SigningIdentity(identity.chain_pem, _other_key_pem())
    with pytest.raises(ProvenanceError, match="signature does not match"):
        sign_asset(
            _image(tmp_path / "s.jpg"),
            tmp_path / "d.jpg",
            bad,
            title="t",
            digital_source_type="digitalCreation",
        )


def test_sign_refuses_formats_without_credentials(tmp_path, identity):
    src = tmp_path / "notes.md"
    src.write_text("# hi\n")
    with pytest.raises(ProvenanceError, match="cannot carry"):
        sign_asset(src, tmp_path / "out.md", identity, title="t", digital_source_type="x")


def test_sign_needs_a_source_type_without_ingredients(tmp_path, identity):
    with pytest.raises(ProvenanceError, match="digital source type"):
        sign_asset(
            _image(tmp_path / "s.jpg"),
            tmp_path / "d.jpg",
            identity,
            title="t",
            digital_source_type=None,
        )


def test_document_signing_eku_needs_allowed_ekus(tmp_path):
    """trust_config is a silent-typo risk: prove the EKU list reaches c2pa both ways."""
    doc = x509.ObjectIdentifier(DOCUMENT_SIGNING)
    bundle = build_test_ca(ekus=(doc,))
    ident = SigningIdentity(bundle.chain_pem, bundle.key_pem)
    src = _image(tmp_path / "s.jpg")
    with pytest.raises(ProvenanceError, match="EKU"):
        sign_asset(src, tmp_path / "d.jpg", ident, title="t", digital_source_type="digitalCreation")
    anchors = bundle.ca_pem.decode()
    sign_asset(
        src,
        tmp_path / "d.jpg",
        ident,
        title="t",
        digital_source_type="digitalCreation",
        trust=TrustSettings(allowed_ekus=(DOCUMENT_SIGNING,)),
    )
    allowed = verify_file(tmp_path / "d.jpg", TrustSettings(anchors, (DOCUMENT_SIGNING,)))
    assert allowed.verdict == VERIFIED
    refused = verify_file(tmp_path / "d.jpg", TrustSettings(anchors))
    assert refused.verdict == TAMPERED and "signingCredential.invalid" in refused.failure_codes


def test_signing_identity_from_files_errors(tmp_path, ca):
    with pytest.raises(ProvenanceError, match="not found"):
        SigningIdentity.from_files(tmp_path / "none.pem", ca["key"])
    text = tmp_path / "text.pem"
    text.write_text("hello")
    with pytest.raises(ProvenanceError, match="not PEM"):
        SigningIdentity.from_files(ca["chain"], text)
    with pytest.raises(ProvenanceError, match="no valid PEM certificate"):
        SigningIdentity.from_files(ca["key"], ca["key"])
    assert SigningIdentity.from_files(ca["chain"], ca["key"]).alg == "es256"


def _verdict_in_child(path: str, trust: TrustSettings) -> str:
    return verify_file(Path(path), trust).verdict


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_reading_works_in_a_forked_child(tmp_path, identity, anchored):
    """A Context made before fork() is invalid in the child: the cache must not hand it over."""
    path = _signed(tmp_path, identity)
    assert verify_file(path, anchored).verdict == VERIFIED  # parent builds and caches one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        with multiprocessing.get_context("fork").Pool(1) as pool:
            assert pool.apply(_verdict_in_child, (str(path), anchored)) == VERIFIED
