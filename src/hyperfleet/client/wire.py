"""The wire format's small pieces: query strings, item paths, JSON bodies and list envelopes.

Pure functions over httpx requests and responses; `hyperfleet.client.api` does the I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast
from urllib.parse import quote

import httpx
import msgspec

from hyperfleet.client.errors import UnexpectedResponseError
from hyperfleet.client.types import Page

TokenSource = str | Callable[[], str | None] | None
Params = Mapping[str, str | int | Sequence[str] | None]


def joined(value: str | Sequence[str] | None) -> str | None:
    """A comma list from a sequence of strings (a string stays as it is)."""
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def query_params(params: Params | None) -> dict[str, str]:
    """Query parameters as strings; `None` values are left out."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        out[key] = str(value) if isinstance(value, int) else cast("str", joined(value))
    return out


def item_path(collection: str, id_: str) -> str:
    """`collection/<id>`, the id URL-quoted so that it is always one path segment."""
    return f"{collection.strip('/')}/{quote(id_, safe='')}"


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; anything else is an UnexpectedResponseError."""
    try:
        data = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        data = None
    if not isinstance(data, dict):
        raise UnexpectedResponseError(
            response.status_code,
            detail=f"expected a JSON object from {response.request.url}",
            body=response.content,
        )
    return data


def page_and_mode(response: httpx.Response) -> tuple[Page[Any], bool]:
    """The page, and whether the envelope has `next_cursor` at all (a cursor-paged list)."""
    data = json_object(response)
    items = data.get("items")
    cursor = data.get("next_cursor")
    if not isinstance(items, list) or not (cursor is None or isinstance(cursor, str)):
        raise UnexpectedResponseError(
            response.status_code,
            detail=f"expected a list envelope from {response.request.url}",
            body=response.content,
        )
    result = Page(
        items=items,
        total=int(data.get("total", len(items))),
        page=int(data.get("page", 0)),
        size=int(data.get("size", len(items))),
        next_cursor=cursor,
        body=response.content,
    )
    return result, "next_cursor" in data


def envelope(response: httpx.Response) -> Page[Any]:
    """The list envelope as a Page."""
    return page_and_mode(response)[0]
