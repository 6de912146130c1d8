"""SQL implementations of the service ports. Rows become domain values here and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    from hyperfleet.storage.timing import TimedConnection

from hyperfleet.domain.cursor import KeyValue
from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    AdapterSummary,
    ConditionStatus,
    Phase,
    PhaseRecord,
    Resource,
    ResourceCondition,
)
from hyperfleet.domain.phases import PhaseTransition
from hyperfleet.domain.render import render_resource
from hyperfleet.domain.tenancy import parse_tenancy_label, tenancy_label
from hyperfleet.errors import Conflict
from hyperfleet.services.ports import ListQuery, Page, StoredBody, VersionedRead
from hyperfleet.storage.search_sql import (
    compile_keyset,
    compile_order,
    compile_search,
    key_columns,
)

T = TypeVar("T")
Conn: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record] | TimedConnection"
)

_COLUMNS = (
    "id, kind, name, href, owner_id, owner_kind, owner_href, spec, labels, generation, "
    "conditions, created_time, updated_time, created_by, updated_by, deleted_time, deleted_by, "
    "phase, phase_reason, phase_message, last_phase_transition_time, adapters, tenant"
)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


# Enum members by stored value: a dict lookup costs a fraction of calling the enum class, and
# every status PUT decodes a dozen of them.
_STATUS: dict[str, ConditionStatus] = {s.value: s for s in ConditionStatus}
_PHASE: dict[str, Phase] = {p.value: p for p in Phase}


def _condition_from_json(item: dict[str, Any]) -> ResourceCondition:
    return ResourceCondition(
        type=item["type"],
        status=_STATUS[item["status"]],
        reason=item.get("reason"),
        message=item.get("message"),
        observed_generation=item["observed_generation"],
        created_time=_ts(item["created_time"]),
        last_updated_time=_ts(item["last_updated_time"]),
        last_transition_time=_ts(item["last_transition_time"]),
    )


# Documents stored as jsonb keep datetimes as values: the msgspec codec writes them as RFC 3339
# (UTC "Z") itself, which `_ts` reads back, and is much cheaper than isoformat() per field.


def _condition_to_json(cond: ResourceCondition) -> dict[str, Any]:
    return {
        "type": cond.type,
        "status": cond.status,  # a StrEnum: msgspec writes its value
        "reason": cond.reason,
        "message": cond.message,
        "observed_generation": cond.observed_generation,
        "created_time": cond.created_time,
        "last_updated_time": cond.last_updated_time,
        "last_transition_time": cond.last_transition_time,
    }


def _summary_to_json(item: AdapterSummary) -> dict[str, Any]:
    return {
        "adapter": item.adapter,
        "state": item.state,
        "required": item.required,
        "observed_generation": item.observed_generation,
        "last_report_time": item.last_report_time,
        "blocked_by": list(item.blocked_by),
    }


def _summary_from_json(item: dict[str, Any]) -> AdapterSummary:
    last = item.get("last_report_time")
    return AdapterSummary(
        adapter=item["adapter"],
        state=item["state"],
        required=item["required"],
        observed_generation=item.get("observed_generation"),
        last_report_time=_ts(last) if last else None,
        blocked_by=tuple(item.get("blocked_by") or ()),
    )


def _phase(row: asyncpg.Record) -> PhaseRecord | None:
    if row["phase"] is None:
        return None
    return PhaseRecord(
        phase=_PHASE[row["phase"]],
        reason=row["phase_reason"] or "",
        message=row["phase_message"] or "",
        last_transition_time=row["last_phase_transition_time"],
    )


def _resource(row: asyncpg.Record) -> Resource:
    return Resource(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        href=row["href"],
        spec=row["spec"],
        labels=row["labels"],
        generation=row["generation"],
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        owner_id=row["owner_id"],
        owner_kind=row["owner_kind"],
        owner_href=row["owner_href"],
        deleted_time=row["deleted_time"],
        deleted_by=row["deleted_by"],
        conditions=tuple(_condition_from_json(c) for c in row["conditions"]),
        phase=_phase(row),
        adapters=tuple(_summary_from_json(a) for a in row["adapters"]),
        tenancy=parse_tenancy_label(row["tenant"]),
    )


def _phase_columns(resource: Resource) -> tuple[Any, ...]:
    phase = resource.phase
    if phase is None:
        return (None, None, None, None)
    return (phase.phase.value, phase.reason, phase.message, phase.last_transition_time)


_GET_BODY = "SELECT kind, owner_id, generation, updated_time, body FROM resources WHERE id = $1"


class SqlResourceRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def insert(self, resource: Resource) -> None:
        try:
            await self._conn.execute(
                "INSERT INTO resources (id, kind, name, href, owner_id, owner_kind, owner_href,"
                " spec, labels, generation, conditions, created_time, updated_time, created_by,"
                " updated_by, deleted_time, deleted_by, body, phase, phase_reason, phase_message,"
                " last_phase_transition_time, adapters, tenant)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                " $16, $17, $18, $19, $20, $21, $22, $23, $24)",
                resource.id,
                resource.kind,
                resource.name,
                resource.href,
                resource.owner_id,
                resource.owner_kind,
                resource.owner_href,
                resource.spec,
                resource.labels,
                resource.generation,
                [_condition_to_json(c) for c in resource.conditions],
                resource.created_time,
                resource.updated_time,
                resource.created_by,
                resource.updated_by,
                resource.deleted_time,
                resource.deleted_by,
                render_resource(resource),
                *_phase_columns(resource),
                [_summary_to_json(a) for a in resource.adapters],
                tenancy_label(resource.tenancy),
            )
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"This {resource.kind} already exists") from exc
        await self._write_conditions(resource)

    async def get(self, resource_id: str) -> Resource | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM resources WHERE id = $1", resource_id
        )
        return _resource(row) if row is not None else None

    async def get_for_update(self, resource_id: str) -> Resource | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM resources WHERE id = $1 FOR UPDATE", resource_id
        )
        return _resource(row) if row is not None else None

    async def get_body(self, resource_id: str, *, tenancy: str | None = None) -> StoredBody | None:
        if tenancy is None:
            row = await self._conn.fetchrow(_GET_BODY, resource_id)
        else:
            row = await self._conn.fetchrow(_GET_BODY + " AND tenant = $2", resource_id, tenancy)
        if row is None:
            return None
        return StoredBody(
            row["kind"], row["owner_id"], row["generation"], row["updated_time"], row["body"]
        )

    async def save(self, resource: Resource, *, conditions_changed: bool) -> None:
        await self.save_status(resource, previous=() if conditions_changed else resource.conditions)

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
        before = {c.type: c for c in previous}
        changed = [c for c in resource.conditions if before.get(c.type) != c]
        kept = [c.type for c in resource.conditions]
        # The index rows are read back from the conditions document ($5) by type: one jsonb
        # parameter instead of eight arrays to encode.
        # Rows of types no longer present go; unknown `previous` (empty) prunes to be sure.
        prune = not previous or set(kept) != set(before)
        saved = await self._conn.fetchval(
            _SAVE_STATUS,
            resource.id,
            # NULL keeps the stored value: a status write then leaves every indexed column
            # bytewise as it was, so PostgreSQL can update the row in place (HOT) instead of
            # adding an entry to each of its indexes. Re-sent, an equal spec does not compare
            # bytewise equal to the stored one.
            resource.spec if content_changed else None,
            resource.labels if content_changed else None,
            resource.generation,
            [_condition_to_json(c) for c in resource.conditions],
            resource.updated_time,
            resource.updated_by,
            resource.deleted_time,
            resource.deleted_by,
            render_resource(resource),
            *_phase_columns(resource),
            [_summary_to_json(a) for a in resource.adapters],
            prune,
            kept,
            [c.type for c in changed],
            *_transition_columns(transition),
            *_report_columns(report),
            expected_version,
        )
        return bool(saved)

    async def get_with_reports(
        self, resource_id: str
    ) -> tuple[Resource, list[AdapterReport]] | None:
        row = await self._conn.fetchrow(_GET_WITH_REPORTS, resource_id)
        if row is None:
            return None
        return _resource(row), [_report(r) for r in row["reports"]]

    async def read_with_reports(self, resource_id: str) -> VersionedRead | None:
        row = await self._conn.fetchrow(_READ_WITH_REPORTS, resource_id)
        if row is None:
            return None
        return VersionedRead(_resource(row), [_report(r) for r in row["reports"]], row["version"])

    async def _write_conditions(self, resource: Resource) -> None:
        conds = resource.conditions
        if not conds:
            return
        await self._conn.execute(
            "INSERT INTO resource_conditions (resource_id, type, status, reason, message,"
            " observed_generation, created_time, last_updated_time, last_transition_time)"
            " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],"
            " $6::int[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])",
            resource.id,
            [c.type for c in conds],
            [c.status.value for c in conds],
            [c.reason for c in conds],
            [c.message for c in conds],
            [c.observed_generation for c in conds],
            [c.created_time for c in conds],
            [c.last_updated_time for c in conds],
            [c.last_transition_time for c in conds],
        )

    async def list_bodies(self, query: ListQuery) -> Page[bytes]:
        params: list[object] = []
        where: list[str] = []
        if query.kind is not None:
            params.append(query.kind)
            where.append(f"r.kind = ${len(params)}")
        if query.owner_id is not None:
            params.append(query.owner_id)
            where.append(f"r.owner_id = ${len(params)}")
        if query.tenancy is not None:
            # The second term is implied by the first (a tenant's label is never empty); it is
            # the predicate of the tenant indexes (migration 0007), so the planner can use them.
            params.append(query.tenancy)
            where.append(f"r.tenant = ${len(params)} AND r.tenant <> ''")
        if query.search is not None:
            where.append(f"({compile_search(query.search, params)})")
        clause = " AND ".join(where) or "TRUE"
        count_sql = f"SELECT count(*) FROM resources r WHERE {clause}"
        count_params = list(params)
        order = compile_order(query.order)
        key_exprs = key_columns(query.order)
        keys = ", ".join(f"{c} AS k{i}" for i, c in enumerate(key_exprs))
        # The count rides along as an uncorrelated subquery (evaluated once): one round trip.
        select = f"({count_sql}) AS total, r.body, {keys}" if query.count else f"r.body, {keys}"
        if query.after is not None:
            keyset = compile_keyset(query.order, query.after, params)
            params.append(query.size + 1)
            sql = (
                f"SELECT {select} FROM resources r WHERE {clause} AND {keyset} {order}"
                f" LIMIT ${len(params)}"
            )
        elif query.page == 1:
            params.append(query.size + 1)
            sql = f"SELECT {select} FROM resources r WHERE {clause} {order} LIMIT ${len(params)}"
        else:
            # A deep page skips rows in a subquery that needs only the key columns (an
            # index-only scan when the filter is the kind or owner), then reads just the
            # page's rows by primary key.
            params += [query.size + 1, (query.page - 1) * query.size]
            sql = (
                f"SELECT {select} FROM resources r WHERE r.id = ANY(ARRAY("
                f"SELECT r.id FROM resources r WHERE {clause} {order}"
                f" LIMIT ${len(params) - 1} OFFSET ${len(params)})) {order}"
            )
        rows = await self._conn.fetch(sql, *params)
        total: int | None = None
        if query.count:
            if rows:
                total = int(rows[0]["total"])
            else:
                total = int(await self._conn.fetchval(count_sql, *count_params))
        return _page([r["body"] for r in rows], rows, query.size, total, keys=len(key_exprs))

    async def children_for_update(self, owner_id: str) -> list[Resource]:
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM resources WHERE owner_id = $1 ORDER BY id FOR UPDATE",
            owner_id,
        )
        return [_resource(r) for r in rows]

    async def count_children(self, owner_id: str) -> tuple[int, int]:
        row = await self._conn.fetchrow(
            "SELECT count(*) FILTER (WHERE deleted_time IS NULL) AS live,"
            " count(*) FILTER (WHERE deleted_time IS NOT NULL) AS deleting"
            " FROM resources WHERE owner_id = $1",
            owner_id,
        )
        assert row is not None  # noqa: S101 - an aggregate always returns one row
        return int(row["live"]), int(row["deleting"])

    async def delete(self, resource_ids: Sequence[str]) -> None:
        await self._conn.execute(
            "DELETE FROM resources WHERE id = ANY($1::uuid[])", list(resource_ids)
        )

    async def subtree_ids(self, resource_id: str) -> list[str]:
        rows = await self._conn.fetch(
            "WITH RECURSIVE tree(id, depth) AS ("
            " SELECT id, 0 FROM resources WHERE id = $1"
            " UNION ALL SELECT r.id, tree.depth + 1 FROM resources r"
            " JOIN tree ON r.owner_id = tree.id)"
            " SELECT id FROM tree ORDER BY depth DESC, id",
            resource_id,
        )
        ids = [r["id"] for r in rows]
        await self._conn.execute(
            "SELECT 1 FROM resources WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", ids
        )
        return ids

    async def add_phase_transition(self, resource_id: str, transition: PhaseTransition) -> None:
        await self._conn.execute(
            "INSERT INTO phase_history (resource_id, from_phase, to_phase, generation, reason,"
            " message, time) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            resource_id,
            transition.from_phase.value if transition.from_phase is not None else None,
            transition.to_phase.value,
            transition.generation,
            transition.reason,
            transition.message,
            transition.time,
        )

    async def phase_history(
        self, resource_id: str, *, page: int, size: int, after: int | None = None
    ) -> Page[PhaseTransition]:
        columns = "id AS k0, from_phase, to_phase, generation, reason, message, time"
        if after is not None:
            rows = await self._conn.fetch(
                f"SELECT {columns} FROM phase_history WHERE resource_id = $1 AND id < $2"
                " ORDER BY id DESC LIMIT $3",
                resource_id,
                after,
                size + 1,
            )
            total = None
        else:
            rows = await self._conn.fetch(
                f"SELECT (SELECT count(*) FROM phase_history WHERE resource_id = $1) AS total,"
                f" {columns} FROM phase_history WHERE resource_id = $1"
                " ORDER BY id DESC LIMIT $2 OFFSET $3",
                resource_id,
                size + 1,
                (page - 1) * size,
            )
            total = int(rows[0]["total"]) if rows else await self._count_history(resource_id)
        items = [
            PhaseTransition(
                from_phase=Phase(r["from_phase"]) if r["from_phase"] else None,
                to_phase=Phase(r["to_phase"]),
                generation=r["generation"],
                reason=r["reason"],
                message=r["message"],
                time=r["time"],
            )
            for r in rows[:size]
        ]
        return _page(items, rows, size, total, keys=1)

    async def _count_history(self, resource_id: str) -> int:
        return int(
            await self._conn.fetchval(
                "SELECT count(*) FROM phase_history WHERE resource_id = $1", resource_id
            )
        )

    async def ids_to_reaggregate(
        self, kinds: Sequence[str], *, after: str | None, limit: int, only_missing_phase: bool
    ) -> list[str]:
        rows = await self._conn.fetch(
            "SELECT id FROM resources WHERE kind = ANY($1::text[])"
            " AND ($2::uuid IS NULL OR id > $2::uuid)"
            " AND (NOT $3::boolean OR phase IS NULL)"
            " ORDER BY id LIMIT $4",
            list(kinds),
            after,
            only_missing_phase,
            limit,
        )
        return [r["id"] for r in rows]


def _conditions_from_json(items: list[dict[str, Any]]) -> tuple[AdapterCondition, ...]:
    out = []
    for c in items:
        status = c.get("status")
        if isinstance(status, str) and status in _STATUS:
            out.append(
                AdapterCondition(
                    type=c["type"],
                    status=_STATUS[status],
                    reason=c.get("reason"),
                    message=c.get("message"),
                    last_transition_time=_ts(c["last_transition_time"]),
                )
            )
    return tuple(out)


def _conditions_to_json(report: AdapterReport) -> list[dict[str, Any]]:
    return [
        {
            "type": c.type,
            "status": c.status,
            "reason": c.reason,
            "message": c.message,
            "last_transition_time": c.last_transition_time,
        }
        for c in report.conditions
    ]


def _known_to_json(report: AdapterReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "observed_generation": report.observed_generation,
        "conditions": _conditions_to_json(report),
        "created_time": report.created_time,
        "last_report_time": report.last_report_time,
    }


def _report(row: asyncpg.Record | tuple[Any, ...]) -> AdapterReport:
    """A report from the columns of `_STATUS_COLUMNS`, in that order (a row or a record)."""
    adapter, generation, conditions, data, metadata, created, last, known = row
    return AdapterReport(
        adapter=adapter,
        observed_generation=generation,
        conditions=_conditions_from_json(conditions),
        created_time=created,
        last_report_time=last,
        data=data,
        metadata=metadata,
        last_known=AdapterReport(
            adapter=adapter,
            observed_generation=known["observed_generation"],
            conditions=_conditions_from_json(known["conditions"]),
            created_time=_ts(known["created_time"]),
            last_report_time=_ts(known["last_report_time"]),
        )
        if known is not None
        else None,
    )


_STATUS_COLUMNS = (
    "adapter, observed_generation, conditions, data, metadata, created_time, last_report_time,"
    " last_known"
)

# The resource with its reports (a record per adapter, by name): one read for a status PUT.
_GET_WITH_REPORTS = (
    f"SELECT {_COLUMNS}, ARRAY(SELECT ROW({_STATUS_COLUMNS}) FROM adapter_statuses"
    " WHERE resource_id = resources.id ORDER BY adapter) AS reports"
    " FROM resources WHERE id = $1 FOR UPDATE"
)

# The same read without a lock, with the row version (`xmin`, the id of the transaction that
# wrote this version of the row: any later write of the row changes it) for a guarded write.
_READ_WITH_REPORTS = (
    f"SELECT xmin AS version, {_COLUMNS}, ARRAY(SELECT ROW({_STATUS_COLUMNS})"
    " FROM adapter_statuses WHERE resource_id = resources.id ORDER BY adapter) AS reports"
    " FROM resources WHERE id = $1"
)

# Everything a status write changes, in one statement. The CTEs touch disjoint rows (the
# condition types removed vs. those upserted), as they must: they all see one snapshot.
# With a version ($33) the row is written only if it is still that version (under READ
# COMMITTED a concurrent writer's commit is rechecked against the guard), and every other
# CTE only when the row was: a lost race writes nothing and returns 0.
_SAVE_STATUS = """WITH saved AS (
  UPDATE resources SET spec = COALESCE($2, spec), labels = COALESCE($3, labels),
    generation = $4, conditions = $5,
    updated_time = $6, updated_by = $7, deleted_time = $8, deleted_by = $9, body = $10,
    phase = $11, phase_reason = $12, phase_message = $13, last_phase_transition_time = $14,
    adapters = $15
  WHERE id = $1 AND ($33::xid IS NULL OR xmin = $33::xid) RETURNING id
), gone AS (
  DELETE FROM resource_conditions
  WHERE $16::boolean AND resource_id = $1 AND type <> ALL($17::text[])
    AND EXISTS (SELECT FROM saved)
), conds AS (
  INSERT INTO resource_conditions (resource_id, type, status, reason, message,
    observed_generation, created_time, last_updated_time, last_transition_time)
  SELECT $1, c.* FROM jsonb_to_recordset($5::jsonb) AS c(type text, status text, reason text,
    message text, observed_generation int, created_time timestamptz,
    last_updated_time timestamptz, last_transition_time timestamptz)
  WHERE c.type = ANY($18::text[]) AND EXISTS (SELECT FROM saved)
  ON CONFLICT (resource_id, type) DO UPDATE SET status = EXCLUDED.status,
    reason = EXCLUDED.reason, message = EXCLUDED.message,
    observed_generation = EXCLUDED.observed_generation, created_time = EXCLUDED.created_time,
    last_updated_time = EXCLUDED.last_updated_time,
    last_transition_time = EXCLUDED.last_transition_time
), history AS (
  INSERT INTO phase_history (resource_id, from_phase, to_phase, generation, reason, message,
    time)
  SELECT $1, $19::text, $20::text, $21::int, $22::text, $23::text, $24::timestamptz
  WHERE $20::text IS NOT NULL AND EXISTS (SELECT FROM saved)
), report AS (
  INSERT INTO adapter_statuses (resource_id, adapter, observed_generation, conditions, data,
    metadata, created_time, last_report_time, last_known)
  SELECT $1, $25::text, $26::int, $27::jsonb, $28::jsonb, $29::jsonb, $30::timestamptz,
    $31::timestamptz, $32::jsonb
  WHERE $25::text IS NOT NULL AND EXISTS (SELECT FROM saved)
  ON CONFLICT (resource_id, adapter) DO UPDATE SET
    observed_generation = EXCLUDED.observed_generation, conditions = EXCLUDED.conditions,
    data = EXCLUDED.data, metadata = EXCLUDED.metadata,
    last_report_time = EXCLUDED.last_report_time, last_known = EXCLUDED.last_known
)
SELECT count(*) FROM saved"""


def _transition_columns(transition: PhaseTransition | None) -> tuple[Any, ...]:
    if transition is None:
        return (None,) * 6
    return (
        transition.from_phase.value if transition.from_phase is not None else None,
        transition.to_phase.value,
        transition.generation,
        transition.reason,
        transition.message,
        transition.time,
    )


def _report_columns(report: AdapterReport | None) -> tuple[Any, ...]:
    if report is None:
        return (None,) * 8
    return (
        report.adapter,
        report.observed_generation,
        _conditions_to_json(report),
        report.data,
        report.metadata,
        report.created_time,
        report.last_report_time,
        _known_to_json(report.last_known),
    )


class SqlStatusRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def for_resource(self, resource_id: str) -> list[AdapterReport]:
        rows = await self._conn.fetch(
            f"SELECT {_STATUS_COLUMNS} FROM adapter_statuses WHERE resource_id = $1"
            " ORDER BY adapter",
            resource_id,
        )
        return [_report(r) for r in rows]

    async def upsert(self, resource_id: str, report: AdapterReport) -> None:
        await self._conn.execute(
            "INSERT INTO adapter_statuses (resource_id, adapter, observed_generation, conditions,"
            " data, metadata, created_time, last_report_time, last_known)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (resource_id, adapter) DO UPDATE SET"
            " observed_generation = EXCLUDED.observed_generation,"
            " conditions = EXCLUDED.conditions, data = EXCLUDED.data,"
            " metadata = EXCLUDED.metadata, last_report_time = EXCLUDED.last_report_time,"
            " last_known = EXCLUDED.last_known",
            resource_id,
            report.adapter,
            report.observed_generation,
            _conditions_to_json(report),
            report.data,
            report.metadata,
            report.created_time,
            report.last_report_time,
            _known_to_json(report.last_known),
        )

    async def page(
        self, resource_id: str, *, page: int, size: int, after: str | None = None
    ) -> Page[AdapterReport]:
        # The report's columns first, as `_report` unpacks them by position.
        columns = f"{_STATUS_COLUMNS}, adapter AS k0"
        if after is not None:
            rows = await self._conn.fetch(
                f"SELECT {columns} FROM adapter_statuses WHERE resource_id = $1 AND adapter > $2"
                " ORDER BY adapter LIMIT $3",
                resource_id,
                after,
                size + 1,
            )
            total = None
        else:
            rows = await self._conn.fetch(
                f"SELECT {columns},"
                " (SELECT count(*) FROM adapter_statuses WHERE resource_id = $1) AS total"
                " FROM adapter_statuses WHERE resource_id = $1"
                " ORDER BY adapter LIMIT $2 OFFSET $3",
                resource_id,
                size + 1,
                (page - 1) * size,
            )
            total = int(rows[0]["total"]) if rows else await self._count(resource_id)
        width = _STATUS_COLUMNS.count(",") + 1
        return _page([_report(tuple(r)[:width]) for r in rows[:size]], rows, size, total, keys=1)

    async def _count(self, resource_id: str) -> int:
        return int(
            await self._conn.fetchval(
                "SELECT count(*) FROM adapter_statuses WHERE resource_id = $1", resource_id
            )
        )


def _page(
    items: list[T], rows: list[asyncpg.Record], size: int, total: int | None, *, keys: int
) -> Page[T]:
    """A page from up to `size + 1` fetched rows whose sort key is in columns k0, k1 and so on."""
    kept = rows[:size]
    last_key: tuple[KeyValue, ...] | None = None
    if kept:
        last_key = tuple(kept[-1][f"k{i}"] for i in range(keys))
    return Page(items[:size], total, last_key, more=len(rows) > size)
