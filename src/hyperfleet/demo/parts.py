"""The loop's parts wrapped for the supervisor: broker, API client, Sentinels, adapters."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

from hyperfleet.adapters.runner import AdapterRunner
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.factory import connect
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.broker.ports import Broker
from hyperfleet.client import HyperFleetClient
from hyperfleet.config import ConfigError
from hyperfleet.demo.supervisor import Supervisor
from hyperfleet.sentinel.loop import Sentinel


class BrokerUnreachable(RuntimeError):
    """The broker URL is not usable, or RabbitMQ did not answer at start-up."""


class BrokerPart:
    """The broker connection; closed after every adapter and Sentinel has stopped.

    RabbitMQ is connected at start, so a wrong URL fails the demo before anything else runs;
    later outages are the broker client's business (it reconnects).
    """

    name = "broker"

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self._broker: Broker | None = None

    @property
    def in_process(self) -> bool:
        return isinstance(self._broker, InProcessBroker)

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            raise RuntimeError("the broker is not connected")
        return self._broker

    async def start(self) -> None:
        try:
            self._broker = connect(self.settings)
        except ConfigError as exc:
            raise BrokerUnreachable(f"--broker-url {self.settings.url}: {exc}") from exc
        if not isinstance(self._broker, InProcessBroker) and not await self._broker.healthy():
            raise BrokerUnreachable(f"RabbitMQ does not answer at {_redacted(self.settings.url)}")

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.close()


class ClientPart:
    """The one API client the Sentinels and adapters share; closed after they stopped."""

    name = "api-client"

    def __init__(self, client: HyperFleetClient) -> None:
        self.client = client

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.client.aclose()


class SentinelPart:
    """`Sentinel.run()` as a background task; its unexpected end stops the demo."""

    def __init__(self, sentinel: Sentinel, supervisor: Supervisor) -> None:
        self.name = f"sentinel-{sentinel.settings.resource_type}"
        self.sentinel = sentinel
        self._supervisor = supervisor
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.sentinel.run(), name=self.name)
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._supervisor.part_failed(self.name, error)
        elif not self.sentinel.stopping:
            self._supervisor.part_failed(self.name, RuntimeError("the Sentinel stopped"))

    async def stop(self) -> None:
        """The resource in hand is finished; nothing is cut off mid-publish."""
        self.sentinel.stop()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


class AdapterPart:
    """One simulated adapter's subscription on one kind's topic."""

    def __init__(self, runner: AdapterRunner) -> None:
        self.name = f"adapter-{runner.name}-{runner.kind}"
        self.runner = runner

    async def start(self) -> None:
        await self.runner.start()

    async def stop(self) -> None:
        """Stop consuming; an event whose handler had not finished is delivered again later."""
        await self.runner.stop()


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
