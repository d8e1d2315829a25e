"""Builds reuse evidence work from the cache, and only while its inputs are unchanged.

Each test counts what the build result says it looked up (hits and misses by kind of work,
and which items missed); timings belong to bench/run.py, not here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from conftest import MINIMAL_CONFIG, make_workspace, run_cli
from evidencechain import build as build_module
from evidencechain import cache as cache_module
from evidencechain import evidence_json, sanitize, schema, scoring, verification
from evidencechain.build import InvalidWorkspace, build_site
from evidencechain.cache import CACHE_DIR
from evidencechain.provenance import SigningIdentity, TrustSettings, sign_asset
from evidencechain.testca import build_test_ca

AI = "trainedAlgorithmicMedia"
TRUSTED = MINIMAL_CONFIG + "provenance:\n  trust_anchors: [ca.pem]\n"


def _image(fmt: str, seed: int) -> bytes:
    image = Image.effect_noise((160, 120), 30 + seed).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _assets(slug: str) -> str:
    return f"""assets:
  - path: {slug}-raw.png
    role: raw
    source_type: {AI}
  - path: {slug}-final.jpg
    role: final
    source_type: compositeWithTrainedAlgorithmicMedia
    derived_from: [{slug}-raw.png]
  - path: {slug}-ref.jpg
    role: reference
  - path: {slug}-notes.md
    role: reference
"""


PER_PROJECT = 4  # assets per project; 2 signed (raw, final), 1 unsigned image, 1 memo


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """Two projects, each: a signed raw PNG, a final JPEG signed with the raw as its
    ingredient, an unsigned reference JPEG and a memo; the test CA is trusted."""
    bundle = build_test_ca()
    identity = SigningIdentity(bundle.chain_pem, bundle.key_pem)
    root = tmp_path / "ws"
    for seed, slug in enumerate(("a", "b")):
        files = {f"{slug}-raw.png": _image("PNG", seed), f"{slug}-final.jpg": _image("JPEG", seed),
                 f"{slug}-ref.jpg": _image("JPEG", seed + 5),
                 f"{slug}-notes.md": f"# notes on {slug}\n".encode()}
        make_workspace(root, _assets(slug), files, slug=slug, config=TRUSTED)
        folder = root / "projects" / slug
        raw, final = folder / f"{slug}-raw.png", folder / f"{slug}-final.jpg"
        sign_asset(raw, raw, identity, title=raw.name, digital_source_type=AI)
        sign_asset(final, final, identity, title=final.name, digital_source_type=None,
                   ingredients=[raw], trust=TrustSettings(bundle.ca_pem.decode()))
    (root / "ca.pem").write_bytes(bundle.ca_pem)
    return root


def _build(ws: Path, **options):
    return build_site(ws, ws.parent / "out", **options)


def _misses(result) -> dict[str, int]:
    return {kind: n for kind, n in result.cache.misses.items() if n}


def _flip_scan_byte(path: Path) -> None:
    """XOR one byte in the middle of a JPEG's scan data: still decodes, other bytes."""
    data = bytearray(path.read_bytes())
    scan = data.rindex(b"\xff\xda")
    at = scan + (len(data) - scan) // 2
    while data[at] in (0xFF, 0xFE) or data[at - 1] == 0xFF:
        at += 1
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_warm_build_redoes_no_evidence_work(ws):
    cold = _build(ws)
    warm = _build(ws)

    assert sum(cold.cache.hits.values()) == 0
    assert cold.cache.misses["verification"] == 2 * PER_PROJECT
    assert _misses(warm) == {}
    assert warm.cache.hits["verification"] == 2 * PER_PROJECT
    assert warm.cache.hits["display"] == 8  # memos too: "not an image" is kept as well
    assert warm.cache.hits["gap"] == 2  # raw -> final, per project
    assert warm.cache.hits["metadata"] == 6
    assert warm.build_id == cold.build_id
    page = (warm.output / "projects/a/index.html").read_text()
    assert "a-final.jpg" in page


def test_one_changed_byte_redoes_exactly_that_assets_work(ws):
    _build(ws)
    _flip_scan_byte(ws / "projects/a/a-final.jpg")

    result = _build(ws)

    assert _misses(result) == {"verification": 1, "display": 1, "metadata": 1, "gap": 1}
    assert sorted(result.cache.missed) == [
        "display: a/a-final.jpg", "gap: a-raw.png -> a-final.jpg", "metadata: a-final.jpg",
        "verification: a/a-final.jpg"]
    # Never a stale verdict: the changed bytes no longer match their signature.
    assert any("'a-final.jpg' provenance: tampered" in p.message for p in result.problems)


def test_changed_trust_anchors_redo_verification_only(ws):
    _build(ws)
    config = ws / "evidencechain.yml"
    config.write_text(MINIMAL_CONFIG)  # no anchors: every signer becomes unknown

    result = _build(ws)

    # The edited workspace file is validated again, as it must be.
    assert _misses(result) == {"verification": 2 * PER_PROJECT, "schema": 1}
    page = (result.output / "projects/a/index.html").read_text()
    assert "unknown signer" in page.lower()


def test_a_new_c2pa_version_redoes_verification_only(ws, monkeypatch):
    _build(ws)
    monkeypatch.setattr(verification, "c2pa_version", lambda: "c2pa-c-ffi/99.0.0 c2pa-rs/99.0.0")

    result = _build(ws)

    assert _misses(result) == {"verification": 2 * PER_PROJECT}


def test_a_signed_verdict_is_reused_for_a_day_at_most(ws, monkeypatch):
    _build(ws)
    monkeypatch.setattr(verification, "SIGNED_VERDICT_MAX_AGE", dt.timedelta(0))

    result = _build(ws)

    # Certificates are checked against the clock: signed files are verified again; the
    # verdicts on unsigned bytes (a reference image, a memo) cannot age.
    assert _misses(result) == {"verification": 4}
    assert sorted(m for m in result.cache.missed) == [
        "verification: a/a-final.jpg", "verification: a/a-raw.png",
        "verification: b/b-final.jpg", "verification: b/b-raw.png"]


def test_corrupt_or_truncated_cache_files_are_rebuilt_never_trusted(ws):
    cold = _build(ws)
    base = ws / CACHE_DIR / cache_module.LAYOUT
    entry = sorted((base / "verification").rglob("*.json"))[0]
    entry.write_bytes(entry.read_bytes()[:-20])  # truncated
    display = sorted((base / "display").rglob("*.json"))[0]
    data = bytearray(display.read_bytes())
    data[-5] ^= 0x20  # one flipped bit
    display.write_bytes(bytes(data))
    blob = next(p for p in sorted((base / "blobs").rglob("*.thumb.webp"))
                if not p.name.startswith(display.stem))  # another asset's copy
    with open(blob, "r+b") as stream:  # a blob edited in place
        stream.seek(40)
        stream.write(b"\0\0\0\0")

    result = _build(ws)

    assert result.cache.corrupt == 3
    assert _misses(result)["verification"] == 1
    assert _misses(result)["display"] == 2
    assert result.build_id == cold.build_id  # the same site, rebuilt from the bytes
    assert _misses(_build(ws)) == {}


def _git(ws: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Test Candidate", "-c", "user.email=t@example.com",
                    *args], cwd=ws, check=True, capture_output=True)


def test_one_changed_manifest_redoes_only_that_projects_work(ws):
    _git(ws, "init", "-q")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-q", "-m", "evidence")
    cold = _build(ws)
    assert cold.cache.misses["history"] == 2
    manifest = ws / "projects/a/evidence.yml"
    manifest.write_text(manifest.read_text().replace("Test project", "Renamed project"))

    result = _build(ws)

    assert _misses(result) == {"history": 1, "schema": 1}
    assert sorted(result.cache.missed) == ["history: a", "schema: projects/a/evidence.yml"]
    assert "Renamed project" in (result.output / "projects/a/index.html").read_text()

    (ws / "projects/b/b-new.jpg").write_bytes(_image("JPEG", 9))
    manifest = ws / "projects/b/evidence.yml"
    manifest.write_text(manifest.read_text() + "  - path: b-new.jpg\n    role: reference\n")
    result = _build(ws)

    assert sorted(result.cache.missed) == [
        "display: b/b-new.jpg", "history: b", "metadata: b-new.jpg",
        "schema: projects/b/evidence.yml", "verification: b/b-new.jpg"]


def test_a_new_commit_redoes_the_histories(ws):
    _git(ws, "init", "-q")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-q", "-m", "evidence")
    _build(ws)
    (ws / "projects/a/todo.txt").write_text("not an asset\n")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-q", "-m", "a file that is no evidence")

    result = _build(ws)

    assert result.cache.misses["history"] == 2  # the repository moved: both re-read
    assert result.cache.misses["display"] == 0


def test_a_warm_build_links_unchanged_originals_from_the_previous_site(ws, monkeypatch):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0.0)  # the fixture's files are new
    first = _build(ws)
    published = first.output / "projects/a/files/a-raw.png"
    inode = published.stat().st_ino

    second = _build(ws)
    assert (second.output / "projects/a/files/a-raw.png").stat().st_ino == inode

    # A published file changed in place is never reused: the source is copied again.
    with open(second.output / "projects/a/files/a-ref.jpg", "r+b") as stream:
        stream.seek(100)
        stream.write(b"\0")
    third = _build(ws)
    for name in ("a-raw.png", "a-ref.jpg", "a-final.jpg"):
        assert ((third.output / "projects/a/files" / name).read_bytes()
                == (ws / "projects/a" / name).read_bytes())


def _spy_on_the_build_id(monkeypatch) -> list[dict]:
    """Each build's digests passed to `stamp_build`, the staged files' real digests, and
    the id with every file hashed afresh, taken just before the build stamps its pages."""
    calls = []
    real = build_module.stamp_build

    def spy(docs_dir, stage_dir, site_title, volatile=(), known=None):
        files = {p.relative_to(stage_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in stage_dir.rglob("*") if p.is_file()}
        volatile = list(volatile)
        full = evidence_json.compute_build_id(docs_dir, stage_dir, volatile)
        build_id = real(docs_dir, stage_dir, site_title, volatile, known)
        calls.append({"known": dict(known or {}), "files": files, "full": full,
                      "id": build_id})
        return build_id

    monkeypatch.setattr(build_module, "stamp_build", spy)
    return calls


@pytest.mark.parametrize("racy", [True, False])
def test_the_build_id_reuses_known_digests_and_equals_a_full_rehash(ws, monkeypatch, racy):
    if not racy:
        monkeypatch.setattr(cache_module, "RACY_SECONDS", 0.0)  # the fixture's files are new
    big = io.BytesIO()  # larger than a thumbnail, so its two copies differ
    Image.effect_noise((900, 600), 40).convert("RGB").save(big, "JPEG", quality=90)
    (ws / "projects/a/a-ref.jpg").write_bytes(big.getvalue())
    calls = _spy_on_the_build_id(monkeypatch)
    _build(ws)  # cold: originals copied
    _build(ws)  # warm: originals linked from the previous site, copies from the cache
    published = ws.parent / "out/projects/a/files/a-ref.jpg"
    with open(published, "r+b") as stream:  # changed in place: refused, copied again
        stream.seek(100)
        stream.write(b"\0")
    _flip_scan_byte(ws / "projects/b/b-ref.jpg")  # new bytes: new digest, new copies
    _build(ws)

    assert len(calls) == 3
    for call in calls:
        assert call["id"] == call["full"]
        for rel, digest in call["known"].items():
            assert call["files"][rel] == digest, rel
    assets = {rel for rel in calls[1]["files"] if "/files/" in rel or "/display/" in rel}
    assert len(assets) == 2 * (PER_PROJECT + 2 * 3)  # originals, and 2 copies per image
    copies = {rel for rel in assets if "/display/" in rel}
    ref = "projects/a/display/a-ref.jpg"
    assert calls[1]["files"][ref + ".webp"] != calls[1]["files"][ref + ".thumb.webp"]
    # Warm: no asset file is read again (originals just written are not vouched for yet).
    assert set(calls[1]["known"]) == (copies if racy else assets)
    assert calls[2]["id"] != calls[1]["id"]


def _count_renders(monkeypatch) -> list[str]:
    """Every text Markdown is actually run on from now on (memo hits are not counted)."""
    rendered = []
    real = sanitize._render

    def counting(text):
        rendered.append(text)
        return real(text)

    monkeypatch.setattr(sanitize, "_render", counting)
    return rendered


def _pages(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text()
            for p in sorted(out.rglob("index.html"))}


def test_page_prose_is_rendered_once_and_again_only_when_its_text_or_the_code_changes(
        ws, monkeypatch):
    manifest = ws / "projects/a/evidence.yml"
    manifest.write_text(manifest.read_text() + "case_study:\n  problem: Too *slow*.\n"
                        "  learned: \"Cache <script>alert(1)</script> it.\"\n")
    rendered = _count_renders(monkeypatch)
    cold = _build(ws)
    assert "Too *slow*." in rendered and cold.cache.misses[sanitize.MEMO_KIND] == 1
    cold_pages = _pages(cold.output)
    assert "Too <em>slow</em>." in cold_pages["projects/a/index.html"]

    rendered.clear()
    warm = _build(ws)
    assert rendered == []  # every text came from the memo
    assert warm.cache.hits[sanitize.MEMO_KIND] == 1
    assert _pages(warm.output) == cold_pages  # and gave the same pages
    assert "<script>alert" not in cold_pages["projects/a/index.html"]

    manifest.write_text(manifest.read_text().replace("Too *slow*.", "Too **slow**."))
    changed = _build(ws)
    assert rendered == ["Too **slow**."]  # only the edited text
    page = (changed.output / "projects/a/index.html").read_text()
    assert "Too <strong>slow</strong>." in page and "Too <em>slow</em>" not in page

    rendered.clear()
    monkeypatch.setattr(sanitize, "code_version", lambda: "another version")
    _build(ws)  # another renderer: nothing it did not render itself is used
    assert sorted(rendered) == ["Cache <script>alert(1)</script> it.", "Too **slow**."]


def test_the_render_memo_gives_what_rendering_gives(tmp_path):
    texts = ["plain", "*em* and `code`", "| a | b |\n| - | - |\n| 1 | 2 |",
             "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "```\ncode\n```",
             "1. one\n2. two", "caf\u00e9 \u2014 \U0001f600", "", "plain"]
    store = cache_module.Cache(tmp_path / "cache")
    with sanitize.remembered(store):
        first = [sanitize.render(t) for t in texts]
    store = cache_module.Cache(tmp_path / "cache")  # a later build
    with sanitize.remembered(store):
        again = [sanitize.render(t) for t in texts] + [sanitize.render_inline(texts[1])]
    assert store.stats.hits[sanitize.MEMO_KIND] == 1
    assert first == again[:-1] == [sanitize._render(t) for t in texts]
    assert again[-1] == "<em>em</em> and <code>code</code>"
    assert "onerror" not in first[3] and "javascript" not in first[4]


def test_manifests_found_valid_are_not_validated_again_until_their_bytes_change(
        ws, monkeypatch):
    monkeypatch.setattr(scoring, "_builtins", {})  # as in a new process
    cold = _build(ws)
    # The workspace file, two manifests, and the rubric they are scored with.
    assert cold.cache.misses[schema.SCHEMA_KIND] == 4

    def no_validator(name):
        raise AssertionError("validated again")

    monkeypatch.setattr(schema, "_validator", no_validator)
    monkeypatch.setattr(scoring, "_builtins", {})
    warm = _build(ws)
    assert warm.cache.hits[schema.SCHEMA_KIND] == 4
    monkeypatch.undo()

    manifest = ws / "projects/a/evidence.yml"
    manifest.write_text(manifest.read_text().replace("kind: ai-creative", "kind: no-such-kind"))
    with pytest.raises(InvalidWorkspace) as failed:  # new bytes: validated, and refused
        _build(ws)
    assert any("kind" in p.message and p.file.as_posix() == "projects/a/evidence.yml"
               for p in failed.value.problems)
    with pytest.raises(InvalidWorkspace):  # an invalid file is never remembered as valid
        _build(ws)

    manifest.write_text(manifest.read_text().replace("no-such-kind", "ai-creative"))
    assert _misses(_build(ws)) == {}  # the same bytes as before: known valid
    monkeypatch.setattr(schema, "_schema_digest", lambda name: "another schema")
    monkeypatch.setattr(scoring, "_builtins", {})
    assert _misses(_build(ws)) == {schema.SCHEMA_KIND: 4}  # another schema: validated again


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_no_cache_neither_reads_nor_writes_the_cache(ws):
    _build(ws)
    before = _snapshot(ws / CACHE_DIR)

    result = run_cli("build", ws, "-o", ws.parent / "out", "--no-cache")

    assert result.exit_code == 0, result.output
    assert _snapshot(ws / CACHE_DIR) == before


def test_a_cache_dir_elsewhere_leaves_the_workspace_untouched(ws, tmp_path):
    before = _snapshot(ws)
    around = sorted(p.name for p in tmp_path.iterdir())

    result = run_cli("build", ws, "-o", tmp_path / "out", "--cache-dir", tmp_path / "c")

    assert result.exit_code == 0, result.output
    assert _snapshot(ws) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*around, "out", "c"])
    assert (tmp_path / "c" / cache_module.LAYOUT / "verification").is_dir()


def test_a_cache_dir_the_build_would_delete_is_refused(ws, tmp_path):
    inside = run_cli("build", ws, "-o", tmp_path / "out", "--cache-dir", tmp_path / "out/c")
    both = run_cli("build", ws, "--no-cache", "--cache-dir", tmp_path / "c")

    assert inside.exit_code == 2
    assert "must not contain each other" in inside.stderr
    assert both.exit_code == 2


def test_progress_goes_to_stderr_and_the_last_line_stays_open(ws, monkeypatch):
    from evidencechain import cli

    monkeypatch.setattr(cli._Progress, "DELAY", 0.0)  # as if the build were slow
    run_cli("build", ws, "-o", ws.parent / "out")

    result = run_cli("build", ws, "-o", ws.parent / "out")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"Open {ws.parent / 'out' / 'index.html'}"
    assert "provenance: 8 assets (4 + 4 declared in 2 projects), 8 cached," in result.stderr
    # A memo has no display copy:
    assert "display: 8 assets (4 + 4 declared in 2 projects), 6 cached," in result.stderr
    assert "gaps: 2 pairs, 2 cached," in result.stderr  # each final against its raw
    assert "provenance:" not in result.stdout


def test_the_site_does_not_depend_on_the_number_of_workers(ws):
    one = _build(ws, jobs=1, use_cache=False)
    many = _build(ws, jobs=4)

    assert one.build_id == many.build_id
    assert os.listdir(one.output / "projects/b/display") == os.listdir(
        many.output / "projects/b/display")
