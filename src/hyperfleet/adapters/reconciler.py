"""The SDK's event handler: one event in, at most one unit of adapter work, always a report.

Per event: read the resource id from the event (a hint, never its state), fetch the resource
and this adapter's stored report from the API, then

1. already settled at this generation → re-send that report with a fresh `observed_time`;
2. dependencies not Ready (deleting: dependents not finalized) → report waiting;
3. else `reconcile()` / `finalize()` → report its outcome (plus any progress reports it sent).

409 `HYPERFLEET-CNF-004` (the resource moved under the strict generation policy) → fetch again
and start over, a bounded number of times; 409 `HYPERFLEET-CNF-005` → report waiting.
Returning ACKs the event, raising NACKs it: transient failures raise, terminal ones are
reported as `Health=False` (when there is a resource to report on) and return.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from cloudevents.core.base import BaseCloudEvent

from hyperfleet.adapters.dependencies import (
    ConfigSource,
    DependencyCache,
    blocked_by,
    dependents_not_finalized,
)
from hyperfleet.adapters.errors import TerminalError, TransientError, is_transient
from hyperfleet.adapters.metrics import AdapterMetrics, Handled
from hyperfleet.adapters.outcome import Outcome
from hyperfleet.adapters.reports import bookkeeping, build_report, is_settled, resend
from hyperfleet.adapters.sdk import Adapter, Context
from hyperfleet.broker.events import MalformedEvent, hint_from
from hyperfleet.client.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
)
from hyperfleet.client.types import AdapterStatus, Page, Resource

log = structlog.get_logger("hyperfleet.adapters")

GENERATION_CONFLICT = "HYPERFLEET-CNF-004"
DEPENDENCY_CONFLICT = "HYPERFLEET-CNF-005"
COLLECTION = "resources"  # kind-agnostic routes: /resources/{id}, /resources/{id}/statuses
_STATUS_PAGE = 100


class ApiPort(Protocol):
    """The part of `HyperFleetClient` the SDK uses."""

    async def get(self, collection: str, id: str) -> Resource: ...  # noqa: A002
    async def statuses(
        self,
        collection: str,
        id: str,  # noqa: A002
        *,
        page: int | None = None,
        size: int | None = None,
    ) -> Page[AdapterStatus]: ...
    async def report_status(
        self,
        collection: str,
        id: str,  # noqa: A002
        report: Mapping[str, Any],
    ) -> AdapterStatus | None: ...
    async def aggregation_config(self) -> dict[str, Any]: ...


class _Gone(Exception):
    """The resource no longer exists (404): nothing to do."""


class _Moved(Exception):
    """The API refused a report because the resource's generation moved on (CNF-004)."""


class _Blocked(Exception):
    def __init__(self, blocked: list[str]) -> None:
        super().__init__(", ".join(blocked))
        self.blocked = blocked


class Reconciler:
    """Handles reconcile events for one adapter of one kind (use it as the broker handler)."""

    def __init__(
        self,
        adapter: Adapter,
        *,
        name: str,
        kind: str,
        client: ApiPort,
        dependencies: DependencyCache | None = None,
        metrics: AdapterMetrics | None = None,
        conflict_retries: int = 3,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.adapter = adapter
        self.name = name
        self.kind = kind
        self._client = client
        self._deps = dependencies or DependencyCache(_as_source(client), kind)
        self.metrics = metrics or AdapterMetrics()
        self._conflict_retries = conflict_retries
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._log = log.bind(adapter=name, kind=kind)

    async def __call__(self, event: BaseCloudEvent, /) -> None:
        outcome = await self.handle(event)
        self.metrics.handled(self.name, self.kind, outcome)

    async def handle(self, event: BaseCloudEvent) -> Handled:
        """Handle one event; raises (→ NACK) only for transient failures."""
        try:
            hint = hint_from(event)
        except MalformedEvent as exc:
            self._log.warning("event ignored: it names no resource", error=str(exc))
            return Handled.MALFORMED
        if hint.kind.lower() != self.kind.lower():
            self._log.debug("event for another kind ignored", event_kind=hint.kind)
            return Handled.IGNORED
        bound = self._log.bind(resource_id=hint.id)
        async with self._exclusive(hint.id):
            try:
                return await self._handle(hint.id, bound)
            except _Gone:
                bound.info("resource is gone; nothing to do")
                return Handled.GONE
            except Exception as exc:
                if is_transient(exc):
                    self.metrics.handled(self.name, self.kind, Handled.TRANSIENT)
                    bound.warning("transient failure; event NACKed", error=str(exc))
                    raise
                bound.exception("terminal failure; event ACKed")
                return Handled.TERMINAL

    async def _handle(self, resource_id: str, bound: Any) -> Handled:
        for _ in range(self._conflict_retries + 1):
            resource = await self._fetch(resource_id)
            if resource.get("kind", "").lower() != self.kind.lower():
                bound.info("resource is of another kind; ignored", resource_kind=resource["kind"])
                return Handled.IGNORED
            stored = await self._own_report(resource_id)
            try:
                return await self._decide(resource, stored, bound)
            except _Moved:
                bound.info("generation moved while reporting; fetching again")
        raise TransientError(f"resource {resource_id} kept changing while being reported")

    async def _decide(
        self, resource: Resource, stored: AdapterStatus | None, bound: Any
    ) -> Handled:
        generation = resource["generation"]
        deleting = bool(resource.get("deleted_time"))
        previous = stored.get("data") if stored is not None else None
        idle = bookkeeping(previous, generation, worked=False)
        try:
            if stored is not None and is_settled(stored, generation, deleting=deleting):
                await self._put(resource, resend(stored, observed_time=self._clock()))
                return Handled.SKIPPED
            graph = await self._deps.graph()
            if deleting:
                waiting = dependents_not_finalized(resource, self.name, graph)
            else:
                waiting = blocked_by(resource, self.name, graph)
            if waiting:
                await self._put_waiting(resource, waiting, idle, deleting=deleting)
                return Handled.WAITING
            return await self._work(resource, stored, bound, deleting=deleting)
        except _Blocked as exc:
            await self._put_waiting(resource, exc.blocked, idle, deleting=deleting)
            return Handled.WAITING

    async def _work(
        self, resource: Resource, stored: AdapterStatus | None, bound: Any, *, deleting: bool
    ) -> Handled:
        """Call the adapter and report what it says (a terminal error as Health=False)."""
        generation = resource["generation"]
        previous = stored.get("data") if stored is not None else None
        busy = bookkeeping(previous, generation, worked=True)

        async def progress(outcome: Outcome) -> None:
            await self._put(resource, self._report(resource, outcome, busy, deleting=deleting))

        ctx = Context(
            adapter=self.name,
            generation=generation,
            deleting=deleting,
            previous=stored,
            log=bound.bind(generation=generation),
            _progress=progress,
        )
        handled = Handled.FINALIZED if deleting else Handled.RECONCILED
        counters = busy
        try:
            if deleting:
                outcome = await self.adapter.finalize(resource, ctx)
            else:
                outcome = await self.adapter.reconcile(resource, ctx)
        except (_Moved, _Gone, _Blocked):
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            outcome = _terminal_outcome(exc, bound)
            counters = bookkeeping(previous, generation, worked=False)
            handled = Handled.TERMINAL
        try:
            await self._put(resource, self._report(resource, outcome, counters, deleting=deleting))
        except (BadRequestError, UnprocessableError) as exc:
            # The outcome does not fit the kind's contract (reason enum, data schema): a bug
            # that redelivery cannot fix. Say so in a report that does fit.
            bound.error("report refused by the API", error=str(exc))
            fallback = Outcome.error("InvalidReport", _clip(str(exc)))
            idle = bookkeeping(previous, generation, worked=False)
            await self._put(resource, self._report(resource, fallback, idle, deleting=deleting))
            return Handled.TERMINAL
        return handled

    def _report(
        self, resource: Resource, outcome: Outcome, counters: Mapping[str, int], *, deleting: bool
    ) -> dict[str, Any]:
        return build_report(
            self.name,
            resource["generation"],
            outcome,
            deleting=deleting,
            observed_time=self._clock(),
            counters=counters,
        )

    async def _put_waiting(
        self,
        resource: Resource,
        waiting: list[str],
        counters: Mapping[str, int],
        *,
        deleting: bool,
    ) -> None:
        outcome = (
            Outcome.waiting_for_dependents(waiting) if deleting else Outcome.waiting_for(waiting)
        )
        try:
            await self._put(resource, self._report(resource, outcome, counters, deleting=deleting))
        except _Blocked as exc:  # pragma: no cover - a waiting report claims no progress
            raise TransientError(f"waiting report refused: {exc}") from exc

    async def _fetch(self, resource_id: str) -> Resource:
        try:
            return await self._client.get(COLLECTION, resource_id)
        except NotFoundError as exc:
            raise _Gone from exc

    async def _own_report(self, resource_id: str) -> AdapterStatus | None:
        page_number = 1
        while True:
            try:
                page = await self._client.statuses(
                    COLLECTION, resource_id, page=page_number, size=_STATUS_PAGE
                )
            except NotFoundError as exc:
                raise _Gone from exc
            for item in page.items:
                if item.get("adapter") == self.name:
                    return item
            if not page.items or page_number * _STATUS_PAGE >= page.total:
                return None
            page_number += 1

    async def _put(self, resource: Resource, report: Mapping[str, Any]) -> None:
        try:
            await self._client.report_status(COLLECTION, resource["id"], report)
        except NotFoundError as exc:
            raise _Gone from exc
        except ConflictError as exc:
            if exc.code == GENERATION_CONFLICT:
                raise _Moved from exc
            if exc.code == DEPENDENCY_CONFLICT:
                self._deps.invalidate()
                blocked = [str(b) for b in exc.extensions.get("blocked_by") or []]
                raise _Blocked(blocked or ["(unknown)"]) from exc
            raise

    @contextlib.asynccontextmanager
    async def _exclusive(self, resource_id: str) -> AsyncIterator[None]:
        """One handling per resource at a time in this process (duplicates queue up)."""
        lock = self._locks.setdefault(resource_id, asyncio.Lock())
        self._lock_users[resource_id] = self._lock_users.get(resource_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[resource_id] -= 1
            if not self._lock_users[resource_id]:
                del self._lock_users[resource_id]
                del self._locks[resource_id]


def _terminal_outcome(exc: Exception, bound: Any) -> Outcome:
    if isinstance(exc, TerminalError):
        bound.warning("terminal error reported", reason=exc.reason, error=exc.message)
        return Outcome.error(exc.reason, _clip(exc.message))
    bound.exception("adapter raised; reported as a terminal error")
    message = _clip(f"{type(exc).__name__}: {exc}")
    return Outcome.error("AdapterError", message)


def _clip(text: str) -> str:
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text).strip()
    return (cleaned or "no detail")[:2048]


def _as_source(client: ApiPort) -> ConfigSource:
    return client
