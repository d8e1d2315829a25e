"""The `check` command's worker, shared by `build`: load, assess completeness, verify.

Returns one result holding every problem and, per project, what a reviewer will be shown:
the chain's completeness and each asset's provenance record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .chain import Completeness, assess
from .errors import ProvenanceError
from .manifest import load_workspace
from .model import Project, Workspace
from .problems import ERROR, WARNING, Problem
from .verification import Records, verify_project, workspace_trust


@dataclass
class ProjectCheck:
    """One project as checked: its completeness and its assets' provenance."""

    project: Project
    completeness: Completeness
    provenance: Records = field(default_factory=dict)


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
    projects = [ProjectCheck(p, assess(p.manifest)) for p in
                (workspace.projects if workspace else [])]
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
    problems.sort()
    return result
