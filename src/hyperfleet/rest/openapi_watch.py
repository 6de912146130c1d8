"""`?watch=true` in the served OpenAPI document (our addition; protocol in docs/watch.md)."""

from __future__ import annotations

from typing import Any, Final

WATCHED_OPERATIONS: Final = frozenset(
    {"getClusters", "getNodePoolsByClusterId", "getNodePools", "getResources"}
)
"""The list operations that also stream changes with `watch=true`."""

_WATCH_PARAM: Final = {
    "name": "watch",
    "in": "query",
    "required": False,
    "description": "Stream changes to this list (filtered by `search`) as Server-Sent Events "
    "instead of returning a page; see docs/watch.md.",
    "schema": {"type": "boolean", "default": False},
}
_LAST_EVENT_ID: Final = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "With `watch=true`: resume after this event id (or after the list's "
    "`X-Hyperfleet-Change-Seq`). Too old: the stream's only event is a 410 error: list again.",
    "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
}
_STREAM: Final = {
    "schema": {"type": "string"},
    "example": 'id: 42\nevent: MODIFIED\ndata: {"type":"MODIFIED","object":{"id":"…"}}\n\n',
}
_CHANGE_SEQ: Final = {
    "description": "The change feed position when the list was read: pass it as "
    "`Last-Event-ID` to watch from this list on without a gap.",
    "schema": {"type": "string"},
}


def apply(doc: dict[str, Any]) -> None:
    for item in doc["paths"].values():
        op = item.get("get")
        if not isinstance(op, dict) or op.get("operationId") not in WATCHED_OPERATIONS:
            continue
        params = op.setdefault("parameters", [])
        if not any(p.get("name") == "watch" for p in params):
            params += [dict(_WATCH_PARAM), dict(_LAST_EVENT_ID)]
        ok = op["responses"]["200"]
        ok.setdefault("content", {})["text/event-stream"] = dict(_STREAM)
        ok.setdefault("headers", {})["X-Hyperfleet-Change-Seq"] = dict(_CHANGE_SEQ)
