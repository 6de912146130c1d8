"""The six simulated adapters against the real API on an in-process broker, with the demo's
dependencies (cluster dns → [validation], hypershift → [validation, dns]; node pool
hypershift → [validation]). No Sentinel: the tests re-publish events the way it would.

Contract: interfaces.md "The loop"; post-mvp.md §3 (reports, strict generation policy,
dependencies, reverse finalization) and §4 (phases).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.adapter_loop import (
    DEMO_ENTITIES,
    Loop,
    eventually,
    gone,
    is_phase,
    loop_with_simulated,
    phase,
    running_api,
)
from tests.conftest import make_settings
from tests.factories import CLUSTER_ADAPTERS, NODEPOOL_ADAPTERS, cluster_body, nodepool_body

from hyperfleet.adapters import Adapter, Context, Outcome
from hyperfleet.adapters.runner import AdapterRunner
from hyperfleet.adapters.simulated import SimulatedAdapter, SimulatedSettings
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.client.types import Resource
from hyperfleet.config import Settings

CLUSTER_DEPS = {"dns": ["validation"], "hypershift": ["validation", "dns"]}


@pytest.fixture
def settings() -> Settings:
    return make_settings(entities=DEMO_ENTITIES)


@pytest.fixture
async def loop(settings: Settings, database_url: str) -> AsyncIterator[Loop]:
    async with loop_with_simulated(settings, database_url) as running:
        yield running


async def new_cluster(loop: Loop, **spec: Any) -> Resource:
    return await loop.api.create("clusters", cluster_body(spec=spec))


async def new_nodepool(loop: Loop, cluster: Resource, **spec: Any) -> Resource:
    return await loop.api.create(f"clusters/{cluster['id']}/nodepools", nodepool_body(spec=spec))


def assert_report_rules(report: dict[str, Any]) -> None:
    types = [c["type"] for c in report["conditions"]]
    assert "Ready" not in types
    assert {"Applied", "Available", "Health"} <= set(types)
    for c in report["conditions"]:
        assert c.get("reason"), c
        assert c.get("message"), c


async def test_cluster_with_two_nodepools_reaches_ready_everywhere(loop: Loop):
    cluster = await new_cluster(loop)
    pools = [await new_nodepool(loop, cluster), await new_nodepool(loop, cluster)]
    await loop.converge(cluster, is_phase("Ready", 1))
    for pool in pools:
        await loop.converge(pool, is_phase("Ready", 1))

    for resource, adapters in [(cluster, CLUSTER_ADAPTERS)] + [
        (p, NODEPOOL_ADAPTERS) for p in pools
    ]:
        fresh = await loop.fetch(resource["id"])
        assert fresh is not None
        assert "Ready" not in [c["type"] for c in fresh["status"]["conditions"]]
        statuses = await loop.statuses(resource["id"])
        assert set(statuses) == set(adapters)
        for status in statuses.values():
            assert status["state"] == "Ready"
            assert status["observed_generation"] == 1
            assert status["data"]["reconciled_generation"] == 1
            assert status["data"]["reconcile_count"] == 1
            assert_report_rules(dict(status))
    for sent in loop.api.reports:
        assert_report_rules(sent)
        assert "Finalized" not in [c["type"] for c in sent["conditions"]]


async def test_patch_reconciles_the_new_generation_and_counts_it(loop: Loop):
    cluster = await new_cluster(loop)
    await loop.converge(cluster, is_phase("Ready", 1))
    patched = await loop.api.patch("clusters", cluster["id"], {"spec": {"region": "eu"}})
    assert patched["generation"] == 2
    await loop.converge(patched, is_phase("Ready", 2))
    for status in (await loop.statuses(cluster["id"])).values():
        assert status["observed_generation"] == 2
        assert status["data"] == {"reconciled_generation": 2, "reconcile_count": 2}


async def test_an_already_handled_generation_changes_no_counter_but_is_reported_again(loop: Loop):
    cluster = await new_cluster(loop)
    await loop.converge(cluster, is_phase("Ready", 1))
    before = await loop.statuses(cluster["id"])
    for _ in range(3):
        await loop.kick(cluster)

    async def all_reported_again() -> bool:
        now = await loop.statuses(cluster["id"])
        return all(now[a]["last_report_time"] > before[a]["last_report_time"] for a in before)

    await eventually(all_reported_again)
    for adapter, status in (await loop.statuses(cluster["id"])).items():
        assert (
            status["data"]
            == before[adapter]["data"]
            == {
                "reconciled_generation": 1,
                "reconcile_count": 1,
            }
        )
        assert status["state"] == "Ready"


async def test_simulate_fail_then_removing_it_recovers(loop: Loop):
    cluster = await new_cluster(loop, simulate={"dns": "fail"})
    failed = await loop.converge(cluster, is_phase("Failed", 1))
    assert failed is not None
    dns = (await loop.statuses(cluster["id"]))["dns"]
    assert dns["state"] == "Failed"
    by_type = {c["type"]: c for c in dns["conditions"]}
    assert (by_type["Applied"]["status"], by_type["Available"]["status"]) == ("True", "False")
    assert by_type["Health"]["status"] == "True"
    assert by_type["Available"]["reason"] == "SimulatedFailure"

    patched = await loop.api.patch("clusters", cluster["id"], {"spec": {}})
    await loop.converge(patched, is_phase("Ready", 2))


async def test_simulate_unhealthy_is_degraded(loop: Loop):
    cluster = await new_cluster(loop, simulate={"pullsecret": "unhealthy"})
    await loop.converge(cluster, is_phase("Degraded", 1))
    status = (await loop.statuses(cluster["id"]))["pullsecret"]
    by_type = {c["type"]: c["status"] for c in status["conditions"]}
    assert by_type == {"Applied": "True", "Available": "True", "Health": "False"}
    assert status["state"] == "Unhealthy"


async def test_simulate_pending_stays_provisioning_and_dependents_wait(loop: Loop):
    cluster = await new_cluster(loop, simulate={"validation": "pending"})

    async def settled() -> bool:
        statuses = await loop.statuses(cluster["id"])
        return set(statuses) == set(CLUSTER_ADAPTERS) and statuses["pullsecret"]["state"] == "Ready"

    for _ in range(5):  # several Sentinel rounds: it must not move on
        await loop.kick(cluster)
    await eventually(settled)
    fresh = await loop.fetch(cluster["id"])
    assert phase(fresh) == "Provisioning"
    statuses = await loop.statuses(cluster["id"])
    validation = {c["type"]: c for c in statuses["validation"]["conditions"]}
    assert validation["Applied"]["status"] == "True"
    assert validation["Available"]["status"] == "Unknown"
    assert statuses["validation"]["state"] == "Provisioning"
    for waiting in ("dns", "hypershift"):
        conditions = {c["type"]: c for c in statuses[waiting]["conditions"]}
        assert conditions["Applied"]["status"] == "False"
        assert conditions["Available"]["status"] == "Unknown"
        assert conditions["Health"]["status"] == "True"
        assert conditions["Available"]["reason"] == "WaitingForDependencies"
        assert "validation" in conditions["Available"]["message"]
        assert statuses[waiting]["state"] == "Pending"


async def test_dns_waits_for_validation(settings: Settings, database_url: str):
    async with loop_with_simulated(settings, database_url, start=False) as loop:
        broker, api = loop.broker, loop.api
        dns = AdapterRunner(
            SimulatedAdapter(),
            name="dns",
            kind="Cluster",
            client=api,
            subscriber=broker.subscriber("dns"),
            topic="hyperfleet-clusters",
        )
        await loop.start([dns])
        cluster = await new_cluster(loop)
        await loop.kick(cluster)

        async def dns_waiting() -> bool:
            return "dns" in await loop.statuses(cluster["id"])

        await eventually(dns_waiting)
        report = (await loop.statuses(cluster["id"]))["dns"]
        conditions = {c["type"]: c for c in report["conditions"]}
        assert conditions["Available"]["reason"] == "WaitingForDependencies"
        assert conditions["Applied"]["status"] == "False"
        assert report["data"] == {"reconciled_generation": 0, "reconcile_count": 0}

        validation = AdapterRunner(
            SimulatedAdapter(),
            name="validation",
            kind="Cluster",
            client=api,
            subscriber=broker.subscriber("validation"),
            topic="hyperfleet-clusters",
        )
        await loop.start([validation])

        async def dns_ready() -> bool:
            await loop.kick(cluster)
            statuses = await loop.statuses(cluster["id"])
            return statuses.get("dns", {}).get("state") == "Ready"

        await eventually(dns_ready)
        waited = [r for r in api.reports if r["adapter"] == "dns"]
        reasons = [{c["type"]: c["reason"] for c in r["conditions"]}["Available"] for r in waited]
        assert reasons[0] == "WaitingForDependencies"
        assert reasons[-1] == "SimulatedReady"


def _first_finalized(loop: Loop, resource_id: str) -> dict[str, int]:
    """Index in the report log of each adapter's first accepted Finalized=True."""
    order: dict[str, int] = {}
    for i, report in enumerate(loop.api.reports):
        if report["resource_id"] != resource_id or report["answer"] != 201:
            continue
        finalized = {c["type"]: c["status"] for c in report["conditions"]}.get("Finalized")
        if finalized == "True" and report["adapter"] not in order:
            order[report["adapter"]] = i
    return order


async def test_delete_finalizes_in_reverse_dependency_order_then_hard_deletes(loop: Loop):
    cluster = await new_cluster(loop)
    pool = await new_nodepool(loop, cluster)
    await loop.converge(cluster, is_phase("Ready", 1), also=(pool,))
    await loop.converge(pool, is_phase("Ready", 1))

    deleted = await loop.api.delete("clusters", cluster["id"])
    assert deleted["generation"] == 2
    await loop.converge(cluster, gone, also=(pool,))
    assert await loop.fetch(pool["id"]) is None

    order = _first_finalized(loop, cluster["id"])
    assert set(order) == set(CLUSTER_ADAPTERS)
    for adapter, deps in CLUSTER_DEPS.items():
        for dep in deps:
            assert order[adapter] < order[dep], (adapter, dep, order)
    pool_order = _first_finalized(loop, pool["id"])
    assert pool_order["hypershift"] < pool_order["validation"]
    finalize_reports = [r for r in loop.api.reports if r["observed_generation"] == 2]
    assert finalize_reports
    for report in finalize_reports:
        assert "Finalized" in [c["type"] for c in report["conditions"]]
        assert_report_rules(report)


async def test_stuck_finalization_stays_finalizing_until_force_deleted(loop: Loop):
    cluster = await new_cluster(loop, simulate={"pullsecret": "stuck"})
    await loop.converge(cluster, is_phase("Ready", 1))
    await loop.api.delete("clusters", cluster["id"])

    async def others_finalized() -> bool:
        await loop.kick(cluster)
        statuses = await loop.statuses(cluster["id"])
        return all(
            statuses[a]["state"] == "Finalized" and statuses[a]["observed_generation"] == 2
            for a in CLUSTER_ADAPTERS
            if a != "pullsecret"
        )

    await eventually(others_finalized)
    for _ in range(3):
        await loop.kick(cluster)
    stuck = (await loop.statuses(cluster["id"]))["pullsecret"]
    conditions = {c["type"]: c for c in stuck["conditions"]}
    assert conditions["Finalized"]["status"] == "False"
    assert conditions["Health"]["status"] == "True"
    assert conditions["Finalized"]["reason"] == "SimulatedStuck"
    fresh = await loop.fetch(cluster["id"])
    assert phase(fresh) == "Deleting"

    await loop.api.force_delete("clusters", cluster["id"], "stuck in test")
    assert await loop.fetch(cluster["id"]) is None


class PatchingOnce(Adapter):
    """Bumps the resource's generation while reconciling it, once: a strict-policy race."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.calls: list[int] = []

    async def reconcile(self, resource: Resource, ctx: Context) -> Outcome:
        self.calls.append(ctx.generation)
        if len(self.calls) == 1:
            await self.api.patch("clusters", resource["id"], {"labels": {"raced": "yes"}})
        return Outcome.ready(f"ok at {ctx.generation}")


async def test_strict_generation_race_refetches_and_reports_the_new_generation(
    settings: Settings, database_url: str
):
    async with running_api(settings, database_url) as api:
        broker = InProcessBroker()
        adapter = PatchingOnce(api)
        runner = AdapterRunner(
            adapter,
            name="validation",
            kind="Cluster",
            client=api,
            subscriber=broker.subscriber("validation"),
            topic="hyperfleet-clusters",
        )
        await runner.start()
        loop = Loop(api, broker, [runner])
        try:
            cluster = await api.create("clusters", cluster_body())
            await loop.kick(cluster)

            async def reported() -> bool:
                statuses = await loop.statuses(cluster["id"])
                return statuses.get("validation", {}).get("observed_generation") == 2

            await eventually(reported)
            assert adapter.calls == [1, 2]
            refused = [r for r in api.reports if r["observed_generation"] == 1]
            assert [r["answer"] for r in refused] == [409]  # raced the PATCH
        finally:
            await loop.stop()
            await broker.close()


async def test_delay_reports_provisioning_first_and_failure_rate_is_redelivered(
    settings: Settings, database_url: str
):
    simulated = SimulatedSettings(
        delay_seconds=0.05, failure_rate=0.3, seed=3
    )  # pullsecret fails first
    async with loop_with_simulated(settings, database_url, simulated) as loop:
        cluster = await new_cluster(loop)
        await loop.converge(cluster, is_phase("Ready", 1))
        transient = sum(
            runner.reconciler.metrics.registry.get_sample_value(
                "hyperfleet_adapter_events_processed_total",
                {"adapter": runner.name, "kind": runner.kind, "outcome": "transient"},
            )
            or 0.0
            for runner in loop.runners  # they share one registry; labels tell them apart
        )
        assert transient > 0
        for adapter in CLUSTER_ADAPTERS:
            sent = [
                {c["type"]: c["status"] for c in r["conditions"]}
                for r in loop.api.reports
                if r["adapter"] == adapter and r["resource_id"] == cluster["id"]
            ]
            provisioning = {"Applied": "True", "Available": "Unknown", "Health": "True"}
            ready = {"Applied": "True", "Available": "True", "Health": "True"}
            assert provisioning in sent
            assert sent.index(provisioning) < sent.index(ready)
        for status in (await loop.statuses(cluster["id"])).values():
            assert status["data"] == {"reconciled_generation": 1, "reconcile_count": 1}
