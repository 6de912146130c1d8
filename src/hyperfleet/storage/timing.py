"""Statement timing for `hyperfleet_db_query_duration_seconds`, without touching each query.

`TimedConnection` stands in for the pooled connection the repositories use: every statement
is timed and reported as (operation, table, seconds) to a callback that the composition root
wires to the metrics. The labels come from the SQL text itself (the verb, the first table it
names), worked out once per distinct statement.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

QueryObserver = Callable[[str, str, float], None]
"""Called after each statement with (operation, table, seconds)."""

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_FIRST_CTE = re.compile(r"\bAS\s*\(\s*(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_VERBS = frozenset({"select", "insert", "update", "delete"})
_MAX_CACHED = 512  # search SQL varies with the filter; past this, labels are recomputed
_labels: dict[str, tuple[str, str]] = {}


def statement_labels(sql: str) -> tuple[str, str]:
    """(operation, table) of a statement.

    The operation is `select`/`insert`/`update`/`delete` (else `other`), the table the first
    one after FROM, INTO or UPDATE (`none` without one).
    """
    cached = _labels.get(sql)
    if cached is not None:
        return cached
    words = sql.lstrip().split(None, 1)
    verb = words[0].lower() if words else ""
    if verb == "with":  # CTEs: the verb of the first one (a data-modifying CTE leads)
        found = _FIRST_CTE.search(sql)
        verb = found.group(1).lower() if found else "select"
    table = _TABLE.search(sql)
    labels = (verb if verb in _VERBS else "other", table.group(1).lower() if table else "none")
    if len(_labels) < _MAX_CACHED:
        _labels[sql] = labels
    return labels


class TimedConnection:
    """The subset of an asyncpg connection the repositories use, each call timed."""

    __slots__ = ("_conn", "_observe")

    def __init__(
        self,
        conn: asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record],
        observe: QueryObserver,
    ) -> None:
        self._conn = conn
        self._observe = observe

    async def execute(self, query: str, *args: Any) -> str:
        start = time.perf_counter()
        try:
            return await self._conn.execute(query, *args)
        finally:
            self._observe(*statement_labels(query), time.perf_counter() - start)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        start = time.perf_counter()
        try:
            return await self._conn.fetch(query, *args)
        finally:
            self._observe(*statement_labels(query), time.perf_counter() - start)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        start = time.perf_counter()
        try:
            return await self._conn.fetchrow(query, *args)
        finally:
            self._observe(*statement_labels(query), time.perf_counter() - start)

    async def fetchval(self, query: str, *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return await self._conn.fetchval(query, *args)
        finally:
            self._observe(*statement_labels(query), time.perf_counter() - start)
