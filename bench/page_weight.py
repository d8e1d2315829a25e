"""Page weight and first contentful paint of the built example site, in Debian's Chromium.

Run by hand (not a test):  python bench/page_weight.py [WORKSPACE] [--runs 5]

Builds the workspace, serves it on 127.0.0.1, and for every page loads it in a fresh
browser context (empty cache) at 1366x768: the bytes of every response at first view (HTML,
CSS, JS, fonts, images above the fold; lazy images below are not fetched) and the time to
first contentful paint. Prints medians over the runs.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright

from evidencechain.build import build_site

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def measure(browser, url: str) -> tuple[int, dict[str, int], float]:
    """Bytes at first view (total and by kind) and the FCP in milliseconds."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    by_kind: dict[str, int] = {}

    def count(response) -> None:
        try:
            size = len(response.body())
        except Exception:  # redirects and aborted requests have no body
            return
        kind = response.request.resource_type
        by_kind[kind] = by_kind.get(kind, 0) + size

    page.on("response", count)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    context.close()
    return sum(by_kind.values()), by_kind, fcp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", nargs="?", default=str(REPO / "example_site"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = build_site(Path(args.workspace), Path(tmp) / "site").output
        pages = ["index.html", "vision.html"] + sorted(
            str(p.relative_to(site)) for p in site.glob("projects/*/index.html"))
        server = ThreadingHTTPServer(("127.0.0.1", 0),
                                     functools.partial(_Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/"
        print(f"{'page':<48} {'KB first view':>13} {'html':>6} {'css':>6} {'js':>6} "
              f"{'img':>6} {'FCP ms (median)':>16}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for path in pages:
                runs = [measure(browser, base + path) for _ in range(args.runs)]
                total, kinds, _ = runs[-1]
                fcp = statistics.median(r[2] for r in runs)
                print(f"{path:<48} {total / 1024:>13.0f} "
                      f"{kinds.get('document', 0) / 1024:>6.0f} "
                      f"{kinds.get('stylesheet', 0) / 1024:>6.0f} "
                      f"{kinds.get('script', 0) / 1024:>6.0f} "
                      f"{kinds.get('image', 0) / 1024:>6.0f} {fcp:>16.0f}")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
