"""docs/cli.md is generated from the commands' `--help` and must not go stale."""

from __future__ import annotations

from conftest import REPO_ROOT, run_cli
from evidencechain.cli import main
from evidencechain.clidocs import render


def test_committed_cli_reference_matches_the_commands():
    committed = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/cli.md is stale: run `python -m evidencechain.clidocs docs/cli.md`")


def test_every_registered_command_and_option_is_in_the_reference():
    page = render()
    for name, command in main.commands.items():
        assert f"## `evidencechain {name}`" in page
        for param in command.params:
            for option in param.opts:
                if option.startswith("-"):
                    assert option in page, f"{name} {option}"


def test_the_reference_is_the_help_a_user_sees():
    page = render()
    for line in run_cli("deploy", "--help").output.splitlines():
        if line.strip() and not line.startswith("Usage:"):
            assert line.split()[0] in page
    assert "Usage: evidencechain serve [OPTIONS] [WORKSPACE]" in page
