"""Load a workspace: `evidencechain.yml` plus every `projects/<slug>/evidence.yml`.

Collects every problem instead of stopping at the first, so one `check` run shows the
candidate all there is to fix: YAML syntax, schema violations, files that do not exist and
references between parts of a manifest that do not resolve.
"""

from __future__ import annotations

import calendar
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

from .cache import Cache
from .errors import UsageError
from .model import Manifest, Project, Workspace, WorkspaceConfig, from_data
from .problems import ERROR, WARNING, Problem, repeated_ids
from .schema import EVIDENCE_SCHEMA, WORKSPACE_SCHEMA, validate
from .yamlsource import JsonPath, YamlDocument, YamlLoadError, format_path, load_yaml

CONFIG_FILE = "evidencechain.yml"
PROJECTS_DIR = "projects"
MANIFEST_FILE = "evidence.yml"
# A folder name becomes the page's URL unless the manifest sets `slug`.
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class LoadResult:
    """The workspace (None when its own config is unusable) and every problem found."""

    workspace: Workspace | None
    problems: list[Problem] = field(default_factory=list)


def find_root(path: Path) -> Path:
    """Check that `path` is a workspace folder; raise UsageError saying what is wrong."""
    if not path.exists():
        raise UsageError(f"{path}: no such folder")
    if not path.is_dir():
        raise UsageError(f"{path}: not a folder; give the workspace folder")
    if not (path / CONFIG_FILE).is_file():
        raise UsageError(f"{path}: no {CONFIG_FILE} here; is this an evidencechain workspace?")
    return path.resolve()


def load_workspace(path: Path, cache: Cache | None = None) -> LoadResult:
    """Load and validate the workspace at `path`, collecting every problem found.

    With a `cache`, files found valid before (the same bytes) are not validated again.
    """
    root = find_root(path)
    problems: list[Problem] = []
    config_doc = _load_document(root, PurePosixPath(CONFIG_FILE), WORKSPACE_SCHEMA, problems,
                                cache)
    projects, unloaded = _load_projects(root, problems, cache)
    _check_duplicate_slugs(projects, problems)
    if config_doc is None:
        return LoadResult(None, sorted(problems))
    config = from_data(WorkspaceConfig, config_doc.data)
    _check_config_refs(root, config, config_doc, projects, unloaded, problems)
    workspace = Workspace(root, config, config_doc, _ordered(projects, config))
    return LoadResult(workspace, sorted(problems))


def _load_document(root: Path, rel: PurePosixPath, schema: str,
                   problems: list[Problem], cache: Cache | None = None) -> YamlDocument | None:
    """Parse and schema-check one file; None (with problems recorded) when unusable."""
    try:
        doc = load_yaml(root / rel, rel)
    except YamlLoadError as exc:
        problems.append(exc.problem)
        return None
    schema_problems = validate(doc, schema, cache)
    problems.extend(schema_problems)
    return None if schema_problems else doc


def _load_projects(root: Path, problems: list[Problem],
                   cache: Cache | None = None) -> tuple[list[Project], set[str]]:
    """The projects that loaded, and the folder names of those whose manifest did not."""
    projects_dir = root / PROJECTS_DIR
    if not projects_dir.is_dir():
        problems.append(Problem(PurePosixPath(PROJECTS_DIR), 0, 0, WARNING,
                                "no projects/ folder; the site will have no case studies"))
        return [], set()
    projects = []
    unloaded = set()
    for folder in sorted(p for p in projects_dir.iterdir() if p.is_dir()):
        rel = PurePosixPath(PROJECTS_DIR, folder.name, MANIFEST_FILE)
        if not (folder / MANIFEST_FILE).exists():
            problems.append(Problem(rel.parent, 0, 0, WARNING,
                                    f"project folder has no {MANIFEST_FILE}; skipped"))
            continue
        doc = _load_document(root, rel, EVIDENCE_SCHEMA, problems, cache)
        if doc is None:
            unloaded.add(folder.name)
            continue
        manifest = from_data(Manifest, doc.data)
        if not manifest.slug and not _SAFE_FOLDER.match(folder.name):
            problems.append(Problem(rel, 1, 1, ERROR,
                                    f"project folder name {folder.name!r} cannot be used in a "
                                    "URL; rename the folder or set 'slug'", "$"))
            continue
        project = Project(manifest.slug or folder.name, folder, rel, manifest, doc)
        problems.extend(_check_project_refs(root, project))
        problems.extend(_check_dates(project))
        projects.append(project)
    return projects, unloaded


def _check_project_refs(root: Path, project: Project) -> list[Problem]:
    """Files that must exist and references between manifest parts that must resolve."""
    found: list[Problem] = []
    doc = project.source
    m = project.manifest

    def add(path: JsonPath, message: str, level: str = ERROR) -> None:
        found.append(doc.problem(path, level, message))

    declared: dict[str, int] = {}
    folded: dict[str, str] = {}
    folders: dict[str, str] = {}  # resolved once per folder, for this check only
    for i, asset in enumerate(m.assets):
        if asset.path in declared:
            add(("assets", i, "path"), f"asset '{asset.path}' is declared twice "
                                       f"(first as assets[{declared[asset.path]}])")
        elif folded.get(asset.path.casefold(), asset.path) != asset.path:
            # Pages hosts and macOS/Windows disks would serve one file for both names.
            add(("assets", i, "path"), f"'{asset.path}' and '{folded[asset.path.casefold()]}' "
                                       "differ only in letter case; rename one")
        declared.setdefault(asset.path, i)
        folded.setdefault(asset.path.casefold(), asset.path)
        problem = _file_problem(root, project.folder, asset.path, folders)
        if problem:
            add(("assets", i, "path"), problem)
    for i, asset in enumerate(m.assets):
        for j, source in enumerate(asset.derived_from):
            if source == asset.path:
                add(("assets", i, "derived_from", j), "an asset cannot be derived from itself")
            elif source not in declared:
                add(("assets", i, "derived_from", j),
                    f"'{source}' is not a declared asset; add it to assets first")
    model_names = {model.name for model in m.model_card.models}
    for i, asset in enumerate(m.assets):
        for j, name in enumerate(asset.models):
            if name not in model_names:
                add(("assets", i, "models", j),
                    f"model '{name}' is not in model_card.models; add it there first")
    for i, repeated, first in repeated_ids(it.id for it in m.iterations):
        add(("iterations", i, "id"), f"iteration id '{repeated}' is used twice "
                                     f"(first in iterations[{first}])")
    ids = list(dict.fromkeys(iteration.id for iteration in m.iterations))  # in file order
    for i, iteration in enumerate(m.iterations):
        for j, path in enumerate(iteration.assets):
            if path not in declared:
                add(("iterations", i, "assets", j),
                    f"'{path}' is not a declared asset; add it to assets first")
    for i, failure in enumerate(m.failures):
        if failure.iteration and failure.iteration not in ids:
            add(("failures", i, "iteration"),
                f"no iteration has id '{failure.iteration}'"
                + (f"; ids are: {', '.join(ids)}" if ids else ""))
    if m.repo and m.repo.path:
        repo_dir = (project.folder / m.repo.path)
        if not repo_dir.is_dir():
            add(("repo", "path"), f"repo folder '{m.repo.path}' does not exist")
    return found


def _check_dates(project: Project) -> list[Problem]:
    """What the schema's date pattern lets through: days that do not exist, an end before
    the start, and iterations dated outside the project's dates."""
    found: list[Problem] = []

    def add(path: JsonPath, message: str, level: str = ERROR) -> None:
        found.append(project.source.problem(path, level, message))

    m = project.manifest
    start_text, end_text = (m.dates.start, m.dates.end) if m.dates else (None, None)
    written = [(("dates", "start"), start_text), (("dates", "end"), end_text)] + [
        (("iterations", i, "date"), it.date) for i, it in enumerate(m.iterations)]
    spans = {}
    for path, text in written:
        if text:
            span = _date_span(text)
            if span is None:
                add(path, f"'{text}' is not a date in the calendar{_month_length(text)}")
            spans[path] = span
    start, end = spans.get(("dates", "start")), spans.get(("dates", "end"))
    if start and end and end[1] < start[0]:
        add(("dates", "end"), f"the end ({end_text}) is before the start "
                              f"({start_text}); swap or correct them")
    for path, span in spans.items():
        if path[0] != "iterations" or span is None:
            continue
        if start and span[1] < start[0]:
            add(path, f"iteration dated {m.iterations[path[1]].date}, before the project's "
                      f"start ({start_text}); correct the date or dates.start", WARNING)
        elif end and span[0] > end[1]:
            add(path, f"iteration dated {m.iterations[path[1]].date}, after the project's "
                      f"end ({end_text}); correct the date or dates.end", WARNING)
    return found


def _date_span(text: str) -> tuple[date, date] | None:
    """The first and last day `YYYY-MM-DD` or `YYYY-MM` covers; None if no such day."""
    try:
        if len(text) == 7:  # a whole month
            first = date.fromisoformat(f"{text}-01")
            return first, date(first.year, first.month,
                               calendar.monthrange(first.year, first.month)[1])
        day = date.fromisoformat(text)
        return day, day
    except ValueError:
        return None


def _month_length(text: str) -> str:
    """` (February 2026 has 28 days)` for the month of a `YYYY-MM-DD` text."""
    year, month = int(text[:4]), int(text[5:7])
    if year < 1:  # the schema lets year 0000 through
        return ""
    days = calendar.monthrange(year, month)[1]
    return f" ({calendar.month_name[month]} {year} has {days} days)"


def _resolved(path: str, folders: dict[str, str]) -> str:
    """os.path.realpath(path), resolving its folder once per `folders` memo."""
    if os.path.islink(path):
        return os.path.realpath(path)
    folder, name = os.path.split(path)
    if folder not in folders:
        folders[folder] = os.path.realpath(folder)
    return os.path.join(folders[folder], name)


def _file_problem(root: Path, base: Path, rel: str,
                  folders: dict[str, str] | None = None) -> str | None:
    """Why `rel` (relative to `base`) is not a usable file inside the workspace, or None.

    `folders` remembers each folder's resolved path between calls: most assets share a few
    folders, and resolving a path costs a system call per part of it.
    """
    pure = PurePosixPath(rel)
    if pure.is_absolute() or rel.startswith("~") or (len(rel) > 1 and rel[1] == ":"):
        return f"'{rel}' is an absolute path; give it relative to the project folder"
    if ".." in pure.parts:
        return f"'{rel}' climbs out of the project folder with '..'"
    # os.path on strings: this runs for every asset of every project on every build.
    target = os.path.join(base, rel)
    if not os.path.lexists(target):
        return f"file '{rel}' does not exist"
    resolved = _resolved(target, {} if folders is None else folders)
    if not Path(resolved).is_relative_to(root):
        return f"'{rel}' is a link to a file outside the workspace"
    try:
        mode = os.stat(resolved).st_mode
    except OSError:
        mode = 0
    if stat.S_ISDIR(mode):
        return f"'{rel}' is a folder; give a file"
    if not stat.S_ISREG(mode):
        return f"'{rel}' is not a regular file"
    if not os.access(resolved, os.R_OK):
        return f"file '{rel}' cannot be read (permissions)"
    return None


def _check_duplicate_slugs(projects: list[Project], problems: list[Problem]) -> None:
    seen: dict[str, Project] = {}
    for project in projects:
        key = project.slug.lower()  # Pages hosts and macOS disks treat case as equal
        if key in seen:
            line, col = project.source.locate(("slug",))
            other = seen[key].manifest_file
            problems.append(Problem(project.manifest_file, line, col, ERROR,
                                    f"slug '{project.slug}' is already used by {other}", "$.slug"))
        else:
            seen[key] = project


def _check_config_refs(root: Path, config: WorkspaceConfig, doc: YamlDocument,
                       projects: list[Project], unloaded: set[str],
                       problems: list[Problem]) -> None:
    slugs = {p.slug for p in projects}
    for i, slug in enumerate(config.site.projects):
        # A project whose manifest failed has its own error; naming it again here would
        # send the user to the wrong file.
        if slug not in slugs and slug not in unloaded:
            path = ("site", "projects", i)
            line, col = doc.locate(path)
            problems.append(Problem(doc.file, line, col, ERROR,
                                    f"no project has slug '{slug}'", format_path(path)))
    for i, anchor in enumerate(config.provenance.trust_anchors):
        problem = _file_problem(root, root, anchor)
        if problem:
            path = ("provenance", "trust_anchors", i)
            line, col = doc.locate(path)
            problems.append(Problem(doc.file, line, col, ERROR, problem, format_path(path)))


def _ordered(projects: list[Project], config: WorkspaceConfig) -> list[Project]:
    """Projects named in `site.projects` first, in that order, then the rest by slug."""
    rank = {slug: i for i, slug in enumerate(config.site.projects)}
    return sorted(projects, key=lambda p: (rank.get(p.slug, len(rank)), p.slug))
