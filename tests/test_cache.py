"""The content-addressed cache on its own: entries, damage, the stat index, blobs, values."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from evidencechain import cache as cache_module
from evidencechain.cache import (
    Cache,
    Tracker,
    from_json,
    make_key,
    to_json,
)
from evidencechain.problems import Problem


def _entry_files(cache: Cache, kind: str) -> list[Path]:
    return sorted((cache.base / kind).rglob("*.json"))


def _age(path: Path, seconds: float = 3600) -> None:
    """Make a file look old to the stat index (ctime cannot be set, so wait it out instead
    where ctime matters; mtime is what this changes)."""
    old = time.time() - seconds
    os.utime(path, (old, old))


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def test_an_entry_round_trips_and_counts_hits_and_misses(cache):
    key = make_key("verification", "abc")

    assert cache.get("verification", key, "a.jpg") is None
    cache.put("verification", key, {"verdict": "verified", "codes": [1, 2]})

    assert cache.get("verification", key) == {"verdict": "verified", "codes": [1, 2]}
    assert cache.stats.hits["verification"] == 1
    assert cache.stats.misses["verification"] == 1
    assert cache.stats.missed == ["verification: a.jpg"]


def test_keys_separate_their_parts():
    assert make_key("k", "ab", "c") != make_key("k", "a", "bc")
    assert make_key("k", "a") != make_key("other", "a")
    assert make_key("k", ["a", 1]) == make_key("k", ["a", 1])


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "empty", "swap"])
def test_a_damaged_entry_is_a_miss_deleted_and_rebuilt(cache, damage):
    key, other = make_key("gap", "a"), make_key("gap", "b")
    cache.put("gap", key, {"mean": 1.5})
    cache.put("gap", other, {"mean": 9.0})
    path = cache._entry_path("gap", key)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:-5])
    elif damage == "flip":
        body = bytearray(data)
        body[-3] ^= 0x01
        path.write_bytes(bytes(body))
    elif damage == "header":
        path.write_bytes(b"garbage\n" + data.partition(b"\n")[2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # another entry's (intact) file under this key's name
        path.write_bytes(cache._entry_path("gap", other).read_bytes())

    assert cache.get("gap", key) is None
    assert cache.stats.corrupt == 1
    assert not path.exists()
    cache.put("gap", key, {"mean": 1.5})
    assert cache.get("gap", key) == {"mean": 1.5}


def test_writes_are_atomic_and_leave_no_temporary_files(cache):
    for i in range(20):
        cache.put("metadata", make_key("metadata", i), [f"GPS {i}"])
    leftovers = [p for p in cache.root.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_the_folder_ignores_itself_in_git_and_is_tagged_for_backups(cache):
    cache.put("gap", make_key("gap", 1), {})
    assert (cache.root / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache.root / "CACHEDIR.TAG").read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55")


def test_the_stat_index_reuses_a_digest_without_reading_the_file(cache, tmp_path, monkeypatch):
    file = tmp_path / "a.bin"
    file.write_bytes(b"x" * 1000)
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0.0)
    first = cache.digest(file)

    def no_reading(path):
        raise AssertionError("hashed again")

    monkeypatch.setattr(cache_module, "_hash_file", no_reading)
    assert cache.known_digest(file) == first
    assert cache.digest(file) == first


def test_one_changed_byte_with_the_old_size_and_mtime_is_hashed_again(cache, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0.0)
    file = tmp_path / "a.bin"
    file.write_bytes(b"a" * 1000)
    _age(file)
    before = os.stat(file)
    first = cache.digest(file)
    time.sleep(0.01)  # a later ctime than the first write's, on any clock tick size

    with open(file, "r+b") as stream:  # in place: same inode, same size
        stream.seek(500)
        stream.write(b"b")
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back

    assert cache.known_digest(file) is None  # ctime gives it away
    assert cache.digest(file) != first


def test_a_file_changed_within_the_racy_window_is_seen_but_not_trusted(cache, tmp_path):
    file = tmp_path / "fresh.bin"
    file.write_bytes(b"new")  # ctime is now: a second write in this tick would look alike

    digest = cache.digest(file)

    assert digest is not None
    assert cache.seen(file)
    assert cache.known_digest(file) is None


def test_the_stat_index_survives_a_save_and_a_damaged_one_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "RACY_SECONDS", 0.0)
    file = tmp_path / "a.bin"
    file.write_bytes(b"data")
    first = Cache(tmp_path / "cache")
    digest = first.digest(file)
    first.save()

    assert Cache(tmp_path / "cache").known_digest(file) == digest
    index = tmp_path / "cache" / cache_module.LAYOUT / "files.json"
    index.write_bytes(index.read_bytes()[:-10])
    damaged = Cache(tmp_path / "cache")
    assert damaged.known_digest(file) is None
    assert damaged.digest(file) == digest  # rebuilt from the bytes


def test_a_blob_changed_in_place_is_not_served(cache, tmp_path):
    source = tmp_path / "copy.webp"
    source.write_bytes(b"RIFF....WEBPVP8 display copy")
    key = make_key("display", "x")
    digest = cache.store_blob(source, key, "display.webp")
    assert cache.blob_ok(key, "display.webp", digest) is not None

    blob = cache.blob_path(key, "display.webp")
    time.sleep(0.01)
    with open(blob, "r+b") as stream:
        stream.write(b"X")

    assert cache.blob_ok(key, "display.webp", digest) is None
    assert not blob.exists()


@dataclass(frozen=True)
class _Inner:
    name: str
    count: int = 0


@dataclass(frozen=True)
class _Outer:
    items: tuple[_Inner, ...]
    best: _Inner | None
    tags: tuple[str, ...] = ()
    where: PurePosixPath | None = None


def test_dataclass_values_round_trip_through_json():
    value = _Outer((_Inner("a", 1), _Inner("b")), None, ("x",), PurePosixPath("p/q.yml"))
    assert from_json(_Outer, to_json(value)) == value
    problem = Problem(PurePosixPath("projects/p/evidence.yml"), 3, 5, "error", "bad", "$.x")
    assert from_json(Problem, to_json(problem)) == problem


def test_a_value_of_another_shape_is_refused_not_trusted():
    with pytest.raises(ValueError):
        from_json(_Outer, {"items": "not a list", "best": None})
    with pytest.raises(ValueError):
        from_json(_Inner, {"name": 3})


def test_the_tracker_times_stages_and_counts_items():
    events = []
    tracker = Tracker(lambda event, stage: events.append((event, stage.name, stage.done)))
    with tracker.stage("provenance", 3):
        tracker.step(cached=True)
        tracker.step()
    tracker.start("site")
    tracker.stop()

    stage = tracker.stages["provenance"]
    assert (stage.total, stage.done, stage.cached) == (3, 2, 1)
    assert list(tracker.seconds()) == ["provenance", "site"]
    assert events[0] == ("begin", "provenance", 0)
    assert ("end", "site", 0) in events
