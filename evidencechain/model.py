"""Typed domain objects for validated manifests.

Field names mirror the JSON Schema in `schemas/` one to one (a test checks that they do), so
the schema stays the single source of truth for what a manifest may hold: these classes add
types for the code that reads them, never new rules.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .yamlsource import YamlDocument


@dataclass(frozen=True)
class Dates:
    start: str
    end: str | None = None


@dataclass(frozen=True)
class SuccessMetric:
    name: str
    target: str
    achieved: str | None = None
    met: bool | None = None


@dataclass(frozen=True)
class Brief:
    text: str
    constraints: list[str] = field(default_factory=list)
    success_metrics: list[SuccessMetric] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    decision: str
    rationale: str
    alternatives: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CaseStudy:
    problem: str | None = None
    why_it_matters: str | None = None
    approach: str | None = None
    decisions: list[Decision] = field(default_factory=list)
    evaluation: str | None = None
    tradeoffs: str | None = None
    learned: str | None = None


@dataclass(frozen=True)
class Iteration:
    id: str
    change: str
    date: str | None = None
    why: str | None = None
    outcome: str | None = None
    assets: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    commit: str | None = None


@dataclass(frozen=True)
class Failure:
    what_broke: str
    symptom: str | None = None
    fix: str | None = None
    iteration: str | None = None
    time_lost: str | None = None


@dataclass(frozen=True)
class Model:
    name: str
    version: str | None = None
    provider: str | None = None
    licence: str | None = None
    commercial_use: bool | None = None


@dataclass(frozen=True)
class ModelCard:
    models: list[Model] = field(default_factory=list)
    intended_use: str | None = None
    data: str | None = None
    limitations: str | None = None
    risks: str | None = None
    metrics: str | None = None


@dataclass(frozen=True)
class Asset:
    path: str
    role: str
    derived_from: list[str] = field(default_factory=list)
    caption: str | None = None
    alt: str | None = None
    source_type: str | None = None
    models: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WorkflowStep:
    tool: str
    stage: str | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class Repo:
    url: str | None = None
    path: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class ExpectedResult:
    value: float
    tolerance: float | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Reproduce:
    commands: list[str] = field(default_factory=list)
    environment: str | None = None
    result_file: str | None = None
    expected: dict[str, ExpectedResult] = field(default_factory=dict)


@dataclass(frozen=True)
class Monitoring:
    data_drift: str | None = None
    label_distribution: str | None = None
    latency_slo: str | None = None
    cost_anomaly: str | None = None
    rollback: str | None = None


@dataclass(frozen=True)
class Links:
    screencast: str | None = None
    demo: str | None = None
    writeup: str | None = None


@dataclass(frozen=True)
class Manifest:
    """One `evidence.yml`, as written by the candidate."""

    schema_version: int
    title: str
    summary: str
    kind: str
    source: str
    slug: str | None = None
    role: str | None = None
    dates: Dates | None = None
    brief: Brief | None = None
    case_study: CaseStudy = field(default_factory=CaseStudy)
    iterations: list[Iteration] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    model_card: ModelCard = field(default_factory=ModelCard)
    assets: list[Asset] = field(default_factory=list)
    workflow: list[WorkflowStep] = field(default_factory=list)
    repo: Repo | None = None
    reproduce: Reproduce | None = None
    monitoring: Monitoring = field(default_factory=Monitoring)
    links: Links = field(default_factory=Links)
    rubric: str | None = None


@dataclass(frozen=True)
class CandidateLink:
    label: str
    url: str


@dataclass(frozen=True)
class Candidate:
    name: str
    headline: str
    vision: str | None = None
    location: str | None = None
    links: list[CandidateLink] = field(default_factory=list)
    git_identities: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SiteOptions:
    title: str | None = None
    url: str | None = None
    language: str | None = None
    projects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProvenanceOptions:
    trust_anchors: list[str] = field(default_factory=list)
    allowed_ekus: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewOptions:
    rubric: str | None = None
    blind: bool = False
    alias: str | None = None
    hide: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WorkspaceConfig:
    """The workspace's `evidencechain.yml`."""

    schema_version: int
    candidate: Candidate
    site: SiteOptions = field(default_factory=SiteOptions)
    provenance: ProvenanceOptions = field(default_factory=ProvenanceOptions)
    review: ReviewOptions = field(default_factory=ReviewOptions)


@dataclass
class Project:
    """A loaded project: its manifest, where it lives, and where each value was written."""

    slug: str
    folder: Path
    manifest_file: PurePosixPath  # relative to the workspace, for messages
    manifest: Manifest
    source: YamlDocument

    def asset_file(self, asset_path: str) -> Path:
        """The file on disk behind an `assets[].path`."""
        return self.folder / asset_path


@dataclass
class Workspace:
    """A whole validated workspace, in display order."""

    root: Path
    config: WorkspaceConfig
    config_source: YamlDocument
    projects: list[Project]


def from_data(cls: type, data: Any) -> Any:
    """Build dataclass `cls` from schema-valid data, recursing by the field types."""
    converters = _field_converters(cls)
    return cls(**{key: converters[key](value) for key, value in data.items()
                  if key in converters})


@functools.cache
def field_types(cls: type) -> types.MappingProxyType:
    """The resolved type of each dataclass field of `cls`, by name (read-only).

    Resolved once per class: `typing.get_type_hints` evaluates every annotation string each
    time it is called, which was most of the time spent loading manifests.
    """
    hints = typing.get_type_hints(cls)
    return types.MappingProxyType({f.name: hints[f.name] for f in dataclasses.fields(cls)})


@functools.cache
def _field_converters(cls: type) -> dict[str, Callable[[Any], Any]]:
    return {name: _converter(hint) for name, hint in field_types(cls).items()}


def _identity(value: Any) -> Any:
    return value


@functools.cache
def _converter(hint: Any) -> Callable[[Any], Any]:
    """A function turning schema-valid data into a value of type `hint` (None stays None).

    Worked out once per type, not once per value: a workspace has tens of thousands of
    values and asking typing about each one's type was a fifth of loading it.
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _converter(inner[0])
    if origin is list:
        item = _converter(typing.get_args(hint)[0])
        return lambda value: None if value is None else [item(v) for v in value]
    if origin is dict:
        item = _converter(typing.get_args(hint)[1])
        return lambda value: None if value is None else {k: item(v) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return lambda value: None if value is None else from_data(hint, value)
    if hint is float:
        return lambda value: float(value) if isinstance(value, int) else value
    return _identity
