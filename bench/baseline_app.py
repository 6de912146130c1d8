"""The floor: HyperFleet's three hot requests with nothing but Starlette + asyncpg + msgspec.

Same URLs as HyperFleet, on a HyperFleet database, so `api_bench.py` drives both with the same
wrk scripts and the same bytes come back:

- `GET  /api/hyperfleet/v1/clusters/{id}`: the stored `body` of the row, as is;
- `GET  /api/hyperfleet/v1/clusters?search=labels.K='V'&size=N`: count + newest N bodies;
- `PUT  /api/hyperfleet/v1/clusters/{id}/statuses`: one upsert into its own table
  `baseline_statuses` (created at start-up; HyperFleet's own rows are never touched), with no
  policy and no aggregation: the gap to HyperFleet is what those cost.

No middleware, auth, metrics, logs or problem+json. Run it on the database `hyperfleet serve`
uses: `BASELINE_DATABASE_URL=… uvicorn --app-dir bench baseline_app:app --port 8001`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

GET = "SELECT body FROM resources WHERE id = $1 AND kind = 'Cluster'"
LIST = (
    "SELECT (SELECT count(*) FROM resources WHERE kind = 'Cluster' AND labels @> $1) AS total,"
    " body FROM resources WHERE kind = 'Cluster' AND labels @> $1"
    " ORDER BY created_time DESC, id DESC LIMIT $2"
)
TABLE = (
    "CREATE TABLE IF NOT EXISTS baseline_statuses (resource_id uuid NOT NULL REFERENCES resources"
    " (id) ON DELETE CASCADE, adapter text NOT NULL, observed_generation integer NOT NULL,"
    " conditions jsonb NOT NULL, created_time timestamptz NOT NULL, last_report_time timestamptz"
    " NOT NULL, PRIMARY KEY (resource_id, adapter))"
)
PUT = (
    "INSERT INTO baseline_statuses (resource_id, adapter, observed_generation, conditions,"
    " created_time, last_report_time) VALUES ($1, $2, $3, $4, $5, $5)"
    " ON CONFLICT (resource_id, adapter) DO UPDATE SET"
    " observed_generation = excluded.observed_generation, conditions = excluded.conditions,"
    " last_report_time = excluded.last_report_time RETURNING *"
)
SEARCH = re.compile(r"labels\.([a-z0-9_]+)\s*=\s*'([^']*)'")
JSON = "application/json"


class Condition(msgspec.Struct):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None


class Report(msgspec.Struct):
    adapter: str
    observed_generation: int
    observed_time: datetime
    conditions: list[Condition]


def _json(value: object, status: int = 200) -> Response:
    return Response(msgspec.json.encode(value), status, media_type=JSON)


async def get_cluster(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    try:
        body = await pool.fetchval(GET, request.path_params["id"])
    except asyncpg.DataError:  # not a UUID
        body = None
    if body is None:
        return _json({"detail": "not found"}, 404)
    return Response(body, media_type=JSON)


async def list_clusters(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    found = SEARCH.fullmatch(request.query_params.get("search", ""))
    if not found:
        return _json({"detail": "search must be labels.KEY='VALUE'"}, 400)
    size = min(max(int(request.query_params.get("size", 20)), 1), 100)
    rows = await pool.fetch(LIST, {found[1]: found[2]}, size)
    total = rows[0]["total"] if rows else 0
    head = b'{"page":1,"size":%d,"total":%d,"items":[' % (len(rows), total)
    return Response(head + b",".join(r["body"] for r in rows) + b"]}", media_type=JSON)


async def put_status(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    try:
        report = msgspec.json.decode(await request.body(), type=Report)
        row = await pool.fetchrow(
            PUT,
            request.path_params["id"],
            report.adapter,
            report.observed_generation,
            msgspec.to_builtins(report.conditions),
            report.observed_time,
        )
    except (ValueError, asyncpg.DataError) as exc:
        return _json({"detail": str(exc)}, 400)
    except asyncpg.ForeignKeyViolationError:
        return _json({"detail": "not found"}, 404)
    return _json(dict(row), 201)


async def _no_reset(_: asyncpg.Connection) -> None:
    """Same as HyperFleet: nothing is reset when a connection returns to the pool."""


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda v: msgspec.json.encode(v).decode(),
        decoder=msgspec.json.decode,
    )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(
        os.environ["BASELINE_DATABASE_URL"], min_size=2, max_size=20, reset=_no_reset, init=_init
    )
    await pool.execute(TABLE)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


app = Starlette(
    routes=[
        Route("/api/hyperfleet/v1/clusters", list_clusters),
        Route("/api/hyperfleet/v1/clusters/{id}", get_cluster),
        Route("/api/hyperfleet/v1/clusters/{id}/statuses", put_status, methods=["PUT"]),
    ],
    lifespan=lifespan,
)
