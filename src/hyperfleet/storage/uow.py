"""Unit of work: one pooled connection and one transaction per use case.

Driver errors are translated here, at the boundary: nothing above `storage` sees asyncpg.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType

import asyncpg
from asyncpg.pool import PoolConnectionProxy

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


_CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


def _begin_sql(lock: str | None) -> str:
    """BEGIN, and the row lock in the same round trip when `lock` is a canonical uuid.

    Simple-query protocol (no parameters), so the id is inlined; the pattern admits only hex
    digits and hyphens. Any other string gets a plain BEGIN (its lookup will find nothing).
    """
    if lock is None or _CANONICAL_UUID.fullmatch(lock) is None:
        return "BEGIN"
    return f"BEGIN; SELECT 1 FROM resources WHERE id = '{lock}' FOR UPDATE"


class _Session(AbstractAsyncContextManager[SqlTx]):
    """One checkout and optionally one transaction.

    A class rather than an `asynccontextmanager` generator: it wraps every request. The
    transaction is BEGIN/COMMIT sent by hand so that BEGIN can carry a row lock.
    """

    __slots__ = ("_begin", "_conn", "_uow")

    def __init__(self, uow: SqlUnitOfWork, begin: str | None) -> None:
        self._uow = uow
        self._begin = begin
        self._conn: PoolConnectionProxy[asyncpg.Record] | None = None

    async def __aenter__(self) -> SqlTx:
        uow = self._uow
        conn = self._conn = await uow.acquire()
        if self._begin is not None:
            try:
                await conn.execute(self._begin)
            except BaseException as exc:
                await self._release(conn)
                mapped = translate(exc)
                if mapped is None:
                    raise
                raise mapped from exc
        timed = conn if uow.observe is None else TimedConnection(conn, uow.observe)
        return SqlTx(SqlResourceRepository(timed), SqlStatusRepository(timed))

    async def _release(self, conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        try:
            stuck = not conn.is_closed() and conn.is_in_transaction()
        except asyncpg.InterfaceError:
            return  # the pool took the connection back already: it died under us
        if stuck:
            # A COMMIT or ROLLBACK failed half-way: never pool a connection inside a transaction.
            conn.terminate()
        await self._uow.pool.release(conn)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        assert conn is not None  # noqa: S101 - __aenter__ ran
        try:
            if self._begin is not None:
                await conn.execute("COMMIT" if exc is None else "ROLLBACK")
        except Exception as failure:
            mapped = translate(failure)
            if mapped is None:
                raise
            raise mapped from failure
        finally:
            await self._release(conn)
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

    def begin(self, *, lock: str | None = None) -> AbstractAsyncContextManager[SqlTx]:
        """One transaction: commits on normal exit, rolls back on any exception.

        `lock` names a resource whose row is locked (FOR UPDATE) in BEGIN's own round trip,
        so every statement after it reads what committed before the lock was granted.
        """
        return _Session(self, _begin_sql(lock))

    def read(self) -> AbstractAsyncContextManager[SqlTx]:
        """A connection for reads, without an explicit transaction."""
        return _Session(self, None)

    async def ping(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                async with self.pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - readiness: any failure means "not ready"
            return False
        return True
