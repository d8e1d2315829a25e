"""From nothing to a published site: init, edit, check, build, deploy to a real bare remote.

The remote is a bare repository on disk (`git init --bare`), standing in for GitHub: what
the Pages branch holds there is exactly what GitHub Pages would serve.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from evidencechain.deploy import pages_url

MANIFEST = "projects/my-first-project/evidence.yml"


@pytest.fixture(autouse=True)
def _no_user_git_config(tmp_path, monkeypatch):
    """No global git identity, as on a fresh CI runner: deploy must still commit."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    """git as the candidate runs it, with their identity on the command line."""
    proc = subprocess.run(["git", "-c", "user.name=Maya Okafor", "-c", "user.email=maya@ex.org",
                           *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def published(remote: Path, branch: str = "gh-pages") -> list[str]:
    return git(remote, "ls-tree", "-r", "--name-only", branch).splitlines()


def show(remote: Path, path: str, branch: str = "gh-pages") -> str:
    return git(remote, "show", f"{branch}:{path}")


def new_workspace(tmp_path: Path) -> tuple[Path, Path]:
    """`init`, a first edit, a commit, and a bare remote called origin."""
    ws = tmp_path / "my-evidence"
    assert run_cli("init", ws, "--name", "Maya Okafor").exit_code == 0
    edit(ws / MANIFEST, 'summary: "[insert what changed for whom, with a number if you have '
                        'one]"', "summary: Cut triage time by 40% for 9,000 tickets a week.")
    edit(ws / "evidencechain.yml", "  # git_identities:\n  #   - you@example.com",
         "  git_identities:\n    - maya@ex.org")
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "Start my evidence")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(ws, "remote", "add", "origin", str(remote))
    return ws, remote


def test_init_edit_check_build_deploy_and_deploy_again(tmp_path):
    ws, remote = new_workspace(tmp_path)
    assert run_cli("check", ws).exit_code == 0
    built = run_cli("build", ws)
    assert built.exit_code == 0, built.output
    assert git(ws, "status", "--porcelain") == ""  # the .gitignore keeps site/ out

    first = run_cli("deploy", ws)

    assert first.exit_code == 0, first.output
    assert re.search(r"^Published \d+ pages to gh-pages \(commit [0-9a-f]{7}\)", first.output,
                     re.MULTILINE)
    assert f"pushed to origin ({remote})" in first.output
    files = published(remote)
    assert {".nojekyll", "index.html", "projects/my-first-project/index.html"} <= set(files)
    page = show(remote, "projects/my-first-project/index.html")
    assert "Cut triage time by 40%" in page
    assert "Process history" in page and "the candidate made 1 of 1 commits (100%)" in page
    tip = git(remote, "rev-parse", "gh-pages")
    assert git(ws, "rev-parse", "gh-pages") == tip  # the local branch follows
    again = run_cli("deploy", ws)  # nothing changed: the same build is not pushed again
    assert again.exit_code == 0, again.output
    build_id = json.loads(show(remote, "evidence.json"))["build"]["id"]
    assert f"Already published: gh-pages on origin holds build {build_id}" in again.output
    assert git(remote, "rev-parse", "gh-pages") == tip
    assert git(ws, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(ws, "status", "--porcelain") == ""
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == \
        f"Deploy evidence site from {git(ws, 'rev-parse', '--short', 'HEAD')} (evidencechain)"

    git(ws, "mv", "projects/my-first-project", "projects/ticket-router")
    edit(ws / "evidencechain.yml", "    - my-first-project", "    - ticket-router")
    git(ws, "commit", "-q", "-am", "Rename the project")
    second = run_cli("deploy", ws, "--message", "Second deploy")

    assert second.exit_code == 0, second.output
    files = published(remote)
    assert "projects/ticket-router/index.html" in files and ".nojekyll" in files
    assert not any(f.startswith("projects/my-first-project/") for f in files)
    assert git(remote, "rev-parse", "gh-pages^") == tip
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == "Second deploy"


def test_deploy_refuses_uncommitted_changes_unless_allowed(tmp_path):
    ws, remote = new_workspace(tmp_path)
    edit(ws / MANIFEST, "title: My first project", "title: Ticket router")

    refused = run_cli("deploy", ws)

    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == (
        f"error: uncommitted changes in the workspace ({MANIFEST}); commit them, or pass "
        "--allow-dirty to publish them anyway")
    assert git(remote, "branch", "--list") == ""  # nothing was pushed

    allowed = run_cli("deploy", ws, "--allow-dirty")

    assert allowed.exit_code == 0, allowed.output
    assert "published with 1 uncommitted change(s)" in allowed.output
    assert "Ticket router" in show(remote, "projects/my-first-project/index.html")


def test_deploy_needs_a_repository_and_a_remote(tmp_path):
    ws = tmp_path / "ws"
    run_cli("init", ws)

    no_repo = run_cli("deploy", ws)
    git(ws, "init", "-q", "-b", "main")
    no_remote = run_cli("deploy", ws)
    git(ws, "remote", "add", "origin", str(tmp_path / "remote.git"))
    wrong_name = run_cli("deploy", ws, "--remote", "upstream")

    assert no_repo.exit_code == 1
    assert no_repo.output == (f"error: {ws} is not in a git repository; run `git init`, commit "
                              "the workspace and add a remote first\n")
    assert no_remote.output == (f"error: the git repository at {ws} has no remote; add one "
                                "with `git remote add origin URL`\n")
    assert wrong_name.output == "error: no git remote named 'upstream'; remotes are: origin\n"


def test_an_unreachable_remote_is_one_line(tmp_path):
    ws, _ = new_workspace(tmp_path)
    git(ws, "remote", "set-url", "origin", str(tmp_path / "missing.git"))

    result = run_cli("deploy", ws)

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot fetch 'gh-pages' from 'origin'")
    assert "missing.git" in lines[0]


def test_an_invalid_workspace_is_not_deployed(tmp_path):
    ws, remote = new_workspace(tmp_path)
    edit(ws / MANIFEST, "kind: ai-creative", "kind: ai-creativ")
    git(ws, "commit", "-q", "-am", "Typo")

    result = run_cli("deploy", ws)

    assert result.exit_code == 1
    assert "error: $.kind: \"ai-creativ\" is not one of" in result.output
    assert git(remote, "branch", "--list") == ""


def test_a_workspace_in_a_subfolder_deploys_and_ignores_changes_elsewhere(tmp_path):
    repo = tmp_path / "repo"
    ws = repo / "evidence"
    run_cli("init", ws)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Evidence in a subfolder")
    (repo / "notes.txt").write_text("not evidence\n", encoding="utf-8")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))

    result = run_cli("deploy", ws, "--branch", "pages")

    assert result.exit_code == 0, result.output
    assert "index.html" in published(remote, "pages")


def test_the_pages_branch_cannot_be_the_checked_out_one(tmp_path):
    ws, remote = new_workspace(tmp_path)

    result = run_cli("deploy", ws, "--branch", "main")

    assert result.exit_code == 1
    assert "branch 'main' is checked out" in result.output
    assert "publish to another branch with --branch" in result.output
    assert git(remote, "branch", "--list") == ""


@pytest.mark.parametrize(("remote", "url"), [
    ("git@github.com:maya/evidence.git", "https://maya.github.io/evidence/"),
    ("https://github.com/Maya/maya.github.io", "https://maya.github.io/"),
    ("/srv/git/evidence.git", None),
])
def test_pages_address_from_the_remote(remote, url):
    assert pages_url(remote) == url
