"""Run a project's declared reproduction, compare it with the claims, and keep a record.

`evidencechain reproduce` runs someone's code, so everything here assumes the code may be
hostile or careless:

- it runs in a fresh temporary copy of the repository, in a fresh virtual environment, with
  HOME and TMPDIR inside that copy, none of the caller's environment variables, stdin closed
  and a time limit after which its whole process group is killed;
- on Linux, where unprivileged user namespaces work, it runs under `unshare` with the network
  off, every file outside the temporary folder mounted read-only, and in its own PID
  namespace (nothing it starts outlives it). Where that is refused it falls back to network
  off only (`unshare -rn`), or to no isolation, and says so in the output and the record.

The record (`reproduction.json`, described by `schemas/reproduction.schema.json`) and the
log beside it are read back by `check` and `build`: a corrupt record is a located warning,
and a record whose code or claims changed since the run is marked stale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO, Any

from . import __version__
from .audit import SKIP_DIRS, CodeAudit, repo_dir
from .errors import EvidenceChainError, UsageError
from .model import ExpectedResult, Project
from .problems import WARNING, Problem
from .schema import validate
from .yamlsource import YamlDocument, YamlLoadError, format_path, load_yaml

RECORD_FILE = "reproduction.json"
LOG_FILE = "reproduction-log.txt"
RECORD_SCHEMA = "reproduction.schema.json"
RECORD_VERSION = 1
DEFAULT_TIMEOUT = 30 * 60
OUTPUT_LIMIT = 16 * 1024 * 1024  # bytes of output per command; more is a runaway command
RESULT_FILE_LIMIT = 10 * 1024 * 1024
SETUP_TIMEOUT = 10 * 60
POLL_SECONDS = 0.2

# Outcomes of a claimed metric, statuses of a run and of one command.
REPRODUCED, DIFFERS, NOT_PRODUCED = "reproduced", "differs", "not produced"
PASSED, FAILED, TIMED_OUT = "passed", "failed", "timed out"
CMD_OK, CMD_FAILED, CMD_TIMED_OUT, CMD_OUTPUT_LIMIT, CMD_NOT_RUN = (
    "ok", "failed", "timed out", "output limit", "not run")

BASE_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"


# --- what a run needs -----------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """A project's reproduction, checked to be runnable: where the code is and what to run."""

    project: Project
    repo: Path
    commands: tuple[str, ...]
    expected: dict[str, ExpectedResult]
    result_file: str | None
    needs_pip: bool


def plan_for(project: Project, audit: CodeAudit | None = None) -> Plan:
    """The reproduction `project` declares; UsageError saying what is missing otherwise."""
    m = project.manifest
    commands = tuple(c for c in (m.reproduce.commands if m.reproduce else []) if c.strip())
    if not commands:
        raise UsageError(f"project '{project.slug}' declares no reproduce.commands; "
                         "nothing to run")
    if not (m.repo and m.repo.path):
        raise UsageError(f"project '{project.slug}' has no repo.path; reproduce needs the code "
                         "as a local folder or clone")
    repo = repo_dir(project)
    if repo is None:
        raise UsageError(f"project '{project.slug}': repo folder '{m.repo.path}' does not exist")
    names_pip = any(re.search(r"\b(pip|pip3|uv)\b", c) for c in commands)
    declares = bool(audit and (audit.dependency_count or audit.lock_files))
    return Plan(project, repo, commands, dict(m.reproduce.expected), m.reproduce.result_file,
                needs_pip=names_pip or declares)


# --- isolation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Isolation:
    """What the commands are kept from, as measured on this machine."""

    network_off: bool = False
    read_only_outside_copy: bool = False
    own_process_namespace: bool = False
    method: str = "none"
    note: str = ""

    def describe(self) -> str:
        """One line a user and a reviewer can read."""
        if not self.network_off:
            return ("no isolation: the commands could use the network and write anywhere "
                    "this user can" + (f" ({self.note})" if self.note else ""))
        parts = ["network off"]
        parts.append("files outside the copy read-only" if self.read_only_outside_copy
                     else "files outside the copy NOT protected")
        if self.own_process_namespace:
            parts.append("own process namespace")
        text = ", ".join(parts) + f" ({self.method})"
        return text + (f"; {self.note}" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FULL_UNSHARE = ("unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork",
                "--kill-child", "--mount-proc", "--propagation", "private")
NET_UNSHARE = ("unshare", "--user", "--map-root-user", "--net")

# Runs inside the new namespaces: bind the whole file system onto $1, make every mount in it
# read-only, bind the temporary folder $2 back writable at its own path, and chroot there.
# Paths are the same inside and out, so the venv, HOME and TMPDIR need no translation.
# A mount that cannot be made read-only stops the run: the record must not claim it.
_SANDBOX_SCRIPT = r"""
set -eu
root=$1 box=$2 workdir=$3 command=$4
mount --rbind / "$root"
for m in $(awk -v r="$root" '$5 == r || index($5, r "/") == 1 {print $5}' /proc/self/mountinfo)
do
  mount -o remount,bind,ro "$m" || { echo "sandbox: cannot make $m read-only" >&2; exit 125; }
done
mount --bind "$box" "$root$box"
cd /
exec chroot "$root" /bin/sh -c 'cd "$1" && exec /bin/sh -c "$2"' sh "$workdir" "$command"
"""


def probe_isolation(box: Path | None = None) -> Isolation:
    """The strongest isolation that works here, found by running `true` under each level."""
    if os.name != "posix" or not sys.platform.startswith("linux"):
        return Isolation(note=f"no namespaces on {platform.system() or sys.platform}")
    if shutil.which("unshare") is None:
        return Isolation(note="unshare is not installed")
    owned = box is None
    box = box or Path(tempfile.mkdtemp(prefix="evidencechain-probe-"))
    try:
        (box / ".root").mkdir(exist_ok=True)
        env = {"PATH": BASE_PATH, "HOME": str(box), "LANG": "C.UTF-8"}
        full = _probe(_sandbox_argv(box, box, "true"), env)
        if full is None:
            return Isolation(True, True, True, " ".join(FULL_UNSHARE[:-2]) + " + chroot")
        net = _probe([*NET_UNSHARE, "true"], env)
        if net is None:
            return Isolation(True, False, False, " ".join(NET_UNSHARE),
                             f"no read-only file system: {full}")
        return Isolation(note=f"unshare refused: {net}")
    finally:
        if owned:
            shutil.rmtree(box, ignore_errors=True)


def _probe(argv: list[str], env: dict[str, str]) -> str | None:
    """None when `argv` runs cleanly, else why not (its last line of stderr)."""
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if proc.returncode == 0:
        return None
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {proc.returncode}"


def _sandbox_argv(box: Path, workdir: Path, command: str) -> list[str]:
    return [*FULL_UNSHARE, "--", "/bin/sh", "-c", _SANDBOX_SCRIPT, "sh",
            str(box / ".root"), str(box), str(workdir), command]


def _launch_argv(isolation: Isolation, box: Path, workdir: Path, command: str) -> list[str]:
    if isolation.read_only_outside_copy:
        return _sandbox_argv(box, workdir, command)
    if isolation.network_off:
        return [*NET_UNSHARE, "--", "/bin/sh", "-c", command]
    return ["/bin/sh", "-c", command]


# --- identity of the code -------------------------------------------------------------------

@dataclass(frozen=True)
class SourceIdentity:
    """Which version of the code ran: a git commit when the repo is one, and a content hash."""

    kind: str  # "git" or "content-hash"
    path: str
    content_sha256: str
    commit: str | None = None

    def describe(self) -> str:
        """`commit 1a2b3c4` or `content sha256 9f8e7d6…`."""
        if self.kind == "git" and self.commit:
            return f"commit {self.commit[:7]}"
        return f"content sha256 {self.content_sha256[:12]}…"


def source_identity(repo: Path, path_as_written: str,
                    exclude: frozenset[str] = frozenset()) -> SourceIdentity:
    """The identity of the code in `repo` now (see SourceIdentity)."""
    digest = content_hash(repo, exclude)
    commit = git_commit(repo)
    if commit:
        return SourceIdentity("git", path_as_written, digest, commit)
    return SourceIdentity("content-hash", path_as_written, digest)


def content_hash(repo: Path, exclude: frozenset[str] = frozenset()) -> str:
    """SHA-256 over relative paths and contents; caches, venvs and .git are left out.

    CRLF is read as LF so a Windows checkout with autocrlf hashes like the original.
    """
    total = hashlib.sha256()
    for rel, path in _tree(repo, exclude):
        total.update(rel.encode("utf-8") + b"\0")
        if path.is_symlink():
            total.update(b"link:" + os.readlink(path).encode("utf-8", "surrogateescape"))
        else:
            try:
                data = path.read_bytes().replace(b"\r\n", b"\n")
            except OSError:
                data = b"\0unreadable"  # still a stable identity; never a crash in check
            total.update(hashlib.sha256(data).digest())
        total.update(b"\0")
    return total.hexdigest()


def _tree(repo: Path, exclude: frozenset[str]) -> list[tuple[str, Path]]:
    out = []
    for current, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(current) / name
            rel = path.relative_to(repo).as_posix()
            if rel in exclude or not (path.is_file() or path.is_symlink()):
                continue
            out.append((rel, path))
    return out


def git_commit(repo: Path) -> str | None:
    """`git rev-parse HEAD` when `repo` is the top of a git work tree, else None.

    Only rev-parse is run: status or diff could run filters and fsmonitor hooks configured
    by the repository itself, which `check` and `build` must never do.
    """
    git = shutil.which("git")
    if git is None:
        return None
    # Neither system nor global configuration: only the repository's own, minus fsmonitor.
    env = {"PATH": BASE_PATH, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "HOME": "/nonexistent", "LANG": "C"}

    def rev_parse(*args: str) -> str | None:
        try:
            proc = subprocess.run([git, "-c", "core.fsmonitor=false", "rev-parse", *args],
                                  cwd=repo, env=env, capture_output=True, text=True,
                                  timeout=20, stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    top = rev_parse("--show-toplevel")
    if not top or Path(top).resolve() != repo.resolve():
        return None  # not a repository, or a folder inside another one
    commit = rev_parse("--verify", "--quiet", "HEAD")
    return commit if commit and re.fullmatch(r"[0-9a-f]{40,64}", commit) else None


def _git_version() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=10,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.strip().removeprefix("git version ") or None


# --- the record -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CommandRun:
    """One declared command and what became of it."""

    command: str
    status: str
    exit_code: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class MetricResult:
    """One claimed metric against the value the run produced."""

    name: str
    expected: float
    tolerance: float
    value: float | None
    outcome: str
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Record:
    """Everything one run of `reproduce` established (see schemas/reproduction.schema.json)."""

    project: str
    started_at: str
    seconds: float
    status: str
    source: SourceIdentity
    tools: dict[str, str]
    isolation: Isolation
    timeout_seconds: float
    setup_seconds: float
    setup_pip: bool
    commands: tuple[CommandRun, ...]
    metrics: tuple[MetricResult, ...]
    log_file: str = LOG_FILE
    log_sha256: str = ""
    log_bytes: int = 0

    @property
    def reproduced(self) -> int:
        """How many claimed metrics were reproduced within tolerance."""
        return sum(m.outcome == REPRODUCED for m in self.metrics)

    @property
    def ok(self) -> bool:
        """Every command succeeded and every claimed metric was reproduced."""
        return self.status == PASSED and self.reproduced == len(self.metrics)

    def headline(self) -> str:
        """`reproduced 2 of 2 metrics (f1 0.91, p95_ms 118) in 41 s on 2026-01-05`, or what
        went wrong."""
        day = self.started_at[:10]
        took = format_seconds(self.seconds)
        if self.status == TIMED_OUT:
            limit = format_seconds(self.timeout_seconds)
            return f"reproduction timed out after {took} (limit {limit}) on {day}"
        if self.status == FAILED:
            failed = next((i for i, c in enumerate(self.commands, 1)
                           if c.status not in (CMD_OK, CMD_NOT_RUN)), len(self.commands))
            cmd = self.commands[failed - 1]
            why = ("printed too much output" if cmd.status == CMD_OUTPUT_LIMIT
                   else "could not start" if cmd.exit_code is None
                   else f"exited with {cmd.exit_code}")
            return (f"reproduction failed: command {failed} of {len(self.commands)} {why} "
                    f"after {took} on {day}")
        if not self.metrics:
            return f"commands ran cleanly in {took} on {day} (no claimed metrics to compare)"
        return (f"reproduced {self.reproduced} of {len(self.metrics)} metrics "
                f"({self.values_found()}) in {took} on {day}")

    def values_found(self, most: int = 3) -> str:
        """`precision 0.62, recall 0.7`: what the run measured, so a badge never stands for
        a number the run did not produce (a headline claim made on other data)."""
        shown = [f"{m.name} {'not found' if m.value is None else f'{m.value:g}'}"
                 for m in self.metrics[:most]]
        more = len(self.metrics) - most
        return ", ".join(shown) + (f", +{more} more" if more > 0 else "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written to reproduction.json."""
        source: dict[str, Any] = {"kind": self.source.kind, "path": self.source.path,
                                  "commit": self.source.commit,
                                  "content_sha256": self.source.content_sha256}
        return {
            "record_version": RECORD_VERSION,
            "project": self.project,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "status": self.status,
            "source": source,
            "tools": self.tools,
            "isolation": self.isolation.to_dict(),
            "timeout_seconds": self.timeout_seconds,
            "setup": {"seconds": round(self.setup_seconds, 3), "pip": self.setup_pip},
            "commands": [{"command": c.command, "status": c.status, "exit_code": c.exit_code,
                          "seconds": None if c.seconds is None else round(c.seconds, 3)}
                         for c in self.commands],
            "metrics": [{k: v for k, v in dataclasses.asdict(m).items()
                         if k != "detail" or v} for m in self.metrics],
            "log": {"file": self.log_file, "sha256": self.log_sha256, "bytes": self.log_bytes},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """A record from schema-valid data."""
        src = data["source"]
        return cls(
            project=data["project"], started_at=data["started_at"],
            seconds=float(data["seconds"]), status=data["status"],
            source=SourceIdentity(src["kind"], src["path"], src["content_sha256"],
                                  src.get("commit")),
            tools=dict(data["tools"]), isolation=Isolation(**data["isolation"]),
            timeout_seconds=float(data["timeout_seconds"]),
            setup_seconds=float(data["setup"]["seconds"]), setup_pip=data["setup"]["pip"],
            commands=tuple(CommandRun(**c) for c in data["commands"]),
            metrics=tuple(MetricResult(**{**m, "expected": float(m["expected"]),
                                          "tolerance": float(m["tolerance"])})
                          for m in data["metrics"]),
            log_file=data["log"]["file"], log_sha256=data["log"]["sha256"],
            log_bytes=data["log"]["bytes"],
        )


def format_seconds(seconds: float) -> str:
    """41 s, 0.4 s, 3 min 20 s, 1 h 5 min."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


# --- running ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """What the run is doing, for a live progress line."""

    step: str  # "setup", "start", "tick" or "done"
    index: int = 0
    total: int = 0
    command: str = ""
    elapsed: float = 0.0
    status: str = ""


ProgressCallback = Callable[[Progress], None]


@dataclass
class _Run:
    """A run in progress: its folders, its log and what happened so far."""

    plan: Plan
    box: Path
    log: IO[bytes]
    isolation: Isolation
    env: dict[str, str]
    progress: ProgressCallback
    outputs: list[bytes] = field(default_factory=list)

    @property
    def workdir(self) -> Path:
        return self.box / "repo"


def run(plan: Plan, timeout: float = DEFAULT_TIMEOUT,
        progress: ProgressCallback | None = None) -> tuple[Record, bytes]:
    """Run `plan` in a fresh copy and venv; return the record and the log's bytes.

    Writes nothing into the workspace (see `write_record`) and leaves nothing behind: the
    temporary folder is removed whatever happens.
    """
    if os.name != "posix":
        raise UsageError("reproduce needs a POSIX system (Linux or macOS) to run commands")
    progress = progress or (lambda _p: None)
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    exclude = _own_files(plan)
    identity = source_identity(plan.repo, plan.project.manifest.repo.path, exclude)
    scratch = Path(tempfile.mkdtemp(prefix="evidencechain-reproduce-"))
    try:
        box = scratch / "box"
        progress(Progress("setup", command="copying the repository and creating a venv"))
        setup_started = time.monotonic()
        skipped = _prepare_box(plan, box, exclude)
        isolation = probe_isolation(box)
        setup_seconds = time.monotonic() - setup_started
        # Unbuffered: the commands write to the same file through their own descriptors.
        with (scratch / "log").open("w+b", buffering=0) as log:
            state = _Run(plan, box, log, isolation, _environment(box), progress)
            _write_header(state, started_at, identity, timeout, skipped)
            commands, seconds = _run_commands(state, timeout)
            metrics = compare_metrics(plan.expected, b"".join(state.outputs).decode(
                "utf-8", "replace"), _result_data(plan, state.workdir), plan.result_file)
            _write_footer(state, metrics)
            log.seek(0)
            log_bytes = log.read()
    finally:
        _force_remove(scratch)
    status = (TIMED_OUT if any(c.status == CMD_TIMED_OUT for c in commands)
              else PASSED if all(c.status == CMD_OK for c in commands) else FAILED)
    record = Record(plan.project.slug, started_at, seconds, status, identity, _tools(identity),
                    isolation, float(timeout), setup_seconds, plan.needs_pip, commands,
                    tuple(metrics), LOG_FILE, hashlib.sha256(log_bytes).hexdigest(),
                    len(log_bytes))
    return record, log_bytes


def _own_files(plan: Plan) -> frozenset[str]:
    """Our record and log, when the repo is the project folder itself: never part of it."""
    if plan.repo != plan.project.folder.resolve():
        return frozenset()
    return frozenset({RECORD_FILE, LOG_FILE, RECORD_FILE + ".tmp", LOG_FILE + ".tmp"})


def _prepare_box(plan: Plan, box: Path, exclude: frozenset[str]) -> list[str]:
    """Copy the repo to box/repo, make HOME, TMPDIR and a fresh venv; return skipped links."""
    skipped: list[str] = []
    box.mkdir()
    for name in ("home", "tmp", ".root"):
        (box / name).mkdir()
    try:
        shutil.copytree(plan.repo, box / "repo", symlinks=True,
                        ignore=_copy_filter(plan.repo, exclude, skipped))
    except (OSError, shutil.Error) as exc:
        raise EvidenceChainError(f"could not copy {plan.repo} to run it: {exc}") from exc
    args = [sys.executable, "-m", "venv", str(box / "venv")]
    if not plan.needs_pip:
        args.insert(3, "--without-pip")
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=SETUP_TIMEOUT,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EvidenceChainError(f"could not create a virtual environment: {exc}") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise EvidenceChainError(f"could not create a virtual environment: {last}")
    return skipped


def _copy_filter(repo: Path, exclude: frozenset[str],
                 skipped: list[str]) -> Callable[[str, list[str]], set[str]]:
    """Leave out caches and venvs, special files, and links leading outside the repo.

    A link to an absolute path or out of the repo would let a command read or write the
    original files through the copy, so it is not copied (and the log says so).
    """
    def ignore(folder: str, names: list[str]) -> set[str]:
        out = set()
        for name in names:
            path = Path(folder) / name
            rel = path.relative_to(repo).as_posix()
            if name in SKIP_DIRS or rel in exclude:
                out.add(name)
            elif path.is_symlink():
                target = os.readlink(path)
                inside = (path.parent / target).resolve().is_relative_to(repo.resolve())
                if os.path.isabs(target) or not inside:
                    skipped.append(f"{rel} -> {target}")
                    out.add(name)
            elif not (path.is_file() or path.is_dir()):
                skipped.append(f"{rel} (not a regular file)")
                out.add(name)
        return out

    return ignore


def _environment(box: Path) -> dict[str, str]:
    """A minimal environment: none of the caller's variables (tokens, keys) get through."""
    home, tmp, venv = box / "home", box / "tmp", box / "venv"
    return {
        "PATH": f"{venv / 'bin'}:{BASE_PATH}",
        "VIRTUAL_ENV": str(venv),
        "HOME": str(home),
        "TMPDIR": str(tmp), "TMP": str(tmp), "TEMP": str(tmp),
        "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # so output and errors interleave in the order they happen
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
    }


def _tools(identity: SourceIdentity) -> dict[str, str]:
    tools = {"python": platform.python_version(), "evidencechain": __version__,
             "platform": platform.platform()}
    if identity.kind == "git":
        tools["git"] = _git_version() or "unknown"
    return tools


def _write_header(state: _Run, started_at: str, identity: SourceIdentity, timeout: float,
                  skipped: list[str]) -> None:
    plan = state.plan
    lines = [
        f"# evidencechain {__version__} reproduce: {plan.project.slug}",
        f"# started {started_at}, Python {platform.python_version()} on {platform.platform()}",
        f"# code: {plan.project.manifest.repo.path} at {identity.describe()}",
        f"# isolation: {state.isolation.describe()}",
        f"# time limit: {format_seconds(timeout)}; fresh venv"
        + ("" if plan.needs_pip else " without pip"),
    ]
    lines += [f"# not copied: {s}" for s in skipped]
    _log(state, "\n".join(lines) + "\n")


def _log(state: _Run, text: str) -> None:
    state.log.write(text.encode("utf-8"))


def _run_commands(state: _Run, timeout: float) -> tuple[tuple[CommandRun, ...], float]:
    """Run the commands in order until one fails or the time limit is reached."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    runs: list[CommandRun] = []
    commands = state.plan.commands
    for index, command in enumerate(commands, 1):
        if runs and runs[-1].status != CMD_OK:
            runs.append(CommandRun(command, CMD_NOT_RUN))
            continue
        state.progress(Progress("start", index, len(commands), command))
        _log(state, f"\n$ {command}\n")
        result = _run_one(state, index, command, deadline)
        state.progress(Progress("done", index, len(commands), command, result.seconds or 0,
                                result.status))
        runs.append(result)
    return tuple(runs), time.monotonic() - started


def _run_one(state: _Run, index: int, command: str, deadline: float) -> CommandRun:
    argv = _launch_argv(state.isolation, state.box, state.workdir, command)
    before = state.log.tell()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=state.workdir, env=state.env,
                                stdin=subprocess.DEVNULL, stdout=state.log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        _log(state, f"[could not start: {exc}]\n")
        state.outputs.append(b"")
        return CommandRun(command, CMD_FAILED, None, 0.0)
    status = None
    while True:
        try:
            code = proc.wait(timeout=POLL_SECONDS)
            break
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - started
            state.progress(Progress("tick", index, len(state.plan.commands), command, elapsed))
            if time.monotonic() >= deadline:
                status = CMD_TIMED_OUT
            elif os.fstat(state.log.fileno()).st_size - before > OUTPUT_LIMIT:
                status = CMD_OUTPUT_LIMIT
            if status:
                _kill_group(proc)
                code = proc.wait()
                break
    _kill_group(proc)  # whatever it left running in the background goes too
    seconds = time.monotonic() - started
    state.log.seek(before)
    state.outputs.append(state.log.read())
    state.log.seek(0, os.SEEK_END)
    status = status or (CMD_OK if code == 0 else CMD_FAILED)
    _log(state, f"\n[{status}: exit code {code} after {seconds:.2f} s]\n")
    return CommandRun(command, status, code, seconds)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command's whole process group (it leads one: start_new_session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _result_data(plan: Plan, workdir: Path) -> tuple[Any, str]:
    """The declared result file's JSON from the copy, or (None, why not)."""
    if not plan.result_file:
        return None, ""
    path = workdir / plan.result_file
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(workdir.resolve()):
            return None, f"{plan.result_file} leads outside the repository"
        if not resolved.is_file():
            return None, f"{plan.result_file} was not written"
        if resolved.stat().st_size > RESULT_FILE_LIMIT:
            return None, f"{plan.result_file} is larger than {RESULT_FILE_LIMIT // 2**20} MB"
        return json.loads(resolved.read_text(encoding="utf-8", errors="replace")), ""
    except (OSError, ValueError) as exc:
        return None, f"{plan.result_file} is not readable JSON ({type(exc).__name__})"


def _write_footer(state: _Run, metrics: list[MetricResult]) -> None:
    if not metrics:
        return
    lines = ["", "# claimed metrics:"]
    for m in metrics:
        got = "nothing" if m.value is None else f"{m.value:g}"
        lines.append(f"#   {m.name}: claimed {m.expected:g} ± {m.tolerance:g}, got {got} "
                     f"({m.source}): {m.outcome}" + (f" — {m.detail}" if m.detail else ""))
    _log(state, "\n".join(lines) + "\n")


def _force_remove(folder: Path) -> None:
    """Remove the temporary folder even where a command took away its permissions."""
    for current, dirs, _files in os.walk(folder):
        for name in dirs:
            try:
                os.chmod(Path(current) / name, 0o700, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
    shutil.rmtree(folder, ignore_errors=True)


# --- comparing ----------------------------------------------------------------------------------

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def compare_metrics(expected: dict[str, ExpectedResult], output: str,
                    result: tuple[Any, str] = (None, ""),
                    result_file: str | None = None) -> list[MetricResult]:
    """Each claimed metric against the run: from its `pattern` in the output, else from the
    result file by name, else from a `name=value` or `name: value` line of the output."""
    out = []
    for name, claim in expected.items():
        if claim.pattern:
            value, source, detail = _from_pattern(claim.pattern, output)
        elif result_file:
            value, source, detail = _from_result(name, result, result_file)
        else:
            default = rf"(?<![\w.]){re.escape(name)}\s*[=:]\s*({_NUMBER})"
            value, source, detail = _from_pattern(default, output)
            source = f"output, '{name}=' line"
        tolerance = claim.tolerance or 0.0
        if value is None:
            outcome = NOT_PRODUCED
        elif math.isclose(value, claim.value, rel_tol=0, abs_tol=tolerance + 1e-9):
            outcome = REPRODUCED
        else:
            outcome = DIFFERS
        out.append(MetricResult(name, claim.value, tolerance, value, outcome, source, detail))
    return out


def _from_pattern(pattern: str, output: str) -> tuple[float | None, str, str]:
    """The last match of `pattern` (its first group) in the output: the final result wins."""
    source = f"output, pattern {pattern}"
    try:
        matches = list(re.finditer(pattern, output, re.MULTILINE))
    except re.error as exc:
        return None, source, f"the pattern is not a valid regular expression: {exc}"
    if not matches:
        return None, source, "no line of the output matches"
    last = matches[-1]
    text = last.group(1) if last.re.groups else last.group(0)
    return _number(text, source)


def _number(text: str | None, source: str) -> tuple[float | None, str, str]:
    try:
        value = float(text or "")
    except ValueError:
        return None, source, f"'{(text or '')[:40]}' is not a number"
    if not math.isfinite(value):
        return None, source, f"'{text}' is not a finite number"
    return value, source, ""


def _from_result(name: str, result: tuple[Any, str],
                 result_file: str) -> tuple[float | None, str, str]:
    data, problem = result
    source = f"result file {result_file}"
    if problem:
        return None, source, problem
    node = data
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return None, source, f"no '{name}' in {result_file}"
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float, str)):
        return None, source, f"'{name}' in {result_file} is not a number"
    return _number(str(node), source)


# --- writing and reading the record -------------------------------------------------------------

def record_path(project: Project) -> Path:
    """Where `project`'s reproduction record lives."""
    return project.folder / RECORD_FILE


def write_record(project: Project, record: Record, log_bytes: bytes) -> Path:
    """Write the log and the record beside evidence.yml, each replaced whole."""
    _replace(project.folder / record.log_file, log_bytes)
    text = json.dumps(record.to_dict(), indent=2, ensure_ascii=False) + "\n"
    _replace(record_path(project), text.encode("utf-8"))
    return record_path(project)


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class RecordState:
    """A record as read back: the record, why it is stale (if it is), whether its log holds."""

    record: Record
    stale_reasons: tuple[str, ...] = ()
    log_ok: bool = True

    @property
    def stale(self) -> bool:
        return bool(self.stale_reasons)


def read_record(project: Project, root: Path) -> tuple[RecordState | None, list[Problem]]:
    """Read and check `project`'s record; a bad record is a located warning, never a crash."""
    path = record_path(project)
    if not path.exists():
        return None, []
    rel = PurePosixPath(path.relative_to(root).as_posix())
    doc, problems = _load(path, rel)
    if doc is None:
        return None, problems
    try:
        record = Record.from_dict(doc.data)
    except (KeyError, TypeError, ValueError) as exc:  # valid by the schema, yet unusable
        return None, [Problem(rel, 1, 1, WARNING, f"not a valid reproduction record: {exc}")]
    log_ok, log_problem = _check_log(project, record, doc)
    reasons = staleness(project, record)
    if reasons:
        line, col = doc.locate(("source",))
        problems.append(Problem(rel, line, col, WARNING,
                                "the reproduction is stale: " + "; ".join(reasons)
                                + "; run `evidencechain reproduce` again", "$.source"))
    if log_problem:
        problems.append(log_problem)
    return RecordState(record, tuple(reasons), log_ok), problems


def _load(path: Path, rel: PurePosixPath) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse JSON (keeping where each value is, for messages) and validate it."""
    hint = "; run `evidencechain reproduce` again to replace it"
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(rel, exc.lineno, exc.colno, WARNING,
                              f"not a valid reproduction record: {exc.msg}{hint}")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(rel, 0, 0, WARNING,
                              f"cannot read the reproduction record ({type(exc).__name__}){hint}")]
    try:  # JSON is YAML: the YAML reader gives line and column of every value
        marks = load_yaml(path, rel)
        doc = YamlDocument(rel, data, marks.value_marks, marks.key_marks)
    except YamlLoadError:
        doc = YamlDocument(rel, data)
    problems = [dataclasses.replace(p, level=WARNING,
                                    message=f"not a valid reproduction record: {p.message}")
                for p in validate(doc, RECORD_SCHEMA)]
    return (None, problems) if problems else (doc, [])


def _check_log(project: Project, record: Record,
               doc: YamlDocument) -> tuple[bool, Problem | None]:
    log = project.folder / record.log_file
    try:
        digest = hashlib.sha256(log.read_bytes()).hexdigest()
    except OSError:
        digest = None
    if digest == record.log_sha256:
        return True, None
    line, col = doc.locate(("log", "sha256"))
    why = "is missing" if digest is None else "does not match the sha256 in the record"
    return False, Problem(doc.file, line, col, WARNING,
                          f"the reproduction log {record.log_file} {why}",
                          format_path(("log", "sha256")))


def staleness(project: Project, record: Record) -> list[str]:
    """Why `record` no longer describes the project's code and claims (empty when it does)."""
    m = project.manifest
    repo = repo_dir(project)
    if repo is None:
        return ["the repo folder is gone"]
    reasons = []
    exclude = frozenset({RECORD_FILE, LOG_FILE}) if repo == project.folder.resolve() \
        else frozenset()
    now = source_identity(repo, record.source.path, exclude)
    if record.source.kind == "git" and now.commit != record.source.commit:
        reasons.append(f"the repository moved from commit {str(record.source.commit)[:7]} "
                       f"to {str(now.commit)[:7] if now.commit else 'no commit'}")
    elif now.content_sha256 != record.source.content_sha256:
        reasons.append(f"files in {record.source.path} changed since the run")
    commands = [c for c in (m.reproduce.commands if m.reproduce else []) if c.strip()]
    if commands != [c.command for c in record.commands]:
        reasons.append("reproduce.commands changed since the run")
    claims = {n: (e.value, e.tolerance or 0.0)
              for n, e in (m.reproduce.expected if m.reproduce else {}).items()}
    if claims != {x.name: (x.expected, x.tolerance) for x in record.metrics}:
        reasons.append("the claimed values (reproduce.expected) changed since the run")
    return reasons
