"""Process history from git: the page's timeline and authorship, and `check`'s commit errors.

Repositories are made with the git command line, with fixed dates and authors, the way a
candidate's clone would look.
"""

from __future__ import annotations

import re
import subprocess
from html import unescape
from pathlib import Path

import pytest

from conftest import EXAMPLE_SITE, MINIMAL_CONFIG, REPO_ROOT, make_workspace, run_cli
from evidencechain import history
from evidencechain.manifest import load_workspace

ME = ("Maya Okafor", "maya@example.org")
OTHER = ("Sam Reviewer", "sam@example.org")
DAY = 86_400
START = 1_717_400_000  # 2024-06-03


def git(cwd: Path, *args: str, author: tuple[str, str] = ME, when: int = START) -> str:
    """Run git with a fixed author, committer and date; return its output."""
    env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1],
           "GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000",
           "PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True)
    return proc.stdout.strip()


def commit(repo: Path, name: str, text: str, message: str, *, author=ME, when=START) -> str:
    """Write `name`, commit it; the new commit's full hash."""
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", "-A", author=author, when=when)
    git(repo, "commit", "-q", "-m", message, author=author, when=when)
    return git(repo, "rev-parse", "HEAD")


def clone_with_history(folder: Path) -> dict[str, str]:
    """A project repository: 3 commits by the candidate over 2 days, 1 by someone else."""
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    shas = {
        "c1": commit(folder, "train.py", "a\nb\n", "Baseline model", when=START),
        "c2": commit(folder, "train.py", "a\nb\nc\n", "Weighted loss", when=START + 3600),
        "c3": commit(folder, "README.md", "x\n", "Review notes", author=OTHER,
                     when=START + DAY),
        "c4": commit(folder, "train.py", "a\nc\n", "Quantise to INT8", when=START + DAY + 60),
    }
    git(folder, "tag", "-a", "v1.0", "-m", "Delivered", shas["c2"])
    return shas


IDENTITIES = MINIMAL_CONFIG + "  git_identities: [MAYA@example.org]\n"


def _workspace_with_clone(tmp_path: Path, extra: str = "", url: str = "") -> tuple[Path, dict]:
    ws = tmp_path / "ws"
    shas = clone_with_history(ws / "projects" / "p" / "code")
    repo = (f"repo:\n  path: code\n  commit: {shas['c4'][:10]}\n"
            + (f"  url: {url}\n" if url else ""))
    iterations = ("iterations:\n  - id: v1\n    change: Baseline\n"
                  f"    commit: {shas['c1'][:7]}\n  - id: v2\n    change: Weighted loss\n"
                  f"    commit: {shas['c2']}\n")
    make_workspace(ws, repo + iterations + extra, config=IDENTITIES)
    return ws, shas


def _page(tmp_path: Path, ws: Path) -> str:
    out = tmp_path / "out"
    result = run_cli("build", ws, "-o", out)
    assert result.exit_code == 0, result.output
    return (out / "projects" / "p" / "index.html").read_text(encoding="utf-8")


def _text(page: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_project_page_shows_timeline_authorship_and_linked_iterations(tmp_path):
    ws, shas = _workspace_with_clone(tmp_path, url="https://github.com/maya/ticket-router")

    page = _page(tmp_path, ws)
    text = _text(page)

    headings = re.findall(r'<h2 id="([^"]+)"', page)
    assert headings[headings.index("iterations") + 1] == "process-history"
    assert "4 commit(s) on 2 active day(s), from 2024-06-03 to 2024-06-04" in text
    assert ("the candidate made 3 of 4 commits (75%) and 4 of 5 changed lines (80%); "
            "others: Sam Reviewer (1 commit(s), 1 line(s))") in text
    assert "tag v1.0" in text and "iteration v2" in text and "iteration v1" in text
    assert "the commit the evidence refers to" in text
    for key in ("c1", "c2", "c4"):
        assert f'href="https://github.com/maya/ticket-router/commit/{shas[key]}"' in page
    assert "Weighted loss" in text and "Quantise to INT8" in text
    assert "example.org" not in page  # emails are matched, never published


def test_check_hints_at_git_identities_when_commits_carry_the_candidates_name(tmp_path):
    ws, _ = _workspace_with_clone(tmp_path)
    config = ws / "evidencechain.yml"
    unnamed = "schema_version: 1\ncandidate:\n  name: Maya  Okafor\n  headline: I test\n"
    config.write_text(unnamed, encoding="utf-8")

    hinted = run_cli("check", ws)

    assert hinted.exit_code == 0, hinted.output
    assert ("evidencechain.yml:3:9: warning: $.candidate.name: git commits in p are authored "
            "under your name but not counted as yours; list the names or emails you commit "
            "under in candidate.git_identities") in hinted.output
    config.write_text(unnamed + "  git_identities: [maya@example.org]\n", encoding="utf-8")
    assert "git_identities" not in run_cli("check", ws).output


def test_commits_are_plain_text_without_a_github_url(tmp_path):
    ws, shas = _workspace_with_clone(tmp_path, url="https://gitlab.com/maya/ticket-router")

    page = _page(tmp_path, ws)

    assert f"<code>{shas['c2'][:7]}</code>" in page
    assert "/commit/" not in page


def test_check_reports_commits_the_repository_lacks_at_their_keys(tmp_path):
    ws, _ = _workspace_with_clone(tmp_path)
    manifest = ws / "projects" / "p" / "evidence.yml"
    text = manifest.read_text(encoding="utf-8")
    text = re.sub(r"  commit: \w+\n  - id: v2", "  commit: abcdef1\n  - id: v2", text)
    text = re.sub(r"(repo:\n  path: code\n  commit: )\w+", r"\g<1>deadbeefcafe", text)
    manifest.write_text(text, encoding="utf-8")

    result = run_cli("check", ws)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert ("projects/p/evidence.yml:8:11: error: $.repo.commit: commit 'deadbeefcafe' is not "
            "in the git repository at code") in lines
    assert ("projects/p/evidence.yml:12:13: error: $.iterations[0].commit: iteration 'v1': "
            "commit 'abcdef1' is not in the git repository at code") in lines
    assert run_cli("build", ws, "-o", tmp_path / "out").exit_code == 1


def test_a_workspace_repository_counts_only_each_projects_files(tmp_path):
    ws = make_workspace(tmp_path / "ws", slug="a", config=IDENTITIES)
    make_workspace(ws, slug="b", config=IDENTITIES)
    git(ws, "init", "-q", "-b", "main")
    commit(ws, "evidencechain.yml", IDENTITIES, "Workspace")
    commit(ws, "projects/a/notes.md", "one\n", "Notes for a", when=START + DAY)
    commit(ws, "projects/b/notes.md", "two\n", "Notes for b", author=OTHER, when=START + 2 * DAY)

    loaded = load_workspace(ws).workspace
    a, b = (history.project_history(p, loaded.root, ["maya@example.org"])[0]
            for p in loaded.projects)

    assert (a.commits, b.commits, a.repository_commits) == (2, 2, 3)
    assert a.scope == ("projects/a",)
    assert a.last.subject == "Notes for a" and b.last.subject == "Notes for b"
    assert (b.candidate_commits, [x.name for x in b.authors]) == (1, ["Maya Okafor",
                                                                      "Sam Reviewer"])
    assert a.web_url is None


def test_workspace_commits_link_only_when_a_remote_is_the_github_repository(tmp_path):
    url = "https://github.com/maya/evidence"
    ws = make_workspace(tmp_path / "ws", f"repo:\n  url: {url}\n")
    git(ws, "init", "-q", "-b", "main")
    commit(ws, "projects/p/notes.md", "one\n", "Notes")
    project = load_workspace(ws).workspace.projects[0]

    unlinked, _ = history.project_history(project, ws, [])
    git(ws, "remote", "add", "origin", "git@github.com:Maya/evidence.git")
    linked, _ = history.project_history(project, ws, [])

    assert unlinked.web_url is None
    assert linked.commit_url("abc") == "https://github.com/maya/evidence/commit/abc"


def test_a_shallow_clone_says_its_history_is_partial(tmp_path):
    full = tmp_path / "full"
    shas = clone_with_history(full)
    ws = tmp_path / "ws"
    code = ws / "projects" / "p" / "code"
    code.parent.mkdir(parents=True)
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{full}", str(code))
    make_workspace(ws, f"repo:\n  path: code\n  commit: {shas['c1']}\n", config=IDENTITIES)

    result = run_cli("check", ws)

    assert result.exit_code == 1
    assert "is not in the git repository at code (this is a shallow clone: fetch the full " \
           "history with `git fetch --unshallow`)" in result.output
    manifest = ws / "projects" / "p" / "evidence.yml"
    manifest.write_text(manifest.read_text().replace(shas["c1"], shas["c4"]))
    text = _text(_page(tmp_path, ws))
    assert "History is partial: the repository is a shallow clone" in text
    assert "2 commit(s) on 1 active day(s)" in text


def test_very_long_histories_are_read_up_to_a_bound(tmp_path, monkeypatch):
    ws, _ = _workspace_with_clone(tmp_path)
    monkeypatch.setattr(history, "MAX_COMMITS", 3)
    project = load_workspace(ws).workspace.projects[0]

    found, problems = history.project_history(project, ws, [])

    assert (found.commits, found.repository_commits, found.truncated) == (3, 4, True)
    assert found.first.subject == "Weighted loss"
    assert problems == []  # commits outside the window are still found


def test_a_repository_without_commits_yet(tmp_path):
    ws = make_workspace(tmp_path / "ws", "repo:\n  commit: 0123abc\n")
    git(ws, "init", "-q", "-b", "main")

    result = run_cli("check", ws)

    assert result.exit_code == 1
    assert "$.repo.commit: commit '0123abc' is not in the workspace's git repository" \
        in result.output
    manifest = ws / "projects" / "p" / "evidence.yml"
    manifest.write_text(manifest.read_text().replace("repo:\n  commit: 0123abc\n", ""))
    assert "No commit in the workspace's git repository touches this project's files yet" \
        in _text(_page(tmp_path, ws))


def test_no_repository_means_no_history_section(tmp_path):
    ws = make_workspace(tmp_path / "ws", "repo:\n  commit: 0123abc\n")

    assert run_cli("check", ws).exit_code == 0  # nothing to verify the commit against
    assert "Process history" not in _page(tmp_path, ws)


def test_a_folder_inside_another_repository_is_not_the_candidates_history():
    """example_site/ lives in evidencechain's own repository; that is not its history."""
    loaded = load_workspace(EXAMPLE_SITE).workspace
    assert all(history.project_history(p, loaded.root, [])[0] is None
               for p in loaded.projects)


def test_only_history_py_imports_gitpython():
    importers = [path.name for path in (REPO_ROOT / "evidencechain").rglob("*.py")
                 if re.search(r"^\s*(import git\b|from git\b)", path.read_text(encoding="utf-8"),
                              re.MULTILINE)]
    assert importers == ["history.py"]


@pytest.mark.parametrize(("url", "slug"), [
    ("https://github.com/Maya/Router.git", "maya/router"),
    ("git@github.com:maya/router.git", "maya/router"),
    ("ssh://git@github.com/maya/router", "maya/router"),
    ("https://gitlab.com/maya/router", None),
])
def test_github_addresses_are_recognised(url, slug):
    assert history._github_slug(url) == slug


def test_commit_messages_names_and_tags_are_escaped(tmp_path):
    code = tmp_path / "ws" / "projects" / "p" / "code"
    code.mkdir(parents=True)
    git(code, "init", "-q", "-b", "main")
    commit(code, "a.txt", "a\n", "<img src=x onerror=alert(1)> **bold**",
           author=('Tom & "Jerry"', "x@example.org"))
    git(code, "tag", "v1<i>")
    ws = make_workspace(tmp_path / "ws", "repo:\n  path: code\n")

    page = _page(tmp_path, ws)

    assert "<img src=x" not in page and "v1<i>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; **bold**" in page
    assert "tag v1&lt;i&gt;" in page
    assert "Tom &amp; &quot;Jerry" in page  # git itself drops the closing quote
