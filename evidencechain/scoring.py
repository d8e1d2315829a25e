"""Rubrics: the competencies a reviewer scores 0 to 4, their weights, and the weighted total.

The built-in profiles are YAML files in `evidencechain/rubrics/`, validated by
`schemas/rubric.schema.json` exactly as a custom rubric is, so both are one format with one
set of rules. The schema cannot say that weights add up to 100 or that ids are unique; this
module checks those, located like every other problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .cache import Cache
from .model import Project, Workspace, from_data
from .problems import ERROR, WARNING, Problem, repeated_ids
from .schema import validate
from .yamlsource import JsonPath, YamlDocument, YamlLoadError, format_path, load_yaml

RUBRIC_SCHEMA = "rubric.schema.json"
RUBRICS_DIR = Path(__file__).parent / "rubrics"
MAX_SCORE = 4
TOTAL_WEIGHT = 100
DEFAULT_BY_KIND = {"ml-engineering": "ml-engineering", "ai-creative": "ai-creative",
                   "other": "ai-portfolio"}
# Page parts a competency can point at: link text and the id MkDocs gives the heading that
# pages.project_page writes for it (a test checks each against a built page).
EVIDENCE_TARGETS = {
    "brief": ("The brief", "the-brief"),
    "problem": ("Problem", "problem"),
    "why-it-matters": ("Why it matters", "why-it-matters"),
    "approach": ("Approach", "approach"),
    "design-decisions": ("Design decisions", "design-decisions"),
    "evaluation": ("Evaluation", "evaluation"),
    "trade-offs": ("Trade-offs", "trade-offs"),
    "iterations": ("Iterations", "iterations"),
    "process-history": ("Process history", "process-history"),
    "failures-and-fixes": ("Failures and fixes", "failures-and-fixes"),
    "model-card": ("Model card", "model-card"),
    "assets": ("Assets", "assets"),
    "provenance": ("Provenance panels (Assets)", "assets"),
    "workflow": ("Workflow", "workflow"),
    "how-to-reproduce": ("How to reproduce", "how-to-reproduce"),
    "what-i-learned": ("What I learned", "what-i-learned"),
    "repo": ("Code repository", "how-to-reproduce"),
}


@dataclass(frozen=True)
class Competency:
    """One scored competency; `guide` maps "0".."4" to what earns that score."""

    id: str
    title: str
    weight: float
    guide: dict[str, str]
    description: str | None = None
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rubric:
    """A rubric file as written (fields mirror `schemas/rubric.schema.json`)."""

    schema_version: int
    name: str
    title: str
    pass_threshold: float
    competencies: list[Competency]
    description: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A reviewer's weighted total against a rubric."""

    total: float  # percent; unscored competencies count as 0
    scored: int
    count: int
    threshold: float

    @property
    def complete(self) -> bool:
        return self.scored == self.count

    @property
    def passed(self) -> bool | None:
        """Whether the total reaches the threshold; None until every competency is scored."""
        return self.total + 1e-9 >= self.threshold if self.complete else None


def assess(rubric: Rubric, scores: Mapping[str, int | None]) -> Outcome:
    """The weighted total of `scores` (competency id to 0..4, None when not scored)."""
    total = 0.0
    scored = 0
    for competency in rubric.competencies:
        score = scores.get(competency.id)
        if score is None:
            continue
        scored += 1
        total += competency.weight * score / MAX_SCORE
    return Outcome(round(total, 4), scored, len(rubric.competencies), rubric.pass_threshold)


# --------------------------------------------------------------------------- loading


def builtin_names() -> list[str]:
    """Names of the rubric profiles shipped with evidencechain."""
    return sorted(p.stem for p in RUBRICS_DIR.glob("*.yml"))


def builtin_rubric(name: str, cache: Cache | None = None) -> Rubric:
    """A shipped profile; raises ValueError if it does not load (a test keeps them valid).

    Loaded once per process. With a build `cache`, a file validated before (the same
    bytes) is not validated again.
    """
    rubric = _builtins.get(name)
    if rubric is None:
        rubric, problems = load_rubric(RUBRICS_DIR / f"{name}.yml",
                                       PurePosixPath(f"evidencechain/rubrics/{name}.yml"), cache)
        if rubric is None:
            raise ValueError("; ".join(p.format() for p in problems))
        _builtins[name] = rubric
    return rubric


_builtins: dict[str, Rubric] = {}  # shipped files do not change while we run


def load_rubric(path: Path, display: PurePosixPath,
                cache: Cache | None = None) -> tuple[Rubric | None, list[Problem]]:
    """Read and validate a rubric file; None with located problems when it is not usable."""
    try:
        doc = load_yaml(path, display)
    except YamlLoadError as exc:
        return None, [exc.problem]
    problems = validate(doc, RUBRIC_SCHEMA, cache)
    if problems:
        return None, problems
    rubric = from_data(Rubric, doc.data)
    problems = _rule_problems(rubric, doc)
    return (None if problems else rubric), problems


def _rule_problems(rubric: Rubric, doc: YamlDocument) -> list[Problem]:
    """What the schema cannot say: weights add up to 100, ids are unique."""
    found = []

    def add(path: JsonPath, message: str) -> None:
        found.append(doc.problem(path, ERROR, message))

    weights = sum(c.weight for c in rubric.competencies)
    if abs(weights - TOTAL_WEIGHT) > 1e-6:
        add(("competencies",), f"the weights add up to {weights:g}; they must add up to "
                               f"{TOTAL_WEIGHT}")
    for i, repeated, first in repeated_ids(c.id for c in rubric.competencies):
        add(("competencies", i, "id"), f"competency id '{repeated}' is used twice "
                                       f"(first in competencies[{first}])")
    return found


# --------------------------------------------------------------------------- per project


def resolve_rubrics(workspace: Workspace,
                    cache: Cache | None = None) -> tuple[dict[str, Rubric], list[Problem]]:
    """Each project's rubric by slug: its own `rubric`, else `review.rubric`, else by kind.

    A custom rubric file is read once however many projects use it, so its problems are
    reported once. Projects whose rubric cannot be used are left out of the result.
    """
    resolver = _Resolver(workspace, cache)
    rubrics = {}
    for project in workspace.projects:
        rubric = resolver.for_project(project)
        if rubric is not None:
            rubrics[project.slug] = rubric
    return rubrics, sorted(set(resolver.problems))


class _Resolver:
    def __init__(self, workspace: Workspace, cache: Cache | None = None):
        self.workspace = workspace
        self.cache = cache
        self.loaded: dict[Path, Rubric | None] = {}
        self.problems: list[Problem] = []

    def for_project(self, project: Project) -> Rubric | None:
        if project.manifest.rubric:
            return self.resolve(project.manifest.rubric, project.folder, project.source)
        config_ref = self.workspace.config.review.rubric
        if config_ref:
            return self.resolve(config_ref, self.workspace.root,
                                self.workspace.config_source, ("review",))
        return builtin_rubric(DEFAULT_BY_KIND[project.manifest.kind], self.cache)

    def resolve(self, ref: str, base: Path, doc: YamlDocument,
                prefix: JsonPath = ()) -> Rubric | None:
        where = prefix + ("rubric",)
        if not ref.endswith((".yml", ".yaml")):
            if ref in builtin_names():
                return builtin_rubric(ref, self.cache)
            return self.refuse(doc, where, _unknown_builtin(ref))
        path = (base / ref).resolve()
        if not path.is_file():
            return self.refuse(doc, where, f"rubric file '{ref}' does not exist")
        if path not in self.loaded:
            rubric, problems = load_rubric(path, self.display(path), self.cache)
            self.loaded[path] = rubric
            self.problems.extend(problems)
        return self.loaded[path]

    def display(self, path: Path) -> PurePosixPath:
        root = self.workspace.root.resolve()
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        return PurePosixPath(shown.as_posix())

    def refuse(self, doc: YamlDocument, where: JsonPath, message: str) -> None:
        line, col = doc.locate(where)
        self.problems.append(Problem(doc.file, line, col, ERROR, message, format_path(where)))
        return None


def _unknown_builtin(ref: str) -> str:
    names = builtin_names()
    message = f"no built-in rubric is called '{ref}'"
    close = difflib.get_close_matches(ref, names, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    return message + f"; built in: {', '.join(names)}; or give a rubric .yml file"


# --------------------------------------------------------------------------- merging

# Reviewers whose scores for one competency are this many points apart should talk.
DISAGREEMENT = 2


@dataclass(frozen=True)
class SheetScores:
    """One reviewer's scores for one project, as read back from an export."""

    reviewer: str
    site: str
    project: str
    build_id: str
    rubric: str
    pass_threshold: float
    competencies: tuple[tuple[str, str, float], ...]  # (id, title, weight) in sheet order
    scores: dict[str, int | None]
    where: Problem  # where the sheet starts, for messages about the sheet as a whole
    notes: dict[str, str] = field(default_factory=dict)  # by competency id, as exported

    def identity(self) -> tuple:
        """What makes two exports the same sheet: reviewer, site, project, build, rubric,
        scores and notes. A note compares without surrounding space and without the quote
        the CSV export puts before a leading = + - @ (so a sheet's JSON and CSV exports are
        one sheet)."""
        notes = tuple(sorted((cid, _plain_note(note)) for cid, note in self.notes.items()
                             if _plain_note(note)))
        return (self.reviewer, self.site, self.project, self.build_id, _shape(self),
                tuple(sorted(self.scores.items())), notes)

    def as_rubric(self) -> Rubric:
        """The rubric as far as the export describes it (no guides), for `assess`."""
        return Rubric(1, self.rubric, self.rubric, self.pass_threshold,
                      [Competency(cid, title, weight, {}) for cid, title, weight
                       in self.competencies])


@dataclass(frozen=True)
class CompetencyRow:
    """One competency across reviewers: each score, their mean and their spread."""

    id: str
    title: str
    weight: float
    scores: dict[str, int | None]  # by reviewer label

    @property
    def given(self) -> list[int]:
        return [s for s in self.scores.values() if s is not None]

    @property
    def mean(self) -> float | None:
        return sum(self.given) / len(self.given) if self.given else None

    @property
    def spread(self) -> int | None:
        """Highest score minus lowest (None when nobody scored it)."""
        return max(self.given) - min(self.given) if self.given else None

    @property
    def disagreement(self) -> bool:
        """Reviewers differ by DISAGREEMENT points or more: a calibration signal."""
        return (self.spread or 0) >= DISAGREEMENT


@dataclass(frozen=True)
class MergedProject:
    """Every reviewer's scores for one project of one site, side by side."""

    site: str
    project: str
    rubric: str
    pass_threshold: float
    build_ids: tuple[str, ...]
    reviewers: tuple[str, ...]
    rows: tuple[CompetencyRow, ...]
    totals: dict[str, Outcome]  # by reviewer label

    @property
    def mean_total(self) -> float:
        """The panel's score: the weighted sum of the competency means shown above it (the
        sum of weight × mean / 4, in percent), so the total row adds up. When every sheet is
        complete this is the mean of the reviewers' totals; a competency nobody scored counts
        as 0, as an unscored competency does in a reviewer's total."""
        return sum(r.weight * r.mean / MAX_SCORE for r in self.rows if r.mean is not None)

    @property
    def mean_complete(self) -> bool:
        """Every competency has at least one reviewer's score, so every mean is known."""
        return all(r.mean is not None for r in self.rows)

    @property
    def mean_passed(self) -> bool | None:
        """Whether the panel's score reaches the threshold; None ("incomplete") while some
        competency has no score at all."""
        if not self.mean_complete:
            return None
        return self.mean_total + 1e-9 >= self.pass_threshold


def merge_sheets(sheets: list[SheetScores]) -> tuple[list[MergedProject], list[Problem]]:
    """Group sheets by site and project and line their scores up.

    A sheet scored against another rubric (other competencies or weights) than the first
    sheet of its project cannot be compared and is left out with an error. The same sheet
    read twice (a reviewer's JSON and CSV export of it, or one file given twice) counts
    once: the first is kept, with a warning at the other. Two different sheets of one
    reviewer are both kept, the second labelled `AB (2)`, with a warning.
    """
    groups: dict[tuple[str, str], list[SheetScores]] = {}
    problems: list[Problem] = []
    for sheet in sheets:
        group = groups.setdefault((sheet.site, sheet.project), [])
        same = next((kept for kept in group if kept.identity() == sheet.identity()), None)
        if same is not None:
            problems.append(_at(sheet.where, WARNING,
                                f"reviewer '{sheet.reviewer}', {sheet.project}: same sheet as "
                                f"{_sheet_place(same, sheet)}; counted once"))
            continue
        if group and _shape(group[0]) != _shape(sheet):
            problems.append(_at(sheet.where, ERROR, f"scored against rubric '{sheet.rubric}' "
                                                    "with other competencies or weights than "
                                                    f"{group[0].where.file} ({group[0].rubric}); "
                                                    "left out"))
            continue
        group.append(sheet)
    merged = []
    for (site, project), group in groups.items():
        labelled = list(zip(_labels(group, problems), group, strict=True))
        first = group[0]
        rows = tuple(CompetencyRow(cid, title, weight,
                                   {label: s.scores.get(cid) for label, s in labelled})
                     for cid, title, weight in first.competencies)
        totals = {label: assess(s.as_rubric(), s.scores) for label, s in labelled}
        build_ids = tuple(dict.fromkeys(s.build_id for s in group))
        if len(build_ids) > 1:
            problems.append(_at(first.where, WARNING,
                                f"{project}: reviewers scored different builds "
                                f"({', '.join(build_ids)}); the page changed between reviews"))
        merged.append(MergedProject(site, project, first.rubric, first.pass_threshold,
                                    build_ids, tuple(totals), rows, totals))
    return merged, problems



def _plain_note(note: str) -> str:
    note = note.strip()
    if note[:1] == "'" and note[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        note = note[1:].strip()
    return note


def _sheet_place(sheet: SheetScores, other: SheetScores) -> str:
    """The file `sheet` was read from; with its line when `other` was read from it too."""
    where = sheet.where
    if where.file == other.where.file:
        return f"{where.file}:{where.line}"
    return str(where.file)


def _shape(sheet: SheetScores) -> tuple:
    return (sheet.rubric, sheet.pass_threshold,
            tuple((cid, weight) for cid, _, weight in sheet.competencies))


def _labels(group: list[SheetScores], problems: list[Problem]) -> list[str]:
    labels: list[str] = []
    for sheet in group:
        label = sheet.reviewer
        count = sum(existing.split(" (")[0] == sheet.reviewer for existing in labels)
        if count:
            label = f"{sheet.reviewer} ({count + 1})"
            problems.append(_at(sheet.where, WARNING,
                                f"reviewer '{sheet.reviewer}' scored {sheet.project} more "
                                f"than once; this sheet is shown as '{label}'"))
        labels.append(label)
    return labels


def _at(where: Problem, level: str, message: str) -> Problem:
    return Problem(where.file, where.line, where.col, level, message, where.json_path)
