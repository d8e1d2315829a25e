"""Time the process-history extraction on a generated repository of 5,000 commits.

Run by hand (not a test):  python bench/bench_history.py [--commits 5000] [--runs 5]

Generates, with `git fast-import`, a repository where three authors change a few of 200
files per commit over two years and tag every 500th commit, puts it as `repo.path` of a
project in a fresh workspace, and prints the median and spread of:

- `project_history` alone (the git reads: log with line counts, tags, commit lookups);
- `check_workspace` on that workspace (loading, completeness and history together);
- the same history read from the workspace's own repository, limited to the project's
  folder (a pathspec, which git must test against every commit).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from evidencechain.check import check_workspace  # noqa: E402
from evidencechain.history import project_history  # noqa: E402
from evidencechain.manifest import load_workspace  # noqa: E402

AUTHORS = [("Maya Okafor", "maya@example.org"), ("Sam Reviewer", "sam@example.org"),
           ("Lee Contributor", "lee@example.org")]
START = 1_640_995_200  # 2022-01-01


def fast_import_stream(commits: int, folder: str = "") -> bytes:
    """A `git fast-import` stream: `commits` commits on main, a tag every 500th."""
    rng = random.Random(5000)
    out: list[bytes] = []
    contents = {f"{folder}src/module_{i:03d}.py": ["x = 0\n"] for i in range(200)}
    for n in range(1, commits + 1):
        name, email = AUTHORS[0] if rng.random() < 0.7 else rng.choice(AUTHORS[1:])
        when = START + n * 12_600  # about seven commits a day
        message = f"Change {n}: adjust the pipeline".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{n}\n".encode())
        out.append(f"author {name} <{email}> {when} +0000\n".encode())
        out.append(f"committer {name} <{email}> {when} +0000\n".encode())
        out.append(b"data %d\n%s\n" % (len(message), message))
        if n > 1:
            out.append(f"from :{n - 1}\n".encode())
        for path in rng.sample(sorted(contents), 3):
            lines = contents[path]
            lines.append(f"step_{n} = {rng.randint(0, 999)}\n")
            if len(lines) > 40:
                del lines[1]
            data = "".join(lines).encode()
            out.append(f"M 100644 inline {path}\n".encode())
            out.append(b"data %d\n%s\n" % (len(data), data))
        out.append(b"\n")
        if n % 500 == 0:
            tag = f"Release {n // 500}".encode()
            out.append(f"tag v{n // 500}.0\nfrom :{n}\n".encode())
            out.append(f"tagger {AUTHORS[0][0]} <{AUTHORS[0][1]}> {when} +0000\n".encode())
            out.append(b"data %d\n%s\n" % (len(tag), tag))
    return b"".join(out)


def make_repo(path: Path, commits: int, folder: str = "") -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, check=True,
                   input=fast_import_stream(commits, folder))
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True)


def write_workspace(root: Path, repo_path: str | None) -> None:
    project = root / "projects" / "pipeline"
    project.mkdir(parents=True, exist_ok=True)
    (root / "evidencechain.yml").write_text(
        "schema_version: 1\ncandidate:\n  name: Maya Okafor\n  headline: Benchmarks\n"
        "  git_identities: [maya@example.org]\n", encoding="utf-8")
    repo = f"repo:\n  path: {repo_path}\n" if repo_path else ""
    (project / "evidence.yml").write_text(
        "schema_version: 1\ntitle: Pipeline\nsummary: A long history.\nkind: other\n"
        f"source: side-project\n{repo}", encoding="utf-8")


def timed(func, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        clone_ws = tmp / "clone-ws"
        make_repo(clone_ws / "projects" / "pipeline" / "code", args.commits)
        write_workspace(clone_ws, "code")
        own_ws = tmp / "own-ws"
        make_repo(own_ws, args.commits, folder="projects/pipeline/")
        write_workspace(own_ws, None)
        print(f"generated 2 repositories of {args.commits} commits in "
              f"{time.perf_counter() - started:.1f} s")

        loaded = load_workspace(clone_ws).workspace
        project = loaded.projects[0]
        history, _ = project_history(project, loaded.root, ["maya@example.org"])
        print(f"history: {history.commits} commits, {history.active_days} active days, "
              f"{len(history.milestones)} milestones, candidate {history.candidate_commits} "
              f"commits / {history.candidate_lines} of {history.total_lines} lines")
        own = load_workspace(own_ws).workspace
        rows = {
            "project_history (clone at repo.path)": timed(
                lambda: project_history(project, loaded.root, ["maya@example.org"]), args.runs),
            "check_workspace (clone at repo.path)": timed(
                lambda: check_workspace(clone_ws), args.runs),
            "project_history (workspace repo, pathspec)": timed(
                lambda: project_history(own.projects[0], own.root, ["maya@example.org"]),
                args.runs),
        }
    print(f"{'measure':<44} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in rows.items():
        print(f"{name:<44} {statistics.median(values):>9.3f} {min(values):>7.3f} "
              f"{max(values):>7.3f}")


if __name__ == "__main__":
    main()
