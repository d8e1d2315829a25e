"""The build swaps a complete site into place, or leaves the previous one exactly as it was."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

from PIL import Image

from conftest import make_workspace, run_cli
from evidencechain import build
from evidencechain.build import wait_for_deletions


def _png(color=(10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), color).save(buffer, "PNG")
    return buffer.getvalue()


ASSETS = """assets:
  - path: raw.png
    role: raw
  - path: final.png
    role: final
    derived_from: [raw.png]
"""


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _workspace(tmp_path: Path) -> Path:
    files = {"raw.png": _png(), "final.png": _png((1, 2, 3))}
    return make_workspace(tmp_path / "ws", ASSETS, files)


def test_build_writes_pages_and_byte_identical_originals(tmp_path):
    ws = _workspace(tmp_path)

    result = run_cli("build", ws)

    assert result.exit_code == 0, result.output
    site = ws / "site"
    assert f"Open {site / 'index.html'}" in result.output
    for page in ("index.html", "vision.html", "projects/p/index.html"):
        assert (site / page).is_file()
    for name in ("raw.png", "final.png"):
        published = site / "projects/p/files" / name
        assert published.read_bytes() == (ws / "projects/p" / name).read_bytes()
        assert (site / "projects/p/display" / f"{name}.webp").is_file()
    leftovers = [p.name for p in ws.iterdir() if p.name.startswith(".site")]
    assert leftovers == []


def test_a_failed_build_leaves_the_previous_site_intact(tmp_path):
    ws = _workspace(tmp_path)
    assert run_cli("build", ws).exit_code == 0
    before = _snapshot(ws / "site")

    (ws / "projects/p/final.png").write_bytes(b"not a png any more")
    result = run_cli("build", ws)

    assert result.exit_code == 1
    assert "projects/p/evidence.yml:9:11: error: $.assets[1].path: 'final.png' is not a " \
           "readable image" in result.stderr
    assert _snapshot(ws / "site") == before
    assert [p.name for p in ws.iterdir() if p.name.startswith(".site")] == []


def test_a_rebuild_replaces_the_site(tmp_path):
    ws = _workspace(tmp_path)
    assert run_cli("build", ws).exit_code == 0
    manifest = ws / "projects/p/evidence.yml"
    manifest.write_text(manifest.read_text().replace("Test project", "Renamed project"))

    assert run_cli("build", ws).exit_code == 0

    page = (ws / "site/projects/p/index.html").read_text()
    assert "Renamed project" in page
    assert "Test project" not in page


def test_refuses_an_output_folder_with_foreign_files(tmp_path):
    ws = _workspace(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")

    refused = run_cli("build", ws, "-o", out)
    forced = run_cli("build", ws, "-o", out, "--force")

    assert refused.exit_code == 2
    assert "holds files evidencechain did not create" in refused.stderr
    assert forced.exit_code == 0
    assert not (out / "thesis.docx").exists()


def test_refuses_the_workspace_or_its_parent_as_output(tmp_path):
    ws = _workspace(tmp_path)

    itself = "the output folder would contain the workspace itself; choose another folder"
    reasons = {ws: itself,
               tmp_path: itself,
               ws / "projects" / "p" / "site": "the output folder must not be inside projects/"}
    for out, reason in reasons.items():
        for cache in ([], ["--no-cache"]):  # the output's own reason, not the cache's
            result = run_cli("build", ws, "-o", out, *cache)
            assert result.exit_code == 2, out
            assert result.stderr.strip() == f"error: {out.resolve()}: {reason}"
    assert (ws / "projects/p/raw.png").exists()


def test_missing_workspace_is_a_usage_error(tmp_path):
    result = run_cli("build", tmp_path / "nope")

    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope'}: no such folder"


def test_built_pages_load_nothing_from_the_network(tmp_path):
    ws = _workspace(tmp_path)
    assert run_cli("build", ws).exit_code == 0

    for page in (ws / "site").rglob("*.html"):
        html = page.read_text()
        for needle in ("fonts.googleapis", "fonts.gstatic", "cdn.jsdelivr", "unpkg.com",
                       'src="http', "src='http", '<link rel="stylesheet" href="http'):
            assert needle not in html, (page, needle)


def test_a_killed_build_leaves_the_previous_site_and_the_next_build_cleans_up(tmp_path):
    """kill -9 at several moments of a build: the old site survives byte for byte."""
    import signal
    import subprocess
    import sys
    import time

    ws = _workspace(tmp_path)
    assert run_cli("build", ws).exit_code == 0
    before = _snapshot(ws / "site")
    manifest = ws / "projects/p/evidence.yml"
    manifest.write_text(manifest.read_text().replace("Test project", "Changed project"))

    for delay in (0.3, 0.8, 1.3, 1.8):
        proc = subprocess.Popen([sys.executable, "-m", "evidencechain.cli", "build", str(ws)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        site = _snapshot(ws / "site")
        # Either the old site, or (if the build got to its final rename) the whole new one.
        page = (ws / "site/projects/p/index.html").read_text()
        assert site == before or "Changed project" in page

    assert run_cli("build", ws).exit_code == 0
    wait_for_deletions()  # the killed builds' folders and the replaced site: in the background
    assert [p.name for p in ws.iterdir() if p.name.startswith(".site")] == []
    assert "Changed project" in (ws / "site/projects/p/index.html").read_text()


def test_the_replaced_site_is_deleted_after_the_swap_without_waiting_for_it(tmp_path):
    ws = _workspace(tmp_path)
    assert run_cli("build", ws).exit_code == 0
    old_page = ws / "site/projects/p/index.html"
    inode = old_page.stat().st_ino

    assert run_cli("build", ws).exit_code == 0
    wait_for_deletions()

    assert (ws / "site/projects/p/index.html").stat().st_ino != inode  # a new site
    assert [p.name for p in ws.iterdir() if p.name.startswith(".site")] == []


def test_a_half_deleted_scratch_folder_is_removed_never_restored(tmp_path):
    """A deletion killed half-way leaves part of an old site in `.site.build-*`: even with
    the output gone, the next build removes it and builds afresh."""
    ws = _workspace(tmp_path)
    assert run_cli("build", ws).exit_code == 0
    half = ws / ".site.build-killed" / "site"
    (half / "projects/p").mkdir(parents=True)
    (half / "index.html").write_text("half of an old site")
    (half / ".evidencechain-site").write_text("built by evidencechain\n")
    shutil.rmtree(ws / "site")

    assert run_cli("build", ws).exit_code == 0
    wait_for_deletions()

    assert "half of an old site" not in (ws / "site/index.html").read_text()
    assert (ws / "site/projects/p/index.html").is_file()
    assert [p.name for p in ws.iterdir() if p.name.startswith(".site")] == []


def test_without_an_atomic_exchange_the_old_site_is_moved_into_scratch(tmp_path, monkeypatch):
    """Two renames instead of renameat2: the replaced site leaves its `.site.old-*` name
    (which a later build would restore) before it is deleted in the background."""
    ws = _workspace(tmp_path)
    assert run_cli("build", ws).exit_code == 0
    monkeypatch.setattr(build, "_exchange", lambda a, b: False)
    manifest = ws / "projects/p/evidence.yml"
    manifest.write_text(manifest.read_text().replace("Test project", "Renamed project"))

    assert run_cli("build", ws).exit_code == 0
    wait_for_deletions()

    assert "Renamed project" in (ws / "site/projects/p/index.html").read_text()
    assert [p.name for p in ws.iterdir() if p.name.startswith(".site")] == []


def test_the_build_writes_nothing_outside_its_output(tmp_path):
    ws = _workspace(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    before_ws = _snapshot(ws)
    before_parent = sorted(p.name for p in tmp_path.iterdir())

    assert run_cli("build", ws, "--no-cache", "-o", outside / "site").exit_code == 0

    assert _snapshot(ws) == before_ws  # the workspace itself is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == before_parent
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt", "site"]


def test_the_build_cache_is_the_only_other_thing_a_build_writes(tmp_path):
    ws = _workspace(tmp_path)
    cache = tmp_path / "cache"
    before_ws = _snapshot(ws)
    before_parent = sorted(p.name for p in tmp_path.iterdir())

    assert run_cli("build", ws, "--cache-dir", cache, "-o", tmp_path / "site").exit_code == 0
    assert _snapshot(ws) == before_ws
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before_parent, "cache", "site"])

    # By default the cache sits in the workspace, ignored by git, and nothing else appears.
    assert run_cli("build", ws, "-o", tmp_path / "site").exit_code == 0
    added = set(_snapshot(ws)) - set(before_ws)
    assert added and {path.split("/")[0] for path in added} == {".evidencechain-cache"}
    assert (ws / ".evidencechain-cache/.gitignore").read_text().splitlines()[-1] == "*"
