"""`hyperfleet demo` as a subprocess of the real console script: start, serve, stop cleanly."""

from __future__ import annotations

import signal
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tests.conftest import with_database
from tests.e2e.loop_processes import DemoProcess, eventually, postgres_processes


@pytest.fixture
async def fresh_database_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A new, empty database: the demo migrates it itself."""
    name = f"hf_demo_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(pg_admin_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def test_demo_prints_its_url_serves_the_api_and_exits_0_on_sigterm(fresh_database_url, tmp_path):
    demo = DemoProcess(["--database-url", fresh_database_url], tmp_path / "demo.log")
    try:
        demo.wait_ready()
        with demo.api() as api:
            created = api.post(
                "/clusters", json={"kind": "Cluster", "name": "demo-one", "spec": {}}
            )
            assert created.status_code == 201, created.text
            config = api.get("/aggregation-config").json()
        demo.signal(signal.SIGTERM)
        assert demo.wait() == 0, demo.output()[-3000:]
    finally:
        demo.stop()
    kinds = {e["kind"]: e for e in config["entities"]}
    assert kinds["Cluster"]["adapter_dependencies"] == {
        "dns": ["validation"],
        "hypershift": ["validation", "dns"],
    }
    assert kinds["NodePool"]["adapter_dependencies"] == {"hypershift": ["validation"]}


@pytest.mark.slow
def test_demo_on_embedded_postgres_stops_every_process_on_sigint(tmp_path):
    data_dir = tmp_path / "pg"
    demo = DemoProcess(["--data-dir", str(data_dir)], tmp_path / "demo.log")
    try:
        demo.wait_ready(timeout=180)
        assert (data_dir / "PG_VERSION").exists()
        assert postgres_processes(data_dir), "the embedded PostgreSQL should be running"
        demo.signal(signal.SIGINT)
        assert demo.wait() == 0, demo.output()[-3000:]
    finally:
        demo.stop()
    eventually(lambda: not postgres_processes(data_dir), timeout=60, what="postgres gone")


def test_demo_rejects_an_unknown_without_name(tmp_path):
    demo = DemoProcess(["--without", "dsn"], tmp_path / "demo.log")
    assert demo.wait() == 2
    assert "dsn" in demo.output()
    demo.stop()
