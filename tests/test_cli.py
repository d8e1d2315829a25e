"""The CLI on the real example workspace, as the README tells a user to run it."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from conftest import EXAMPLE_SITE, REPO_ROOT, run_cli


def test_check_passes_on_the_example_with_complete_chains():
    result = run_cli("check", EXAMPLE_SITE)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "3 project(s), 0 error(s), 3 warning(s): valid"
    assert "missing:" not in result.output
    # The example keeps one deliberately tampered raw generation: reported where it is
    # declared and at both assets derived from it, since c2pa does not propagate it.
    warnings = [line for line in result.output.splitlines() if ": warning: " in line]
    assert len(warnings) == 3
    assert all("v4-flux-schnell-seed-771203.jpg" in line for line in warnings)
    assert "provenance: 7 of 9 assets verified · 6 AI-generated · 1 tampered · 1 unsigned" \
        in result.output


def test_asset_counts_add_up_with_the_manifests(tmp_path, monkeypatch):
    from evidencechain import cli

    declared = {p.parent.name: len(yaml.safe_load(p.read_text())["assets"])
                for p in (EXAMPLE_SITE / "projects").glob("*/evidence.yml")}
    order = yaml.safe_load((EXAMPLE_SITE / "evidencechain.yml").read_text())["site"]["projects"]
    monkeypatch.setattr(cli._Progress, "DELAY", 0.0)  # as if the build were slow

    check = run_cli("check", EXAMPLE_SITE)
    build = run_cli("build", EXAMPLE_SITE, "-o", tmp_path / "site", "--no-cache")

    # Each project's line: "N of M assets verified", plus "K other file(s)" (a memo).
    for slug, count in declared.items():
        line = next(x for x in check.output.splitlines() if x.strip().startswith(slug))
        media = int(line.split(" of ")[1].split()[0])
        other = int(line.split(" · ")[-1].split()[0]) if "other file(s)" in line else 0
        assert media + other == count, line
    terms = " + ".join(str(declared[s]) for s in order)
    total = sum(declared.values())
    assert build.exit_code == 0, build.output
    assert (f"provenance: {total} assets ({terms} declared in {len(order)} projects), "
            in build.stderr)
    assert f"display: {total} assets ({terms} declared in 3 projects), " in build.stderr


def test_check_json_lists_every_project_with_completeness():
    result = run_cli("check", "--format", "json", EXAMPLE_SITE)

    report = json.loads(result.output)
    assert report["valid"] is True
    assert {p["completeness"] for p in report["projects"]} == {100}
    assert {p["slug"] for p in report["projects"]} == {
        p.parent.name for p in (EXAMPLE_SITE / "projects").glob("*/evidence.yml")}


def test_check_reports_missing_links_with_hints(example_copy):
    manifest = sorted((example_copy / "projects").glob("*/evidence.yml"))[0]
    data = yaml.safe_load(manifest.read_text())
    del data["failures"]
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))

    result = run_cli("check", example_copy)

    assert result.exit_code == 0  # an incomplete chain is not an invalid manifest
    assert "missing: A failure with its fix (log at least one failure with what_broke and fix)" \
        in result.output
    assert f"  {manifest.parent.name}  " in result.output


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("check", tmp_path).exit_code == 2
    assert run_cli("check", "--format", "xml", EXAMPLE_SITE).exit_code == 2


def test_the_installed_command_builds_the_example(tmp_path):
    """The README's first command, through the installed entry point in a subprocess."""
    out = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "evidencechain.cli", "build", str(EXAMPLE_SITE), "-o", str(out)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"Open {out / 'index.html'}"
    assert "Traceback" not in proc.stderr
    assert (out / "index.html").is_file()


def test_debug_shows_a_traceback_for_errors(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "evidencechain.cli", "--debug", "check",
                           str(tmp_path / "none")], capture_output=True, text=True)
    plain = subprocess.run([sys.executable, "-m", "evidencechain.cli", "check",
                            str(tmp_path / "none")], capture_output=True, text=True)

    assert "Traceback" in proc.stderr
    assert "Traceback" not in plain.stderr
    assert plain.returncode == 2
