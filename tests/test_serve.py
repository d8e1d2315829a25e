"""`evidencechain serve`: started as a user starts it, changed under it, fetched over HTTP.

Every wait is bounded and the server is always stopped, even when an assertion fails.
"""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import make_workspace, run_cli
from evidencechain.serve import run_preview, snapshot

PAGE = "projects/p/index.html"
TIMEOUT = 60


class Server:
    """A `serve` subprocess whose output lines are collected by a reader thread."""

    def __init__(self, *args: str | Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evidencechain.cli", "serve", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match:
        """The first new output line matching `pattern`, within TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None, f"serve exited: {self.seen}"
                continue
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r} in {self.seen}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=10)  # EOF once the process is gone
        self.proc.stdout.close()
        return self.proc.returncode


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def fetch_until(url: str, text: str) -> str:
    """Fetch `url` until it contains `text` (a rebuild is in flight), within TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    body = ""
    while time.monotonic() < deadline:
        try:
            body = fetch(url)
        except (urllib.error.URLError, ConnectionError):
            body = ""
        if text in body:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} never showed {text!r}")


def test_serve_rebuilds_on_change_and_keeps_the_last_good_site(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    manifest = ws / "projects" / "p" / "evidence.yml"
    server = Server(ws, "--port", "0")
    try:
        found = server.wait_for(r"Serving (http://127\.0\.0\.1:(\d+)/) \(building into (.+)\)")
        url, build_dir = found.group(1), Path(found.group(3))
        assert int(found.group(2)) > 0
        assert "Test project" in fetch(url + PAGE)
        assert not build_dir.is_relative_to(ws)

        manifest.write_text(manifest.read_text().replace("Test project", "Renamed project"))
        server.wait_for(r"^Changed: projects/p/evidence\.yml; rebuilding")
        assert "Renamed project" in fetch_until(url + PAGE, "Renamed project")

        manifest.write_text(manifest.read_text().replace("kind: ai-creative", "kind: ai-creativ"))
        server.wait_for(r"projects/p/evidence\.yml:\d+:\d+: error: \$\.kind")
        server.wait_for(r"error: 1 error\(s\) in the workspace; .*still serving the last good site")
        assert "Renamed project" in fetch(url + PAGE)
    finally:
        code = server.stop()
    assert code == 0, server.seen
    assert not build_dir.exists()  # the temporary build folder is removed
    assert not (ws / "site").exists()


def test_serve_with_an_output_folder_keeps_it(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / "preview"
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=run_preview, args=(ws, 0, out, lines.append, stop))
    thread.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while not any(line.startswith("Serving") for line in lines):
            assert time.monotonic() < deadline and thread.is_alive(), lines
            time.sleep(0.1)
        url = re.search(r"http://\S+/", next(ln for ln in lines if ln.startswith("Serving")))
        assert url and "Test project" in fetch(url.group(0) + PAGE)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert (out / PAGE).is_file()


def test_a_port_in_use_is_a_usage_error(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_cli("serve", ws, "--port", port)

    assert result.exit_code == 2
    assert f"error: port {port} is in use; pick another with --port" in result.output
    assert "Built" not in result.output  # refused before building, not after


def test_a_workspace_that_does_not_exist_is_a_usage_error(tmp_path):
    result = run_cli("serve", tmp_path / "nowhere")
    assert result.exit_code == 2


@pytest.mark.parametrize("ignored", [".git/objects/ab", "site/index.html", "out/page.html",
                                     "projects/p/__pycache__/x.pyc", ".hidden"])
def test_the_watcher_ignores_git_build_output_and_caches(tmp_path, ignored):
    ws = make_workspace(tmp_path / "ws")
    before = snapshot(ws, ws / "out")
    (ws / ignored).parent.mkdir(parents=True, exist_ok=True)
    (ws / ignored).write_text("x", encoding="utf-8")

    assert snapshot(ws, ws / "out") == before
    (ws / "projects" / "p" / "new.png").write_bytes(b"x")
    assert snapshot(ws, ws / "out") != before
