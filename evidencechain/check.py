"""The `check` command's worker, shared by `build`: load, assess completeness, verify.

Returns one result holding every problem and, per project, what a reviewer will be shown:
the chain's completeness and each asset's provenance record.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .assets import asset_problems, metadata_cached
from .audit import CodeAudit, audit_project
from .cache import Cache, Tracker, code_version, from_json, make_key, to_json
from .chain import Completeness, assess
from .crosscheck import cross_check
from .errors import ProvenanceError
from .history import ProjectHistory, project_history
from .manifest import load_workspace
from .model import Project, Workspace
from .problems import ERROR, WARNING, Problem
from .reproduce import RecordState, read_record
from .scoring import Rubric, resolve_rubrics
from .verification import Records, verify_workspace, workspace_trust


@dataclass
class ProjectCheck:
    """One project as checked: its completeness and its assets' provenance."""

    project: Project
    completeness: Completeness
    provenance: Records = field(default_factory=dict)
    history: ProjectHistory | None = None  # None: no git repository to read
    audit: CodeAudit | None = None
    reproduction: RecordState | None = None  # None: never reproduced (or unreadable)
    rubric: Rubric | None = None  # None: its rubric file is not usable (an error says why)


@dataclass
class CheckResult:
    """Everything `check` found; `workspace` is None when the workspace file is unusable."""

    workspace: Workspace | None
    projects: list[ProjectCheck]
    problems: list[Problem]
    trust_digest: str = ""
    trust_anchor_count: int = 0

    @property
    def errors(self) -> int:
        return sum(p.level == ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.level == WARNING for p in self.problems)


def check_workspace(path: Path, *, strict_provenance: bool = False, verify: bool = True,
                    cache: Cache | None = None, jobs: int = 2,
                    tracker: Tracker | None = None) -> CheckResult:
    """Check the workspace at `path`: manifests, completeness and (if `verify`) provenance.

    With a `cache`, verdicts, image metadata and git histories already computed for the
    same inputs are reused; `jobs` threads share the work; `tracker` times the stages.
    """
    tracker = tracker or Tracker()
    with tracker.stage("load"):
        loaded = load_workspace(path, cache)
        problems = list(loaded.problems)
        workspace = loaded.workspace
        projects = [_audited(p) for p in (workspace.projects if workspace else [])]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        if workspace is not None:
            with tracker.stage("history", len(projects)):
                _read_histories(workspace, projects, problems, cache, pool, tracker.step)
            _read_reproductions(workspace, projects, problems)
            _read_rubrics(workspace, projects, problems, cache)
        result = CheckResult(workspace, projects, problems)
        # Asset files are only opened once every path is known to be a file inside the
        # workspace (a link to /etc/... is an error above, and never read).
        files_are_safe = workspace is not None and not any(p.level == ERROR for p in problems)
        if files_are_safe and verify:
            _verify(result, strict_provenance, cache, jobs, tracker)
        # After verification, which leaves each file's digest in the cache's stat index.
        readable = projects if files_are_safe else []
        with tracker.stage("metadata", len(readable)):
            # Projects whose answers the cache holds are looked up here, the rest in the pool
            # (see assets.looks_cached).
            pending = [None if metadata_cached(c.project, cache)
                       else pool.submit(asset_problems, c.project, cache=cache)
                       for c in readable]
            for c, future in zip(readable, pending, strict=True):
                problems.extend(asset_problems(c.project, cache=cache) if future is None
                                else future.result())
                tracker.step()
    problems.sort()
    return result


def _verify(result: CheckResult, strict: bool, cache: Cache | None, jobs: int,
            tracker: Tracker) -> None:
    """Verify every asset with the workspace's trust anchors, then cross-check the chains."""
    workspace, problems = result.workspace, result.problems
    try:
        trust = workspace_trust(workspace)
    except ProvenanceError as exc:
        line, col = workspace.config_source.locate(("provenance", "trust_anchors"))
        problems.append(Problem(workspace.config_source.file, line, col, ERROR, str(exc),
                                "$.provenance.trust_anchors"))
        return
    result.trust_digest = trust.digest()
    result.trust_anchor_count = len(workspace.config.provenance.trust_anchors)
    checked = result.projects
    assets = sum(len(c.project.manifest.assets) for c in checked)
    with tracker.stage("provenance", assets, declared_assets(checked)):
        verified = verify_workspace([c.project for c in checked], trust, strict=strict,
                                    cache=cache, workers=jobs, tracker=tracker)
    for project_check, found in zip(checked, verified, strict=True):
        project_check.provenance = found.records
        problems.extend(found.problems)
        problems.extend(cross_check(project_check.project, found.records))


def declared_assets(checked: list[ProjectCheck]) -> str:
    """Where a count of assets comes from, so it adds up with the manifests: "9 + 5 + 5
    declared in 3 projects" (up to 8 projects; more are only counted)."""
    counts = [len(c.project.manifest.assets) for c in checked]
    terms = " + ".join(map(str, counts)) + " " if 1 < len(counts) <= 8 else ""
    return f"{terms}declared in {len(counts)} project{'s' if len(counts) != 1 else ''}"


def _read_histories(workspace: Workspace, projects: list[ProjectCheck],
                    problems: list[Problem], cache: Cache | None = None,
                    pool: Executor | None = None,
                    step: Callable[[bool], None] | None = None) -> None:
    """Each project's git history, and errors for the commits its manifest names but lacks.

    With a cache, a history is reused while the project's manifest and the state of every
    repository it could be read from (see `_git_state`) are unchanged.
    """
    identities = tuple(workspace.config.candidate.git_identities)
    states: dict[Path, str | None] = {}
    keep: list[tuple[str, list[tuple[Path, str | None]], dict]] = []

    def read(checked: ProjectCheck) -> tuple[ProjectHistory | None, list[Problem]]:
        history, found, cached = _history(checked.project, workspace.root, identities,
                                          cache, states, keep)
        if step:
            step(cached)
        return history, found

    found_all = list((pool.map if pool else map)(read, projects))
    for checked, (history, found) in zip(projects, found_all, strict=True):
        checked.history = history
        problems.extend(found)
    problems.extend(_unclaimed_commits(workspace, projects))
    if cache is not None:
        # Kept only if no repository moved while it was read (the entry would be mislabelled).
        for key, used, value in keep:
            if all(_git_state(folder) == state for folder, state in used):
                cache.put("history", key, value)
    problems.sort()


def _unclaimed_commits(workspace: Workspace, projects: list[ProjectCheck]) -> list[Problem]:
    """A hint when git authors carry the candidate's own name but no identity is listed:
    the page would then attribute none of their work to them."""
    config = workspace.config
    if config.candidate.git_identities:
        return []
    name = " ".join(config.candidate.name.split()).casefold()
    slugs = [c.project.slug for c in projects if c.history and any(
        " ".join(a.name.split()).casefold() == name for a in c.history.authors)]
    if not slugs:
        return []
    return [workspace.config_source.problem(
        ("candidate", "name"), WARNING,
        f"git commits in {', '.join(slugs)} are authored under your name but not counted as "
        "yours; list the names or emails you commit under in candidate.git_identities")]


def _history(project: Project, root: Path, identities: tuple[str, ...], cache: Cache | None,
             states: dict[Path, str | None], keep: list
             ) -> tuple[ProjectHistory | None, list[Problem], bool]:
    """One project's history, from the cache when its inputs are unchanged."""
    used = []
    for folder in _repository_folders(project, root):
        if folder not in states:  # once per repository and build
            states[folder] = _git_state(folder)
        used.append((folder, states[folder]))
    if cache is None or all(state is None for _, state in used):
        return *project_history(project, root, identities), False  # no git: nothing to save
    manifest = hashlib.sha256((root / project.manifest_file).read_bytes()).hexdigest()
    key = make_key("history", manifest, str(project.folder.resolve()), str(root.resolve()),
                   [state for _, state in used], identities, code_version())
    value = cache.get("history", key, project.slug)
    if isinstance(value, dict):
        try:
            return (from_json(ProjectHistory, value["history"]),
                    [from_json(Problem, p) for p in value["problems"]], True)
        except (KeyError, TypeError, ValueError):
            pass
    history, found = project_history(project, root, identities)
    if history is not None:  # a git failure is a warning to repeat, not a result to keep
        keep.append((key, used, {"history": to_json(history), "problems": to_json(found)}))
    return history, found, False


def _repository_folders(project: Project, root: Path) -> list[Path]:
    """The folders `project_history` may read a repository from: the clone at `repo.path`
    and the workspace itself."""
    repo = project.manifest.repo
    folders = [(project.folder / repo.path).resolve()] if repo and repo.path else []
    return folders + [root.resolve()]


def _git_state(folder: Path) -> str | None:
    """A digest of what `git log` and `git for-each-ref` answer from the repository whose
    top (or git) folder is `folder`: HEAD, every ref (loose, packed or reftable), shallow
    and graft files, the repository config (remotes, mailmap settings) and the working
    tree's .mailmap. None when `folder` is no repository (the test history.py uses).

    Read from the files, without running git: a handful of small reads per repository.
    Objects are immutable, so the refs name everything the history is read from. Global git
    configuration is not included (it does not change what the history shows).
    """
    dot = folder / ".git"
    if dot.is_dir():
        gitdir = dot
    elif dot.is_file():
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        gitdir = (folder / text.removeprefix("gitdir:").strip()).resolve()
    elif (folder / "HEAD").is_file():
        gitdir = folder
    else:
        return None
    common = gitdir
    if (gitdir / "commondir").is_file():
        common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
    h = hashlib.sha256(b"git-state-v1\0")
    files = [gitdir / "HEAD", common / "packed-refs", common / "shallow", common / "config",
             common / "info" / "grafts", folder / ".mailmap"]
    for tree in dict.fromkeys((gitdir / "refs", common / "refs", common / "reftable")):
        for top, dirs, names in os.walk(tree):
            dirs.sort()
            files.extend(Path(top) / name for name in sorted(names))
    for file in files:
        h.update(str(file).encode() + b"\0")
        try:
            h.update(file.read_bytes())
        except OSError:
            h.update(b"\1missing")
        h.update(b"\0")
    return h.hexdigest()


def _audited(project: Project) -> ProjectCheck:
    """The static code audit, whose findings join the chain's completeness."""
    audit = audit_project(project)
    return ProjectCheck(project, assess(project.manifest, audit.observed()), audit=audit)


def _read_rubrics(workspace: Workspace, projects: list[ProjectCheck],
                  problems: list[Problem], cache: Cache | None = None) -> None:
    """The rubric each project is scored against; a bad rubric file is a located error."""
    rubrics, found = resolve_rubrics(workspace, cache)
    for checked in projects:
        checked.rubric = rubrics.get(checked.project.slug)
    problems.extend(found)
    problems.sort()


def _read_reproductions(workspace: Workspace, projects: list[ProjectCheck],
                        problems: list[Problem]) -> None:
    """Each project's reproduction record; a corrupt or stale one is a located warning."""
    for checked in projects:
        checked.reproduction, found = read_record(checked.project, workspace.root)
        problems.extend(found)
    problems.sort()
