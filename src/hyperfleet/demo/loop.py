"""The demo's composition: which parts run, in which order, wired to which broker and API."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

import structlog

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.config import Settings
from hyperfleet.demo.api import ApiStartupError, InProcessApi
from hyperfleet.demo.configuration import SENTINEL, DemoThresholds, adapters_by_kind
from hyperfleet.demo.supervisor import Supervisor
from hyperfleet.rest.app import registry_from

log = structlog.get_logger("hyperfleet.demo")


@dataclass(frozen=True)
class DemoOptions:
    broker_url: str | None = None
    """`amqp://…` for RabbitMQ; None for the in-process broker."""
    without: frozenset[str] = field(default_factory=frozenset)
    """Parts left out: adapter names, or `sentinel`."""
    thresholds: DemoThresholds = field(default_factory=DemoThresholds)


class BrokerPart:
    """The broker connection; closed after every adapter and Sentinel has stopped."""

    name = "broker"

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.broker: InProcessBroker | None = None

    async def start(self) -> None:
        self.broker = InProcessBroker(self.settings)

    async def stop(self) -> None:
        if self.broker is not None:
            await self.broker.close()


async def run_demo(
    settings: Settings,
    options: DemoOptions,
    *,
    out: TextIO = sys.stdout,
    supervisor: Supervisor | None = None,
) -> int:
    """Run the demo until SIGINT/SIGTERM or `supervisor.request_stop()`.

    Returns 0 after a clean stop, 1 when a part failed. Without a `supervisor` the process's
    SIGINT/SIGTERM handlers are installed.
    """
    registry = registry_from(settings)
    plan = {
        kind: tuple(a for a in names if a not in options.without)
        for kind, names in adapters_by_kind(registry).items()
    }
    if supervisor is None:
        supervisor = Supervisor()
        supervisor.install_signal_handlers()
    api = InProcessApi(settings)
    try:
        await supervisor.start(api)
        broker = BrokerPart(BrokerSettings(url=options.broker_url or "memory://"))
        await supervisor.start(broker)
        log.info(
            "demo loop",
            api=api.url,
            adapters=plan,
            sentinels=SENTINEL not in options.without,
        )
        print(f"HyperFleet demo: API {api.url}", file=out, flush=True)
        await supervisor.wait()
    except ApiStartupError as exc:
        supervisor.part_failed("api", exc)
    finally:
        await supervisor.stop_all()
    return 0 if supervisor.failure is None else 1
