"""Composition root: wires settings, storage and services into the Starlette app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import structlog
import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from hyperfleet.config import Settings
from hyperfleet.domain.entities import EntityRegistry, build_registry
from hyperfleet.domain.spec_schemas import SpecSchemas
from hyperfleet.errors import EndpointNotFound, HyperFleetError, MethodNotAllowed
from hyperfleet.rest.auth import JwtVerifier
from hyperfleet.rest.metrics import Metrics
from hyperfleet.rest.middleware import RequestMiddleware
from hyperfleet.rest.openapi import build_document
from hyperfleet.rest.problems import render_problem
from hyperfleet.rest.routes.operations import operation_routes
from hyperfleet.rest.routes.resources import resource_routes
from hyperfleet.services.resources import ResourceService
from hyperfleet.services.statuses import StatusService
from hyperfleet.storage.migrations import migrate
from hyperfleet.storage.pool import make_pool
from hyperfleet.storage.stats import reconciliation_stats
from hyperfleet.storage.uow import SqlUnitOfWork

log = structlog.get_logger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class AppState:
    """Mutable process state the operational routes read (readiness, pool, metrics)."""

    settings: Settings
    metrics: Metrics
    openapi: dict[str, Any]
    pool: asyncpg.Pool | None = None
    uow: SqlUnitOfWork | None = None
    started: bool = False
    shutting_down: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    async def ping(self) -> bool:
        if self.uow is None:
            return False
        return await self.uow.ping(self.settings.database.ping_timeout_seconds)

    async def refresh_metrics(self) -> None:
        if self.pool is None:
            return
        self.metrics.set_pool(
            self.pool.get_size(), self.pool.get_size() - self.pool.get_idle_size()
        )
        with contextlib.suppress(Exception):
            self.metrics.set_reconciliation(
                await reconciliation_stats(
                    self.pool, self.settings.metrics.reconciliation_stuck_threshold_seconds
                )
            )


def registry_from(settings: Settings) -> EntityRegistry:
    return build_registry(e.model_dump(exclude_unset=True) for e in settings.entities)


def spec_schemas_from(settings: Settings, registry: EntityRegistry) -> SpecSchemas:
    path = settings.server.spec_schema_path
    if not path:
        if any(d.spec_schema_name for d in registry.kinds):
            msg = "server.spec_schema_path is required when a kind sets spec_schema_name"
            raise ValueError(msg)
        return SpecSchemas.empty()
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return SpecSchemas.from_openapi(document, registry.kinds)


class _LazyUow:
    """Delegates to the unit of work created in the lifespan (the pool needs a running loop)."""

    def __init__(self, state: AppState) -> None:
        self._state = state

    def _uow(self) -> SqlUnitOfWork:
        if self._state.uow is None:
            raise HyperFleetError("the database pool is not started")
        return self._state.uow

    def begin(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._uow().begin()

    def read(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._uow().read()


def create_app(settings: Settings, *, database_url: str, run_migrations: bool = False) -> Starlette:
    """Build the ASGI app. The pool opens (and migrations run) in the lifespan."""
    registry = registry_from(settings)
    schemas = spec_schemas_from(settings, registry)
    metrics = Metrics(d.kind for d in registry.kinds)
    state = AppState(settings=settings, metrics=metrics, openapi=build_document())
    verifier = JwtVerifier(settings.auth) if settings.auth.enabled else None

    uow = _LazyUow(state)
    resources = ResourceService(
        uow=uow, registry=registry, clock=SystemClock(), observer=metrics, spec_schemas=schemas
    )
    statuses = StatusService(uow=uow, clock=SystemClock(), resources=resources)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if verifier is not None:
            await verifier.start()
        if run_migrations:
            conn = await asyncpg.connect(database_url)
            try:
                applied = await migrate(conn)
            finally:
                await conn.close()
            log.info("migrations applied", versions=applied)
        state.pool = await make_pool(database_url, settings.database)
        state.uow = SqlUnitOfWork(state.pool)
        state.started = True
        try:
            yield
        finally:
            state.shutting_down = True
            await state.pool.close()
            state.uow = None
            if verifier is not None:
                await verifier.close()

    async def http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
        error: HyperFleetError
        if exc.status_code == 405:  # noqa: PLR2004
            allow = (exc.headers or {}).get("Allow", "")
            error = MethodNotAllowed(
                f"Method {request.method} is not allowed on '{request.url.path}'",
                allow=sorted({m.strip() for m in allow.split(",") if m.strip()}),
            )
        elif exc.status_code == 404:  # noqa: PLR2004
            error = EndpointNotFound(f"The requested endpoint '{request.url.path}' does not exist")
        else:
            error = HyperFleetError(exc.detail)
        return _problem_response(request, error)

    async def hyperfleet_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HyperFleetError)  # noqa: S101
        return _problem_response(request, exc)

    app = Starlette(
        routes=[*operation_routes(state), *resource_routes(registry, resources, statuses)],
        middleware=[Middleware(RequestMiddleware, metrics=metrics, verifier=verifier)],
        exception_handlers={HTTPException: http_exception, HyperFleetError: hyperfleet_error},
        lifespan=lifespan,
    )
    app.state.hf = state
    return app


def _problem_response(request: Request, error: HyperFleetError) -> Response:
    request_id = getattr(request.state, "request_id", "")
    status, headers, body = render_problem(error, instance=request.url.path, trace_id=request_id)
    return Response(
        body,
        status_code=status,
        headers={k.decode(): v.decode() for k, v in headers},
    )
