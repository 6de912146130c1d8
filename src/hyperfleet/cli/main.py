"""`hyperfleet` command line: serve, migrate, config validate, demo, and the client commands.

Settings are loaded once here and passed down; this module holds no rules of its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hyperfleet import __version__
from hyperfleet.cli import adapter_cmd, dev
from hyperfleet.cli.common import api_settings, check_app_config, run_async, settle_heap
from hyperfleet.cli.demo import demo
from hyperfleet.cli.lean import server_only
from hyperfleet.cli.sentinel_cmd import sentinel as sentinel_command
from hyperfleet.config import Settings, unknown_env_vars

if TYPE_CHECKING:
    import uvicorn

app = typer.Typer(no_args_is_help=True, help="HyperFleet API service.")
config_app = typer.Typer(no_args_is_help=True, help="Configuration tools.")
app.add_typer(config_app, name="config")
app.add_typer(dev.app, name="dev")
app.command()(demo)
app.command("sentinel")(sentinel_command)
app.command("adapter")(adapter_cmd.adapter)
if not server_only():
    # Not in a `hyperfleet serve` process: the client commands need rich (cli/lean.py).
    from hyperfleet.cli import client as client_commands

    client_commands.register(app, config_app)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config file (or $HYPERFLEET_CONFIG).")
]


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Embedded PostgreSQL data directory.")
    ] = None,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="Skip migrations.")] = False,
) -> None:
    """Run the API (embedded PostgreSQL when no database URL is configured)."""
    server: dict[str, Any] = {}
    if host is not None:
        server["host"] = host
    if port is not None:
        server["port"] = port
    overrides: dict[str, Any] = {"server": server} if server else {}
    if data_dir is not None:
        overrides["database"] = {"data_dir": str(data_dir)}
    settings = api_settings(config, **overrides)
    check_app_config(settings)

    from hyperfleet.logs import configure_logging

    configure_logging(settings.logging)
    import structlog

    log = structlog.get_logger("hyperfleet.cli")
    for name in unknown_env_vars():
        log.warning("unknown environment variable", name=name)
    run_async(_serve(settings, migrate=not no_migrate))


async def _serve(settings: Settings, *, migrate: bool) -> None:
    import uvicorn

    from hyperfleet.rest.app import create_app
    from hyperfleet.storage.pool import EmbeddedPostgres, default_data_dir, wait_for_database

    embedded: EmbeddedPostgres | None = None
    url = settings.database.url
    if not url:
        data_dir = Path(settings.database.data_dir) if settings.database.data_dir else None
        embedded = EmbeddedPostgres(data_dir or default_data_dir())
        admin_url = await asyncio.to_thread(embedded.start)
        url = await embedded.ensure_database(admin_url)
    try:
        await wait_for_database(url)
        app = create_app(settings, database_url=url, run_migrations=migrate)
        config = uvicorn.Config(
            app,
            host=settings.server.host,
            port=settings.server.port,
            log_config=None,
            access_log=False,
            # Nothing reads the client address or scheme (hrefs are paths): skip the
            # X-Forwarded-* rewrite uvicorn would otherwise run on every request.
            proxy_headers=False,
            timeout_graceful_shutdown=int(settings.server.shutdown_timeout_seconds),
        )
        server = _settling_server(config)
        state = app.state.hf

        loop = asyncio.get_running_loop()

        def begin_shutdown() -> None:
            state.shutting_down = True
            state.end_watches()
            server.should_exit = True

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, begin_shutdown)
        loop.add_signal_handler(
            signal.SIGHUP, lambda: state.spawn(state.reload(), "reload-aggregation-config")
        )
        config.install_signal_handlers = False  # type: ignore[attr-defined]
        await server.serve()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def _settling_server(config: uvicorn.Config) -> uvicorn.Server:
    """The uvicorn server, settling the heap (`settle_heap`) once start-up has finished."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                settle_heap()

    return Server(config)


@app.command("migrate")
def migrate_cmd(config: ConfigOpt = None) -> None:
    """Apply pending database migrations and exit."""
    settings = api_settings(config)
    if not settings.database.url:
        typer.echo("config error: database.url: required for migrate", err=True)
        raise typer.Exit(2)
    from hyperfleet.storage.migrations import migrate_url

    applied = asyncio.run(migrate_url(settings.database.url))
    typer.echo(f"applied migrations: {applied or 'none pending'}")


@config_app.command("validate")
def config_validate(file: Annotated[Path, typer.Argument(help="Config file to check.")]) -> None:
    """Check a config file; print every error with its key path; exit non-zero on any."""
    from hyperfleet.config_check import check_config_file

    errors = check_config_file(file)
    if errors:
        for path, message in errors:
            typer.echo(f"{file}: {path}: {message}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{file}: OK")


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
