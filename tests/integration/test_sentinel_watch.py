"""The Sentinel with `watch: true` against a real `hyperfleet serve`: a change is decided and
published from the watch stream, long before the next poll (60 s away) could find it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from cloudevents.core.v1.event import CloudEvent
from tests.factories import cluster_body
from tests.watch_helpers import drop_database, fresh_database, start_server, until

from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.client import HyperFleetClient
from hyperfleet.sentinel.config import load_sentinel_settings
from hyperfleet.sentinel.loop import Sentinel
from hyperfleet.sentinel.metrics import SentinelMetrics

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture(loop_scope="session")
async def url(pg_admin_url: str) -> AsyncIterator[str]:
    database = await fresh_database(pg_admin_url)
    try:
        yield database
    finally:
        await drop_database(pg_admin_url, database)


async def test_watching_sentinel_publishes_a_change_before_its_next_poll(
    url: str, tmp_path: Path
) -> None:
    server = start_server(url, tmp_path / "server.log")
    broker = InProcessBroker()
    events: list[CloudEvent] = []

    async def collect(event: CloudEvent) -> None:
        events.append(event)

    def of(resource: dict[str, object]) -> list[CloudEvent]:
        return [e for e in events if e.get_data()["id"] == resource["id"]]

    await broker.subscriber("test").subscribe("hyperfleet-clusters", collect)
    try:
        async with HyperFleetClient(server.base) as hf:
            warm = await hf.create("clusters", cluster_body())
            target = await hf.create("clusters", cluster_body())
            settings = load_sentinel_settings(
                None,
                environ={},
                overrides={"resource_type": "clusters", "watch": True, "poll_interval_seconds": 60},
            )
            # A clock a minute ahead: every resource is past its debounce, so any change is due.
            sentinel = Sentinel(
                settings,
                hf,
                broker.publisher(),
                metrics=SentinelMetrics(),
                clock=lambda: datetime.now(UTC) + timedelta(seconds=60),
            )
            task = asyncio.create_task(sentinel.run())
            try:
                # The first pass runs at once and publishes both clusters.
                await until(lambda: sentinel.successful_passes == 1)
                await until(lambda: len(of(target)) == 1)
                # The stream starts "from now": touch a cluster until the Sentinel sees a change.
                n = 0
                while sentinel.watch_events == 0:
                    n += 1
                    await hf.patch("clusters", warm["id"], {"labels": {"n": str(n)}})
                    await asyncio.sleep(0.2)
                    assert n < 100, "the Sentinel never saw the watch stream"
                await hf.patch("clusters", target["id"], {"spec": {"changed": True}})
                await until(lambda: len(of(target)) == 2)
                assert sentinel.successful_passes == 1  # no poll ran: the watch found it
            finally:
                sentinel.stop()
                await asyncio.wait_for(task, 30)
    finally:
        server.stop()
