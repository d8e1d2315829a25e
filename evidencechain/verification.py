"""Verify every asset of a workspace and turn bad verdicts into located findings.

The workspace's trust anchors come from `evidencechain.yml`; with none configured every
signer is "unknown", which is reported, not failed, unless the user asks for strictness.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Project, Workspace
from .problems import ERROR, WARNING, Problem
from .provenance import (
    NO_CREDENTIALS,
    TAMPERED,
    UNKNOWN_SIGNER,
    UNREADABLE,
    ProvenanceRecord,
    TrustSettings,
    can_carry_credentials,
    verify_files,
)
from .yamlsource import format_path

Records = dict[str, ProvenanceRecord]


@dataclass(frozen=True)
class ProjectProvenance:
    """One project's verification: a record per asset path and the findings about them."""

    records: Records
    problems: tuple[Problem, ...]


def workspace_trust(workspace: Workspace) -> TrustSettings:
    """Trust anchors and EKUs named in `evidencechain.yml` (paths relative to the workspace)."""
    options = workspace.config.provenance
    return TrustSettings.from_files([workspace.root / p for p in options.trust_anchors],
                                    tuple(options.allowed_ekus))


def verify_project(project: Project, trust: TrustSettings, *,
                   strict: bool = False) -> ProjectProvenance:
    """Verify each declared asset of `project` on its own (raw files too: c2pa does not
    carry an ingredient's damage into the final file's verdict)."""
    paths = [asset.path for asset in project.manifest.assets]
    found = verify_files([project.asset_file(p) for p in paths], trust)
    records = dict(zip(paths, found, strict=True))
    return ProjectProvenance(records, tuple(verdict_problems(project, records, strict=strict)))


def verdict_problems(project: Project, records: Records, *, strict: bool) -> list[Problem]:
    """A finding for each asset whose credentials are broken (or, if strict, not trusted)."""
    problems = []
    failing = {TAMPERED, UNREADABLE} | ({UNKNOWN_SIGNER, NO_CREDENTIALS} if strict else set())
    for index, asset in enumerate(project.manifest.assets):
        record = records.get(asset.path)
        if record is None or record.verdict not in failing:
            continue
        if record.verdict == NO_CREDENTIALS and not can_carry_credentials(record.path):
            continue  # a notebook or memo cannot carry credentials; nothing to fix
        level = ERROR if strict else WARNING
        path = ("assets", index, "path")
        line, col = project.source.locate(path)
        problems.append(Problem(project.manifest_file, line, col, level,
                                f"'{asset.path}' provenance: {record.verdict_label.lower()}: "
                                f"{record.detail}", format_path(path)))
    return problems


