"""Verify every asset of a workspace and turn bad verdicts into located findings.

The workspace's trust anchors come from `evidencechain.yml`; with none configured every
signer is "unknown", which is reported, not failed, unless the user asks for strictness.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cache import Cache, Tracker, code_version, make_key
from .model import Project, Workspace
from .problems import ERROR, WARNING, Problem
from .provenance import (
    NO_CREDENTIALS,
    TAMPERED,
    UNKNOWN_SIGNER,
    UNREADABLE,
    ProvenanceRecord,
    TrustSettings,
    c2pa_version,
    can_carry_credentials,
    reading_context,
    verify_file,
    verify_files,
)
from .yamlsource import format_path

Records = dict[str, ProvenanceRecord]

# Certificates are checked against the time of reading (there is no trusted timestamp), so
# a signed file's verdict can change with the clock alone (a signer expiring): a cached
# verdict on signed bytes is reused for a day at most. Unsigned bytes' verdicts never age.
SIGNED_VERDICT_MAX_AGE = dt.timedelta(days=1)


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


def verify_workspace(projects: Sequence[Project], trust: TrustSettings, *,
                     strict: bool = False, cache: Cache | None = None, workers: int = 2,
                     tracker: Tracker | None = None) -> list[ProjectProvenance]:
    """Verify every project's assets in one pool of `workers` threads (c2pa releases the
    GIL), reusing `cache`d verdicts for bytes already verified with the same trust anchors
    and c2pa; one result per project, in order."""
    jobs = [(p, a.path) for p in projects for a in p.manifest.assets]
    reading_context(trust)  # build once, before the threads race for it

    def run(job: tuple[Project, str]) -> ProvenanceRecord:
        project, path = job
        record, cached = _verified(project.asset_file(path), trust, cache,
                                   f"{project.slug}/{path}")
        if tracker:
            tracker.step(cached)
        return record

    # Verdicts the cache most likely holds are looked up here, one after another, while the
    # pool verifies the rest (short steps between system calls gain nothing from threads
    # but passing the GIL back and forth; see assets.looks_cached).
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending = [None if _looks_cached(project.asset_file(path), trust, cache)
                   else pool.submit(run, (project, path)) for project, path in jobs]
        found = iter([run(job) if future is None else future.result()
                      for job, future in zip(jobs, pending, strict=True)])
    results = []
    for project in projects:
        records = {a.path: next(found) for a in project.manifest.assets}
        results.append(ProjectProvenance(
            records, tuple(verdict_problems(project, records, strict=strict))))
    return results


def _looks_cached(path: Path, trust: TrustSettings, cache: Cache | None) -> bool:
    """True when the stat index knows the file's digest and a verdict entry exists for it
    (nothing is read; `_verified` still checks the entry)."""
    digest = cache.known_digest(path) if cache is not None else None
    return digest is not None and cache.has("verification", _record_key(digest, path, trust))


def _verified(path: Path, trust: TrustSettings, cache: Cache | None,
              label: str) -> tuple[ProvenanceRecord, bool]:
    """The file's record and whether it came from the cache.

    A file the stat index has never seen is verified straight away (verify_file hashes it
    anyway, and hashing first would cost a second pass on every cold build); a file seen
    before but changed since is hashed first, because its bytes may well be known (a
    checkout, a touch).
    """
    if cache is None:
        return verify_file(path, trust), False
    digest = cache.known_digest(path)
    if digest is None and cache.seen(path):
        digest = cache.digest(path)
    if digest is not None:
        data = cache.get("verification", _record_key(digest, path, trust), label)
        record = _cached_record(data, path)
        if record is not None:
            return record, True
        if data is not None:  # found, but too old or unreadable: verify again
            cache.note_miss("verification", label, was_hit=True)
    else:
        cache.note_miss("verification", label)
    try:
        before = os.stat(path)
    except OSError:
        before = None
    record = verify_file(path, trust)
    if record.sha256 and before is not None and _unchanged(path, before, record.size):
        cache.remember(path, before, record.sha256)
        cache.put("verification", _record_key(record.sha256, path, trust), record.to_dict())
    return record, False


def _record_key(digest: str, path: Path, trust: TrustSettings) -> str:
    # The file name is part of the key: c2pa picks the format from it, and messages name it.
    return make_key("verification", digest, path.name, trust.digest(), c2pa_version(),
                    code_version())


def _unchanged(path: Path, before: os.stat_result, size: int) -> bool:
    """True when the file still has the stat it had before verify_file read it."""
    try:
        after = os.stat(path)
    except OSError:
        return False
    return (after.st_size == size == before.st_size and after.st_ino == before.st_ino
            and after.st_mtime_ns == before.st_mtime_ns
            and after.st_ctime_ns == before.st_ctime_ns)


def _cached_record(data: object, path: Path) -> ProvenanceRecord | None:
    """A record from a cache entry, for the file now at `path`; None when unusable or too
    old to trust (see SIGNED_VERDICT_MAX_AGE)."""
    if not isinstance(data, dict):
        return None
    try:
        record = ProvenanceRecord.from_dict({**data, "path": str(path)})
        verified_at = dt.datetime.fromisoformat(record.verified_at.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        return None
    age = dt.datetime.now(dt.timezone.utc) - verified_at
    if record.has_manifest is not False and age > SIGNED_VERDICT_MAX_AGE:
        return None
    return record


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


