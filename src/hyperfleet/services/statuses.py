"""Adapter status reports: ingest one under a row lock and re-aggregate; list them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import structlog

from hyperfleet.domain import reports as report_rules
from hyperfleet.domain.model import AdapterReport, ConditionStatus
from hyperfleet.errors import NotFound
from hyperfleet.services.ports import Clock, UnitOfWork
from hyperfleet.services.resources import ResourceService, Scope, is_uuid

log = structlog.get_logger(__name__)


class StatusService:
    def __init__(self, *, uow: UnitOfWork, clock: Clock, resources: ResourceService) -> None:
        self._uow = uow
        self._clock = clock
        self._resources = resources

    async def report(
        self, scope: Scope, resource_id: str, body: dict[str, Any]
    ) -> AdapterReport | None:
        """Validate and apply one report. None means discarded (204)."""
        incoming = report_rules.parse_report(body, now=self._clock.now())
        svc = self._resources
        async with self._uow.begin() as tx:
            if incoming.status_of("Finalized") is ConditionStatus.TRUE:
                # A finalizing report may hard-delete this row and then its parent: lock the
                # ancestors first, in the same top-down order DELETE uses, so the two never
                # wait on each other.
                await svc.lock_ancestors(tx, resource_id)
            resource = await svc.locked(tx, scope, resource_id)
            stored_all = await tx.statuses.for_resource(resource.id)
            stored = next((r for r in stored_all if r.adapter == incoming.adapter), None)
            verdict = report_rules.judge(
                incoming, resource_generation=resource.generation, stored=stored
            )
            if verdict is report_rules.Verdict.DISCARD:
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
            if verdict is report_rules.Verdict.UNCHANGED and stored is not None:
                return stored
            merged = report_rules.merge(incoming, stored)
            await tx.statuses.upsert(resource.id, merged)

            if (
                resource.is_deleting
                and incoming.status_of("Finalized") is ConditionStatus.TRUE
                and await svc.finish_if_done(tx, resource)
            ):
                await svc.finish_ancestors(tx, resource)
                return merged
            if report_rules.should_reaggregate(incoming):
                await svc.reaggregate(tx, resource, previous=replace(resource))
        return merged

    async def list(
        self, scope: Scope, resource_id: str, *, page: int, size: int
    ) -> tuple[list[AdapterReport], int]:
        async with self._uow.read() as tx:
            resource = await tx.resources.get(resource_id) if is_uuid(resource_id) else None
            if resource is None or not scope.matches(resource):
                raise NotFound(f"{scope.kind_name} with id='{resource_id}' not found")
            return await tx.statuses.page(resource.id, page=page, size=size)
