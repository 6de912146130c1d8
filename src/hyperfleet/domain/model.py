"""Domain values: resources, adapter reports, conditions, entity descriptors.

Frozen dataclasses and StrEnums only; no I/O, no clock. Timestamps are timezone-aware UTC
`datetime`s supplied by the caller (services read the clock, the domain never does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True, slots=True)
class EntityDescriptor:
    """How one entity kind behaves: routes, parent, required adapters, name rules."""

    kind: str
    plural: str
    parent_kind: str | None = None
    on_parent_delete: OnParentDelete = OnParentDelete.CASCADE
    required_adapters: tuple[str, ...] = ()
    name_min_len: int = 1
    name_max_len: int = 100
    spec_schema_name: str | None = None

    @property
    def is_child(self) -> bool:
        return self.parent_kind is not None


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

    @property
    def is_deleting(self) -> bool:
        return self.deleted_time is not None

    def condition(self, type_: str) -> ResourceCondition | None:
        return next((c for c in self.conditions if c.type == type_), None)
