"""The git adapter: the only module that imports GitPython.

It reads a project's process history (when and how often the work was committed, by whom,
which tags mark milestones, and whether the commits a manifest names exist) and writes the
Pages branch `deploy` publishes. GitPython is imported lazily: a machine without git still
checks and builds, only without history.

Every read is a handful of `git` processes whatever the size of the repository (one
`git log --numstat` for all commits), so a repository with thousands of commits adds well
under a second; `bench/bench_history.py` measures it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import BuildError, WorkspaceError
from .model import Project
from .problems import ERROR, WARNING, Problem
from .yamlsource import JsonPath, format_path

# More commits than this are not read (the newest are kept and the history says so): the
# bound that keeps `check` fast on a huge monorepo.
MAX_COMMITS = 20_000
MAX_MILESTONES = 12
# Seconds one git command may take; a hung network disk must not hang `check` forever.
GIT_TIMEOUT = 120

_RECORD, _FIELD = "\x1e", "\x1f"
# %aN/%aE apply the repository's .mailmap, so one person's several addresses count once.
_LOG_FORMAT = "--format=%x1e%H%x1f%at%x1f%ad%x1f%aN%x1f%aE%x1f%s"
# Ignore user settings that would change `git log`'s output (colours, signatures).
_LOG_OPTIONS = ("--no-color", "--no-show-signature", "--date=short")
_GITHUB = re.compile(r"^(?:https?://|ssh://git@|git@)github\.com[/:]([^/\s]+)/([^/\s]+?)"
                     r"(?:\.git)?/?$", re.IGNORECASE)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Commit:
    """One commit as the page shows it; `lines` counts changed lines in the scope read."""

    sha: str
    timestamp: int
    date: str  # the author's own calendar day, YYYY-MM-DD
    author: str
    email: str
    subject: str
    lines: int = 0

    @property
    def short(self) -> str:
        return self.sha[:7]


@dataclass(frozen=True)
class AuthorShare:
    """One author's commits and changed lines (emails are matched, never shown)."""

    name: str
    commits: int
    lines: int
    is_candidate: bool


@dataclass(frozen=True)
class Milestone:
    """A tag on a commit within the project's history."""

    tag: str
    commit: Commit


@dataclass(frozen=True)
class IterationCommit:
    """An iteration and the commit it names (None when the repository does not have it)."""

    iteration: str
    ref: str
    commit: Commit | None


@dataclass(frozen=True)
class ProjectHistory:
    """A project's process history as read from git, ready for the page."""

    repository: str  # where it was read, for people: "the git clone at code/"
    scope: tuple[str, ...]  # folders the counts are limited to; empty: the whole repository
    commits: int
    repository_commits: int
    active_days: int
    first: Commit | None
    last: Commit | None
    authors: tuple[AuthorShare, ...]
    identities_configured: bool
    milestones: tuple[Milestone, ...]
    pinned_ref: str | None
    pinned: Commit | None
    iterations: tuple[IterationCommit, ...]
    shallow: bool
    truncated: bool
    web_url: str | None  # a GitHub repository address when commits can be linked

    def commit_url(self, sha: str) -> str | None:
        """The commit's page on GitHub, when the project's repository is known to be there."""
        return f"{self.web_url}/commit/{sha}" if self.web_url else None

    @property
    def candidate_commits(self) -> int:
        return sum(a.commits for a in self.authors if a.is_candidate)

    @property
    def candidate_lines(self) -> int:
        return sum(a.lines for a in self.authors if a.is_candidate)

    @property
    def total_lines(self) -> int:
        return sum(a.lines for a in self.authors)

    def timeline(self) -> tuple[TimelineEntry, ...]:
        """First and last commit, tags, the pinned commit and iterations' commits, by date."""
        labels: dict[str, list[str]] = {}
        commits: dict[str, Commit] = {}

        def add(commit: Commit | None, label: str) -> None:
            if commit is not None:
                commits[commit.sha] = commit
                labels.setdefault(commit.sha, []).append(label)

        add(self.first, "first commit")
        for milestone in self.milestones:
            add(milestone.commit, f"tag {milestone.tag}")
        for item in self.iterations:
            add(item.commit, f"iteration {item.iteration}")
        add(self.pinned, "the commit the evidence refers to")
        add(self.last, "latest commit")
        entries = [TimelineEntry(commits[sha], tuple(names)) for sha, names in labels.items()]
        return tuple(sorted(entries, key=lambda e: e.commit.timestamp))


@dataclass(frozen=True)
class TimelineEntry:
    """One commit on the timeline, with what makes it worth showing."""

    commit: Commit
    labels: tuple[str, ...]


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Source:
    """The repository a project's history is read from, and which part of it counts."""

    repo: Any  # git.Repo
    label: str
    scope: tuple[str, ...]
    from_clone: bool


def project_history(project: Project, root: Path,
                    identities: Sequence[str] = ()) -> tuple[ProjectHistory | None, list[Problem]]:
    """Read `project`'s history from its clone (`repo.path`) or the workspace repository.

    Returns (None, []) when neither is a git repository: the page then has no history
    section. Problems are errors for commits the manifest names that do not exist, and a
    warning when git itself fails.
    """
    try:
        source = _find_source(project, root)
        if source is None:
            return None, []
        try:
            history = _read(project, source, identities)
        finally:
            source.repo.close()  # GitPython may keep git processes alive otherwise
    except _git_errors() as exc:
        where = ("repo", "path") if project.manifest.repo and project.manifest.repo.path else ()
        return None, [_problem(project, where, WARNING,
                               f"cannot read the git history: {_one_line(exc)}")]
    return history, _missing_commits(project, history)


def _find_source(project: Project, root: Path) -> _Source | None:
    repo_info = project.manifest.repo
    if repo_info and repo_info.path:
        clone = (project.folder / repo_info.path).resolve()
        repo = _open(clone)
        if repo is not None:
            label = f"the git repository at {repo_info.path}"
            return _Source(repo, label, (), True)
    repo = _open(root)
    if repo is None or repo.bare:
        return None
    top = Path(repo.working_tree_dir).resolve()
    scope = [project.folder.resolve()]
    if repo_info and repo_info.path:
        scope.append((project.folder / repo_info.path).resolve())
    paths = tuple(dict.fromkeys(p.relative_to(top).as_posix() or "." for p in scope
                                if p.is_relative_to(top)))
    return _Source(repo, "the workspace's git repository", paths, False)


def _open(path: Path) -> Any:
    """The repository whose top folder (or git folder) is `path`, else None.

    Parent folders are not searched: a plain folder inside some other repository (the
    example workspace inside evidencechain's own) is not the candidate's history.
    """
    if not (path / ".git").exists() and not (path / "HEAD").is_file():
        return None  # checked before importing GitPython, which costs a tenth of a second
    git = _import_git()
    if git is None:
        return None
    try:
        return git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _read(project: Project, source: _Source, identities: Sequence[str]) -> ProjectHistory:
    repo = source.repo
    has_head = _has_head(repo)
    commits = _log(repo, source.scope) if has_head else []
    truncated = len(commits) > MAX_COMMITS
    commits = commits[:MAX_COMMITS]
    first, last = (commits[-1], commits[0]) if commits else (None, None)
    manifest = project.manifest
    pinned_ref = manifest.repo.commit if manifest.repo else None
    known = {c.sha: c for c in commits}
    return ProjectHistory(
        repository=source.label,
        scope=source.scope,
        commits=len(commits),
        repository_commits=_count(repo) if has_head else 0,
        active_days=len({c.date for c in commits}),
        first=first,
        last=last,
        authors=_authors(commits, identities),
        identities_configured=bool(identities),
        milestones=_milestones(repo, first, last, known) if has_head else (),
        pinned_ref=pinned_ref,
        pinned=_resolve(repo, pinned_ref, known) if pinned_ref else None,
        iterations=tuple(IterationCommit(it.id, it.commit, _resolve(repo, it.commit, known))
                         for it in manifest.iterations if it.commit),
        shallow=_git(repo, "rev-parse", "--is-shallow-repository").strip() == "true",
        truncated=truncated,
        web_url=_web_url(repo, manifest.repo.url if manifest.repo else None, source.from_clone),
    )


def _log(repo: Any, scope: tuple[str, ...]) -> list[Commit]:
    """Every commit reachable from HEAD that touches `scope`, newest first, with line counts."""
    out = _git(repo, "--literal-pathspecs", "log", "HEAD", *_LOG_OPTIONS, "--no-renames",
               "--numstat", f"--max-count={MAX_COMMITS + 1}", _LOG_FORMAT, "--", *scope)
    return [_parse_record(chunk) for chunk in out.split(_RECORD)[1:]]


def _parse_record(chunk: str) -> Commit:
    header, _, stats = chunk.partition("\n")
    sha, timestamp, date, author, email, subject = (header.split(_FIELD) + [""] * 6)[:6]
    lines = 0
    for row in stats.splitlines():
        added, _, rest = row.partition("\t")
        deleted = rest.partition("\t")[0]
        # Binary files show "-": they change no lines.
        lines += int(added) if added.isdigit() else 0
        lines += int(deleted) if deleted.isdigit() else 0
    return Commit(sha, int(timestamp or 0), date, author, email, subject, lines)


def _authors(commits: list[Commit], identities: Sequence[str]) -> tuple[AuthorShare, ...]:
    """Commits and lines per author (by email), the candidate's identities marked."""
    wanted = {i.strip().casefold() for i in identities if i.strip()}
    totals: dict[str, list[Any]] = {}
    for c in commits:
        key = (c.email or c.author).casefold()
        entry = totals.setdefault(key, [c.author, 0, 0, False])
        entry[1] += 1
        entry[2] += c.lines
        entry[3] = entry[3] or c.author.casefold() in wanted or c.email.casefold() in wanted
    shares = [AuthorShare(name, n, lines, mine) for name, n, lines, mine in totals.values()]
    return tuple(sorted(shares, key=lambda a: (not a.is_candidate, -a.commits, a.name)))


def _milestones(repo: Any, first: Commit | None, last: Commit | None,
                known: dict[str, Commit]) -> tuple[Milestone, ...]:
    """Tags reachable from HEAD whose commit falls within the project's commits, by date."""
    if first is None or last is None:
        return ()
    out = _git(repo, "for-each-ref", "--merged", "HEAD",
               "--format=%(refname:short)%09%(objectname)%09%(*objectname)", "refs/tags")
    tags = []
    for line in out.splitlines():
        name, _, rest = line.partition("\t")
        target, _, peeled = rest.partition("\t")
        tags.append((name, peeled or target))
    info = {**known, **_commits(repo, [sha for _, sha in tags if sha not in known])}
    found = [Milestone(name, info[sha]) for name, sha in tags if sha in info
             and first.timestamp <= info[sha].timestamp <= last.timestamp]
    found.sort(key=lambda m: (m.commit.timestamp, m.tag))
    return tuple(found[-MAX_MILESTONES:])


def _commits(repo: Any, shas: list[str]) -> dict[str, Commit]:
    """Commit records for `shas` (no line counts) in one git call; non-commits are skipped."""
    if not shas:
        return {}
    out = _git(repo, "log", "--no-walk=unsorted", *_LOG_OPTIONS, _LOG_FORMAT,
               *dict.fromkeys(shas), "--")
    return {c.sha: c for c in map(_parse_record, out.split(_RECORD)[1:])}


def _resolve(repo: Any, ref: str, known: dict[str, Commit]) -> Commit | None:
    """The commit a (possibly short) hash names, or None when there is none (or several)."""
    git = _import_git()
    try:
        sha = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except git.GitCommandError:
        return None
    return known.get(sha) or _commits(repo, [sha]).get(sha)


def _has_head(repo: Any) -> bool:
    git = _import_git()
    try:
        _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except git.GitCommandError:
        return False  # a repository without commits yet
    return True


def _count(repo: Any) -> int:
    return int(_git(repo, "rev-list", "--count", "HEAD").strip() or 0)


def _web_url(repo: Any, url: str | None, from_clone: bool) -> str | None:
    """`repo.url` when it is on GitHub and names the repository the history was read from.

    A clone at `repo.path` is taken to be `repo.url`; the workspace's own repository only
    when one of its remotes points there, so a link never leads to a commit GitHub lacks.
    """
    slug = _github_slug(url or "")
    if slug is None:
        return None
    if not from_clone and slug not in {_github_slug(u) for r in repo.remotes for u in r.urls}:
        return None
    return f"https://github.com/{slug}"


def _github_slug(url: str) -> str | None:
    match = _GITHUB.match(url.strip())
    return f"{match.group(1)}/{match.group(2)}".lower() if match else None


def _missing_commits(project: Project, history: ProjectHistory) -> list[Problem]:
    """An error for `repo.commit` and each `iterations[].commit` the repository lacks."""
    hint = (" (this is a shallow clone: fetch the full history with "
            "`git fetch --unshallow`)" if history.shallow else "")
    found = []
    if history.pinned_ref and history.pinned is None:
        found.append(_problem(project, ("repo", "commit"), ERROR,
                              f"commit '{history.pinned_ref}' is not in "
                              f"{history.repository}{hint}"))
    for i, iteration in enumerate(project.manifest.iterations):
        match = next((x for x in history.iterations if x.iteration == iteration.id
                      and x.ref == iteration.commit), None)
        if match is not None and match.commit is None:
            found.append(_problem(project, ("iterations", i, "commit"), ERROR,
                                  f"iteration '{iteration.id}': commit '{iteration.commit}' "
                                  f"is not in {history.repository}{hint}"))
    return found


def _problem(project: Project, path: JsonPath, level: str, message: str) -> Problem:
    line, col = project.source.locate(path)
    return Problem(project.manifest_file, line, col, level, message, format_path(path))


# --------------------------------------------------------------------------- publishing


class PagesRepository:
    """The git repository a workspace is published from, for `deploy`.

    The site is committed with a private index and the site folder as the work tree, so
    the user's checkout, index and current branch are never touched.
    """

    def __init__(self, workspace: Path):
        git = _import_git()
        if git is None:
            raise WorkspaceError("git is not installed (or GitPython cannot run it); "
                                 "install git to deploy")
        try:
            self.repo = git.Repo(workspace, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise WorkspaceError(f"{workspace} is not in a git repository; run `git init`, "
                                 "commit the workspace and add a remote first") from None
        if self.repo.bare or not self.repo.working_tree_dir:
            raise WorkspaceError(f"{workspace} is inside a bare git repository; deploy from "
                                 "a clone with a work tree")
        self.top = Path(self.repo.working_tree_dir).resolve()

    def close(self) -> None:
        """Release GitPython's resources."""
        self.repo.close()

    def remote_url(self, name: str) -> str:
        """The URL of remote `name`; WorkspaceError naming the remotes there are."""
        names = [r.name for r in self.repo.remotes]
        if name not in names:
            if not names:
                raise WorkspaceError(f"the git repository at {self.top} has no remote; add "
                                     "one with `git remote add origin URL`")
            raise WorkspaceError(f"no git remote named '{name}'; remotes are: "
                                 + ", ".join(names))
        return next(iter(self.repo.remote(name).urls))

    def uncommitted(self, folder: Path, ignore: Sequence[str] = ()) -> list[str]:
        """Files under `folder` with uncommitted changes (untracked ones included)."""
        rel = folder.resolve().relative_to(self.top).as_posix() or "."
        out = _git(self.repo, "--literal-pathspecs", "status", "--porcelain=v1", "-z",
                   "--untracked-files=all", "--", rel)
        entries, fields = [], iter(out.split("\0"))
        for entry in fields:
            if len(entry) > 3:
                entries.append(entry[3:])
                if set(entry[:2]) & {"R", "C"}:
                    next(fields, None)  # a rename's or copy's source path follows
        base = PurePosixPath(rel)
        skip = [base / name for name in ignore]
        return [e for e in entries if not any(PurePosixPath(e).is_relative_to(s) for s in skip)]

    def head(self) -> str | None:
        """The short hash of HEAD, or None before the first commit."""
        return _git(self.repo, "rev-parse", "--short", "HEAD").strip() \
            if _has_head(self.repo) else None

    def commit_site(self, site: Path, branch: str, remote: str, message: str,
                    build_id: str = "") -> str | None:
        """Commit `site` as the new tip of `branch` (on top of the remote's tip); its hash.

        None when the remote's tip already holds the build `build_id`: the same evidence,
        so nothing to commit or push (a rebuild differs only in its timestamps).
        """
        git = _import_git()
        if not self.repo.head.is_detached and self.repo.head.ref.name == branch:
            raise WorkspaceError(f"branch '{branch}' is checked out: publishing the site to it "
                                 "would replace your work; publish to another branch with "
                                 "--branch (default gh-pages)")
        remote_tip = self._fetch_tip(remote, branch)
        if remote_tip and build_id and self._published_build(remote_tip) == build_id:
            return None
        parent = remote_tip or self._local_tip(branch)
        with tempfile.TemporaryDirectory(prefix="evidencechain-index-") as tmp:
            env = {**_quiet_env(), **self._identity(), "GIT_INDEX_FILE": str(Path(tmp) / "index"),
                   "GIT_WORK_TREE": str(site)}
            try:
                # -f: the user's global ignore rules must not drop files from the site.
                _git(self.repo, "-c", "core.autocrlf=false", "add", "-A", "-f", "--", ".",
                     env=env, cwd=site)
                tree = _git(self.repo, "write-tree", env=env).strip()
                args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
                commit = _git(self.repo, *args, env=env).strip()
                _git(self.repo, "update-ref", "-m", "evidencechain deploy",
                     f"refs/heads/{branch}", commit)
            except git.GitCommandError as exc:
                raise BuildError(f"could not commit the site to '{branch}': "
                                 f"{_one_line(exc)}") from None
        return commit

    def push(self, remote: str, commit: str, branch: str) -> None:
        """Push `commit` as `branch` of `remote`; BuildError with git's reason on failure."""
        git = _import_git()
        try:
            _git(self.repo, "push", "--quiet", remote, f"{commit}:refs/heads/{branch}",
                 env=_quiet_env())
        except git.GitCommandError as exc:
            raise BuildError(f"push to '{remote}' failed: {_one_line(exc)}") from None

    def _fetch_tip(self, remote: str, branch: str) -> str | None:
        """The remote's current tip of `branch`, fetched, so the push is a fast-forward."""
        git = _import_git()
        tracking = f"refs/remotes/{remote}/{branch}"
        try:
            _git(self.repo, "fetch", "--quiet", remote, f"+refs/heads/{branch}:{tracking}",
                 env=_quiet_env())
        except git.GitCommandError as exc:
            if "couldn't find remote ref" not in str(exc).lower():
                raise BuildError(f"cannot fetch '{branch}' from '{remote}': "
                                 f"{_one_line(exc)}") from None
            return None  # the first deploy: the branch does not exist there yet
        return _git(self.repo, "rev-parse", "--verify", tracking).strip()

    def _published_build(self, commit: str) -> str | None:
        """The build id in `commit`'s evidence.json, if it has a readable one."""
        git = _import_git()
        try:
            document = json.loads(_git(self.repo, "show", f"{commit}:evidence.json"))
            return str(document["build"]["id"])
        except (git.GitCommandError, ValueError, KeyError, TypeError):
            return None

    def _local_tip(self, branch: str) -> str | None:
        git = _import_git()
        try:
            return _git(self.repo, "rev-parse", "--verify", "--quiet",
                        f"refs/heads/{branch}").strip() or None
        except git.GitCommandError:
            return None

    def _identity(self) -> dict[str, str]:
        """Fall back to a neutral committer where git has no user configured (CI, tests)."""
        git = _import_git()
        env = {}
        for key, var, default in (("user.name", "NAME", "evidencechain"),
                                  ("user.email", "EMAIL", "evidencechain@localhost")):
            try:
                _git(self.repo, "config", key)
            except git.GitCommandError:
                env[f"GIT_AUTHOR_{var}"] = env[f"GIT_COMMITTER_{var}"] = default
        return env


# --------------------------------------------------------------------------- git calls


@functools.cache
def _import_git() -> Any:
    """GitPython, or None when it cannot run (it refuses to import without a git binary)."""
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    try:
        import git
    except ImportError:
        return None
    try:
        git.Git().version_info  # noqa: B018  (raises when no git binary can be run)
    except Exception:
        return None
    return git


def _git_errors() -> tuple[type[BaseException], ...]:
    git = _import_git()
    return (git.GitCommandError, OSError, ValueError) if git else (OSError, ValueError)


def _git(repo: Any, *args: str, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> str:
    """Run one git command in `repo` (or in `cwd`) and return its output as text."""
    git = _import_git()
    runner = git.Git(str(cwd)) if cwd else repo.git
    if cwd:
        env = {"GIT_DIR": str(repo.git_dir), **(env or {})}
    raw = runner.execute(["git", *args], env=env, stdout_as_string=False,
                         kill_after_timeout=GIT_TIMEOUT, strip_newline_in_stdout=False)
    # Author names and messages need not be UTF-8; a bad byte must not stop a build.
    return raw.decode("utf-8", errors="replace")


def _quiet_env() -> dict[str, str]:
    # Fail instead of waiting for a password prompt nobody will answer.
    return {"GIT_TERMINAL_PROMPT": "0"}


def _one_line(exc: BaseException) -> str:
    """git's own reason on one line: its first `fatal:`/`error:` line, else its last line."""
    stderr = str(getattr(exc, "stderr", "") or "")
    lines = []
    for raw in stderr.splitlines():
        line = re.sub(r"^\s*stderr:\s*", "", raw).strip().strip("'\"").strip()
        if line and not line.startswith("hint:"):
            lines.append(line)
    reasons = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    text = (reasons or lines or [str(exc)])[0 if reasons else -1]
    text = re.sub(r"^(fatal: |error: )+", "", text)
    return " ".join(text.split())
