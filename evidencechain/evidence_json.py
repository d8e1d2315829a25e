"""`evidence.json`: the site's evidence for machines, and the build id that names it.

Written at the root of every built site; its format is `schemas/evidence-output.schema.json`.
Its key names are the ones `check --format json` and `verify --json` use where they say the
same thing (`completeness`, `missing`, `provenance_summary`, `verdict`, `verdict_label`,
`trust`), so one parser reads all three.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .chain import Completeness
from .crosscheck import summarize
from .model import WorkspaceConfig
from .pages import ProjectView, chain_issues_of, h
from .provenance import VERDICT_LABELS, ProvenanceRecord
from .reproduce import RecordState
from .scoresheet import BUILD_ID_TOKEN, SITE_TOKEN
from .scoring import Rubric

FILE_NAME = "evidence.json"
FORMAT = "evidencechain-evidence"
FORMAT_VERSION = 1
BUILD_ID_LENGTH = 12
# The record fields evidence.json carries for each asset, named as in `ProvenanceRecord`.
RECORD_FIELDS = ("verdict", "verdict_label", "detail", "ai_generated", "ai_in_history",
                 "digital_source_types", "software_agents", "signer_common_name",
                 "signer_issuer", "signed_at", "failure_codes")


# --------------------------------------------------------------------------- build id


def stamp_build(docs_dir: Path, stage_dir: Path, site_title: str,
                volatile: Iterable[str] = (), known: Mapping[str, str] | None = None) -> str:
    """Give the build its id (`compute_build_id`); write it and the site title into the pages."""
    pages = sorted(docs_dir.rglob("*.md"))
    build_id = compute_build_id(docs_dir, stage_dir, volatile, known, pages=pages)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if BUILD_ID_TOKEN in text or SITE_TOKEN in text:
            page.write_text(text.replace(BUILD_ID_TOKEN, build_id)
                            .replace(SITE_TOKEN, h(site_title)), encoding="utf-8")
    return build_id


def compute_build_id(docs_dir: Path, stage_dir: Path, volatile: Iterable[str] = (),
                     known: Mapping[str, str] | None = None, *,
                     pages: list[Path] | None = None) -> str:
    """The build id: a hash of every generated page and every staged file.

    It hashes every page, read before the id is written into it, and every staged file
    (originals, display copies, records), so it changes exactly when what a reviewer sees
    changes. `volatile` strings (the time the credentials were checked) are left out, so
    rebuilding unchanged evidence keeps the id that reviewers' scores carry. `known` gives
    the SHA-256 of staged files the build already knows (by path relative to `stage_dir`;
    the build cache vouched for them); only the other files are read, and the id is the
    one hashing every file would give.
    """
    known = known or {}
    volatile = [value for value in volatile if value]
    digest = hashlib.sha256()
    for page in pages if pages is not None else sorted(docs_dir.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for value in volatile:
            text = text.replace(value, "")
        digest.update(f"page {page.relative_to(docs_dir).as_posix()}\n".encode())
        digest.update(hashlib.sha256(text.encode()).digest())
    for rel in _files_under(stage_dir):
        digest.update(f"file {rel}\n".encode())
        digest.update(bytes.fromhex(known[rel]) if rel in known
                      else _file_sha256(stage_dir / rel))
    return digest.hexdigest()[:BUILD_ID_LENGTH]


def _files_under(folder: Path) -> list[str]:
    """Every file below `folder` by its POSIX path relative to it, in the order sorting
    their Paths gives (part by part). Strings, not Paths: a large site stages tens of
    thousands of files, and Path sorting and relative_to cost more than the rest."""
    found = []
    for top, _, names in os.walk(folder):
        rel_top = os.path.relpath(top, folder).replace(os.sep, "/")
        prefix = "" if rel_top == "." else rel_top + "/"
        found += (prefix + name for name in names if os.path.isfile(os.path.join(top, name)))
    return sorted(found, key=lambda rel: rel.split("/"))


def staged_digests(views: Iterable[ProjectView]) -> dict[str, str]:
    """The SHA-256 the build knows of each staged asset file, by its path in the stage (and
    the site): `projects/SLUG/` plus the URL the page uses (the `known` of `stamp_build`)."""
    return {f"projects/{view.project.slug}/{url}": sha256
            for view in views for item in view.assets.values()
            for url, sha256 in item.staged_digests().items()}


def _file_sha256(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            h.update(chunk)
    return h.digest()


# --------------------------------------------------------------------------- shared parts


def completeness_dict(completeness: Completeness) -> dict[str, Any]:
    """`completeness` (percent) and `missing`, as `check --format json` words them."""
    return {
        "completeness": completeness.percent,
        "missing": [{"key": m.key, "label": m.label, "hint": m.hint}
                    for m in completeness.missing],
        "chain": [{"key": link.key, "label": link.label, "present": link.present}
                  for link in completeness.links],
    }


def provenance_summary(records: Iterable[ProvenanceRecord], noun: str = "assets",
                       failing_ingredients: int = 0) -> dict:
    """Verdict counts, as `verify --json` prints them under `summary`; `failing_ingredients`
    counts the files made from a source that fails verification (see `chain_issues`)."""
    summary = summarize(records)
    return {
        "total": summary.total,
        "counts": {verdict: summary.count(verdict) for verdict in VERDICT_LABELS},
        "ai_generated": summary.ai_generated,
        "failing_ingredients": failing_ingredients,
        "text": summary.describe(noun),
    }


def reproduction_dict(state: RecordState | None) -> dict[str, Any] | None:
    """The last `evidencechain reproduce` run, or None when the project was never run."""
    if state is None:
        return None
    record = state.record
    return {
        "status": record.status,
        "ok": record.ok,
        "headline": record.headline(),
        "reproduced": record.reproduced,
        "metrics": [{"name": m.name, "expected": m.expected, "value": m.value,
                     "outcome": m.outcome} for m in record.metrics],
        "started_at": record.started_at,
        "seconds": record.seconds,
        "stale": state.stale,
        "stale_reasons": list(state.stale_reasons),
        "log_intact": state.log_ok,
    }


def rubric_dict(rubric: Rubric | None) -> dict[str, Any] | None:
    """The rubric's name, pass mark and weighted competencies."""
    if rubric is None:
        return None
    return {
        "name": rubric.name,
        "title": rubric.title,
        "pass_threshold": rubric.pass_threshold,
        "competencies": [{"id": c.id, "title": c.title, "weight": c.weight}
                         for c in rubric.competencies],
    }


# --------------------------------------------------------------------------- document


def evidence_document(config: WorkspaceConfig, views: list[ProjectView], build_id: str, *,
                      blind: bool) -> dict[str, Any]:
    """The whole evidence.json. In a blind build `config` is the blinded one: the
    candidate is left out and only the pseudonym (`alias`) remains."""
    candidate = config.candidate
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": f"evidencechain {__version__}",
        "build": {"id": build_id, "blind": blind,
                  "built_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "site": {"title": config.site.title or candidate.name, "url": config.site.url},
        "candidate": None if blind else {
            "name": candidate.name,
            "headline": candidate.headline,
            "location": candidate.location,
            "links": [{"label": link.label, "url": link.url} for link in candidate.links],
        },
        "alias": candidate.name if blind else None,
        "receipt": _receipt(views, blind),
        "projects": [_project(view) for view in views],
    }


def write_evidence(site_dir: Path, document: dict[str, Any]) -> Path:
    """Write `document` as `evidence.json` at the site root."""
    target = site_dir / FILE_NAME
    # Compact: json's C encoder writes it three times as fast as with indent (which
    # falls back to Python), and smaller; `python -m json.tool` shows it indented.
    target.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n",
                      encoding="utf-8")
    return target


def _receipt(views: list[ProjectView], blind: bool) -> dict[str, Any]:
    records = [r for v in views for r in v.provenance.values()]
    receipt = views[0].receipt if views else None
    return {
        "c2pa_version": records[0].c2pa_version if records else None,
        "verified_at": records[0].verified_at if records else None,
        "trust": {
            "anchors": receipt.trust_anchor_count if receipt else 0,
            # The digest of the candidate's own CA would tie a blind site to a public one.
            "digest": (receipt.trust_digest or None) if receipt and not blind else None,
        },
    }


def _project(view: ProjectView) -> dict[str, Any]:
    m = view.manifest
    slug = view.project.slug
    return {
        "slug": slug,
        "title": m.title,
        "summary": m.summary,
        "kind": m.kind,
        "source": m.source,
        "role": m.role,
        "dates": {"start": m.dates.start, "end": m.dates.end} if m.dates else None,
        "page": f"projects/{slug}/index.html",
        **completeness_dict(view.completeness),
        "success_metrics": [{"name": s.name, "target": s.target, "achieved": s.achieved,
                             "met": s.met} for s in (m.brief.success_metrics if m.brief else [])],
        "provenance_summary": provenance_summary(
            view.provenance.values(),
            failing_ingredients=sum(bool(chain_issues_of(view, p)) for p in view.provenance)),
        "assets": [_asset(view, a.path) for a in m.assets],
        "models": [{"name": x.name, "version": x.version, "provider": x.provider,
                    "licence": x.licence, "commercial_use": x.commercial_use}
                   for x in m.model_card.models],
        "reproduction": reproduction_dict(view.reproduction),
        "rubric": rubric_dict(view.rubric),
    }


def _asset(view: ProjectView, path: str) -> dict[str, Any]:
    base = f"projects/{view.project.slug}/"
    item = view.assets.get(path)
    record = view.provenance.get(path)
    asset = next(a for a in view.manifest.assets if a.path == path)
    withheld = item.withheld if item else None
    provenance = None
    if record is not None:
        data = record.to_dict()
        provenance = {key: data[key] for key in RECORD_FIELDS}
        # A withheld original's hash would let a reviewer match it to the public file.
        provenance["sha256"] = None if withheld else record.sha256
        provenance["ingredient_issues"] = [i.to_dict() for i in chain_issues_of(view, path)]
    return {
        "path": path,
        "role": asset.role,
        "caption": asset.caption,
        "original": base + item.original_url if item and not withheld else None,
        "withheld": withheld,
        "display": base + item.display.url if item and item.display else None,
        "provenance": provenance,
    }
