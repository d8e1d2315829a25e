"""The project's own docs build cleanly and document every command and option."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT, run_cli


def test_docs_build_strictly(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "d")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "d" / "reference" / "manifest" / "index.html").is_file()


def test_the_guide_documents_every_command_and_option():
    guide = (REPO_ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    commands = [line.split()[0] for line in
                run_cli("--help").output.split("Commands:")[1].strip().splitlines()]
    assert commands
    for command in commands:
        assert f"evidencechain {command}" in guide or f"`{command}`" in guide, command
        options = [word.split(",")[0] for word in run_cli(command, "--help").output.split()
                   if word.startswith("--") and word != "--help"]
        for option in options:
            assert option in guide, f"{command} {option}"
