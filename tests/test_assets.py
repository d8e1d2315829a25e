"""Display copies: decodable images become small WebP; originals stay byte-identical."""

from __future__ import annotations

import hashlib
import io
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from conftest import make_workspace
from evidencechain.assets import (
    DISPLAY_SIZE,
    THUMB_SIZE,
    identifying_metadata,
    prepare_project_assets,
)
from evidencechain.manifest import load_workspace


def _image_bytes(mode: str, size: tuple[int, int], fmt: str, **save) -> bytes:
    color = {"RGB": (200, 40, 30), "RGBA": (200, 40, 30, 128), "CMYK": (0, 80, 80, 10),
             "I;16": 40000, "L": 128, "P": 3}[mode]
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def _gif_animation() -> bytes:
    frames = [Image.new("P", (300, 200), i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def _prepare(tmp_path: Path, files: dict[str, bytes], roles: dict[str, str] | None = None):
    listing = "assets:\n" + "".join(
        f"  - path: {name}\n    role: {(roles or {}).get(name, 'raw')}\n" for name in files)
    make_workspace(tmp_path / "ws", listing, files)
    result = load_workspace(tmp_path / "ws")
    assert result.problems == []
    project = result.workspace.projects[0]
    return prepare_project_assets(project, tmp_path / "stage")


FORMATS = {
    "photo.jpg": _image_bytes("RGB", (3000, 2000), "JPEG", quality=90),
    "alpha.png": _image_bytes("RGBA", (1600, 1600), "PNG"),
    "print.tif": _image_bytes("CMYK", (800, 1200), "TIFF"),
    "deep.png": _image_bytes("I;16", (640, 480), "PNG"),
    "grey.webp": _image_bytes("L", (500, 500), "WEBP"),
    "anim.gif": _gif_animation(),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_image_kind_gets_bounded_webp_copies(tmp_path, name):
    prepared, problems = _prepare(tmp_path, {name: FORMATS[name]})

    assert problems == []
    item = prepared[name]
    assert item.is_image
    for rendition, limit in ((item.display, DISPLAY_SIZE), (item.thumb, THUMB_SIZE)):
        with Image.open(tmp_path / "stage" / rendition.url) as copy:
            assert copy.format == "WEBP"
            assert max(copy.size) <= limit
            assert copy.size == (rendition.width, rendition.height)
    with Image.open(io.BytesIO(FORMATS[name])) as original:
        assert (item.width, item.height) == original.size


def test_originals_are_copied_byte_identical(tmp_path):
    prepared, _ = _prepare(tmp_path, {"photo.jpg": FORMATS["photo.jpg"], "notes.md": b"# n\n"})

    for name, data in (("photo.jpg", FORMATS["photo.jpg"]), ("notes.md", b"# n\n")):
        copied = (tmp_path / "stage" / prepared[name].original_url).read_bytes()
        assert hashlib.sha256(copied).digest() == hashlib.sha256(data).digest()


def test_non_image_files_are_published_without_display_copies(tmp_path):
    prepared, problems = _prepare(tmp_path, {"notebook.ipynb": b"{}", "memo.md": b"# m\n"})

    assert problems == []
    assert not prepared["notebook.ipynb"].is_image
    assert prepared["memo.md"].size_bytes == 4


@pytest.mark.parametrize(("name", "data", "words"), [
    ("empty.png", b"", "not a readable image"),
    ("text.jpg", b"this is not a jpeg", "not a readable image"),
    ("cut.jpg", FORMATS["photo.jpg"][:2000], "image data is damaged"),
])
def test_broken_images_are_located_problems(tmp_path, name, data, words):
    prepared, problems = _prepare(tmp_path, {name: data})

    assert name not in prepared
    (problem,) = problems
    assert words in problem.message
    assert problem.format().startswith("projects/p/evidence.yml:7:11: error: $.assets[0].path:")


def test_decompression_bombs_are_refused(tmp_path):
    bomb = _image_bytes("L", (9000, 9000), "PNG", optimize=True)

    _, problems = _prepare(tmp_path, {"bomb.png": bomb})

    assert "megapixels" in problems[0].message or "too large" in problems[0].message


def _jpeg_with_identity() -> bytes:
    from PIL.TiffImagePlugin import IFDRational

    image = Image.new("RGB", (400, 300), (10, 20, 30))
    exif = image.getexif()
    exif[0x013B] = "Maya Okafor"
    exif[0x8825] = {1: "N", 2: (IFDRational(52), IFDRational(5), IFDRational(0)),
                    3: "E", 4: (IFDRational(4), IFDRational(18), IFDRational(0))}
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
           b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
           b"<dc:creator><rdf:Seq><rdf:li>Maya Okafor</rdf:li></rdf:Seq></dc:creator>"
           b"</rdf:Description></rdf:RDF></x:xmpmeta>")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), xmp=xmp)
    return buffer.getvalue()


def test_display_copies_carry_no_metadata_but_originals_keep_it(tmp_path):
    prepared, _ = _prepare(tmp_path, {"gps.jpg": _jpeg_with_identity()})
    item = prepared["gps.jpg"]

    for rendition in (item.display, item.thumb):
        copy_bytes = (tmp_path / "stage" / rendition.url).read_bytes()
        with Image.open(io.BytesIO(copy_bytes)) as copy:
            assert dict(copy.getexif()) == {}
            assert "xmp" not in copy.info and "exif" not in copy.info
        assert b"Maya Okafor" not in copy_bytes
    original = (tmp_path / "stage" / item.original_url).read_bytes()
    assert original == _jpeg_with_identity() or b"Maya Okafor" in original


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (len(data).to_bytes(4, "big") + kind + data
            + zlib.crc32(kind + data).to_bytes(4, "big"))


def _png_with_identity_after_the_pixels() -> bytes:
    """A PNG whose EXIF (GPS, artist) and XMP creator come after its image data, where
    Pillow finds them only by decoding the whole image."""
    with Image.open(io.BytesIO(_jpeg_with_identity())) as jpeg:
        exif = jpeg.getexif().tobytes()
        xmp = jpeg.info["xmp"]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, "PNG")
    png = buffer.getvalue()
    end = png.rindex(b"IEND") - 4
    xmp_chunk = b"XML:com.adobe.xmp\0\1\0\0\0" + zlib.compress(xmp)  # compressed iTXt
    return (png[:end] + _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif") else exif)
            + _png_chunk(b"iTXt", xmp_chunk) + png[end:])


def test_metadata_after_png_pixels_is_found_without_decoding(tmp_path, monkeypatch):
    path = tmp_path / "late.png"
    path.write_bytes(_png_with_identity_after_the_pixels())
    with Image.open(path) as image:  # what Pillow finds by decoding, for comparison
        assert "exif" not in image.info
        image.load()
        assert image.getexif().get(0x013B) == "Maya Okafor"

    def no_decoding(self):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    found = identifying_metadata(path)

    assert "GPS position" in found and "artist 'Maya Okafor'" in found
    assert "XMP creator 'Maya Okafor'" in found
    clean = tmp_path / "clean.png"
    Image.new("RGB", (8, 8)).save(clean)
    assert identifying_metadata(clean) == []


def test_check_warns_about_gps_and_names_in_originals(tmp_path, cli):
    make_workspace(tmp_path / "ws", "assets:\n  - path: gps.jpg\n    role: raw\n",
                   {"gps.jpg": _jpeg_with_identity(), "clean.jpg": FORMATS["photo.jpg"]})

    result = cli("check", tmp_path / "ws")

    assert result.exit_code == 0
    (line,) = [x for x in result.output.splitlines() if ": warning: " in x and "gps.jpg" in x]
    assert line.startswith("projects/p/evidence.yml:7:11: warning: $.assets[0].path:")
    assert "GPS position" in line and "artist 'Maya Okafor'" in line
    assert "XMP creator 'Maya Okafor'" in line
