"""The score sheet at the end of a project page: the rubric as a form a reviewer fills in.

Pure HTML, rendered on the server so the rubric reads without JavaScript;
`themes/material/assets/javascripts/scoresheet.js` adds the weighted total, saving in the
browser's localStorage (nothing is sent anywhere) and the JSON and CSV exports.

The build id and the site's title are not known while pages are rendered: the sheet carries
placeholders that `evidence_json.stamp_build` replaces once every page is written.

The sheet's exports come back here too: `read_export` reads a JSON export
(`schemas/scores.schema.json`) or a CSV one (`CSV_COLUMNS`) into `SheetScores`, with a
located problem for anything that does not fit, for `evidencechain scores merge`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .problems import ERROR, Problem
from .schema import validate
from .scoring import (
    EVIDENCE_TARGETS,
    MAX_SCORE,
    TOTAL_WEIGHT,
    Competency,
    Rubric,
    SheetScores,
)
from .yamlsource import YamlDocument, YamlLoadError, format_path, load_yaml

if TYPE_CHECKING:
    from .pages import ProjectView

SCORES_SCHEMA = "scores.schema.json"
# The CSV export's columns, one row per competency (scoresheet.js writes them in this order).
def reviewer_label(initials: str) -> str:
    """Initials as the sheet writes them (`ab` -> `AB`), so exports from before the sheet
    uppercased them still count as the same reviewer."""
    return initials.strip().upper()


CSV_COLUMNS = ("reviewer", "site", "project", "build_id", "rubric", "pass_threshold",
               "competency", "title", "weight", "score", "note")
BUILD_ID_TOKEN = "@@EVIDENCECHAIN_BUILD_ID@@"
SITE_TOKEN = "@@EVIDENCECHAIN_SITE@@"
SECTION_TITLE = "Score this project"


def score_sheet(view: ProjectView) -> str:
    """The "Score this project" section for `view`, or nothing when it has no rubric."""
    from .pages import h, section  # pages imports this module; import back at call time

    rubric: Rubric | None = view.rubric
    if rubric is None:
        return ""
    slug = view.project.slug
    intro = (
        f'<p class="ec-score-intro">Score each competency from 0 to {MAX_SCORE} against the '
        f"<strong>{h(rubric.title)}</strong> rubric; a weighted total of "
        f"{rubric.pass_threshold:g}% or more passes. Your scores are saved in this browser "
        "as you go and never sent anywhere: export them as JSON or CSV to share them. "
        f'Build <code class="ec-build-id">{BUILD_ID_TOKEN}</code>.</p>'
        '<noscript><p class="ec-score-noscript">Totals, saving and export need '
        "JavaScript; the rubric can still be read.</p></noscript>"
        '<p class="ec-score-reviewer"><label for="ec-score-reviewer">Your initials</label> '
        '<input type="text" id="ec-score-reviewer" maxlength="12" autocomplete="off" '
        'autocapitalize="characters" spellcheck="false" aria-describedby="ec-score-storage"></p>'
    )
    fieldsets = "".join(_competency(view, c) for c in rubric.competencies)
    result = (
        '<div class="ec-score-result" role="status" aria-live="polite">'
        '<p><span class="ec-score-total">Weighted total: <strong data-ec-total>0%</strong>'
        "</span> · <span data-ec-scored>0 of "
        f"{len(rubric.competencies)} competencies scored</span> · pass mark "
        f'{rubric.pass_threshold:g}% <span class="ec-badge ec-unknown" data-ec-verdict>'
        "incomplete</span></p></div>"
        '<p class="ec-score-actions">'
        '<button type="button" class="md-button" data-ec-export="json">Export JSON</button> '
        '<button type="button" class="md-button" data-ec-export="csv">Export CSV</button> '
        '<button type="button" class="md-button" data-ec-clear>Clear my scores</button></p>'
        '<p class="ec-score-storage" id="ec-score-storage" data-ec-storage></p>'
    )
    attrs = (f'data-ec-scoresheet data-project="{h(slug)}" '
             f'data-project-title="{h(view.manifest.title)}" data-build-id="{BUILD_ID_TOKEN}" '
             f'data-site="{SITE_TOKEN}" data-rubric="{h(rubric.name)}" '
             f'data-rubric-title="{h(rubric.title)}" '
             f'data-threshold="{rubric.pass_threshold:g}"')
    body = (f'<section class="ec-scoresheet" {attrs} aria-label="Score sheet">'
            f"{intro}{fieldsets}{result}</section>\n")
    return section(SECTION_TITLE, body)


def _competency(view: ProjectView, competency: Competency) -> str:
    from .pages import h

    cid = h(competency.id)
    options = "".join(
        f'<label class="ec-score-option"><input type="radio" name="ec-score-{cid}" '
        f'value="{score}"><span class="ec-score-value">{score}</span> '
        f'<span class="ec-score-guide">{h(competency.guide[str(score)])}</span></label>'
        for score in range(MAX_SCORE + 1))
    description = (f'<p class="ec-competency-description">{h(competency.description)}</p>'
                   if competency.description else "")
    links = evidence_links(view, competency)
    evidence = f'<p class="ec-competency-evidence">Evidence: {links}</p>' if links else ""
    return (f'<fieldset class="ec-competency" data-competency="{cid}" '
            f'data-weight="{competency.weight:g}" data-title="{h(competency.title)}">'
            f'<legend><span class="ec-competency-title">{h(competency.title)}</span> '
            f'<span class="ec-weight">{competency.weight:g}%</span></legend>'
            f'{description}{evidence}<div class="ec-score-options">{options}</div>'
            f'<label class="ec-note-label" for="ec-note-{cid}">Note on '
            f'{h(competency.title)}</label>'
            f'<textarea id="ec-note-{cid}" class="ec-note" rows="2"></textarea></fieldset>')


def evidence_links(view: ProjectView, competency: Competency) -> str:
    """Links to the page parts that bear on `competency`, joined by middle dots.

    Parts that are not on this page are left out: the process history without a git
    repository, the code repository when none is declared.
    """
    from .pages import h

    links = []
    repo = view.manifest.repo
    for key in competency.evidence:
        label, anchor = EVIDENCE_TARGETS[key]
        href = f"#{anchor}"
        if key == "process-history" and view.history is None:
            continue
        if key == "repo":
            if repo is None or not (repo.url or repo.path):
                continue
            href = repo.url or href
        links.append(f'<a href="{h(href)}">{h(label)}</a>')
    return " · ".join(links)


# --------------------------------------------------------------------------- reading exports


def read_export(path: Path, display: PurePosixPath) -> tuple[list[SheetScores], list[Problem]]:
    """The score sheets in one exported file (JSON: one sheet; CSV: one per reviewer and
    project in it), or located problems saying why it cannot be used."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(display, 1, exc.start + 1, ERROR,
                            "not UTF-8 text; export the scores again from the page")]
    except OSError as exc:
        return [], [Problem(display, 0, 0, ERROR, f"cannot read file: {exc.strerror}")]
    if not text.strip():
        return [], [Problem(display, 1, 1, ERROR, "file is empty; expected a score sheet "
                                                  "export (JSON or CSV)")]
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        return _read_json(path, display, text)
    return _read_csv(display, text)


def _read_json(path: Path, display: PurePosixPath,
               text: str) -> tuple[list[SheetScores], list[Problem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(display, exc.lineno, exc.colno, ERROR, f"not valid JSON: {exc.msg}")]
    if not isinstance(data, dict) or "format" not in data:
        return [], [Problem(display, 1, 1, ERROR, 'not a score sheet export (it has no '
                                                  '"format": "evidencechain-scores"); export '
                                                  "the scores from a project page")]
    try:  # JSON is YAML: the YAML reader gives every value its line and column
        doc = load_yaml(path, display)
        doc.data = data
    except YamlLoadError:
        doc = YamlDocument(display, data)
    problems = validate(doc, SCORES_SCHEMA)
    if problems:
        return [], problems
    ids = [entry["competency"] for entry in data["scores"]]
    for i, cid in enumerate(ids):
        if cid in ids[:i]:
            return [], [_located(doc, ("scores", i, "competency"),
                                 f"competency '{cid}' is scored twice")]
    weights = sum(entry["weight"] for entry in data["scores"])
    if abs(weights - TOTAL_WEIGHT) > 1e-6:
        return [], [_located(doc, ("scores",), f"the weights add up to {weights:g}; they "
                                               f"must add up to {TOTAL_WEIGHT}")]
    line, col = doc.locate(())
    return [SheetScores(
        reviewer=reviewer_label(data["reviewer"]), site=data.get("site", ""),
        project=data["project"],
        build_id=data["build_id"], rubric=data["rubric"]["name"],
        pass_threshold=float(data["rubric"]["pass_threshold"]),
        competencies=tuple((e["competency"], e.get("title", e["competency"]),
                            float(e["weight"])) for e in data["scores"]),
        scores={e["competency"]: e["score"] for e in data["scores"]},
        where=Problem(display, line, col, ERROR, ""),
        notes={e["competency"]: e.get("note", "") for e in data["scores"]})], []


def _located(doc: YamlDocument, path: tuple, message: str) -> Problem:
    line, col = doc.locate(path)
    return Problem(doc.file, line, col, ERROR, message, format_path(path))


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_BUILD_ID = re.compile(r"^[0-9a-f]{12}$")


def _read_csv(display: PurePosixPath, text: str) -> tuple[list[SheetScores], list[Problem]]:
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error) as exc:
        return [], [Problem(display, 1, 1, ERROR, f"not a CSV score sheet: {exc}")]
    missing = [c for c in CSV_COLUMNS if c not in header and c not in ("site", "title", "note")]
    if missing:
        return [], [Problem(display, 1, 1, ERROR,
                            f"missing column(s) {', '.join(missing)}; a score sheet export has "
                            f"the columns {', '.join(CSV_COLUMNS)}")]
    groups: dict[tuple[str, str, str], list[tuple[int, dict[str, Any]]]] = {}
    problems: list[Problem] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            row_line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            row = dict(zip(header, (c.strip() for c in cells), strict=False))
            where = _CsvRow(display, row_line, lines[row_line - 1] if row_line <= len(lines)
                            else "", header)
            values = _csv_values(row, where, problems)
            if values is not None:
                key = (values["reviewer"], values["site"], values["project"])
                groups.setdefault(key, []).append((row_line, values))
    except csv.Error as exc:
        problems.append(Problem(display, reader.line_num, 1, ERROR, f"not valid CSV: {exc}"))
    if problems:  # a group missing a bad row would also report wrong weights: stop here
        return [], sorted(problems)
    sheets = [_csv_sheet(display, rows, problems) for rows in groups.values()]
    if problems:
        return [], sorted(problems)
    return [s for s in sheets if s is not None], []


class _CsvRow:
    """Where each cell of one CSV row starts, for located messages."""

    def __init__(self, display: PurePosixPath, line: int, raw: str, header: list[str]):
        self.display, self.line, self.header = display, line, header
        self.columns = _cell_columns(raw)

    def problem(self, column: str, message: str) -> Problem:
        index = self.header.index(column) if column in self.header else 0
        col = self.columns[index] if index < len(self.columns) else 1
        return Problem(self.display, self.line, col, ERROR, f"{column}: {message}")


def _cell_columns(raw: str) -> list[int]:
    """1-based column at which each cell of a CSV line starts (quotes respected)."""
    columns, quoted = [1], False
    for i, char in enumerate(raw):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            columns.append(i + 2)
    return columns


def _csv_values(row: dict[str, str], where: _CsvRow,
                problems: list[Problem]) -> dict[str, Any] | None:
    """One row's cells, checked and converted; None (with problems) when unusable."""
    found: list[Problem] = []
    for column in ("reviewer", "rubric", "competency"):
        if not row.get(column):
            found.append(where.problem(column, "must not be empty"))
    if not _SLUG.match(row.get("project", "")):
        found.append(where.problem("project", f"{row.get('project', '')!r} is not a project "
                                              "slug"))
    if not _BUILD_ID.match(row.get("build_id", "")):
        found.append(where.problem("build_id", f"{row.get('build_id', '')!r} is not a build "
                                               "id (12 hex digits)"))
    threshold = _number(row.get("pass_threshold", ""))
    if threshold is None or not 0 <= threshold <= 100:
        found.append(where.problem("pass_threshold", f"{row.get('pass_threshold', '')!r} is "
                                                     "not a percentage from 0 to 100"))
    weight = _number(row.get("weight", ""))
    if weight is None or not 0 < weight <= 100:
        found.append(where.problem("weight", f"{row.get('weight', '')!r} is not a weight "
                                             "above 0 and at most 100"))
    raw_score = row.get("score", "")
    score = int(raw_score) if raw_score.isdigit() else None
    if raw_score and (score is None or score > MAX_SCORE):
        found.append(where.problem("score", f"{raw_score!r} is not a whole number from 0 to "
                                            f"{MAX_SCORE} (leave it empty when not scored)"))
    problems.extend(found)
    if found:
        return None
    return {"reviewer": row["reviewer"], "site": row.get("site", ""), "project": row["project"],
            "build_id": row["build_id"], "rubric": row["rubric"], "pass_threshold": threshold,
            "competency": row["competency"], "title": row.get("title") or row["competency"],
            "weight": weight, "score": score, "note": row.get("note", ""), "where": where}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _csv_sheet(display: PurePosixPath, rows: list[tuple[int, dict[str, Any]]],
               problems: list[Problem]) -> SheetScores | None:
    """The rows of one reviewer and project as one sheet; they must agree with each other."""
    first_line, first = rows[0]
    seen: set[str] = set()
    for _, values in rows:
        for column in ("build_id", "rubric", "pass_threshold"):
            if values[column] != first[column]:
                problems.append(values["where"].problem(
                    column, f"{values[column]!r} differs from {first[column]!r} on line "
                            f"{first_line} (same reviewer and project)"))
        if values["competency"] in seen:
            problems.append(values["where"].problem(
                "competency", f"'{values['competency']}' is scored twice by this reviewer"))
        seen.add(values["competency"])
    weights = sum(values["weight"] for _, values in rows)
    if abs(weights - TOTAL_WEIGHT) > 1e-6:
        problems.append(Problem(display, first_line, 1, ERROR,
                                f"the weights of {first['reviewer']}'s rows for "
                                f"{first['project']} add up to {weights:g}; they must add up "
                                f"to {TOTAL_WEIGHT}"))
    return SheetScores(
        reviewer=reviewer_label(first["reviewer"]), site=first["site"], project=first["project"],
        build_id=first["build_id"], rubric=first["rubric"],
        pass_threshold=first["pass_threshold"],
        competencies=tuple((v["competency"], v["title"], v["weight"]) for _, v in rows),
        scores={v["competency"]: v["score"] for _, v in rows},
        where=Problem(display, first_line, 1, ERROR, ""),
        notes={v["competency"]: v["note"] for _, v in rows})
