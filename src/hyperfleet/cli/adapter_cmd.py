"""`hyperfleet adapter --config FILE`: one adapter process (simulated, or an SDK adapter).

It subscribes `<topic>-<name>` on the configured broker, reconciles through the API, and stops
on SIGINT/SIGTERM (exit 0). A config error exits 2 with each key path; a broker that cannot be
reached at start exits 1.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hyperfleet.cli.common import run_async
from hyperfleet.config import ConfigError

if TYPE_CHECKING:
    from hyperfleet.adapters.config import AdapterProcessConfig

ConfigFile = Annotated[
    Path, typer.Option("--config", "-c", help="Adapter config file (YAML).", show_default=False)
]


def adapter(config: ConfigFile) -> None:
    """Run one adapter: subscribe, reconcile through the API, report status."""
    from hyperfleet.adapters.config import load_adapter_config

    try:
        settings = load_adapter_config(config)
    except ConfigError as exc:
        for path, message in exc.errors:
            typer.echo(f"config error: {path}: {message}", err=True)
        raise typer.Exit(2) from exc

    from hyperfleet.logs import configure_logging

    configure_logging(settings.logging, component=f"adapter-{settings.name}")
    try:
        run_async(_main(settings))
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


async def _main(settings: AdapterProcessConfig) -> None:
    import structlog

    from hyperfleet.adapters.config import build_adapter
    from hyperfleet.adapters.health import serve_health
    from hyperfleet.adapters.metrics import AdapterMetrics
    from hyperfleet.adapters.runner import AdapterRunner
    from hyperfleet.broker.factory import connect
    from hyperfleet.client import HyperFleetClient, TokenFile

    log = structlog.get_logger("hyperfleet.adapter")
    token = TokenFile(settings.token_file) if settings.token_file else settings.token
    metrics = AdapterMetrics()
    broker = connect(settings.broker)
    client = HyperFleetClient(
        settings.api_url,
        token=token,
        timeout=settings.api_timeout_seconds,
        headers=settings.api_headers,
        user_agent=f"hyperfleet-adapter/{settings.name}",
    )
    runner = AdapterRunner(
        build_adapter(settings),
        name=settings.name,
        kind=settings.resolved_kind,
        client=client,
        subscriber=broker.subscriber(settings.name),
        topic=settings.resolved_topic,
        metrics=metrics,
        dependency_refresh_seconds=settings.dependency_refresh_seconds,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    health = None
    try:
        await runner.start()
        if settings.health_port is not None:
            health = await serve_health(
                settings.health_host, settings.health_port, metrics, broker.healthy
            )
        log.info(
            "adapter started",
            adapter=settings.name,
            kind=runner.kind,
            topic=runner.topic,
            api_url=settings.api_url,
        )
        await stop.wait()
        log.info("adapter stopping", adapter=settings.name)
    finally:
        if health is not None:
            health.close()
        await runner.stop()
        await broker.close()
        await client.aclose()
