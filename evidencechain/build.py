"""The `build` command's worker: check, derive assets, render, and swap the site in whole.

Everything is written into a temporary folder beside the output; only a complete build is
renamed into place, so a failed or killed build leaves the previous site exactly as it was.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .assets import Gap, PreparedAsset, measure_gap, prepare_project_assets
from .check import CheckResult, ProjectCheck, check_workspace
from .errors import BuildError, UsageError, WorkspaceError
from .model import Project
from .pages import ProjectView, Receipt
from .problems import Problem, has_errors
from .reproduce import RECORD_FILE, RecordState
from .site import run_mkdocs, write_config, write_docs

# A built site carries this file, so a rebuild knows the folder is ours to replace.
MARKER = ".evidencechain-site"


@dataclass
class BuildResult:
    """Where the site went, what was found on the way, and how long it took."""

    output: Path
    pages: int
    seconds: float
    problems: list[Problem] = field(default_factory=list)


class InvalidWorkspace(WorkspaceError):
    """The workspace has errors; the problems are attached for the CLI to print."""

    def __init__(self, problems: list[Problem]):
        errors = [p for p in problems if p.level == "error"]
        super().__init__(f"{len(errors)} error(s) in the workspace; the site was not built")
        self.problems = problems


def build_site(workspace_dir: Path, output: Path | None = None, *, force: bool = False,
               strict_provenance: bool = False) -> BuildResult:
    """Build the evidence site of `workspace_dir` into `output` (default: WORKSPACE/site)."""
    started = time.perf_counter()
    checked = check_workspace(workspace_dir, strict_provenance=strict_provenance)
    problems = list(checked.problems)
    if checked.workspace is None or has_errors(problems):
        raise InvalidWorkspace(problems)
    workspace = checked.workspace
    output = (output or workspace.root / "site").resolve()
    check_output_dir(output, workspace.root, force=force)

    output.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(output)
    scratch = Path(tempfile.mkdtemp(prefix=f".{output.name}.build-", dir=output.parent))
    try:
        views, asset_problems = _prepare(checked, scratch / "stage")
        problems.extend(asset_problems)
        if has_errors(asset_problems):
            raise InvalidWorkspace(problems)
        site_dir = scratch / "site"
        nav = write_docs(workspace.config, views, scratch / "docs")
        run_mkdocs(write_config(workspace.config, nav, scratch / "docs", site_dir,
                                scratch / "mkdocs.yml"))
        _move_assets_into(scratch / "stage", site_dir)
        (site_dir / MARKER).write_text("built by evidencechain\n", encoding="utf-8")
        _swap_into_place(site_dir, output)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return BuildResult(output, len(views) + 2, time.perf_counter() - started, problems)


def _remove_leftovers(output: Path) -> None:
    """Scratch folders of builds that were killed before they could clean up after themselves.

    Only folders named the way this module names them, beside this output, are removed.
    """
    olds = sorted(output.parent.glob(f".{output.name}.old-*"))
    if olds and not output.exists():
        olds.pop().rename(output)  # killed between the two renames: restore the last site
    for leftover in olds + list(output.parent.glob(f".{output.name}.build-*")):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)


def check_output_dir(output: Path, root: Path, *, force: bool) -> None:
    """Refuse outputs that would overwrite the workspace or files we did not create."""
    if output == root or root.is_relative_to(output):
        raise UsageError(f"{output}: the output folder would contain the workspace itself; "
                         "choose another folder")
    if output.is_relative_to(root / "projects"):
        raise UsageError(f"{output}: the output folder must not be inside projects/")
    if output.exists() and not output.is_dir():
        raise UsageError(f"{output}: exists and is not a folder")
    if (output.is_dir() and any(output.iterdir()) and not (output / MARKER).exists()
            and not force):
        raise UsageError(f"{output}: folder holds files evidencechain did not create; "
                         "empty it, pick another folder, or pass --force")


def _prepare(checked: CheckResult, stage: Path) -> tuple[list[ProjectView], list[Problem]]:
    views, problems = [], []
    receipt = Receipt(checked.trust_digest, checked.trust_anchor_count)
    for c in checked.projects:
        project_stage = stage / "projects" / c.project.slug
        prepared, found = prepare_project_assets(c.project, project_stage)
        problems.extend(found)
        views.append(ProjectView(c.project, c.completeness, prepared, c.provenance, receipt,
                                 gaps=_gaps(c.project, prepared, project_stage),
                                 history=c.history, audit=c.audit,
                                 reproduction=_publish_reproduction(c, project_stage)))
    return views, problems


def _publish_reproduction(checked: ProjectCheck, stage: Path) -> RecordState | None:
    """Stage the reproduction record and its log beside the page, byte for byte.

    Without an intact log the record is still shown, marked so, but nothing is published:
    a reviewer must never download a log that is not the one the record hashes.
    """
    state = checked.reproduction
    if state is None or not state.log_ok:
        return state
    stage.mkdir(parents=True, exist_ok=True)
    for name in (state.record.log_file, RECORD_FILE):
        shutil.copyfile(checked.project.folder / name, stage / name)
    return state


def _gaps(project: Project, prepared: dict[str, PreparedAsset],
          stage: Path) -> dict[tuple[str, str], Gap]:
    """Raw-to-final distance for every declared (source, final) pair of images."""
    gaps = {}
    for asset in project.manifest.assets:
        for source in asset.derived_from:
            if source in prepared and asset.path in prepared:
                gap = measure_gap(stage, prepared[source], prepared[asset.path])
                if gap:
                    gaps[(source, asset.path)] = gap
    return gaps


def _move_assets_into(stage: Path, site_dir: Path) -> None:
    """Move staged originals and display copies next to their pages (same disk: renames)."""
    if not stage.is_dir():
        return
    for source in sorted(p for p in stage.rglob("*") if p.is_file()):
        target = site_dir / source.relative_to(stage)
        if target.exists():
            raise BuildError(f"{target.relative_to(site_dir)}: an asset would replace a "
                             "generated page file; rename the asset")
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)


def _swap_into_place(new_site: Path, output: Path) -> None:
    """Replace `output` by `new_site` so that no reader, and no kill, ever sees half a site."""
    if not output.exists():
        new_site.rename(output)
        return
    if _exchange(new_site, output):
        shutil.rmtree(new_site, ignore_errors=True)  # now holds the previous site
        return
    # No atomic exchange here: two renames, and a kill between them is undone by the next
    # build (see _remove_leftovers), which puts the previous site back.
    old = output.with_name(f".{output.name}.old-{time.time_ns()}")
    output.rename(old)
    try:
        new_site.rename(output)
    except OSError:
        old.rename(output)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
