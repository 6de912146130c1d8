"""`hyperfleet demo`: the API, Sentinels, broker and simulated adapters in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.cli.common import api_settings, check_app_config, run_async
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
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            envvar="HYPERFLEET_API_TOKEN_FILE",
            help="Bearer token of the Sentinels and adapters (re-read when it changes); "
            "required when the config enables auth.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the whole loop locally; a new cluster reaches phase Ready within seconds."""
    from hyperfleet.demo.configuration import unknown_parts
    from hyperfleet.demo.loop import DemoOptions, loop_headers, run_demo
    from hyperfleet.logs import configure_logging
    from hyperfleet.rest.app import registry_from

    settings = _demo_settings(config, port=port, data_dir=data_dir, database_url=database_url)
    unknown = unknown_parts(without or (), registry_from(settings))
    if unknown:
        typer.echo(f"--without: unknown part(s) {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    _check_token_file(settings, token_file)
    options = DemoOptions(
        _broker_settings(broker_url),
        frozenset(without or ()),
        token_file=token_file,
        api_headers=loop_headers(settings),
    )
    configure_logging(settings.logging, component="demo")
    exit_code = 0

    async def main() -> None:
        nonlocal exit_code
        exit_code = await run_demo(settings, options)

    run_async(main())
    raise typer.Exit(exit_code)


def _demo_settings(
    config: Path | None, *, port: int | None, data_dir: Path | None, database_url: str | None
) -> Settings:
    """The API's settings, with the demo's entities and quiet logging.

    The config file (or the environment) may set either instead.
    """
    from hyperfleet.demo.configuration import DEMO_LOGGING, demo_entities

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
    settings = api_settings(config, **overrides)
    if not settings.entities:
        overrides["entities"] = demo_entities()
    if "logging" not in settings.model_fields_set:
        overrides["logging"] = DEMO_LOGGING  # the URL line and problems, not every request
    settings = api_settings(config, **overrides)
    check_app_config(settings)
    return settings


def _check_token_file(settings: Settings, token_file: Path | None) -> None:
    """With auth on, the loop needs a readable token; a missing one would only show as 401s."""
    if token_file is None:
        if settings.auth.enabled:
            typer.echo(
                "auth.enabled: the demo's Sentinels and adapters need a token with the adapter "
                "role: --token-file FILE (or HYPERFLEET_API_TOKEN_FILE); see docs/local-auth.md",
                err=True,
            )
            raise typer.Exit(2)
        return
    try:
        token_file.read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"--token-file: cannot read {token_file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc


def _broker_settings(broker_url: str | None) -> BrokerSettings:
    """`HYPERFLEET_BROKER_*` as the separate processes read them, the URL from `--broker-url`.

    Neither naming a URL means `memory://`, the in-process broker.
    """
    from pydantic import ValidationError

    from hyperfleet.broker.factory import load_broker_settings
    from hyperfleet.config import ConfigError

    try:
        broker = load_broker_settings(None)
    except ConfigError as exc:
        for path, message in exc.errors:
            typer.echo(f"config error: {path}: {message}", err=True)
        raise typer.Exit(2) from exc
    if broker_url is None:
        return broker
    try:
        return BrokerSettings.model_validate({**broker.model_dump(), "url": broker_url})
    except ValidationError as exc:
        message = "; ".join(str(e["msg"]) for e in exc.errors())
        typer.echo(f"--broker-url: {message}", err=True)
        raise typer.Exit(2) from exc
