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
        "operations and parameters this server adds (flat nodepool routes, `fields`, the status "
        "engine's phases, adapter states, phase history, ETag/If-Match, aggregation config and "
        "`watch=true` change streams)."
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
    openapi_watch.apply(doc)
    return doc
