"""A static audit of a project's code: what a reviewer checks in its first five minutes.

Nothing here runs the candidate's code; it reads files. For a project whose `repo.path`
points at a local folder or clone it looks for pinned dependencies, a run script or
container recipe, a README with reproduction steps, tests, and a trade-off memo naming at
least two failure modes; for `ml-engineering` projects it also reads the manifest's
monitoring plan and model card. Each item is found or missing, with the file that shows it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .chain import AUDITED_LINKS, Observed, is_filled
from .model import Manifest, Project

# Folders that are build output, caches or environments, never the candidate's evidence.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "node_modules", ".eggs",
})
MAX_FILES = 20_000  # a repository bigger than this is audited on its first files only
MAX_TEXT_BYTES = 1_000_000

LOCK_FILES = ("uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock", "pixi.lock",
              "conda-lock.yml", "requirements.lock", "package-lock.json", "yarn.lock",
              "pnpm-lock.yaml", "Cargo.lock", "go.sum")
ENV_FILES = ("environment.yml", "environment.yaml")
RUN_SCRIPTS = ("run.sh", "reproduce.sh", "scripts/run.sh", "scripts/reproduce.sh")
MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
CONTAINER_FILES = ("Dockerfile", "Containerfile", "compose.yaml", "compose.yml",
                   "docker-compose.yaml", "docker-compose.yml")
MEMO_NAMES = ("memo.md", "tradeoffs.md", "docs/memo.md", "docs/tradeoffs.md")
MIN_FAILURE_MODES = 2

_TEST_FILE = re.compile(r"^(test_.+\.py|.+_test\.py|tests\.py|.+_test\.go|"
                        r".+\.(test|spec)\.[cm]?[jt]sx?)$")
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9][\w.-]*)\s*:(?!=)", re.MULTILINE)
_STEPS_WORDS = re.compile(r"\b(reproduc\w*|how to run|running|usage|quick ?start|"
                         r"getting started|install\w*|set ?up|run)\b", re.IGNORECASE)
# A Markdown heading (ATX `## Title`, or setext: a line underlined with === or ---).
_HEADING = re.compile(r"^(?:#{1,6}[ \t]+(.+?)[ \t#]*|([^\n]+)\n(?:=+|-+)[ \t]*)$", re.MULTILINE)
_COMMAND_BLOCK = re.compile(r"```|^(    |\t)\S|^\s*\$ \S|::\s*$", re.MULTILINE)
# Words that say how a system fails; a sentence or list item holding one names a failure mode.
_FAILURE_WORDS = re.compile(
    r"\b(fail\w*|break\w*|broke|broken|crash\w*|misrout\w*|mis\w+(ed|es|s)|miss(es|ed|ing)?|"
    r"drift\w*|regress\w*|degrad\w*|errors?|wrong\w*|leak\w*|time[sd]? out|timeouts?|"
    r"outages?|stale|overfit\w*|bias\w*|hallucinat\w*|false (positive|negative)s?|"
    r"confus\w*|out of memory|oom)\b", re.IGNORECASE)
_PINNED_SPEC = re.compile(r"^[A-Za-z0-9][\w.\-]*(\[[^\]]*\])?\s*===?\s*[\w.!+\-]+\s*(;.*)?$")
_GIT_COMMIT_URL = re.compile(r"@[0-9a-f]{40}\b|#sha256=[0-9a-f]{64}")
_CONDA_PINNED = re.compile(r"^[\w.\-]+\s*(==?|=)\s*[\w.!+\-]+(=[\w.]+)?$")


@dataclass(frozen=True)
class Finding:
    """One audited item: found or missing, what shows it, and the files behind it."""

    key: str
    label: str
    found: bool
    evidence: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeAudit:
    """Everything the audit found for one project."""

    repo: str | None
    findings: tuple[Finding, ...]
    unpinned: tuple[str, ...] = ()
    test_files: tuple[str, ...] = ()
    dependency_count: int = 0
    lock_files: tuple[str, ...] = ()

    def observed(self) -> dict[str, Observed]:
        """The findings as the chain's audited links read them (see `chain.assess`)."""
        return {f.key: Observed(f.found, f.evidence) for f in self.findings}

    def finding(self, key: str) -> Finding | None:
        """The finding for link `key`, or None when it was not audited."""
        return next((f for f in self.findings if f.key == key), None)


def audit_project(project: Project) -> CodeAudit:
    """Audit `project`: its repository (when repo.path is set) and, for ML, its manifest."""
    m = project.manifest
    repo_rel = m.repo.path if m.repo and m.repo.path else None
    findings: list[Finding] = []
    facts = _RepoFacts()
    if repo_rel is not None:
        repo = repo_dir(project)
        if repo is None:
            findings = [_finding(key, False, f"repo folder '{repo_rel}' not found")
                        for key in _CODE_KEYS]
        else:
            facts = _scan(repo)
            findings = _code_findings(facts, m, project.folder)
    if m.kind == "ml-engineering":
        findings += [_monitoring(m), _model_card_use(m)]
    return CodeAudit(repo_rel, tuple(findings), tuple(facts.unpinned), tuple(facts.tests),
                     facts.dependency_count, tuple(facts.lock_files))


def repo_dir(project: Project) -> Path | None:
    """The folder `repo.path` names (relative to the project folder, or absolute), if any."""
    repo = project.manifest.repo
    if not repo or not repo.path:
        return None
    folder = (project.folder / repo.path).resolve()
    return folder if folder.is_dir() else None


def walk_files(root: Path, limit: int = MAX_FILES) -> Iterator[PurePosixPath]:
    """Files under `root`, relative and sorted, skipping caches, environments and VCS data."""
    count = 0
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        base = PurePosixPath(Path(current).relative_to(root).as_posix())
        for name in sorted(files):
            count += 1
            if count > limit:
                return
            yield base / name if str(base) != "." else PurePosixPath(name)


# --- repository facts -----------------------------------------------------------------------

_CODE_KEYS = ("pinned_deps", "run_script", "readme_steps", "tests", "tradeoff_memo")


@dataclass
class _RepoFacts:
    root: Path | None = None
    files: list[PurePosixPath] = field(default_factory=list)
    dependency_files: list[str] = field(default_factory=list)
    lock_files: list[str] = field(default_factory=list)
    unpinned: list[str] = field(default_factory=list)
    dependency_count: int = 0
    tests: list[str] = field(default_factory=list)


def _scan(repo: Path) -> _RepoFacts:
    facts = _RepoFacts(repo, list(walk_files(repo)))
    names = {str(f) for f in facts.files}
    facts.lock_files = [n for n in LOCK_FILES if n in names]
    facts.tests = [str(f) for f in facts.files if _TEST_FILE.match(f.name)]
    for rel in _requirement_files(facts.files):
        facts.dependency_files.append(rel)
        _add_requirements(facts, rel, _requirement_lines(repo, rel, set()))
    for rel in (n for n in ENV_FILES if n in names):
        facts.dependency_files.append(rel)
        _add_requirements(facts, rel, _conda_specs(repo / rel), conda=True)
    if "pyproject.toml" in names:
        deps = _pyproject_dependencies(repo / "pyproject.toml")
        if deps is not None:
            facts.dependency_files.append("pyproject.toml")
            _add_requirements(facts, "pyproject.toml", deps)
    return facts


def _requirement_files(files: list[PurePosixPath]) -> list[str]:
    out = []
    for f in files:
        top = len(f.parts) == 1 and re.fullmatch(r"requirements[\w.\-]*\.txt", f.name)
        nested = len(f.parts) == 2 and f.parts[0] == "requirements" and f.suffix == ".txt"
        if top or nested:
            out.append(str(f))
    return out


def _requirement_lines(repo: Path, rel: str, seen: set[str]) -> list[str]:
    """Requirement specifiers of a pip requirements file, following `-r` inside the repo."""
    seen.add(rel)
    text = _read_text(repo / rel)
    specs: list[str] = []
    for line in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        include = re.match(r"^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", line)
        if include:
            target = (PurePosixPath(rel).parent / include.group(2)).as_posix()
            if target not in seen and ".." not in PurePosixPath(target).parts \
                    and (repo / target).is_file():
                specs += _requirement_lines(repo, target, seen)
            continue
        if line.startswith("-") and not line.startswith(("-e", "--editable")):
            continue  # an option such as --index-url
        spec = re.sub(r"^(-e|--editable)\s*", "", line)
        spec = re.split(r"\s+--", spec)[0].strip()  # drop --hash=... options
        if spec.startswith((".", "/", "file:")):
            continue  # the project itself or a local folder, not a third-party package
        specs.append(spec)
    return specs


def _conda_specs(path: Path) -> list[str]:
    try:
        data = yaml.safe_load(_read_text(path)) or {}
    except yaml.YAMLError:
        return []
    specs: list[str] = []
    for dep in data.get("dependencies", []) if isinstance(data, dict) else []:
        if isinstance(dep, str):
            specs.append(dep)
        elif isinstance(dep, dict):
            specs += [f"pip:{d}" for d in dep.get("pip", []) if isinstance(d, str)]
    return specs


def _pyproject_dependencies(path: Path) -> list[str] | None:
    """`[project].dependencies`, or None when there is no such table (or no TOML reader)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library
        return None
    try:
        data = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError:
        return None
    project = data.get("project")
    if not isinstance(project, dict) or "dependencies" not in project:
        return None
    return [d for d in project["dependencies"] if isinstance(d, str)]


def _add_requirements(facts: _RepoFacts, rel: str, specs: list[str], conda: bool = False) -> None:
    for spec in specs:
        facts.dependency_count += 1
        if not _is_pinned(spec, conda):
            facts.unpinned.append(f"{rel}: {spec.removeprefix('pip:')}")


def _is_pinned(spec: str, conda: bool) -> bool:
    """An exact version (==, ===, or conda's =), or a URL fixed by commit or hash."""
    if spec.startswith("pip:"):
        spec, conda = spec[4:], False
    if "*" in spec:
        return False
    if "@" in spec and "://" in spec:
        return bool(_GIT_COMMIT_URL.search(spec))
    if conda:
        return bool(_CONDA_PINNED.match(spec.strip()))
    return bool(_PINNED_SPEC.match(spec.strip()))


# --- findings -----------------------------------------------------------------------------

def _code_findings(facts: _RepoFacts, m: Manifest, project_folder: Path) -> list[Finding]:
    return [_pinned(facts), _run_script(facts), _readme(facts), _tests(facts),
            _memo(facts, m, project_folder)]


def _finding(key: str, found: bool, evidence: str, files: tuple[str, ...] = ()) -> Finding:
    label = next(link.label for link in AUDITED_LINKS if link.key == key)
    return Finding(key, label, found, evidence, files)


def _pinned(facts: _RepoFacts) -> Finding:
    if facts.lock_files:
        extra = f"; unpinned elsewhere: {_some(facts.unpinned)}" if facts.unpinned else ""
        return _finding("pinned_deps", True,
                        f"lock file {', '.join(facts.lock_files)}{extra}",
                        tuple(facts.lock_files))
    files = tuple(facts.dependency_files)
    if not files:
        return _finding("pinned_deps", False,
                        "no requirements file, lock file or environment file")
    if facts.unpinned:
        return _finding("pinned_deps", False, f"not pinned: {_some(facts.unpinned)}", files)
    if facts.dependency_count == 0:
        return _finding("pinned_deps", True,
                        f"{', '.join(files)}: no third-party packages to pin", files)
    return _finding("pinned_deps", True,
                    f"{', '.join(files)}: {facts.dependency_count} of "
                    f"{facts.dependency_count} pinned to exact versions", files)


def _some(items: list[str], limit: int = 4) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _run_script(facts: _RepoFacts) -> Finding:
    names = {str(f) for f in facts.files}
    found: list[str] = []
    notes: list[str] = []
    for rel in RUN_SCRIPTS:
        if rel in names:
            found.append(rel)
            notes.append(rel)
    for rel in MAKEFILES:
        if rel in names and facts.root is not None:
            targets = [t for t in _MAKE_TARGET.findall(_read_text(facts.root / rel))
                       if not t.startswith(".")]
            if targets:
                found.append(rel)
                notes.append(f"{rel} (targets: {', '.join(dict.fromkeys(targets))})")
    for rel in sorted(names):
        base = PurePosixPath(rel).name
        if (base in CONTAINER_FILES or base.endswith(".dockerfile")) \
                and len(PurePosixPath(rel).parts) <= 2:
            found.append(rel)
            notes.append(rel)
    if not found:
        return _finding("run_script", False,
                        "no run.sh, Makefile target, Dockerfile or compose file")
    return _finding("run_script", True, ", ".join(notes), tuple(found))


def _readme(facts: _RepoFacts) -> Finding:
    readmes = [str(f) for f in facts.files
               if len(f.parts) == 1 and f.name.lower().split(".")[0] == "readme"]
    if not readmes or facts.root is None:
        return _finding("readme_steps", False, "no README")
    for rel in readmes:
        title = steps_section(_read_text(facts.root / rel))
        if title is not None:
            where = f"section '{title}'" if title else "reproduction steps"
            return _finding("readme_steps", True, f"{rel}: {where} with commands", (rel,))
    return _finding("readme_steps", False,
                    f"{readmes[0]} has no section on how to run the code that shows the commands",
                    (readmes[0],))


def steps_section(text: str) -> str | None:
    """Title of the first section that says how to run the code and shows the commands.

    '' when the README has no headings but mentions running and shows commands; None when
    no section qualifies.
    """
    headings = list(_HEADING.finditer(text))
    if not headings:
        found = _STEPS_WORDS.search(text) and _COMMAND_BLOCK.search(text)
        return "" if found else None
    for i, heading in enumerate(headings):
        title = (heading.group(1) or heading.group(2)).strip()
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        if _STEPS_WORDS.search(title) and _COMMAND_BLOCK.search(text, heading.end(), end):
            return title
    return None


def _tests(facts: _RepoFacts) -> Finding:
    if not facts.tests:
        return _finding("tests", False, "no test files such as test_*.py, *_test.py or *.test.js")
    shown = ", ".join(facts.tests[:3]) + (" ..." if len(facts.tests) > 3 else "")
    count = f"{len(facts.tests)} test file" + ("s" if len(facts.tests) > 1 else "")
    return _finding("tests", True, f"{count}: {shown}",
                    tuple(facts.tests))


def _memo(facts: _RepoFacts, m: Manifest, project_folder: Path) -> Finding:
    """memo.md (in the repo or the project folder) or case_study.tradeoffs, by failure modes."""
    candidates: list[tuple[str, str, tuple[str, ...]]] = []
    names = {str(f).lower(): str(f) for f in facts.files}
    for rel in MEMO_NAMES:
        if rel in names and facts.root is not None:
            candidates.append((names[rel], _read_text(facts.root / names[rel]), (names[rel],)))
    if facts.root != project_folder.resolve():
        for rel in MEMO_NAMES[:2]:
            if (project_folder / rel).is_file():
                candidates.append((f"{rel} in the project folder",
                                   _read_text(project_folder / rel), ()))
    if is_filled(m.case_study.tradeoffs):
        candidates.append(("case_study.tradeoffs", m.case_study.tradeoffs or "", ()))
    if not candidates:
        return _finding("tradeoff_memo", False, "no memo.md and no case_study.tradeoffs")
    counted = [(where, count_failure_modes(text), files) for where, text, files in candidates]
    for where, count, files in counted:
        if count >= MIN_FAILURE_MODES:
            return _finding("tradeoff_memo", True, f"{where} names {count} failure modes", files)
    where, count, _ = max(counted, key=lambda c: c[1])
    return _finding("tradeoff_memo", False, f"{where} names {count} failure mode(s); "
                                            f"name at least {MIN_FAILURE_MODES}")


_FAILURE_HEADING = re.compile(r"^#{1,6}[ \t]+.*\b(fail\w*|risks?|go wrong|limitations?)\b.*$",
                              re.IGNORECASE | re.MULTILINE)


def count_failure_modes(text: str) -> int:
    """Sentences or list items that say how the system fails (a heuristic, stated as such).

    When the memo has a section on failure modes (or risks, or limitations) only that
    section counts, so trade-offs that mention a failure in passing are not counted twice.
    """
    heading = _FAILURE_HEADING.search(text)
    if heading:
        following = re.search(r"^#{1,6}[ \t]", text[heading.end():], re.MULTILINE)
        text = text[heading.end():heading.end() + following.start() if following else None]
    text = re.sub(r"^\s*#.*$", "", text, flags=re.MULTILINE)  # a heading names no mode
    items = re.split(r"(?<=[.!?])\s+|\n\s*[-*+]\s+|\n\s*\d+[.)]\s+|\n\s*\n", text)
    return sum(1 for item in items if _FAILURE_WORDS.search(item))


# --- manifest findings (ml-engineering) ---------------------------------------------------

MONITORING_PARTS = (("data_drift", "data-drift alert"),
                    ("label_distribution", "label-distribution alert"),
                    ("latency_slo", "latency SLO"), ("cost_anomaly", "cost anomaly alert"),
                    ("rollback", "rollback condition"))


def _monitoring(m: Manifest) -> Finding:
    missing = [words for key, words in MONITORING_PARTS
               if not is_filled(getattr(m.monitoring, key))]
    if not missing:
        return _finding("monitoring", True,
                        "monitoring: drift, label distribution, latency SLO, cost, rollback")
    if len(missing) == len(MONITORING_PARTS):
        return _finding("monitoring", False, "no monitoring section")
    return _finding("monitoring", False, f"monitoring lacks: {', '.join(missing)}")


def _model_card_use(m: Manifest) -> Finding:
    card = m.model_card
    missing = [name for name, value in (("intended_use", card.intended_use),
                                        ("limitations", card.limitations))
               if not is_filled(value)]
    if missing:
        return _finding("model_card_use", False,
                        f"model_card lacks {' and '.join(missing)}")
    return _finding("model_card_use", True, "model_card: intended_use and limitations")


def _read_text(path: Path) -> str:
    """A text file's start, decoded leniently: the audit must not fail on a stray byte."""
    try:
        with path.open("rb") as f:
            return f.read(MAX_TEXT_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""
