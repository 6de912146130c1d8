"""docs/adapters.md states facts: its example is the code in `adapters/examples`, that code runs
against the real API as documented (including the InvalidReport fallback of the error table),
and its example config loads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.adapter_loop import FAST_BROKER, Loop, gone, is_phase, running_api
from tests.conftest import make_settings
from tests.factories import cluster_body

from hyperfleet.adapters.config import load_adapter_config
from hyperfleet.adapters.examples import region_check
from hyperfleet.adapters.runner import AdapterRunner
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "adapters.md").read_text(encoding="utf-8")


def block(marker: str, lang: str) -> str:
    match = re.search(
        rf"<!-- {marker}:start -->\n```{lang}\n(.*?)\n```\n<!-- {marker}:end -->", DOC, re.DOTALL
    )
    assert match, f"markers {marker} missing"
    return match.group(1)


def test_the_documented_example_is_the_tested_code():
    source = Path(region_check.__file__).read_text(encoding="utf-8").rstrip("\n")
    assert block("example", "python") == source


def test_the_documented_config_loads(tmp_path):
    path = tmp_path / "region-check.yaml"
    path.write_text(block("example-config", "yaml"))
    config = load_adapter_config(path, environ={})
    assert config.name == "region-check"
    assert config.resolved_kind == "Cluster"
    assert config.resolved_topic == "hyperfleet-clusters"
    assert config.broker.url.startswith("amqp://")


@pytest.fixture
def settings() -> Settings:
    return make_settings(entities=[{"kind": "Cluster", "required_adapters": ["region-check"]}])


@pytest.fixture
async def loop(settings: Settings, database_url: str) -> AsyncIterator[Loop]:
    async with running_api(settings, database_url) as api:
        broker = InProcessBroker(FAST_BROKER)
        loop = Loop(api, broker)
        await loop.start(
            [
                AdapterRunner(
                    region_check.RegionCheck(),
                    name="region-check",
                    kind="Cluster",
                    client=api,
                    subscriber=broker.subscriber("region-check"),
                    topic="hyperfleet-clusters",
                )
            ]
        )
        try:
            yield loop
        finally:
            await loop.stop()
            await broker.close()


async def test_the_example_adapter_drives_clusters_to_their_phases(loop: Loop):
    served = await loop.api.create("clusters", cluster_body(spec={"region": "eu-west-1"}))
    unserved = await loop.api.create("clusters", cluster_body(spec={"region": "mars-1"}))
    missing = await loop.api.create("clusters", cluster_body(spec={}))

    await loop.converge(served, is_phase("Ready", 1))
    await loop.converge(unserved, is_phase("Failed", 1))
    await loop.converge(missing, is_phase("Degraded", 1))

    report = (await loop.statuses(served["id"]))["region-check"]
    assert report["data"] == {
        "region": "eu-west-1",
        "reconciled_generation": 1,
        "reconcile_count": 1,
    }
    health = {
        c["type"]: c for c in (await loop.statuses(missing["id"]))["region-check"]["conditions"]
    }
    assert health["Health"]["status"] == "False"
    assert health["Health"]["reason"] == "RegionMissing"

    await loop.api.delete("clusters", served["id"])
    await loop.converge(served, gone)


async def test_an_outcome_the_kind_refuses_is_reported_as_invalid_report(database_url: str):
    settings = make_settings(
        entities=[
            {
                "kind": "Cluster",
                "required_adapters": ["region-check"],
                "adapters": {
                    "region-check": {
                        "data_schema": {
                            "type": "object",
                            "properties": {"region": {"type": "integer"}},
                        }
                    }
                },
            }
        ]
    )
    async with running_api(settings, database_url) as api:
        broker = InProcessBroker(FAST_BROKER)
        loop = Loop(api, broker)
        await loop.start(
            [
                AdapterRunner(
                    region_check.RegionCheck(),
                    name="region-check",
                    kind="Cluster",
                    client=api,
                    subscriber=broker.subscriber("region-check"),
                    topic="hyperfleet-clusters",
                )
            ]
        )
        try:
            cluster = await api.create("clusters", cluster_body(spec={"region": "eu-west-1"}))
            await loop.converge(cluster, is_phase("Degraded", 1))
            report = (await loop.statuses(cluster["id"]))["region-check"]
            conditions = {c["type"]: c for c in report["conditions"]}
            assert conditions["Health"]["status"] == "False"
            assert conditions["Health"]["reason"] == "InvalidReport"
            assert "data/region" in conditions["Health"]["message"]
            assert [r["answer"] for r in api.reports][:2] == [400, 201]
        finally:
            await loop.stop()
            await broker.close()
