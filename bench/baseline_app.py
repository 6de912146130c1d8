"""The floor for a GET-by-id: Starlette + asyncpg, one query, stored bytes out.

`GET /item/{id}` runs `SELECT body FROM resources WHERE id=$1` on a HyperFleet database and
returns the stored JSON as is. No middleware, no auth, no metrics, no problem+json: whatever
HyperFleet spends above this is the price of its features. `api_bench.py` runs it as

    python -m uvicorn --app-dir bench baseline_app:app --port P

with `BASELINE_DATABASE_URL` set. The pool mirrors HyperFleet's defaults (2..20 connections, no
reset query on release) so that the comparison measures the application, not pool settings.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

QUERY = "SELECT body FROM resources WHERE id = $1"


async def _no_reset(_: asyncpg.Connection) -> None:
    """Same as HyperFleet: nothing is reset when a connection returns to the pool."""


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(
        os.environ["BASELINE_DATABASE_URL"], min_size=2, max_size=20, reset=_no_reset
    )
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


async def readyz(_: Request) -> Response:
    return Response(b"ok", media_type="text/plain")


async def item(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    try:
        body = await pool.fetchval(QUERY, request.path_params["id"])
    except asyncpg.DataError:  # not a UUID
        body = None
    if body is None:
        return Response(b'{"detail":"not found"}', status_code=404, media_type="application/json")
    return Response(body, media_type="application/json")


app = Starlette(
    routes=[Route("/readyz", readyz), Route("/item/{id}", item)],
    lifespan=lifespan,
)
