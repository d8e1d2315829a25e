"""`evidencechain serve`: a live preview that rebuilds when the workspace changes.

The site is served from 127.0.0.1 only. Changes are found by polling modification times,
which works the same on every OS, editor and network disk (editors that save by renaming
defeat some event APIs). A rebuild goes through the normal atomic build, so a workspace
with errors leaves the last good site being served while the errors are printed.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .build import InvalidWorkspace, build_site
from .errors import EvidenceChainError, UsageError
from .manifest import find_root
from .site import theme_dir

HOST = "127.0.0.1"
POLL_SECONDS = 0.5
# Never watched: hidden folders (.git, editors' state), caches, and at the top of the
# workspace the folders `build` writes by default.
_SKIP_DIRS = {"__pycache__", "node_modules"}
_SKIP_TOP = {"site", "_site"}

Snapshot = dict[str, tuple[int, int]]
Report = Callable[[str], None]


@dataclass
class Preview:
    """A running preview: where the site is built and the server that serves it."""

    root: Path
    output: Path
    server: ThreadingHTTPServer
    temporary: Path | None  # the temp folder to remove at the end, when we made one

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_port}/"


def start_preview(workspace: Path, port: int, output: Path | None, report: Report) -> Preview:
    """Build once and start serving; the caller then runs `watch` and finally `stop`."""
    root = find_root(workspace)
    temporary = None
    if output is None:
        # Outside the workspace: a preview must not leave a folder the user did not ask for.
        temporary = Path(tempfile.mkdtemp(prefix="evidencechain-serve-"))
        output = temporary / "site"
    output = output.resolve()
    server = None
    try:
        # The port first: a busy port is known at once, not after a whole build.
        server = _server(port, output)
        rebuild(root, output, report, first=True)
    except BaseException:
        if server is not None:
            server.server_close()
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    threading.Thread(target=server.serve_forever, name="evidencechain-serve",
                     daemon=True).start()
    return Preview(root, output, server, temporary)


def watch(preview: Preview, report: Report, stop: threading.Event,
          interval: float = POLL_SECONDS) -> None:
    """Rebuild whenever a watched file changes, until `stop` is set."""
    before = snapshot(preview.root, preview.output)
    while not stop.wait(interval):
        now = snapshot(preview.root, preview.output)
        if now == before:
            continue
        # Let an editor finish writing (several files, or write-then-rename) first.
        while not stop.wait(interval):
            settled = snapshot(preview.root, preview.output)
            if settled == now:
                break
            now = settled
        report(f"Changed: {', '.join(_changed(preview.root, before, now)[:3])}; rebuilding...")
        before = now
        rebuild(preview.root, preview.output, report)


def stop_preview(preview: Preview) -> None:
    """Stop serving and remove the temporary build folder."""
    preview.server.shutdown()
    preview.server.server_close()
    if preview.temporary:
        shutil.rmtree(preview.temporary, ignore_errors=True)


def rebuild(root: Path, output: Path, report: Report, *, first: bool = False) -> bool:
    """Build into `output`, reporting problems; False (the old site kept) when it fails."""
    try:
        result = build_site(root, output)
    except InvalidWorkspace as exc:
        for problem in exc.problems:
            report(problem.format())
        report(f"error: {exc}; " + ("nothing to serve until it is fixed" if first
                                     else "still serving the last good site"))
        return False
    except UsageError:
        raise  # a bad output folder will not fix itself: stop
    except (EvidenceChainError, OSError) as exc:
        report(f"error: {exc}; still serving the last good site")
        return False
    for problem in result.problems:
        report(problem.format())
    report(f"Built {result.pages} pages in {result.seconds:.1f} s")
    return True


def snapshot(root: Path, output: Path) -> Snapshot:
    """Modification time and size of every watched file: the workspace and our theme."""
    found: Snapshot = {}
    for base in (root, theme_dir()):
        for path in _walk(base, output):
            try:
                stat = path.stat()
            except OSError:
                continue  # deleted between listing and stat: the next poll sees it
            found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


def _walk(base: Path, output: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(base):
        here = Path(folder)
        skip = _SKIP_DIRS | (_SKIP_TOP if here == base else set())
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in skip
                   and (here / d) != output]
        for name in files:
            if not name.startswith("."):
                yield here / name


def _changed(root: Path, before: Snapshot, after: Snapshot) -> list[str]:
    """The changed, added and deleted files, relative to the workspace where inside it."""
    paths = sorted({p for p in after if before.get(p) != after[p]} | set(before) - set(after))
    return [Path(p).relative_to(root).as_posix() if Path(p).is_relative_to(root)
            else Path(p).name for p in paths] or ["files"]


class _Handler(SimpleHTTPRequestHandler):
    """Static files from the site folder, never cached, with a notice while there is none."""

    def log_message(self, *args: object) -> None:
        pass  # the terminal is for build messages

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self):  # type: ignore[no-untyped-def]
        if not Path(self.directory).is_dir():
            body = (b"<!doctype html><title>No site yet</title><p>The workspace has errors, "
                    b"so there is no site yet: see the terminal running evidencechain serve.")
            self.send_response(503)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        return super().send_head()


def _server(port: int, output: Path) -> ThreadingHTTPServer:
    handler = functools.partial(_Handler, directory=str(output))
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is in use; pick another with --port, or --port 0 "
                             "for any free one") from None
        raise UsageError(f"cannot serve on {HOST}:{port}: {exc.strerror or exc}") from None


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so a terminated preview still cleans up after itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_preview(workspace: Path, port: int, output: Path | None, report: Report,
                stop: threading.Event | None = None) -> None:
    """Serve and rebuild until Ctrl-C (or SIGTERM, or `stop`), then clean up."""
    stop = stop or threading.Event()
    with interrupt_on_sigterm():
        preview = start_preview(workspace, port, output, report)
        try:
            report(f"Serving {preview.url} (building into {preview.output})")
            report(f"Watching {preview.root} for changes; press Ctrl-C to stop")
            watch(preview, report, stop)
        except KeyboardInterrupt:
            report("Stopped")
        finally:
            stop_preview(preview)
