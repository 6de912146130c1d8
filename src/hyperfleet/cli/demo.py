"""`hyperfleet demo`: the API, Sentinels, broker and simulated adapters in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hyperfleet.config import Settings


def demo(  # noqa: PLR0917 - typer maps each parameter to a flag
    port: Annotated[int | None, typer.Option(help="API port (0: any free port).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Embedded PostgreSQL data directory.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Use this PostgreSQL instead of the embedded one.")
    ] = None,
    broker_url: Annotated[
        str | None, typer.Option(help="RabbitMQ URL (amqp://…); default: in-process broker.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="API config file (entities, …).")
    ] = None,
    without: Annotated[
        list[str] | None,
        typer.Option(help="Leave out a part: an adapter by name, or 'sentinel' (repeatable)."),
    ] = None,
) -> None:
    """Run the whole loop locally; a new cluster reaches phase Ready within seconds."""
    from hyperfleet.cli.main import _check_app_config, _run, _settings
    from hyperfleet.demo.configuration import DEMO_LOGGING, demo_entities, unknown_parts
    from hyperfleet.demo.loop import DemoOptions, run_demo
    from hyperfleet.logs import configure_logging
    from hyperfleet.rest.app import registry_from

    overrides: dict[str, Any] = {}
    if port is not None:
        overrides["server"] = {"port": port}
    database: dict[str, Any] = {}
    if data_dir is not None:
        database["data_dir"] = str(data_dir)
    if database_url is not None:
        database["url"] = database_url
    if database:
        overrides["database"] = database
    settings: Settings = _settings(config, **overrides)
    if not settings.entities:
        overrides["entities"] = demo_entities()
    if "logging" not in settings.model_fields_set:
        overrides["logging"] = DEMO_LOGGING  # the URL line and problems, not every request
    settings = _settings(config, **overrides)
    _check_app_config(settings)
    unknown = unknown_parts(without or (), registry_from(settings))
    if unknown:
        typer.echo(f"--without: unknown part(s) {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    configure_logging(settings.logging, component="demo")
    exit_code = 0

    async def main() -> None:
        nonlocal exit_code
        exit_code = await run_demo(settings, DemoOptions(broker_url, frozenset(without or ())))

    _run(main())
    raise typer.Exit(exit_code)
