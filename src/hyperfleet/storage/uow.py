"""Unit of work: one pooled connection and one transaction per use case.

Driver errors are translated here, at the boundary: nothing above `storage` sees asyncpg.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction

from hyperfleet.errors import HyperFleetError, Timeout, Unavailable
from hyperfleet.storage.repositories import SqlResourceRepository, SqlStatusRepository
from hyperfleet.storage.timing import QueryObserver, TimedConnection

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


class _Session(AbstractAsyncContextManager[SqlTx]):
    """One checkout and optionally one transaction.

    A class rather than an `asynccontextmanager` generator: it wraps every request.
    """

    __slots__ = ("_conn", "_tx", "_uow", "_wants_tx")

    def __init__(self, uow: SqlUnitOfWork, *, transaction: bool) -> None:
        self._uow = uow
        self._wants_tx = transaction
        self._conn: PoolConnectionProxy[asyncpg.Record] | None = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> SqlTx:
        uow = self._uow
        conn = self._conn = await uow.acquire()
        try:
            if self._wants_tx:
                self._tx = conn.transaction()
                await self._tx.start()
        except BaseException as exc:
            await uow.pool.release(conn)
            mapped = translate(exc)
            if mapped is None:
                raise
            raise mapped from exc
        timed = conn if uow.observe is None else TimedConnection(conn, uow.observe)
        return SqlTx(SqlResourceRepository(timed), SqlStatusRepository(timed))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        assert conn is not None  # noqa: S101 - __aenter__ ran
        try:
            if self._tx is not None:
                if exc is None:
                    await self._tx.commit()
                else:
                    await self._tx.rollback()
        except Exception as failure:
            mapped = translate(failure)
            if mapped is None:
                raise
            raise mapped from failure
        finally:
            await self._uow.pool.release(conn)
        if exc is None or isinstance(exc, HyperFleetError):
            return
        mapped = translate(exc)
        if mapped is not None:
            raise mapped from exc


class SqlUnitOfWork:
    def __init__(self, pool: asyncpg.Pool, *, observe: QueryObserver | None = None) -> None:
        self.pool = pool
        self.observe = observe
        """Told about every statement (the query-duration metric); None times nothing."""

    async def acquire(self) -> PoolConnectionProxy[asyncpg.Record]:
        """A pooled connection; any failure to get one means the database is unavailable."""
        try:
            return await self.pool.acquire()
        except Exception as exc:
            raise Unavailable(DB_UNAVAILABLE) from exc

    def begin(self) -> AbstractAsyncContextManager[SqlTx]:
        """One transaction: commits on normal exit, rolls back on any exception."""
        return _Session(self, transaction=True)

    def read(self) -> AbstractAsyncContextManager[SqlTx]:
        """A connection for reads, without an explicit transaction."""
        return _Session(self, transaction=False)

    async def ping(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                async with self.pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - readiness: any failure means "not ready"
            return False
        return True
