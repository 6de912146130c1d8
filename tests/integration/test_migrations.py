"""Migrations (house style §5.5, reference §8): numbered SQL files applied once, in order, under
a transaction-level advisory lock; the `hyperfleet migrate` command.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from typer.testing import CliRunner

from hyperfleet.cli.main import app
from hyperfleet.storage.migrations import MIGRATION_LOCK_KEY, available, migrate, migrate_url

_counter = itertools.count()
EXPECTED_TABLES = {
    "resources",
    "resource_conditions",
    "adapter_statuses",
    "phase_history",
    "schema_migrations",
    "resource_changes",
    "change_feed_state",
}


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@pytest.fixture
async def empty_db_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A brand-new database with no schema at all."""
    name = f"hf_mig_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _with_db(pg_admin_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {r["tablename"] for r in rows}


async def schema_migrations(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT version, name, applied_time FROM schema_migrations ORDER BY 1")


def test_available_migrations_are_numbered_and_ordered():
    migrations = available()
    assert migrations, "at least the initial migration ships with the package"
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions))
    assert migrations[0].version == 1
    assert migrations[0].name == "initial"
    assert all(m.sql.strip() for m in migrations)


async def test_migrate_applies_everything_then_is_a_no_op(empty_db_url: str):
    conn = await asyncpg.connect(empty_db_url)
    try:
        assert await tables(conn) == set()
        before = datetime.now(UTC) - timedelta(seconds=5)
        applied = await migrate(conn)
        assert applied == [m.version for m in available()]
        assert await tables(conn) == EXPECTED_TABLES
        rows = await schema_migrations(conn)
        assert [(r["version"], r["name"]) for r in rows] == [
            (m.version, m.name) for m in available()
        ]
        assert all(r["applied_time"] >= before for r in rows)

        assert await migrate(conn) == []
        assert await schema_migrations(conn) == rows, "the second run changes nothing"
    finally:
        await conn.close()


async def test_template_database_is_already_migrated(database_url: str):
    assert await migrate_url(database_url) == []


async def test_concurrent_migrations_apply_once(empty_db_url: str):
    """Two replicas migrating at once: both succeed, one applies, the other finds nothing to do."""
    first = await asyncpg.connect(empty_db_url)
    second = await asyncpg.connect(empty_db_url)
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
        everything = [m.version for m in available()]
        assert sorted(results, key=len) == [[], everything]
        rows = await schema_migrations(first)
        assert [r["version"] for r in rows] == everything
    finally:
        await first.close()
        await second.close()


async def test_migrate_waits_for_the_advisory_lock(empty_db_url: str):
    """While another session holds the migration lock, migrate() waits for it."""
    holder = await asyncpg.connect(empty_db_url)
    migrator = await asyncpg.connect(empty_db_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
            task = asyncio.create_task(migrate(migrator))
            await asyncio.sleep(0.3)
            assert not task.done(), "migrate() ran while the lock was held"
            assert await tables(holder) == set()
        assert await asyncio.wait_for(task, 10) == [m.version for m in available()]
    finally:
        await holder.close()
        await migrator.close()


async def test_failed_migration_rolls_back_and_releases_the_lock(empty_db_url: str):
    conn = await asyncpg.connect(empty_db_url)
    try:
        # A conflicting object makes the initial migration fail half way.
        await conn.execute("CREATE TABLE resource_conditions (x int)")
        with pytest.raises(asyncpg.DuplicateTableError):
            await migrate(conn)
        assert await tables(conn) == {"resource_conditions"}
        await conn.execute("DROP TABLE resource_conditions")
        assert await migrate(conn) == [m.version for m in available()]
    finally:
        await conn.close()


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_migrate_on_a_fresh_database(empty_db_url: str):
    runner = CliRunner()
    env = {"HYPERFLEET_DATABASE_URL": empty_db_url, "HYPERFLEET_CONFIG": None}
    result = runner.invoke(app, ["migrate"], env=env)
    assert result.exit_code == 0, result.output
    versions = [m.version for m in available()]
    assert f"applied migrations: {versions}" in result.output

    again = runner.invoke(app, ["migrate"], env=env)
    assert again.exit_code == 0, again.output
    assert "applied migrations: none pending" in again.output

    async def check() -> set[str]:
        conn = await asyncpg.connect(empty_db_url)
        try:
            return await tables(conn)
        finally:
            await conn.close()

    assert asyncio.run(check()) == EXPECTED_TABLES


def test_cli_migrate_with_a_config_file(empty_db_url: str, tmp_path):
    path = tmp_path / "hf.yaml"
    path.write_text(f"database:\n  url: {empty_db_url}\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["migrate", "--config", str(path)],
        env={"HYPERFLEET_DATABASE_URL": None, "HYPERFLEET_CONFIG": None},
    )
    assert result.exit_code == 0, result.output
    assert "applied migrations: [1" in result.output


def test_cli_migrate_needs_a_database_url():
    result = CliRunner().invoke(
        app, ["migrate"], env={"HYPERFLEET_DATABASE_URL": None, "HYPERFLEET_CONFIG": None}
    )
    assert result.exit_code == 2
    assert "database.url: required for migrate" in result.output
