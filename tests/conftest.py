"""Shared fixtures: the CLI as a user runs it, a built example site, and a real browser."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from evidencechain.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SITE = REPO_ROOT / "example_site"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def run_cli(*args: str | Path) -> Result:
    """Run `evidencechain ARGS` in-process, the way a user types it."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A private copy of example_site/ that a test may change (without any built site)."""
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE_SITE, target, ignore=shutil.ignore_patterns("site", ".site.*"))
    return target


@pytest.fixture(scope="session")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """example_site/ built once for the session by the CLI; returns the site folder."""
    out = tmp_path_factory.mktemp("example-build") / "site"
    result = run_cli("build", EXAMPLE_SITE, "-o", out)
    assert result.exit_code == 0, result.output
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site_server(built_example: Path) -> Iterator[str]:
    """The built example site served on 127.0.0.1, as a reviewer's browser would fetch it."""
    handler = functools.partial(_QuietHandler, directory=str(built_example))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright (no downloaded browser builds)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "tests need Debian's chromium (.ci/run installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


MINIMAL_CONFIG = "schema_version: 1\ncandidate:\n  name: Test Candidate\n  headline: I test\n"
MINIMAL_MANIFEST = """schema_version: 1
title: Test project
summary: A project made by a test.
kind: ai-creative
source: side-project
"""


def make_workspace(root: Path, manifest_extra: str = "", files: dict[str, bytes] | None = None,
                   slug: str = "p", config: str = MINIMAL_CONFIG) -> Path:
    """Write a small workspace: config, one project manifest and its files."""
    project = root / "projects" / slug
    project.mkdir(parents=True, exist_ok=True)
    (root / "evidencechain.yml").write_text(config, encoding="utf-8")
    (project / "evidence.yml").write_text(MINIMAL_MANIFEST + manifest_extra, encoding="utf-8")
    for rel, data in (files or {}).items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_bytes(data)
    return root
