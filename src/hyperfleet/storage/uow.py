"""Unit of work: one pooled connection and one transaction per use case.

Driver errors are translated here, at the boundary: nothing above `storage` sees asyncpg.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from hyperfleet.errors import HyperFleetError, Timeout, Unavailable
from hyperfleet.storage.repositories import SqlResourceRepository, SqlStatusRepository

DB_UNAVAILABLE = "Database connection unavailable"

# Errors that mean "the database cannot serve us right now" rather than "the request is wrong".
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # A connection whose backend was killed mid-protocol can surface as a client state error.
    asyncpg.exceptions.InternalClientError,
)


def translate(exc: BaseException) -> HyperFleetError | None:
    """Our error for a driver error, or None when it is a bug (rendered as a 500)."""
    if isinstance(exc, asyncpg.QueryCanceledError):
        return Timeout("Database statement timed out")
    if isinstance(exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError):
        return Unavailable("Database conflict between concurrent requests; retry")
    if isinstance(exc, _CONNECTION_ERRORS):
        return Unavailable(DB_UNAVAILABLE)
    return None


@dataclass(frozen=True, slots=True)
class SqlTx:
    resources: SqlResourceRepository
    statuses: SqlStatusRepository


class SqlUnitOfWork:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _acquire(self) -> PoolConnectionProxy[asyncpg.Record]:
        """A pooled connection; any failure to get one means the database is unavailable."""
        try:
            return await self._pool.acquire()
        except Exception as exc:
            raise Unavailable(DB_UNAVAILABLE) from exc

    @asynccontextmanager
    async def _session(self, *, transaction: bool) -> AsyncIterator[SqlTx]:
        conn = await self._acquire()
        try:
            if transaction:
                async with conn.transaction():
                    yield SqlTx(SqlResourceRepository(conn), SqlStatusRepository(conn))
            else:
                yield SqlTx(SqlResourceRepository(conn), SqlStatusRepository(conn))
        except HyperFleetError:
            raise
        except Exception as exc:
            mapped = translate(exc)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            await self._pool.release(conn)

    def begin(self) -> AbstractAsyncContextManager[SqlTx]:
        """One transaction: commits on normal exit, rolls back on any exception."""
        return self._session(transaction=True)

    def read(self) -> AbstractAsyncContextManager[SqlTx]:
        """A connection for reads, without an explicit transaction."""
        return self._session(transaction=False)

    async def ping(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                async with self._pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - readiness: any failure means "not ready"
            return False
        return True
