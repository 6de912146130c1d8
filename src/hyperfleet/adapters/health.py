"""`/healthz`, `/readyz` and `/metrics` for an adapter process, on an optional port.

A few lines of asyncio instead of a web framework: three GET routes, one response each.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from hyperfleet.adapters.metrics import AdapterMetrics

_REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}


async def serve_health(
    host: str, port: int, metrics: AdapterMetrics, ready: Callable[[], Awaitable[bool]]
) -> asyncio.Server:
    """Start serving; `server.close()` stops it. `ready()` decides `/readyz` (503 when False)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in {
                b"\r\n",
                b"\n",
                b"",
            }:
                pass
            parts = request_line.decode("latin-1").split()
            path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""  # noqa: PLR2004
            status, body, media = 404, b"not found\n", "text/plain"
            if path == "/healthz":
                status, body = 200, b"ok\n"
            elif path == "/readyz":
                ok = await ready()
                status, body = (200, b"ok\n") if ok else (503, b"not ready\n")
            elif path == "/metrics":
                status, body = 200, metrics.render()
                media = "text/plain; version=0.0.4; charset=utf-8"
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {media}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return await asyncio.start_server(answer, host, port)
