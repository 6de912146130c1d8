"""The issue's end-to-end list on the machine's real PostgreSQL and RabbitMQ.

One `hyperfleet demo --broker-url amqp://…` process serves the module (its own database and its
own RabbitMQ vhost, so the default exchange and queue names meet nobody else's); every test
works on resources of its own. Waits poll the API with generous deadlines.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest
from tests.e2e.loop_processes import (
    DemoProcess,
    RabbitVhost,
    clean_env,
    eventually,
    wait_for_phase,
    wait_gone,
)

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def demo(module_database_url, rabbit: RabbitVhost, tmp_path_factory) -> Iterator[DemoProcess]:
    log = tmp_path_factory.mktemp("demo") / "demo.log"
    process = DemoProcess(
        ["--database-url", module_database_url, "--broker-url", rabbit.url],
        log,
        env=clean_env(HYPERFLEET_LOGGING_LEVEL="info"),
    )
    try:
        process.wait_ready()
        yield process
        process.signal(signal.SIGTERM)
        assert process.wait() == 0, process.output()[-3000:]
    finally:
        process.stop()


@pytest.fixture
def api(demo: DemoProcess) -> Iterator[httpx.Client]:
    with demo.api() as client:
        yield client


def _create(api: httpx.Client, path: str, body: dict) -> dict:
    response = api.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _cluster(api: httpx.Client, name: str, spec: dict | None = None) -> dict:
    return _create(api, "/clusters", {"kind": "Cluster", "name": name, "spec": spec or {}})


def _statuses(api: httpx.Client, path: str) -> dict[str, dict]:
    items = api.get(f"{path}/statuses").json()["items"]
    return {s["adapter"]: s for s in items}


def test_the_demo_runs_on_rabbitmq_with_the_default_topology(demo, rabbit):
    assert "broker: RabbitMQ" in demo.output()
    queues = {
        f"hyperfleet-clusters-{a}" for a in ("validation", "dns", "pullsecret", "hypershift")
    } | {f"hyperfleet-nodepools-{a}" for a in ("validation", "hypershift")}
    assert queues <= set(rabbit.queues())


def test_a_cluster_with_two_node_pools_all_become_ready(api):
    cluster = _cluster(api, "with-pools")
    pools = [
        _create(
            api,
            f"/clusters/{cluster['id']}/nodepools",
            {"kind": "NodePool", "name": name, "spec": {}},
        )
        for name in ("pool-a", "pool-b")
    ]
    wait_for_phase(api, f"/clusters/{cluster['id']}", "Ready")
    for pool in pools:
        body = wait_for_phase(api, f"/nodepools/{pool['id']}", "Ready")
        assert {a["adapter"] for a in body["status"]["adapters"]} == {"validation", "hypershift"}


def test_patch_is_reconciled_at_the_new_generation(api):
    cid = _cluster(api, "patched")["id"]
    wait_for_phase(api, f"/clusters/{cid}", "Ready", generation=1)
    patched = api.patch(f"/clusters/{cid}", json={"spec": {"region": "eu-west-1"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["generation"] == 2
    wait_for_phase(api, f"/clusters/{cid}", "Ready", generation=2)
    statuses = _statuses(api, f"/clusters/{cid}")
    assert {name: s["observed_generation"] for name, s in statuses.items()} == {
        "validation": 2,
        "dns": 2,
        "pullsecret": 2,
        "hypershift": 2,
    }
    # Each adapter did work once per generation, not once per event.
    assert all(s["data"]["reconcile_count"] == 2 for s in statuses.values())


def test_simulated_failure_is_failed_and_removing_it_recovers(api):
    cid = _cluster(api, "failing", {"simulate": {"pullsecret": "fail"}})["id"]
    body = wait_for_phase(api, f"/clusters/{cid}", "Failed")
    assert "pullsecret" in body["status"]["phase_message"]
    patched = api.patch(f"/clusters/{cid}", json={"spec": {}})
    assert patched.status_code == 200, patched.text
    wait_for_phase(api, f"/clusters/{cid}", "Ready", generation=2)


def test_an_unhealthy_adapter_makes_the_cluster_degraded(api):
    cid = _cluster(api, "unhealthy", {"simulate": {"dns": "unhealthy"}})["id"]
    body = wait_for_phase(api, f"/clusters/{cid}", "Degraded")
    assert "dns" in body["status"]["phase_message"]


def test_delete_is_finalized_by_every_adapter_and_the_rows_are_hard_deleted(api):
    cluster = _cluster(api, "doomed")
    pool = _create(
        api,
        f"/clusters/{cluster['id']}/nodepools",
        {"kind": "NodePool", "name": "doomed-np", "spec": {}},
    )
    wait_for_phase(api, f"/clusters/{cluster['id']}", "Ready")
    wait_for_phase(api, f"/nodepools/{pool['id']}", "Ready")
    deleted = api.delete(f"/clusters/{cluster['id']}")
    assert deleted.status_code == 202, deleted.text

    def finalized_seen() -> bool:
        # Either the adapters' Finalized reports are visible, or the row is gone already.
        response = api.get(f"/clusters/{cluster['id']}/statuses")
        return response.status_code == 404 or all(
            any(c["type"] == "Finalized" and c["status"] == "True" for c in s["conditions"])
            for s in response.json()["items"]
        )

    eventually(finalized_seen, what="every adapter finalized")
    wait_gone(api, f"/nodepools/{pool['id']}")
    wait_gone(api, f"/clusters/{cluster['id']}")
    assert api.get(f"/clusters/{cluster['id']}/statuses").status_code == 404
