"""One Starlette route for every entity path, matched by segment lookups instead of regexes.

With a few kinds there are dozens of per-kind route patterns; Starlette tries each pattern's
regex in turn, so a request for the last kind paid for every miss before it. `PathTable` keeps
the patterns in a tree keyed by literal path segment (a `{param}` segment is the fallback at its
level), so matching costs one dict lookup per segment whatever the number of kinds.

Semantics are Starlette's for these patterns: a parameter matches one non-empty segment, a
literal beats a parameter at the same position, a known path with another method is a 405
whose `Allow` lists the path's methods (`HEAD` implied by `GET`), and the handlers receive a
`Request` whose `path_params` hold the parameters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]

ROUTE_LABEL = "hyperfleet.route_label"
"""Scope key: the matched pattern with `{…}` replaced by `-` (the metrics `path` label)."""


def _route_path(scope: Scope) -> str:
    """The path below the app's `root_path`, as Starlette's own routes match it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


def label_of(pattern: str) -> str:
    return "/".join("-" if p.startswith("{") else p for p in pattern.split("/"))


@dataclass(slots=True)
class _Endpoint:
    pattern: str
    label: str
    params: tuple[str, ...]
    handlers: dict[str, Handler]
    allow: str


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    endpoint: _Endpoint | None = None


class PathTable(BaseRoute):
    """A set of `(pattern, {method: handler})` served as one route."""

    def __init__(self) -> None:
        self._root = _Node()
        self.patterns: list[str] = []

    def add(self, pattern: str, handlers: dict[str, Handler]) -> None:
        """Register `pattern` (e.g. `/api/x/{id}/statuses`); a `GET` also answers `HEAD`."""
        table = dict(handlers)
        if "GET" in table:
            table["HEAD"] = table["GET"]
        node = self._root
        params: list[str] = []
        for segment in pattern.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                params.append(segment[1:-1])
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.literals.setdefault(segment, _Node())
        if node.endpoint is not None:
            msg = f"{pattern} is registered twice"
            raise ValueError(msg)
        node.endpoint = _Endpoint(
            pattern, label_of(pattern), tuple(params), table, ", ".join(sorted(table))
        )
        self.patterns.append(pattern)

    def _lookup(self, path: str) -> tuple[_Endpoint, dict[str, str]] | None:
        segments = path[1:].split("/") if path.startswith("/") else path.split("/")
        # The common case in one loop: the literal where there is one, else the parameter. Only
        # a dead end (a literal that leads nowhere) needs the backtracking walk.
        node = self._root
        values: list[str] = []
        for segment in segments:
            child = node.literals.get(segment)
            if child is None and segment:
                child = node.param
                values.append(segment)
            if child is None:
                break
            node = child
        else:
            if node.endpoint is not None:
                return node.endpoint, dict(zip(node.endpoint.params, values, strict=True))
        found = self._walk(self._root, segments, 0, [])
        if found is None:
            return None
        endpoint, values = found
        return endpoint, dict(zip(endpoint.params, values, strict=True))

    def _walk(
        self, node: _Node, segments: list[str], index: int, values: list[str]
    ) -> tuple[_Endpoint, list[str]] | None:
        if index == len(segments):
            return (node.endpoint, values) if node.endpoint is not None else None
        segment = segments[index]
        child = node.literals.get(segment)
        if child is not None:
            found = self._walk(child, segments, index + 1, values)
            if found is not None:
                return found
        if node.param is not None and segment:
            return self._walk(node.param, segments, index + 1, [*values, segment])
        return None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        found = self._lookup(_route_path(scope))
        if found is None:
            return Match.NONE, {}
        endpoint, params = found
        child: dict[str, Any] = {
            "path_params": {**scope.get("path_params", {}), **params},
            "hyperfleet.endpoint": endpoint,
            ROUTE_LABEL: endpoint.label,
        }
        if scope["method"] in endpoint.handlers:
            return Match.FULL, child
        return Match.PARTIAL, child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint: _Endpoint = scope["hyperfleet.endpoint"]
        handler = endpoint.handlers.get(scope["method"])
        if handler is None:
            raise HTTPException(status_code=405, headers={"Allow": endpoint.allow})
        response = await handler(Request(scope, receive, send))
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:  # pragma: no cover
        from starlette.routing import NoMatchFound  # noqa: PLC0415 - never used by our routes

        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        return f"PathTable({len(self.patterns)} patterns)"
