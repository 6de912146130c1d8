"""Fixtures of the loop's end-to-end tests: fresh databases the demo migrates itself."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from tests.conftest import with_database
from tests.e2e.loop_processes import RabbitVhost, rabbit_available


async def _fresh_database(pg_admin_url: str) -> AsyncIterator[str]:
    name = f"hf_demo_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(pg_admin_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def fresh_database_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    async for url in _fresh_database(pg_admin_url):
        yield url


@pytest.fixture(scope="module")
async def module_database_url(pg_admin_url: str) -> AsyncIterator[str]:
    """The same, shared by one module's tests (each works on resources of its own)."""
    async for url in _fresh_database(pg_admin_url):
        yield url


BROKER_URL = os.environ.get("HYPERFLEET_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture(scope="module")
def rabbit() -> Iterator[RabbitVhost]:
    """A fresh RabbitMQ vhost for the module (skipped without RabbitMQ, except under CI)."""
    why = rabbit_available(BROKER_URL)
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (CI=true: broker tests must not be skipped)")
        pytest.skip(why)
    vhost = RabbitVhost(BROKER_URL)
    vhost.create()
    try:
        yield vhost
    finally:
        vhost.delete()
