"""Adapter status reports: ingest one and re-aggregate in one transaction; list them.

A report is judged on one committed snapshot of its resource and written by one statement
guarded by the row's version (two round trips); a lost race starts over, and after a few, or
for a finalizing report or a resource being deleted, the report takes the row lock instead.

Order of checks for `PUT …/statuses` (each stops the request):
body validation (400, before any I/O) → resource lookup (404) → the kind's adapter
contract (400) → generation policy (409 strict / 204 discard) → mandatory conditions (400) →
adapter dependencies (409) → store → hard delete when finalized → re-aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import structlog

from hyperfleet.domain import dependencies
from hyperfleet.domain import reports as report_rules
from hyperfleet.domain.contract import check_contract
from hyperfleet.domain.model import AdapterReport, ConditionStatus, EntityDescriptor, Resource
from hyperfleet.domain.reports import IncomingReport
from hyperfleet.domain.status_engine import adapter_views
from hyperfleet.errors import NotFound
from hyperfleet.services.paging import (
    Listed,
    ListSpec,
    carried_total,
    present,
    resume,
    single_key,
)
from hyperfleet.services.ports import Clock, UnitOfWork
from hyperfleet.services.resources import ResourceService, Scope, is_uuid

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReportPage:
    listed: Listed[AdapterReport]
    desc: EntityDescriptor


@dataclass(frozen=True, slots=True)
class Accepted:
    report: AdapterReport
    desc: EntityDescriptor


_UNLOCKED_ATTEMPTS = 3
"""Unlocked tries before a report waits for the row lock (each lost one raced a writer)."""


class _Fallback(Enum):
    RACE = "race"
    """The row was written between the read and the guarded write: nothing was written."""
    LOCK = "lock"
    """The report needs the locked path."""


@dataclass(frozen=True, slots=True)
class _Store:
    """A report that passed every rule: `merged` is the row to write."""

    merged: AdapterReport
    desc: EntityDescriptor
    incoming: IncomingReport
    warning: str | None

    def log_warning(self, resource: Resource) -> None:
        if self.warning is not None:
            log.warning(
                "status report generation mismatch stored (lenient policy)",
                kind=resource.kind,
                resource_id=resource.id,
                adapter=self.incoming.adapter,
                observed_generation=self.incoming.observed_generation,
                generation=resource.generation,
                detail=self.warning,
            )


def _judge(
    svc: ResourceService,
    incoming: IncomingReport,
    body: dict[str, Any],
    resource: Resource,
    stored_all: list[AdapterReport],
) -> Accepted | _Store | None:
    """Every rule after the lookup, in order, on one view of the resource and its reports.

    None: discarded (204); Accepted: identical to the stored report (201, nothing to write).
    """
    desc = svc.descriptor(resource.kind)
    check_contract(
        incoming,
        body,
        rules=desc.adapters.get(incoming.adapter),
        reason_format=desc.reason_format,
        declared_adapters=desc.declared_adapters,
        strict_adapters=desc.strict_adapters,
    )
    stored = next((r for r in stored_all if r.adapter == incoming.adapter), None)
    judgement = report_rules.judge_with_policy(
        incoming,
        policy=desc.generation_policy,
        resource_generation=resource.generation,
        stored=stored,
    )
    if judgement.verdict is report_rules.Verdict.DISCARD:
        log.debug(
            "status report discarded",
            kind=resource.kind,
            resource_id=resource.id,
            adapter=incoming.adapter,
            observed_generation=incoming.observed_generation,
            generation=resource.generation,
        )
        return None
    report_rules.check_mandatory(incoming)
    dependencies.check_report(
        incoming,
        graph=desc.adapter_dependencies,
        # Only a dependency graph reads the adapters' states (the status recompute derives
        # them again from the merged reports).
        views=adapter_views(desc, stored_all, resource.generation)
        if desc.adapter_dependencies
        else {},
        generation=resource.generation,
        is_deleting=resource.is_deleting,
    )
    if judgement.verdict is report_rules.Verdict.UNCHANGED and stored is not None:
        return Accepted(stored, desc)
    return _Store(report_rules.merge(incoming, stored), desc, incoming, judgement.warning)


def _after(stored_all: list[AdapterReport], merged: AdapterReport) -> list[AdapterReport]:
    """The reports as they are after `merged`, in storage order (by adapter), unread."""
    return sorted(
        [*(r for r in stored_all if r.adapter != merged.adapter), merged],
        key=lambda r: r.adapter,
    )


class StatusService:
    def __init__(self, *, uow: UnitOfWork, clock: Clock, resources: ResourceService) -> None:
        self._uow = uow
        self._clock = clock
        self._resources = resources

    async def report(self, scope: Scope, resource_id: str, body: dict[str, Any]) -> Accepted | None:
        """Validate and apply one report. None means discarded (204)."""
        incoming = report_rules.parse_report(body, now=self._clock.now())
        if incoming.status_of("Finalized") is not ConditionStatus.TRUE:
            for _ in range(_UNLOCKED_ATTEMPTS):
                outcome = await self._report_unlocked(scope, resource_id, body, incoming)
                if outcome is _Fallback.LOCK:
                    break
                if outcome is not _Fallback.RACE:
                    return outcome
        return await self._report_locked(scope, resource_id, body, incoming)

    async def _report_unlocked(
        self, scope: Scope, resource_id: str, body: dict[str, Any], incoming: IncomingReport
    ) -> Accepted | _Fallback | None:
        """The common case in two round trips: read, then one write guarded by the row version.

        Every rule is judged on one committed snapshot of the resource and its reports; the
        write (the report, the recomputed status, the phase history, the condition index)
        commits only if the row is still that snapshot's, else the caller starts over. A
        resource being deleted takes the locked path: its reports may finish the deletion.
        """
        svc = self._resources
        async with self._uow.read() as tx:
            read = await svc.read_with_reports(tx, scope, resource_id)
            if read.resource.is_deleting:
                return _Fallback.LOCK
            decision = _judge(svc, incoming, body, read.resource, read.reports)
            if not isinstance(decision, _Store):
                return decision
            after = _after(read.reports, decision.merged)
            if not await svc.reaggregate_guarded(tx, read, reports=after, report=decision.merged):
                return _Fallback.RACE
        decision.log_warning(read.resource)
        return Accepted(decision.merged, decision.desc)

    async def _report_locked(
        self, scope: Scope, resource_id: str, body: dict[str, Any], incoming: IncomingReport
    ) -> Accepted | None:
        """Under the row lock: finalizing reports, resources being deleted, lost races."""
        svc = self._resources
        finalizing = incoming.status_of("Finalized") is ConditionStatus.TRUE
        # Locks the row in BEGIN's round trip and reads it with its reports in one statement.
        # A finalizing report may hard-delete this row and then its parent: it locks the
        # ancestors first, in the same top-down order DELETE uses, so the two never wait on
        # each other.
        async with self._uow.begin(lock=None if finalizing else resource_id) as tx:
            if finalizing:
                await svc.lock_ancestors(tx, resource_id)
                resource = await svc.locked(tx, scope, resource_id)
                stored_all = await tx.statuses.for_resource(resource.id)
            else:
                resource, stored_all = await svc.locked_with_reports(tx, scope, resource_id)
            decision = _judge(svc, incoming, body, resource, stored_all)
            if not isinstance(decision, _Store):
                return decision
            decision.log_warning(resource)
            merged = decision.merged
            if resource.is_deleting and finalizing:
                await tx.statuses.upsert(resource.id, merged)
                if await svc.finish_if_done(tx, resource):
                    await svc.finish_ancestors(tx, resource)
                    return Accepted(merged, decision.desc)
                pending: AdapterReport | None = None
            else:
                pending = merged  # written by the same statement as the recomputed status
            after = _after(stored_all, merged)
            await svc.reaggregate(tx, resource, previous=resource, reports=after, report=pending)
        return Accepted(merged, decision.desc)

    async def list(
        self, scope: Scope, resource_id: str, *, page: int, size: int, cursor: str | None = None
    ) -> ReportPage:
        """Reports by adapter name, by page number or after a cursor."""
        spec = ListSpec(f"statuses/{resource_id}")
        after: str | None = None
        number, total = page, 0
        if cursor is not None:
            spec, resumed = resume(cursor, spec.scope)
            after = single_key(resumed.after, str)
            number, total = resumed.page + 1, resumed.total
        async with self._uow.read() as tx:
            resource = await tx.resources.get(resource_id) if is_uuid(resource_id) else None
            if resource is None or not scope.matches(resource):
                raise NotFound(f"{scope.kind_name} with id='{resource_id}' not found")
            result = await tx.statuses.page(resource.id, page=page, size=size, after=after)
        listed = present(result, spec, number=number, total=carried_total(result.total, total))
        return ReportPage(listed, self._resources.descriptor(resource.kind))
