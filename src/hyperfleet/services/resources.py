"""Resource use cases: create, read, list, patch, delete and force-delete, for every kind.

Each write is one transaction (the unit of work) and locks what it depends on first: the
parent on child creation, the resource on PATCH/DELETE, the whole subtree on cascades.
Aggregated conditions are recomputed in the same transaction after every generation bump.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
import uuid_utils

from hyperfleet.domain import validation
from hyperfleet.domain.entities import EntityRegistry
from hyperfleet.domain.generation import is_effective_change
from hyperfleet.domain.model import (
    AdapterReport,
    ConditionStatus,
    EntityDescriptor,
    OnParentDelete,
    Resource,
    ResourceCondition,
)
from hyperfleet.domain.phases import PhaseTransition
from hyperfleet.domain.render import etag
from hyperfleet.domain.search import parse_order, parse_search
from hyperfleet.domain.spec_schemas import SpecSchemas
from hyperfleet.domain.status_engine import compute_status
from hyperfleet.domain.tenancy import CallerTenancy, visible_to
from hyperfleet.errors import (
    BadRequest,
    NotFound,
    PreconditionFailed,
    StateConflict,
    UnprocessableEntity,
    ValidationFailed,
    Violation,
)
from hyperfleet.services.config_store import ConfigStore
from hyperfleet.services.paging import (
    Listed,
    ListSpec,
    carried_total,
    present,
    resume,
    single_key,
)
from hyperfleet.services.ports import (
    Clock,
    ListQuery,
    Observer,
    StoredBody,
    Tx,
    UnitOfWork,
    VersionedRead,
)

log = structlog.get_logger(__name__)

API_BASE = "/api/hyperfleet/v1"


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: str) -> bool:
    """The canonical hyphenated form only (8-4-4-4-12 hex digits)."""
    return _UUID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a request addresses a resource: its kind (None on /resources) and parent.

    `tenant` is the caller's tenancy (None while tenancy is off): a resource outside it is
    treated as missing.
    """

    desc: EntityDescriptor | None
    parent_id: str | None = None
    parent_desc: EntityDescriptor | None = None
    tenant: CallerTenancy | None = None

    def matches(self, resource: Resource) -> bool:
        if self.desc is not None and resource.kind != self.desc.kind:
            return False
        if self.tenant is not None and not self.tenant.sees(resource.tenancy):
            return False
        return self.parent_id is None or resource.owner_id == self.parent_id

    def reject_system_write(self) -> None:
        if self.tenant is not None:
            self.tenant.reject_write()

    @property
    def kind_name(self) -> str:
        return self.desc.kind if self.desc is not None else "Resource"


def _list_scope(scope: Scope) -> str:
    """Names the list a cursor belongs to: the route's kind (or all kinds) and parent."""
    kind = scope.desc.kind if scope.desc is not None else "*"
    # A cursor (and the total it carries) stays with the tenant it was issued to.
    tenant = f"/{scope.tenant.label}" if scope.tenant is not None else ""
    return f"list/{kind}/{scope.parent_id or ''}{tenant}"


def check_if_match(if_match: str | None, resource: Resource) -> None:
    """RFC 9110 If-Match with strong comparison; `*` matches any existing resource."""
    if if_match is None:
        return
    current = etag(resource.generation, resource.updated_time)
    candidates = [c.strip() for c in if_match.split(",") if c.strip()]
    if "*" in candidates or current in candidates:
        return
    raise PreconditionFailed(
        f"If-Match {if_match} does not match the current ETag {current}",
        extensions={"current_etag": current},
    )


class ResourceService:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        store: ConfigStore,
        clock: Clock,
        observer: Observer,
        spec_schemas: SpecSchemas | None = None,
    ) -> None:
        self._uow = uow
        self._store = store
        self._clock = clock
        self._observer = observer
        self._schemas = spec_schemas or SpecSchemas.empty()

    @property
    def registry(self) -> EntityRegistry:
        return self._store.registry

    def descriptor(self, kind: str) -> EntityDescriptor:
        """The kind's current descriptor (after any reload); unknown kinds get an empty one."""
        return self._store.descriptor(kind) or EntityDescriptor(kind=kind, plural=kind.lower())

    # -- reads -------------------------------------------------------------------------------

    async def get_body(self, scope: Scope, resource_id: str) -> StoredBody:
        """The stored JSON of one resource; 404 unless it is of the scope's kind and parent."""
        if is_uuid(resource_id):
            async with self._uow.read() as tx:
                row = await tx.resources.get_body(resource_id, tenancy=visible_to(scope.tenant))
            if row is not None:
                kind_ok = scope.desc is None or scope.desc.kind == row.kind
                if kind_ok and (scope.parent_id is None or row.owner_id == scope.parent_id):
                    return row
        raise _not_found(scope.kind_name, resource_id)

    async def phase_history(
        self, scope: Scope, resource_id: str, *, page: int, size: int, cursor: str | None = None
    ) -> Listed[PhaseTransition]:
        """Phase transitions newest first, by page number or after a cursor."""
        spec = ListSpec(f"phase-history/{resource_id}")
        after: int | None = None
        number, total = page, 0
        if cursor is not None:
            spec, resumed = resume(cursor, spec.scope)
            after = single_key(resumed.after, int)
            number, total = resumed.page + 1, resumed.total
        async with self._uow.read() as tx:
            resource = await tx.resources.get(resource_id) if is_uuid(resource_id) else None
            if resource is None or not scope.matches(resource):
                raise _not_found(scope.kind_name, resource_id)
            result = await tx.resources.phase_history(
                resource.id, page=page, size=size, after=after
            )
        return present(result, spec, number=number, total=carried_total(result.total, total))

    async def list_bodies(
        self,
        scope: Scope,
        *,
        search: str | None,
        order: list[str],
        page: int,
        size: int,
        kind_filter: str | None = None,
        cursor: str | None = None,
    ) -> Listed[bytes]:
        """Stored bodies of the scope's list: a page number, or the page after `cursor`."""
        scope_key = _list_scope(scope)
        if cursor is not None:
            spec, resumed = resume(cursor, scope_key, search=search, kind=kind_filter, order=order)
            after, number, total = resumed.after, resumed.page + 1, resumed.total
        else:
            spec = ListSpec(scope_key, search or "", kind_filter, parse_order(order))
            after, number, total = None, page, 0
        node = parse_search(spec.search)
        kind = scope.desc.kind if scope.desc is not None else spec.kind
        async with self._uow.read() as tx:
            if scope.parent_id is not None:
                await self._require_parent(tx, scope, lock=False)
            result = await tx.resources.list_bodies(
                ListQuery(
                    kind=kind,
                    owner_id=scope.parent_id,
                    search=node,
                    order=spec.order,
                    page=page,
                    size=size,
                    after=after,
                    count=after is None,
                    tenancy=visible_to(scope.tenant),
                )
            )
        return present(result, spec, number=number, total=carried_total(result.total, total))

    # -- create ------------------------------------------------------------------------------

    async def create(
        self, scope: Scope, body: dict[str, Any], *, actor: str, flat: bool
    ) -> Resource:
        """Create a resource. On a flat or /resources route a child kind is a 422."""
        scope.reject_system_write()
        desc = scope.desc or self._kind_from_body(body)
        if flat and desc.is_child:
            parent = self.registry.require(desc.parent_kind or "")
            raise UnprocessableEntity(
                f"{desc.kind} must be created under its parent: POST "
                f"{API_BASE}/{parent.plural}/{{{parent.kind.lower()}_id}}/{desc.plural}",
                violations=[Violation("kind", f"{desc.kind} is a child kind", "enum")],
            )
        validation.validate_kind(desc, body.get("kind"))
        name = validation.validate_name(desc, body.get("name"))
        spec = validation.validate_spec(body, required=True) or {}
        labels = validation.validate_labels(body.get("labels"))
        _reject_references(body.get("references"))
        self._schemas.validate(desc.kind, spec)

        now = self._clock.now()
        new_id = str(uuid_utils.uuid7())
        async with self._uow.begin() as tx:
            owner: Resource | None = None
            if scope.parent_id is not None:
                owner = await self._require_parent(tx, scope, lock=True)
                if owner.is_deleting:
                    raise StateConflict(f"{owner.kind} '{owner.id}' is marked for deletion")
            href = (
                f"{owner.href}/{desc.plural}/{new_id}"
                if owner is not None
                else f"{API_BASE}/{desc.plural}/{new_id}"
            )
            resource = Resource(
                id=new_id,
                kind=desc.kind,
                name=name,
                href=href,
                spec=spec,
                labels=labels,
                generation=1,
                created_time=now,
                updated_time=now,
                created_by=actor,
                updated_by=actor,
                owner_id=owner.id if owner else None,
                owner_kind=owner.kind if owner else None,
                owner_href=owner.href if owner else None,
                tenancy=_stamp(scope, owner),
            )
            result = compute_status(
                desc=self.descriptor(desc.kind),
                resource=resource,
                reports=(),
                has_children=False,
                now=now,
            )
            resource = replace(
                resource,
                conditions=result.conditions,
                phase=result.phase,
                adapters=result.adapters,
            )
            await tx.resources.insert(resource)
            if result.transition is not None:
                await tx.resources.add_phase_transition(resource.id, result.transition)
        self._observer.reconciliation_started(desc.kind, is_delete=False)
        return resource

    def _kind_from_body(self, body: dict[str, Any]) -> EntityDescriptor:
        kind = body.get("kind")
        if kind is None or kind == "":
            raise ValidationFailed(
                "kind is required", violations=[Violation("kind", "kind is required", "required")]
            )
        desc = self.registry.get(kind) if isinstance(kind, str) else None
        if desc is None:
            message = f"unknown kind '{kind}'"
            raise ValidationFailed(message, violations=[Violation("kind", message, "enum")])
        return desc

    # -- patch -------------------------------------------------------------------------------

    async def patch(
        self,
        scope: Scope,
        resource_id: str,
        body: dict[str, Any],
        *,
        actor: str,
        if_match: str | None = None,
    ) -> Resource:
        scope.reject_system_write()
        validation.validate_patch_fields(body)
        if not any(k in body for k in validation.PATCHABLE_FIELDS):
            raise BadRequest("at least one field must be provided for update")
        spec = validation.validate_spec(body, required=False)
        labels = validation.validate_labels(body["labels"]) if "labels" in body else None
        if "labels" in body and body["labels"] is None:
            labels = {}
        _reject_references(body.get("references"))

        async with self._uow.begin() as tx:
            current = await self.locked(tx, scope, resource_id)
            check_if_match(if_match, current)
            if spec is not None:
                self._schemas.validate(current.kind, spec)
            if current.is_deleting:
                raise StateConflict(f"{current.kind} '{current.id}' is marked for deletion")
            if not is_effective_change(
                old_spec=current.spec,
                new_spec=spec,
                old_labels=current.labels,
                new_labels=labels,
            ):
                return current
            now = self._clock.now()
            updated = replace(
                current,
                spec=spec if spec is not None else current.spec,
                labels=labels if labels is not None else current.labels,
                generation=current.generation + 1,
                updated_time=now,
                updated_by=actor,
            )
            return await self.reaggregate(tx, updated, previous=current)

    # -- delete ------------------------------------------------------------------------------

    async def delete(
        self, scope: Scope, resource_id: str, *, actor: str, if_match: str | None = None
    ) -> Resource:
        """Soft delete, cascading or restricted by child kinds; idempotent when repeated.

        The row is hard-deleted at once when nothing needs finalizing.
        """
        scope.reject_system_write()
        async with self._uow.begin() as tx:
            # Deleting may end in a hard delete that re-checks the parent: lock ancestors first,
            # top-down like every cascade, so a parent DELETE and this one cannot deadlock.
            await self.lock_ancestors(tx, resource_id)
            current = await self.locked(tx, scope, resource_id, delete_wording=True)
            check_if_match(if_match, current)
            if current.is_deleting:
                if await self.finish_if_done(tx, current):
                    await self.finish_ancestors(tx, current)
                return current
            await self._check_restrict(tx, current)
            now = self._clock.now()
            result = await self._mark_deleting(tx, current, now=now, actor=actor)
            if not await self.finish_if_done(tx, result):
                return result
            await self.finish_ancestors(tx, result)
            return result

    async def _check_restrict(self, tx: Tx, resource: Resource) -> None:
        restricting = {
            d.kind
            for d in self.registry.children_of(resource.kind)
            if d.on_parent_delete is OnParentDelete.RESTRICT
        }
        if not restricting:
            return
        for child in await tx.resources.children_for_update(resource.id):
            if child.kind in restricting and not child.is_deleting:
                raise StateConflict(
                    f"Cannot delete {resource.kind} '{resource.id}': active {child.kind}(s) exist"
                )

    async def _mark_deleting(
        self, tx: Tx, resource: Resource, *, now: datetime, actor: str
    ) -> Resource:
        """Mark `resource` and its live descendants deleting (generation +1 each)."""
        for child in await tx.resources.children_for_update(resource.id):
            if child.is_deleting:
                continue
            await self._check_restrict(tx, child)
            marked = await self._mark_deleting(tx, child, now=now, actor=actor)
            await self.finish_if_done(tx, marked)
        marked = replace(
            resource,
            deleted_time=now,
            deleted_by=actor,
            generation=resource.generation + 1,
            updated_time=now,
        )
        return await self.reaggregate(tx, marked, previous=resource, is_delete=True)

    async def finish_if_done(self, tx: Tx, resource: Resource) -> bool:
        """Hard-delete a deleting resource when nothing is left to finalize; True if deleted.

        That is: every required adapter reported Finalized=True at the current generation and
        no child rows remain.
        """
        if not resource.is_deleting:
            return False
        live, deleting = await tx.resources.count_children(resource.id)
        if live or deleting:
            return False
        required = self.descriptor(resource.kind).required_adapters
        if required:
            reports = {r.adapter: r for r in await tx.statuses.for_resource(resource.id)}
            for adapter in required:
                report = reports.get(adapter)
                if (
                    report is None
                    or report.observed_generation != resource.generation
                    or report.status_of("Finalized") is not ConditionStatus.TRUE
                ):
                    return False
        await tx.resources.delete([resource.id])
        log.info("resource hard-deleted", kind=resource.kind, resource_id=resource.id)
        return True

    async def finish_ancestors(self, tx: Tx, resource: Resource) -> None:
        """After a hard delete, the parent may have been waiting only for this child."""
        owner_id = resource.owner_id
        while owner_id is not None:
            owner = await tx.resources.get_for_update(owner_id)
            if owner is None or not await self.finish_if_done(tx, owner):
                return
            owner_id = owner.owner_id

    # -- force delete ------------------------------------------------------------------------

    async def force_delete(self, scope: Scope, resource_id: str, body: Any, *, actor: str) -> None:
        scope.reject_system_write()
        reason = validation.validate_force_delete_reason(body)
        async with self._uow.begin() as tx:
            await self.lock_ancestors(tx, resource_id)  # same order as DELETE (see there)
            current = await self.locked(tx, scope, resource_id)
            if not current.is_deleting:
                raise StateConflict(f"{current.kind} '{current.id}' is not in Finalizing state")
            ids = await tx.resources.subtree_ids(current.id)
            await tx.resources.delete(ids)
            log.warning(
                "resource force-deleted",
                kind=current.kind,
                resource_id=current.id,
                actor=actor,
                reason=reason,
                descendant_ids=[i for i in ids if i != current.id],
            )
            await self.finish_ancestors(tx, current)

    # -- shared ------------------------------------------------------------------------------

    async def locked(
        self, tx: Tx, scope: Scope, resource_id: str, *, delete_wording: bool = False
    ) -> Resource:
        resource = await tx.resources.get_for_update(resource_id) if is_uuid(resource_id) else None
        if resource is None or not scope.matches(resource):
            if delete_wording:
                raise NotFound(f"{scope.kind_name} not found")
            raise _not_found(scope.kind_name, resource_id)
        return resource

    async def locked_with_reports(
        self, tx: Tx, scope: Scope, resource_id: str
    ) -> tuple[Resource, list[AdapterReport]]:
        """The resource locked by `begin(lock=resource_id)` and its reports (404 as `locked`)."""
        found = await tx.resources.get_with_reports(resource_id) if is_uuid(resource_id) else None
        if found is None or not scope.matches(found[0]):
            raise _not_found(scope.kind_name, resource_id)
        return found

    async def read_with_reports(self, tx: Tx, scope: Scope, resource_id: str) -> VersionedRead:
        """The resource unlocked, with its reports and version (404 as `locked`)."""
        found = await tx.resources.read_with_reports(resource_id) if is_uuid(resource_id) else None
        if found is None or not scope.matches(found.resource):
            raise _not_found(scope.kind_name, resource_id)
        return found

    async def lock_ancestors(self, tx: Tx, resource_id: str) -> None:
        """Lock the owners of `resource_id`, root first (no-op for unknown ids)."""
        chain: list[str] = []
        current = await tx.resources.get(resource_id) if is_uuid(resource_id) else None
        while current is not None and current.owner_id is not None:
            chain.append(current.owner_id)
            current = await tx.resources.get(current.owner_id)
        for owner_id in reversed(chain):
            await tx.resources.get_for_update(owner_id)

    async def _require_parent(self, tx: Tx, scope: Scope, *, lock: bool) -> Resource:
        parent_kind = scope.parent_desc.kind if scope.parent_desc else "Resource"
        parent_id = scope.parent_id or ""
        parent = None
        if is_uuid(parent_id):
            fetch = tx.resources.get_for_update if lock else tx.resources.get
            parent = await fetch(parent_id)
        if (
            parent is None
            or (scope.parent_desc and parent.kind != scope.parent_desc.kind)
            or (scope.tenant is not None and not scope.tenant.sees(parent.tenancy))
        ):
            raise _not_found(parent_kind, parent_id)
        return parent

    async def reaggregate(
        self,
        tx: Tx,
        resource: Resource,
        *,
        previous: Resource,
        is_delete: bool = False,
        reports: Sequence[AdapterReport] | None = None,
        report: AdapterReport | None = None,
    ) -> Resource:
        """Recompute the whole status of `resource` and save it in one statement.

        `reports` are the resource's stored reports when the caller already holds them
        (the report path does, with `report`, the accepted report not stored yet, among
        them), else they are read. `report` is written in the same statement.
        """
        if reports is None:
            reports = await tx.statuses.for_resource(resource.id)
        has_children = False
        if resource.is_deleting:
            live, deleting = await tx.resources.count_children(resource.id)
            has_children = bool(live or deleting)
        updated, transition = self._recompute(resource, reports, has_children=has_children)
        await tx.resources.save_status(
            updated,
            previous=previous.conditions,
            transition=transition,
            report=report,
            content_changed=updated.spec != previous.spec or updated.labels != previous.labels,
        )
        self._observe(previous, updated, is_delete=is_delete)
        return updated

    async def reaggregate_guarded(
        self,
        tx: Tx,
        read: VersionedRead,
        *,
        reports: Sequence[AdapterReport],
        report: AdapterReport,
    ) -> bool:
        """`reaggregate` for a live resource read unlocked: save `report` and the new status.

        One statement, its own transaction, guarded by the row version of `read`. False means
        the row changed (or went) since it was read, and nothing was written.
        """
        resource = read.resource
        updated, transition = self._recompute(resource, reports, has_children=False)
        saved = await tx.resources.save_status(
            updated,
            previous=resource.conditions,
            transition=transition,
            report=report,
            expected_version=read.version,
            content_changed=False,
        )
        if saved:
            self._observe(resource, updated, is_delete=False)
        return saved

    def _recompute(
        self, resource: Resource, reports: Sequence[AdapterReport], *, has_children: bool
    ) -> tuple[Resource, PhaseTransition | None]:
        result = compute_status(
            desc=self.descriptor(resource.kind),
            resource=resource,
            reports=reports,
            has_children=has_children,
            now=self._clock.now(),
        )
        updated = replace(
            resource, conditions=result.conditions, phase=result.phase, adapters=result.adapters
        )
        return updated, result.transition

    def _observe(self, previous: Resource, updated: Resource, *, is_delete: bool) -> None:
        if _reconciled_fell(previous.conditions, updated.conditions):
            self._observer.reconciliation_started(updated.kind, is_delete=is_delete)

    async def reaggregate_ids(self, ids: list[str]) -> int:
        """Recompute stored statuses (after a config reload), one short transaction each."""
        done = 0
        for resource_id in ids:
            async with self._uow.begin() as tx:
                current = await tx.resources.get_for_update(resource_id)
                if current is None:
                    continue
                await self.reaggregate(tx, current, previous=current)
                done += 1
        return done


def _reconciled_fell(
    before: tuple[ResourceCondition, ...], after: tuple[ResourceCondition, ...]
) -> bool:
    old = next((c for c in before if c.type == "Reconciled"), None)
    new = next((c for c in after if c.type == "Reconciled"), None)
    return (
        new is not None
        and new.status is ConditionStatus.FALSE
        and (
            old is None
            or old.status is ConditionStatus.TRUE
            or old.observed_generation != new.observed_generation
        )
    )


def _reject_references(references: Any) -> None:
    """No kind declares reference types yet: only an empty map is accepted."""
    if references is None or references == {}:
        return
    message = "references are not supported for this kind"
    raise ValidationFailed(message, violations=[Violation("references", message, "enum")])


def _stamp(scope: Scope, owner: Resource | None) -> dict[str, str]:
    """A child's tenancy is its parent's; a root's is its creator's (`{}` without tenancy)."""
    if owner is not None:
        return owner.tenancy
    return dict(scope.tenant.values) if scope.tenant is not None else {}


def _not_found(kind: str, resource_id: str) -> NotFound:
    return NotFound(f"{kind} with id='{resource_id}' not found")
