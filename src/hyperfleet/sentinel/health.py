"""`/healthz`, `/readyz` and `/metrics` for one Sentinel process.

A deliberately tiny HTTP/1.1 responder on asyncio streams (GET only, one request per
connection): probes and Prometheus scrapes need nothing more, and it leaves signal handling to
the process that embeds it (uvicorn's server would install its own).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = structlog.get_logger("hyperfleet.sentinel.health")

_READ_TIMEOUT = 5.0
_MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Probe:
    """A health answer: ok, and a one-line reason shown in the body."""

    ok: bool
    detail: str


class HealthServer:
    def __init__(
        self,
        *,
        liveness: Callable[[], Probe],
        readiness: Callable[[], Awaitable[Probe]],
        registry: CollectorRegistry,
    ) -> None:
        self._liveness = liveness
        self._readiness = readiness
        self._registry = registry
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 = any free port); returns the bound port."""
        self._server = await asyncio.start_server(self._handle, host, port)
        bound: int = self._server.sockets[0].getsockname()[1]
        log.info("health server listening", host=host, port=bound)
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
            if len(head) > _MAX_HEADER_BYTES:
                await _respond(
                    writer, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, b"", "text/plain"
                )
                return
            method, _, rest = head.decode("latin-1").partition(" ")
            path = rest.partition(" ")[0].partition("?")[0]
            await self._route(writer, method, path)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a client that sends no complete request gets no answer
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _route(self, writer: asyncio.StreamWriter, method: str, path: str) -> None:
        if method != "GET":
            await _respond(writer, HTTPStatus.METHOD_NOT_ALLOWED, b"GET only\n", "text/plain")
            return
        if path == "/metrics":
            await _respond(
                writer, HTTPStatus.OK, generate_latest(self._registry), CONTENT_TYPE_LATEST
            )
            return
        if path == "/healthz":
            probe = self._liveness()
        elif path == "/readyz":
            probe = await self._readiness()
        else:
            await _respond(writer, HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        status = HTTPStatus.OK if probe.ok else HTTPStatus.SERVICE_UNAVAILABLE
        await _respond(writer, status, f"{probe.detail}\n".encode(), "text/plain")


async def _respond(
    writer: asyncio.StreamWriter, status: HTTPStatus, body: bytes, content_type: str
) -> None:
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + body)
    await writer.drain()
