"""The demo's composition: which parts run, in which order, wired to which broker and API.

Start order: broker (a wrong RabbitMQ URL fails before anything else starts), API (and
PostgreSQL), API client, adapters (their subscriptions exist before the first event is
published), Sentinels. Stop order is the reverse: Sentinels first (no new events), then adapters
(in-flight handlers finish or their events are requeued), the client, the API, PostgreSQL, and
last the broker connection.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import structlog

from hyperfleet import __version__
from hyperfleet.adapters.simulated import AdapterSpec, SimulatedSettings, simulated_runners
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.client import HyperFleetClient, TokenFile
from hyperfleet.client.headers import LOOP_HEADERS
from hyperfleet.config import Settings
from hyperfleet.demo.api import ApiStartupError, InProcessApi
from hyperfleet.demo.coalescing import CoalescingBroker
from hyperfleet.demo.configuration import SENTINEL, DemoThresholds, adapters_by_kind
from hyperfleet.demo.parts import (
    AdapterPart,
    BrokerPart,
    BrokerUnreachable,
    ClientPart,
    SentinelPart,
)
from hyperfleet.demo.supervisor import Supervisor
from hyperfleet.rest.app import registry_from
from hyperfleet.sentinel.config import HealthSettings, SentinelSettings
from hyperfleet.sentinel.loop import Sentinel

log = structlog.get_logger("hyperfleet.demo")


@dataclass(frozen=True)
class DemoOptions:
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    """`memory://` (the default) for the in-process broker, `amqp://…` for RabbitMQ."""
    without: frozenset[str] = field(default_factory=frozenset)
    """Parts left out: adapter names, or `sentinel`."""
    thresholds: DemoThresholds = field(default_factory=DemoThresholds)
    token_file: Path | None = None
    """The Sentinels' and adapters' bearer token (re-read when it changes); needed with auth."""
    api_headers: Mapping[str, str] = field(default_factory=lambda: dict(LOOP_HEADERS))
    """Sent with every request of the loop: by default the API's system-caller header."""


def loop_headers(settings: Settings) -> dict[str, str]:
    """The loop's headers for this API: its tenancy system header, `true`."""
    return {settings.server.tenant.system_header: "true"}


def sentinel_settings(
    plural: str, api_url: str, broker: BrokerSettings, thresholds: DemoThresholds
) -> SentinelSettings:
    """The demo's Sentinel for one collection: short thresholds, no health server."""
    return SentinelSettings(
        name=f"demo-sentinel-{plural}",
        api_url=api_url,
        resource_type=plural,
        poll_interval_seconds=thresholds.poll_seconds,
        max_age_not_ready_seconds=thresholds.not_ready_debounce_seconds,
        max_age_ready_seconds=thresholds.ready_max_age_seconds,
        broker=broker,
        health=HealthSettings(enabled=False),
    )


async def run_demo(
    settings: Settings,
    options: DemoOptions,
    *,
    out: TextIO = sys.stdout,
    err: TextIO | None = None,
    supervisor: Supervisor | None = None,
) -> int:
    """Run the demo until SIGINT/SIGTERM or `supervisor.request_stop()`.

    Returns 0 after a clean stop, 1 when a part failed. Without a `supervisor` the process's
    SIGINT/SIGTERM handlers are installed.
    """
    if supervisor is None:
        supervisor = Supervisor()
        supervisor.install_signal_handlers()
    try:
        await _start_parts(settings, options, supervisor, out)
        await supervisor.wait()
    except (ApiStartupError, BrokerUnreachable) as exc:
        supervisor.part_failed("demo start-up", exc)
    finally:
        await supervisor.stop_all()
    if supervisor.failure is not None:
        print(f"HyperFleet demo failed: {supervisor.failure}", file=err or sys.stderr, flush=True)
        return 1
    return 0


async def _start_parts(
    settings: Settings, options: DemoOptions, supervisor: Supervisor, out: TextIO
) -> None:
    registry = registry_from(settings)
    thresholds = options.thresholds
    broker_settings = options.broker
    broker = BrokerPart(broker_settings)
    await supervisor.start(broker)
    api = InProcessApi(settings)
    await supervisor.start(api)
    client = ClientPart(
        HyperFleetClient(
            api.url,
            token=TokenFile(options.token_file) if options.token_file else None,
            headers=options.api_headers,
            user_agent=f"hyperfleet-demo/{__version__}",
        )
    )
    await supervisor.start(client)

    sentinels = {
        kind: sentinel_settings(registry.require(kind).plural, api.url, broker_settings, thresholds)
        for kind in adapters_by_kind(registry)
    }
    specs = [
        AdapterSpec(name, kind, sentinels[kind].effective_topic)
        for kind, names in adapters_by_kind(registry).items()
        for name in names
        if name not in options.without
    ]
    # In-process, nothing but the demo consumes, so the queues can be seen and coalesced.
    bus = CoalescingBroker(broker.broker) if broker.in_process else broker.broker
    runners = simulated_runners(
        bus,
        client.client,
        settings=SimulatedSettings(delay_seconds=thresholds.adapter_delay_seconds),
        specs=specs,
    )
    for runner in runners:
        await supervisor.start(AdapterPart(runner))
    if SENTINEL not in options.without:
        for sentinel in sentinels.values():
            await supervisor.start(
                SentinelPart(Sentinel(sentinel, client.client, bus.publisher()), supervisor)
            )
    running = [] if SENTINEL in options.without else [s.resource_type for s in sentinels.values()]
    by_plural = {
        registry.require(kind).plural: [s.name for s in specs if s.kind == kind]
        for kind in adapters_by_kind(registry)
    }
    broker_name = "in-process" if broker.in_process else "RabbitMQ"
    log.info("demo running", api=api.url, broker=broker_name, adapters=by_plural, sentinels=running)
    print(_banner(api.url, by_plural, running, thresholds, broker_name), file=out, flush=True)


def _banner(
    url: str,
    adapters: dict[str, list[str]],
    sentinels: list[str],
    thresholds: DemoThresholds,
    broker: str,
) -> str:
    """What runs, as printed once everything is up (tests read the first line's URL)."""
    per_kind = "; ".join(
        f"{plural}: {', '.join(names) or 'none'}" for plural, names in adapters.items()
    )
    return (
        f"HyperFleet demo: API {url}\n"
        f"  adapters: {per_kind}\n"
        f"  sentinels: {', '.join(sentinels) or 'none'} (poll {thresholds.poll_seconds:g} s);"
        f" broker: {broker}\n"
        "  SIGINT (Ctrl+C) or SIGTERM stops everything."
    )
