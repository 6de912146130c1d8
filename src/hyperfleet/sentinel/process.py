"""A Sentinel process: settings → API client → broker → health server → loop, until a signal.

`run_sentinel(settings)` is what `hyperfleet sentinel --config FILE` runs; SIGTERM or SIGINT
stops the loop after the resource in hand and returns normally (exit 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from hyperfleet import __version__
from hyperfleet.broker.factory import connect
from hyperfleet.broker.ports import Broker
from hyperfleet.client import HyperFleetClient, TokenFile
from hyperfleet.client.api import TokenSource
from hyperfleet.sentinel.config import SentinelSettings
from hyperfleet.sentinel.health import HealthServer, Probe
from hyperfleet.sentinel.loop import Sentinel

log = structlog.get_logger("hyperfleet.sentinel")


def make_client(settings: SentinelSettings) -> HyperFleetClient:
    token: TokenSource = settings.token
    if settings.token_file:
        token = TokenFile(settings.token_file)
    return HyperFleetClient(
        settings.api_url,
        token=token,
        timeout=settings.api_timeout_seconds,
        headers=settings.api_headers,
        user_agent=f"hyperfleet-sentinel/{__version__} ({settings.name})",
    )


def serve_health(sentinel: Sentinel, broker: Broker | None) -> HealthServer:
    """A health server for `sentinel` (readiness includes the broker's health when given)."""

    async def readiness() -> Probe:
        probe = sentinel.readiness()
        if probe.ok and broker is not None and not await broker.healthy():
            return Probe(ok=False, detail="broker unavailable")
        return probe

    return HealthServer(
        liveness=sentinel.liveness, readiness=readiness, registry=sentinel.metrics.registry
    )


async def run_sentinel(settings: SentinelSettings) -> None:
    """Run one Sentinel with its own client, broker connection and health server."""
    broker = connect(settings.broker)
    client = make_client(settings)
    health: HealthServer | None = None
    try:
        sentinel = Sentinel(settings, client, broker.publisher())
        if settings.health.enabled:
            health = serve_health(sentinel, broker)
            await health.start(settings.health.host, settings.health.port)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, sentinel.stop)
        try:
            await sentinel.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    finally:
        if health is not None:
            await health.close()
        await client.aclose()
        with contextlib.suppress(Exception):
            await broker.close()
