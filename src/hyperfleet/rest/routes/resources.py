"""Routes for every entity kind and their adapter statuses.

Flat routes, routes nested under the parent, and the kind-agnostic `/resources` set. Each
handler parses, calls one service method and presents the result; no rules live here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hyperfleet.domain.entities import EntityRegistry
from hyperfleet.domain.model import SYSTEM_ACTOR, EntityDescriptor, Resource
from hyperfleet.domain.render import (
    encode,
    etag,
    render_resource,
    report_to_dict,
    transition_to_dict,
)
from hyperfleet.errors import ValidationFailed, Violation
from hyperfleet.rest import params
from hyperfleet.rest.watch import CHANGE_SEQ_HEADER, wants_watch, watch_response
from hyperfleet.services.resources import API_BASE, ResourceService, Scope
from hyperfleet.services.statuses import StatusService
from hyperfleet.services.watch import WatchService

JSON = "application/json"
Handler = Callable[[Request], Awaitable[Response]]


def json_response(body: bytes, status: int = 200, *, etag_value: str | None = None) -> Response:
    headers = {"Vary": "Authorization"}
    if etag_value is not None:
        headers["ETag"] = etag_value
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def resource_response(resource: Resource, status: int = 200) -> Response:
    """A single resource, with its ETag."""
    return json_response(
        render_resource(resource),
        status,
        etag_value=etag(resource.generation, resource.updated_time),
    )


def actor(request: Request) -> str:
    identity: str | None = getattr(request.state, "identity", None)
    return identity or SYSTEM_ACTOR


def _resource_body(request: Request, body: bytes) -> bytes:
    fields = params.fields_param(request)
    if fields is None:
        return body
    return encode(params.project(msgspec.json.decode(body), fields))


def _list_body(page: int, bodies: list[bytes], total: int, fields: list[str] | None) -> bytes:
    if fields is not None:
        bodies = [encode(params.project(msgspec.json.decode(b), fields)) for b in bodies]
    head = b'{"page":%d,"size":%d,"total":%d,"items":[' % (page, len(bodies), total)
    return head + b",".join(bodies) + b"]}"


class KindRoutes:
    """Handlers bound to one scope shape (a kind, flat or nested, or /resources)."""

    def __init__(
        self,
        *,
        resources: ResourceService,
        statuses: StatusService,
        desc: EntityDescriptor | None,
        parent: EntityDescriptor | None = None,
        flat: bool = True,
        watch: WatchService | None = None,
    ) -> None:
        self.watch = watch
        self.resources = resources
        self.statuses = statuses
        self.desc = desc
        self.parent = parent
        self.flat = flat

    def scope(self, request: Request) -> Scope:
        if self.parent is not None:
            return Scope(self.desc, request.path_params["parent_id"], self.parent)
        return Scope(self.desc)

    async def list_items(self, request: Request) -> Response:
        page, size = params.page_and_size(request)
        fields = params.fields_param(request)
        kind_filter = None
        if self.desc is None and request.query_params.get("kind"):
            kind_filter = request.query_params["kind"]
            if self.resources.registry.get(kind_filter) is None:
                message = f"unknown kind '{kind_filter}'"
                raise ValidationFailed(message, violations=[Violation("kind", message, "enum")])
        watching = wants_watch(request)
        if watching and self.watch is not None:
            return await self.watch_items(request, kind_filter)
        # Read before the list: every change up to it is in the list (docs/watch.md).
        position = self.watch.position() if self.watch is not None else None
        search = request.query_params.get("search")
        bodies, total = await self.resources.list_bodies(
            self.scope(request),
            search=search,
            order=params.multi_values(request, "order"),
            page=page,
            size=size,
            kind_filter=kind_filter,
        )
        response = json_response(_list_body(page, bodies, total, fields))
        if position is not None:
            response.headers[CHANGE_SEQ_HEADER] = str(position)
        return response

    async def watch_items(self, request: Request, kind_filter: str | None) -> Response:
        assert self.watch is not None  # noqa: S101 - only called when watching is wired
        scope = self.scope(request)
        if scope.parent_id is not None:
            await self.resources.get_body(Scope(scope.parent_desc), scope.parent_id)
        kind = scope.desc.kind if scope.desc is not None else kind_filter
        return await watch_response(request, self.watch, kind=kind, owner_id=scope.parent_id)

    async def create(self, request: Request) -> Response:
        body = params.object_body(await params.json_body(request))
        created = await self.resources.create(
            self.scope(request), body, actor=actor(request), flat=self.flat
        )
        return resource_response(created, 201)

    async def get(self, request: Request) -> Response:
        row = await self.resources.get_body(self.scope(request), request.path_params["id"])
        return json_response(
            _resource_body(request, row.body), etag_value=etag(row.generation, row.updated_time)
        )

    async def patch(self, request: Request) -> Response:
        body = params.object_body(await params.json_body(request))
        updated = await self.resources.patch(
            self.scope(request),
            request.path_params["id"],
            body,
            actor=actor(request),
            if_match=request.headers.get("if-match"),
        )
        return resource_response(updated)

    async def delete(self, request: Request) -> Response:
        deleted = await self.resources.delete(
            self.scope(request),
            request.path_params["id"],
            actor=actor(request),
            if_match=request.headers.get("if-match"),
        )
        return resource_response(deleted, 202)

    async def force_delete(self, request: Request) -> Response:
        body = await params.json_body(request, required=False)
        await self.resources.force_delete(
            self.scope(request), request.path_params["id"], body, actor=actor(request)
        )
        return Response(status_code=204, headers={"Vary": "Authorization"})

    async def list_statuses(self, request: Request) -> Response:
        page, size = params.page_and_size(request)
        result = await self.statuses.list(
            self.scope(request), request.path_params["id"], page=page, size=size
        )
        items: dict[str, Any] = {
            "page": page,
            "size": len(result.items),
            "total": result.total,
            "items": [
                report_to_dict(r, result.desc.progressing_reasons(r.adapter)) for r in result.items
            ],
        }
        return json_response(encode(items))

    async def put_status(self, request: Request) -> Response:
        body = params.object_body(await params.json_body(request))
        accepted = await self.statuses.report(self.scope(request), request.path_params["id"], body)
        if accepted is None:
            return Response(status_code=204, headers={"Vary": "Authorization"})
        report = accepted.report
        return json_response(
            encode(report_to_dict(report, accepted.desc.progressing_reasons(report.adapter))), 201
        )

    async def phase_history(self, request: Request) -> Response:
        page, size = params.page_and_size(request)
        items, total = await self.resources.phase_history(
            self.scope(request), request.path_params["id"], page=page, size=size
        )
        body = {
            "page": page,
            "size": len(items),
            "total": total,
            "items": [transition_to_dict(t) for t in items],
        }
        return json_response(encode(body))

    def routes(self, collection: str) -> list[Route]:
        item = f"{collection}/{{id}}"
        return [
            method_route(collection, {"GET": self.list_items, "POST": self.create}),
            method_route(item, {"GET": self.get, "PATCH": self.patch, "DELETE": self.delete}),
            method_route(f"{item}/force-delete", {"POST": self.force_delete}),
            method_route(f"{item}/statuses", {"GET": self.list_statuses, "PUT": self.put_status}),
            method_route(f"{item}/phase-history", {"GET": self.phase_history}),
        ]


def method_route(path: str, handlers: dict[str, Handler]) -> Route:
    """One route per path, so a wrong method gets a 405 whose Allow lists every method."""
    table = dict(handlers)
    if "GET" in table:
        table["HEAD"] = table["GET"]

    async def dispatch(request: Request) -> Response:
        return await table[request.method](request)

    return Route(path, dispatch, methods=list(table))


def resource_routes(
    registry: EntityRegistry,
    resources: ResourceService,
    statuses: StatusService,
    watch: WatchService | None = None,
) -> list[Route]:
    """Every entity route: nested routes first so that flat paths never shadow them."""
    routes: list[Route] = []
    for desc in registry.kinds:
        if desc.parent_kind is None:
            continue
        parent = registry.require(desc.parent_kind)
        nested = KindRoutes(
            resources=resources,
            statuses=statuses,
            desc=desc,
            parent=parent,
            flat=False,
            watch=watch,
        )
        routes += nested.routes(f"{API_BASE}/{parent.plural}/{{parent_id}}/{desc.plural}")
    for desc in registry.kinds:
        flat = KindRoutes(resources=resources, statuses=statuses, desc=desc, flat=True, watch=watch)
        routes += flat.routes(f"{API_BASE}/{desc.plural}")
    generic = KindRoutes(resources=resources, statuses=statuses, desc=None, flat=True, watch=watch)
    routes += generic.routes(f"{API_BASE}/resources")
    return routes
