"""The `check` command's worker, shared by `build`: load, assess completeness, verify.

Returns one result holding every problem and, per project, what a reviewer will be shown:
the chain's completeness and each asset's provenance record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .assets import asset_warnings
from .audit import CodeAudit, audit_project
from .chain import Completeness, assess
from .crosscheck import cross_check
from .errors import ProvenanceError
from .history import ProjectHistory, project_history
from .manifest import load_workspace
from .model import Project, Workspace
from .problems import ERROR, WARNING, Problem
from .reproduce import RecordState, read_record
from .verification import Records, verify_project, workspace_trust


@dataclass
class ProjectCheck:
    """One project as checked: its completeness and its assets' provenance."""

    project: Project
    completeness: Completeness
    provenance: Records = field(default_factory=dict)
    history: ProjectHistory | None = None  # None: no git repository to read
    audit: CodeAudit | None = None
    reproduction: RecordState | None = None  # None: never reproduced (or unreadable)


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


def check_workspace(path: Path, *, strict_provenance: bool = False,
                    verify: bool = True) -> CheckResult:
    """Check the workspace at `path`: manifests, completeness and (if `verify`) provenance."""
    loaded = load_workspace(path)
    problems = list(loaded.problems)
    workspace = loaded.workspace
    projects = [_audited(p) for p in (workspace.projects if workspace else [])]
    for checked in projects:
        problems.extend(asset_warnings(checked.project))
    if workspace is not None:
        _read_histories(workspace, projects, problems)
        _read_reproductions(workspace, projects, problems)
    result = CheckResult(workspace, projects, problems)
    if workspace is None or not verify or any(p.level == ERROR for p in problems):
        return result
    try:
        trust = workspace_trust(workspace)
    except ProvenanceError as exc:
        line, col = workspace.config_source.locate(("provenance", "trust_anchors"))
        problems.append(Problem(workspace.config_source.file, line, col, ERROR, str(exc),
                                "$.provenance.trust_anchors"))
        return result
    result.trust_digest = trust.digest()
    result.trust_anchor_count = len(workspace.config.provenance.trust_anchors)
    for checked in projects:
        verified = verify_project(checked.project, trust, strict=strict_provenance)
        checked.provenance = verified.records
        problems.extend(verified.problems)
        problems.extend(cross_check(checked.project, verified.records))
    problems.sort()
    return result


def _read_histories(workspace: Workspace, projects: list[ProjectCheck],
                    problems: list[Problem]) -> None:
    """Each project's git history, and errors for the commits its manifest names but lacks."""
    identities = workspace.config.candidate.git_identities
    for checked in projects:
        checked.history, found = project_history(checked.project, workspace.root, identities)
        problems.extend(found)
    problems.sort()


def _audited(project: Project) -> ProjectCheck:
    """The static code audit, whose findings join the chain's completeness."""
    audit = audit_project(project)
    return ProjectCheck(project, assess(project.manifest, audit.observed()), audit=audit)


def _read_reproductions(workspace: Workspace, projects: list[ProjectCheck],
                        problems: list[Problem]) -> None:
    """Each project's reproduction record; a corrupt or stale one is a located warning."""
    for checked in projects:
        checked.reproduction, found = read_record(checked.project, workspace.root)
        problems.extend(found)
    problems.sort()
