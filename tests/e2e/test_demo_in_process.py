"""`run_demo` inside the test's event loop: the same composition as the console script, so
its wiring and stop order are also measured by coverage."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from tests.conftest import make_settings

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.demo.configuration import demo_entities
from hyperfleet.demo.loop import DemoOptions, run_demo
from hyperfleet.demo.supervisor import Supervisor

API = "/api/hyperfleet/v1"


async def _until(check, timeout: float = 90, what: str = ""):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not reached within {timeout} s: {what}")
        await asyncio.sleep(0.2)


async def _started(out: io.StringIO, task: asyncio.Task[int]) -> str:
    async def url() -> str | None:
        if task.done():
            pytest.fail(f"run_demo ended early with {task.result()}")
        for line in out.getvalue().splitlines():
            if line.startswith("HyperFleet demo: API "):
                return line.removeprefix("HyperFleet demo: API ").strip()
        return None

    return await _until(url, what="demo URL")


async def test_run_demo_converges_a_cluster_and_a_node_pool_then_stops_with_0(
    fresh_database_url,
):
    settings = make_settings(
        server={"port": 0}, database={"url": fresh_database_url}, entities=demo_entities()
    )
    supervisor = Supervisor()
    out = io.StringIO()
    task = asyncio.create_task(run_demo(settings, DemoOptions(), out=out, supervisor=supervisor))
    try:
        base = await _started(out, task)
        async with httpx.AsyncClient(base_url=f"{base}{API}", timeout=30) as api:
            cluster = (
                await api.post("/clusters", json={"kind": "Cluster", "name": "inproc", "spec": {}})
            ).json()
            pool = await api.post(
                f"/clusters/{cluster['id']}/nodepools",
                json={"kind": "NodePool", "name": "pool-a", "spec": {}},
            )
            assert pool.status_code == 201, pool.text

            async def ready(path: str) -> bool:
                body = (await api.get(path)).json()
                return body["status"]["phase"] == "Ready"

            await _until(lambda: ready(f"/clusters/{cluster['id']}"), what="cluster Ready")
            await _until(lambda: ready(f"/nodepools/{pool.json()['id']}"), what="pool Ready")
    finally:
        supervisor.request_stop("test")
        code = await asyncio.wait_for(task, timeout=120)
    assert code == 0
    assert supervisor.failure is None


async def test_run_demo_without_sentinel_runs_the_adapters_only(fresh_database_url):
    settings = make_settings(
        server={"port": 0}, database={"url": fresh_database_url}, entities=demo_entities()
    )
    supervisor = Supervisor()
    out = io.StringIO()
    options = DemoOptions(without=frozenset({"sentinel", "pullsecret"}))
    task = asyncio.create_task(run_demo(settings, options, out=out, supervisor=supervisor))
    try:
        await _started(out, task)
    finally:
        supervisor.request_stop("test")
        code = await asyncio.wait_for(task, timeout=120)
    assert code == 0
    assert "sentinels: none" in out.getvalue()
    assert "clusters: validation, dns, hypershift;" in out.getvalue()


async def test_an_unreachable_database_is_a_start_up_failure_with_exit_1(capsys):
    settings = make_settings(
        server={"port": 0},
        database={"url": "postgresql://postgres@127.0.0.1:1/none"},
        entities=demo_entities(),
    )
    supervisor = Supervisor()
    code = await run_demo(settings, DemoOptions(), out=io.StringIO(), supervisor=supervisor)
    assert code == 1
    assert "the database is not reachable" in capsys.readouterr().err


async def test_an_unreachable_rabbitmq_fails_before_the_api_starts(capsys):
    settings = make_settings(
        server={"port": 0},
        database={"url": "postgresql://postgres@127.0.0.1:1/never-tried"},
        entities=demo_entities(),
    )
    broker = BrokerSettings(url="amqp://guest:secret@127.0.0.1:1/", connect_timeout_seconds=1)
    code = await run_demo(
        settings, DemoOptions(broker=broker), out=io.StringIO(), supervisor=Supervisor()
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "RabbitMQ does not answer at amqp://guest:***@127.0.0.1:1/" in err
    assert "secret" not in err
