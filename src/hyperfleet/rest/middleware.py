"""One pure-ASGI middleware for every request.

It assigns the request id, strips a trailing slash, authenticates API routes (identity and
roles; the routes check the roles, see `authorization.py`), records metrics and the access log
(with the audit fields on writes), and renders problem+json for anything that escapes the
handlers.

Pure ASGI (not BaseHTTPMiddleware) because it runs on every request of the hot path.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog
import uuid_utils
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyperfleet.domain.model import SYSTEM_ACTOR
from hyperfleet.domain.roles import ALL_ROLES, NO_ROLES
from hyperfleet.errors import HyperFleetError
from hyperfleet.logs import AccessLogger, access_logger
from hyperfleet.rest.audit import WRITE_METHODS, audit_fields
from hyperfleet.rest.problems import render_problem
from hyperfleet.rest.routing import ROUTE_LABEL, label_of
from hyperfleet.services.resources import API_BASE

if TYPE_CHECKING:
    from hyperfleet.domain.tenancy import TenancyPolicy
    from hyperfleet.rest.auth import JwtVerifier
    from hyperfleet.rest.metrics import Metrics

log = structlog.get_logger("hyperfleet.access")

UNPROTECTED = frozenset({f"{API_BASE}/openapi", f"{API_BASE}/openapi.html"})


def route_label(scope: Scope) -> str:
    """The matched route pattern with `{…}` replaced by `-`; `/-` when nothing matched."""
    label: str | None = scope.get(ROUTE_LABEL)
    if label is not None:
        return label
    path = getattr(scope.get("route"), "path", None)
    return label_of(path) if path else "/-"


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        verifier: JwtVerifier | None,
        access_log: AccessLogger | None = None,
        tenancy: TenancyPolicy | None = None,
    ) -> None:
        self.app = app
        self.tenancy = tenancy
        self.guarded = verifier is not None or tenancy is not None
        self.metrics = metrics
        self.verifier = verifier
        self.access_log = access_log or access_logger()
        # Without auth every caller may do everything, as the system actor. With auth, a route
        # that needs a role is never reached unauthenticated: no roles until the token says so.
        self.anonymous_actor = SYSTEM_ACTOR if verifier is None else ""
        self.anonymous_roles = ALL_ROLES if verifier is None else NO_ROLES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = str(uuid_utils.uuid7())
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
            scope["path"] = path
            scope["raw_path"] = path.encode()
        # A per-request copy: servers may hand every request the same lifespan-state dict.
        state: dict[str, Any] = dict(scope.get("state") or {})
        scope["state"] = state
        state["request_id"] = request_id
        # Every log line written while serving this request carries its id.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status_holder = [500]
        response_started = False

        request_id_header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        try:
            state["roles"] = self.anonymous_roles
            if self.guarded and _protected(path):
                await self._admit(scope, state)
            await self.app(scope, receive, send_wrapper)
        except HyperFleetError as error:
            if response_started:
                raise
            await _send_problem(send_wrapper, error, path, request_id)
        except Exception:
            log.exception("unhandled error", request_id=request_id, path=path)
            if response_started:
                raise
            await _send_problem(
                send_wrapper, HyperFleetError("Unspecified error"), path, request_id
            )
        finally:
            elapsed = time.perf_counter() - started
            status = status_holder[0]
            self.metrics.observe_request(scope["method"], route_label(scope), status, elapsed)
            self.access_log(
                scope["method"],
                path,
                status,
                round(elapsed * 1000, 3),
                request_id,
                audit=self._audit(scope, state),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    def _audit(self, scope: Scope, state: dict[str, Any]) -> dict[str, str] | None:
        if scope["method"] not in WRITE_METHODS:
            return None
        return audit_fields(scope, state, default_actor=self.anonymous_actor)

    async def _admit(self, scope: Scope, state: dict[str, Any]) -> None:
        """Who the caller is and its roles (401), then its tenant (400/403), on API routes."""
        if self.verifier is not None:
            raw = dict(scope["headers"]).get(b"authorization")
            caller = await self.verifier.verify(raw.decode("latin-1") if raw is not None else None)
            state["identity"] = caller.identity
            state["roles"] = caller.roles
        if self.tenancy is not None:
            state["tenancy"] = self.tenancy.resolve(scope["headers"])


def _protected(path: str) -> bool:
    return path.startswith(API_BASE + "/") and path not in UNPROTECTED


async def _send_problem(send: Send, error: HyperFleetError, path: str, request_id: str) -> None:
    status, headers, body = render_problem(error, instance=path, trace_id=request_id)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
