"""The Sentinel against the real API (ASGI app through the typed client) and the in-process
broker: which resources get events, their exact wire shape, pagination, the label selector,
and survival of API and broker failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cloudevents.core.v1.event import CloudEvent
from tests.factories import (
    CLUSTER_ADAPTERS,
    cluster_body,
    nodepool_body,
    report_body,
)

from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.broker.ports import BrokerUnavailable
from hyperfleet.client import HyperFleetClient, RetryPolicy
from hyperfleet.config import Settings
from hyperfleet.rest.app import create_app
from hyperfleet.sentinel.config import load_sentinel_settings
from hyperfleet.sentinel.loop import Sentinel
from hyperfleet.sentinel.metrics import SentinelMetrics
from hyperfleet.sentinel.process import serve_health

NO_RETRY = RetryPolicy(attempts=1)


def ahead(seconds: float) -> Callable[[], datetime]:
    """A clock `seconds` in the future: the debounce since creation has elapsed."""
    return lambda: datetime.now(UTC) + timedelta(seconds=seconds)


# The API writes Reconciled=False at creation, so a new resource's first event waits for the
# debounce (max_age_not_ready, from its creation): most tests look from a minute later.
LATER = ahead(60)


class SwitchableTransport(httpx.AsyncBaseTransport):
    """The ASGI app behind a network that can be cut: while `down`, every request is refused."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def transport(settings: Settings, database_url: str) -> AsyncIterator[SwitchableTransport]:
    app = create_app(settings, database_url=database_url)
    async with LifespanManager(app) as manager:
        yield SwitchableTransport(httpx.ASGITransport(app=manager.app))


@pytest.fixture
async def hf(transport: SwitchableTransport) -> AsyncIterator[HyperFleetClient]:
    async with HyperFleetClient("http://hyperfleet", transport=transport, retry=NO_RETRY) as client:
        yield client


class Collector:
    """A subscription on the in-process broker that keeps every event it receives."""

    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    async def __call__(self, event: CloudEvent) -> None:
        self.events.append(event)

    def ids(self) -> list[str]:
        return [e.get_data()["id"] for e in self.events]


async def _subscribe(broker: InProcessBroker, topic: str) -> Collector:
    collector = Collector()
    await broker.subscriber("test").subscribe(topic, collector)
    return collector


async def _drained(broker: InProcessBroker, topic: str, collector: Collector, count: int) -> None:
    """Wait until `count` events arrived and nothing more is queued (generous deadline)."""
    async with asyncio.timeout(30):
        while len(collector.events) < count or broker.depth(topic, "test"):
            await asyncio.sleep(0.01)
    await asyncio.sleep(0)
    assert len(collector.events) == count, collector.ids()


def _sentinel(
    hf: HyperFleetClient,
    publisher: Any,
    *,
    clock: Callable[[], datetime] | None = None,
    **settings: Any,
) -> Sentinel:
    config = load_sentinel_settings(
        None, environ={}, overrides={"resource_type": "clusters", **settings}
    )
    kwargs: dict[str, Any] = {"clock": clock} if clock else {}
    return Sentinel(config, hf, publisher, metrics=SentinelMetrics(), **kwargs)


def _value(sentinel: Sentinel, name: str, **labels: str) -> float:
    base = {
        "resource_type": sentinel.settings.resource_type,
        "resource_selector": sentinel.settings.selector_label,
    }
    value = sentinel.metrics.registry.get_sample_value(name, {**base, **labels})
    return value or 0.0


async def test_new_clusters_get_one_event_each_with_the_wire_shape(hf: HyperFleetClient):
    broker = InProcessBroker()
    got = await _subscribe(broker, "hyperfleet-clusters")
    created = [await hf.create("clusters", cluster_body()) for _ in range(3)]
    offset = timedelta()
    sentinel = _sentinel(hf, broker.publisher(), clock=lambda: datetime.now(UTC) + offset)
    just_created = await sentinel.run_pass()
    assert (just_created.seen, just_created.published) == (3, 0)  # debounced since creation

    offset = timedelta(seconds=11)
    result = await sentinel.run_pass()

    assert (result.ok, result.seen, result.published, result.skipped) == (True, 3, 3, 0)
    await _drained(broker, "hyperfleet-clusters", got, 3)
    by_id = {e.get_data()["id"]: e for e in got.events}
    assert set(by_id) == {c["id"] for c in created}
    for cluster in created:
        event = by_id[cluster["id"]]
        assert event.get_type() == "com.redhat.hyperfleet.cluster.reconcile"
        assert event.get_source() == "hyperfleet-sentinel"
        assert event.get_specversion() == "1.0"
        assert event.get_data() == {
            "id": cluster["id"],
            "kind": "Cluster",
            "href": f"/api/hyperfleet/v1/clusters/{cluster['id']}",
            "generation": 1,
        }
    assert len({e.get_id() for e in got.events}) == 3
    assert _value(sentinel, "hyperfleet_sentinel_events_published_total") == 3
    assert _value(sentinel, "hyperfleet_sentinel_resources_seen_total") == 6
    assert _value(sentinel, "hyperfleet_sentinel_resources_skipped_total") == 3
    assert _value(sentinel, "hyperfleet_sentinel_polls_total", outcome="success") == 2
    assert _value(sentinel, "hyperfleet_sentinel_last_successful_poll_timestamp_seconds") > 0
    assert _value(sentinel, "hyperfleet_sentinel_poll_duration_seconds_count") == 2
    assert _value(sentinel, "hyperfleet_sentinel_pending_resources") == 3


async def test_nodepool_events_carry_owner_references(hf: HyperFleetClient):
    broker = InProcessBroker()
    got = await _subscribe(broker, "hyperfleet-nodepools")
    cluster = await hf.create("clusters", cluster_body())
    pool = await hf.create(f"clusters/{cluster['id']}/nodepools", nodepool_body())
    sentinel = _sentinel(hf, broker.publisher(), resource_type="nodepools", clock=LATER)

    assert (await sentinel.run_pass()).published == 1

    await _drained(broker, "hyperfleet-nodepools", got, 1)
    event = got.events[0]
    assert event.get_type() == "com.redhat.hyperfleet.nodepool.reconcile"
    assert event.get_data() == {
        "id": pool["id"],
        "kind": "NodePool",
        "href": pool["href"],
        "generation": 1,
        "owner_references": {
            "id": cluster["id"],
            "kind": "Cluster",
            "href": f"/api/hyperfleet/v1/clusters/{cluster['id']}",
        },
    }


async def test_reconciled_cluster_waits_for_max_age_then_patch_triggers(hf: HyperFleetClient):
    broker = InProcessBroker()
    got = await _subscribe(broker, "hyperfleet-clusters")
    cluster = await hf.create("clusters", cluster_body())
    for adapter in CLUSTER_ADAPTERS:
        await hf.report_status("clusters", cluster["id"], report_body(adapter, 1))
    current = await hf.get("clusters", cluster["id"])
    reconciled = next(c for c in current["status"]["conditions"] if c["type"] == "Reconciled")
    assert reconciled["status"] == "True"

    offset = timedelta()
    sentinel = _sentinel(
        hf, broker.publisher(), max_age_ready_seconds=600, clock=lambda: datetime.now(UTC) + offset
    )
    first = await sentinel.run_pass()
    assert (first.published, first.skipped) == (0, 1)
    assert _value(sentinel, "hyperfleet_sentinel_resources_skipped_total") == 1

    offset = timedelta(seconds=601)  # past max_age_ready: the liveness refresh is due
    assert (await sentinel.run_pass()).published == 1
    await _drained(broker, "hyperfleet-clusters", got, 1)

    offset = timedelta()
    patched = await hf.patch("clusters", cluster["id"], {"spec": {"version": "2"}})
    assert patched["generation"] == 2
    # The API flips Reconciled to False at the bump (observed_generation 2, updated now), so
    # the change is "not reconciled" and goes out after the debounce, as in the reference.
    assert (await sentinel.run_pass()).published == 0
    offset = timedelta(seconds=11)
    assert (await sentinel.run_pass()).published == 1
    await _drained(broker, "hyperfleet-clusters", got, 2)
    assert got.events[-1].get_data()["generation"] == 2


async def test_not_reconciled_is_debounced(hf: HyperFleetClient):
    broker = InProcessBroker()
    cluster = await hf.create("clusters", cluster_body())
    await hf.report_status("clusters", cluster["id"], report_body("validation", 1))
    offset = timedelta()
    sentinel = _sentinel(
        hf,
        broker.publisher(),
        max_age_not_ready_seconds=30,
        clock=lambda: datetime.now(UTC) + offset,
    )
    assert (await sentinel.run_pass()).published == 0
    offset = timedelta(seconds=31)
    assert (await sentinel.run_pass()).published == 1


async def test_every_page_is_read(hf: HyperFleetClient):
    broker = InProcessBroker()
    got = await _subscribe(broker, "hyperfleet-clusters")
    created = {(await hf.create("clusters", cluster_body()))["id"] for _ in range(7)}
    sentinel = _sentinel(hf, broker.publisher(), page_size=2, clock=LATER)

    result = await sentinel.run_pass()

    assert (result.ok, result.seen, result.published) == (True, 7, 7)
    await _drained(broker, "hyperfleet-clusters", got, 7)
    assert set(got.ids()) == created


async def test_label_selector_shards(hf: HyperFleetClient):
    broker = InProcessBroker()
    got = await _subscribe(broker, "shard-one")
    ones = {
        (await hf.create("clusters", cluster_body(labels={"shard": "1", "env": "p"})))["id"]
        for _ in range(2)
    }
    await hf.create("clusters", cluster_body(labels={"shard": "2", "env": "p"}))
    await hf.create("clusters", cluster_body(labels={"shard": "1"}))
    await hf.create("clusters", cluster_body())
    sentinel = _sentinel(
        hf,
        broker.publisher(),
        topic="shard-one",
        clock=LATER,
        resource_selector=[{"label": "shard", "value": "1"}, {"label": "env", "value": "p"}],
    )

    assert (await sentinel.run_pass()).seen == 2
    await _drained(broker, "shard-one", got, 2)
    assert set(got.ids()) == ones
    assert _value(sentinel, "hyperfleet_sentinel_events_published_total") == 2
    assert sentinel.settings.selector_label == "env=p,shard=1"


class FlakyPublisher:
    """Our Publisher port, failing on chosen calls (1-based)."""

    def __init__(self, inner: Any, fail_on: set[int], error: Exception | None = None) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.error = error or ConnectionError("broker went away")
        self.calls = 0

    async def publish(
        self, topic: str, event: CloudEvent, *, routing_key: str | None = None
    ) -> None:
        self.calls += 1
        if self.calls in self.fail_on:
            raise self.error
        await self.inner.publish(topic, event, routing_key=routing_key)

    async def close(self) -> None:
        return None


async def test_publish_error_is_counted_and_the_pass_continues(hf: HyperFleetClient):
    broker = InProcessBroker()
    got = await _subscribe(broker, "hyperfleet-clusters")
    for _ in range(4):
        await hf.create("clusters", cluster_body())
    publisher = FlakyPublisher(broker.publisher(), fail_on={2})
    sentinel = _sentinel(hf, publisher, clock=LATER)

    result = await sentinel.run_pass()

    assert (result.ok, result.seen, result.published, result.failed) == (True, 4, 3, 1)
    assert publisher.calls == 4
    assert _value(sentinel, "hyperfleet_sentinel_broker_errors_total") == 1
    assert _value(sentinel, "hyperfleet_sentinel_pending_resources") == 4
    await _drained(broker, "hyperfleet-clusters", got, 3)
    # The failed one is still new, so the next pass publishes it (and the others) again.
    assert (await sentinel.run_pass()).published == 4


async def test_broker_unavailable_ends_the_pass_and_backs_off(hf: HyperFleetClient):
    for _ in range(3):
        await hf.create("clusters", cluster_body())
    publisher = FlakyPublisher(
        InProcessBroker().publisher(), fail_on={1}, error=BrokerUnavailable("no RabbitMQ")
    )
    sentinel = _sentinel(hf, publisher, clock=LATER, poll_interval_seconds=2)

    result = await sentinel.run_pass()

    assert (result.ok, result.seen, publisher.calls) == (False, 1, 1)
    assert _value(sentinel, "hyperfleet_sentinel_broker_errors_total") == 1
    assert _value(sentinel, "hyperfleet_sentinel_polls_total", outcome="error") == 1
    assert sentinel.consecutive_failures == 1
    assert (await sentinel.run_pass()).published == 3


async def test_evaluation_error_skips_only_that_resource(hf: HyperFleetClient):
    broker = InProcessBroker()
    for version in ("1", "x"):
        await hf.create("clusters", cluster_body(spec={"v": version}))
    sentinel = _sentinel(
        hf,
        broker.publisher(),
        message_decision={"result": "int(resource.spec.v) > 0"},
    )
    result = await sentinel.run_pass()
    assert (result.ok, result.published, result.failed) == (True, 1, 1)
    assert _value(sentinel, "hyperfleet_sentinel_evaluation_errors_total") == 1
    assert _value(sentinel, "hyperfleet_sentinel_pending_resources") == 1


async def _status(client: httpx.AsyncClient, path: str) -> int:
    return (await client.get(path)).status_code


async def _until_status(client: httpx.AsyncClient, path: str, status: int) -> None:
    async with asyncio.timeout(30):
        while await _status(client, path) != status:
            await asyncio.sleep(0.05)


async def test_api_outage_no_crash_healthz_stalls_and_recovers(
    hf: HyperFleetClient, transport: SwitchableTransport
):
    broker = InProcessBroker()
    got = await _subscribe(broker, "hyperfleet-clusters")
    await hf.create("clusters", cluster_body())
    sentinel = _sentinel(
        hf,
        broker.publisher(),
        poll_interval_seconds=0.05,
        error_backoff_max_seconds=0.1,
        health={"stall_seconds": 0.5},
        clock=LATER,
    )
    health = serve_health(sentinel, broker)
    port = await health.start("127.0.0.1", 0)
    task = asyncio.create_task(sentinel.run())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as probe:
            await _until_status(probe, "/readyz", 200)
            assert await _status(probe, "/healthz") == 200

            transport.down = True
            await _until_status(probe, "/healthz", 503)
            assert not task.done()
            failures = _value(
                sentinel, "hyperfleet_sentinel_api_errors_total", error_type="fetch_error"
            )
            assert failures >= 1
            assert _value(sentinel, "hyperfleet_sentinel_polls_total", outcome="error") >= 1
            body = (await probe.get("/healthz")).text
            assert "stalled" in body

            transport.down = False
            await _until_status(probe, "/healthz", 200)
            metrics = (await probe.get("/metrics")).text
            assert "hyperfleet_sentinel_api_errors_total" in metrics
            assert "hyperfleet_sentinel_poll_duration_seconds_bucket" in metrics
            assert (await probe.get("/nope")).status_code == 404
            assert (await probe.post("/healthz")).status_code == 405
    finally:
        sentinel.stop()
        await asyncio.wait_for(task, 30)
        await health.close()
    assert sentinel.successful_passes >= 2
    assert len(got.events) >= 1


async def test_unreachable_api_from_the_start(pg_admin_url: str):
    from tests.conftest import free_port

    async with HyperFleetClient(f"http://127.0.0.1:{free_port()}", retry=NO_RETRY) as client:
        sentinel = _sentinel(client, InProcessBroker().publisher())
        result = await sentinel.run_pass()
        assert (result.ok, result.seen) == (False, 0)
        assert (
            _value(sentinel, "hyperfleet_sentinel_api_errors_total", error_type="fetch_error") == 1
        )
        assert not sentinel.readiness().ok


async def test_stop_ends_run_promptly(hf: HyperFleetClient):
    sentinel = _sentinel(hf, InProcessBroker().publisher(), poll_interval_seconds=3600)
    task = asyncio.create_task(sentinel.run())
    async with asyncio.timeout(30):
        while sentinel.successful_passes == 0:
            await asyncio.sleep(0.01)
    sentinel.stop()
    await asyncio.wait_for(task, 30)
    assert not sentinel.readiness().ok
