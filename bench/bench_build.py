"""Time `evidencechain build` on a workspace and compare with plain MkDocs on the same pages.

Run by hand (not a test):  python bench/bench_build.py [WORKSPACE] [--runs 5]

Prints medians over the runs for the whole CLI build (a fresh process each time, as a user
runs it), cold (`--no-cache`) and warm (cache primed, nothing changed), and, measured in the
same run as a baseline, a plain `mkdocs build` of the Markdown
evidencechain generated, plus sha256 over all asset bytes (the floor for provenance work).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def cli_build(workspace: Path, out: Path, *cache: str) -> None:
    subprocess.run([sys.executable, "-m", "evidencechain.cli", "build", str(workspace),
                    "-o", str(out), *cache], check=True, capture_output=True)


def generated_mkdocs_project(workspace: Path, scratch: Path) -> Path:
    """Write the Markdown and mkdocs.yml evidencechain generates, without building."""
    from evidencechain.build import _prepare
    from evidencechain.check import check_workspace
    from evidencechain.site import write_config, write_docs

    checked = check_workspace(workspace)
    views, _ = _prepare(checked, scratch / "stage")
    nav = write_docs(checked.workspace.config, views, scratch / "docs")
    return write_config(checked.workspace.config, nav, scratch / "docs", scratch / "site",
                        scratch / "mkdocs.yml")


def plain_mkdocs(config: Path) -> None:
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)],
                   check=True, capture_output=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                         "PATH": "/usr/bin:/bin"})


def sha256_assets(workspace: Path) -> None:
    for path in (workspace / "projects").rglob("*"):
        if path.is_file() and path.name != "evidence.yml":
            hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", nargs="?", default=str(REPO / "example_site"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workspace = Path(args.workspace).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = generated_mkdocs_project(workspace, tmp / "plain")
        cache = ("--cache-dir", str(tmp / "cache"))
        cli_build(workspace, tmp / "primed", *cache)  # fills the cache for the warm builds
        rows = {"cold build, --no-cache (CLI process)": [],
                "warm build, nothing changed (CLI process)": [],
                "plain mkdocs build (baseline)": [], "sha256 of all assets (baseline)": []}
        for run in range(args.runs):
            rows["cold build, --no-cache (CLI process)"].append(
                timed(lambda out=tmp / f"cold{run}": cli_build(workspace, out, "--no-cache")))
            rows["warm build, nothing changed (CLI process)"].append(
                timed(lambda out=tmp / "warm": cli_build(workspace, out, *cache)))
            rows["plain mkdocs build (baseline)"].append(timed(lambda: plain_mkdocs(config)))
            rows["sha256 of all assets (baseline)"].append(timed(lambda: sha256_assets(workspace)))
    base = statistics.median(rows["plain mkdocs build (baseline)"])
    print(f"workspace: {workspace} ({args.runs} runs)")
    print(f"{'measure':<42} {'median s':>9} {'min s':>7} {'max s':>7} {'vs mkdocs':>10}")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:<42} {median:>9.3f} {min(values):>7.3f} {max(values):>7.3f} "
              f"{median / base:>9.2f}x")


if __name__ == "__main__":
    main()
