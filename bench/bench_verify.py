"""C2PA verification throughput against hashlib.sha256 over the same bytes, same run.

Run by hand:  python bench/bench_verify.py [FILES_OR_FOLDERS...] [--runs 5]

Defaults to every file of ../shared/c2pa-conformance/files and example_site's assets. Prints
medians for: sha256 of all bytes (read from disk), verification with 1 thread and with 2.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from pathlib import Path

from evidencechain.provenance import TrustSettings, verify_file, verify_files

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = [REPO.parent / "shared" / "c2pa-conformance" / "files",
            REPO / "example_site" / "projects"]
MEDIA = {".jpg", ".jpeg", ".png", ".webp"}


def files_in(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        # Only sources: never a built site or a build cache that happens to sit inside.
        found += sorted(p for p in path.rglob("*") if p.suffix.lower() in MEDIA
                        and not {"site", ".evidencechain-cache"} & set(p.parts)) \
            if path.is_dir() else [path]
    return found


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", type=Path, default=DEFAULTS)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    files = files_in(args.paths)
    total = sum(f.stat().st_size for f in files)
    trust = TrustSettings()
    rows = {
        "sha256 (baseline)": lambda: [hashlib.sha256(f.read_bytes()).digest() for f in files],
        "verify, 1 thread": lambda: [verify_file(f, trust) for f in files],
        "verify, 2 threads": lambda: verify_files(files, trust, workers=2),
    }
    verify_files(files[:2], trust)  # build the c2pa context once, outside the timings
    medians = {name: statistics.median(timed(run) for _ in range(args.runs))
               for name, run in rows.items()}
    base = medians["sha256 (baseline)"]
    print(f"{len(files)} files, {total / 1e6:.1f} MB, median of {args.runs} runs")
    for name, value in medians.items():
        print(f"{name:<20} {value * 1000:8.1f} ms  {total / 1e6 / value:7.0f} MB/s  "
              f"{value / base:5.2f}x sha256")


if __name__ == "__main__":
    main()
