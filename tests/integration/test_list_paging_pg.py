"""Keyset and page-number paging of `list_bodies` on PostgreSQL: ties, NULLs, every direction.

The reference is one page holding the whole list; a keyset walk and deep page numbers (the
index-only subquery) must reproduce it exactly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import asyncpg
import msgspec
import pytest
from tests.integration.test_storage import T0, insert, make_resource

from hyperfleet.config import DatabaseSettings
from hyperfleet.domain.search import parse_order, parse_search
from hyperfleet.services.ports import ListQuery
from hyperfleet.storage.pool import make_pool
from hyperfleet.storage.uow import SqlUnitOfWork

ORDERS = [
    [],
    ["created_time asc"],
    ["name"],
    ["name desc"],
    ["generation desc", "name"],
    ["deleted_time"],
    ["deleted_time desc"],
    ["deleted_by", "created_time desc"],
    ["updated_time", "generation desc"],
    ["id"],
]


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[SqlUnitOfWork]:
    pool: asyncpg.Pool = await make_pool(
        database_url, DatabaseSettings(pool_min_size=1, pool_max_size=2)
    )
    try:
        yield SqlUnitOfWork(pool)
    finally:
        await pool.close()


@pytest.fixture
async def fleet(uow: SqlUnitOfWork) -> None:
    """13 clusters with repeated created times, generations and names' prefixes, some deleted."""
    resources = []
    for i in range(13):
        r = make_resource(name=f"c-{i % 5}-{i:02d}", labels={"env": "prod" if i % 3 else "dev"})
        deleted = T0 + timedelta(minutes=i % 2) if i % 4 == 0 else None
        resources.append(
            replace(
                r,
                created_time=T0 + timedelta(seconds=i // 3),  # three rows share each time
                updated_time=T0 + timedelta(seconds=i % 4),
                generation=1 + i % 3,
                deleted_time=deleted,
                deleted_by="bob@example.com" if deleted and i % 8 == 0 else None,
            )
        )
    await insert(uow, *resources)


def query(order: list[str], *, search: str = "", **kw: object) -> ListQuery:
    base = ListQuery(
        kind="Cluster",
        owner_id=None,
        search=parse_search(search),
        order=parse_order(order),
        page=1,
        size=100,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def ids(bodies: list[bytes]) -> list[str]:
    return [msgspec.json.decode(b)["id"] for b in bodies]


@pytest.mark.usefixtures("fleet")
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("search", ["", "labels.env='prod'"])
async def test_keyset_walk_and_deep_pages_reproduce_the_whole_list(uow, order, search):
    async with uow.read() as tx:
        whole = await tx.resources.list_bodies(query(order, search=search))
        expected = ids(whole.items)
        assert len(expected) == (13 if not search else 8)
        assert (whole.total, whole.more) == (len(expected), False)

        walked: list[str] = []
        page = await tx.resources.list_bodies(query(order, search=search, size=4))
        while True:
            walked += ids(page.items)
            if not page.more:
                break
            assert page.last_key is not None
            page = await tx.resources.list_bodies(
                query(order, search=search, size=4, after=page.last_key, count=False)
            )
            assert page.total is None
        assert walked == expected

        numbered = []
        for n in range(1, 5):
            p = await tx.resources.list_bodies(query(order, search=search, size=3, page=n))
            assert p.total == len(expected)
            numbered += ids(p.items)
        assert numbered == expected[:12]


@pytest.mark.usefixtures("fleet")
async def test_page_beyond_the_end_still_counts(uow):
    async with uow.read() as tx:
        page = await tx.resources.list_bodies(query([], page=9, size=5))
    assert (page.items, page.total, page.last_key, page.more) == ([], 13, None, False)
