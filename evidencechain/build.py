"""The `build` command's worker: check, derive assets, render, and swap the site in whole.

Everything is written into a temporary folder beside the output; only a complete build is
renamed into place, so a failed or killed build leaves the previous site exactly as it was.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .assets import (
    Gap,
    PreparedAsset,
    gap_cached,
    looks_cached,
    measure_gap,
    prepare_project_assets,
)
from .blind import BlindReview
from .cache import CACHE_DIR, Cache, CacheStats, Tracker
from .check import CheckResult, ProjectCheck, check_workspace, declared_assets
from .errors import BuildError, UsageError, WorkspaceError
from .evidence_json import evidence_document, staged_digests, stamp_build, write_evidence
from .manifest import find_root
from .model import Project
from .pages import ProjectView, Receipt
from .problems import Problem, has_errors
from .reproduce import RECORD_FILE, RecordState
from .sanitize import remembered
from .site import run_mkdocs, site_title, write_config, write_docs

# A built site carries this file, so a rebuild knows the folder is ours to replace.
MARKER = ".evidencechain-site"


@dataclass
class BuildResult:
    """Where the site went, what was found on the way, and how long it took."""

    output: Path
    pages: int
    seconds: float
    problems: list[Problem] = field(default_factory=list)
    build_id: str = ""
    blind: bool = False
    cache: CacheStats | None = None  # None: built with --no-cache
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage


class InvalidWorkspace(WorkspaceError):
    """The workspace has errors; the problems are attached for the CLI to print."""

    def __init__(self, problems: list[Problem]):
        errors = [p for p in problems if p.level == "error"]
        super().__init__(f"{len(errors)} error(s) in the workspace; the site was not built")
        self.problems = problems


def _frozen_heap(build: Callable[..., BuildResult]) -> Callable[..., BuildResult]:
    """Keep Python's cyclic garbage collector from scanning, again and again, what lives
    until the build ends: the modules imported before it, and (frozen again before MkDocs
    runs) the records, views and pages. Objects made later are collected as usual."""
    @functools.wraps(build)
    def frozen(*args, **kwargs) -> BuildResult:
        first = gc.get_freeze_count() == 0
        gc.freeze()
        try:
            return build(*args, **kwargs)
        finally:
            if first:  # what a caller froze itself stays frozen
                gc.unfreeze()
    return frozen


@_frozen_heap
def build_site(workspace_dir: Path, output: Path | None = None, *, force: bool = False,
               strict_provenance: bool = False, blind: bool = False,
               cache_dir: Path | None = None, use_cache: bool = True, jobs: int | None = None,
               tracker: Tracker | None = None) -> BuildResult:
    """Build the evidence site of `workspace_dir` into `output` (default: WORKSPACE/site).

    `blind` (or `review.blind` in the workspace file) builds a site for blind review.
    Evidence work is reused from the cache in `cache_dir` (default WORKSPACE/
    .evidencechain-cache) unless `use_cache` is False; `jobs` threads (default: one per
    CPU) share it; `tracker` times the stages and counts the assets for a progress display.
    """
    started = time.perf_counter()
    tracker = tracker or Tracker()
    jobs = max(1, jobs or default_jobs())
    # The output is checked first: a wrong -o is the user's mistake to hear about, before
    # the cache's own placement rules or a full check of the workspace.
    root = find_root(workspace_dir)
    output = (output or root / "site").resolve()
    check_output_dir(output, root, force=force)
    cache = _open_cache(root, output, cache_dir) if use_cache else None
    checked = check_workspace(workspace_dir, strict_provenance=strict_provenance,
                              cache=cache, jobs=jobs, tracker=tracker)
    problems = list(checked.problems)
    if checked.workspace is None or has_errors(problems):
        raise InvalidWorkspace(problems)
    workspace = checked.workspace
    review = _blind_review(checked) if blind or workspace.config.review.blind else None
    config = review.config(workspace.config) if review else workspace.config

    output.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(output)
    scratch = Path(tempfile.mkdtemp(prefix=f".{output.name}.build-", dir=output.parent))
    replaced = False  # True once `scratch` holds the previous site, swapped out
    try:
        tracker.start("display", sum(len(c.project.manifest.assets) for c in checked.projects),
                      declared_assets(checked.projects))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            reuse = _Reuse(cache, _previous_site(output, cache), pool, jobs, tracker)
            views, asset_problems = _prepare(checked, scratch / "stage", review, reuse)
        problems.extend(asset_problems)
        if has_errors(asset_problems):
            raise InvalidWorkspace(problems)
        site_dir = scratch / "site"
        tracker.start("pages")
        with remembered(cache):
            nav = write_docs(config, views, scratch / "docs")
        if review:
            review.redact_folder(scratch / "docs")
        tracker.start("build id")
        build_id = stamp_build(scratch / "docs", scratch / "stage", site_title(config),
                               _volatile(checked), staged_digests(views))
        tracker.start("site")
        gc.freeze()  # and now the records, views and pages too (see _frozen_heap)
        run_mkdocs(write_config(config, nav, scratch / "docs", site_dir,
                                scratch / "mkdocs.yml"))
        tracker.start("publish")
        _move_assets_into(scratch / "stage", site_dir)
        evidence = evidence_document(config, views, build_id, blind=review is not None)
        write_evidence(site_dir, review.redact_data(evidence) if review else evidence)
        if review:
            _refuse_leaks(review, site_dir)
        (site_dir / MARKER).write_text("built by evidencechain\n", encoding="utf-8")
        replaced = _swap_into_place(site_dir, output)
    finally:
        if replaced:
            _delete_later([scratch])
        else:
            shutil.rmtree(scratch, ignore_errors=True)
        tracker.stop()
        if cache is not None:
            cache.save()  # also after a failed build: what it learnt stays true
    return BuildResult(output, len(views) + 2, time.perf_counter() - started, problems,
                       build_id, review is not None, cache.stats if cache else None,
                       tracker.seconds())


def default_jobs() -> int:
    """Worker threads by default: one per CPU this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _open_cache(root: Path, site: Path, cache_dir: Path | None) -> Cache:
    """The build cache (WORKSPACE/.evidencechain-cache unless named), refused where a build
    of the workspace at `root` into `site` would delete it or read it as a project."""
    folder = (cache_dir or root / CACHE_DIR).resolve()
    if folder == site or folder.is_relative_to(site) or site.is_relative_to(folder):
        raise UsageError(f"{folder}: the cache folder and the output folder must not contain "
                         "each other; choose another --cache-dir")
    if folder.is_relative_to(root / "projects"):
        raise UsageError(f"{folder}: the cache folder must not be inside projects/")
    return Cache(folder)


def _previous_site(output: Path, cache: Cache | None) -> Path | None:
    """Where the site will be: its previous version's originals may be linked instead of
    copied, and the cache notes the new copies there for the next build."""
    return output if cache is not None else None


@dataclass(frozen=True)
class _Reuse:
    """What `_prepare` shares: the cache, the previous site, the workers, the tracker."""

    cache: Cache | None = None
    previous: Path | None = None
    pool: Executor | None = None
    jobs: int = 2
    tracker: Tracker | None = None


def _blind_review(checked: CheckResult) -> BlindReview:
    """What a blind build hides: the workspace's identifying fields and every signer."""
    records = [r for c in checked.projects for r in c.provenance.values()]
    return BlindReview.for_workspace(checked.workspace, records)


def _volatile(checked: CheckResult) -> set[str]:
    """Values that change on every build without the evidence changing (left out of the id)."""
    return {r.verified_at for c in checked.projects for r in c.provenance.values()}


def _refuse_leaks(review: BlindReview, site_dir: Path) -> None:
    """A blind site that still names the candidate is not published: say where and stop."""
    leaks = review.leaks(site_dir)
    if leaks:
        shown = "; ".join(leaks[:5]) + (f"; and {len(leaks) - 5} more" if len(leaks) > 5 else "")
        raise BuildError(f"the blind site would still identify the candidate: {shown}; remove "
                         "it from the workspace, or build without --blind")


def _remove_leftovers(output: Path) -> None:
    """Scratch folders of builds that were killed before they could clean up after themselves.

    Only folders named the way this module names them, beside this output, are removed.
    """
    olds = sorted(output.parent.glob(f".{output.name}.old-*"))
    if olds and not output.exists():
        olds.pop().rename(output)  # killed between the two renames: restore the last site
    for old in olds:  # deleted here and now: a half-deleted `.old-*` must never be restored
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
    _delete_later([leftover for leftover in output.parent.glob(f".{output.name}.build-*")
                   if leftover.is_dir() and not leftover.is_symlink()])


# Processes deleting folders this process no longer needs (see _delete_later).
_DELETING: list[subprocess.Popen] = []


def _delete_later(folders: list[Path]) -> None:
    """Delete `folders` in a separate process, so that neither the build nor its process
    waits for one unlink per file of a replaced site (seconds at hundreds of projects).

    Only scratch folders (`.NAME.build-*`) are passed: if the deleting process is killed
    half-way, the next build removes the rest (`_remove_leftovers`), and a half-deleted
    folder is never taken for a site. Where no `rm` can be started they are deleted here.
    """
    if not folders:
        return
    _DELETING[:] = [proc for proc in _DELETING if proc.poll() is None]
    rm = shutil.which("rm") if os.name == "posix" else None
    if rm:
        # At the lowest CPU priority: it must not slow down what the user does next.
        nice = shutil.which("nice")
        lowest = [nice, "-n", "19"] if nice else []
        try:
            _DELETING.append(subprocess.Popen(
                [*lowest, rm, "-rf", "--", *map(str, folders)], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            return
        except OSError:
            pass
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_deletions() -> None:
    """Wait until the folders handed to background deletion are gone (for tests, and for
    callers that remove the output's parent folder themselves)."""
    while _DELETING:
        _DELETING.pop().wait()


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


def _prepare(checked: CheckResult, stage: Path, review: BlindReview | None = None,
             reuse: _Reuse | None = None) -> tuple[list[ProjectView], list[Problem]]:
    views, problems = [], []
    reuse = reuse or _Reuse()
    receipt = Receipt(checked.trust_digest, checked.trust_anchor_count)
    prepared_all = list(_prepare_assets(checked, stage, review, reuse))
    # Measured once every display copy exists, as a stage of its own: comparing raw and
    # final is not part of making the copies, and is timed apart from it.
    pairs = [_gap_pairs(c.project, prepared) for c, (prepared, _) in
             zip(checked.projects, prepared_all, strict=True)]
    if reuse.tracker:
        reuse.tracker.start("gaps", sum(map(len, pairs)))
    gaps_all = _measure_gaps(checked, pairs, stage, reuse)
    for c, (prepared, found), gaps in zip(checked.projects, prepared_all, gaps_all,
                                          strict=True):
        project_stage = stage / "projects" / c.project.slug
        problems.extend(found)
        view = ProjectView(c.project, c.completeness, prepared, c.provenance, receipt,
                           gaps=gaps,
                           history=c.history, audit=c.audit,
                           reproduction=_publish_reproduction(c, project_stage),
                           rubric=c.rubric)
        views.append(review.view(view) if review else view)
    return views, problems


def _prepare_assets(checked: CheckResult, stage: Path, review: BlindReview | None,
                    reuse: _Reuse) -> Iterator[tuple[dict[str, PreparedAsset], list[Problem]]]:
    """Each project's prepared assets and problems, in order, made concurrently.

    `jobs` projects are in flight at once, their assets queued on the one shared pool, so
    every core stays busy across project boundaries.
    """
    def one(c: ProjectCheck, inline: bool = False) -> tuple[
            dict[str, PreparedAsset], list[Problem]]:
        project_stage = stage / "projects" / c.project.slug
        withhold = review.withheld(c.project, c.provenance, reuse.cache) if review else None
        previous = reuse.previous / "projects" / c.project.slug if reuse.previous else None
        return prepare_project_assets(
            c.project, project_stage, withhold=withhold, cache=reuse.cache, previous=previous,
            pool=None if inline else reuse.pool, workers=1 if inline else reuse.jobs,
            step=reuse.tracker.step if reuse.tracker else None)

    # Projects whose work is all in the cache are done here, one after another, while the
    # pools make what is missing (see assets.looks_cached).
    with ThreadPoolExecutor(max_workers=reuse.jobs) as projects:
        pending = [None if looks_cached(c.project, reuse.cache) else projects.submit(one, c)
                   for c in checked.projects]
        for c, future in zip(checked.projects, pending, strict=True):
            yield one(c, inline=True) if future is None else future.result()


GapPair = tuple[PreparedAsset, PreparedAsset]  # (source, final), both images


def _gap_pairs(project: Project, prepared: dict[str, PreparedAsset]) -> list[GapPair]:
    """Every declared (source, final) pair of prepared images, in manifest order."""
    return [(prepared[source], prepared[asset.path]) for asset in project.manifest.assets
            for source in asset.derived_from
            if source in prepared and asset.path in prepared
            and prepared[source].is_image and prepared[asset.path].is_image]


def _measure_gaps(checked: CheckResult, pairs: list[list[GapPair]], stage: Path,
                  reuse: _Reuse) -> list[dict[tuple[str, str], Gap]]:
    """Raw-to-final distance for each project's pairs: pairs the cache holds here, the
    others on the pool (decoding and comparing releases the GIL)."""
    def one(c: ProjectCheck, pair: GapPair, cached: bool) -> Gap | None:
        gap = measure_gap(stage / "projects" / c.project.slug, *pair, reuse.cache)
        if reuse.tracker:
            reuse.tracker.step(cached)
        return gap

    jobs = [(c, pair, gap_cached(*pair, reuse.cache))
            for c, project_pairs in zip(checked.projects, pairs, strict=True)
            for pair in project_pairs]
    pending = [None if reuse.pool is None or cached else reuse.pool.submit(one, c, pair, False)
               for c, pair, cached in jobs]
    found = iter([one(*job) if future is None else future.result()
                  for job, future in zip(jobs, pending, strict=True)])
    gaps_all = []
    for project_pairs in pairs:
        measured = ((pair, next(found)) for pair in project_pairs)
        gaps_all.append({(source.asset.path, final.asset.path): gap
                         for (source, final), gap in measured if gap})
    return gaps_all


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


def _move_assets_into(stage: Path, site_dir: Path) -> None:
    """Move staged originals and display copies next to their pages (same disk: renames).

    A staged folder the pages do not have yet (a project's files/ and display/) moves in
    one rename; only where both have a folder are the files moved one by one, each checked
    against the page files MkDocs wrote.
    """
    if stage.is_dir():
        _move_tree(stage, site_dir, site_dir)


def _move_tree(source_dir: Path, target_dir: Path, site_dir: Path) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(source_dir.iterdir()):
        target = target_dir / source.name
        if source.is_dir() and not source.is_symlink() and not target.is_symlink():
            if target.is_dir():
                _move_tree(source, target, site_dir)
                continue
            if not target.exists():
                source.rename(target)
                continue
        if target.exists() or target.is_symlink():
            raise BuildError(f"{target.relative_to(site_dir)}: an asset would replace a "
                             "generated page file; rename the asset")
        source.rename(target)


def _swap_into_place(new_site: Path, output: Path) -> bool:
    """Replace `output` by `new_site` so that no reader, and no kill, ever sees half a site.

    True when a previous site was replaced: it is then at `new_site`'s old path (inside the
    build's scratch folder), for the caller to delete.
    """
    if not output.exists():
        new_site.rename(output)
        return False
    if _exchange(new_site, output):
        return True  # `new_site` now holds the previous site
    # No atomic exchange here: two renames, and a kill between them is undone by the next
    # build (see _remove_leftovers), which puts the previous site back.
    old = output.with_name(f".{output.name}.old-{time.time_ns()}")
    output.rename(old)
    try:
        new_site.rename(output)
    except OSError:
        old.rename(output)
        raise
    # Into the scratch folder: a half-deleted `.old-*` could be taken for the last site.
    old.rename(new_site)
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
