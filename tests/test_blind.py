"""Blind builds: nothing in the published site ties it to the candidate.

The leak search reads every output file (pages, JSON, search index, sitemap, published
originals and logs, display copies, the theme's own files) as bytes and as text, and looks
for every identifying string: the candidate's name and each part of it, their email, every
link, their location, the site's address, the test signer's and CA's names and their
organisation, git author names and emails, and the words listed under `review.hide`.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from PIL import Image

from conftest import EXAMPLE_SITE, make_workspace, run_cli
from evidencechain import testca
from evidencechain.assets import identifying_metadata
from evidencechain.blind import IDENTIFYING, candidate_alias
from evidencechain.schema import EVIDENCE_SCHEMA, WORKSPACE_SCHEMA, load_schema

CONFIG = yaml.safe_load((EXAMPLE_SITE / "evidencechain.yml").read_text(encoding="utf-8"))
CANDIDATE = CONFIG["candidate"]
EXAMPLE_TERMS = [
    CANDIDATE["name"], CANDIDATE["location"], CONFIG["site"]["url"], CONFIG["site"]["title"],
    *(link["url"] for link in CANDIDATE["links"]),
    *(link["url"].split(":", 1)[1] for link in CANDIDATE["links"]
      if link["url"].startswith("mailto:")),
    "maya-okafor.example", testca.SIGNER_CN, testca.ROOT_CN, testca.ORGANIZATION,
    *CONFIG["review"]["hide"],
]
NAME_PARTS = CANDIDATE["name"].split()


def _texts(data: bytes, suffix: str) -> list[str]:
    """Ways a file can hold a string: its bytes as text, HTML-unescaped, JSON strings."""
    text = data.decode("utf-8", "replace")
    texts = [text, html.unescape(text)]
    if suffix == ".json":
        texts.append(json.dumps(json.loads(text), ensure_ascii=False))
    return texts


def leaks(site: Path, terms: list[str], parts: list[str], *, theme: bool = True) -> list[str]:
    """Every identifying string found anywhere in `site`, as `file: term`.

    `theme=False` skips the theme's own files (`assets/`), the same for every site: their
    lunr stop word lists hold short words such as "ada" that test names would match.
    """
    found = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if not theme and rel.startswith("assets/"):
            continue
        data = path.read_bytes()
        haystacks = [t.lower() for t in _texts(data, path.suffix)] + [rel.lower()]
        for term in terms:
            if any(term.lower() in h for h in haystacks) or term.lower().encode() in \
                    data.lower():
                found.append(f"{rel}: {term}")
        for part in parts:
            word = re.compile(rf"(?<![a-z]){re.escape(part.lower())}(?![a-z])")
            if any(word.search(h) for h in haystacks):
                found.append(f"{rel}: {part}")
        if path.suffix in (".jpg", ".jpeg", ".png", ".webp", ".tif", ".gif"):
            with Image.open(path) as image:
                meta = repr(image.info) + repr(dict(image.getexif()))
            found += [f"{rel} (metadata): {t}" for t in terms + parts if t.lower() in
                      meta.lower()]
    return found


@pytest.fixture(scope="module")
def blind_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("blind") / "site"
    result = run_cli("build", EXAMPLE_SITE, "-o", out, "--blind")
    assert result.exit_code == 0, result.output
    assert "(blind review)" in result.output
    return out


def test_nothing_in_the_blind_example_identifies_the_candidate(blind_site):
    files = [p for p in blind_site.rglob("*") if p.is_file()]
    assert len(files) > 50  # pages, search index, sitemap, display copies, theme, logs
    assert (blind_site / "search" / "search_index.json").is_file()
    assert (blind_site / "sitemap.xml").is_file()
    assert (blind_site / "projects/support-ticket-classifier/reproduction-log.txt").is_file()

    assert leaks(blind_site, EXAMPLE_TERMS, NAME_PARTS) == []


def test_the_search_finds_the_same_strings_in_a_normal_build(built_example):
    found = leaks(built_example, EXAMPLE_TERMS, NAME_PARTS)

    for term in (CANDIDATE["name"], "Okafor", testca.SIGNER_CN, CONFIG["site"]["url"],
                 "maya@maya-okafor.example", "Studio Vaart"):
        assert any(line.endswith(f": {term}") for line in found), term


def test_the_blind_site_is_titled_with_a_pseudonym(blind_site):
    alias = candidate_alias((EXAMPLE_SITE / "evidencechain.yml").read_bytes())
    index = (blind_site / "index.html").read_text(encoding="utf-8")

    assert re.fullmatch(r"Candidate [0-9A-F]{4}", alias)
    assert re.search(rf"<title>{alias}( - {alias})?</title>", index)
    assert f'<h1 id="{alias.lower().replace(" ", "-")}">{alias}' in index
    # Not computable from a list of names: the whole workspace file goes into the hash.
    name_hash = hashlib.sha256(CANDIDATE["name"].encode()).hexdigest()[:4].upper()
    assert alias != f"Candidate {name_hash}"
    page = (blind_site / "projects/brand-campaign-visuals/index.html").read_text()
    assert f'data-site="{alias}"' in page


def test_verdicts_stay_and_signed_originals_are_withheld(blind_site):
    page = (blind_site / "projects/brand-campaign-visuals/index.html").read_text()

    assert page.count("ec-v-verified") >= 5
    assert "Signed by a trusted signer (name hidden for blind review)" in page
    assert "ec-v-tampered" in page
    assert page.count("original withheld for blind review: its Content Credentials carry "
                      "the signer&#x27;s name and certificate") == 8
    assert "Signer names are hidden and signed originals withheld for blind review" in page
    published = sorted(p.name for p in blind_site.glob("projects/*/files/**/*") if p.is_file())
    assert published == ["halden-packshot-client.jpg"]  # the client's unsigned file
    verify = run_cli("verify", blind_site, "--json")
    assert [r["verdict"] for r in json.loads(verify.output)["records"]] == ["no-credentials"]


def test_a_file_that_names_the_candidate_is_withheld(blind_site):
    page = (blind_site / "projects/legible-lettering-study/index.html").read_text()

    assert "<code>memo.md</code>" in page
    assert "original withheld for blind review: it names the candidate" in page
    assert not list(blind_site.glob("projects/legible-lettering-study/files/**/memo.md"))


def test_blind_evidence_json_has_no_candidate_and_no_signers(blind_site):
    data = json.loads((blind_site / "evidence.json").read_text(encoding="utf-8"))

    jsonschema.validate(data, load_schema("evidence-output.schema.json"))
    assert data["candidate"] is None
    assert data["alias"] == data["site"]["title"]
    assert data["build"]["blind"] is True
    assert data["receipt"]["trust"]["digest"] is None
    assets = [a for p in data["projects"] for a in p["assets"]]
    signed = [a for a in assets if a["provenance"] and a["provenance"]["verdict"] == "verified"]
    assert signed and all(a["provenance"]["signer_common_name"] is None for a in signed)
    assert all(a["original"] is None and a["provenance"]["sha256"] is None
               for a in assets if a["withheld"])


def test_every_identifying_field_says_it_is_hidden():
    def marked(node, path=""):
        if isinstance(node, dict):
            if node.get(IDENTIFYING):
                yield path, node
            for key, value in node.items():
                yield from marked(value, f"{path}.{key}")

    fields = [p for name in (EVIDENCE_SCHEMA, WORKSPACE_SCHEMA)
              for p in marked(load_schema(name))]
    assert len(fields) == 9
    for path, node in fields:
        assert "blind" in node["description"], path


# --------------------------------------------------------------------------- small workspaces


def _jpeg_with_author(name: str) -> bytes:
    image = Image.new("RGB", (320, 200), (40, 90, 160))
    exif = image.getexif()
    exif[0x013B] = name  # Artist
    exif[0x8298] = f"(c) {name}"  # Copyright
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
           f'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"'
           f'><dc:creator><rdf:Seq><rdf:li>{name}</rdf:li></rdf:Seq></dc:creator>'
           "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, xmp=xmp)
    return buffer.getvalue()


CONFIG_TEXT = """schema_version: 1
candidate:
  name: Ada Quill
  headline: I test blind review
  links:
    - {label: Email, url: "mailto:ada@quill.example"}
  git_identities: [Ada Quill, ada@quill.example]
"""
ASSETS = """assets:
  - path: photo.jpg
    role: final
    caption: A photo by Ada Quill.
"""


def test_display_copies_carry_no_author_metadata_and_the_original_is_withheld(tmp_path):
    ws = make_workspace(tmp_path / "ws", ASSETS, {"photo.jpg": _jpeg_with_author("Ada Quill")},
                        config=CONFIG_TEXT)
    manifest = ws / "projects/p/evidence.yml"  # the title also goes into the navigation
    manifest.write_text(manifest.read_text().replace("title: Test project",
                                                     "title: Ada Quill's photo study"))
    assert identifying_metadata(ws / "projects/p/photo.jpg")

    for flag in ([], ["--blind"]):
        out = tmp_path / f"site{len(flag)}"
        result = run_cli("build", ws, "-o", out, *flag)
        assert result.exit_code == 0, result.output
        for copy in out.glob("projects/p/display/**/*.webp"):
            with Image.open(copy) as image:
                assert "exif" not in image.info and "xmp" not in image.info, copy
                assert not dict(image.getexif())
            assert identifying_metadata(copy) == []
    blind = tmp_path / "site1"
    page = (blind / "projects/p/index.html").read_text()
    assert ("original withheld for blind review: its embedded metadata (author, copyright or "
            "GPS fields) could identify the candidate") in page
    assert not (blind / "projects/p/files").exists()
    assert "A photo by Candidate " in page
    assert leaks(blind, ["Ada Quill", "ada@quill.example"], ["Ada", "Quill"],
                 theme=False) == []


def _git(cwd: Path, *args: str, author: tuple[str, str]) -> None:
    env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1],
           "GIT_AUTHOR_DATE": "1717400000 +0000", "GIT_COMMITTER_DATE": "1717400000 +0000",
           "PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_git_authors_are_shares_without_names(tmp_path):
    ws = make_workspace(tmp_path / "ws", "repo:\n  url: https://github.com/adaquill/evidence\n",
                        config=CONFIG_TEXT)
    ada, sam = ("Ada Quill", "ada@quill.example"), ("Sam Colleague", "sam@colleague.example")
    _git(ws, "init", "-q", "-b", "main", author=ada)
    _git(ws, "remote", "add", "origin", "git@github.com:adaquill/evidence.git", author=ada)
    _git(ws, "add", "-A", author=ada)
    _git(ws, "commit", "-q", "-m", "First draft by Ada Quill", author=ada)
    (ws / "projects/p/notes.txt").write_text("review\n")
    _git(ws, "add", "-A", author=sam)
    _git(ws, "commit", "-q", "-m", "Review notes", author=sam)

    normal, blind = tmp_path / "normal", tmp_path / "blind"
    assert run_cli("build", ws, "-o", normal).exit_code == 0
    result = run_cli("build", ws, "-o", blind, "--blind")

    assert result.exit_code == 0, result.output
    assert "Sam Colleague" in (normal / "projects/p/index.html").read_text()
    assert "github.com/adaquill" in (normal / "projects/p/index.html").read_text()
    page = html.unescape((blind / "projects/p/index.html").read_text())
    assert "the candidate made 1 of 2 commits (50%)" in page
    assert "others: Contributor 1 (1 commit(s)" in page
    assert "First draft by Candidate " in page
    assert leaks(blind, ["Ada Quill", "ada@quill.example", "Sam Colleague",
                         "sam@colleague.example", "adaquill"], ["Ada", "Quill"],
                 theme=False) == []


def test_review_settings_in_the_workspace_file(tmp_path):
    config = CONFIG_TEXT + "review:\n  blind: true\n  alias: Candidate 12\n"
    ws = make_workspace(tmp_path / "ws", config=config)

    result = run_cli("build", ws, "-o", tmp_path / "site")

    assert result.exit_code == 0, result.output
    assert "(blind review)" in result.output
    index = (tmp_path / "site/index.html").read_text()
    assert "<title>Candidate 12 - Candidate 12</title>" in index
    assert "Ada Quill" not in index


def test_a_blind_build_that_would_still_name_the_candidate_stops(tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (60, 40), (1, 2, 3)).save(png, "PNG")
    listing = "assets:\n  - path: ada-quill-moodboard.png\n    role: raw\n"
    ws = make_workspace(tmp_path / "ws", listing, {"ada-quill-moodboard.png": png.getvalue()},
                        config=CONFIG_TEXT)

    result = run_cli("build", ws, "-o", tmp_path / "site", "--blind")

    assert result.exit_code == 1
    assert ("error: the blind site would still identify the candidate: "
            "projects/p/display/ada-quill-moodboard.png.thumb.webp (file name): 'Quill'"
            ) in result.stderr
    assert not (tmp_path / "site").exists()
