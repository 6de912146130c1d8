"""aggregation_watch_seconds: the server notices a changed aggregation file and reloads it."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from tests.conftest import make_settings

API = "/api/hyperfleet/v1"


@pytest.fixture
def agg(tmp_path):
    path = tmp_path / "agg.yaml"
    path.write_text("entities:\n  - kind: Cluster\n    optional_adapters: [monitoring]\n")
    return path


@pytest.fixture
def settings(agg):
    return make_settings(aggregation_config=str(agg), aggregation_watch_seconds=0.05)


async def cluster_entry(client) -> dict:
    body = (await client.get(f"{API}/aggregation-config")).json()
    return next(e for e in body["entities"] if e["kind"] == "Cluster")


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_changed_file_is_reloaded(client, agg):
    assert (await cluster_entry(client))["optional_adapters"] == ["monitoring"]
    before = (await client.get(f"{API}/aggregation-config")).json()["loaded_time"]
    agg.write_text("entities:\n  - kind: Cluster\n    optional_adapters: [monitoring, backup]\n")
    os.utime(agg, (time.time() + 5, time.time() + 5))

    async def reloaded() -> bool:
        return (await cluster_entry(client))["optional_adapters"] == ["monitoring", "backup"]

    await wait_for(reloaded)
    after = (await client.get(f"{API}/aggregation-config")).json()["loaded_time"]
    assert after > before


async def test_invalid_change_keeps_the_running_config(client, agg):
    agg.write_text("entities:\n  - kind: Cluster\n    adapter_dependencies: {dns: [dns]}\n")
    os.utime(agg, (time.time() + 5, time.time() + 5))

    async def failure_counted() -> bool:
        text = (await client.get("/metrics")).text
        return any(
            line.startswith("hyperfleet_api_config_reload_failures_total{")
            and line.endswith(" 1.0")
            for line in text.splitlines()
        )

    await wait_for(failure_counted)
    assert (await cluster_entry(client))["optional_adapters"] == ["monitoring"]
