"""The fleet console: one static page, one JS module and one stylesheet, served at `/console`.

The assets live in `console_static/` inside the package (no CDN, no build step). The page talks
to the JSON API on the same origin with fetch() and reads the watch streams itself, so the
server side is only this: the page (with the auth switch filled in) and the static files.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hyperfleet.config import Settings

STATIC_DIR = Path(__file__).with_name("console_static")
CONSOLE_PATH = "/console"
_AUTH_MARKER = "__HF_AUTH_ENABLED__"


def console_routes(settings: Settings) -> list[BaseRoute]:
    """`/console` and `/console/static/*`, or nothing when `console.enabled` is false."""
    if not settings.console.enabled:
        return []
    page = (
        (STATIC_DIR / "index.html")
        .read_text(encoding="utf-8")
        .replace(_AUTH_MARKER, "true" if settings.auth.enabled else "false")
    )

    async def index(_: Request) -> Response:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    return [
        Route(CONSOLE_PATH, index, methods=["GET"]),
        Mount(
            f"{CONSOLE_PATH}/static",
            app=StaticFiles(directory=STATIC_DIR),
            name="console-static",
        ),
    ]
