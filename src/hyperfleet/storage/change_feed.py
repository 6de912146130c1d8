"""The change table (migration 0006) read in commit order.

Change numbers come from a sequence when the trigger writes the row, not at commit, so a
transaction that took number 5 may commit after one that took 6. A reader must never hand out
6 and then 5 (ids must increase) nor skip 5 (nothing may be lost). So it reads only up to a
horizon H below which every number is settled: it reads H (the sequence's last value) and then
the transactions of this database that are open *now*. Any transaction holding a number <= H got
its transaction id before it took that number, so it is either in that list or already ended;
once every transaction in the list has ended, every number <= H is committed (and visible) or
rolled back for good, and `(position, H]` can be read in order.

A snapshot's xmin (the oldest open transaction) would not do: a transaction older than another
can take a larger number and commit first, and it is below xmin while the other is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from hyperfleet.services.change_feed import Change, Horizon

CHANNEL = "hyperfleet_changes"

_NEWEST = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS seq FROM resource_changes_seq"
# Open transactions of this database (pg_stat_activity is read afresh by every statement
# outside a transaction block). Other databases' transactions cannot hold our numbers.
_OPEN = (
    "SELECT coalesce(array_agg(backend_xid::text::bigint), '{}') FROM pg_stat_activity"
    " WHERE datname = current_database() AND backend_xid IS NOT NULL"
    " AND pid <> pg_backend_pid()"
)
_ANY_OPEN = (
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity"
    " WHERE backend_xid IS NOT NULL AND backend_xid::text::bigint = ANY($1::bigint[]))"
)
_CHANGES = (
    "SELECT seq, op, kind, resource_id::text AS resource_id, owner_id::text AS owner_id,"
    " old_body, new_body FROM resource_changes"
    " WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
)
_PRUNED = "SELECT coalesce((SELECT pruned_through FROM change_feed_state), 0)"
# The first change still inside the window bounds the cut; never past what the feed delivered.
_CUT = (
    "SELECT least($2::bigint, coalesce((SELECT seq - 1 FROM resource_changes"
    " WHERE changed_at >= now() - make_interval(secs => $1) ORDER BY seq LIMIT 1), $2::bigint))"
)
_MARK = (
    "INSERT INTO change_feed_state (singleton, pruned_through) VALUES (true, $1)"
    " ON CONFLICT (singleton) DO UPDATE"
    " SET pruned_through = greatest(change_feed_state.pruned_through, excluded.pruned_through)"
    " RETURNING pruned_through"
)


def _change(row: asyncpg.Record) -> Change:
    return Change(
        seq=row["seq"],
        op=row["op"],
        kind=row["kind"],
        resource_id=row["resource_id"],
        owner_id=row["owner_id"],
        old_body=row["old_body"],
        new_body=row["new_body"],
    )


async def _read_changes(conn: Any, after: int, through: int, limit: int) -> list[Change]:
    return [_change(r) for r in await conn.fetch(_CHANGES, after, through, limit)]


class SqlChangeSource:
    """The feed's one dedicated connection: LISTEN wake-ups and the in-order reads."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None

    async def connect(self, on_notify: Callable[[], None]) -> None:
        conn = await asyncpg.connect(
            self._url, server_settings={"application_name": "hyperfleet-change-feed"}
        )

        def notified(*_: object) -> None:
            on_notify()

        await conn.add_listener(CHANNEL, notified)
        conn.add_termination_listener(notified)
        self._conn = conn

    def is_connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    def _require(self) -> asyncpg.Connection[asyncpg.Record]:
        if self._conn is None:
            raise ConnectionError("the change feed connection is not open")
        return self._conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            await conn.close(timeout=5)

    async def horizon(self) -> Horizon:
        conn = self._require()
        seq = await conn.fetchval(_NEWEST)
        open_now = await conn.fetchval(_OPEN)
        return Horizon(int(seq), tuple(open_now))

    async def any_open(self, transactions: Sequence[int]) -> bool:
        return bool(await self._require().fetchval(_ANY_OPEN, list(transactions)))

    async def changes(self, after: int, through: int, limit: int) -> list[Change]:
        return await _read_changes(self._require(), after, through, limit)


class SqlChangeHistory:
    """Back-fill reads for resuming watchers and retention pruning, through the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def changes(self, after: int, through: int, limit: int) -> list[Change]:
        async with self._pool.acquire() as conn:
            return await _read_changes(conn, after, through, limit)

    async def pruned_through(self) -> int:
        return int(await self._pool.fetchval(_PRUNED))

    async def newest(self) -> int:
        return int(await self._pool.fetchval(_NEWEST))

    async def prune(self, older_than_seconds: float, through: int) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            cut = int(await conn.fetchval(_CUT, older_than_seconds, through))
            await conn.execute("DELETE FROM resource_changes WHERE seq <= $1", cut)
            return int(await conn.fetchval(_MARK, cut))
