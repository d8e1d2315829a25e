"""Blind review: a site a reviewer can score without being able to tie it to the candidate.

Three layers, because each catches what the one before cannot:

1. Structure. Fields the JSON Schemas mark `"x-identifying": true` (the candidate's name,
   links, location, git identities, the site's title and address, a project's repository
   address and links) are dropped from the data before any page is rendered; the name
   becomes a pseudonym. Provenance records lose their signer; git authors lose their names.
   Originals whose bytes identify someone (C2PA credentials carry the signer's certificate,
   EXIF/XMP/IPTC author fields, or any identifying string) are not published.
2. Text. Candidate prose can still name the candidate ("Maya Okafor, 27 October"), so every
   generated page and evidence.json is redacted: the name and its parts become the
   pseudonym, addresses and signer names become "(hidden for blind review)".
3. Proof. After the build, every output file is searched for the identifying strings; a
   hit stops the build (`leaks`), so a blind site either is blind or is not published.

Free text that identifies the candidate without naming them (a client only they worked
for, their face in an image) cannot be found by a program; the guide says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assets import identifying_metadata
from .cache import Cache
from .history import AuthorShare, Commit, ProjectHistory
from .manifest import CONFIG_FILE
from .model import Manifest, Project, Workspace, WorkspaceConfig
from .pages import ProjectView
from .provenance import UNKNOWN_SIGNER, VERIFIED, ProvenanceRecord
from .schema import EVIDENCE_SCHEMA, WORKSPACE_SCHEMA, load_schema

IDENTIFYING = "x-identifying"
HIDDEN = "(hidden for blind review)"
ALIAS_PREFIX = "Candidate"
# Strings this short are noise inside binary data (a JPEG has every 4-byte sequence
# somewhere); in binary files only longer strings are searched.
MIN_BINARY_TERM = 5
THEME_ASSETS = "assets/"
_TEXT_SUFFIXES = {".html", ".htm", ".md", ".txt", ".json", ".xml", ".csv", ".js", ".css",
                  ".svg", ".yml", ".yaml", ".log"}


@dataclass(frozen=True)
class BlindReview:
    """What a blind build hides and the pseudonym it shows instead."""

    alias: str
    name: str  # the candidate's full name, replaced by the alias wherever it is written
    terms: tuple[str, ...]  # matched anywhere, ignoring case: addresses, identities, signers
    name_parts: tuple[str, ...]  # matched as whole, capitalised words: "Maya", "Okafor"

    @classmethod
    def for_workspace(cls, workspace: Workspace,
                      records: Iterable[ProvenanceRecord] = ()) -> BlindReview:
        """The blind review of `workspace`; `records` supply the signer names to hide."""
        config = workspace.config
        alias = config.review.alias or candidate_alias(
            (workspace.root / CONFIG_FILE).read_bytes())
        terms = set(_identifying_strings(config, load_schema(WORKSPACE_SCHEMA)))
        # A site title is replaced by the alias, never searched for: "Portfolio" names nobody.
        terms.discard(config.site.title or "")
        for project in workspace.projects:
            terms |= set(_identifying_strings(project.manifest, load_schema(EVIDENCE_SCHEMA)))
        for record in records:
            terms |= {record.signer_common_name or "", record.signer_issuer or ""}
        name = " ".join(config.candidate.name.split())
        terms.discard(name)
        parts = {p for p in name.split(" ") if len(p) >= 2 and p[:1].isupper()}
        strong = sorted({t.strip() for t in terms if len(t.strip()) >= 3}, key=len,
                        reverse=True)
        return cls(alias, name, tuple(strong), tuple(sorted(parts, key=len, reverse=True)))

    # ------------------------------------------------------------------ text

    def redact(self, text: str) -> str:
        """`text` with every identifying string replaced (the name by the pseudonym)."""
        for variant in _variants(self.name):
            text = re.sub(re.escape(variant), self.alias, text, flags=re.IGNORECASE)
        for term in self.terms:
            for variant in _variants(term):
                text = re.sub(re.escape(variant), HIDDEN, text, flags=re.IGNORECASE)
        for part in self.name_parts:
            for variant in _variants(part):
                text = re.sub(rf"(?<!\w){re.escape(variant)}(?!\w)", self.alias, text)
        return text

    def redact_data(self, value: Any) -> Any:
        """Every string inside `value` (dicts, lists) redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_data(v) for v in value]
        return value

    def redact_folder(self, folder: Path) -> None:
        """Redact every Markdown page under `folder` in place."""
        for page in sorted(folder.rglob("*.md")):
            text = page.read_text(encoding="utf-8")
            redacted = self.redact(text)
            if redacted != text:
                page.write_text(redacted, encoding="utf-8")

    # ------------------------------------------------------------------ data

    def config(self, config: WorkspaceConfig) -> WorkspaceConfig:
        """The workspace file without identifying fields, the candidate renamed."""
        stripped = strip_identifying(config, load_schema(WORKSPACE_SCHEMA))
        candidate = dataclasses.replace(
            stripped.candidate, name=self.alias, headline=self.redact(stripped.candidate.headline),
            vision=self.redact(stripped.candidate.vision) if stripped.candidate.vision else None)
        return dataclasses.replace(stripped, candidate=candidate)

    def view(self, view: ProjectView) -> ProjectView:
        """A project page's data with the candidate's identity taken out."""
        return dataclasses.replace(view, project=self.project(view.project),
                                   provenance=self.records(view.provenance),
                                   history=self.history(view.history), blind=True)

    def project(self, project: Project) -> Project:
        """`project` with its manifest's identifying fields dropped.

        The title is redacted here too: it also goes into the navigation, which is not part
        of the pages `redact_folder` rewrites.
        """
        manifest: Manifest = strip_identifying(project.manifest, load_schema(EVIDENCE_SCHEMA))
        manifest = dataclasses.replace(manifest, title=self.redact(manifest.title))
        return dataclasses.replace(project, manifest=manifest)

    def record(self, record: ProvenanceRecord, asset_path: str) -> ProvenanceRecord:
        """The record with its signer hidden and its verdict kept."""
        detail = record.detail
        if record.verdict == VERIFIED:
            detail = ("Signed by a trusted signer (name hidden for blind review) and unchanged "
                      "since signing.")
        elif record.verdict == UNKNOWN_SIGNER:
            detail = ("Signed by a signer who is not in the trust list (name hidden for blind "
                      "review); unchanged since signing.")
        ingredients = tuple(dataclasses.replace(i, title=self.redact(i.title))
                            for i in record.ingredients)
        return dataclasses.replace(
            record, path=asset_path, detail=self.redact(detail), signer_common_name=None,
            signer_issuer=None, title=self.redact(record.title) if record.title else None,
            ingredients=ingredients, c2pa_error=None)

    def records(self, records: Mapping[str, ProvenanceRecord]) -> dict[str, ProvenanceRecord]:
        """Every record of a project blinded, by asset path."""
        return {path: self.record(record, path) for path, record in records.items()}

    def history(self, history: ProjectHistory | None) -> ProjectHistory | None:
        """Authorship kept as shares, authors' names and emails replaced, no commit links."""
        if history is None:
            return None
        names: dict[str, str] = {}
        others = 0
        for share in history.authors:
            if not share.is_candidate:
                others += 1
            names[share.name] = self.alias if share.is_candidate else f"Contributor {others}"
        authors = [AuthorShare(names[a.name], a.commits, a.lines, a.is_candidate)
                   for a in history.authors]

        def commit(c: Commit | None) -> Commit | None:
            if c is None:
                return None
            return dataclasses.replace(c, author=names.get(c.author, "a contributor"),
                                       email="", subject=self.redact(c.subject))

        return dataclasses.replace(
            history, authors=tuple(authors), first=commit(history.first),
            last=commit(history.last), pinned=commit(history.pinned), web_url=None,
            milestones=tuple(dataclasses.replace(m, tag=self.redact(m.tag),
                                                 commit=commit(m.commit))
                             for m in history.milestones),
            iterations=tuple(dataclasses.replace(i, commit=commit(i.commit))
                             for i in history.iterations))

    # ------------------------------------------------------------------ files

    def withheld(self, project: Project, records: Mapping[str, ProvenanceRecord],
                 cache: Cache | None = None) -> dict[str, str]:
        """Assets whose original must not be published, by path, with the reason in words.

        With the build's `cache`, the metadata `check` already read is not read again."""
        reasons = {}
        for asset in project.manifest.assets:
            record = records.get(asset.path)
            file = project.asset_file(asset.path)
            if record is not None and record.has_manifest:
                reasons[asset.path] = ("its Content Credentials carry the signer's name and "
                                       "certificate")
            elif identifying_metadata(file, cache):
                reasons[asset.path] = ("its embedded metadata (author, copyright or GPS "
                                       "fields) could identify the candidate")
            elif self.found_in(file.read_bytes(), file.suffix.lower()):
                reasons[asset.path] = "it names the candidate"
        return reasons

    def found_in(self, data: bytes, suffix: str = "", *, any_case: bool = False) -> list[str]:
        """The identifying strings in a file's bytes (text files: every kind of match).

        `any_case` matches name parts in any case too, for file names ("maya-final.png").
        """
        strong = (self.name, *self.terms)
        text = _as_text(data, suffix)
        if text is None:
            lowered = data.lower()
            return [t for t in strong if len(t.encode()) >= MIN_BINARY_TERM
                    and t.lower().encode() in lowered]
        found = [t for t in strong if t.lower() in text.lower()]
        flags = re.IGNORECASE if any_case else 0
        found += [p for p in self.name_parts
                  if re.search(rf"(?<![^\W_]){re.escape(p)}(?![^\W_])", text, flags)]
        return found

    def leaks(self, site: Path) -> list[str]:
        """`path: 'term'` for every identifying string left in a built site (names too).

        The theme's own files (`assets/` at the top) hold no candidate data and are skipped:
        a name part such as "Max" may well occur in minified JavaScript.
        """
        hits = []
        for path in sorted(p for p in site.rglob("*") if p.is_file()):
            rel = path.relative_to(site).as_posix()
            if rel.startswith(THEME_ASSETS):
                continue
            for term in self.found_in(rel.encode(), ".txt", any_case=True):
                hits.append(f"{rel} (file name): {term!r}")
            for term in self.found_in(path.read_bytes(), path.suffix.lower()):
                hits.append(f"{rel}: {term!r}")
        return hits


def candidate_alias(config_bytes: bytes) -> str:
    """`Candidate 7F3A`: four hex digits of the workspace file's hash.

    The whole file (vision, links, comments) goes into the hash, so a reviewer holding a
    list of applicants' names cannot compute it for each and find the match.
    """
    return f"{ALIAS_PREFIX} {hashlib.sha256(config_bytes).hexdigest()[:4].upper()}"


def strip_identifying(value: Any, schema: dict[str, Any]) -> Any:
    """A copy of dataclass `value` with every field marked `x-identifying` in `schema` set to
    its default (None, empty); required identifying fields are kept for the caller."""
    if not dataclasses.is_dataclass(value):
        return value
    changes = {}
    properties = schema.get("properties", {})
    for f in dataclasses.fields(value):
        sub = properties.get(f.name, {})
        current = getattr(value, f.name)
        if sub.get(IDENTIFYING) and _has_default(f):
            changes[f.name] = (f.default_factory() if f.default is dataclasses.MISSING
                               else f.default)
        elif dataclasses.is_dataclass(current):
            changes[f.name] = strip_identifying(current, sub)
        elif isinstance(current, list) and current and dataclasses.is_dataclass(current[0]):
            changes[f.name] = [strip_identifying(item, sub.get("items", {}))
                               for item in current]
    return dataclasses.replace(value, **changes)


def _has_default(f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _identifying_strings(value: Any, schema: dict[str, Any]) -> Iterable[str]:
    """Every string held by a field marked identifying (addresses without their scheme)."""
    if not dataclasses.is_dataclass(value):
        return
    properties = schema.get("properties", {})
    for f in dataclasses.fields(value):
        sub = properties.get(f.name, {})
        current = getattr(value, f.name)
        if sub.get(IDENTIFYING):
            yield from (_address_term(s) for s in _strings(current))
        elif dataclasses.is_dataclass(current):
            yield from _identifying_strings(current, sub)
        elif isinstance(current, list):
            for item in current:
                yield from _identifying_strings(item, sub.get("items", {}))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            if f.name != "label":  # a link's label ("GitHub") identifies nobody
                yield from _strings(getattr(value, f.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _address_term(text: str) -> str:
    """`https://maya.example/cv.pdf` -> `maya.example/cv.pdf`; `mailto:a@b` -> `a@b`."""
    stripped = re.sub(r"^(https?://(www\.)?|mailto:)", "", text.strip(), flags=re.IGNORECASE)
    return stripped.rstrip("/")


def _variants(term: str) -> list[str]:
    """How a string can be written in a generated page: as is, HTML- and Markdown-escaped."""
    escaped = html.escape(term, quote=True)
    markdown = re.sub(r"([\\`*_{}\[\]()#+\-.!])", r"\\\1", escaped)
    return list(dict.fromkeys([term, escaped, markdown]))


def _as_text(data: bytes, suffix: str) -> str | None:
    """The file as text to search (JSON: its strings, unescaped), or None for binary data."""
    if suffix not in _TEXT_SUFFIXES:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if suffix == ".json":
        try:
            text += "\n" + "\n".join(_json_strings(json.loads(text)))
        except ValueError:
            pass
    return html.unescape(text)


def _json_strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _json_strings(v)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)

