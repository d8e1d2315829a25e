"""The `scores` commands: combine the score sheets reviewers exported from project pages.

`scores merge` reads JSON and CSV exports, lines the reviewers up per project, and shows
each competency's mean and spread, flagging where reviewers differ by 2 points or more
(they scored the same evidence differently: a calibration signal), each reviewer's
weighted total and pass or fail, and the panel's: the weighted sum of the competency means,
passing or failing once every competency has a score. The same sheet read twice (a JSON
and a CSV export of it) counts once. Exit codes: 0 merged, 1 a file could not be used, 2
wrong usage.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .scoring import MergedProject, Outcome

FLAG = "differ by 2+"


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """cli.py's error handling, looked up at call time (cli.py imports this module)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .cli import _handle_errors as handle

        return handle(func)(*args, **kwargs)

    return wrapper


@click.group()
def scores() -> None:
    """Combine reviewers' score sheets exported from the project pages.

    \b
    evidencechain scores merge FILE... [--format text|json|csv]
      one table per project: each reviewer's scores, mean, spread, a flag
      where reviewers differ by 2 or more points, totals and pass or fail.
    """


@scores.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True, help="Output format.")
@_handle_errors
def merge(files: tuple[Path, ...], fmt: str) -> None:
    """Merge score sheet exports (JSON or CSV) into one table per project.

    For each competency: every reviewer's score, the mean, the spread (highest minus
    lowest) and a flag where reviewers differ by 2 or more points. For each reviewer: the
    weighted total and pass or fail against the rubric's threshold. Files that cannot be
    used are reported, one located line each, and the rest are still merged.
    """
    from .problems import ERROR
    from .scoresheet import read_export
    from .scoring import merge_sheets

    sheets, problems = [], []
    for file in files:
        found, bad = read_export(file, PurePosixPath(file.as_posix()))
        sheets.extend(found)
        problems.extend(bad)
    merged, found = merge_sheets(sheets)
    problems.extend(found)
    for problem in problems:
        click.echo(problem.format(), err=True)
    if fmt == "json":
        click.echo(json.dumps(merged_json(merged), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(merged_csv(merged), nl=False)
    else:
        click.echo(merged_text(merged))
    sys.exit(1 if any(p.level == ERROR for p in problems) else 0)


# --------------------------------------------------------------------------- formats


def _score(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _result(outcome: Outcome) -> str:
    return _verdict(outcome.passed)


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "fail", None: "incomplete"}[passed]


def merged_text(merged: list[MergedProject]) -> str:
    """One aligned table per project, then the flagged competencies in words."""
    if not merged:
        return "No score sheet to merge."
    return "\n\n".join(_project_text(m) for m in merged)


def _project_text(m: MergedProject) -> str:
    site = f" ({m.site})" if m.site else ""
    head = (f"{m.project}{site}: rubric {m.rubric}, pass at {m.pass_threshold:g}%, "
            f"{len(m.reviewers)} reviewer(s), build {', '.join(m.build_ids)}")
    width = max([len("Competency"), len("Weighted total")] + [len(r.title) for r in m.rows])
    totals = [f"{m.totals[x].total:g}%" for x in m.reviewers]
    results = [_result(m.totals[x]) for x in m.reviewers]
    cols = [max(len(x), len(t), len(r), 2) for x, t, r in zip(m.reviewers, totals, results,
                                                               strict=True)]

    def line(first: str, weight: str, cells: list[str], rest: str = "") -> str:
        body = "".join(f"  {c:>{w}}" for c, w in zip(cells, cols, strict=True))
        return f"  {first:<{width}}  {weight:>6}{body}{rest}".rstrip()

    rows = [line("Competency", "Weight", list(m.reviewers), "    Mean  Spread")]
    for r in m.rows:
        flag = f"  {FLAG}" if r.disagreement else ""
        rows.append(line(r.title, f"{r.weight:g}%", [_score(r.scores[x]) for x in m.reviewers],
                         f"  {_score(r.mean):>6}  {_score(r.spread):>6}{flag}"))
    rows.append(line("Weighted total", "", totals, f"  {round(m.mean_total, 2):>5g}%"))
    rows.append(line("Result", "", results, f"  {_verdict(m.mean_passed):>6}"))
    flagged = [r.title for r in m.rows if r.disagreement]
    tail = (f"  Reviewers differ by 2 or more points on: {'; '.join(flagged)}. Talk these "
            "through before averaging them." if flagged else
            "  No competency where reviewers differ by 2 or more points.")
    return "\n".join([head, *rows, tail])


def merged_json(merged: list[MergedProject]) -> dict[str, Any]:
    """The merged tables as one JSON document."""
    return {"projects": [{
        "site": m.site,
        "project": m.project,
        "rubric": m.rubric,
        "pass_threshold": m.pass_threshold,
        "build_ids": list(m.build_ids),
        "reviewers": list(m.reviewers),
        "competencies": [{"id": r.id, "title": r.title, "weight": r.weight,
                          "scores": r.scores, "mean": r.mean, "spread": r.spread,
                          "disagreement": r.disagreement} for r in m.rows],
        "totals": {x: {"total": o.total, "scored": o.scored, "complete": o.complete,
                       "passed": o.passed} for x, o in m.totals.items()},
        "mean_total": m.mean_total,
        "mean_complete": m.mean_complete,
        "mean_passed": m.mean_passed,
    } for m in merged]}


def merged_csv(merged: list[MergedProject]) -> str:
    """One row per project and competency (then a total and a result row per project); one
    score column per reviewer across all projects. The total row's `mean` is the panel's
    score (the weighted sum of the means above it), the result row's its verdict."""
    reviewers = list(dict.fromkeys(x for m in merged for x in m.reviewers))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["site", "project", "rubric", "competency", "title", "weight",
                     *map(_safe, reviewers), "mean", "spread", "disagreement"])
    for m in merged:
        base = [_safe(m.site), m.project, _safe(m.rubric)]
        for r in m.rows:
            writer.writerow([*base, _safe(r.id), _safe(r.title), f"{r.weight:g}",
                             *[_cell(r.scores.get(x)) for x in reviewers],
                             "" if r.mean is None else f"{r.mean:.2f}", _cell(r.spread),
                             "yes" if r.disagreement else "no"])
        writer.writerow([*base, "total", "Weighted total", "100",
                         *[f"{m.totals[x].total:g}" if x in m.totals else "" for x in reviewers],
                         f"{m.mean_total:.2f}", "", ""])
        writer.writerow([*base, "result", f"Pass at {m.pass_threshold:g}%", "",
                         *[_result(m.totals[x]) if x in m.totals else "" for x in reviewers],
                         _verdict(m.mean_passed), "", ""])
    return out.getvalue()


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a leading = + - @ is quoted away)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
