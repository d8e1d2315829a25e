"""Markdown for the site's pages, from validated manifests: pure text, no I/O.

Candidate prose (problem, approach, ...) is Markdown and goes in as written; short values
that land inside HTML (titles, captions, table cells) are escaped, so a stray `<` or `|`
cannot break the page layout.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import yaml

from .assets import Gap, PreparedAsset
from .audit import CodeAudit
from .chain import Completeness, is_filled
from .crosscheck import ChainIssue, chain_issues, describe_chain_issues, summarize
from .history import Commit, ProjectHistory
from .model import Asset, Candidate, Failure, Manifest, Project
from .provenance import VERIFIED, ProvenanceRecord
from .reproduce import REPRODUCED, RecordState
from .sanitize import render, render_inline
from .scoresheet import score_sheet
from .scoring import Rubric

KIND_LABELS = {"ml-engineering": "ML engineering", "ai-creative": "AI creative", "other": "Other"}
SOURCE_LABELS = {"client": "Client work", "side-project": "Side project",
                 "take-home": "Take-home"}
WORDS_PER_MINUTE = 220
NOT_DOCUMENTED = '<p class="ec-missing">Not documented by the candidate.</p>'


@dataclass(frozen=True)
class Receipt:
    """What the provenance verdicts were checked against, shown so reviewers can judge them."""

    trust_digest: str = ""
    trust_anchor_count: int = 0


@dataclass
class ProjectView:
    """Everything the project page shows, gathered by the earlier stages."""

    project: Project
    completeness: Completeness
    assets: dict[str, PreparedAsset] = field(default_factory=dict)
    provenance: dict[str, ProvenanceRecord] = field(default_factory=dict)
    receipt: Receipt = field(default_factory=Receipt)
    gaps: dict[tuple[str, str], Gap] = field(default_factory=dict)  # (source, final) -> gap
    history: ProjectHistory | None = None  # None: no git repository, no history section
    audit: CodeAudit | None = None  # the static code audit, shown under How to reproduce
    reproduction: RecordState | None = None  # the last `evidencechain reproduce` run
    rubric: Rubric | None = None  # what the score sheet at the end of the page scores
    blind: bool = False  # a blind-review build: identity already stripped by blind.py

    @property
    def manifest(self) -> Manifest:
        return self.project.manifest

    def cover(self) -> PreparedAsset | None:
        """The image that stands for the project: its first final image, else any image."""
        images = [a for a in self.assets.values() if a.is_image]
        finals = [a for a in images if a.asset.role == "final"]
        return (finals or images or [None])[0]


def h(text: object) -> str:
    """HTML-escape a short value for use inside tags or attributes."""
    return html.escape(str(text), quote=True)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!])")


def md_text(text: object) -> str:
    """A short value for a Markdown heading: HTML-escaped and with Markdown syntax escaped,
    so `[x](javascript:...)` in a title stays text instead of becoming a link."""
    # quote=False: quotes are harmless in heading text, and escaping them makes the
    # table of contents show `&#x27;` (it escapes the heading text once more).
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(" ".join(str(text).split()), quote=False))


def front_matter(**meta: object) -> str:
    """A YAML front-matter block (MkDocs reads title and description from it).

    Values are HTML-escaped here because Material's templates print them unescaped.
    """
    body = yaml.safe_dump({k: h(v) for k, v in meta.items() if v}, allow_unicode=True,
                          sort_keys=False, width=10_000)
    return f"---\n{body}---\n\n"


def section(title: str, body: str) -> str:
    """A level-2 section; an empty body says plainly that the evidence is missing."""
    return f"## {title}\n\n{body.strip() if body.strip() else NOT_DOCUMENTED}\n\n"


def prose(text: str | None) -> str:
    """Candidate Markdown as sanitized HTML, or nothing when empty or a placeholder."""
    return f'<div class="ec-prose">\n{render(text)}\n</div>\n' if is_filled(text) else ""


def inline(text: str) -> str:
    """One short candidate value (a constraint, an alternative) as sanitized inline HTML."""
    return render_inline(text)


def reading_minutes(markdown: str) -> int:
    """Estimated reading time of a page, at least one minute."""
    words = len(re.findall(r"\w+", re.sub(r"<[^>]+>", " ", markdown)))
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


# --- project page -------------------------------------------------------------------------

def project_page(view: ProjectView) -> str:
    """The case-study page: header, brief, then the sections in the order reviewers expect."""
    m = view.manifest
    cs = m.case_study
    body = (
        _header(view)
        + _brief(m)
        + section("Problem", prose(cs.problem))
        + section("Why it matters", prose(cs.why_it_matters))
        + section("Approach", prose(cs.approach))
        + section("Design decisions", _decisions(m))
        + section("Evaluation", prose(cs.evaluation) + _metrics_table(m))
        + section("Trade-offs", prose(cs.tradeoffs))
        + section("Iterations", _iterations(view))
        + _history(view)
        + section("Failures and fixes", _failures(m))
        + section("Model card", _model_card(m))
        + section("Assets", _assets(view) + _receipt(view))
        + section("Workflow", _workflow(m))
        + section("How to reproduce", _reproduce(view))
        + section("What I learned", prose(cs.learned))
        + _links(m)
    )
    minutes = reading_minutes(body)
    body = body.replace("{{reading_minutes}}", str(minutes), 1)
    return front_matter(title=m.title, description=m.summary) + body + score_sheet(view)


def _header(view: ProjectView) -> str:
    """Title, then the summary card a reviewer reads in ten seconds, then the work's facts."""
    m = view.manifest
    facts = [KIND_LABELS[m.kind], SOURCE_LABELS[m.source]]
    if m.dates:
        facts.append(f"{m.dates.start} – {m.dates.end or 'ongoing'}")
    if m.role:
        facts.append(m.role)
    meta = " · ".join(f"<span>{h(f)}</span>" for f in facts)
    return (f"# {md_text(m.title)}\n\n" + summary_card(view)
            + f'<p class="ec-facts">{meta}</p>\n\n' + _missing_links(view.completeness))


def summary_card(view: ProjectView) -> str:
    """Impact, targets vs achieved, provenance, completeness, models and reading time."""
    m = view.manifest
    c = view.completeness
    chain = (h(f"{c.percent}% complete ({len(c.links) - len(c.missing)} of {len(c.links)} "
               "links)") + _process_line(view))
    facts = [("Evidence chain", chain)]
    if view.provenance:
        facts.insert(0, ("Provenance", h(" · ".join(t for _, t in provenance_parts(view)))))
    if m.model_card.models:
        facts.append(("Models", h(" · ".join(f"{x.name} ({_licence_type(x.commercial_use)})"
                                             for x in m.model_card.models))))
    facts.append(("Reading time", "{{reading_minutes}} min"))
    rows = "".join(f"<div><dt>{h(k)}</dt><dd>{v}</dd></div>" for k, v in facts)
    metrics = m.brief.success_metrics if m.brief else []
    table = ""
    if metrics:
        cells = "".join(f"<tr><td>{h(s.name)}</td><td>{h(s.target)}</td>"
                        f"<td>{h(s.achieved or 'not reported')}</td>"
                        f"<td>{_met_badge(s.met)}</td></tr>" for s in metrics)
        table = ('<table class="ec-summary-metrics"><caption>Targets vs achieved</caption>'
                 "<thead><tr><th>Metric</th><th>Target</th><th>Achieved</th><th>Met</th></tr>"
                 f"</thead><tbody>{cells}</tbody></table>")
    return (f'<section class="ec-summary" aria-label="Summary">'
            f'<p class="ec-impact">{h(m.summary)}</p>'
            f'<div class="ec-summary-grid">{table}<dl class="ec-summary-facts">{rows}</dl></div>'
            "</section>\n\n")


def _process_line(view: ProjectView) -> str:
    """`<br>5 iterations · 3 failures fixed · 2 raw → final`, each linked to its section, so
    the work between raw and final is one click from the first screen."""
    m = view.manifest
    fixed = sum(1 for f in m.failures if is_filled(f.fix))
    finals = sum(1 for a in m.assets if a.role == "final" and a.derived_from
                 and a.path in view.assets)
    parts = [(len(m.iterations), "iteration", "iterations", "iterations"),
             (fixed, "failure fixed", "failures fixed", "failures-and-fixes"),
             (finals, "raw → final", "raw → final", "assets")]
    links = [f'<a href="#{anchor}">{count} {h(one if count == 1 else many)}</a>'
             for count, one, many, anchor in parts if count]
    return "<br>" + " · ".join(links) if links else ""


def _licence_type(commercial: bool | None) -> str:
    if commercial is None:
        return "licence terms not stated"
    return "commercial use" if commercial else "non-commercial"


def _missing_links(completeness: Completeness) -> str:
    missing = completeness.missing
    if not missing:
        return ""
    items = "\n".join(f"    - **{h(link.label)}**: {h(link.hint)}" for link in missing)
    return f'??? note "Missing from the evidence chain ({len(missing)})"\n\n{items}\n\n'


def _brief(m: Manifest) -> str:
    if not m.brief:
        return section("The brief", "")
    parts = [f"<blockquote>\n{render(m.brief.text)}\n</blockquote>\n"]
    if m.brief.constraints:
        parts.append("<p><strong>Constraints</strong></p>\n<ul>"
                     + "".join(f"<li>{inline(c)}</li>" for c in m.brief.constraints) + "</ul>\n")
    if m.brief.success_metrics:
        parts.append("<p><strong>Success metrics</strong></p>\n<ul>" + "".join(
            f"<li>{h(s.name)}: target {h(s.target)}</li>" for s in m.brief.success_metrics)
            + "</ul>\n")
    return section("The brief", "\n\n".join(parts))


def _decisions(m: Manifest) -> str:
    out = []
    for d in m.case_study.decisions:
        text = f"### {md_text(d.decision)}\n\n{prose(d.rationale)}"
        if d.alternatives:
            text += ("\n<p><em>Alternatives considered:</em> "
                     + "; ".join(inline(a) for a in d.alternatives) + "</p>\n")
        out.append(text)
    return "\n".join(out)


def _table(headers: list[str], rows: list[list[str]], css: str) -> str:
    """An HTML table; cells are pre-escaped HTML."""
    head = "".join(f"<th>{x}</th>" for x in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<div class="{css}">\n<table>\n<thead><tr>{head}</tr></thead>\n'
            f"<tbody>{body}</tbody>\n</table>\n</div>\n")


def _metrics_table(m: Manifest) -> str:
    metrics = m.brief.success_metrics if m.brief else []
    if not metrics:
        return ""
    rows = [[h(s.name), h(s.target), h(s.achieved or "not reported"), _met_badge(s.met)]
            for s in metrics]
    return "\n" + _table(["Metric", "Target", "Achieved", "Met"], rows, "ec-metrics")


def _met_badge(met: bool | None) -> str:
    if met is None:
        return '<span class="ec-badge ec-unknown">not stated</span>'
    return ('<span class="ec-badge ec-ok">met</span>' if met
            else '<span class="ec-badge ec-bad">not met</span>')


def _iterations(view: ProjectView) -> str:
    """The timeline: each iteration with its thumbnails, then the failures met in it."""
    failures_by_iteration: dict[str, list[Failure]] = {}
    for failure in view.manifest.failures:
        if failure.iteration:
            failures_by_iteration.setdefault(failure.iteration, []).append(failure)
    out = []
    for it in view.manifest.iterations:
        title = f"### {md_text(it.id)}" + (f" · {md_text(it.date)}" if it.date else "")
        fields = [("What changed", it.change), ("Why", it.why), ("Outcome", it.outcome)]
        if it.tools:
            fields.append(("Tools", ", ".join(it.tools)))
        thumbs = _thumb_strip([view.assets[p] for p in it.assets if p in view.assets])
        failures = "".join(_failure_callout(f) for f in failures_by_iteration.get(it.id, []))
        out.append(title + "\n\n" + _fields(fields) + thumbs + failures)
    return '<div class="ec-timeline" markdown>\n\n' + "\n".join(out) + "\n</div>\n"


def _history(view: ProjectView) -> str:
    """The "Process history" section, from git: how the work was committed, and by whom.

    Absent without a repository. Emails are matched to the candidate but never shown.
    """
    hist = view.history
    if hist is None:
        return ""
    if not hist.commits or hist.first is None or hist.last is None:
        return section("Process history", f"<p>No commit in {h(hist.repository)} touches "
                                          "this project's files yet.</p>\n")

    def commit_link(commit: Commit) -> str:
        url = hist.commit_url(commit.sha)
        code = f"<code>{h(commit.short)}</code>"
        return f'<a href="{h(url)}">{code}</a>' if url else code

    touched = f" touching {', '.join(f'<code>{h(s)}</code>' for s in hist.scope)}" \
        if hist.scope else ""
    whole = f" ({hist.repository_commits} in the whole repository)" if hist.scope else ""
    parts = [f'<p class="ec-history-summary">{hist.commits} commit(s){touched} on '
             f"{hist.active_days} active day(s), from {h(hist.first.date)} to "
             f"{h(hist.last.date)}, read from {h(hist.repository)}{whole}.</p>"]
    if hist.shallow or hist.truncated:
        why = ("the repository is a shallow clone" if hist.shallow
               else f"only the newest {hist.commits} commits were read")
        parts.append(f'<p class="ec-history-partial"><strong>History is partial:</strong> '
                     f"{why}, so earlier commits are not counted.</p>")
    others = [a for a in hist.authors if not a.is_candidate]
    listed = ", ".join(f"{h(a.name)} ({a.commits} commit(s), {a.lines} line(s))"
                       for a in others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5
                                               else "")
    if hist.identities_configured:
        lines_share = (f"{100 * hist.candidate_lines // hist.total_lines}%"
                       if hist.total_lines else "no line changes")
        parts.append(f'<p class="ec-authorship"><strong>Authorship:</strong> the candidate made '
                     f"{hist.candidate_commits} of {hist.commits} commits "
                     f"({100 * hist.candidate_commits // hist.commits}%) and "
                     f"{hist.candidate_lines} of {hist.total_lines} changed lines "
                     f"({lines_share})" + (f"; others: {listed}" if others else "") + ".</p>")
    else:
        parts.append(f'<p class="ec-authorship"><strong>Authors:</strong> {listed}. The '
                     "candidate has not named their git identities, so no share is "
                     "attributed.</p>")
    rows = [[h(e.commit.date), h(" · ".join(e.labels)), commit_link(e.commit),
             h(e.commit.subject)] for e in hist.timeline()]
    parts.append(_table(["Date", "Milestone", "Commit", "Message"], rows, "ec-history"))
    return section("Process history", "\n\n".join(parts))

def _failure_callout(failure: Failure) -> str:
    """A failure beside the iteration it happened in, paired with its fix."""
    fields = [("Symptom", failure.symptom), ("Fix", failure.fix or "none recorded"),
              ("Time lost", failure.time_lost)]
    return (f'\n<div class="admonition failure"><p class="admonition-title">Failure: '
            f"{_attr_text(failure.what_broke)}</p>\n{_fields(fields)}</div>\n\n")


def _fields(fields: list[tuple[str, str | None]]) -> str:
    """Labelled candidate values as a definition list; empty ones left out."""
    rows = "".join(f"<dt>{h(label)}</dt><dd>{render(value)}</dd>"
                   for label, value in fields if value and value.strip())
    return f'<dl class="ec-fields">{rows}</dl>\n\n'


def _attr_text(text: str) -> str:
    """Text safe inside an admonition title (one line, no double quotes)."""
    return h(" ".join(text.split()).replace('"', "'"))


def _failures(m: Manifest) -> str:
    if not m.failures:
        return ""
    rows = [[h(f.what_broke), h(f.symptom or ""), h(f.fix or "no fix recorded"),
             h(f.iteration or ""), h(f.time_lost or "")] for f in m.failures]
    return _table(["What broke", "Symptom", "Fix", "Iteration", "Time lost"], rows,
                  "ec-failures")


def _model_card(m: Manifest) -> str:
    card = m.model_card
    parts = []
    if card.models:
        rows = [[h(x.name), h(x.version or ""), h(x.provider or ""),
                 h(x.licence or "not stated"), _commercial(x.commercial_use)]
                for x in card.models]
        parts.append(_table(["Model", "Version", "Provider", "Licence", "Commercial use"],
                            rows, "ec-models"))
    for label, value in (("Intended use", card.intended_use), ("Data", card.data),
                         ("Limitations", card.limitations), ("Risks", card.risks),
                         ("Metrics", card.metrics)):
        if is_filled(value):
            parts.append(f"<p><strong>{label}</strong></p>\n{prose(value)}")
    return "\n".join(parts)


def _commercial(value: bool | None) -> str:
    if value is None:
        return "not stated"
    return "allowed" if value else "not allowed"


def _assets(view: ProjectView) -> str:
    m = view.manifest
    out = []
    anchors: set[str] = set()  # assets whose figure already carries their id
    finals = [a for a in m.assets if a.role == "final" and a.path in view.assets]
    for final in finals:
        sources = [p for p in final.derived_from if p in view.assets]
        name = PurePosixPath(final.path).name
        out.append(f"### Final: {md_text(name)}\n\n"
                   + _comparison(view, final.path, sources, anchors))
    shown = {a.path for a in finals} | {p for a in finals for p in a.derived_from}
    rest = [a.path for a in m.assets if a.path not in shown and a.path in view.assets]
    if rest:
        out.append("### Other files\n\n<div class=\"ec-grid\">\n"
                   + "".join(_figure(view, p, anchors) for p in rest) + "</div>\n")
    return "\n".join(out)


def _comparison(view: ProjectView, final: str, sources: list[str],
                anchors: set[str] | None = None) -> str:
    """Raw beside final (a slider once the script runs), the gap in words, other sources."""
    images = [p for p in sources if view.assets[p].is_image]
    raws = [p for p in images if view.assets[p].asset.role == "raw"]
    pair_source = (raws or images or [None])[0]
    if pair_source is None or not view.assets[final].is_image:
        return ('<div class="ec-grid">\n' + "".join(_figure(view, p, anchors) for p in sources)
                + _figure(view, final, anchors) + "</div>\n")
    out = ('<div class="ec-compare" data-ec-compare>\n' + _figure(view, pair_source, anchors)
           + _figure(view, final, anchors) + "</div>\n")
    gap = view.gaps.get((pair_source, final))
    if gap:
        out += (f'<p class="ec-gap"><strong>{h(view.assets[pair_source].asset.role.title())} '
                f"→ final:</strong> {h(gap.describe())}.</p>\n")
    others = [p for p in sources if p != pair_source]
    if others:
        out += ('<p class="ec-also">Also made from:</p>\n<div class="ec-grid">\n'
                + "".join(_figure(view, p, anchors) for p in others) + "</div>\n")
    return out


def asset_anchor(path: str) -> str:
    """The id of an asset's figure on its project page, e.g. "asset-raw-v4-seed-jpg"."""
    return "asset-" + (re.sub(r"[^0-9a-z]+", "-", path.lower()).strip("-") or "file")


def _figure(view: ProjectView, path: str, anchors: set[str] | None = None) -> str:
    item = view.assets[path]
    asset = item.asset
    caption = h(asset.caption or asset.path)
    role = f'<span class="ec-role">{h(asset.role)}</span>'
    ident = ""
    if anchors is not None and path not in anchors:  # the first figure of an asset only
        anchors.add(path)
        ident = f' id="{h(asset_anchor(path))}"'
    # `download`: an original (an SVG with a script, say) is saved, never opened as a page.
    link = (f'<a class="ec-original" href="{h(item.original_url)}" download>original '
            f"({_size(item.size_bytes)})</a>")
    if item.withheld:
        link = (f'<span class="ec-withheld">original withheld for blind review: '
                f"{h(item.withheld)}</span>")
    panel = provenance_panel(view.provenance.get(path), _ingredient_tree(view, path),
                             chain_issues_of(view, path), set(view.assets))
    if item.display is None and item.original_url.lower().endswith(".svg"):
        # An SVG is shown through <img>, where its scripts never run; never inlined, and
        # not linked for viewing (opened as a document, it would run on the site's origin).
        alt = h(asset.alt or asset.caption or asset.path)
        return (f'<figure class="ec-figure ec-svg"{ident}><img src="{h(item.original_url)}" '
                f'alt="{alt}" loading="lazy"><figcaption>{role} {caption} · {link}'
                f"</figcaption>{panel}</figure>\n")
    if item.display is None:
        return (f'<figure class="ec-figure ec-file"{ident}><figcaption>{role} '
                f"<code>{h(asset.path)}</code> {caption} · {link}</figcaption>{panel}</figure>\n")
    img = _img(item, asset, item.display.url, item.display.width, item.display.height)
    return (f'<figure class="ec-figure"{ident}><a class="ec-zoom" href="{h(item.display.url)}">'
            f"{img}</a><figcaption>{role} {caption} · {link}</figcaption>{panel}</figure>\n")


def chain_issues_of(view: ProjectView, path: str) -> list[ChainIssue]:
    """Sources upstream of `path` (signed ingredients and declared `derived_from`) that
    fail verification; the same findings `check` reports as cross-check warnings."""
    if path not in view.provenance:
        return []
    declared = {a.path: a.derived_from for a in view.manifest.assets}
    return chain_issues(path, view.provenance, declared)


def verdict_badge(record: ProvenanceRecord) -> str:
    """A small badge with the verdict in plain words."""
    return (f'<span class="ec-badge ec-verdict ec-v-{h(record.verdict)}">'
            f"{h(record.verdict_label)}</span>")


def provenance_panel(record: ProvenanceRecord | None, ingredient_tree: str = "",
                     issues: list[ChainIssue] | None = None,
                     linkable: set[str] | None = None) -> str:
    """Verdict badge plus, folded, the detail behind it: signer, AI, agents, ingredients.

    A source in the file's chain that fails verification (`issues`) is said beside the
    badge, never only in the folded part: the file's own verdict can read "Verified"
    while what it was made from is tampered.
    """
    if record is None:
        return ""
    issues = issues or []
    rows = [("Verdict", h(record.detail))]
    if record.signer_common_name or record.signer_issuer:
        rows.append(("Signer", h(" / ".join(x for x in (record.signer_common_name,
                                                         record.signer_issuer) if x))))
    if record.has_manifest:
        rows.append(("AI-generated", "yes" if record.ai_generated else "no"))
    optional = (("Source type", ", ".join(t.rsplit("/", 1)[-1]
                                          for t in record.digital_source_types)),
                ("Models / agents", ", ".join(record.software_agents)),
                ("Actions", ", ".join(record.actions)),
                ("Claim generator", record.claim_generator or ""),
                ("Failure codes", ", ".join(record.failure_codes)))
    rows.extend((label, h(value)) for label, value in optional if value)
    if ingredient_tree:
        rows.append(("Ingredients", ingredient_tree))
    table = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    summary = verdict_badge(record)
    if issues:
        summary += (f' <span class="ec-badge ec-chain-issue">'
                    f"{h(describe_chain_issues(issues))}</span>")
    return (f'<details class="ec-provenance"><summary>{summary}</summary>'
            f'<table class="ec-provenance-table">{table}</table></details>'
            + _chain_note(record, issues, linkable or set()))


def _chain_note(record: ProvenanceRecord, issues: list[ChainIssue], linkable: set[str]) -> str:
    """What is wrong upstream, in words, each failing source linked to its figure."""
    if not issues:
        return ""
    items = []
    for issue in issues:
        name = f"<code>{h(issue.source)}</code>"
        if issue.matched and issue.source in linkable:
            name = f'<a href="#{h(asset_anchor(issue.source))}">{name}</a>'
        if issue.kind == "fails-on-its-own":
            text = (f"{name}, checked on its own, is {h(issue.verdict_label.lower())}: "
                    f"{h(issue.detail)}")
        else:
            text = (f"{name} had already failed validation when it was used "
                    f"({h(', '.join(issue.codes))}), as this file's credentials record.")
        if not issue.direct:
            text += f" It is a source of <code>{h(issue.via)}</code>."
        items.append(f"<li>{text}</li>")
    own = {"verified": "This file itself is intact and its signature is valid",
           "unknown-signer": "This file itself is intact (signed by an unknown signer)"}.get(
        record.verdict, f"This file's own verdict is {h(record.verdict_label.lower())}")
    return (f'<div class="ec-chain-note" role="note"><p>{own}, but its chain has a problem '
            "(c2pa does not carry an ingredient's damage into the file made from it):</p>"
            f'<ul>{"".join(items)}</ul></div>')


def _ingredient_tree(view: ProjectView, path: str, depth: int = 0) -> str:
    """The signed ingredient tree, each ingredient matched to a declared asset where its
    manifest is that asset's own (with the asset's thumbnail and verdict)."""
    record = view.provenance.get(path)
    if record is None or not record.ingredients or depth > 3:
        return ""
    by_label = {r.active_manifest: p for p, r in view.provenance.items() if r.active_manifest}
    items = []
    for ingredient in record.ingredients:
        match = by_label.get(ingredient.active_manifest) if ingredient.active_manifest else None
        text = f"{h(ingredient.title)} <em>({h(ingredient.relationship)})</em>"
        if match and match in view.assets:
            item = view.assets[match]
            thumb = (_img(item, item.asset, item.thumb.url, item.thumb.width, item.thumb.height)
                     if item.thumb else "")
            text = (f"{thumb} {text}: declared as <code>{h(match)}</code> "
                    + verdict_badge(view.provenance[match])
                    + _ingredient_tree(view, match, depth + 1))
        elif not ingredient.has_provenance:
            text += " · no credentials of its own"
        items.append(f"<li>{text}</li>")
    return f'<ul class="ec-ingredients">{"".join(items)}</ul>'


def _receipt(view: ProjectView) -> str:
    records = list(view.provenance.values())
    if not records:
        return ""
    first = records[0]
    anchors = (f"{view.receipt.trust_anchor_count} trust anchor(s), set sha256 "
               f"<code>{h(view.receipt.trust_digest[:16])}…</code>"
               if view.receipt.trust_anchor_count else "no trust anchors (every signer unknown)")
    yourself = ("Download an original and verify it yourself: <code>evidencechain verify "
                "FILE</code>.")
    if view.blind:  # the anchors' digest would tie the site to the candidate's public one
        anchors = f"{view.receipt.trust_anchor_count} trust anchor(s)"
        yourself = ("Signer names are hidden and signed originals withheld for blind review; "
                    "the verdicts are the ones the credentials gave.")
    return (f'\n<p class="ec-receipt">Content Credentials checked with {h(first.c2pa_version)} '
            f"at {h(first.verified_at)} against {anchors}. {yourself}</p>\n")


def _img(item: PreparedAsset, asset: Asset, url: str, width: int, height: int) -> str:
    alt = h(asset.alt or asset.caption or asset.path)
    return (f'<img src="{h(url)}" alt="{alt}" width="{width}" height="{height}" '
            'loading="lazy" decoding="async">')


def _thumb_strip(items: list[PreparedAsset]) -> str:
    thumbs = [f'<a class="ec-zoom" href="{h(i.display.url)}">'
              + _img(i, i.asset, i.thumb.url, i.thumb.width, i.thumb.height) + "</a>"
              for i in items if i.display and i.thumb]
    return f'<div class="ec-thumbs">{"".join(thumbs)}</div>\n' if thumbs else ""


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _workflow(m: Manifest) -> str:
    if not m.workflow:
        return ""
    rows = [[h(w.tool), h(w.stage or ""), h(w.purpose or "")] for w in m.workflow]
    return _table(["Tool", "Stage", "Purpose"], rows, "ec-workflow")


def _reproduce(view: ProjectView) -> str:
    """Where the code is, the last reproduction's badge, the commands, claims and audit."""
    m = view.manifest
    parts = []
    if m.repo:
        if m.repo.url:
            parts.append(f'Code: <a href="{h(m.repo.url)}">{h(m.repo.url)}</a>'
                         + (f" at commit `{m.repo.commit}`" if m.repo.commit else ""))
        elif m.repo.path:
            parts.append(f"Code: <code>{h(m.repo.path)}</code> in the candidate's workspace"
                         + (f" at commit `{m.repo.commit}`" if m.repo.commit else ""))
    if view.reproduction:
        parts.append(reproduction_badge(view.reproduction))
    r = m.reproduce
    # What the run covers (often sample data, not the headline's) sits right under the badge.
    if r and is_filled(r.environment):
        parts.append(f"<p><strong>Environment</strong></p>\n{prose(r.environment)}")
    if r and r.expected:
        parts.append(_claims_table(view))
    if r and r.commands:
        # Escaped HTML, not a Markdown fence: a command holding ``` must not end the block.
        commands = "\n".join(r.commands)
        parts.append(f'<div class="highlight"><pre><code>{h(commands)}</code></pre></div>')
    if view.audit and view.audit.findings:
        parts.append(audit_checklist(view.audit))
    return "\n\n".join(parts)


def reproduction_badge(state: RecordState) -> str:
    """The badge a reviewer trusts or not: outcome, time, date, log one click away."""
    record = state.record
    css = ("ec-ok" if record.ok else
           "ec-unknown" if record.status == "passed" and record.reproduced else "ec-bad")
    badge = f'<span class="ec-badge {css}">{h(record.headline())}</span>'
    if state.stale:
        badge += ' <span class="ec-badge ec-unknown">stale</span>'
    if state.log_ok:
        links = (f' · <a href="{h(record.log_file)}">log</a>'
                 ' · <a href="reproduction.json">record</a>')
    else:
        links = ' · <span class="ec-badge ec-bad">log missing or altered</span>'
    detail = (f"Run by <code>evidencechain reproduce</code> on {h(record.source.path)} at "
              f"{h(record.source.describe())}, Python {h(record.tools.get('python', '?'))}, "
              f"evidencechain {h(record.tools.get('evidencechain', '?'))}. "
              f"Isolation: {h(record.isolation.describe())}.")
    stale = (f'<p class="ec-stale">Stale: {h("; ".join(state.stale_reasons))}. The result '
             "may no longer hold for the code or claims shown here.</p>"
             if state.stale else "")
    return (f'<div class="ec-reproduction"><p>{badge}{links}</p>'
            f'<p class="ec-reproduction-detail">{detail}</p>{stale}</div>')


def _claims_table(view: ProjectView) -> str:
    expected = view.manifest.reproduce.expected
    results = {x.name: x for x in view.reproduction.record.metrics} if view.reproduction else {}
    rows = []
    for name, e in expected.items():
        row = [h(name), h(f"{e.value:g}"), h(f"± {e.tolerance:g}" if e.tolerance else "exact")]
        if view.reproduction:
            got = results.get(name)
            value = "" if got is None or got.value is None else f"{got.value:g}"
            row += [h(value), _outcome_badge(got.outcome if got else "not run")]
        rows.append(row)
    headers = ["Metric", "Claimed", "Tolerance"]
    if view.reproduction:
        headers += ["Reproduced", "Outcome"]
    return _table(headers, rows, "ec-expected")


def _outcome_badge(outcome: str) -> str:
    css = "ec-ok" if outcome == REPRODUCED else "ec-bad"
    return f'<span class="ec-badge {css}">{h(outcome)}</span>'


def audit_checklist(audit: CodeAudit) -> str:
    """What a reviewer checks in the first five minutes, found or missing, with the file."""
    items = "".join(
        f'<li class="{"ec-found" if f.found else "ec-absent"}">'
        f'<span class="ec-badge {"ec-ok" if f.found else "ec-bad"}">'
        f'{"found" if f.found else "missing"}</span> <strong>{h(f.label)}</strong>: '
        f"{h(f.evidence)}</li>" for f in audit.findings)
    where = f" of <code>{h(audit.repo)}</code>" if audit.repo else ""
    return (f'<div class="ec-audit"><p><strong>Static audit</strong>{where} (files read by '
            f"<code>evidencechain check</code>, nothing run)</p><ul>{items}</ul></div>")


def _links(m: Manifest) -> str:
    links = [(label, url) for label, url in (("Screencast", m.links.screencast),
                                             ("Demo", m.links.demo),
                                             ("Write-up", m.links.writeup)) if url]
    if not links:
        return ""
    items = "".join(f'<li><a href="{h(url)}">{label}</a></li>' for label, url in links)
    return f"## Links\n\n<ul>{items}</ul>\n"


# --- index and vision -----------------------------------------------------------------------

def index_page(candidate: Candidate, views: list[ProjectView], title: str) -> str:
    """The shortlist page: who the candidate is, then one card per project."""
    links = " · ".join(f'<a href="{h(link.url)}">{h(link.label)}</a>' for link in candidate.links)
    cards = "".join(_card(v) for v in views)
    return (front_matter(title=title, description=candidate.headline)
            + f"# {md_text(candidate.name)}\n\n"
            + f'<p class="ec-headline">{h(candidate.headline)}</p>\n\n'
            + (f'<p class="ec-links">{links}</p>\n\n' if links else "")
            + ("[Read my vision](vision.md)\n\n" if is_filled(candidate.vision) else "")
            + f"## Projects\n\n<div class=\"ec-cards\">\n{cards}</div>\n")


def _card(view: ProjectView) -> str:
    m = view.manifest
    cover = view.cover()
    image = ""
    if cover and cover.thumb:
        image = _img(cover, cover.asset, f"projects/{view.project.slug}/{cover.thumb.url}",
                     cover.thumb.width, cover.thumb.height)
    return (f'<a class="ec-card" href="projects/{h(view.project.slug)}/index.html">{image}'
            f'<span class="ec-card-body"><span class="ec-card-title">{h(m.title)}</span>'
            f'<span class="ec-card-summary">{h(m.summary)}</span>'
            f'<span class="ec-card-badges"><span class="ec-badge">{h(KIND_LABELS[m.kind])}</span>'
            f'<span class="ec-badge">{h(SOURCE_LABELS[m.source])}</span>'
            f'<span class="ec-badge ec-chain">{view.completeness.percent}% complete</span>'
            + _card_provenance(view)
            + "</span></span></a>\n")


def provenance_parts(view: ProjectView) -> list[tuple[str, str]]:
    """The provenance summary of a project, as (verdict, words) pieces: the verdict counts,
    then how many files read as valid themselves but were made from a failing source."""
    parts = summarize(view.provenance.values()).parts()
    upstream = sum(bool(chain_issues_of(view, a.path)) for a in view.manifest.assets
                   if a.path in view.provenance)
    if upstream:
        parts.append(("chain", f"{upstream} made from a source that fails verification"))
    return parts


def _card_provenance(view: ProjectView) -> str:
    """The project card's provenance summary on the index: the same words as the summary
    card on the project page, every bad verdict in a badge of its own."""
    if not summarize(view.provenance.values()).total:
        return ""
    css = {"": "", VERIFIED: "", "chain": " ec-chain-issue"}
    return "".join(f'<span class="ec-badge{css.get(v, f" ec-v-{h(v)}")}">{h(text)}</span>'
                   for v, text in provenance_parts(view))


def vision_page(candidate: Candidate) -> str:
    """The candidate's vision statement as its own page."""
    return (front_matter(title="Vision", description=candidate.headline)
            + "# Vision\n\n" + (prose(candidate.vision) or NOT_DOCUMENTED) + "\n")
