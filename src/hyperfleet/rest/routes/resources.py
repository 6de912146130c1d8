"""Routes for every entity kind and their adapter statuses.

Flat routes, routes nested under the parent, and the kind-agnostic `/resources` set. Each
handler parses, calls one service method and presents the result; no rules live here.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

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
from hyperfleet.rest.audit import RESOURCE_ID_KEY
from hyperfleet.rest.authorization import ENTITY_ROUTES, guarded
from hyperfleet.rest.projection import projector
from hyperfleet.rest.routing import Handler, PathTable
from hyperfleet.rest.watch import CHANGE_SEQ_HEADER, wants_watch, watch_response
from hyperfleet.services.paging import Listed
from hyperfleet.services.resources import API_BASE, ResourceService, Scope
from hyperfleet.services.statuses import StatusService
from hyperfleet.services.watch import WatchService

JSON = "application/json"


class JsonResponse(Response):
    """Stored or rendered JSON bytes with our headers.

    Built without Starlette's header normalisation: every resource response goes through here.
    """

    media_type = JSON

    def __init__(self, body: bytes, status: int = 200, *, etag_value: str | None = None) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        headers = [
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"application/json"),
            (b"vary", b"Authorization"),
        ]
        if etag_value is not None:
            headers.append((b"etag", etag_value.encode("latin-1")))
        self.raw_headers = headers


def json_response(body: bytes, status: int = 200, *, etag_value: str | None = None) -> Response:
    return JsonResponse(body, status, etag_value=etag_value)


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
    return projector(fields)(body)


def _list_body(listed: Listed[bytes], fields: list[str] | None) -> bytes:
    """The list envelope around stored bodies, joined as they are (or projected)."""
    bodies = listed.items
    if fields is not None:
        project = projector(fields)
        bodies = [project(b) for b in bodies]
    head = b'{"page":%d,"size":%d,"total":%d,"items":[' % (
        listed.page,
        len(bodies),
        listed.total,
    )
    return head + b",".join(bodies) + b'],"next_cursor":' + encode(listed.next_cursor) + b"}"


def _envelope(listed: Listed[Any], items: list[Any]) -> bytes:
    return encode(
        {
            "page": listed.page,
            "size": len(items),
            "total": listed.total,
            "items": items,
            "next_cursor": listed.next_cursor,
        }
    )


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
        self._root_scope = Scope(desc)

    def scope(self, request: Request) -> Scope:
        tenant = request.scope["state"].get("tenancy")
        if self.parent is not None:
            return Scope(self.desc, request.path_params["parent_id"], self.parent, tenant)
        return self._root_scope if tenant is None else Scope(self.desc, tenant=tenant)

    async def list_items(self, request: Request) -> Response:
        page, size = params.page_and_size(request)
        cursor = params.cursor_param(request)
        fields = params.fields_param(request)
        kind_filter = None
        if self.desc is None and request.query_params.get("kind"):
            kind_filter = request.query_params["kind"]
            if self.resources.registry.get(kind_filter) is None:
                message = f"unknown kind '{kind_filter}'"
                raise ValidationFailed(message, violations=[Violation("kind", message, "enum")])
        if wants_watch(request) and self.watch is not None:
            return await self.watch_items(request, kind_filter)
        # Read before the list: every change up to it is in the list (docs/watch.md).
        position = self.watch.position() if self.watch is not None else None
        listed = await self.resources.list_bodies(
            self.scope(request),
            search=request.query_params.get("search"),
            order=params.multi_values(request, "order"),
            page=page,
            size=size,
            kind_filter=kind_filter,
            cursor=cursor,
        )
        response = json_response(_list_body(listed, fields))
        if position is not None:
            response.headers[CHANGE_SEQ_HEADER] = str(position)
        return response

    async def watch_items(self, request: Request, kind_filter: str | None) -> Response:
        assert self.watch is not None  # noqa: S101 - only called when watching is wired
        scope = self.scope(request)
        if scope.parent_id is not None:
            await self.resources.get_body(
                Scope(scope.parent_desc, tenant=scope.tenant), scope.parent_id
            )
        kind = scope.desc.kind if scope.desc is not None else kind_filter
        return await watch_response(
            request,
            self.watch,
            kind=kind,
            owner_id=scope.parent_id,
            tenant=scope.tenant.key if scope.tenant is not None else None,
        )

    async def create(self, request: Request) -> Response:
        body = params.object_body(await params.json_body(request))
        created = await self.resources.create(
            self.scope(request), body, actor=actor(request), flat=self.flat
        )
        request.scope["state"][RESOURCE_ID_KEY] = created.id
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
            self.scope(request),
            request.path_params["id"],
            page=page,
            size=size,
            cursor=params.cursor_param(request),
        )
        desc = result.desc
        items = [
            report_to_dict(r, desc.progressing_reasons(r.adapter)) for r in result.listed.items
        ]
        return json_response(_envelope(result.listed, items))

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
        listed = await self.resources.phase_history(
            self.scope(request),
            request.path_params["id"],
            page=page,
            size=size,
            cursor=params.cursor_param(request),
        )
        items = [transition_to_dict(t) for t in listed.items]
        return json_response(_envelope(listed, items))

    def add_routes(self, table: PathTable, collection: str) -> None:
        routes: dict[str, dict[str, Handler]] = {
            "": {"GET": self.list_items, "POST": self.create},
            "/{id}": {"GET": self.get, "PATCH": self.patch, "DELETE": self.delete},
            "/{id}/force-delete": {"POST": self.force_delete},
            "/{id}/statuses": {"GET": self.list_statuses, "PUT": self.put_status},
            "/{id}/phase-history": {"GET": self.phase_history},
        }
        if set(routes) != set(ENTITY_ROUTES):
            msg = f"routes {sorted(routes)} differ from the authorization table"
            raise ValueError(msg)
        for suffix, handlers in routes.items():
            table.add(collection + suffix, guarded(ENTITY_ROUTES[suffix], handlers))


def resource_routes(
    registry: EntityRegistry,
    resources: ResourceService,
    statuses: StatusService,
    watch: WatchService | None = None,
) -> list[BaseRoute]:
    """Every entity route, in one `PathTable` (a literal segment wins over a parameter)."""
    table = PathTable()
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
        nested.add_routes(table, f"{API_BASE}/{parent.plural}/{{parent_id}}/{desc.plural}")
    for desc in registry.kinds:
        flat = KindRoutes(resources=resources, statuses=statuses, desc=desc, flat=True, watch=watch)
        flat.add_routes(table, f"{API_BASE}/{desc.plural}")
    generic = KindRoutes(resources=resources, statuses=statuses, desc=None, flat=True, watch=watch)
    generic.add_routes(table, f"{API_BASE}/resources")
    return [table]
