"""The API's JSON shapes as TypedDicts, and the list envelope as `Page`.

Keys the API may omit are `NotRequired`. A `fields=` projection returns only the keys asked
for (and `id`), whatever these types say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, NotRequired, TypedDict, TypeVar

T = TypeVar("T")


class Condition(TypedDict):
    """A resource condition (Reconciled, Available, …) computed by the API."""

    type: str
    status: str
    reason: NotRequired[str]
    message: NotRequired[str]
    observed_generation: int
    created_time: str
    last_updated_time: str
    last_transition_time: str


class AdapterSummary(TypedDict):
    """One adapter's state as the resource's status shows it."""

    adapter: str
    state: str
    required: bool
    observed_generation: NotRequired[int]
    last_report_time: NotRequired[str]
    blocked_by: list[str]


class ResourceStatus(TypedDict):
    """A resource's aggregated status."""

    phase: NotRequired[str]
    phase_reason: NotRequired[str]
    phase_message: NotRequired[str]
    last_phase_transition_time: NotRequired[str]
    conditions: list[Condition]
    adapters: list[AdapterSummary]


class OwnerReference(TypedDict):
    """The parent of a child resource."""

    id: str
    kind: str
    href: str


class Resource(TypedDict):
    """A Cluster, NodePool or any configured kind."""

    id: str
    kind: str
    name: str
    href: str
    spec: dict[str, Any]
    labels: NotRequired[dict[str, str]]
    generation: int
    owner_references: NotRequired[OwnerReference]
    created_time: str
    updated_time: str
    created_by: str
    updated_by: str
    deleted_time: NotRequired[str]
    deleted_by: NotRequired[str]
    status: ResourceStatus


class AdapterCondition(TypedDict):
    """A condition as an adapter reported it."""

    type: str
    status: str
    reason: NotRequired[str]
    message: NotRequired[str]
    last_transition_time: str


class AdapterStatus(TypedDict):
    """One adapter's stored status report."""

    adapter: str
    observed_generation: int
    state: str
    conditions: list[AdapterCondition]
    metadata: NotRequired[dict[str, Any]]
    data: dict[str, Any]
    created_time: str
    last_report_time: str


class PhaseTransition(TypedDict):
    """One row of a resource's phase history (newest first)."""

    from_phase: str | None
    to_phase: str
    generation: int
    reason: str
    message: str
    time: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list. `size` is the number of items returned; `body` is the raw response."""

    items: list[T]
    total: int
    page: int
    size: int
    next_cursor: str | None
    body: bytes
