"""The served OpenAPI document: the official contract (vendored, v1.0.25) plus our additions.

Additions are applied to a copy at start-up, never to the vendored file, so a contract update
is a file copy (`make generate`).
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any

import yaml

from hyperfleet import __version__
from hyperfleet.rest import openapi_engine, openapi_watch

_PREFIX = "/api/hyperfleet/v1"

THIS_SERVER: dict[str, Any] = {
    "url": "/",
    "description": "This server (the host that served this document)",
}
"""First in `servers`: relative, so Swagger UI's "Try it out" calls the host serving the page
rather than the official remote server, which stays listed after it."""


def load_official() -> dict[str, Any]:
    text = (resources.files("hyperfleet.rest") / "openapi.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    return data


def _fields_param() -> dict[str, Any]:
    return {
        "name": "fields",
        "in": "query",
        "required": False,
        "description": "Comma-separated (or repeated) list of fields to return; dotted paths "
        "select nested fields; `id` is always included.",
        "schema": {"type": "string"},
        "explode": False,
    }


_CURSOR_PARAM: dict[str, Any] = {
    "name": "cursor",
    "in": "query",
    "required": False,
    "description": "Continue a list after the last item of the page that returned this "
    "`next_cursor` (keyset: the cost does not grow with the depth). Not combinable with "
    "`page`; `search`, `order` (and `kind` on /resources) may be repeated unchanged or left "
    "out, anything else is a 400 naming `cursor`, as is a cursor altered in any way. On a "
    "cursor page `total` is the count taken by the walk's first page and `page` counts the "
    "pages of the walk.",
    "schema": {"type": "string"},
}
_NEXT_CURSOR: dict[str, Any] = {
    "type": "string",
    "nullable": True,
    "description": "Opaque; pass it as `cursor` for the next page. Null on the last page.",
}


def _cursor_paging(doc: dict[str, Any]) -> None:
    """`cursor` on every list operation, `next_cursor` on every list envelope (our additions)."""
    doc.setdefault("components", {}).setdefault("parameters", {})["QueryParams.cursor"] = (
        _CURSOR_PARAM
    )
    lists: set[str] = set()
    for item in doc["paths"].values():
        op = item.get("get")
        if not isinstance(op, dict):
            continue
        schema = (
            op.get("responses", {})
            .get("200", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        ref = schema.get("$ref", "")
        if not ref.endswith("List"):
            continue
        lists.add(ref.rsplit("/", 1)[-1])
        op.setdefault("parameters", []).append(
            {"$ref": "#/components/parameters/QueryParams.cursor"}
        )
    for name in lists:
        doc["components"]["schemas"][name]["properties"]["next_cursor"] = dict(_NEXT_CURSOR)


TENANCY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "readOnly": True,
    "description": "The tenant this resource belongs to: the creator's tenant dimensions "
    "(`server.tenant.dimensions`, key to value) for a root, the parent's for a child; `{}` "
    "when it was created while tenancy was off. Only callers of exactly this tenant see it.",
    "example": {"org": "acme"},
}
_TENANT_SCHEMAS = ("Cluster", "NodePool", "Resource")


def _tenancy(doc: dict[str, Any]) -> None:
    """`tenancy` on every resource body (our addition, docs/security.md#tenancy)."""
    schemas = doc["components"]["schemas"]
    for name in _TENANT_SCHEMAS:
        schema = schemas.get(name)
        if schema is None:
            continue
        schema.setdefault("properties", {})["tenancy"] = dict(TENANCY_SCHEMA)
        required = schema.setdefault("required", [])
        if "tenancy" not in required:
            required.append("tenancy")


def _flat_nodepool_paths(official: dict[str, Any]) -> dict[str, Any]:
    """`/nodepools/{nodepool_id}[...]`: the nested operations without the cluster id."""
    nested = f"{_PREFIX}/clusters/{{cluster_id}}/nodepools/{{nodepool_id}}"
    out: dict[str, Any] = {}
    for suffix in ("", "/force-delete", "/statuses"):
        source = official["paths"].get(nested + suffix)
        if source is None:
            continue
        item = copy.deepcopy(source)
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            op["operationId"] = op["operationId"] + "Flat"
            op["parameters"] = [
                p for p in op.get("parameters", []) if p.get("name") != "cluster_id"
            ]
            op["summary"] = op.get("summary", method) + " (flat route)"
        out[f"{_PREFIX}/nodepools/{{nodepool_id}}{suffix}"] = item
    return out


@functools.cache
def build_document() -> dict[str, Any]:
    """The served document; built once per process and shared, so callers must not mutate it."""
    doc = load_official()
    doc["info"]["x-hyperfleet-server-version"] = __version__
    doc["info"]["description"] = (
        doc["info"].get("description", "")
        + "\n\nServed by HyperFleet (Python). This document is the official contract plus the "
        "operations and parameters this server adds (flat nodepool routes, `fields`, cursor "
        "pages (`cursor`, `next_cursor`), the status engine's phases, adapter states, phase "
        "history, ETag/If-Match, aggregation config, `watch=true` change streams and each "
        "resource's `tenancy`)."
    )
    for path, item in list(doc["paths"].items()):
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId", "").startswith("get"):
                params = op.setdefault("parameters", [])
                if not any(p.get("name") == "fields" for p in params):
                    params.append(_fields_param())
        del path
    doc["paths"].update(_flat_nodepool_paths(doc))
    doc["servers"] = [THIS_SERVER, *(s for s in doc.get("servers", []) if s != THIS_SERVER)]
    openapi_engine.apply(doc)
    _cursor_paging(doc)
    openapi_watch.apply(doc)
    _tenancy(doc)
    return doc
