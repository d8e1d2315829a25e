"""Sign a project's assets with the candidate's own key, from what the manifest declares.

For a candidate whose tools attached no Content Credentials. Each asset gets a manifest
built from its `evidence.yml` entry: `c2pa.created` with the declared digital source type
and its models as software agents, or, for an asset made from others, `c2pa.opened` on its
declared sources (added as ingredients) and `c2pa.edited`. Sources are signed first and the
signed copies are used as ingredients, so each ingredient carries exactly the manifest its
own file carries, which is what `crosscheck` matches on.

Nothing is guessed: an asset whose origin the manifest does not state is skipped with a
reason. Signed copies go to another folder unless the caller asks for in-place signing.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import provenance
from .errors import ProvenanceError, UsageError
from .model import Asset, Project
from .provenance import (
    ProvenanceRecord,
    SigningIdentity,
    TrustSettings,
    can_carry_credentials,
    sign_asset,
    verify_file,
)

SIGNED = "signed"
SKIPPED = "skipped"
FAILED = "failed"

AI_GENERATED = "trainedAlgorithmicMedia"


@dataclass(frozen=True)
class SignJob:
    """What signing one asset means: its file, the statements to sign, or why not."""

    asset_path: str
    source: Path
    title: str
    digital_source_type: str | None = None
    software_agents: tuple[str, ...] = ()
    ingredients: tuple[str, ...] = ()  # asset paths, parent first
    skip_reason: str | None = None

    @property
    def skipped(self) -> bool:
        """True when the plan already knows this asset will not be signed."""
        return self.skip_reason is not None


@dataclass(frozen=True)
class SignOutcome:
    """What happened to one asset: signed (to `output`), skipped or failed, and why."""

    asset_path: str
    status: str
    detail: str
    output: Path | None = None


# --------------------------------------------------------------------------- plan


def plan_signing(project: Project) -> list[SignJob]:
    """One job per declared asset, sources before the assets derived from them.

    The digital source type is the asset's `source_type`; an asset made from others needs
    none (its manifest says `c2pa.edited`). A raw asset with no `source_type` in an
    ai-creative project is taken as `trainedAlgorithmicMedia` only when it lists `models`;
    any other asset of unstated origin is skipped with a reason, never given a guessed type.
    """
    by_path = {a.path: a for a in reversed(project.manifest.assets)}
    order, cyclic = _sources_first(project.manifest.assets, by_path)
    return [_job(project, by_path[path], path in cyclic) for path in order]


def _sources_first(assets: list[Asset], by_path: dict[str, Asset]) -> tuple[list[str], set[str]]:
    """Asset paths in manifest order, each after its sources; and those in a cycle."""
    order: list[str] = []
    done: set[str] = set()
    cyclic: set[str] = set()
    stack: list[str] = []

    def visit(path: str) -> None:
        if path in done:
            return
        if path in stack:  # a derived_from cycle: sign none of its members
            cyclic.update(stack[stack.index(path):])
            return
        stack.append(path)
        for source in by_path[path].derived_from:
            if source in by_path:
                visit(source)
        stack.pop()
        done.add(path)
        order.append(path)

    for asset in assets:
        visit(asset.path)
    return order, cyclic


def _job(project: Project, asset: Asset, in_cycle: bool) -> SignJob:
    source = project.asset_file(asset.path)
    job = SignJob(asset.path, source, PurePosixPath(asset.path).name)
    if not _can_sign(source):
        suffix = source.suffix or "this kind of"
        return _skip(job, f"{suffix} files cannot carry Content Credentials")
    if in_cycle:
        return _skip(job, "its derived_from links form a cycle")
    ingredients = tuple(s for s in asset.derived_from if _can_read(project.asset_file(s)))
    source_type = _source_type(project, asset)
    if source_type is None and not ingredients:
        return _skip(job, _no_source_type_reason(asset))
    return SignJob(
        asset.path,
        source,
        job.title,
        digital_source_type=source_type,
        software_agents=_software_agents(project, asset),
        ingredients=ingredients,
    )


def _skip(job: SignJob, reason: str) -> SignJob:
    return SignJob(job.asset_path, job.source, job.title, skip_reason=reason)


def _source_type(project: Project, asset: Asset) -> str | None:
    if asset.source_type:
        return asset.source_type
    if (asset.role == "raw" and asset.models and not asset.derived_from
            and project.manifest.kind == "ai-creative"):
        return AI_GENERATED  # a raw output of the models it lists, in an AI-creative project
    return None


def _no_source_type_reason(asset: Asset) -> str:
    if asset.role == "raw" and not asset.models:
        hint = "list its models or add a source_type"
    else:
        hint = "add a source_type such as digitalCapture or digitalCreation"
    return f"the manifest does not say how it was made ({hint})"


def _software_agents(project: Project, asset: Asset) -> tuple[str, ...]:
    """The asset's models as "name version", versions taken from the model card."""
    versions = {m.name: m.version for m in project.manifest.model_card.models}
    agents = []
    for name in asset.models:
        version = versions.get(name)
        agents.append(f"{name} {version}" if version else name)
    return tuple(agents)


def _can_sign(path: Path) -> bool:
    # c2pa reads a few camera raw formats it cannot write, so ask for the writable set;
    # provenance keeps that list (and c2pa) to itself, hence its private helper.
    return bool(provenance.can_sign(path))


def _can_read(path: Path) -> bool:
    return can_carry_credentials(path)


# --------------------------------------------------------------------------- identity


def check_identity(
    identity: SigningIdentity,
    *,
    trust: TrustSettings | None = None,
    name: str = "signing certificate",
) -> ProvenanceRecord:
    """Sign a 1-pixel probe in a temp folder; ProvenanceError (naming `name`) if c2pa refuses.

    Returns the probe's record under `trust`, so a caller can warn when the signer will read
    as unknown to those anchors. Touches nothing outside its temp folder.
    """
    with tempfile.TemporaryDirectory(prefix="evidencechain-probe-") as tmp:
        probe = Path(tmp) / "probe.png"
        probe.write_bytes(_PROBE_PNG)
        signed = Path(tmp) / "signed.png"
        try:
            sign_asset(probe, signed, identity, title="probe.png",
                       digital_source_type="digitalCreation", trust=trust)
        except ProvenanceError as exc:
            reason = str(exc).removeprefix("cannot sign probe.png: ")
            raise ProvenanceError(f"{name}: c2pa refuses this certificate or key: {reason}") \
                from None
        return verify_file(signed, trust or TrustSettings())


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# A 1x1 white PNG, written by hand so this module needs no imaging library.
_PROBE_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
    + _png_chunk(b"IEND", b"")
)


# --------------------------------------------------------------------------- sign


def sign_project(
    project: Project,
    identity: SigningIdentity,
    *,
    out_dir: Path | None,
    in_place: bool,
    trust: TrustSettings | None = None,
    identity_name: str = "signing certificate",
) -> list[SignOutcome]:
    """Sign every plannable asset of `project`; return one outcome per asset, in plan order.

    Signed copies go to `out_dir/<asset path>`, or replace the originals when `in_place`
    (each atomically). Assets that already carry Content Credentials are left alone, so
    re-running is safe and credentials from other tools are never replaced. `trust` is used
    to validate ingredients at signing time, so their results are recorded as trusted.
    Raises UsageError for a bad destination and ProvenanceError (one line, naming
    `identity_name`) for a certificate or key c2pa refuses, both before touching any file.
    """
    if in_place and out_dir is not None:
        raise UsageError("give either an output folder or in-place signing, not both")
    if not in_place and out_dir is None:
        raise UsageError("give an output folder for the signed copies, or sign in place "
                         "explicitly; originals are never overwritten otherwise")
    jobs = plan_signing(project)
    destinations = {job.asset_path: _destination(project, job, out_dir, in_place) for job in jobs}
    check_identity(identity, trust=trust, name=identity_name)
    signed: dict[str, Path] = {}
    blocked: set[str] = set()  # failed, or derived from something that failed
    outcomes = []
    for job in jobs:
        broken = [p for p in job.ingredients if p in blocked]
        if broken:
            # Signing now would link the unsigned file, and a later fixed run could never
            # match it: leave the whole branch for that run.
            outcome = SignOutcome(job.asset_path, SKIPPED,
                                  f"its source '{broken[0]}' could not be signed")
        else:
            outcome = _sign_one(project, job, destinations[job.asset_path], signed, identity,
                                trust)
        if outcome.status == SIGNED and outcome.output is not None:
            signed[job.asset_path] = outcome.output
        elif outcome.status == FAILED or broken:
            blocked.add(job.asset_path)
        outcomes.append(outcome)
    return outcomes


def _destination(project: Project, job: SignJob, out_dir: Path | None, in_place: bool) -> Path:
    if in_place or out_dir is None:
        return job.source
    dst = Path(out_dir) / job.asset_path
    if dst.resolve() == job.source.resolve():
        raise UsageError(f"{dst}: the output would overwrite the original; choose another "
                         "folder or sign in place explicitly")
    return dst


def _sign_one(
    project: Project,
    job: SignJob,
    dst: Path,
    signed: dict[str, Path],
    identity: SigningIdentity,
    trust: TrustSettings | None,
) -> SignOutcome:
    if job.skip_reason:
        return SignOutcome(job.asset_path, SKIPPED, job.skip_reason)
    existing = verify_file(job.source, trust or TrustSettings())
    if existing.has_manifest:
        return SignOutcome(job.asset_path, SKIPPED, "already carries Content Credentials "
                           f"({existing.verdict_label.lower()}); not re-signed")
    # The signed copy of a source, if this run made one: its manifest is the one its own
    # file now carries, so the ingredient link can be matched by manifest label.
    ingredients = [signed.get(p, project.asset_file(p)) for p in job.ingredients]
    try:
        sign_asset(
            job.source,
            dst,
            identity,
            title=job.title,
            digital_source_type=job.digital_source_type,
            software_agents=job.software_agents,
            ingredients=ingredients,
            trust=trust,
        )
    except ProvenanceError as exc:
        return SignOutcome(job.asset_path, FAILED, str(exc))
    return SignOutcome(job.asset_path, SIGNED, _describe(job), dst)


def _describe(job: SignJob) -> str:
    parts = [job.digital_source_type or "edited"]
    if job.software_agents:
        parts.append("by " + ", ".join(job.software_agents))
    if job.ingredients:
        parts.append("from " + ", ".join(job.ingredients))
    return "; ".join(parts)
