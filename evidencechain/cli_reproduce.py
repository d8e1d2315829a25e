"""The `reproduce` command: run a project's declared reproduction and record the result.

It runs code someone else wrote, so it says so first and asks (or needs `--yes`); it never
runs as part of `check` or `build`, which only read the record it leaves behind. Exit codes:
0 when every command succeeded and every claimed metric was reproduced; 1 when a command
failed or timed out, or a metric differs or was not produced; 2 for wrong usage (including
no `--yes` without a terminal to ask on).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from .audit import audit_project
from .errors import UsageError, WorkspaceError
from .manifest import load_workspace
from .model import Workspace
from .problems import Problem, has_errors
from .reproduce import (
    DEFAULT_TIMEOUT,
    REPRODUCED,
    Isolation,
    Plan,
    Progress,
    Record,
    format_seconds,
    plan_for,
    probe_isolation,
    run,
    write_record,
)

WARNING_TEXT = (
    "reproduce runs code written by someone else on this machine: the commands below, and "
    "whatever they call. They run in a temporary copy of the repository, in a fresh virtual "
    "environment, with HOME and TMPDIR inside that copy, none of your environment variables, "
    "no input and a time limit. Where Linux allows unprivileged namespaces they also run with "
    "the network off, every file outside the copy read-only and in a process namespace of "
    "their own; they can still read any file your user can, and what they print goes into a "
    "log that `build` publishes. Elsewhere they can also reach the network and change your "
    "files. Read the commands before you agree."
)


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """cli.py's error handling, looked up at call time (cli.py imports this module last)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .cli import _handle_errors as handle

        return handle(func)(*args, **kwargs)

    return wrapper


class _InvalidWorkspace(WorkspaceError):
    """The workspace has errors; the problems are attached for `_handle_errors` to print."""

    def __init__(self, problems: list[Problem]):
        errors = sum(p.level == "error" for p in problems)
        super().__init__(f"{errors} error(s) in the workspace; nothing was run")
        self.problems = problems


class Duration(click.ParamType):
    """A time limit: `90s`, `30m`, `1h30m`, `2h`, or plain seconds."""

    name = "duration"
    _FORM = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        match = self._FORM.match(str(value).strip().lower())
        if not match or not any(match.groups()):
            self.fail(f"'{value}' is not a duration; write e.g. 90s, 30m or 1h30m", param, ctx)
        hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        total = hours * 3600 + minutes * 60 + seconds
        if total <= 0:
            self.fail("the time limit must be more than zero", param, ctx)
        return total


@click.command()
@click.argument("workspace", type=click.Path(path_type=Path), default=Path("."),
                required=False)
@click.option("--project", "slug", default=None,
              help="Reproduce only this project (by slug); default: every project that "
                   "declares reproduce.commands.")
@click.option("--timeout", type=Duration(), default=f"{DEFAULT_TIMEOUT // 60}m",
              show_default=True, help="Time limit for a project's commands, e.g. 90s, 30m, 1h.")
@click.option("--yes", is_flag=True,
              help="Run without asking: you have read the commands and accept the risk.")
@_handle_errors
def reproduce(workspace: Path, slug: str | None, timeout: float, yes: bool) -> None:
    """Run a project's reproduce.commands in an isolated copy and record what they produce.

    The record (projects/<slug>/reproduction.json) and its log are written beside
    evidence.yml; `build` shows them on the project page as a badge.
    """
    ws = _load(workspace)
    plans = _plans(ws, slug)
    isolation = probe_isolation()
    _warn(ws, plans, isolation)
    if not yes:
        _confirm()
    results = [_run_one(ws, plan, timeout) for plan in plans]
    sys.exit(0 if all(r.ok for r in results) else 1)


def _load(workspace: Path) -> Workspace:
    result = load_workspace(workspace)
    if result.workspace is None or has_errors(result.problems):
        raise _InvalidWorkspace(result.problems)
    return result.workspace


def _plans(ws: Workspace, slug: str | None) -> list[Plan]:
    if slug is not None:
        by_slug = {p.slug: p for p in ws.projects}
        if slug not in by_slug:
            raise UsageError(f"no project has slug '{slug}'; slugs are: " + ", ".join(by_slug))
        return [plan_for(by_slug[slug], audit_project(by_slug[slug]))]
    chosen = [p for p in ws.projects if p.manifest.reproduce and p.manifest.reproduce.commands]
    if not chosen:
        raise UsageError("no project declares reproduce.commands; nothing to run")
    return [plan_for(p, audit_project(p)) for p in chosen]


def _warn(ws: Workspace, plans: list[Plan], isolation: Isolation) -> None:
    click.echo(f"warning: {WARNING_TEXT}", err=True)
    click.echo(f"Isolation on this machine: {isolation.describe()}", err=True)
    for plan in plans:
        where = _display(ws, plan.repo)
        click.echo(f"{plan.project.slug}: will run in a copy of {where}:", err=True)
        for i, command in enumerate(plan.commands, 1):
            click.echo(f"  {i}. {command}", err=True)


def _display(ws: Workspace, folder: Path) -> str:
    try:
        return folder.relative_to(ws.root).as_posix()
    except ValueError:
        return str(folder)


def _confirm() -> None:
    """Ask on a terminal; without one, refuse: silence must never mean yes."""
    if not _interactive():
        raise UsageError("reproduce runs someone else's code; pass --yes to run it "
                         "(there is no terminal to ask on)")
    if not click.confirm("Run these commands?", default=False, err=True):
        click.echo("Nothing was run.", err=True)
        sys.exit(1)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _run_one(ws: Workspace, plan: Plan, timeout: float) -> Record:
    click.echo(f"\n{plan.project.slug}: reproducing (time limit {format_seconds(timeout)})",
               err=True)
    record, log_bytes = run(plan, timeout, _ProgressLine())
    path = write_record(plan.project, record, log_bytes)
    click.echo(f"{plan.project.slug}: {record.headline()}")
    for m in record.metrics:
        got = "nothing" if m.value is None else f"{m.value:g}"
        mark = "ok" if m.outcome == REPRODUCED else "!!"
        click.echo(f"  {mark} {m.name}: claimed {m.expected:g} ± {m.tolerance:g}, got {got}: "
                   f"{m.outcome}" + (f" ({m.detail})" if m.detail else ""))
    click.echo(f"  code: {record.source.path} at {record.source.describe()}")
    click.echo(f"  isolation: {record.isolation.describe()}")
    click.echo(f"  record: {_display(ws, path)} "
               f"(log: {record.log_file}, sha256 {record.log_sha256[:12]}…)")
    return record


class _ProgressLine:
    """A live line on a terminal (`[1/2] 3.2 s  python train.py`), plain lines otherwise."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()

    def __call__(self, event: Progress) -> None:
        prefix = f"[{event.index}/{event.total}]"
        if event.step == "setup":
            click.echo(f"  {event.command}…", err=True)
        elif event.step == "start" and not self.live:
            click.echo(f"  {prefix} running: {event.command}", err=True)
        elif event.step in ("start", "tick") and self.live:
            line = f"  {prefix} {format_seconds(event.elapsed):>7}  {event.command}"
            click.echo(f"\r\033[K{line[:_width()]}", nl=False, err=True)
        elif event.step == "done":
            line = f"  {prefix} {event.status} in {format_seconds(event.elapsed)}: {event.command}"
            click.echo(("\r\033[K" if self.live else "") + line, err=True)


def _width() -> int:
    return max(20, shutil.get_terminal_size().columns - 1)
