"""Derived files: byte-identical originals and WebP display copies, made with Pillow.

Originals are copied untouched because their C2PA credentials hash the exact bytes; the
display copies are what pages show (small, metadata-free WebP), each linking back to its
original so anyone can verify it elsewhere. This is the only module that imports Pillow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import shutil
import warnings
import zlib
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import PIL
from PIL import (
    Image,
    ImageChops,
    ImageOps,
    ImageStat,
    IptcImagePlugin,
    UnidentifiedImageError,
    features,
)

from .cache import Cache, code_version, from_json, link_or_copy, make_key, to_json
from .model import Asset, Project
from .problems import ERROR, WARNING, Problem
from .yamlsource import format_path

DISPLAY_SIZE = 1200
THUMB_SIZE = 400
WEBP_QUALITY = 80
# Refuse images whose decoded size would exhaust memory; Pillow's own default only warns.
MAX_PIXELS = 64_000_000
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".avif"}
# Image formats common in a workflow that Pillow cannot decode here (HEIF, camera raw).
UNDISPLAYABLE_SUFFIXES = {".heic", ".heif", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf"}

ORIGINALS_DIR = "files"
DISPLAY_DIR = "display"


@dataclass(frozen=True)
class Rendition:
    """A WebP copy of an image, by its path relative to the project's page folder."""

    url: str
    width: int
    height: int
    sha256: str = ""  # of the copy's bytes, when a build cache knows it


@dataclass(frozen=True)
class PreparedAsset:
    """An asset ready for a page: where its original is and, for images, its copies."""

    asset: Asset
    original_url: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    display: Rendition | None = None
    thumb: Rendition | None = None
    withheld: str | None = None  # why the original is not published (blind review)
    sha256: str = ""  # of the original's bytes, when a build cache computed it
    # Of the copy of the original staged for the site, when the build cache vouches for it
    # (the build id then need not read it again); empty when unknown or not published.
    staged_sha256: str = ""

    def staged_digests(self) -> dict[str, str]:
        """The SHA-256 of each file this asset staged whose bytes are known, by its path
        relative to the project's page folder (originals, display copies)."""
        known = {self.original_url: self.staged_sha256} if self.original_url else {}
        for rendition in (self.display, self.thumb):
            if rendition is not None:
                known[rendition.url] = rendition.sha256
        return {url: digest for url, digest in known.items() if digest}

    @property
    def is_image(self) -> bool:
        """True when the asset has display copies to show."""
        return self.display is not None


def prepare_project_assets(project: Project, stage: Path, workers: int = 2,
                           withhold: dict[str, str] | None = None, *,
                           cache: Cache | None = None, previous: Path | None = None,
                           pool: Executor | None = None,
                           step: Callable[[bool], None] | None = None,
                           ) -> tuple[dict[str, PreparedAsset], list[Problem]]:
    """Copy originals and make display copies for `project` under `stage`.

    Returns the prepared assets by `assets[].path` and a located problem for every asset
    that could not be used (an image that does not decode, an image too large). Originals
    named in `withhold` (path to reason) are not copied; their display copies, which carry
    no metadata, still are.

    With a `cache`, display copies made before from the same bytes are linked instead of
    made again, and an original is hard-linked from `previous` (this project's folder in
    the site being replaced) when the cache knows that file still has the same bytes.
    `pool` (shared by the whole build) replaces the `workers` threads; `step` is told of
    each asset as it is done, and whether it came from the cache.
    """
    jobs = list(enumerate(project.manifest.assets))
    withhold = withhold or {}

    def run(job: tuple[int, Asset]) -> PreparedAsset | Problem:
        outcome, cached = _prepare_one(project, stage, *job, withhold.get(job[1].path),
                                       cache=cache, previous=previous)
        if step:
            step(cached)
        return outcome

    if pool is not None:
        outcomes = list(pool.map(run, jobs))
    elif workers <= 1:
        outcomes = [run(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as own:
            outcomes = list(own.map(run, jobs))
    prepared = {o.asset.path: o for o in outcomes if isinstance(o, PreparedAsset)}
    problems = [o for o in outcomes if isinstance(o, Problem)]
    return prepared, problems


def looks_cached(project: Project, cache: Cache | None) -> bool:
    """True when every asset's bytes are known to the stat index and have a display entry:
    preparing them will most likely only link files. Such work runs best on one thread:
    it is short Python steps between system calls, and threads would only pass the GIL
    back and forth (measured: a warm 1000-asset stage took 2 to 4 times longer on two
    threads than in one loop). Nothing is read; a wrong guess only costs speed."""
    if cache is None:
        return False
    for asset in project.manifest.assets:
        digest = cache.known_digest(project.asset_file(asset.path))
        if digest is None or not cache.has(
                "display", _display_key(digest, PurePosixPath(asset.path))):
            return False
    return True


def _prepare_one(project: Project, stage: Path, index: int, asset: Asset,
                 withheld: str | None = None, *, cache: Cache | None = None,
                 previous: Path | None = None) -> tuple[PreparedAsset | Problem, bool]:
    """The prepared asset (or why it cannot be used), and whether it came from the cache."""
    source = project.asset_file(asset.path)
    rel = PurePosixPath(asset.path)
    digest = (cache.digest(source) or "") if cache else ""
    if withheld:
        base = PreparedAsset(asset, "", source.stat().st_size, withheld=withheld, sha256=digest)
    else:
        # Strings, not Paths, for what is done per asset: pathlib's joins cost more here
        # than the file system calls they lead to.
        original = f"{stage}/{ORIGINALS_DIR}/{rel}"
        _ensure_parent(original)
        staged = _publish_original(source, original, digest, cache,
                                   f"{previous}/{ORIGINALS_DIR}/{rel}" if previous else None)
        base = PreparedAsset(asset, f"{ORIGINALS_DIR}/{rel}", os.stat(original).st_size,
                             sha256=digest, staged_sha256=staged)
    try:
        return _cached_renditions(base, source, stage / DISPLAY_DIR, rel, cache,
                                  f"{project.slug}/{asset.path}")
    except _NotAnImage:
        if rel.suffix.lower() in IMAGE_SUFFIXES:
            return _asset_problem(project, index, f"'{asset.path}' is not a readable image"), False
        return base, False
    except _BadImage as exc:
        return _asset_problem(project, index, f"'{asset.path}': {exc}"), False


def _ensure_parent(path: str) -> None:
    """Create the folder `path` goes in (one stat when it exists, as it mostly does)."""
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)


def _publish_original(source: Path, target: str, digest: str, cache: Cache | None,
                      previous: str | None) -> str:
    """Put the original at `target`: hard-linked from the previous site when the cache
    vouches that file still holds exactly these bytes, else copied from the workspace.
    Return `digest` when the cache vouches that `target` holds exactly those bytes, else "".

    The previous site's copy (never the candidate's own file) is linked, so nothing a
    reader does to a published file can reach the workspace. A new copy is remembered
    under the path it will have once the site is swapped in (`previous`).
    """
    if cache is None or not digest:
        shutil.copyfile(source, target)
        return ""
    if previous is not None and cache.known_digest(previous, with_ctime=False) == digest:
        try:
            os.link(previous, target)
            return digest
        except OSError:
            pass  # another disk, or a file system without links: copy
    shutil.copyfile(source, target)
    if cache.known_digest(source) != digest:  # changed meanwhile: the copy's bytes are unknown
        return ""
    if previous is not None:
        cache.remember(previous, os.stat(target), digest, with_ctime=False, racy_ok=True)
    return digest


def _asset_problem(project: Project, index: int, message: str) -> Problem:
    path = ("assets", index, "path")
    line, col = project.source.locate(path)
    return Problem(project.manifest_file, line, col, ERROR, message, format_path(path))


class _NotAnImage(Exception):
    pass


class _BadImage(Exception):
    pass


def _display_key(digest: str, rel: PurePosixPath) -> str:
    """Display copies depend on the bytes, whether the name says image, and the options and
    libraries that decode and encode them."""
    return make_key("display", digest, rel.suffix.lower() in IMAGE_SUFFIXES, _display_options())


@functools.cache
def _display_options() -> tuple:
    return (DISPLAY_SIZE, THUMB_SIZE, WEBP_QUALITY, MAX_PIXELS, PIL.__version__,
            features.version("webp"), code_version())


def _cached_renditions(base: PreparedAsset, source: Path, display_dir: Path,
                       rel: PurePosixPath, cache: Cache | None,
                       label: str = "") -> tuple[PreparedAsset, bool]:
    """`_with_renditions`, reusing (hard-linking) copies the cache holds for these bytes."""
    if cache is None or not base.sha256:
        return _with_renditions(base, source, display_dir, rel), False
    key = _display_key(base.sha256, rel)
    entry = cache.get("display", key, label)
    if entry == {"image": False}:
        raise _NotAnImage()
    if entry is not None:
        try:
            return _linked_renditions(base, entry, key, cache, display_dir, rel), True
        except (KeyError, TypeError, ValueError, OSError):
            # An unusable entry or a blob gone or changed: make the copies again.
            cache.note_miss("display", label, was_hit=True)
    try:
        prepared = _with_renditions(base, source, display_dir, rel)
    except _NotAnImage:
        cache.put("display", key, {"image": False})  # a memo, a notebook: Pillow says so fast,
        raise  # but a build that has nothing to redo should not even ask
    blobs = {}
    for kind, rendition in (("display", prepared.display), ("thumb", prepared.thumb)):
        stored = display_dir.parent / rendition.url
        blobs[kind] = cache.store_blob(stored, key, f"{kind}.webp")
    cache.put("display", key, {"width": prepared.width, "height": prepared.height,
                               "display": [prepared.display.width, prepared.display.height],
                               "thumb": [prepared.thumb.width, prepared.thumb.height],
                               "blobs": blobs})
    # The blobs are links to (or copies of) the staged copies, so they have the same bytes.
    return dataclasses.replace(
        prepared, display=dataclasses.replace(prepared.display, sha256=blobs["display"]),
        thumb=dataclasses.replace(prepared.thumb, sha256=blobs["thumb"])), False


def _linked_renditions(base: PreparedAsset, entry: dict, key: str, cache: Cache,
                       display_dir: Path, rel: PurePosixPath) -> PreparedAsset:
    renditions = {}
    for kind, name in (("display", f"{rel}.webp"), ("thumb", f"{rel}.thumb.webp")):
        blob = cache.blob_ok(key, f"{kind}.webp", entry["blobs"][kind])
        if blob is None:
            raise ValueError("blob missing or changed")
        width, height = (int(v) for v in entry[kind])
        target = f"{display_dir}/{name}"
        _ensure_parent(target)
        link_or_copy(blob, target)
        renditions[kind] = Rendition(f"{DISPLAY_DIR}/{name}", width, height,
                                     entry["blobs"][kind])
    return PreparedAsset(base.asset, base.original_url, base.size_bytes, int(entry["width"]),
                         int(entry["height"]), renditions["display"], renditions["thumb"],
                         base.withheld, base.sha256, base.staged_sha256)


def _with_renditions(base: PreparedAsset, source: Path, display_dir: Path,
                     rel: PurePosixPath) -> PreparedAsset:
    image, (width, height) = _open_image(source)
    with image:
        flat = _displayable(image)
        display = _save_webp(flat, display_dir, f"{rel}.webp", DISPLAY_SIZE)
        thumb = _save_webp(flat, display_dir, f"{rel}.thumb.webp", THUMB_SIZE)
    return PreparedAsset(base.asset, base.original_url, base.size_bytes, width, height,
                         display, thumb, base.withheld, base.sha256, base.staged_sha256)


def _open_image(source: Path) -> tuple[Image.Image, tuple[int, int]]:
    """The decoded image (JPEGs at reduced scale) and its full size in pixels."""
    with warnings.catch_warnings():
        # Pillow only warns between its limit and twice that; we want a clear refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except UnidentifiedImageError:
            raise _NotAnImage() from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _BadImage("image is too large to decode safely") from None
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise _BadImage(f"image has {image.width}x{image.height} pixels; "
                        f"at most {MAX_PIXELS // 1_000_000} megapixels are supported")
    full_size = image.size
    if image.format == "JPEG":
        image.draft("RGB", (DISPLAY_SIZE, DISPLAY_SIZE))  # decode at reduced scale: ~2x faster
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        image.close()
        raise _BadImage(f"image data is damaged ({exc})") from None
    return image, full_size


def _displayable(image: Image.Image) -> Image.Image:
    """First frame, upright, in a mode WebP can store (CMYK, 16-bit and palettes converted)."""
    image.seek(0)
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGB", "RGBA", "L"):
        return upright
    has_alpha = "A" in upright.getbands() or "transparency" in upright.info
    if upright.mode.startswith("I;16") or upright.mode == "I":
        upright = upright.point(lambda v: v / 256).convert("L")
        return upright
    return upright.convert("RGBA" if has_alpha else "RGB")


def _save_webp(image: Image.Image, display_dir: Path, name: str, size: int) -> Rendition:
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    target = display_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    copy.save(target, "WEBP", quality=WEBP_QUALITY, method=4)
    return Rendition(f"{DISPLAY_DIR}/{name}", copy.width, copy.height)


# A channel must move by more than this (of 255) for a pixel to count as changed: small
# enough to catch retouching, large enough to ignore WebP re-encoding noise.
CHANGE_THRESHOLD = 24


@dataclass(frozen=True)
class Gap:
    """How far a final asset is from a source it was made from, measured on display copies."""

    changed_share: float  # share of pixels whose colour changed noticeably, 0..1
    mean_change: float  # mean absolute channel difference, 0..255
    resized: bool  # the source had another size and was scaled to the final's to compare

    def describe(self) -> str:
        """The gap in plain words, e.g. "63% of pixels changed (mean change 18 of 255)"."""
        text = (f"{self.changed_share:.0%} of pixels changed noticeably "
                f"(mean change {self.mean_change:.0f} of 255)")
        return text + ("; the raw was scaled to the final's size to compare" if self.resized
                       else "")


def gap_cached(source: PreparedAsset, final: PreparedAsset, cache: Cache | None) -> bool:
    """True when the cache most likely holds the gap of these two images (nothing is read;
    see looks_cached)."""
    return (cache is not None and bool(source.sha256 and final.sha256)
            and cache.has("gap", _gap_key(source, final)))


def _gap_key(source: PreparedAsset, final: PreparedAsset) -> str:
    return make_key("gap", source.sha256, final.sha256, _display_options(), CHANGE_THRESHOLD)


def measure_gap(stage: Path, source: PreparedAsset, final: PreparedAsset,
                cache: Cache | None = None) -> Gap | None:
    """Compare two prepared images pixel by pixel; None when either is not an image.

    With a `cache`, a gap measured before between the same two originals' bytes is reused.
    """
    if not (source.display and final.display):
        return None
    if cache is None or not (source.sha256 and final.sha256):
        return _measure_gap(stage, source, final)
    key = _gap_key(source, final)
    value = cache.get("gap", key, f"{source.asset.path} -> {final.asset.path}")
    if value is not None:
        try:
            return from_json(Gap, value)
        except ValueError:
            pass
    gap = _measure_gap(stage, source, final)
    cache.put("gap", key, to_json(gap))
    return gap


def _measure_gap(stage: Path, source: PreparedAsset, final: PreparedAsset) -> Gap:
    with Image.open(stage / source.display.url) as a, Image.open(stage / final.display.url) as b:
        before, after = a.convert("RGB"), b.convert("RGB")
    resized = before.size != after.size
    if resized:
        before = before.resize(after.size, Image.Resampling.BILINEAR)
    diff = ImageChops.difference(before, after)
    strongest = ImageChops.lighter(ImageChops.lighter(*diff.split()[:2]), diff.split()[2])
    changed = strongest.point(lambda v: 255 if v > CHANGE_THRESHOLD else 0).histogram()[255]
    pixels = after.width * after.height
    mean = sum(ImageStat.Stat(diff).mean) / 3
    return Gap(changed / pixels, mean, resized)


# EXIF tags that can identify a person or a place. Originals are published byte-identical
# (their credentials hash every byte), so the candidate has to be told before publishing.
_EXIF_GPS = 0x8825
_EXIF_PERSON_TAGS = {0x013B: "artist", 0x9C9D: "author (XPAuthor)", 0x8298: "copyright"}
_XMP_CREATOR = re.compile(rb"<dc:creator>.*?<rdf:li[^>]*>([^<]{1,200})</rdf:li>", re.DOTALL)
_IPTC_BYLINE = (2, 80)


def identifying_metadata(path: Path, cache: Cache | None = None) -> list[str]:
    """What in an image's embedded metadata could identify a person or place, in words.

    Empty for files Pillow cannot open (they are not images, or are reported elsewhere).
    With a `cache`, the answer for the same bytes is reused (reading a PNG's EXIF decodes
    the whole image).
    """
    return _metadata_findings(path, cache) or []


def metadata_cached(project: Project, cache: Cache | None) -> bool:
    """True when the cache most likely holds every metadata answer `asset_problems` needs
    for `project` (nothing is read)."""
    if cache is None:
        return False
    for asset in project.manifest.assets:
        path = project.asset_file(asset.path)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        digest = cache.known_digest(path)
        if digest is None or not cache.has("metadata", _metadata_key(digest, path)):
            return False
    return True


def _metadata_key(digest: str, path: Path) -> str:
    return make_key("metadata", digest, path.suffix.lower(), PIL.__version__, code_version())


def _metadata_findings(path: Path, cache: Cache | None) -> list[str] | None:
    """`identifying_metadata`, or None when Pillow cannot open the file as an image."""
    digest = cache.digest(path) if cache else None
    if digest is None:
        return _identifying_metadata(path)
    key = _metadata_key(digest, path)
    value = cache.get("metadata", key, str(path.name))
    if value == _UNREADABLE or (isinstance(value, list)
                                and all(isinstance(v, str) for v in value)):
        return None if value == _UNREADABLE else value
    found = _identifying_metadata(path)
    cache.put("metadata", key, _UNREADABLE if found is None else found)
    return found


# How the cache records "not an image": JSON, and never equal to a list of findings.
_UNREADABLE = {"readable": False}


def _identifying_metadata(path: Path) -> list[str] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                if image.format == "PNG" and "exif" not in image.info:
                    _add_trailing_png_metadata(image, path)
                return _exif_findings(image) + _xmp_findings(image) + _iptc_findings(image)
    except UnidentifiedImageError:
        return None  # not an image at all
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        # Damaged metadata, or too many pixels: the build reports what it finds decoding.
        return []


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT_LIMIT = 1 << 20  # as Pillow's MAX_TEXT_CHUNK: a text chunk inflating beyond is cut


def _add_trailing_png_metadata(image: Image.Image, path: Path) -> None:
    """Put the metadata chunks that follow a PNG's image data into `image.info`, as
    Pillow's load() does, but without decoding the pixels (Pillow reads EXIF placed after
    the image data only by decoding the whole image: most of a cold check's time on PNGs).

    `info["exif"]` is always set (empty when there is none), so getexif() does not load.
    """
    found: dict[str, bytes | str] = {}
    with open(path, "rb") as stream:
        if stream.read(8) != _PNG_SIGNATURE:
            return
        while len(head := stream.read(8)) == 8:
            length, kind = int.from_bytes(head[:4], "big"), head[4:]
            if kind in (b"eXIf", b"tEXt", b"zTXt", b"iTXt") and length <= 16 * _PNG_TEXT_LIMIT:
                _png_metadata_chunk(kind, stream.read(length), found)
                stream.seek(4, os.SEEK_CUR)  # the CRC
            else:
                stream.seek(length + 4, os.SEEK_CUR)
            if kind == b"IEND":
                break
    for key, value in found.items():
        image.info.setdefault(key, value)
    raw_profile = image.info.get("Raw profile type exif")  # ImageMagick's, hex in text
    if "exif" not in image.info and isinstance(raw_profile, str):
        with contextlib.suppress(ValueError):
            image.info["exif"] = bytes.fromhex("".join(raw_profile.split("\n")[3:]))
    image.info.setdefault("exif", b"")


def _png_metadata_chunk(kind: bytes, data: bytes, found: dict[str, bytes | str]) -> None:
    """One eXIf or text chunk into `found`, keyed as Pillow keys `info` (damage is skipped)."""
    if kind == b"eXIf":
        found.setdefault("exif", b"Exif\x00\x00" + data)  # as Pillow keeps it
        return
    keyword, _, rest = data.partition(b"\0")
    try:
        if kind == b"tEXt":
            text = rest.decode("latin-1")
        elif kind == b"zTXt":
            text = _inflate(rest[1:]).decode("latin-1")
        else:  # iTXt: compression flag and method, language, translated keyword, text
            compressed = rest[:1] == b"\1"
            _, _, rest = rest[2:].partition(b"\0")
            _, _, rest = rest.partition(b"\0")
            text = (_inflate(rest) if compressed else rest).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        return
    found.setdefault(keyword.decode("latin-1"), text)


def _inflate(data: bytes) -> bytes:
    return zlib.decompressobj().decompress(data, _PNG_TEXT_LIMIT)


def _exif_findings(image: Image.Image) -> list[str]:
    exif = image.getexif()
    found = []
    if exif.get_ifd(_EXIF_GPS) or _EXIF_GPS in exif and exif[_EXIF_GPS]:
        found.append("GPS position")
    for tag, label in _EXIF_PERSON_TAGS.items():
        value = exif.get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-16-le", "ignore").rstrip("\x00")
        if value and str(value).strip():
            found.append(f"{label} '{str(value).strip()[:60]}'")
    return found


def _xmp_findings(image: Image.Image) -> list[str]:
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "ignore")
    return [f"XMP creator '{m.decode('utf-8', 'ignore').strip()[:60]}'"
            for m in _XMP_CREATOR.findall(xmp)]


def _iptc_findings(image: Image.Image) -> list[str]:
    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}
    except (SyntaxError, ValueError, OSError):
        return []
    value = info.get(_IPTC_BYLINE)
    if isinstance(value, list):
        value = value[0] if value else b""
    return [f"IPTC by-line '{value.decode('utf-8', 'ignore')[:60]}'"] if value else []


def asset_problems(project: Project, cache: Cache | None = None) -> list[Problem]:
    """What `check` can see in the asset files without decoding them: files named as images
    that are not (an error, as the build would find), images in formats the page cannot
    show, and images whose metadata would publish a position or a person's name."""
    problems = []

    def add(index: int, level: str, message: str) -> None:
        problems.append(project.source.problem(("assets", index, "path"), level, message))

    for index, asset in enumerate(project.manifest.assets):
        suffix = PurePosixPath(asset.path).suffix.lower()
        if suffix in UNDISPLAYABLE_SUFFIXES:
            add(index, WARNING, f"'{asset.path}': {suffix} images cannot be shown on the page "
                "(Pillow cannot decode them); the original is offered as a download only; "
                "add a JPEG or PNG export for reviewers")
            continue
        if suffix not in IMAGE_SUFFIXES:
            continue
        found = _metadata_findings(project.asset_file(asset.path), cache)
        if found is None:
            add(index, ERROR, f"'{asset.path}' is not a readable image")
        elif found:
            add(index, WARNING, f"'{asset.path}' is published byte-identical and its metadata "
                f"holds {', '.join(found)}; remove it before signing if it should stay private")
    return problems
