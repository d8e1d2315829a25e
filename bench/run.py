"""Benchmark `evidencechain build` at scale against the work it cannot avoid.

    python bench/run.py                                   # 10, 100, 500 projects x 10 assets
    python bench/run.py --sizes 10,100 --runs 3           # a subset
    python bench/run.py --max-megapixels 12 --sizes 10    # full-size images (slow)
    python bench/run.py --write docs/performance.md       # also update the published figures

Run by hand, not as a test (about 15 minutes for the default sizes on 2 cores, plus a few
minutes the first time to generate the synthetic workspaces; bench/synth.py caches them).

For each size, medians over the runs, every build a fresh process (as a user runs it):

- cold build: an empty cache and a new output folder;
- warm build: the same cache and output, nothing changed;
- one manifest changed: one project's title edited, everything else unchanged;
- cold build with one worker (`--jobs 1`): the same steps one after another.

Measured in the same run, as baselines: plain `mkdocs build` of the Markdown evidencechain
generated for that workspace; `hashlib.sha256` over every asset's bytes (one thread); a
minimal Pillow loop making the same display copies on every core. Each build reports its
own time per stage and its cache hits; peak memory is the child process's max RSS (wait4).
The workspace's files are read just before each cold build and each baseline, so that both
read them from the page cache and the figures compare CPU work, not disk speed (the VMs this
was written on reclaim idle page cache within minutes, so having read them once is not
enough: a cold build reading 0.5 GB from disk took a second longer in provenance alone).
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from synth import Params, ensure_workspace  # noqa: E402

MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"
# The targets, as ratios measured in one run (docs/performance.md explains each).
WARM_VS_MKDOCS = 1.2
PROVENANCE_VS_SHA = 1.3
DISPLAY_VS_PILLOW = 1.2
PARALLEL_GAIN = 1.5
PEAK_MB = 500
CHANGED_PROJECT = 0  # the project whose manifest the "one manifest changed" build edits


# --------------------------------------------------------------------------- child builds


CHILD = """
import json, sys
from pathlib import Path
import evidencechain.cli  # what the command imports, so start-up costs the same
from evidencechain.build import build_site
from evidencechain.cache import Tracker
ws, out, cache, jobs = sys.argv[1:5]
tracker = Tracker()
result = build_site(Path(ws), Path(out), cache_dir=Path(cache), jobs=int(jobs), tracker=tracker)
stats = result.cache
print(json.dumps({"stages": tracker.seconds(), "hits": dict(stats.hits),
                  "misses": dict(stats.misses), "missed": stats.missed[:20],
                  "counts": {n: [s.done, s.cached] for n, s in tracker.stages.items()}}))
"""


@dataclass
class Run:
    """One measured child process."""

    seconds: float
    peak_mb: float
    report: dict = field(default_factory=dict)


def child(args: list[str], *, script: str | None = None) -> Run:
    """Run a Python child (`-c script args` or `-m ...`), timing it and reading its peak
    RSS from wait4 (Popen would reap it first, so it is waited for here)."""
    command = [sys.executable, "-c", script, *args] if script else [sys.executable, *args]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"child failed ({' '.join(command[:4])} ...):\n"
                             f"{err.read().decode()[-3000:]}")
        text = out.read().decode().strip()
    report = json.loads(text.splitlines()[-1]) if script else {}
    return Run(seconds, usage.ru_maxrss / 1024, report)


def settle(folder: Path, timeout: float = 120.0) -> None:
    """Wait until the replaced sites under `folder` are deleted: a build hands that to a
    detached `rm` and returns, so measuring the next process while it runs would charge it
    to whatever runs next (the user who rebuilds within a second pays it, as shared CPU)."""
    deadline = time.monotonic() + timeout
    while any(folder.glob(".*.build-*")) and time.monotonic() < deadline:
        time.sleep(0.05)


def build(ws: Path, out: Path, cache: Path, jobs: int) -> Run:
    settle(out.parent)
    return child([str(ws), str(out), str(cache), str(jobs)], script=CHILD)


# --------------------------------------------------------------------------- baselines


def generated_mkdocs_project(ws: Path, cache: Path, site: Path, scratch: Path) -> Path:
    """The Markdown and mkdocs.yml evidencechain generates for `ws` (from the warm cache and
    the built `site`, so nothing is computed again)."""
    from evidencechain.build import _prepare, _Reuse
    from evidencechain.cache import Cache
    from evidencechain.check import check_workspace
    from evidencechain.site import write_config, write_docs

    store = Cache(cache)
    checked = check_workspace(ws, cache=store)
    with ThreadPoolExecutor(max_workers=2) as pool:
        views, _ = _prepare(checked, scratch / "stage", None, _Reuse(store, site, pool, 2))
    config = checked.workspace.config
    nav = write_docs(config, views, scratch / "docs")
    shutil.rmtree(scratch / "stage", ignore_errors=True)
    return write_config(config, nav, scratch / "docs", scratch / "site", scratch / "mkdocs.yml")


def plain_mkdocs(config: Path) -> Run:
    return child(["-m", "mkdocs", "build", "-q", "-f", str(config)])


def asset_files(ws: Path) -> list[Path]:
    return sorted(p for p in (ws / "projects").rglob("*")
                  if p.is_file() and p.name != "evidence.yml")


def read_all(files: list[Path]) -> None:
    """Read every file, so the next measure finds them in the page cache."""
    for path in files:
        with open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass


def sha256_all(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        h = hashlib.sha256()
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                h.update(chunk)
    return time.perf_counter() - started


def pillow_loop(files: list[Path], out: Path, workers: int) -> float:
    """The same display copies as evidencechain (sizes, draft decode, upright, WebP
    settings), with nothing else: no cache, no originals, no pages."""
    from PIL import Image, ImageOps

    from evidencechain.assets import DISPLAY_SIZE, THUMB_SIZE, WEBP_QUALITY

    out.mkdir(parents=True, exist_ok=True)

    def one(job: tuple[int, Path]) -> None:
        index, path = job
        with Image.open(path) as image:
            if image.format == "JPEG":
                image.draft("RGB", (DISPLAY_SIZE, DISPLAY_SIZE))
            image.load()
            upright = ImageOps.exif_transpose(image)
            if upright.mode not in ("RGB", "RGBA", "L"):
                upright = upright.convert("RGB")
            for size, name in ((DISPLAY_SIZE, "d"), (THUMB_SIZE, "t")):
                copy = upright.copy()
                copy.thumbnail((size, size), Image.Resampling.LANCZOS)
                copy.save(out / f"{index}.{name}.webp", "WEBP", quality=WEBP_QUALITY, method=4)

    images = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, enumerate(images)))
    return time.perf_counter() - started


# --------------------------------------------------------------------------- one size


@dataclass
class SizeResult:
    """Everything measured for one workspace size."""

    projects: int
    assets: int
    files: int
    gigabytes: float
    builds: dict[str, list[Run]] = field(default_factory=dict)
    mkdocs: list[Run] = field(default_factory=list)
    sha256: float | None = None
    pillow: float | None = None

    def median(self, kind: str) -> float:
        return statistics.median(r.seconds for r in self.builds[kind])

    def stage(self, kind: str, name: str) -> float:
        return statistics.median(r.report["stages"].get(name, 0.0) for r in self.builds[kind])

    def startup(self, kind: str) -> float:
        return statistics.median(r.seconds - sum(r.report["stages"].values())
                                 for r in self.builds[kind])

    def peak(self) -> float:
        return max(r.peak_mb for runs in self.builds.values() for r in runs)

    @property
    def mkdocs_median(self) -> float:
        return statistics.median(r.seconds for r in self.mkdocs)


def edit_manifest(ws: Path, run: int) -> None:
    """Change one project's title (a real edit each run)."""
    manifest = ws / "projects" / f"project-{CHANGED_PROJECT:04d}" / "evidence.yml"
    lines = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [f"title: Synthetic project {CHANGED_PROJECT}, edited (run {run})\n"
             if line.startswith("title:") else line for line in lines]
    manifest.write_text("".join(lines), encoding="utf-8")


def measure(params: Params, args: argparse.Namespace, scratch: Path) -> SizeResult:
    ws = ensure_workspace(params)
    files = asset_files(ws)
    result = SizeResult(params.projects, params.assets, len(files),
                        sum(p.stat().st_size for p in files) / 1e9)
    manifest = ws / "projects" / f"project-{CHANGED_PROJECT:04d}" / "evidence.yml"
    original = manifest.read_bytes()
    # Fewer runs where one build takes minutes, to keep the whole run near 15 minutes.
    n = params.projects
    cold_runs = args.cold_runs or (3 if n <= 10 else 2 if n <= 100 else 1)
    # MkDocs alone varies by a second from run to run at 100 projects here: five runs.
    runs = args.runs or (5 if n <= 100 else 2)

    def say(text: str) -> None:
        print(f"  [{params.projects}] {text}", file=sys.stderr, flush=True)

    try:
        result.builds["cold"] = []
        for i in range(cold_runs):
            say(f"cold build {i + 1}/{cold_runs}")
            read_all(files)
            result.builds["cold"].append(build(ws, scratch / f"cold{i}", scratch / f"cc{i}",
                                               args.jobs))
            if i:
                shutil.rmtree(scratch / f"cold{i}")
                shutil.rmtree(scratch / f"cc{i}")
        out, cache = scratch / "cold0", scratch / "cc0"
        if params.projects in args.sequential:
            say("cold build, one worker")
            read_all(files)
            result.builds["cold, --jobs 1"] = [build(ws, scratch / "seq", scratch / "seqc", 1)]
            shutil.rmtree(scratch / "seq")
            shutil.rmtree(scratch / "seqc")
        result.builds["warm"] = []
        for i in range(runs):
            say(f"warm build {i + 1}/{runs}")
            result.builds["warm"].append(build(ws, out, cache, args.jobs))
        result.builds["one manifest changed"] = []
        for i in range(runs):  # each edit differs from the build before it in one title
            say(f"one manifest changed {i + 1}/{runs}")
            edit_manifest(ws, i)
            result.builds["one manifest changed"].append(build(ws, out, cache, args.jobs))
        manifest.write_bytes(original)
        say("plain mkdocs build")
        config = generated_mkdocs_project(ws, cache, out, scratch / "plain")
        settle(scratch)
        result.mkdocs = [plain_mkdocs(config) for _ in range(runs)]
        if params.projects in args.baselines:
            say("sha256 and Pillow baselines")
            read_all(files)
            result.sha256 = statistics.median(sha256_all(files) for _ in range(runs))
            result.pillow = pillow_loop(files, scratch / "pillow", args.jobs)
    finally:
        manifest.write_bytes(original)
        for leftover in scratch.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
    return result


# --------------------------------------------------------------------------- report


@dataclass
class Verdict:
    name: str
    value: str
    target: str
    met: bool | None  # None: not measured in this run
    why: str = ""


STAGES = [("load", "load + schema"), ("history", "git history"), ("provenance", "provenance"),
          ("metadata", "image metadata"), ("display", "display copies"),
          ("gaps", "raw-final gaps"),
          ("pages", "page Markdown"), ("build id", "build id"), ("site", "MkDocs"),
          ("publish", "publish (move, swap)")]


def report(results: list[SizeResult], args: argparse.Namespace) -> str:
    lines = [f"Run on {platform.node() or 'this machine'}: {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}; medians of the runs "
             "listed (baselines: as many runs as the warm build); images scaled to at most "
             f"{args.max_megapixels:g} megapixels (nominal 1-12 MP JPEG, 1-4 MP PNG, "
             "x min(1, max/12)).", ""]
    lines += ["| workspace | build | median s | min s | max s | peak MB | vs plain MkDocs |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        name = f"{r.projects} x {r.assets} ({r.files} files, {r.gigabytes:.1f} GB)"
        for kind, runs in r.builds.items():
            values = [x.seconds for x in runs]
            lines.append(f"| {name} | {kind} ({len(runs)} run{'s' * (len(runs) > 1)}) | "
                         f"{statistics.median(values):.2f} | {min(values):.2f} | "
                         f"{max(values):.2f} | {max(x.peak_mb for x in runs):.0f} | "
                         f"{statistics.median(values) / r.mkdocs_median:.2f}x |")
        lines.append(f"| {name} | baseline: plain mkdocs build | {r.mkdocs_median:.2f} | "
                     f"{min(x.seconds for x in r.mkdocs):.2f} | "
                     f"{max(x.seconds for x in r.mkdocs):.2f} | "
                     f"{max(x.peak_mb for x in r.mkdocs):.0f} | 1.00x |")
        if r.sha256 is not None:
            lines.append(f"| {name} | baseline: sha256 of all assets, 1 thread | "
                         f"{r.sha256:.2f} | | | | |")
            lines.append(f"| {name} | baseline: Pillow display copies, {args.jobs} threads | "
                         f"{r.pillow:.2f} | | | | |")
    lines += ["", "Time by stage (seconds, medians; *start-up* is the rest of the process's "
              "time: starting Python, imports, cleaning up):", ""]
    kinds = ["cold", "warm", "one manifest changed"]
    lines.append("| workspace | build | " + " | ".join(label for _, label in STAGES)
                 + " | start-up |")
    lines.append("| --- | --- | " + " | ".join("---:" for _ in STAGES) + " | ---: |")
    for r in results:
        for kind in (k for k in kinds if k in r.builds):
            cells = [f"{r.stage(kind, key):.2f}" for key, _ in STAGES]
            cells.append(f"{r.startup(kind):.2f}")
            lines.append(f"| {r.projects} x {r.assets} | {kind} | " + " | ".join(cells) + " |")
    lines += ["", "Cache use of the measured builds (lookups that hit / missed, by kind of "
              "work; last run):", ""]
    for r in results:
        for kind in (k for k in kinds if k in r.builds):
            rep = r.builds[kind][-1].report
            kinds_seen = sorted(set(rep["hits"]) | set(rep["misses"]))
            text = ", ".join(f"{k} {rep['hits'].get(k, 0)}/{rep['misses'].get(k, 0)}"
                             for k in kinds_seen)
            lines.append(f"- {r.projects} x {r.assets}, {kind}: {text or 'no lookups'}")
    verdicts = targets(results)
    lines += ["", "| target | measured | goal | met |", "| --- | --- | --- | --- |"]
    for v in verdicts:
        met = "not measured" if v.met is None else "yes" if v.met else "**no**"
        lines.append(f"| {v.name} | {v.value} | {v.target} | {met} |")
    misses = [v for v in verdicts if v.met is False]
    if misses:
        lines += ["", "Not met, and why (from the stage split above):", ""]
        lines += [f"- {v.name}: {v.why}" for v in misses]
    return "\n".join(lines) + "\n"


def targets(results: list[SizeResult]) -> list[Verdict]:
    found = []
    for r in results:
        size = f"{r.projects} x {r.assets}"
        warm = r.median("warm") / r.mkdocs_median
        found.append(Verdict(f"warm build / plain MkDocs ({size})", f"{warm:.2f}x",
                             f"<= {WARM_VS_MKDOCS}x", warm <= WARM_VS_MKDOCS,
                             _warm_why(r)))
        rep = r.builds["one manifest changed"][-1].report
        redone = {k: n for k, n in rep["misses"].items() if n}
        # That project's git history, and the manifest itself validated again.
        only = set(redone) <= {"history", "schema"} and all(n <= 1 for n in redone.values())
        found.append(Verdict(f"one manifest changed: work redone ({size})",
                             ", ".join(f"{k} {n}" for k, n in redone.items()) or "nothing",
                             "that project only", only,
                             "work other than the project's history was redone"))
        cold = r.builds["cold"]
        if r.sha256:
            prov = r.stage("cold", "provenance") / r.sha256
            found.append(Verdict(f"cold provenance / sha256 ({size})", f"{prov:.2f}x",
                                 f"<= {PROVENANCE_VS_SHA}x", prov <= PROVENANCE_VS_SHA,
                                 _provenance_why()))
        if r.pillow:
            display = r.stage("cold", "display") / r.pillow
            found.append(Verdict(f"cold display copies / Pillow loop ({size})",
                                 f"{display:.2f}x", f"<= {DISPLAY_VS_PILLOW}x",
                                 display <= DISPLAY_VS_PILLOW,
                                 "the stage also copies the originals and stores the "
                                 "copies in the cache, which the loop does not"))
        if "cold, --jobs 1" in r.builds:
            gain = r.median("cold, --jobs 1") / statistics.median(x.seconds for x in cold)
            found.append(Verdict(f"cold build, 1 worker / {os.cpu_count()} workers ({size})",
                                 f"{gain:.2f}x", f">= {PARALLEL_GAIN}x", gain >= PARALLEL_GAIN,
                                 "loading, page Markdown and MkDocs run on one core (GIL)"))
        if r.projects >= 500:
            found.append(Verdict(f"peak memory ({size})", f"{r.peak():.0f} MB",
                                 f"<= {PEAK_MB} MB", r.peak() <= PEAK_MB, "see the table"))
    by_size = {r.projects: r for r in results}
    if 100 in by_size and 500 in by_size:
        small, large = by_size[100], by_size[500]
        mk = large.mkdocs_median / small.mkdocs_median
        for kind in ("warm", "one manifest changed"):
            grow = large.median(kind) / small.median(kind)
            found.append(Verdict(f"growth 100 -> 500 projects, {kind} build",
                                 f"{grow:.2f}x (MkDocs {mk:.2f}x)", "<= MkDocs' growth",
                                 grow <= mk * 1.05, _growth_why(small, large, kind)))
    else:
        found.append(Verdict("growth 100 -> 500 projects", "-", "<= MkDocs' growth", None))
    return found


def _warm_why(r: SizeResult) -> str:
    outside = {label: r.stage("warm", key) for key, label in STAGES if key != "site"}
    outside["start-up"] = r.startup("warm")
    top = sorted(outside.items(), key=lambda kv: -kv[1])[:5]
    return ("besides MkDocs the warm build spends " + ", ".join(f"{s:.1f} s on {n}"
                                                                 for n, s in top)
            + "; docs/performance.md says which of these the cache cannot reach")


def _growth_why(small: SizeResult, large: SizeResult, kind: str) -> str:
    inside = large.stage(kind, "site") / small.stage(kind, "site")
    outside = ((large.median(kind) - large.stage(kind, "site"))
               / (small.median(kind) - small.stage(kind, "site")))
    return (f"inside this build MkDocs grew {inside:.2f}x and the rest of the build "
            f"{outside:.2f}x; plain MkDocs is a separate process (see the table)")


def _provenance_why() -> str:
    return ("per file, c2pa's own work (the manifest store, signature and certificate chain, "
            "about 1 ms) outweighs hashing files of a few MB like these; per byte, two hashes "
            "run: the SHA-256 evidence.json publishes and c2pa's own (details and the nominal "
            "image sizes in docs/performance.md)")


def write_markdown(path: Path, text: str) -> None:
    """Replace the figures between the bench markers of `path`."""
    page = path.read_text(encoding="utf-8")
    start, end = page.index(MARK_BEGIN) + len(MARK_BEGIN), page.index(MARK_END)
    path.write_text(page[:start] + "\n\n" + text + "\n" + page[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,500",
                        help="numbers of projects to run, comma-separated (default 10,100,500)")
    parser.add_argument("--assets", type=int, default=10, help="assets per project")
    parser.add_argument("--runs", type=int, default=0,
                        help="runs of each warm, changed and baseline measure (default 5, "
                             "2 above 100 projects)")
    parser.add_argument("--cold-runs", type=int, default=0,
                        help="cold builds per size (default 3 up to 10 projects, 2 up to "
                             "100, then 1)")
    parser.add_argument("--max-megapixels", type=float, default=2.0,
                        help="scale the 1-12 MP images down to at most this (default 2)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--sequential", default="10",
                        help="sizes that also get a one-worker cold build")
    parser.add_argument("--baselines", default="10,100",
                        help="sizes that get the sha256 and Pillow baselines")
    parser.add_argument("--write", type=Path, default=None,
                        help="also write the figures into this Markdown file (between the "
                             "bench markers)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    args.sequential = {int(s) for s in args.sequential.split(",") if s}
    args.baselines = {int(s) for s in args.baselines.split(",") if s}
    started = time.perf_counter()
    # Compiled once, as pip compiles an installed package: with PYTHONDONTWRITEBYTECODE set
    # (as in some CI images) an editable checkout would be compiled again by every child.
    compileall.compile_dir(REPO / "evidencechain", quiet=1)
    results = []
    with tempfile.TemporaryDirectory(prefix="evidencechain-bench-run-") as tmp:
        for n in sizes:
            params = Params(n, args.assets, args.max_megapixels)
            results.append(measure(params, args, Path(tmp)))
    text = report(results, args)
    text += f"\nWhole benchmark: {(time.perf_counter() - started) / 60:.1f} min.\n"
    print(text)
    if args.write:
        write_markdown(args.write, text)


if __name__ == "__main__":
    main()
