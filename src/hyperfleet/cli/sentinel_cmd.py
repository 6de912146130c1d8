"""`hyperfleet sentinel --config FILE`: run one Sentinel (see docs/sentinel.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hyperfleet.sentinel.config import SentinelSettings


def sentinel(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML config file (or $HYPERFLEET_CONFIG)."),
    ] = None,
    api_url: Annotated[str | None, typer.Option(help="API server root URL.")] = None,
    broker_url: Annotated[
        str | None, typer.Option(help="Broker URL (amqp://… or memory://).")
    ] = None,
    resource_type: Annotated[
        str | None, typer.Option(help="Collection to poll, e.g. clusters.")
    ] = None,
    health_port: Annotated[int | None, typer.Option(help="Health and metrics port.")] = None,
) -> None:
    """Poll one kind, decide with CEL, publish reconcile events until SIGTERM/SIGINT."""
    from hyperfleet.sentinel.config import SentinelConfigError, load_sentinel_settings

    overrides: dict[str, Any] = {}
    if api_url is not None:
        overrides["api_url"] = api_url
    if broker_url is not None:
        overrides["broker"] = {"url": broker_url}
    if resource_type is not None:
        overrides["resource_type"] = resource_type
    if health_port is not None:
        overrides["health"] = {"port": health_port}
    try:
        settings = load_sentinel_settings(config, overrides=overrides)
        _check_programs(settings)
    except SentinelConfigError as exc:
        for path, message in exc.errors:
            typer.echo(f"config error: {path}: {message}", err=True)
        raise typer.Exit(2) from exc

    import asyncio

    from hyperfleet.config import LoggingSettings
    from hyperfleet.logs import configure_logging
    from hyperfleet.sentinel.process import run_sentinel

    configure_logging(
        LoggingSettings(level=settings.logging.level, format=settings.logging.format),
        component="sentinel",
    )
    asyncio.run(run_sentinel(settings))


def _check_programs(settings: SentinelSettings) -> None:
    """CEL problems surface as config errors before anything connects."""
    from hyperfleet.sentinel.decision import Decision
    from hyperfleet.sentinel.payload import EventBuilder

    Decision.from_settings(settings)
    EventBuilder.compile(settings.message_data)
