"""The build cache: evidence work kept under the hash of everything it depends on.

A verdict, a pair of display copies, a pixel gap, a git history: each is stored under a key
that hashes the bytes of the files it was computed from (never their names or times alone),
the options, and the versions of the code that computed it (evidencechain's own source, c2pa,
Pillow, the trust anchors' digest; callers pass what applies). A changed input is a new key,
so a stale entry is never found; entries nothing asks for any more are pruned after a while.

Hashing every asset on every build would cost as much as verifying it, so a *stat index*
remembers each file's digest together with its (device, inode, size, mtime_ns, ctime_ns) at
the time it was hashed, and the digest is reused while that fingerprint is unchanged, as
git's index and rsync do. ctime cannot be set by user programs, so restoring an mtime does
not hide an edit; a file changed within two seconds of being hashed is not remembered at all
(a second write in the same timestamp tick would otherwise go unnoticed: git's "racy clean").

Every entry file carries its own SHA-256 and length in a one-line header and is written to a
temporary file that is renamed into place, so a torn, truncated or edited entry is detected,
deleted and computed again, never trusted. Entries are JSON only: a cache folder is data,
never code (no pickle). Only this module writes into the cache folder; stdlib only.

The cache is a local accelerator. It does not make a workspace from somebody else any more
trustworthy: build those with `--no-cache` (the folder ignores itself in git and carries a
CACHEDIR.TAG so backups skip it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from . import __version__

CACHE_DIR = ".evidencechain-cache"
LAYOUT = "v1"  # the folder layout and entry format; a new one starts an empty cache
_MAGIC = b"evidencechain-cache-entry"
_INDEX = "files.json"
_CHUNK = 1 << 20
RACY_SECONDS = 2.0  # a file changed this recently is hashed again next time
PRUNE_AFTER_DAYS = 30  # entries no build used for this long are deleted
_PRUNE_EVERY_SECONDS = 24 * 3600
_GITIGNORE = "# Created by evidencechain: a local build cache, never committed.\n*\n"
_CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                 "# This file is a cache directory tag created by evidencechain.\n"
                 "# For information about cache directory tags see https://bford.info/cachedir/\n")


# --------------------------------------------------------------------------- versions


def code_version() -> str:
    """evidencechain's version plus a digest of its source files.

    Keys include it so that changing how anything is computed (a release, or an edit in a
    development checkout) can never serve an entry the old code made.
    """
    return _code_version()


@functools.cache
def _code_version() -> str:
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for source in sorted(package.glob("*.py")):
        h.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return f"{__version__}+{h.hexdigest()[:16]}"


def make_key(kind: str, *parts: object) -> str:
    """The hex SHA-256 naming one entry: its kind and every input, each length-prefixed so
    that no two different part lists can produce the same key."""
    h = hashlib.sha256(f"{LAYOUT}\0{kind}\0".encode())
    for part in parts:
        data = _encoded(part)
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _encoded(part: object) -> bytes:
    """A key part as JSON bytes. A build makes thousands of keys whose other parts (options,
    versions) are the same each time, so those encodings are remembered; strings take the
    default encoder's fast path, which writes the same bytes."""
    if type(part) is str:
        return json.dumps(part).encode()
    try:
        return _encoded_constant(part)
    except TypeError:  # unhashable: a list or dict
        return json.dumps(part, sort_keys=True, default=str).encode()


@functools.lru_cache(maxsize=256)
def _encoded_constant(part: object) -> bytes:
    return json.dumps(part, sort_keys=True, default=str).encode()


# --------------------------------------------------------------------------- statistics


@dataclass
class CacheStats:
    """What the cache answered during one build: hits and misses by kind of work.

    `missed` names each miss ("kind: label"), so a test or a curious user can see exactly
    which work was redone; `corrupt` counts entry files found damaged and deleted.
    """

    hits: Counter[str] = field(default_factory=Counter)
    misses: Counter[str] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)
    corrupt: int = 0

    def describe(self) -> str:
        """e.g. "4980 of 5000 cached" (everything the build looked up)."""
        total = sum(self.hits.values()) + sum(self.misses.values())
        return f"{sum(self.hits.values())} of {total} cached"


# --------------------------------------------------------------------------- the cache


def _fingerprint(st: os.stat_result, *, with_ctime: bool) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
            st.st_ctime_ns if with_ctime else 0]


class Cache:
    """A cache folder: JSON entries, blobs (display copies) and the stat index.

    Safe to share between threads. `stats` counts the lookups of this process.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.base = self.root / LAYOUT
        self._base = str(self.base)  # entry paths are built per asset: strings, not Paths
        self.stats = CacheStats()
        self._lock = threading.RLock()  # reentrant: reading the index may discard it
        self._index: dict[str, list] | None = None
        self._index_dirty = False
        self._used: set[str] = set()
        self._today = int(time.time() // 86400)

    # ----------------------------------------------------------------- entries

    def get(self, kind: str, key: str, label: str = "") -> Any | None:
        """The value stored under `key`, or None (a miss, counted, with `label` noted)."""
        value = self._read_entry(self._entry_file(kind, key), kind, key)
        with self._lock:
            if value is None:
                self.stats.misses[kind] += 1
                self.stats.missed.append(f"{kind}: {label or key[:12]}")
            else:
                self.stats.hits[kind] += 1
                self._used.add(f"{key}.json")
        return value

    def has(self, kind: str, key: str) -> bool:
        """True when an entry file exists under `key` (not read, checked or counted): a
        cheap guess that `get` will hit, to decide where to run the work."""
        return os.path.exists(self._entry_file(kind, key))

    def note_miss(self, kind: str, label: str, *, was_hit: bool = False) -> None:
        """Count a miss found without a lookup (the input's digest was not even known), or
        (`was_hit`) one whose entry was found but proved unusable (a blob gone)."""
        with self._lock:
            if was_hit:
                self.stats.hits[kind] -= 1
            self.stats.misses[kind] += 1
            self.stats.missed.append(f"{kind}: {label}")

    def put(self, kind: str, key: str, value: Any) -> None:
        """Store a JSON-ready `value` under `key` (atomically; a failure only costs speed)."""
        self._write_entry(self._entry_path(kind, key), kind, key, value)

    def _write_entry(self, path: Path, kind: str, key: str, value: Any) -> None:
        body = json.dumps({"kind": kind, "key": key, "value": value},
                          separators=(",", ":"), sort_keys=True).encode()
        header = b"%s %s %d\n" % (_MAGIC, hashlib.sha256(body).hexdigest().encode(), len(body))
        with contextlib.suppress(OSError):
            self._write_atomic(path, header + body)
            with self._lock:
                self._used.add(path.name)

    def _entry_path(self, kind: str, key: str) -> Path:
        return Path(self._entry_file(kind, key))

    def _entry_file(self, kind: str, key: str) -> str:
        return f"{self._base}/{kind}/{key[:2]}/{key}.json"

    def _read_entry(self, path: Path | str, kind: str, key: str) -> Any | None:
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError:
            return None
        head, sep, body = data.partition(b"\n")
        fields = head.split(b" ")
        try:
            ok = (sep and len(fields) == 3 and fields[0] == _MAGIC
                  and int(fields[2]) == len(body)
                  and hashlib.sha256(body).hexdigest().encode() == fields[1])
            entry = json.loads(body) if ok else None
            ok = ok and entry.get("kind") == kind and entry.get("key") == key
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            self._discard(path)
            return None
        return entry["value"]

    def _discard(self, path: Path | str) -> None:
        """A damaged entry: delete it so it is rebuilt, and count it."""
        with self._lock:
            self.stats.corrupt += 1
        with contextlib.suppress(OSError):
            os.unlink(path)

    def _write_atomic(self, path: Path, data: bytes) -> None:
        self._ensure_root()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _ensure_root(self) -> None:
        """Create the folder with the files that keep it out of git and backups."""
        if (self.root / ".gitignore").is_file():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
            with contextlib.suppress(OSError):
                (self.root / name).write_text(text, encoding="utf-8")

    # ----------------------------------------------------------------- blobs

    def blob_path(self, key: str, name: str) -> Path:
        """Where the blob `name` of entry `key` lives (it may not exist)."""
        return Path(self._blob_file(key, name))

    def _blob_file(self, key: str, name: str) -> str:
        return f"{self._base}/blobs/{key[:2]}/{key}.{name}"

    def store_blob(self, source: Path, key: str, name: str) -> str:
        """Keep a copy of the file `source` (hard link when possible); return its SHA-256."""
        target = self.blob_path(key, name)
        self._ensure_root()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{target.name}")
        link_or_copy(source, tmp)
        os.replace(tmp, target)
        digest = _hash_file(target)[0]
        self.remember(target, os.stat(target), digest, with_ctime=False, racy_ok=True)
        with self._lock:
            self._used.add(target.name)
        return digest

    def blob_ok(self, key: str, name: str, sha256: str) -> str | None:
        """The blob's path when it exists and still has the bytes it was stored with."""
        path = self._blob_file(key, name)
        if self.digest(path, with_ctime=False) == sha256:
            with self._lock:
                self._used.add(f"{key}.{name}")
            return path
        with contextlib.suppress(FileNotFoundError):
            self._discard(path)
        return None

    # ----------------------------------------------------------------- file digests

    def known_digest(self, path: Path | str, *, with_ctime: bool = True) -> str | None:
        """The file's SHA-256 from the stat index when its fingerprint is unchanged, else
        None (nothing is read)."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = str(path)
        with self._lock:
            entry = self._load_index().get(key)
            if entry is None or entry[:5] != _fingerprint(st, with_ctime=with_ctime):
                return None
            if entry[6] != self._today:
                entry[6] = self._today
                self._index_dirty = True
            return entry[5]

    def seen(self, path: Path) -> bool:
        """True when the stat index has hashed a file at `path` before (whatever it held)."""
        with self._lock:
            return str(path) in self._load_index()

    def digest(self, path: Path | str, *, with_ctime: bool = True) -> str | None:
        """The file's SHA-256: from the stat index, else read and hashed now (and remembered).

        None when the file cannot be read.
        """
        known = self.known_digest(path, with_ctime=with_ctime)
        if known is not None:
            return known
        try:
            before = os.stat(path)
            digest, _ = _hash_file(path)
            after = os.stat(path)
        except OSError:
            return None
        if _fingerprint(before, with_ctime=True) == _fingerprint(after, with_ctime=True):
            self.remember(path, after, digest, with_ctime=with_ctime)
        return digest

    def remember(self, path: Path | str, st: os.stat_result, sha256: str, *,
                 with_ctime: bool = True, racy_ok: bool = False) -> None:
        """Note that the file at `path`, while it has stat `st`, has digest `sha256`.

        A file changed in the last RACY_SECONDS is only noted as seen (its fingerprint could
        be shared by a second write in the same clock tick), unless `racy_ok` (files this
        module has just written and nobody else writes).
        """
        fingerprint = _fingerprint(st, with_ctime=with_ctime)
        newest = max(st.st_mtime_ns, st.st_ctime_ns) / 1e9
        if not racy_ok and time.time() - newest < RACY_SECONDS:
            fingerprint[3] = -1  # matches no stat: hashed again next time, but `seen`
        with self._lock:
            self._load_index()[str(path)] = [*fingerprint, sha256, self._today]
            self._index_dirty = True

    def _load_index(self) -> dict[str, list]:
        """The stat index (called with the lock held); a damaged one is started afresh."""
        if self._index is None:
            value = self._read_entry(self.base / _INDEX, "files", "index")
            self._index = value if _valid_index(value) else {}
        return self._index

    # ----------------------------------------------------------------- saving

    def save(self) -> None:
        """Write the stat index if it changed, and prune once a day (call after a build)."""
        with self._lock:
            if not self._index_dirty or self._index is None:
                index = None
            else:
                cutoff = self._today - PRUNE_AFTER_DAYS
                index = {k: v for k, v in self._index.items() if v[6] >= cutoff}
                self._index_dirty = False
        if index is not None:
            self._write_entry(self.base / _INDEX, "files", "index", index)
        self._prune()

    def _prune(self) -> None:
        """Delete entries and blobs nobody used in PRUNE_AFTER_DAYS, at most once a day."""
        stamp = self.base / ".pruned"
        now = time.time()
        try:
            if now - stamp.stat().st_mtime < _PRUNE_EVERY_SECONDS:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        cutoff = now - PRUNE_AFTER_DAYS * 86400
        with contextlib.suppress(OSError):
            self._ensure_root()
            self.base.mkdir(parents=True, exist_ok=True)
            stamp.write_bytes(b"")
        for folder, _, names in os.walk(self.base):
            for name in names:
                path = Path(folder) / name
                with contextlib.suppress(OSError):
                    if name.startswith(".tmp-") and path.stat().st_mtime < now - 3600:
                        path.unlink()  # left by a killed build
                    elif (name.endswith((".json", ".webp")) and name not in self._used
                          and name != _INDEX and path.stat().st_mtime < cutoff):
                        path.unlink()


def _valid_index(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(v, list) and len(v) == 7 and all(isinstance(x, int) for x in v[:5])
        and isinstance(v[5], str) and isinstance(v[6], int) for v in value.values())


def _hash_file(path: Path | str) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def link_or_copy(source: Path | str, target: Path | str) -> None:
    """Hard-link `source` at `target`, or copy it where links are impossible (another disk)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def open_cache(root: Path | None) -> Cache | None:
    """The cache in folder `root`, or None (no caching) when `root` is None."""
    return Cache(root) if root is not None else None


# --------------------------------------------------------------------------- JSON values


def to_json(value: Any) -> Any:
    """A dataclass tree (tuples, paths, optionals) as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, PurePath):
        return str(value)
    return value


def from_json(cls: Any, data: Any) -> Any:
    """Rebuild a value of type `cls` from `to_json` output; ValueError when it does not fit
    (a cache entry from another layout is then a miss, never a crash)."""
    try:
        return _convert(cls, data)
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"cached value does not fit {cls}: {exc}") from None


def _convert(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        return _convert(next(o for o in options if o is not type(None)), data)
    if dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {hint.__name__}")
        hints = _hints(hint)
        return hint(**{f.name: _convert(hints[f.name], data[f.name])
                       for f in dataclasses.fields(hint) if f.init and f.name in data})
    if origin in (tuple, list):
        args = typing.get_args(hint)
        if not isinstance(data, list):
            raise TypeError("expected a list")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return tuple(_convert(a, v) for a, v in zip(args, data, strict=True))
        items = [_convert(args[0], v) for v in data] if args else list(data)
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _, value_type = typing.get_args(hint)
        return {k: _convert(value_type, v) for k, v in data.items()}
    if isinstance(hint, type) and issubclass(hint, PurePath):
        return hint(data)
    if hint is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)  # JSON does not keep 1.0 apart from 1
    if hint in (int, float, str, bool) and not isinstance(data, hint):
        raise TypeError(f"expected {hint.__name__}")
    return data


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# --------------------------------------------------------------------------- progress


@dataclass
class StageTotals:
    """One stage of a build: its duration and how many items it did and reused."""

    name: str
    total: int = 0
    detail: str = ""  # where `total` comes from, in words, e.g. "9 + 5 + 5 declared in 3 projects"
    done: int = 0
    cached: int = 0
    seconds: float = 0.0


Listener = Callable[[str, StageTotals], None]  # event ("begin", "step", "end"), stage


class Tracker:
    """Times a build's stages and counts their items; tells an optional listener (the
    CLI's progress display). Thread-safe: workers call `step` as items finish."""

    def __init__(self, listener: Listener | None = None):
        self.listener = listener
        self.stages: dict[str, StageTotals] = {}
        self._lock = threading.Lock()
        self._current: StageTotals | None = None
        self._open: contextlib.AbstractContextManager | None = None

    @contextlib.contextmanager
    def stage(self, name: str, total: int = 0, detail: str = "") -> Iterator[StageTotals]:
        """Time the block as stage `name` with `total` items (0: not counted); `detail`
        says where the total comes from, for the progress display."""
        totals = self.stages.setdefault(name, StageTotals(name))
        totals.total += total
        totals.detail = detail or totals.detail
        self._current = totals
        self._tell("begin", totals)
        started = time.perf_counter()
        try:
            yield totals
        finally:
            totals.seconds += time.perf_counter() - started
            self._current = None
            self._tell("end", totals)

    def start(self, name: str, total: int = 0, detail: str = "") -> None:
        """Begin stage `name` (ending the current one): for code that reads better without
        a `with` block around it."""
        self.stop()
        self._open = self.stage(name, total, detail)
        self._open.__enter__()

    def stop(self) -> None:
        """End the stage begun by `start`, if any."""
        opened, self._open = self._open, None
        if opened is not None:
            opened.__exit__(None, None, None)

    def step(self, cached: bool = False) -> None:
        """One item of the current stage is done (`cached`: reused, not recomputed)."""
        with self._lock:
            totals = self._current
            if totals is None:
                return
            totals.done += 1
            totals.cached += cached
        self._tell("step", totals)

    def seconds(self) -> dict[str, float]:
        """Seconds spent in each stage, in the order the stages first ran."""
        return {name: s.seconds for name, s in self.stages.items()}

    def _tell(self, event: str, totals: StageTotals) -> None:
        if self.listener is not None:
            self.listener(event, totals)
