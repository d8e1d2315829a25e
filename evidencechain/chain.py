"""Completeness of an evidence chain: which links a reviewer needs are present.

Each link is a small predicate over the manifest with a one-line hint saying how to add it.
Empty strings and placeholder text ("TBD", "lorem ipsum", ...) count as missing, because a
reviewer cannot score a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .model import Manifest

# Whole-value placeholders (compared after lowering and trimming punctuation).
_PLACEHOLDER_VALUES = {
    "tbd", "tba", "todo", "to do", "tbc", "n/a", "na", "none", "-", "--", "?", "...", "xxx",
    "placeholder", "fill in", "fill me in", "coming soon", "wip", "more information needed",
}
# Phrases that mark template text wherever they appear.
_PLACEHOLDER_PHRASE = re.compile(r"lorem ipsum|more information needed|\[insert\b|<insert\b",
                                 re.IGNORECASE)
MIN_ITERATIONS = 2


def is_filled(text: str | None) -> bool:
    """True when `text` says something: not empty, not a placeholder."""
    if text is None:
        return False
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.lower().strip(" .!:") in _PLACEHOLDER_VALUES or stripped.lower() in \
            _PLACEHOLDER_VALUES:
        return False
    return not _PLACEHOLDER_PHRASE.search(stripped)


@dataclass(frozen=True)
class ChainLink:
    """One piece of evidence the chain should hold."""

    key: str
    label: str
    present: bool
    hint: str


@dataclass(frozen=True)
class Completeness:
    """The links that apply to a project and how many of them are present."""

    links: tuple[ChainLink, ...]

    @property
    def percent(self) -> int:
        """Share of applicable links present, rounded down to a whole percent."""
        if not self.links:
            return 100
        return 100 * sum(link.present for link in self.links) // len(self.links)

    @property
    def missing(self) -> list[ChainLink]:
        """The links still to add, in chain order."""
        return [link for link in self.links if not link.present]


@dataclass(frozen=True)
class _Rule:
    key: str
    label: str
    hint: str
    test: Callable[[Manifest], bool]
    applies: Callable[[Manifest], bool] = lambda m: True


def _brief_complete(m: Manifest) -> bool:
    b = m.brief
    return bool(b and is_filled(b.text) and any(map(is_filled, b.constraints))
                and any(is_filled(s.name) and is_filled(s.target) for s in b.success_metrics))


def _results_reported(m: Manifest) -> bool:
    metrics = m.brief.success_metrics if m.brief else []
    return bool(metrics) and all(is_filled(s.achieved) for s in metrics)


def _annotated_iterations(m: Manifest) -> bool:
    annotated = [i for i in m.iterations if is_filled(i.change) and is_filled(i.why)
                 and is_filled(i.outcome)]
    return len(annotated) >= MIN_ITERATIONS


def _failure_with_fix(m: Manifest) -> bool:
    return any(is_filled(f.what_broke) and is_filled(f.fix) for f in m.failures)


def _raw_beside_final(m: Manifest) -> bool:
    roles = {a.path: a.role for a in m.assets}
    return any(a.role == "final" and any(roles.get(src) == "raw" for src in a.derived_from)
               for a in m.assets)


def _model_card_complete(m: Manifest) -> bool:
    models = m.model_card.models
    return bool(models) and all(is_filled(x.name) and is_filled(x.licence) for x in models)


def _case_study(m: Manifest) -> bool:
    c = m.case_study
    return all(map(is_filled, (c.problem, c.why_it_matters, c.approach)))


def _reproducible(m: Manifest) -> bool:
    r = m.reproduce
    return bool(r and any(map(is_filled, r.commands)) and is_filled(r.environment))


RULES: tuple[_Rule, ...] = (
    _Rule("brief", "Brief with constraints and success metrics",
          "add brief.text, brief.constraints and brief.success_metrics (name + target)",
          _brief_complete),
    _Rule("case_study", "Problem, why it matters and approach",
          "fill case_study.problem, why_it_matters and approach", _case_study),
    _Rule("results", "Achieved result for every success metric",
          "give each brief.success_metrics entry an 'achieved' value", _results_reported),
    _Rule("iterations", f"At least {MIN_ITERATIONS} annotated iterations",
          "give iterations a change, why and outcome each", _annotated_iterations),
    _Rule("failures", "A failure with its fix",
          "log at least one failure with what_broke and fix", _failure_with_fix),
    _Rule("raw_final", "Raw output beside the final asset",
          "declare a final asset with derived_from pointing at a raw asset", _raw_beside_final),
    _Rule("model_card", "Model card naming every model with its licence",
          "list model_card.models, each with name and licence", _model_card_complete),
    _Rule("workflow", "Workflow and tools",
          "list the tools in workflow (tool, stage, purpose)",
          lambda m: any(is_filled(w.tool) for w in m.workflow)),
    _Rule("decisions", "Design decisions with rationale",
          "add case_study.decisions with decision and rationale",
          lambda m: any(is_filled(d.rationale) for d in m.case_study.decisions)),
    _Rule("tradeoffs", "Trade-offs", "write case_study.tradeoffs",
          lambda m: is_filled(m.case_study.tradeoffs)),
    _Rule("learned", "What was learned", "write case_study.learned",
          lambda m: is_filled(m.case_study.learned)),
    _Rule("reproduce", "Reproduction (commands and environment)",
          "add reproduce.commands and reproduce.environment", _reproducible,
          applies=lambda m: m.kind == "ml-engineering"),
)


@dataclass(frozen=True)
class Observed:
    """What the code audit (audit.py) found for one audited link, and the detail why."""

    found: bool
    detail: str = ""


@dataclass(frozen=True)
class _AuditedLink:
    key: str
    label: str
    hint: str
    applies: Callable[[Manifest], bool]


def _has_repo_path(m: Manifest) -> bool:
    return bool(m.repo and m.repo.path)


def _is_ml(m: Manifest) -> bool:
    return m.kind == "ml-engineering"


# What a reviewer checks in the first five minutes. The code audit observes these (in the
# repository at repo.path, or for ML projects in the manifest), so they join the chain only
# when `assess` is given the audit's observations, as `check` and `build` do.
AUDITED_LINKS: tuple[_AuditedLink, ...] = (
    _AuditedLink("pinned_deps", "Dependencies pinned",
                 "pin exact versions with == in requirements files, or commit a lock file "
                 "such as uv.lock, poetry.lock or Pipfile.lock", _has_repo_path),
    _AuditedLink("run_script", "Run script or container recipe",
                 "add run.sh, a Makefile target, a Dockerfile or a compose file",
                 _has_repo_path),
    _AuditedLink("readme_steps", "README with reproduction steps",
                 "add a README with a 'Reproduce' or 'Usage' section giving the commands",
                 _has_repo_path),
    _AuditedLink("tests", "Tests in the repository",
                 "add tests: test_*.py files or a tests/ folder", _has_repo_path),
    _AuditedLink("tradeoff_memo", "Trade-off memo naming two failure modes",
                 "write memo.md or case_study.tradeoffs naming at least two ways it fails",
                 _has_repo_path),
    _AuditedLink("monitoring", "Monitoring plan",
                 "add monitoring: data_drift, label_distribution, latency_slo, cost_anomaly "
                 "and rollback", _is_ml),
    _AuditedLink("model_card_use", "Model card: intended use and limitations",
                 "fill model_card.intended_use and model_card.limitations", _is_ml),
)


def assess(manifest: Manifest, observed: Mapping[str, Observed] | None = None) -> Completeness:
    """Which links of the evidence chain `manifest` holds.

    `observed` holds the code audit's findings by link key; without it the audited links
    are left out, because nothing was looked at.
    """
    links = [ChainLink(rule.key, rule.label, rule.test(manifest), rule.hint)
             for rule in RULES if rule.applies(manifest)]
    if observed is not None:
        for link in AUDITED_LINKS:
            if not link.applies(manifest):
                continue
            seen = observed.get(link.key, Observed(False, "not audited"))
            hint = f"{seen.detail}; {link.hint}" if seen.detail and not seen.found else link.hint
            links.append(ChainLink(link.key, link.label, seen.found, hint))
    return Completeness(tuple(links))
