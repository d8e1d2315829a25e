"""Command line: parses options, calls one worker per command, prints, sets the exit code.

Exit codes: 0 success, 1 invalid workspace or failed build, 2 wrong usage.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import EvidenceChainError

if TYPE_CHECKING:
    from .cache import StageTotals
    from .check import CheckResult, ProjectCheck

WORKSPACE_ARG = click.argument(
    "workspace", type=click.Path(path_type=Path, file_okay=True), default=Path("."),
    required=False,
)


class _Context:
    debug = False


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print our errors as one line (a traceback only with --debug) and exit with their code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EvidenceChainError as exc:
            if _Context.debug:
                raise
            for problem in getattr(exc, "problems", []):
                click.echo(problem.format(), err=True)
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidencechain")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
def main(debug: bool) -> None:
    """Turn AI work into an evidence chain a hiring reviewer can read and trust."""
    _Context.debug = debug


STRICT_PROVENANCE = click.option(
    "--strict-provenance", is_flag=True,
    help="Treat unknown signers, missing credentials and tampered assets as errors.")


@main.command()
@WORKSPACE_ARG
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@STRICT_PROVENANCE
@_handle_errors
def check(workspace: Path, fmt: str, strict_provenance: bool) -> None:
    """Validate every manifest, verify every asset's credentials, report completeness."""
    from .check import check_workspace

    result = check_workspace(workspace, strict_provenance=strict_provenance)
    if fmt == "json":
        click.echo(json.dumps(_check_json(result), indent=2))
    else:
        _print_check_text(result)
    sys.exit(1 if result.errors else 0)


def _check_json(result: CheckResult) -> dict[str, Any]:
    from .crosscheck import all_chain_issues
    from .evidence_json import provenance_summary, reproduction_dict

    def chains(c: ProjectCheck) -> dict[str, list[Any]]:
        declared = {a.path: a.derived_from for a in c.project.manifest.assets}
        return all_chain_issues(c.provenance, declared)

    def provenance(c: ProjectCheck) -> dict[str, Any]:
        issues = chains(c)
        return {path: {**record.to_dict(),
                       "ingredient_issues": [i.to_dict() for i in issues.get(path, ())]}
                for path, record in c.provenance.items()}

    return {
        "valid": result.errors == 0,
        "errors": result.errors,
        "warnings": result.warnings,
        "problems": [p.to_dict() for p in result.problems],
        "trust": {"anchors": result.trust_anchor_count, "digest": result.trust_digest},
        "projects": [{
            "slug": c.project.slug,
            "manifest": str(c.project.manifest_file),
            "title": c.project.manifest.title,
            "completeness": c.completeness.percent,
            "missing": [{"key": m.key, "label": m.label, "hint": m.hint}
                        for m in c.completeness.missing],
            "provenance": provenance(c),
            # Same words as evidence.json and `verify --json`:
            "provenance_summary": provenance_summary(c.provenance.values(),
                                                     failing_ingredients=len(chains(c))),
            "reproduction": reproduction_dict(c.reproduction),
            "rubric": c.rubric.name if c.rubric else None,
        } for c in result.projects],
    }


def _print_check_text(result: CheckResult) -> None:
    from .crosscheck import summarize

    for problem in result.problems:
        click.echo(problem.format())
    if result.projects:
        if result.problems:
            click.echo()
        click.echo("Evidence chain completeness:")
        width = max(len(c.project.slug) for c in result.projects)
        for c in result.projects:
            click.echo(f"  {c.project.slug:<{width}}  {c.completeness.percent:>3}%"
                       + (f"  provenance: {summarize(c.provenance.values()).text}"
                          if c.provenance else ""))
            for link in c.completeness.missing:
                click.echo(f"  {'':<{width}}    missing: {link.label} ({link.hint})")
        if result.workspace and not result.trust_anchor_count and any(
                c.provenance for c in result.projects):
            click.echo("No trust anchors configured: signed assets show as 'unknown signer' "
                       "(set provenance.trust_anchors in evidencechain.yml).")
    verdict = "invalid" if result.errors else "valid"
    click.echo(f"{len(result.projects)} project(s), {result.errors} error(s), "
               f"{result.warnings} warning(s): {verdict}")


@main.command()
@WORKSPACE_ARG
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Site folder to write (default: WORKSPACE/site).")
@click.option("--force", is_flag=True,
              help="Replace an output folder that holds files evidencechain did not create.")
@STRICT_PROVENANCE
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of the build cache (default: WORKSPACE/.evidencechain-cache).")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the build cache: redo every verification, display "
                   "copy, gap and history.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker threads for verification and display copies (default: one per "
                   "CPU).")
@click.option("--blind", is_flag=True,
              help="Build for blind review: no name, contact links, signer names, git authors "
                   "or identifying originals; the site is titled with a pseudonym.")
@_handle_errors
def build(workspace: Path, output: Path | None, force: bool, strict_provenance: bool,
          cache_dir: Path | None, no_cache: bool, jobs: int | None, blind: bool) -> None:
    """Check the workspace, then build its evidence site."""
    from .build import build_site
    from .cache import Tracker
    from .errors import UsageError

    if no_cache and cache_dir is not None:
        raise UsageError("--no-cache and --cache-dir exclude each other; pass one")
    progress = _Progress(click.get_text_stream("stderr"))
    try:
        result = build_site(workspace, output, force=force, strict_provenance=strict_provenance,
                            blind=blind, cache_dir=cache_dir, use_cache=not no_cache,
                            jobs=jobs, tracker=Tracker(progress))
    finally:
        progress.close()
    for problem in result.problems:
        click.echo(problem.format(), err=True)
    click.echo(f"Built {result.pages} pages in {result.seconds:.1f} s: {result.output}")
    click.echo(f"Build {result.build_id}" + (" (blind review)" if result.blind else ""))
    click.echo(f"Open {result.output / 'index.html'}")


class _Progress:
    """Build progress on stderr, only for builds that take longer than DELAY seconds.

    On a terminal: one line redrawn in place (stage, bar, items done and reused from the
    cache). Elsewhere (CI logs, pipes): one line per finished stage. Lines of stages that
    finished before the delay are held back and printed once it passes.
    """

    DELAY = 2.0
    UNITS = {"provenance": "assets", "display": "assets", "history": "projects",
             "metadata": "projects", "gaps": "pairs"}

    def __init__(self, stream: Any):
        self._clock = time.monotonic
        self._started = self._clock()
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._held: list[str] = []
        self._drawn = 0.0
        self._bar = False
        self._lock = threading.Lock()

    def __call__(self, event: str, stage: StageTotals) -> None:
        with self._lock:
            late = self._clock() - self._started >= self.DELAY
            if event == "end":
                self._line(self._summary(stage), late)
            elif late and self._tty and self._clock() - self._drawn >= 0.1:
                self._drawn = self._clock()
                self._write(f"\r\x1b[K{self._bar_text(stage)}")
                self._bar = True

    def close(self) -> None:
        """Clear the bar; lines still held (a quick build) are dropped."""
        with self._lock:
            if self._bar:
                self._write("\r\x1b[K")
                self._bar = False

    def _summary(self, stage: StageTotals) -> str:
        unit = self.UNITS.get(stage.name)
        detail = f" ({stage.detail})" if stage.detail else ""
        counts = (f" {stage.done} {unit}{detail}, {stage.cached} cached," if unit and stage.total
                  else "")
        return f"{stage.name}:{counts} {stage.seconds:.1f} s"

    def _bar_text(self, stage: StageTotals) -> str:
        unit = self.UNITS.get(stage.name)
        if not (unit and stage.total):
            return f"{stage.name} ..."
        filled = int(24 * stage.done / stage.total)
        return (f"{stage.name:<10} [{'#' * filled}{'.' * (24 - filled)}] {stage.done}/"
                f"{stage.total} {unit} ({stage.cached} cached)")

    def _line(self, text: str, late: bool) -> None:
        if not late:
            self._held.append(text)
            return
        prefix = "\r\x1b[K" if self._bar else ""
        self._bar = False
        self._write(prefix + "".join(line + "\n" for line in [*self._held, text]))
        self._held = []

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


from .cli_provenance import sign, verify  # noqa: E402  (registered last: it imports cli lazily)

main.add_command(verify)
main.add_command(sign)

from .cli_reproduce import reproduce  # noqa: E402  (same: imports cli lazily)

main.add_command(reproduce)

from .cli_publish import deploy, init, serve  # noqa: E402  (same: imports cli lazily)

main.add_command(init)
main.add_command(serve)
main.add_command(deploy)

from .cli_review import scores  # noqa: E402  (same: imports cli lazily)

main.add_command(scores)


if __name__ == "__main__":  # pragma: no cover
    main()
