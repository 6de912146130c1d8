"""Tenancy in storage (migration 0007): old rows, per-tenant names, and the tenant indexes.

The plans are checked with sequential scans off, so a tiny table shows which index the
repository's own SQL can use (a 100k-row fleet picks the same ones: bench/README.md).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from tests.integration.test_storage import insert, make_resource

from hyperfleet.config import DatabaseSettings
from hyperfleet.domain.search import parse_order, parse_search
from hyperfleet.errors import Conflict
from hyperfleet.services.ports import ListQuery
from hyperfleet.storage.migrations import available, migrate
from hyperfleet.storage.pool import make_pool
from hyperfleet.storage.repositories import SqlResourceRepository
from hyperfleet.storage.uow import SqlUnitOfWork

_counter = itertools.count()
ACME = {"org": "acme"}
GLOBEX = {"org": "globex"}


@pytest.fixture
async def empty_db_url(pg_admin_url: str) -> AsyncIterator[str]:
    name = f"hf_ten_{os.getpid()}_{next(_counter)}"
    base, _, query = pg_admin_url.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[SqlUnitOfWork]:
    pool = await make_pool(database_url, DatabaseSettings(pool_min_size=1, pool_max_size=2))
    try:
        yield SqlUnitOfWork(pool)
    finally:
        await pool.close()


async def test_rows_from_before_the_migration_get_an_empty_map(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_time timestamptz NOT NULL DEFAULT now())"
        )
        for migration in available():
            if migration.version >= 7:
                break
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
        old_body = {"id": "x", "kind": "Cluster", "name": "old", "status": {"conditions": []}}
        await conn.execute(
            "INSERT INTO resources (id, kind, name, href, spec, created_time, updated_time,"
            " created_by, updated_by, body) VALUES (gen_random_uuid(), 'Cluster', 'old', '/x',"
            " '{}', now(), now(), 'me', 'me', $1)",
            json.dumps(old_body, separators=(",", ":")).encode(),
        )
        changes = await conn.fetchval("SELECT count(*) FROM resource_changes")
        assert await migrate(conn) == [m.version for m in available() if m.version >= 7]
        row = await conn.fetchrow("SELECT tenant, body FROM resources")
        assert row is not None
        assert row["tenant"] == ""
        body = json.loads(row["body"])
        assert body == {**old_body, "tenancy": {}}
        assert list(body)[-1] == "tenancy", "where the renderer writes it"
        assert await conn.fetchval("SELECT count(*) FROM resource_changes") == changes, (
            "appending the field is no change a watcher sees"
        )
    finally:
        await conn.close()


async def test_root_names_are_unique_per_tenancy_map(uow: SqlUnitOfWork) -> None:
    await insert(uow, make_resource(name="same", tenancy=ACME))
    await insert(uow, make_resource(name="same", tenancy=GLOBEX))
    await insert(uow, make_resource(name="same", tenancy={"org": "acme", "team": "blue"}))
    await insert(uow, make_resource(name="same"))
    with pytest.raises(Conflict):
        await insert(uow, make_resource(name="same", tenancy=dict(ACME)))
    with pytest.raises(Conflict):
        await insert(uow, make_resource(name="same"))


class Explaining:
    """An asyncpg connection that also records the plan of every fetch it runs."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.plans: list[str] = []

    async def fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        plan = await self.conn.fetch("EXPLAIN " + sql, *args)
        self.plans.append("\n".join(r[0] for r in plan))
        return list(await self.conn.fetch(sql, *args))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchval(sql, *args)


@pytest.mark.parametrize(
    ("kind", "order"), [("Cluster", []), ("Cluster", ["updated_time"]), (None, [])]
)
async def test_tenant_lists_are_served_in_order_by_a_tenant_index(
    uow: SqlUnitOfWork, kind: str | None, order: list[str]
) -> None:
    await insert(
        uow,
        *(replace(make_resource(), tenancy=ACME if i % 2 else GLOBEX) for i in range(20)),
    )
    async with uow.read() as tx:
        conn = tx.resources._conn
        await conn.execute("SET enable_seqscan = off")
        explaining = Explaining(conn)
        page = await SqlResourceRepository(explaining).list_bodies(
            ListQuery(
                kind=kind,
                owner_id=None,
                search=parse_search(""),
                order=parse_order(order),
                page=1,
                size=5,
                tenancy="org=acme",
            )
        )
        await conn.execute("RESET enable_seqscan")
    assert page.total == 10
    assert all(json.loads(b)["tenancy"] == ACME for b in page.items)
    plan = explaining.plans[0]
    # Both the count and the page: the tenant as an index condition, and no sort.
    assert plan.count("using resources_tenant_") == 2, plan
    assert "Index Cond: " in plan
    assert "tenant = " in plan
    assert "Sort" not in plan, plan
