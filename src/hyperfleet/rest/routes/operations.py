"""Operational routes: health, readiness, metrics, API metadata, OpenAPI and Swagger UI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hyperfleet import __version__
from hyperfleet.build_info import build_time
from hyperfleet.domain.model import EntityDescriptor
from hyperfleet.rest.authorization import OPERATION_ROUTES, guarded
from hyperfleet.services.config_store import ActiveConfig
from hyperfleet.services.resources import API_BASE

if TYPE_CHECKING:
    from hyperfleet.rest.process_state import ProcessState

SWAGGER_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>HyperFleet API</title>
  <link rel="icon" type="image/png" href="{base}/swagger-ui/favicon-32x32.png">
  <link rel="stylesheet" href="{base}/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{base}/swagger-ui/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{url: "{base}/openapi", dom_id: "#swagger-ui"}});
  </script>
</body>
</html>
"""


def descriptor_to_dict(desc: EntityDescriptor) -> dict[str, Any]:
    """The status-engine settings of one kind, as configured (CEL as source text)."""
    return {
        "kind": desc.kind,
        "plural": desc.plural,
        "parent_kind": desc.parent_kind,
        "required_adapters": list(desc.required_adapters),
        "optional_adapters": list(desc.optional_adapters),
        "validation_adapters": list(desc.effective_validation_adapters),
        "adapter_dependencies": {a: list(d) for a, d in desc.adapter_dependencies.items()},
        "generation_policy": desc.generation_policy.value,
        "strict_adapters": desc.strict_adapters,
        "reason_format": desc.reason_format.value,
        "adapters": {
            name: {
                "reasons": {t: list(r) for t, r in rules.reasons.items()},
                "progressing_reasons": list(rules.progressing_reasons),
                "data_schema": rules.data_schema,
            }
            for name, rules in desc.adapters.items()
        },
        "conditions": [
            {
                "type": c.type,
                "status": c.status_expr,
                "reason": c.reason_expr,
                "message": c.message_expr,
            }
            for c in desc.conditions
        ],
    }


def active_config_to_dict(active: ActiveConfig) -> dict[str, Any]:
    return {
        "loaded_time": active.loaded_time,
        "source": active.source,
        "entities": [descriptor_to_dict(d) for d in active.registry.kinds],
    }


def operation_routes(state: ProcessState) -> list[BaseRoute]:  # noqa: C901 - one closure per route
    openapi_bytes = msgspec.json.encode(state.openapi)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        if state.shutting_down:
            return JSONResponse(
                {"status": "shutting_down", "reason": "Application is shutting down"}, 503
            )
        if not state.started:
            return JSONResponse({"status": "not_ready", "reason": "not yet ready"}, 503)
        if not await state.ping():
            return JSONResponse({"status": "not_ready", "reason": "database unavailable"}, 503)
        return JSONResponse({"status": "ok"})

    async def metrics(_: Request) -> Response:
        await state.refresh_metrics()
        return Response(
            state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def openapi(_: Request) -> Response:
        return Response(openapi_bytes, media_type="application/json")

    async def openapi_html(_: Request) -> Response:
        return HTMLResponse(SWAGGER_HTML.format(base=API_BASE))

    async def aggregation_config(_: Request) -> Response:
        return Response(
            msgspec.json.encode(active_config_to_dict(state.store.active)),
            media_type="application/json",
        )

    async def metadata(_: Request) -> Response:
        return JSONResponse(
            {
                "id": "hyperfleet",
                "kind": "API",
                "href": "/api/hyperfleet",
                "version": __version__,
                "build_time": build_time(),
            }
        )

    import swagger_ui_bundle  # noqa: PLC0415 - static assets, looked up once

    favicon_bytes = (Path(swagger_ui_bundle.swagger_ui_path) / "favicon-32x32.png").read_bytes()

    async def favicon(_: Request) -> Response:
        # Browsers ask for /favicon.ico whatever the page links; a 404 is a console error.
        return Response(
            favicon_bytes,
            media_type="image/png",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Route("/api/hyperfleet", metadata, methods=["GET"]),
        Route(f"{API_BASE}/openapi", openapi, methods=["GET"]),
        Route(f"{API_BASE}/openapi.html", openapi_html, methods=["GET"]),
        Route(
            f"{API_BASE}/aggregation-config",
            guarded(OPERATION_ROUTES["/aggregation-config"], {"GET": aggregation_config})["GET"],
            methods=["GET"],
        ),
        Mount(
            f"{API_BASE}/swagger-ui",
            app=StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
            name="swagger-ui",
        ),
    ]
