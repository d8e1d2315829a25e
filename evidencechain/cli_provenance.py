"""The `verify` and `sign` commands: Content Credentials from the command line.

`verify` is for anyone, typically a reviewer holding files downloaded from a candidate's
site: it trusts only the anchors given with `--trust`, never the ones a workspace declares,
because those are the candidate's own claim. Exit codes of `verify`:

- 1 when any file is tampered, or is unreadable with credentials present or possibly
  present (a manifest that no longer decodes, an unparsable signature, truncated media):
  such a file does not hold up;
- 0 otherwise: an unknown signer, no credentials, a remote manifest (never fetched: reading
  is offline), or a file with nothing to verify (empty, or not really the image its name
  says) are reported, not failures;
- with `--strict`, every file that is not "verified" fails, and so does every file made
  from an ingredient that fails verification (see below);
- 2 for wrong usage (a missing path, a folder holding no file that can carry credentials).

A file's verdict is about that file alone: c2pa does not carry an ingredient's damage into
the file made from it. So under each file, `verify` also names the ingredients that do not
hold up: one whose own file is among those verified and fails verification on its own
(matched by manifest label), and one whose failure the file's credentials recorded when it
was used. These are warnings, not failures (exit 0, the file itself is intact), except with
`--strict`. Signed ingredients whose files were not given are noted as not checked.

`sign` signs a workspace's assets with the candidate's own key (see `signing.py`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import UsageError, WorkspaceError

# c2pa, mkdocs and Pillow load on first use, as cli.py does for `build`: `--help` and the
# other commands stay fast.
if TYPE_CHECKING:
    from .crosscheck import ChainIssue
    from .model import Project, Workspace
    from .problems import Problem
    from .provenance import ProvenanceRecord, TrustSettings
    from .signing import SignOutcome

WORKSPACE_ARG = click.argument(
    "workspace", type=click.Path(path_type=Path), default=Path("."), required=False,
)
TRUST_OPTION = click.option(
    "--trust", "trust_files", multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM file of trust anchors (CA certificates); repeat for several.",
)


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """cli.py's error handling, looked up at call time.

    cli.py imports this module at its end to register the commands; importing cli.py here
    at module level would fail whenever this module is imported first.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .cli import _handle_errors as handle

        return handle(func)(*args, **kwargs)

    return wrapper


class _InvalidWorkspace(WorkspaceError):
    """The workspace has errors; the problems are attached for `_handle_errors` to print."""

    def __init__(self, problems: list[Problem]):
        errors = sum(p.level == "error" for p in problems)
        super().__init__(f"{errors} error(s) in the workspace; nothing was signed")
        self.problems = problems


# --------------------------------------------------------------------------- verify


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print every record in full, with its validation codes, as JSON.")
@TRUST_OPTION
@click.option("--strict", is_flag=True,
              help="Fail on anything short of verified: unknown signers, no credentials, "
                   "ingredients that fail verification.")
@_handle_errors
def verify(files: tuple[Path, ...], as_json: bool, trust_files: tuple[Path, ...],
           strict: bool) -> None:
    """Verify the Content Credentials of FILES (or of every file in a folder), offline.

    For a built evidencechain site, a folder means its published originals
    (projects/*/files/). Without --trust no signer is trusted, so signed files read as
    "Signed, unknown signer".
    """
    from .provenance import TrustSettings, verify_files

    paths, skipped = _collect(files)
    if not paths:
        raise UsageError("no file that can carry Content Credentials in "
                         + ", ".join(str(f) for f in files))
    records = verify_files(paths, TrustSettings.from_files(trust_files))
    chains = {r.path: _Chain.of(r, records) for r in records}
    failed = [r for r in records if _fails(r, strict) or (strict and chains[r.path].issues)]
    if as_json:
        click.echo(json.dumps(_verify_json(records, skipped, strict, chains, failed), indent=2,
                              ensure_ascii=False))
    else:
        for record in records:
            click.echo(_verify_line(record))
            for line in chains[record.path].lines():
                click.echo(f"  {line}")
        click.echo(_verify_footer(records, skipped, failed, chains))
    sys.exit(1 if failed else 0)


@dataclass(frozen=True)
class _Chain:
    """A file's ingredients that do not hold up, and how many were not checked at all."""

    issues: tuple[ChainIssue, ...] = ()
    unchecked: int = 0  # signed ingredients whose own file was not among those verified

    @classmethod
    def of(cls, record: ProvenanceRecord, records: list[ProvenanceRecord]) -> _Chain:
        from .crosscheck import chain_issues

        by_path = {r.path: r for r in records}
        labels = {r.active_manifest for r in records if r.active_manifest}
        issues = tuple(chain_issues(record.path, by_path))
        reported = {i.source for i in issues}
        unchecked = sum(1 for i in record.ingredients
                        if i.active_manifest and i.active_manifest not in labels
                        and (i.title or "(untitled)") not in reported)
        return cls(issues, unchecked)

    def lines(self) -> list[str]:
        """`warning:` per failing ingredient, then a `note:` for the unchecked ones."""
        out = []
        for issue in self.issues:
            noun = "ingredient" if issue.direct else "source"
            out.append(f"warning: {noun} {issue.describe()}; this file itself is intact: "
                       "c2pa does not carry an ingredient's damage into the file made from it")
        if self.unchecked:
            out.append(f"note: {self.unchecked} signed ingredient(s) show no failure in this "
                       "file's credentials, but were not checked on their own: their files "
                       "were not given (verify them too, e.g. the whole folder)")
        return out


def _collect(args: tuple[Path, ...]) -> tuple[list[Path], list[Path]]:
    """Files to verify, and folder files skipped because their format carries no credentials.

    A file named on the command line is always verified; inside a folder, hidden files and
    formats c2pa cannot read (YAML, CSV, HTML...) are skipped, to keep the report readable.
    """
    from .provenance import can_carry_credentials

    paths: list[Path] = []
    skipped: list[Path] = []
    for arg in args:
        if not arg.is_dir():
            paths.append(arg)
            continue
        for path in _folder_files(arg):
            (paths if can_carry_credentials(path) else skipped).append(path)
    return paths, skipped


def _folder_files(folder: Path) -> list[Path]:
    if _is_built_site(folder):
        candidates = folder.glob("projects/*/files/**/*")
    else:
        candidates = folder.rglob("*")
    return sorted(
        p for p in candidates
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _is_built_site(folder: Path) -> bool:
    """Our build marker, or (for a downloaded copy without it) a page beside project files."""
    from .build import MARKER

    if (folder / MARKER).is_file():
        return True
    return (folder / "index.html").is_file() and any(folder.glob("projects/*/files"))


def _fails(record: ProvenanceRecord, strict: bool) -> bool:
    """Whether `record` makes `verify` exit 1 (see the module docstring)."""
    from .provenance import TAMPERED, UNREADABLE, VERIFIED

    if record.verdict == VERIFIED:
        return False
    if strict or record.verdict == TAMPERED:
        return True
    if record.verdict == UNREADABLE:
        # Remote manifests are never fetched, and a file without credentials cannot be
        # invalid; anything else unreadable is a damaged file or damaged credentials.
        return not (record.remote_manifest_url or record.has_manifest is False)
    return False


def _verify_line(record: ProvenanceRecord) -> str:
    """`<path>: <verdict label> — <detail>` plus AI, agents and ingredients, compactly.

    The detail names the signer, or the failure codes in words; `--json` has every code.
    """
    extras = []
    if record.ai_generated:
        types = ", ".join(t.rsplit("/", 1)[-1] for t in record.digital_source_types)
        extras.append(f"AI-generated ({types})")
    elif record.ai_in_history:
        extras.append("AI in its history")
    if record.software_agents:
        extras.append("agents: " + ", ".join(record.software_agents))
    if record.ingredients:
        extras.append(f"{len(record.ingredients)} ingredient(s)")
    tail = "".join(f" · {e}" for e in extras)
    return f"{record.path}: {record.verdict_label} — {record.detail}{tail}"


def _verify_footer(records: list[ProvenanceRecord], skipped: list[Path],
                   failed: list[ProvenanceRecord], chains: dict[str, _Chain]) -> str:
    from .crosscheck import summarize

    text = summarize(records).describe("files")
    upstream = sum(bool(c.issues) for c in chains.values())
    if upstream:
        text += f" · {upstream} made from an ingredient that fails verification"
    if skipped:
        text += f" ({len(skipped)} other file(s) skipped: formats without credentials)"
    return text + (f": {len(failed)} failed" if failed else ": ok")


def _verify_json(records: list[ProvenanceRecord], skipped: list[Path], strict: bool,
                 chains: dict[str, _Chain], failed: list[ProvenanceRecord]) -> dict[str, Any]:
    from .crosscheck import summarize
    from .provenance import VERDICT_LABELS

    summary = summarize(records)
    failing = {id(r) for r in failed}
    return {
        "ok": not failed,
        "strict": strict,
        "summary": {
            "total": summary.total,
            "counts": {v: summary.count(v) for v in VERDICT_LABELS},
            "ai_generated": summary.ai_generated,
            "failing_ingredients": sum(bool(c.issues) for c in chains.values()),
            "text": summary.describe("files"),
        },
        "records": [{**r.to_dict(), "fails": id(r) in failing,
                     "ingredient_issues": [i.to_dict() for i in chains[r.path].issues],
                     "unchecked_ingredients": chains[r.path].unchecked}
                    for r in records],
        "skipped": [str(p) for p in skipped],
    }


# --------------------------------------------------------------------------- sign


@click.command()
@WORKSPACE_ARG
@click.option("--cert", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your certificate chain, PEM: your certificate first, then its CA.")
@click.option("--key", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The private key of that certificate, PEM (unencrypted).")
@click.option("--project", "slugs", multiple=True,
              help="Sign only this project (by slug); repeat for several.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write signed copies here, as projects/<folder>/<asset path>.")
@click.option("--in-place", is_flag=True, help="Replace the original files by signed ones.")
@TRUST_OPTION
@_handle_errors
def sign(workspace: Path, cert: Path, key: Path, slugs: tuple[str, ...], out: Path | None,
         in_place: bool, trust_files: tuple[Path, ...]) -> None:
    """Sign the workspace's assets with your own key, from what the manifests declare.

    Each asset gets Content Credentials built from its evidence.yml entry (source type,
    models, the sources it was derived from). Assets that already carry credentials, and
    assets whose origin the manifest does not state, are skipped with the reason.
    """
    from .provenance import VERIFIED, SigningIdentity
    from .signing import FAILED, check_identity, sign_project

    if out is not None and in_place:
        raise UsageError("give either --out DIR or --in-place, not both")
    if out is None and not in_place:
        raise UsageError("give --out DIR for signed copies, or --in-place to replace the "
                         "originals")
    ws = _load(workspace)
    projects = _select(ws, slugs)
    trust = _workspace_trust(ws, trust_files)
    identity = SigningIdentity.from_files(cert, key)
    probe = check_identity(identity, trust=trust, name=str(cert))
    if probe.verdict != VERIFIED:
        click.echo(f"note: {cert} does not chain to the workspace's trust anchors; the signed "
                   "assets will read as 'Signed, unknown signer' until its CA is listed in "
                   "provenance.trust_anchors", err=True)
    outcomes: list[SignOutcome] = []
    for project in projects:
        rel = project.folder.relative_to(ws.root)
        target = out / rel if out is not None else None
        for outcome in sign_project(project, identity, out_dir=target, in_place=in_place,
                                    trust=trust, identity_name=str(cert)):
            click.echo(_sign_line(rel.as_posix(), outcome))
            outcomes.append(outcome)
    click.echo(_sign_footer(outcomes, out))
    sys.exit(1 if any(o.status == FAILED for o in outcomes) else 0)


def _load(workspace: Path) -> Workspace:
    from .manifest import load_workspace
    from .problems import has_errors

    result = load_workspace(workspace)
    if result.workspace is None or has_errors(result.problems):
        raise _InvalidWorkspace(result.problems)
    return result.workspace


def _select(ws: Workspace, slugs: tuple[str, ...]) -> list[Project]:
    by_slug = {p.slug: p for p in ws.projects}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown:
        raise UsageError(f"no project has slug '{unknown[0]}'; slugs are: "
                         + ", ".join(by_slug))
    return [by_slug[s] for s in dict.fromkeys(slugs)] if slugs else list(ws.projects)


def _workspace_trust(ws: Workspace, extra: tuple[Path, ...]) -> TrustSettings:
    """The workspace's anchors (relative to its root) plus --trust files."""
    from .provenance import TrustSettings

    options = ws.config.provenance
    anchors = [ws.root / a for a in options.trust_anchors] + list(extra)
    return TrustSettings.from_files(anchors, options.allowed_ekus)


def _sign_line(folder: str, outcome: SignOutcome) -> str:
    status = "FAILED" if outcome.status == "failed" else outcome.status  # signed, skipped
    return f"{folder}/{outcome.asset_path}: {status} — {outcome.detail}"


def _sign_footer(outcomes: list[SignOutcome], out: Path | None) -> str:
    from .signing import FAILED, SIGNED, SKIPPED

    counts = {s: sum(o.status == s for o in outcomes) for s in (SIGNED, SKIPPED, FAILED)}
    where = f"into {out}" if out is not None else "in place"
    return (f"{counts[SIGNED]} signed {where}, {counts[SKIPPED]} skipped, "
            f"{counts[FAILED]} failed")

