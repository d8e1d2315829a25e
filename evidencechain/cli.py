"""Command line: parses options, calls one worker per command, prints, sets the exit code.

Exit codes: 0 success, 1 invalid workspace or failed build, 2 wrong usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from . import __version__
from .chain import assess
from .errors import EvidenceChainError
from .problems import ERROR, WARNING, Problem

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


@main.command()
@WORKSPACE_ARG
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@_handle_errors
def check(workspace: Path, fmt: str) -> None:
    """Validate every manifest and report the completeness of each evidence chain."""
    from .manifest import load_workspace

    result = load_workspace(workspace)
    projects = result.workspace.projects if result.workspace else []
    report = [(p, assess(p.manifest)) for p in projects]
    errors = sum(p.level == ERROR for p in result.problems)
    if fmt == "json":
        click.echo(json.dumps(_check_json(result.problems, report, errors), indent=2))
    else:
        _print_check_text(result.problems, report, errors)
    sys.exit(1 if errors else 0)


def _check_json(problems: list[Problem], report: list, errors: int) -> dict[str, Any]:
    return {
        "valid": errors == 0,
        "errors": errors,
        "warnings": sum(p.level == WARNING for p in problems),
        "problems": [p.to_dict() for p in problems],
        "projects": [{
            "slug": project.slug,
            "manifest": str(project.manifest_file),
            "title": project.manifest.title,
            "completeness": c.percent,
            "missing": [{"key": m.key, "label": m.label, "hint": m.hint} for m in c.missing],
        } for project, c in report],
    }


def _print_check_text(problems: list[Problem], report: list, errors: int) -> None:
    for problem in problems:
        click.echo(problem.format())
    if report:
        if problems:
            click.echo()
        click.echo("Evidence chain completeness:")
        width = max(len(project.slug) for project, _ in report)
        for project, c in report:
            click.echo(f"  {project.slug:<{width}}  {c.percent:>3}%")
            for link in c.missing:
                click.echo(f"  {'':<{width}}    missing: {link.label} ({link.hint})")
    warnings = sum(p.level == WARNING for p in problems)
    verdict = "invalid" if errors else "valid"
    click.echo(f"{len(report)} project(s), {errors} error(s), {warnings} warning(s): {verdict}")


@main.command()
@WORKSPACE_ARG
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Site folder to write (default: WORKSPACE/site).")
@click.option("--force", is_flag=True,
              help="Replace an output folder that holds files evidencechain did not create.")
@_handle_errors
def build(workspace: Path, output: Path | None, force: bool) -> None:
    """Check the workspace, then build its evidence site."""
    from .build import build_site

    result = build_site(workspace, output, force=force)
    for problem in result.problems:
        click.echo(problem.format(), err=True)
    click.echo(f"Built {result.pages} pages in {result.seconds:.1f} s: {result.output}")
    click.echo(f"Open {result.output / 'index.html'}")


if __name__ == "__main__":  # pragma: no cover
    main()
