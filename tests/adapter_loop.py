"""A reconcile loop without the Sentinel, for adapter tests: the real API (ASGI app over the
real client), an in-process broker, and adapters on it. `kick` publishes a reconcile event the
way the Sentinel would; `converge` re-publishes until a condition on the resource holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from hyperfleet.adapters.metrics import AdapterMetrics
from hyperfleet.adapters.runner import AdapterRunner
from hyperfleet.adapters.simulated import SimulatedSettings, simulated_runners
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import OwnerReference, ResourceHint, reconcile_event
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.client import ApiError, HyperFleetClient, NotFoundError
from hyperfleet.client.types import AdapterStatus, Page, Resource
from hyperfleet.config import Settings
from hyperfleet.rest.app import create_app

# interfaces.md: the demo's default adapter dependencies.
DEMO_ENTITIES = [
    {
        "kind": "Cluster",
        "adapter_dependencies": {"dns": ["validation"], "hypershift": ["validation", "dns"]},
    },
    {"kind": "NodePool", "adapter_dependencies": {"hypershift": ["validation"]}},
]
FAST_BROKER = BrokerSettings(retry_delay_seconds=0.01, retry_max_delay_seconds=0.05, dlq_attempts=5)
TOPICS = {"Cluster": "hyperfleet-clusters", "NodePool": "hyperfleet-nodepools"}
DEADLINE = 60.0


class RecordingClient(HyperFleetClient):
    """The real client, remembering every report it sent and how the API answered it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reports: list[dict[str, Any]] = []

    async def report_status(
        self,
        collection: str,
        id: str,  # noqa: A002 - the client's parameter name
        report: Mapping[str, Any],
    ) -> AdapterStatus | None:
        try:
            stored = await super().report_status(collection, id, report)
        except ApiError as exc:
            self.reports.append({"resource_id": id, "answer": exc.status, **report})
            raise
        self.reports.append({"resource_id": id, "answer": 201 if stored else 204, **report})
        return stored


@dataclass
class Loop:
    api: RecordingClient
    broker: InProcessBroker
    runners: list[AdapterRunner] = field(default_factory=list)

    async def kick(self, resource: Resource) -> None:
        owner = resource.get("owner_references")
        hint = ResourceHint(
            id=resource["id"],
            kind=resource["kind"],
            href=resource["href"],
            generation=resource["generation"],
            owner=OwnerReference(owner["id"], owner["kind"], owner.get("href")) if owner else None,
        )
        await self.broker.publisher().publish(TOPICS[resource["kind"]], reconcile_event(hint))

    async def fetch(self, resource_id: str) -> Resource | None:
        try:
            return await self.api.get("resources", resource_id)
        except NotFoundError:
            return None

    async def converge(
        self,
        resource: Resource,
        until: Callable[[Resource | None], bool],
        *,
        kick: bool = True,
        also: tuple[Resource, ...] = (),
    ) -> Resource | None:
        """Re-publish `resource` (and `also`) until `until(fresh resource or None)` holds."""
        async with asyncio.timeout(DEADLINE):
            while True:
                current = await self.fetch(resource["id"])
                if until(current):
                    return current
                if kick:
                    for item in (resource, *also):
                        await self.kick(item)
                await asyncio.sleep(0.05)

    async def statuses(self, resource_id: str) -> dict[str, AdapterStatus]:
        page: Page[AdapterStatus] = await self.api.statuses("resources", resource_id, size=100)
        return {s["adapter"]: s for s in page.items}

    async def start(self, runners: list[AdapterRunner]) -> None:
        for runner in runners:
            await runner.start()
        self.runners.extend(runners)

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.stop()
        self.runners.clear()


@asynccontextmanager
async def running_api(settings: Settings, database_url: str) -> AsyncIterator[RecordingClient]:
    app = create_app(settings, database_url=database_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with RecordingClient("http://hyperfleet", transport=transport) as api:
            yield api


@asynccontextmanager
async def loop_with_simulated(
    settings: Settings,
    database_url: str,
    simulated: SimulatedSettings | None = None,
    *,
    start: bool = True,
) -> AsyncIterator[Loop]:
    async with running_api(settings, database_url) as api:
        broker = InProcessBroker(FAST_BROKER)
        loop = Loop(api, broker)
        if start:
            await loop.start(
                simulated_runners(
                    broker,
                    api,
                    settings=simulated,
                    metrics=AdapterMetrics(),
                    dependency_refresh_seconds=0.5,
                )
            )
        try:
            yield loop
        finally:
            await loop.stop()
            await broker.close()


def phase(resource: Resource | None) -> str | None:
    return None if resource is None else resource["status"].get("phase")


def is_phase(name: str, generation: int | None = None) -> Callable[[Resource | None], bool]:
    def check(resource: Resource | None) -> bool:
        return (
            resource is not None
            and phase(resource) == name
            and (generation is None or resource["generation"] == generation)
        )

    return check


def gone(resource: Resource | None) -> bool:
    return resource is None


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(DEADLINE):
        while not await check():
            await asyncio.sleep(0.05)
