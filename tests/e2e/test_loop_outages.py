"""The loop survives its parts dying: RabbitMQ restarted mid-flow, a Sentinel SIGKILLed.

`hyperfleet demo --broker-url … --without sentinel` runs the API and the adapters; the two
Sentinels are separate `hyperfleet sentinel --config FILE` processes, so one can be killed and
started again on its own. One test only: it stops the machine's shared RabbitMQ
(`rabbitmqctl stop`, `rabbitmq-server -detached`), so it runs under CI=true or
HYPERFLEET_TEST_BROKER_RESTART=1 (as the broker's own restart test).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
import yaml
from tests.e2e.loop_processes import (
    DemoProcess,
    LoopProcess,
    RabbitVhost,
    clean_env,
    restart_rabbitmq,
    wait_for_phase,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def _restart_allowed() -> None:
    in_ci = os.environ.get("CI") == "true"
    if os.environ.get("HYPERFLEET_TEST_BROKER_RESTART", "1" if in_ci else "0") != "1":
        pytest.skip(
            "restarts the machine's shared RabbitMQ: runs under CI=true or"
            " HYPERFLEET_TEST_BROKER_RESTART=1"
        )


def _sentinel_config(path: Path, resource_type: str, api_url: str, broker_url: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "name": f"e2e-sentinel-{resource_type}",
                "resource_type": resource_type,
                "api_url": api_url,
                "poll_interval_seconds": 1,
                "max_age_not_ready_seconds": 1,
                "max_age_ready_seconds": 60,
                "broker": {"url": broker_url, "connect_timeout_seconds": 120},
                "health": {"enabled": False},
            }
        )
    )
    return path


def _sentinel(tmp_path: Path, resource_type: str, api_url: str, rabbit: RabbitVhost) -> LoopProcess:
    config = _sentinel_config(
        tmp_path / f"sentinel-{resource_type}.yaml", resource_type, api_url, rabbit.url
    )
    return LoopProcess(
        ["sentinel", "--config", str(config)],
        tmp_path / f"sentinel-{resource_type}.log",
        env=clean_env(HYPERFLEET_LOGGING_LEVEL="info"),
    )


def _batch(api: httpx.Client, prefix: str, count: int) -> list[str]:
    """`count` clusters with one node pool each; the paths of all of them."""
    paths = []
    for n in range(count):
        cluster = api.post(
            "/clusters", json={"kind": "Cluster", "name": f"{prefix}-{n}", "spec": {}}
        )
        assert cluster.status_code == 201, cluster.text
        cid = cluster.json()["id"]
        pool = api.post(
            f"/clusters/{cid}/nodepools", json={"kind": "NodePool", "name": f"np-{n}", "spec": {}}
        )
        assert pool.status_code == 201, pool.text
        paths += [f"/clusters/{cid}", f"/nodepools/{pool.json()['id']}"]
    return paths


def _all_ready(api: httpx.Client, paths: list[str], timeout: float = 180) -> None:
    for path in paths:
        wait_for_phase(api, path, "Ready", timeout=timeout)


def test_rabbitmq_restart_and_a_killed_sentinel_lose_nothing_for_good(
    fresh_database_url, rabbit: RabbitVhost, tmp_path
):
    _restart_allowed()
    demo = DemoProcess(
        ["--database-url", fresh_database_url, "--broker-url", rabbit.url, "--without", "sentinel"],
        tmp_path / "demo.log",
        env=clean_env(HYPERFLEET_LOGGING_LEVEL="info"),
    )
    sentinels: dict[str, LoopProcess] = {}
    try:
        demo.wait_ready()
        assert "sentinels: none" in demo.output()
        for resource_type in ("clusters", "nodepools"):
            sentinels[resource_type] = _sentinel(tmp_path, resource_type, demo.base, rabbit)
        with demo.api() as api:
            before = _batch(api, "before", 3)
            _all_ready(api, before)

            # Mid-flow: new resources whose events are being published, queued and handled.
            during = _batch(api, "during", 3)
            restart_rabbitmq()
            # The clusters' Sentinel dies without a chance to clean up, and stays dead a while.
            sentinels["clusters"].proc.kill()
            assert sentinels["clusters"].wait() == -signal.SIGKILL
            sentinels["clusters"].stop()
            while_dead = _batch(api, "while-dead", 3)
            sentinels["clusters"] = _sentinel(tmp_path, "clusters", demo.base, rabbit)

            _all_ready(api, during + while_dead)
            for path in before:
                assert api.get(path).json()["status"]["phase"] == "Ready"

            # A PATCH after all that is reconciled too: the loop is fully alive again.
            cid = during[0].rsplit("/", 1)[1]
            assert api.patch(f"/clusters/{cid}", json={"spec": {"v": 2}}).status_code == 200
            wait_for_phase(api, f"/clusters/{cid}", "Ready", generation=2)

        # Nothing was given up on: every dead-letter queue is empty.
        queues = rabbit.queues()
        dead = {name: depth for name, depth in queues.items() if name.endswith(".dlq")}
        assert dead, "the adapters' dead-letter queues should exist"
        assert all(depth == 0 for depth in dead.values()), dead

        for process in sentinels.values():
            process.signal(signal.SIGTERM)
            assert process.wait() == 0, process.output()[-3000:]
        demo.signal(signal.SIGTERM)
        assert demo.wait() == 0, demo.output()[-3000:]
    finally:
        for process in sentinels.values():
            process.stop()
        demo.stop()
