"""Domain values: resources, adapter reports, conditions, entity descriptors.

Frozen dataclasses and StrEnums only; no I/O, no clock. Timestamps are timezone-aware UTC
`datetime`s supplied by the caller (services read the clock, the domain never does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

JSON = Any
"""A decoded JSON value (dict, list, str, int, float, bool or None)."""

SYSTEM_ACTOR = "system@hyperfleet.local"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class OnParentDelete(StrEnum):
    CASCADE = "cascade"
    RESTRICT = "restrict"


@dataclass(frozen=True, slots=True)
class AdapterCondition:
    """One condition inside an adapter's report (Available, Applied, Health, Finalized, …)."""

    type: str
    status: ConditionStatus
    reason: str | None
    message: str | None
    last_transition_time: datetime


@dataclass(frozen=True, slots=True)
class AdapterReport:
    """The stored, latest accepted report of one adapter for one resource."""

    adapter: str
    observed_generation: int
    conditions: tuple[AdapterCondition, ...]
    created_time: datetime
    last_report_time: datetime
    data: dict[str, JSON] | None = None
    metadata: dict[str, JSON] | None = None
    last_known: AdapterReport | None = None
    """While this report's Available is Unknown: the adapter's latest earlier report whose
    Available was True or False. The reference conditions use it, so a report that only says
    "working on the new generation" does not erase the last known state (sticky
    LastKnownReconciled), as the reference's discard rule guarantees."""

    def condition(self, type_: str) -> AdapterCondition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    def status_of(self, type_: str) -> ConditionStatus | None:
        cond = self.condition(type_)
        return None if cond is None else cond.status


@dataclass(frozen=True, slots=True)
class ResourceCondition:
    """An aggregated condition on a resource; status is only True or False."""

    type: str
    status: ConditionStatus
    reason: str | None
    message: str | None
    observed_generation: int
    created_time: datetime
    last_updated_time: datetime
    last_transition_time: datetime


DEFAULT_PROGRESSING_REASONS: tuple[str, ...] = (
    "Progressing",
    "JobRunning",
    "InProgress",
    "Provisioning",
)


class GenerationPolicy(StrEnum):
    """How a kind treats reports whose observed_generation does not match (post-MVP §3.2)."""

    STRICT = "strict"
    DISCARD = "discard"
    LENIENT = "lenient"


class ReasonFormat(StrEnum):
    CAMEL_CASE = "camel_case"
    FREE = "free"


class Validator(Protocol):
    """A compiled JSON Schema (jsonschema's validators satisfy it)."""

    def iter_errors(self, instance: Any) -> Any: ...


class Program(Protocol):
    """A compiled expression (a CEL program)."""

    def execute(self, context: dict[str, Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class AdapterRules:
    """Per-adapter contract from the aggregation config (`adapters.<name>`)."""

    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    progressing_reasons: tuple[str, ...] = DEFAULT_PROGRESSING_REASONS
    data_schema: Mapping[str, Any] | None = None
    data_validator: Validator | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ConfiguredCondition:
    """A `conditions[]` entry of the aggregation config, compiled at load."""

    type: str
    status_expr: str
    reason_expr: str | None = None
    message_expr: str | None = None
    status: Program | None = field(default=None, compare=False)
    reason: Program | None = field(default=None, compare=False)
    message: Program | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class EntityDescriptor:
    """How one entity kind behaves: routes, parent, adapters, name rules, status engine."""

    kind: str
    plural: str
    parent_kind: str | None = None
    on_parent_delete: OnParentDelete = OnParentDelete.CASCADE
    required_adapters: tuple[str, ...] = ()
    name_min_len: int = 1
    name_max_len: int = 100
    spec_schema_name: str | None = None
    # Post-MVP status engine (aggregation configuration).
    optional_adapters: tuple[str, ...] = ()
    validation_adapters: tuple[str, ...] | None = None
    """None means `[validation]` when the kind declares a `validation` adapter, else none."""
    adapter_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    generation_policy: GenerationPolicy = GenerationPolicy.STRICT
    strict_adapters: bool = False
    reason_format: ReasonFormat = ReasonFormat.CAMEL_CASE
    adapters: Mapping[str, AdapterRules] = field(default_factory=dict)
    conditions: tuple[ConfiguredCondition, ...] = ()

    @property
    def is_child(self) -> bool:
        return self.parent_kind is not None

    @property
    def declared_adapters(self) -> tuple[str, ...]:
        """Required then optional adapters, in config order."""
        return self.required_adapters + tuple(
            a for a in self.optional_adapters if a not in self.required_adapters
        )

    @property
    def effective_validation_adapters(self) -> tuple[str, ...]:
        if self.validation_adapters is not None:
            return self.validation_adapters
        return ("validation",) if "validation" in self.declared_adapters else ()

    def progressing_reasons(self, adapter: str) -> tuple[str, ...]:
        rules = self.adapters.get(adapter)
        return rules.progressing_reasons if rules is not None else DEFAULT_PROGRESSING_REASONS


class Phase(StrEnum):
    DELETING = "Deleting"
    DEGRADED = "Degraded"
    FAILED = "Failed"
    READY = "Ready"
    PROVISIONING = "Provisioning"
    PENDING = "Pending"


@dataclass(frozen=True, slots=True)
class PhaseRecord:
    """A resource's stored phase, with the time it was entered."""

    phase: Phase
    reason: str
    message: str
    last_transition_time: datetime


@dataclass(frozen=True, slots=True)
class AdapterSummary:
    """One entry of `status.adapters[]`."""

    adapter: str
    state: str
    required: bool
    observed_generation: int | None
    last_report_time: datetime | None
    blocked_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource:
    """A Cluster, NodePool or any configured kind, with its aggregated conditions."""

    id: str
    kind: str
    name: str
    href: str
    spec: dict[str, JSON]
    labels: dict[str, str]
    generation: int
    created_time: datetime
    updated_time: datetime
    created_by: str
    updated_by: str
    owner_id: str | None = None
    owner_kind: str | None = None
    owner_href: str | None = None
    deleted_time: datetime | None = None
    deleted_by: str | None = None
    conditions: tuple[ResourceCondition, ...] = field(default=())
    phase: PhaseRecord | None = None
    adapters: tuple[AdapterSummary, ...] = ()
    tenancy: dict[str, str] = field(default_factory=dict)
    """The tenant's dimension values (`{}` when created without tenancy); children inherit it."""

    @property
    def is_deleting(self) -> bool:
        return self.deleted_time is not None

    def condition(self, type_: str) -> ResourceCondition | None:
        return next((c for c in self.conditions if c.type == type_), None)
