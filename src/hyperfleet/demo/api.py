"""The API served inside the demo's event loop: uvicorn `Server` + embedded PostgreSQL.

The same steps as `hyperfleet serve` (embedded server in the data dir unless a URL is given,
migrations, the app's lifespan), but as a part that starts and stops on request, so the demo
can stop it after the Sentinels and adapters and before PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import structlog
import uvicorn

from hyperfleet.config import Settings
from hyperfleet.rest.app import AppState, create_app
from hyperfleet.storage.pool import EmbeddedPostgres, default_data_dir, wait_for_database

log = structlog.get_logger("hyperfleet.demo")


class ApiStartupError(RuntimeError):
    """The API did not come up (lifespan failure, port in use, database unreachable)."""


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: the demo owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class InProcessApi:
    """`start()` brings up PostgreSQL (when embedded) and the API; `stop()` takes both down."""

    name = "api"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = ""
        """The API's root URL once started, e.g. `http://127.0.0.1:8000`."""
        self._embedded: EmbeddedPostgres | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._state: AppState | None = None

    async def start(self) -> None:
        url = self.settings.database.url
        if not url:
            data_dir = self.settings.database.data_dir
            self._embedded = EmbeddedPostgres(Path(data_dir) if data_dir else default_data_dir())
            admin_url = await asyncio.to_thread(self._embedded.start)
            url = await self._embedded.ensure_database(admin_url)
        try:
            await wait_for_database(url)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise ApiStartupError(f"the database is not reachable: {exc}") from exc
        app = create_app(self.settings, database_url=url, run_migrations=True)
        self._state = app.state.hf
        config = uvicorn.Config(
            app,
            host=self.settings.server.host,
            port=self.settings.server.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=int(self.settings.server.shutdown_timeout_seconds),
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._serve(self._server), name="demo-api")
        while not self._server.started:
            if self._task.done():
                await self._task  # raises ApiStartupError
                raise ApiStartupError("the API stopped during start-up")
            await asyncio.sleep(0.05)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{_url_host(str(host))}:{port}"

    @staticmethod
    async def _serve(server: _Server) -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits the process on a failed lifespan start-up
            raise ApiStartupError("the API's start-up failed (see the log above)") from exc

    async def stop(self) -> None:
        """Drain requests and close the pool, then stop the embedded PostgreSQL."""
        try:
            if self._server is not None and self._task is not None:
                if self._state is not None:
                    self._state.shutting_down = True
                self._server.should_exit = True
                with contextlib.suppress(ApiStartupError):
                    await self._task
        finally:
            if self._embedded is not None:
                await asyncio.to_thread(self._embedded.stop)
                self._embedded = None


def _url_host(host: str) -> str:
    if host in {"0.0.0.0", "::"}:  # a wildcard bind is reached over loopback
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
