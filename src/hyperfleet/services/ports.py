"""Ports the services depend on; storage implements them, tests may fake them."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from hyperfleet.domain.cursor import KeyValue
from hyperfleet.domain.model import AdapterReport, Resource, ResourceCondition
from hyperfleet.domain.phases import PhaseTransition
from hyperfleet.domain.search import Node, OrderTerm


@dataclass(frozen=True, slots=True)
class StoredBody:
    """A resource's rendered JSON with what routing and ETags need, read without decoding."""

    kind: str
    owner_id: str | None
    generation: int
    updated_time: datetime
    body: bytes


@dataclass(frozen=True, slots=True)
class VersionedRead:
    """A resource and its reports as one committed snapshot, with the row's version.

    The version changes with every write of the row; `save_status(expected_version=…)` writes
    only while it holds.
    """

    resource: Resource
    reports: list[AdapterReport]
    version: int


@dataclass(frozen=True, slots=True)
class ListQuery:
    kind: str | None
    owner_id: str | None
    search: Node | None
    order: tuple[OrderTerm, ...]
    page: int
    size: int
    after: tuple[KeyValue, ...] | None = None
    """Keyset position: only rows after this sort key (then `page` is ignored)."""
    count: bool = True
    """Whether to count the matching rows (cursor pages carry their total instead)."""
    tenancy: str | None = None
    """Only rows of exactly this tenancy (as `domain.tenancy.tenancy_label`); None: any."""


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, the count when asked for, and where it ends."""

    items: list[T]
    total: int | None
    last_key: tuple[KeyValue, ...] | None
    """The sort key of the last item (None for an empty page)."""
    more: bool
    """Whether items follow the last one."""


class ResourceRepository(Protocol):
    async def insert(self, resource: Resource) -> None:
        """Insert a new row; a live duplicate name raises errors.Conflict."""

    async def get(self, resource_id: str) -> Resource | None: ...

    async def get_for_update(self, resource_id: str) -> Resource | None:
        """Read and lock the row until the transaction ends (SELECT … FOR UPDATE)."""

    async def get_body(self, resource_id: str, *, tenancy: str | None = None) -> StoredBody | None:
        """The stored body; with `tenancy` (a label), only when the row's tenancy is that."""

    async def save(self, resource: Resource, *, conditions_changed: bool) -> None:
        """Write back a locked row (and its condition index rows when they changed)."""

    async def save_status(
        self,
        resource: Resource,
        *,
        previous: Sequence[ResourceCondition],
        transition: PhaseTransition | None = None,
        report: AdapterReport | None = None,
        expected_version: int | None = None,
        content_changed: bool = True,
    ) -> bool:
        """Write back a row with its recomputed status, in one statement.

        `content_changed=False` says spec and labels are as stored (a status write): they
        are left as they are rather than written again.

        With it: the condition index rows that differ from `previous`, the phase transition
        and the accepted report, when given. The row is locked, or `expected_version` is the
        version it was read at: then nothing is written, and False returned, unless the row
        is still that version.
        """

    async def get_with_reports(
        self, resource_id: str
    ) -> tuple[Resource, list[AdapterReport]] | None:
        """A row already locked by `begin(lock=…)`, and its reports by adapter, in one read."""

    async def read_with_reports(self, resource_id: str) -> VersionedRead | None:
        """A row, unlocked, with its reports by adapter and its version, in one read."""

    async def list_bodies(self, query: ListQuery) -> Page[bytes]:
        """Stored bodies in the query's order, by page number or after a keyset position."""

    async def children_for_update(self, owner_id: str) -> list[Resource]:
        """Lock and return every direct child of `owner_id`, any kind."""

    async def count_children(self, owner_id: str) -> tuple[int, int]:
        """(live children, soft-deleted children) of `owner_id`."""

    async def delete(self, resource_ids: Sequence[str]) -> None:
        """Hard-delete rows (their statuses and condition rows go with them)."""

    async def subtree_ids(self, resource_id: str) -> list[str]:
        """`resource_id` and every descendant id, children before parents."""

    async def add_phase_transition(self, resource_id: str, transition: PhaseTransition) -> None: ...

    async def phase_history(
        self, resource_id: str, *, page: int, size: int, after: int | None = None
    ) -> Page[PhaseTransition]:
        """Newest first; `after` is the history id of the last transition already seen."""

    async def ids_to_reaggregate(
        self, kinds: Sequence[str], *, after: str | None, limit: int, only_missing_phase: bool
    ) -> list[str]:
        """Ids of the given kinds in id order, after `after` (keyset pagination)."""


class StatusRepository(Protocol):
    async def for_resource(self, resource_id: str) -> list[AdapterReport]: ...

    async def upsert(self, resource_id: str, report: AdapterReport) -> None: ...

    async def page(
        self, resource_id: str, *, page: int, size: int, after: str | None = None
    ) -> Page[AdapterReport]:
        """By adapter name; `after` is the adapter of the last report already seen."""


class Tx(Protocol):
    @property
    def resources(self) -> ResourceRepository: ...

    @property
    def statuses(self) -> StatusRepository: ...


class UnitOfWork(Protocol):
    def begin(self, *, lock: str | None = None) -> AbstractAsyncContextManager[Tx]:
        """One transaction: commits on normal exit, rolls back on any exception.

        `lock`: a resource id whose row is locked as the transaction starts (same round trip);
        the statements that follow then see everything committed before the lock.
        """

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """A connection without an explicit transaction: each statement is its own.

        For reads, and for a read followed by one version-guarded write (the status PUT).
        """


class Clock(Protocol):
    def now(self) -> datetime: ...


class Observer(Protocol):
    """Side-channel for metrics; the REST layer implements it with Prometheus."""

    def reconciliation_started(self, kind: str, *, is_delete: bool) -> None: ...
