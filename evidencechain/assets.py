"""Derived files: byte-identical originals and WebP display copies, made with Pillow.

Originals are copied untouched because their C2PA credentials hash the exact bytes; the
display copies are what pages show (small, metadata-free WebP), each linking back to its
original so anyone can verify it elsewhere. This is the only module that imports Pillow.
"""

from __future__ import annotations

import re
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import (
    Image,
    ImageChops,
    ImageOps,
    ImageStat,
    IptcImagePlugin,
    UnidentifiedImageError,
)

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

    @property
    def is_image(self) -> bool:
        """True when the asset has display copies to show."""
        return self.display is not None


def prepare_project_assets(project: Project, stage: Path,
                           workers: int = 2) -> tuple[dict[str, PreparedAsset], list[Problem]]:
    """Copy originals and make display copies for `project` under `stage`.

    Returns the prepared assets by `assets[].path` and a located problem for every asset
    that could not be used (an image that does not decode, an image too large).
    """
    jobs = list(enumerate(project.manifest.assets))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda job: _prepare_one(project, stage, *job), jobs))
    prepared = {o.asset.path: o for o in outcomes if isinstance(o, PreparedAsset)}
    problems = [o for o in outcomes if isinstance(o, Problem)]
    return prepared, problems


def _prepare_one(project: Project, stage: Path, index: int,
                 asset: Asset) -> PreparedAsset | Problem:
    source = project.asset_file(asset.path)
    rel = PurePosixPath(asset.path)
    original = stage / ORIGINALS_DIR / rel
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, original)
    base = PreparedAsset(asset, f"{ORIGINALS_DIR}/{rel}", original.stat().st_size)
    try:
        return _with_renditions(base, source, stage / DISPLAY_DIR, rel)
    except _NotAnImage:
        if rel.suffix.lower() in IMAGE_SUFFIXES:
            return _asset_problem(project, index, f"'{asset.path}' is not a readable image")
        return base
    except _BadImage as exc:
        return _asset_problem(project, index, f"'{asset.path}': {exc}")


def _asset_problem(project: Project, index: int, message: str) -> Problem:
    path = ("assets", index, "path")
    line, col = project.source.locate(path)
    return Problem(project.manifest_file, line, col, ERROR, message, format_path(path))


class _NotAnImage(Exception):
    pass


class _BadImage(Exception):
    pass


def _with_renditions(base: PreparedAsset, source: Path, display_dir: Path,
                     rel: PurePosixPath) -> PreparedAsset:
    image, (width, height) = _open_image(source)
    with image:
        flat = _displayable(image)
        display = _save_webp(flat, display_dir, f"{rel}.webp", DISPLAY_SIZE)
        thumb = _save_webp(flat, display_dir, f"{rel}.thumb.webp", THUMB_SIZE)
    return PreparedAsset(base.asset, base.original_url, base.size_bytes, width, height,
                         display, thumb)


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


def measure_gap(stage: Path, source: PreparedAsset, final: PreparedAsset) -> Gap | None:
    """Compare two prepared images pixel by pixel; None when either is not an image."""
    if not (source.display and final.display):
        return None
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


def identifying_metadata(path: Path) -> list[str]:
    """What in an image's embedded metadata could identify a person or place, in words.

    Empty for files Pillow cannot open (they are not images, or are reported elsewhere).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                return _exif_findings(image) + _xmp_findings(image) + _iptc_findings(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return []


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


def asset_warnings(project: Project) -> list[Problem]:
    """Warnings a candidate should see before publishing: images in formats the page cannot
    show, and images whose metadata would publish a position or a person's name."""
    problems = []
    for index, asset in enumerate(project.manifest.assets):
        suffix = PurePosixPath(asset.path).suffix.lower()
        if suffix in UNDISPLAYABLE_SUFFIXES:
            path = ("assets", index, "path")
            line, col = project.source.locate(path)
            problems.append(Problem(
                project.manifest_file, line, col, WARNING,
                f"'{asset.path}': {suffix} images cannot be shown on the page (Pillow cannot "
                "decode them); the original is offered as a download only; add a JPEG or PNG "
                "export for reviewers", format_path(path)))
            continue
        if suffix not in IMAGE_SUFFIXES:
            continue
        found = identifying_metadata(project.asset_file(asset.path))
        if found:
            path = ("assets", index, "path")
            line, col = project.source.locate(path)
            problems.append(Problem(
                project.manifest_file, line, col, WARNING,
                f"'{asset.path}' is published byte-identical and its metadata holds "
                f"{', '.join(found)}; remove it before signing if it should stay private",
                format_path(path)))
    return problems
