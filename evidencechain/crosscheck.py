"""Cross-checks between what a manifest declares and what the files' credentials say.

c2pa checks one file at a time. These checks compare the credentials of a project's assets
with its manifest, which no other tool can do because no other tool knows the manifest:

- the declared chain (`derived_from`) against the signed chain (the ingredients a final's
  credentials list), matched by manifest label: an ingredient's `active_manifest` is the
  label of the source file's own active manifest, so an equal label proves that exact
  signed file went in. An unsigned source leaves no label (c2pa records no hash for it),
  so it can only be matched by its file name, which is a claim rather than proof;
- sources that fail verification on their own (c2pa does not carry a tampered ingredient
  into the final's own state, so a final can read "verified" over a tampered raw); the
  bad verdict of any single file is `verification`'s finding, not repeated here;
- the declared `source_type` against the credentials' digital source type (AI or not);
- the generating models the credentials name against `model_card.models`.

Every finding is a WARNING: credentials are evidence for a reviewer, not a rule a manifest
must obey, and `check` must stay usable for projects that have no credentials at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .model import Asset, Model, Project
from .problems import WARNING, Problem
from .provenance import (
    AI_SOURCE_TYPES,
    IPTC_SOURCE_TYPE,
    NO_CREDENTIALS,
    TAMPERED,
    UNKNOWN_SIGNER,
    UNREADABLE,
    UNTRUSTED,
    VERIFIED,
    Ingredient,
    ProvenanceRecord,
    can_carry_credentials,
    digital_source_type_uri,
)
from .yamlsource import JsonPath, format_path

# Verdicts whose manifest c2pa parsed: its statements can be read (tampered ones are
# still reported, but what they claim is not used as support for anything).
_PARSED = (VERIFIED, UNKNOWN_SIGNER, TAMPERED)
_VALID = (VERIFIED, UNKNOWN_SIGNER)
_CREATED = "c2pa.created"


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class ProvenanceSummary:
    """Counts of verdicts over a set of records, for a site banner or a CLI footer."""

    total: int
    counts: dict[str, int] = field(default_factory=dict)
    ai_generated: int = 0
    not_media: int = 0  # files whose format cannot carry credentials (memos, notebooks)

    def count(self, verdict: str) -> int:
        """How many records have `verdict` (0 when none)."""
        return self.counts.get(verdict, 0)

    def describe(self, noun: str = "assets") -> str:
        """E.g. "6 of 7 assets verified · 4 AI-generated · 1 unsigned"."""
        return " · ".join(text for _, text in self.parts(noun))

    def parts(self, noun: str = "assets") -> list[tuple[str, str]]:
        """The pieces of `describe()`, each with its verdict ("" for the AI and other-file
        counts), so a page can give each bad verdict its own badge."""
        if not self.total:
            return [("", f"no {noun}")]
        parts = [(VERIFIED, f"{self.count(VERIFIED)} of {self.total} {noun} verified")]
        if self.ai_generated:
            parts.append(("", f"{self.ai_generated} AI-generated"))
        for verdict, words in (
            (UNKNOWN_SIGNER, "signed by an unknown signer"),
            (TAMPERED, "tampered"),
            (UNREADABLE, "unreadable"),
            (NO_CREDENTIALS, "unsigned"),
        ):
            if self.count(verdict):
                parts.append((verdict, f"{self.count(verdict)} {words}"))
        if self.not_media:
            parts.append(("", f"{self.not_media} other file(s) that cannot carry credentials"))
        return parts

    @property
    def text(self) -> str:
        """The summary sentence in terms of assets."""
        return self.describe()


def summarize(records: Iterable[ProvenanceRecord]) -> ProvenanceSummary:
    """Count verdicts and AI-generated files (only valid credentials count as AI evidence)."""
    everything = list(records)
    # A memo or notebook being "unsigned" says nothing about the candidate: count it apart.
    records = [r for r in everything
               if r.verdict != NO_CREDENTIALS or can_carry_credentials(r.path)]
    counts: dict[str, int] = {}
    for record in records:
        counts[record.verdict] = counts.get(record.verdict, 0) + 1
    ai = sum(r.ai_generated and r.verdict in _VALID for r in records)
    return ProvenanceSummary(len(records), counts, ai, len(everything) - len(records))


# --------------------------------------------------------------------------- chain issues

FAILS_ON_ITS_OWN = "fails-on-its-own"
FAILED_WHEN_USED = "failed-when-used"


@dataclass(frozen=True)
class ChainIssue:
    """A source in a file's chain that does not hold up, while the file itself may.

    c2pa validates one file: an ingredient tampered after it was used leaves the file made
    from it "verified", and an ingredient already invalid when used shows only in the
    ingredient's own `validation_results`. `kind` says which: FAILS_ON_ITS_OWN (the
    source's file was verified too and fails) or FAILED_WHEN_USED (the file's credentials
    record that the ingredient failed validation when it was added).
    """

    source: str  # the source's key in the records (an asset path), else the ingredient title
    matched: bool  # `source` is a key of the records (a file that was verified)
    kind: str
    via: str  # the file whose ingredient or declared source it is
    direct: bool  # an ingredient or declared source of the file itself, not of a source
    verdict_label: str = ""  # FAILS_ON_ITS_OWN: the source's own verdict, e.g. "Tampered / invalid"
    detail: str = ""  # why, in words: the source's detail or the recorded codes
    codes: tuple[str, ...] = ()

    def describe(self) -> str:
        """E.g. "'raw/a.jpg' fails verification on its own (tampered / invalid: ...)"."""
        if self.kind == FAILS_ON_ITS_OWN:
            what = (f"'{self.source}' fails verification on its own "
                    f"({self.verdict_label.lower()}: {self.detail.rstrip('.')})")
        else:
            what = (f"'{self.source}' failed validation when it was used, as its "
                    f"credentials record ({', '.join(self.codes)})")
        return what if self.direct else f"{what}, a source of '{self.via}'"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, with the sentence `describe()` gives as `message`."""
        return {"source": self.source, "matched": self.matched, "kind": self.kind,
                "via": self.via, "direct": self.direct, "verdict_label": self.verdict_label,
                "detail": self.detail, "codes": list(self.codes), "message": self.describe()}


def chain_issues(
    start: str,
    records: Mapping[str, ProvenanceRecord],
    declared: Mapping[str, Sequence[str]] | None = None,
) -> list[ChainIssue]:
    """Every source upstream of `start` that does not hold up, nearest first, each once.

    `records` maps a key (an asset path, or a file path for `verify`) to its record. The
    chain is followed through the signed ingredients (an ingredient is the file whose own
    active manifest it carries) and, when given, the `declared` sources of each key
    (`derived_from`). `start`'s own verdict is not looked at: that is its verdict.
    """
    declared = declared or {}
    by_label = {r.active_manifest: k for k, r in records.items() if r.active_manifest}
    found: dict[str, ChainIssue] = {}
    seen = {start}
    queue = [start]
    while queue:
        node = queue.pop(0)
        record = records.get(node)
        direct = node == start
        sources: list[str] = list(declared.get(node, ()))
        for ingredient in record.ingredients if record else ():
            match = by_label.get(ingredient.active_manifest) if ingredient.active_manifest \
                else None
            if match is not None:
                sources.append(match)
            serious = tuple(c for c in ingredient.failure_codes if c != UNTRUSTED)
            key = match or ingredient.title or "(untitled)"
            broken_now = match is not None and _is_broken(records[match])
            if serious and not broken_now and key not in found and key != start:
                found[key] = ChainIssue(key, match is not None, FAILED_WHEN_USED, node,
                                        direct, codes=serious, detail=", ".join(serious))
        for source in sources:
            rec = records.get(source)
            if rec is not None and _is_broken(rec) and source not in found \
                    and source != start:
                found[source] = ChainIssue(source, True, FAILS_ON_ITS_OWN, node, direct,
                                           rec.verdict_label, rec.detail, rec.failure_codes)
            if source not in seen:
                seen.add(source)
                queue.append(source)
    return list(found.values())


def all_chain_issues(
    records: Mapping[str, ProvenanceRecord],
    declared: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[ChainIssue]]:
    """`chain_issues` of every key of `records`; keys without any are left out."""
    found = {key: chain_issues(key, records, declared) for key in records}
    return {key: issues for key, issues in found.items() if issues}


def describe_chain_issues(issues: Sequence[ChainIssue]) -> str:
    """E.g. "1 ingredient fails verification" (or "2 sources in its chain fail ...")."""
    n = len(issues)
    noun = ("ingredient" if all(i.direct for i in issues) else "source in its chain") \
        if n == 1 else ("ingredients" if all(i.direct for i in issues)
                        else "sources in its chain")
    return f"{n} {noun} fail{'s' if n == 1 else ''} verification"


# --------------------------------------------------------------------------- cross-check


def cross_check(project: Project, records: Mapping[str, ProvenanceRecord]) -> list[Problem]:
    """Warnings where the credentials of `project`'s assets disagree with its manifest.

    `records` maps `assets[].path` to that file's ProvenanceRecord; assets without a record
    are not checked (they were not verified). Findings are located at the most specific
    manifest position (`$.assets[3].derived_from[0]`, `$.model_card.models[1]`, ...).
    """
    checker = _Checker(project, records)
    checker.run()
    return sorted(checker.found)


class _Checker:
    """One pass over one project; collects located warnings in `found`."""

    def __init__(self, project: Project, records: Mapping[str, ProvenanceRecord]):
        self.project = project
        self.assets = project.manifest.assets
        self.records = records
        self.found: list[Problem] = []
        self.index = {a.path: i for i, a in reversed(list(enumerate(self.assets)))}

    def add(self, path: JsonPath, message: str) -> None:
        line, col = self.project.source.locate(path)
        self.found.append(
            Problem(self.project.manifest_file, line, col, WARNING, message, format_path(path))
        )

    def record(self, asset: Asset) -> ProvenanceRecord | None:
        return self.records.get(asset.path)

    def run(self) -> None:
        self.check_broken_sources()
        for i, asset in enumerate(self.assets):
            self.check_source_type(i, asset)
            self.check_chain(i, asset)
        self.check_models()

    # ----------------------------------------------------------------- broken files

    def check_broken_sources(self) -> None:
        """A tampered or unreadable source, at each `derived_from` link that uses it.

        The file's own verdict is reported by `verification` at its path; this says what it
        means for the chain: the derived file's credentials can still read as valid.
        """
        for k, user in enumerate(self.assets):
            for j, source in enumerate(user.derived_from):
                record = self.records.get(source)
                if record is not None and _is_broken(record):
                    self.add(
                        ("assets", k, "derived_from", j),
                        f"source '{source}' fails verification on its own "
                        f"({record.verdict_label.lower()}: {record.detail.rstrip('.')}); "
                        f"c2pa does not carry this into the credentials of '{user.path}'",
                    )

    # ----------------------------------------------------------------- source type

    def check_source_type(self, i: int, asset: Asset) -> None:
        """Declared generative AI vs credentials that say otherwise, and the reverse."""
        record = self.record(asset)
        if not asset.source_type or record is None or record.verdict not in _VALID:
            return
        if not record.digital_source_types:
            return  # e.g. an edit with no source type: nothing to contradict
        declared_ai = digital_source_type_uri(asset.source_type) in AI_SOURCE_TYPES
        if declared_ai == record.ai_generated:
            return
        said = ", ".join(_short_type(t) for t in record.digital_source_types)
        if declared_ai:
            message = (f"declared source_type '{asset.source_type}' (generative AI), but its "
                       f"credentials say {said} (not generative AI)")
        else:
            message = (f"declared source_type '{asset.source_type}' (not generative AI), but "
                       f"its credentials say {said} (generative AI)")
        self.add(("assets", i, "source_type"), message)

    # ----------------------------------------------------------------- declared chain

    def check_chain(self, i: int, asset: Asset) -> None:
        """Declared `derived_from` links against the ingredients in the credentials."""
        record = self.record(asset)
        if not asset.derived_from or record is None:
            return
        if record.verdict == NO_CREDENTIALS:
            # Said once per final that could carry credentials (not a memo or a notebook);
            # intermediates stay quiet, their finals already say it.
            if asset.role == "final" and can_carry_credentials(Path(record.path)):
                self.add(
                    ("assets", i, "derived_from"),
                    f"'{asset.path}' has no Content Credentials, so its declared sources "
                    "cannot be confirmed",
                )
            return
        if record.verdict not in _PARSED:
            return  # unreadable: reported on its own by `verification`
        if not record.ingredients:
            self.add(
                ("assets", i, "derived_from"),
                f"the credentials of '{asset.path}' list no ingredients, so none of its "
                f"{len(asset.derived_from)} declared source(s) is shown",
            )
            return
        matched = self.match_ingredients(i, asset, record)
        for j, source in enumerate(asset.derived_from):
            if j not in matched:
                self.add(
                    ("assets", i, "derived_from", j),
                    f"declared source '{source}' is not among the ingredients in the "
                    f"credentials of '{asset.path}'{self.why_unmatched(source)}",
                )

    def match_ingredients(self, i: int, asset: Asset, record: ProvenanceRecord) -> set[int]:
        """Match each ingredient to a declared source; report the ones that match none."""
        matched: set[int] = set()
        for ingredient in record.ingredients:
            j = self.find_source(asset.derived_from, ingredient, matched)
            if j is not None:
                matched.add(j)
                self.check_ingredient_codes(i, j, ingredient)
                continue
            where = ("assets", i, "derived_from")
            title = ingredient.title or "(untitled)"
            other = self.find_asset(ingredient)
            hint = (f"; it is the declared asset '{other}', add it to derived_from"
                    if other else "")
            self.add(where, f"the credentials of '{asset.path}' list ingredient '{title}', "
                            f"which is not a declared source{hint}")
        return matched

    def find_source(
        self, sources: list[str], ingredient: Ingredient, taken: set[int]
    ) -> int | None:
        """Index in `sources` of the file this ingredient is: by manifest label, else name."""
        label = ingredient.active_manifest
        for j, source in enumerate(sources):
            rec = self.records.get(source)
            if j not in taken and label and rec is not None and rec.active_manifest == label:
                return j
        if label:
            return None  # a signed ingredient must match by label, never by name alone
        for j, source in enumerate(sources):
            rec = self.records.get(source)
            unsigned = rec is None or not rec.active_manifest
            if j not in taken and unsigned and PurePosixPath(source).name == ingredient.title:
                return j
        return None

    def find_asset(self, ingredient: Ingredient) -> str | None:
        """The declared asset (anywhere in the project) this ingredient's label belongs to."""
        if not ingredient.active_manifest:
            return None
        for asset in self.assets:
            rec = self.records.get(asset.path)
            if rec is not None and rec.active_manifest == ingredient.active_manifest:
                return asset.path
        return None

    def why_unmatched(self, source: str) -> str:
        rec = self.records.get(source)
        if rec is not None and rec.active_manifest:
            return " (no ingredient carries its manifest: a different file, or a re-signed one)"
        if rec is not None and rec.verdict == NO_CREDENTIALS:
            return " (the source is unsigned and no ingredient has its file name)"
        return ""

    def check_ingredient_codes(self, i: int, j: int, ingredient: Ingredient) -> None:
        """An ingredient that was already invalid when the final was signed."""
        serious = [c for c in ingredient.failure_codes if c != UNTRUSTED]
        source = self.assets[i].derived_from[j]
        rec = self.records.get(source)
        if serious and not (rec is not None and _is_broken(rec)):  # else already reported
            self.add(
                ("assets", i, "derived_from", j),
                f"the credentials of '{self.assets[i].path}' record that ingredient "
                f"'{source}' failed validation when it was used: {', '.join(serious)}",
            )

    # ----------------------------------------------------------------- model card

    def check_models(self) -> None:
        """Models named by credentials vs `model_card.models`, in both directions."""
        models = self.project.manifest.model_card.models
        named: dict[str, tuple[str, list[int]]] = {}  # normalised -> (as written, assets)
        for i, asset in enumerate(self.assets):
            record = self.record(asset)
            for agent in _generating_agents(record) if record else ():
                key = _normalise(agent)
                if key:
                    named.setdefault(key, (agent, []))[1].append(i)
        for key, (agent, users) in named.items():
            if not any(_same_model(key, m) for m in models):
                self.report_unlisted_model(agent, users)
        if not named:
            return  # no credential names a model: silence is not evidence of absence
        for k, model in enumerate(models):
            if not any(_same_model(key, model) for key in named):
                self.add(
                    ("model_card", "models", k),
                    f"model '{model.name}' is in the model card, but no asset's credentials "
                    "name it as the generating software",
                )

    def report_unlisted_model(self, agent: str, users: list[int]) -> None:
        first = users[0]
        asset = self.assets[first]
        others = f" (and {len(users) - 1} more asset(s))" if len(users) > 1 else ""
        where = ("assets", first, "models") if asset.models else ("assets", first, "path")
        self.add(
            where,
            f"the credentials of '{asset.path}'{others} name '{agent}' as the generating "
            "software, but model_card.models has no matching entry",
        )


def _is_broken(record: ProvenanceRecord) -> bool:
    """Tampered, or unreadable for a reason other than a remote manifest we never fetch."""
    if record.verdict == TAMPERED:
        return True
    return record.verdict == UNREADABLE and not record.remote_manifest_url


def _short_type(uri: str) -> str:
    return uri[len(IPTC_SOURCE_TYPE):] if uri.startswith(IPTC_SOURCE_TYPE) else uri


def _generating_agents(record: ProvenanceRecord) -> tuple[str, ...]:
    """Software agents that made the content: of a `c2pa.created` or generative-AI manifest.

    The record keeps agents per manifest, not per action, so an edit-only manifest (say,
    Photoshop opening and editing a file) contributes nothing, and the claim generator (the
    tool that wrote the credentials, e.g. "evidencechain/0.1.0") is never a model.
    """
    if record.verdict not in _VALID:
        return ()
    if not (record.ai_generated or _CREATED in record.actions):
        return ()
    tool = _normalise((record.claim_generator or "").partition("/")[0])
    return tuple(a for a in record.software_agents if not tool or _normalise(a) != tool)


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _normalise(name: str) -> str:
    """Lowercase letters and digits only: "FLUX.1 [schnell]" -> "flux1schnell"."""
    return _NON_ALNUM.sub("", name.lower())


def _same_model(agent_key: str, model: Model) -> bool:
    """True when one name contains the other, after normalising (versions may be appended).

    "Stable Diffusion XL 1.0" (as signed: name and version) matches the model card's
    "Stable Diffusion XL"; "SDXL" does not, because abbreviations are not guessed.
    """
    key = _normalise(model.name)
    return bool(key) and (key in agent_key or agent_key in key)
