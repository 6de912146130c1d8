"""Read-only queries for operational gauges."""

from __future__ import annotations

import asyncpg


async def reconciliation_stats(
    pool: asyncpg.Pool, stuck_after_seconds: float
) -> list[tuple[str, bool, int, int, float]]:
    """(kind, is_delete, pending, stuck, longest seconds) over Reconciled=False resources.

    One indexed query (resource_conditions (type, status)); no per-row work in Python.
    """
    rows = await pool.fetch(
        "SELECT r.kind, r.deleted_time IS NOT NULL AS is_delete, count(*) AS pending,"
        " count(*) FILTER (WHERE rc.last_transition_time < now() - make_interval(secs => $1))"
        " AS stuck,"
        " COALESCE(EXTRACT(EPOCH FROM max(now() - rc.last_transition_time)), 0) AS longest"
        " FROM resource_conditions rc JOIN resources r ON r.id = rc.resource_id"
        " WHERE rc.type = 'Reconciled' AND rc.status = 'False'"
        " GROUP BY r.kind, r.deleted_time IS NOT NULL",
        stuck_after_seconds,
    )
    return [
        (r["kind"], r["is_delete"], int(r["pending"]), int(r["stuck"]), float(r["longest"]))
        for r in rows
    ]
