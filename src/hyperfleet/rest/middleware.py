"""One pure-ASGI middleware for every request.

It assigns the request id, strips a trailing slash, authenticates API routes, records metrics
and the access log, and renders problem+json for anything that escapes the handlers.

Pure ASGI (not BaseHTTPMiddleware) because it runs on every request of the hot path.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog
import uuid_utils
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hyperfleet.errors import HyperFleetError
from hyperfleet.rest.problems import render_problem
from hyperfleet.services.resources import API_BASE

if TYPE_CHECKING:
    from hyperfleet.rest.auth import JwtVerifier
    from hyperfleet.rest.metrics import Metrics

log = structlog.get_logger("hyperfleet.access")

UNPROTECTED = frozenset({f"{API_BASE}/openapi", f"{API_BASE}/openapi.html"})


def route_label(scope: Scope) -> str:
    """The matched route pattern with `{…}` replaced by `-`; `/-` when nothing matched."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not path:
        return "/-"
    parts = ["-" if p.startswith("{") else p for p in path.split("/")]
    return "/".join(parts)


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        verifier: JwtVerifier | None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.verifier = verifier

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

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder[0] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
            await send(message)

        try:
            if self.verifier is not None and _protected(path):
                headers = dict(scope["headers"])
                raw = headers.get(b"authorization")
                state["identity"] = await self.verifier.authenticate(
                    raw.decode("latin-1") if raw is not None else None
                )
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
            emit = log.error if status >= 500 else log.info  # noqa: PLR2004
            emit(
                "HTTP request completed",
                method=scope["method"],
                path=path,
                status_code=status,
                duration_ms=round(elapsed * 1000, 3),
            )
            structlog.contextvars.unbind_contextvars("request_id")


def _protected(path: str) -> bool:
    return path.startswith(API_BASE + "/") and path not in UNPROTECTED


async def _send_problem(send: Send, error: HyperFleetError, path: str, request_id: str) -> None:
    status, headers, body = render_problem(error, instance=path, trace_id=request_id)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
