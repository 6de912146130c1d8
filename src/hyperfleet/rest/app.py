"""Composition root: wires settings, storage and services into the Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from hyperfleet.config import ConfigError, Settings, load_aggregation_file
from hyperfleet.domain.entities import EntityRegistry, RegistryError, build_registry
from hyperfleet.domain.spec_schemas import SpecSchemas
from hyperfleet.domain.tenancy import Dimension, TenancyPolicy
from hyperfleet.errors import (
    EndpointNotFound,
    HyperFleetError,
    MethodNotAllowed,
    Timeout,
    Unavailable,
)
from hyperfleet.rest.console import console_routes
from hyperfleet.rest.metrics import Metrics
from hyperfleet.rest.middleware import RequestMiddleware
from hyperfleet.rest.openapi import build_document
from hyperfleet.rest.problems import render_problem
from hyperfleet.rest.routes.operations import operation_routes
from hyperfleet.rest.routes.resources import resource_routes
from hyperfleet.services.change_feed import ChangeFeed, prune_forever
from hyperfleet.services.config_store import ActiveConfig, ConfigStore
from hyperfleet.services.reaggregation import reaggregate_kinds
from hyperfleet.services.resources import ResourceService
from hyperfleet.services.statuses import StatusService
from hyperfleet.services.watch import WatchService
from hyperfleet.storage.change_feed import SqlChangeHistory, SqlChangeSource
from hyperfleet.storage.migrations import migrate_url
from hyperfleet.storage.pool import make_pool
from hyperfleet.storage.stats import reconciliation_stats
from hyperfleet.storage.uow import SqlUnitOfWork

if TYPE_CHECKING:
    from hyperfleet.rest.auth import JwtVerifier

log = structlog.get_logger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class AppState:
    """Mutable process state the operational routes read (readiness, pool, metrics, config)."""

    settings: Settings
    metrics: Metrics
    openapi: dict[str, Any]
    store: ConfigStore
    pool: asyncpg.Pool | None = None
    uow: SqlUnitOfWork | None = None
    resources: ResourceService | None = None
    feed: ChangeFeed | None = None
    history: SqlChangeHistory | None = None
    started: bool = False
    shutting_down: bool = False
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    daemons: set[asyncio.Task[Any]] = field(default_factory=set)
    """Tasks that run for the process's life (the change feed), not jobs that finish."""

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run a background job, keeping a reference until it ends; failures are logged."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background job failed", job=name, error=str(t.exception()))

        task.add_done_callback(done)

    def spawn_daemon(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run a task for the process's life; cancelled at shutdown."""
        task = asyncio.create_task(coro, name=name)
        self.daemons.add(task)
        task.add_done_callback(self.daemons.discard)

    def end_watches(self) -> None:
        """End every open watch stream, so that a graceful shutdown does not wait on them."""
        if self.feed is not None:
            self.feed.close_all()

    async def reload(self) -> bool:
        """Re-read the aggregation file; keep the old config on any error. True if applied."""
        try:
            registry = registry_from(self.settings)
        except (ConfigError, RegistryError) as exc:
            self.metrics.config_reload_failed()
            log.error("aggregation config reload rejected", errors=exc.errors)  # noqa: TRY400
            return False
        problems = self.store.structural_changes(registry)
        if problems:
            self.metrics.config_reload_failed()
            log.error("aggregation config reload rejected", errors=problems)
            return False
        changed = self.store.swap(
            ActiveConfig(registry, datetime.now(UTC), self.settings.aggregation_config)
        )
        self.metrics.config_reloaded()
        log.info("aggregation config reloaded", changed_kinds=changed)
        if changed and self.uow is not None and self.resources is not None:
            self.spawn(reaggregate_kinds(self.uow, self.resources, changed), "reaggregate")
        return True

    async def watch(self, path: str, interval: float) -> None:
        """Reload when the file's modification time or size changes."""

        def stamp() -> tuple[float, int] | None:
            try:
                st = Path(path).stat()
            except OSError:
                return None
            return (st.st_mtime, st.st_size)

        last = stamp()
        while True:
            await asyncio.sleep(interval)
            current = stamp()
            if current != last:
                last = current
                await self.reload()

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
    """Built-in kinds + `entities` from the main config + the aggregation file, validated.

    Raises RegistryError or ConfigError (both list every problem with its key path).
    """
    overlays = []
    if settings.aggregation_config:
        parsed = load_aggregation_file(settings.aggregation_config)
        overlays.append(
            (
                f"{settings.aggregation_config}: ",
                [e.model_dump(exclude_unset=True) for e in parsed.entities],
            )
        )
    return build_registry(
        (e.model_dump(exclude_unset=True) for e in settings.entities), overlays=overlays
    )


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

    def begin(self, *, lock: str | None = None) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._uow().begin(lock=lock)

    def read(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._uow().read()


def _lifespan(
    state: AppState,
    *,
    verifier: JwtVerifier | None,
    database_url: str,
    run_migrations: bool,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    settings = state.settings

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if verifier is not None:
            await verifier.start()
        if run_migrations:
            log.info("migrations applied", versions=await migrate_url(database_url))
        state.pool = await make_pool(database_url, settings.database)
        state.uow = SqlUnitOfWork(state.pool, observe=state.metrics.observe_query)
        source = SqlChangeSource(database_url)
        if state.feed is not None:
            state.history = SqlChangeHistory(state.pool)
            state.spawn_daemon(state.feed.run(source), "change-feed")
            state.spawn_daemon(
                prune_forever(
                    state.history,
                    state.feed,
                    retention_seconds=settings.watch.retention_seconds,
                    interval=settings.watch.prune_interval_seconds,
                ),
                "change-feed-pruning",
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.database.ping_timeout_seconds * 5):
                    await state.feed.ready.wait()
        state.started = True
        if state.resources is not None:
            # Rows written before the status engine existed get their phase in the background.
            kinds = [d.kind for d in state.store.registry.kinds]
            state.spawn(
                reaggregate_kinds(state.uow, state.resources, kinds, only_missing_phase=True),
                "reaggregate-missing-phase",
            )
        if settings.aggregation_config and settings.aggregation_watch_seconds > 0:
            state.spawn(
                state.watch(settings.aggregation_config, settings.aggregation_watch_seconds),
                "watch-aggregation-config",
            )
        try:
            yield
        finally:
            state.shutting_down = True
            state.end_watches()
            running = [*state.tasks, *state.daemons]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await source.close()
            await state.pool.close()
            state.uow = None
            if verifier is not None:
                await verifier.close()

    return lifespan


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's routing 404/405 rendered as our problems."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    error: HyperFleetError
    if exc.status_code == 405:  # noqa: PLR2004
        allow = (exc.headers or {}).get("Allow", "")
        methods = sorted({m.strip() for m in allow.split(",") if m.strip()} - {"HEAD"})
        detail = f"Method {request.method} is not allowed on '{request.url.path}'"
        if request.url.path.endswith("/statuses"):
            detail = (
                f"Method {request.method} is not allowed: adapter status reports are "
                "immutable; they are replaced with PUT and disappear only with their resource"
            )
        error = MethodNotAllowed(detail, allow=methods)
    elif exc.status_code == 404:  # noqa: PLR2004
        error = EndpointNotFound(f"The requested endpoint '{request.url.path}' does not exist")
    else:
        error = HyperFleetError(exc.detail)
    return _problem_response(request, error)


async def _hyperfleet_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HyperFleetError)  # noqa: S101 - registered for HyperFleetError only
    if isinstance(exc, Unavailable | Timeout):
        state: AppState = request.app.state.hf
        state.metrics.db_error(type(exc).__name__.lower())
    return _problem_response(request, exc)


def create_app(settings: Settings, *, database_url: str, run_migrations: bool = False) -> Starlette:
    """Build the ASGI app. The pool opens (and migrations run) in the lifespan."""
    registry = registry_from(settings)
    schemas = spec_schemas_from(settings, registry)
    metrics = Metrics(d.kind for d in registry.kinds)
    store = ConfigStore(ActiveConfig(registry, datetime.now(UTC), settings.aggregation_config))
    state = AppState(settings=settings, metrics=metrics, openapi=build_document(), store=store)
    verifier = None
    if settings.auth.enabled:
        # Imported only then: PyJWT, cryptography and httpx cost ~20 MB resident.
        from hyperfleet.rest.auth import JwtVerifier  # noqa: PLC0415

        verifier = JwtVerifier(settings.auth)

    uow = _LazyUow(state)
    resources = ResourceService(
        uow=uow, store=store, clock=SystemClock(), observer=metrics, spec_schemas=schemas
    )
    statuses = StatusService(uow=uow, clock=SystemClock(), resources=resources)
    state.resources = resources
    state.feed = ChangeFeed(
        buffer_size=settings.watch.buffer_size, poll_seconds=settings.watch.poll_seconds
    )
    watch = WatchService(
        state.feed, lambda: state.history, heartbeat=settings.watch.heartbeat_seconds
    )

    app = Starlette(
        # The entity table first: it is one lookup and serves nearly every request.
        routes=[
            *resource_routes(registry, resources, statuses, watch),
            *operation_routes(state),
            *console_routes(settings),
        ],
        middleware=[
            Middleware(
                RequestMiddleware,
                metrics=metrics,
                verifier=verifier,
                tenancy=tenancy_policy(settings),
            )
        ],
        exception_handlers={HTTPException: _http_exception, HyperFleetError: _hyperfleet_error},
        lifespan=_lifespan(
            state, verifier=verifier, database_url=database_url, run_migrations=run_migrations
        ),
    )
    app.state.hf = state
    return app


def tenancy_policy(settings: Settings) -> TenancyPolicy | None:
    """`server.tenant` as the middleware applies it; None while tenancy is off."""
    tenant = settings.server.tenant
    if not tenant.enabled:
        return None
    return TenancyPolicy(
        system_header=tenant.system_header,
        dimensions=tuple(Dimension(d.header, d.key, d.required) for d in tenant.dimensions),
    )


def _problem_response(request: Request, error: HyperFleetError) -> Response:
    request_id = getattr(request.state, "request_id", "")
    status, headers, body = render_problem(error, instance=request.url.path, trace_id=request_id)
    return Response(
        body,
        status_code=status,
        headers={k.decode(): v.decode() for k, v in headers},
    )
