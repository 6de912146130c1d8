"""Repositories and the unit of work against real PostgreSQL (house style §5.5).

Round trips of domain values, the stored rendered body, unique names, rollback, row locks,
subtree order, driver-error translation and the statement timeout.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
import uuid_utils

from hyperfleet import errors
from hyperfleet.config import DatabaseSettings
from hyperfleet.domain.aggregation import initial_conditions
from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    ConditionStatus,
    Resource,
    ResourceCondition,
)
from hyperfleet.domain.render import render_resource
from hyperfleet.storage import uow as uow_module
from hyperfleet.storage.pool import make_pool
from hyperfleet.storage.repositories import SqlResourceRepository
from hyperfleet.storage.uow import DB_UNAVAILABLE, SqlUnitOfWork, translate

API = "/api/hyperfleet/v1"
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
TRUE = ConditionStatus.TRUE
FALSE = ConditionStatus.FALSE


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await make_pool(database_url, DatabaseSettings(pool_min_size=1, pool_max_size=4))
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
def uow(pool: asyncpg.Pool) -> SqlUnitOfWork:
    return SqlUnitOfWork(pool)


def new_id() -> str:
    return str(uuid_utils.uuid7())


def make_resource(
    *,
    kind: str = "Cluster",
    name: str | None = None,
    owner: Resource | None = None,
    plural: str | None = None,
    **overrides: Any,
) -> Resource:
    rid = new_id()
    plural = plural or kind.lower() + "s"
    href = f"{owner.href}/{plural}/{rid}" if owner else f"{API}/{plural}/{rid}"
    resource = Resource(
        id=rid,
        kind=kind,
        name=name or f"r-{rid[-12:]}",
        href=href,
        spec={"region": "eu", "nodes": {"count": 3, "ratio": 1.5, "tags": ["a", None, True]}},
        labels={"env": "prod", "team": "core"},
        generation=1,
        created_time=T0,
        updated_time=T0,
        created_by="alice@example.com",
        updated_by="alice@example.com",
        owner_id=owner.id if owner else None,
        owner_kind=owner.kind if owner else None,
        owner_href=owner.href if owner else None,
    )
    resource = replace(
        resource,
        conditions=initial_conditions(
            generation=1, required_adapters=("validation", "dns"), ref_time=T0
        ),
    )
    return replace(resource, **overrides)


def adapter_report(adapter: str, at: datetime, **overrides: Any) -> AdapterReport:
    report = AdapterReport(
        adapter=adapter,
        observed_generation=1,
        conditions=(
            AdapterCondition("Available", TRUE, "Ready", "all good", at),
            AdapterCondition("Applied", TRUE, None, None, at - timedelta(seconds=5)),
            AdapterCondition("Health", FALSE, "Degraded", None, at),
        ),
        created_time=at,
        last_report_time=at,
        data={"k": [1, 2], "nested": {"x": None}},
        metadata={"job_name": "job-1", "attempt": 2},
    )
    return replace(report, **overrides)


async def insert(uow: SqlUnitOfWork, *resources: Resource) -> None:
    async with uow.begin() as tx:
        for resource in resources:
            await tx.resources.insert(resource)


async def load(uow: SqlUnitOfWork, resource_id: str) -> Resource | None:
    async with uow.read() as tx:
        return await tx.resources.get(resource_id)


# --- round trips ----------------------------------------------------------------------------------


async def test_insert_and_get_round_trip(uow: SqlUnitOfWork):
    resource = make_resource()
    await insert(uow, resource)
    loaded = await load(uow, resource.id)
    assert loaded == resource
    assert loaded is not None
    assert loaded.created_time.microsecond == 123456
    assert [c.type for c in loaded.conditions] == ["Reconciled", "LastKnownReconciled"]
    async with uow.begin() as tx:
        assert await tx.resources.get_for_update(resource.id) == resource


async def test_child_round_trip_keeps_owner_fields(uow: SqlUnitOfWork):
    parent = make_resource()
    child = make_resource(kind="NodePool", owner=parent, plural="nodepools", labels={})
    await insert(uow, parent, child)
    loaded = await load(uow, child.id)
    assert loaded == child
    assert loaded is not None
    assert (loaded.owner_id, loaded.owner_kind, loaded.owner_href) == (
        parent.id,
        "Cluster",
        parent.href,
    )


async def test_save_round_trip_with_changed_conditions(uow: SqlUnitOfWork, db: asyncpg.Connection):
    resource = make_resource()
    await insert(uow, resource)
    t1 = T0 + timedelta(minutes=1, microseconds=7)
    conditions = (
        ResourceCondition("Reconciled", TRUE, "ReconciledAll", "done", 2, T0, t1, t1),
        ResourceCondition("ValidationSuccessful", FALSE, None, None, 2, T0, t1, T0),
    )
    saved = replace(
        resource,
        spec={"region": "us"},
        labels={},
        generation=2,
        updated_time=t1,
        updated_by="bob@example.com",
        deleted_time=t1,
        deleted_by="bob@example.com",
        conditions=conditions,
    )
    async with uow.begin() as tx:
        await tx.resources.get_for_update(resource.id)
        await tx.resources.save(saved, conditions_changed=True)
    assert await load(uow, resource.id) == saved

    rows = await db.fetch(
        "SELECT type, status, reason, message, observed_generation, created_time,"
        " last_updated_time, last_transition_time FROM resource_conditions"
        " WHERE resource_id = $1 ORDER BY type",
        uuid.UUID(resource.id),
    )
    assert [tuple(r) for r in rows] == [
        ("Reconciled", "True", "ReconciledAll", "done", 2, T0, t1, t1),
        ("ValidationSuccessful", "False", None, None, 2, T0, t1, T0),
    ]


async def test_save_without_condition_change_leaves_condition_rows(
    uow: SqlUnitOfWork, db: asyncpg.Connection
):
    resource = make_resource()
    await insert(uow, resource)
    async with uow.begin() as tx:
        await tx.resources.save(replace(resource, generation=5), conditions_changed=False)
    count = await db.fetchval(
        "SELECT count(*) FROM resource_conditions WHERE resource_id = $1", uuid.UUID(resource.id)
    )
    assert count == 2
    loaded = await load(uow, resource.id)
    assert loaded is not None
    assert loaded.generation == 5


async def test_stored_body_is_the_rendered_resource(uow: SqlUnitOfWork):
    resource = make_resource(spec={"zz": 1, "aa": {"b": 2, "a": 1}})
    await insert(uow, resource)
    async with uow.read() as tx:
        row = await tx.resources.get_body(resource.id)
    assert row is not None
    kind, owner_id, body = row.kind, row.owner_id, row.body
    assert (kind, owner_id) == ("Cluster", None)
    assert (row.generation, row.updated_time) == (resource.generation, resource.updated_time)
    assert bytes(body) == render_resource(resource)

    loaded = await load(uow, resource.id)
    assert loaded is not None
    assert msgspec.json.decode(body) == msgspec.json.decode(render_resource(loaded))

    changed = replace(loaded, generation=2, updated_time=T0 + timedelta(seconds=1))
    async with uow.begin() as tx:
        await tx.resources.save(changed, conditions_changed=False)
        row = await tx.resources.get_body(resource.id)
    assert row is not None
    assert bytes(row.body) == render_resource(changed)


async def test_missing_rows_are_none(uow: SqlUnitOfWork):
    missing = new_id()
    async with uow.begin() as tx:
        assert await tx.resources.get(missing) is None
        assert await tx.resources.get_for_update(missing) is None
        assert await tx.resources.get_body(missing) is None
        assert await tx.statuses.for_resource(missing) == []


# --- unique names ---------------------------------------------------------------------------------


async def test_duplicate_live_root_name_is_a_conflict(uow: SqlUnitOfWork):
    first = make_resource(name="taken")
    await insert(uow, first)
    with pytest.raises(errors.Conflict) as caught:
        await insert(uow, make_resource(name="taken"))
    assert caught.value.code == "HYPERFLEET-CNF-001"
    assert type(caught.value) is errors.Conflict
    assert isinstance(caught.value.__cause__, asyncpg.UniqueViolationError)
    # Same name, another kind: fine.
    await insert(uow, make_resource(kind="Channel", name="taken"))


async def test_duplicate_child_name_is_a_conflict_per_owner(uow: SqlUnitOfWork):
    a, b = make_resource(), make_resource()
    await insert(uow, a, b)
    await insert(uow, make_resource(kind="NodePool", owner=a, name="np"))
    await insert(uow, make_resource(kind="NodePool", owner=b, name="np"))
    with pytest.raises(errors.Conflict):
        await insert(uow, make_resource(kind="NodePool", owner=a, name="np"))


async def test_soft_deleted_rows_free_their_name(uow: SqlUnitOfWork):
    gone = make_resource(name="reuse", deleted_time=T0, deleted_by="x")
    await insert(uow, gone)
    await insert(uow, make_resource(name="reuse"))


# --- transactions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("boom"), errors.ValidationFailed("late validation"), KeyError("k")],
    ids=["bug", "hyperfleet-error", "key-error"],
)
async def test_exception_rolls_back_everything(
    uow: SqlUnitOfWork, db: asyncpg.Connection, exc: Exception
):
    resource = make_resource()

    async def write_then_fail() -> None:
        async with uow.begin() as tx:
            await tx.resources.insert(resource)
            await tx.statuses.upsert(resource.id, adapter_report("validation", T0))
            assert await tx.resources.get(resource.id) == resource
            raise exc

    with pytest.raises(type(exc)):
        await write_then_fail()
    assert await load(uow, resource.id) is None
    for table in ("resources", "resource_conditions", "adapter_statuses"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608


async def test_conflict_rolls_back_earlier_writes_of_the_same_transaction(uow: SqlUnitOfWork):
    await insert(uow, make_resource(name="dup"))
    earlier = make_resource(name="other")

    async def two_inserts() -> None:
        async with uow.begin() as tx:
            await tx.resources.insert(earlier)
            await tx.resources.insert(make_resource(name="dup"))

    with pytest.raises(errors.Conflict):
        await two_inserts()
    assert await load(uow, earlier.id) is None


async def test_get_for_update_blocks_a_second_locker_until_commit(uow: SqlUnitOfWork):
    resource = make_resource()
    await insert(uow, resource)
    first_locked = asyncio.Event()
    timeline: dict[str, float] = {}
    hold = 0.3

    async def first() -> None:
        async with uow.begin() as tx:
            current = await tx.resources.get_for_update(resource.id)
            assert current is not None
            timeline["first_locked"] = time.monotonic()
            first_locked.set()
            await asyncio.sleep(hold)
            await tx.resources.save(replace(current, generation=2), conditions_changed=False)
            timeline["first_committing"] = time.monotonic()

    async def second() -> Resource | None:
        await first_locked.wait()
        timeline["second_asking"] = time.monotonic()
        async with uow.begin() as tx:
            seen = await tx.resources.get_for_update(resource.id)
            timeline["second_locked"] = time.monotonic()
            return seen

    async def reader() -> Resource | None:
        await first_locked.wait()
        async with uow.read() as tx:
            seen = await tx.resources.get(resource.id)
            timeline["reader_done"] = time.monotonic()
            return seen

    _, seen_by_second, seen_by_reader = await asyncio.gather(first(), second(), reader())

    assert timeline["second_locked"] > timeline["first_committing"]
    assert timeline["second_locked"] - timeline["first_locked"] >= hold
    assert seen_by_second is not None
    assert seen_by_second.generation == 2, "the second locker sees the committed write"
    # A plain read neither waits for the lock nor sees the uncommitted write.
    assert timeline["reader_done"] < timeline["first_committing"]
    assert seen_by_reader is not None
    assert seen_by_reader.generation == 1


# --- tree queries ---------------------------------------------------------------------------------


async def test_subtree_ids_lists_children_before_parents(uow: SqlUnitOfWork):
    root = make_resource()
    pools = [make_resource(kind="NodePool", owner=root) for _ in range(2)]
    machines = [make_resource(kind="Machine", owner=p) for p in pools for _ in range(2)]
    unrelated = make_resource()
    await insert(uow, root, *pools, *machines, unrelated)
    parent_of = {r.id: r.owner_id for r in (root, *pools, *machines)}

    async with uow.begin() as tx:
        ids = await tx.resources.subtree_ids(root.id)
        leaf_ids = await tx.resources.subtree_ids(machines[0].id)
    assert sorted(ids) == sorted(parent_of)
    assert unrelated.id not in ids
    assert ids[-1] == root.id
    for rid, parent in parent_of.items():
        if parent is not None:
            assert ids.index(rid) < ids.index(parent)
    assert set(ids[:4]) == {m.id for m in machines}
    assert leaf_ids == [machines[0].id]


async def test_children_counts_and_hard_delete_cascade(uow: SqlUnitOfWork, db: asyncpg.Connection):
    root = make_resource()
    live = make_resource(kind="NodePool", owner=root)
    deleting = make_resource(kind="NodePool", owner=root, deleted_time=T0, deleted_by="x")
    await insert(uow, root, live, deleting)
    async with uow.begin() as tx:
        await tx.statuses.upsert(live.id, adapter_report("validation", T0))
        assert await tx.resources.count_children(root.id) == (1, 1)
        assert await tx.resources.count_children(live.id) == (0, 0)
        children = await tx.resources.children_for_update(root.id)
        assert sorted(c.id for c in children) == sorted([live.id, deleting.id])
        await tx.resources.delete(await tx.resources.subtree_ids(root.id))
    for table in ("resources", "resource_conditions", "adapter_statuses"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608


# --- adapter statuses -----------------------------------------------------------------------------


async def test_status_upsert_round_trip_and_update(uow: SqlUnitOfWork):
    resource = make_resource()
    await insert(uow, resource)
    first = adapter_report("validation", T0)
    bare = adapter_report("dns", T0, data=None, metadata=None)
    async with uow.begin() as tx:
        await tx.statuses.upsert(resource.id, first)
        await tx.statuses.upsert(resource.id, bare)
        assert await tx.statuses.for_resource(resource.id) == [bare, first]

    t1 = T0 + timedelta(seconds=30)
    second = adapter_report(
        "validation",
        t1,
        observed_generation=2,
        created_time=t1,  # the stored created_time must survive an update
        conditions=(AdapterCondition("Available", FALSE, None, None, t1),),
        data={"v": 2},
        metadata=None,
    )
    async with uow.begin() as tx:
        await tx.statuses.upsert(resource.id, second)
    async with uow.read() as tx:
        rows = {r.adapter: r for r in await tx.statuses.for_resource(resource.id)}
        page = await tx.statuses.page(resource.id, page=1, size=1)
    assert rows["validation"] == replace(second, created_time=T0)
    assert rows["dns"] == bare
    assert (page.items, page.total, page.more) == ([bare], 2, True)


async def test_versioned_read_returns_the_row_and_its_reports(uow: SqlUnitOfWork):
    resource = make_resource()
    await insert(uow, resource)
    report = adapter_report("dns", T0)
    async with uow.begin() as tx:
        await tx.statuses.upsert(resource.id, report)
    async with uow.read() as tx:
        read = await tx.resources.read_with_reports(resource.id)
        assert await tx.resources.read_with_reports(new_id()) is None
    assert read is not None
    assert (read.resource, read.reports) == (resource, [report])


async def test_guarded_status_write_holds_only_at_the_version_read(
    uow: SqlUnitOfWork, db: asyncpg.Connection
):
    resource = make_resource()
    await insert(uow, resource)
    async with uow.read() as tx:
        read = await tx.resources.read_with_reports(resource.id)
    assert read is not None
    first = adapter_report("dns", T0)
    moved = replace(resource, labels={"env": "dev"})
    async with uow.read() as tx:
        assert await tx.resources.save_status(
            moved, previous=resource.conditions, report=first, expected_version=read.version
        )
    # The row is another version now: a write guarded by the old one changes nothing at all.
    late = adapter_report("validation", T0 + timedelta(seconds=1))
    async with uow.read() as tx:
        assert not await tx.resources.save_status(
            replace(resource, labels={"env": "stage"}, conditions=()),
            previous=resource.conditions,
            report=late,
            expected_version=read.version,
        )
        again = await tx.resources.read_with_reports(resource.id)
    assert again is not None
    assert again.version != read.version
    assert (again.resource, again.reports) == (moved, [first])
    condition_rows = await db.fetchval(
        "SELECT count(*) FROM resource_conditions WHERE resource_id = $1", resource.id
    )
    assert condition_rows == len(resource.conditions)


async def test_a_status_write_updates_the_row_in_place(pool: asyncpg.Pool):
    """Regression: a status write re-sent the spec, which never compares bytewise equal to the
    stored one, so every report was a non-HOT update adding an entry to each of the row's
    indexes (two of them GIN). With `content_changed=False` spec and labels stay as stored.
    """
    resource = make_resource()
    async with pool.acquire() as conn, conn.transaction():
        repo = SqlResourceRepository(conn)
        await repo.insert(resource)
        reported = replace(resource, conditions=resource.conditions[1:])
        # A spec that differs proves the status write does not send it at all.
        assert await repo.save_status(
            replace(reported, spec={"other": True}),
            previous=resource.conditions,
            content_changed=False,
        )
        in_place = await conn.fetchval(
            "SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'resources'"
        )
        stored = await repo.get(resource.id)
    assert in_place == 1
    assert stored == reported


async def test_a_content_write_stores_spec_and_labels(pool: asyncpg.Pool):
    resource = make_resource()
    async with pool.acquire() as conn, conn.transaction():
        repo = SqlResourceRepository(conn)
        await repo.insert(resource)
        changed = replace(resource, spec={"region": "us"}, labels={"env": "dev"}, generation=2)
        assert await repo.save_status(changed, previous=resource.conditions)
        stored = await repo.get(resource.id)
    assert stored == changed


async def test_guarded_status_write_of_a_deleted_row_writes_nothing(
    uow: SqlUnitOfWork, db: asyncpg.Connection
):
    resource = make_resource()
    await insert(uow, resource)
    async with uow.read() as tx:
        read = await tx.resources.read_with_reports(resource.id)
    assert read is not None
    async with uow.begin() as tx:
        await tx.resources.delete([resource.id])
    async with uow.read() as tx:
        assert not await tx.resources.save_status(
            resource,
            previous=(),
            report=adapter_report("dns", T0),
            expected_version=read.version,
        )
    assert await db.fetchval("SELECT count(*) FROM adapter_statuses") == 0


async def test_status_page_orders_by_adapter(uow: SqlUnitOfWork):
    resource = make_resource()
    await insert(uow, resource)
    names = ["m", "z", "a", "k", "b"]
    async with uow.begin() as tx:
        for i, name in enumerate(names):
            await tx.statuses.upsert(resource.id, adapter_report(name, T0 + timedelta(seconds=i)))
    async with uow.read() as tx:
        pages = [await tx.statuses.page(resource.id, page=p, size=2) for p in (1, 2, 3)]
    assert [[r.adapter for r in p.items] for p in pages] == [["a", "b"], ["k", "m"], ["z"]]
    assert [p.total for p in pages] == [5, 5, 5]
    assert [(p.last_key, p.more) for p in pages] == [
        (("b",), True),
        (("m",), True),
        (("z",), False),
    ]


# --- error translation ----------------------------------------------------------------------------

TRANSLATIONS = [
    # (exception instance, expected error class, expected detail)
    (asyncpg.QueryCanceledError("canceling statement due to statement timeout"), errors.Timeout,
     "Database statement timed out"),
    (asyncpg.DeadlockDetectedError("deadlock detected"), errors.Unavailable,
     "Database conflict between concurrent requests; retry"),
    (asyncpg.SerializationError("could not serialize"), errors.Unavailable,
     "Database conflict between concurrent requests; retry"),
    (OSError("connection refused"), errors.Unavailable, DB_UNAVAILABLE),
    (ConnectionRefusedError(), errors.Unavailable, DB_UNAVAILABLE),
    (ConnectionResetError(), errors.Unavailable, DB_UNAVAILABLE),
    (TimeoutError(), errors.Unavailable, DB_UNAVAILABLE),
    (asyncpg.PostgresConnectionError("x"), errors.Unavailable, DB_UNAVAILABLE),
    (asyncpg.ConnectionDoesNotExistError("x"), errors.Unavailable, DB_UNAVAILABLE),
    (asyncpg.InterfaceError("x"), errors.Unavailable, DB_UNAVAILABLE),
    (asyncpg.CannotConnectNowError("x"), errors.Unavailable, DB_UNAVAILABLE),
    (asyncpg.TooManyConnectionsError("x"), errors.Unavailable, DB_UNAVAILABLE),
    (asyncpg.AdminShutdownError("x"), errors.Unavailable, DB_UNAVAILABLE),
    (asyncpg.CrashShutdownError("x"), errors.Unavailable, DB_UNAVAILABLE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("exc", "expected", "detail"),
    [pytest.param(e, c, d, id=type(e).__name__) for e, c, d in TRANSLATIONS],
)
def test_translate_maps_driver_errors(
    exc: BaseException, expected: type[errors.HyperFleetError], detail: str
):
    mapped = translate(exc)
    assert type(mapped) is expected
    assert mapped.detail == detail
    assert (mapped.http_status, mapped.code) == {
        errors.Timeout: (504, "HYPERFLEET-SVC-002"),
        errors.Unavailable: (503, "HYPERFLEET-SVC-001"),
    }[expected]


def test_every_listed_connection_error_class_is_translated():
    for cls in uow_module._CONNECTION_ERRORS:
        mapped = translate(cls("x"))
        assert isinstance(mapped, errors.Unavailable), cls


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bug"),
        KeyError("k"),
        RuntimeError("r"),
        asyncpg.UndefinedTableError("no table"),
        asyncpg.ForeignKeyViolationError("fk"),
        asyncpg.DataError("bad"),
        asyncpg.PostgresSyntaxError("syntax"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_translate_leaves_other_errors_alone(exc: BaseException):
    assert translate(exc) is None


async def test_unknown_driver_error_escapes_the_unit_of_work_unchanged(uow: SqlUnitOfWork):
    with pytest.raises(asyncpg.UndefinedTableError):
        async with uow.begin() as tx:
            await tx.resources._conn.execute("SELECT * FROM no_such_table")


# --- statement timeout ----------------------------------------------------------------------------


@pytest.fixture
async def fast_timeout_uow(database_url: str) -> AsyncIterator[SqlUnitOfWork]:
    p = await make_pool(
        database_url,
        DatabaseSettings(pool_min_size=1, pool_max_size=2, statement_timeout_ms=200),
    )
    try:
        yield SqlUnitOfWork(p)
    finally:
        await p.close()


async def test_statement_timeout_on_a_lock_wait_is_a_timeout(
    uow: SqlUnitOfWork, fast_timeout_uow: SqlUnitOfWork, db: asyncpg.Connection
):
    """A repository call that waits longer than statement_timeout_ms for a row lock."""
    resource = make_resource()
    await insert(uow, resource)
    async with db.transaction():
        await db.execute("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE", uuid.UUID(resource.id))
        started = time.monotonic()
        with pytest.raises(errors.Timeout) as caught:
            async with fast_timeout_uow.begin() as tx:
                await tx.resources.get_for_update(resource.id)
        elapsed = time.monotonic() - started
    assert isinstance(caught.value.__cause__, asyncpg.QueryCanceledError)
    assert caught.value.http_status == 504
    assert 0.15 < elapsed < 5
    # The connection went back to the pool in a usable state.
    async with fast_timeout_uow.begin() as tx:
        assert await tx.resources.get_for_update(resource.id) == resource


async def test_statement_timeout_on_a_read_is_a_timeout(fast_timeout_uow: SqlUnitOfWork):
    with pytest.raises(errors.Timeout):
        async with fast_timeout_uow.read() as tx:
            await tx.resources._conn.execute("SELECT pg_sleep(2)")
    async with fast_timeout_uow.read() as tx:
        assert await tx.resources.get(new_id()) is None


async def test_connection_lost_mid_transaction_is_unavailable(
    uow: SqlUnitOfWork, db: asyncpg.Connection
):
    resource = make_resource()
    await insert(uow, resource)

    async def lose_connection() -> None:
        async with uow.begin() as tx:
            await tx.resources.get_for_update(resource.id)
            pid = tx.resources._conn.get_server_pid()
            await db.execute("SELECT pg_terminate_backend($1)", pid)
            await tx.resources.get(resource.id)

    with pytest.raises(errors.Unavailable) as caught:
        await lose_connection()
    assert caught.value.detail == DB_UNAVAILABLE
    assert caught.value.http_status == 503
    # The pool replaces the dead connection: the next unit of work works.
    assert await load(uow, resource.id) == resource


async def test_pool_recovers_from_terminated_idle_connections(
    uow: SqlUnitOfWork, db: asyncpg.Connection
):
    resource = make_resource()
    await insert(uow, resource)
    await db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = 'hyperfleet'"
    )
    await asyncio.sleep(0.1)
    assert await load(uow, resource.id) == resource
