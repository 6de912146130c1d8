"""The async HyperFleet API client: the one place that sends HTTP to the API.

Paths given to the methods are relative to `/api/hyperfleet/v1` (a collection such as
`"clusters"` or `f"clusters/{cid}/nodepools"`). Error answers become typed `ApiError`s;
idempotent calls are retried on transport errors and 503 (see `hyperfleet.client.retry`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import quote, urlsplit

import httpx
import msgspec

from hyperfleet import __version__
from hyperfleet.client.errors import ClientConnectionError, error_from_response
from hyperfleet.client.retry import DEFAULT_RETRY, RETRY_STATUSES, RetryPolicy, may_retry
from hyperfleet.client.types import AdapterStatus, Page, PhaseTransition, Resource

API_PREFIX = "/api/hyperfleet/v1"
API_ROOT = "/api/hyperfleet"
DEFAULT_USER_AGENT = f"hyperfleet-client/{__version__}"

TokenSource = str | Callable[[], str | None] | None
Params = Mapping[str, str | int | Sequence[str] | None]

# Transport errors worth another try on an idempotent call: the server may not have seen the
# request, or its answer was lost. Others (bad URL scheme, proxy misconfiguration) are final.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _joined(value: str | Sequence[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _query(params: Params | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        out[key] = str(value) if isinstance(value, int) else cast("str", _joined(value))
    return out


def _item_path(collection: str, id_: str) -> str:
    return f"{collection.strip('/')}/{quote(id_, safe='')}"


def _decode(body: bytes) -> Any:
    return msgspec.json.decode(body)


def _page_and_mode(response: httpx.Response) -> tuple[Page[Any], bool]:
    """The page, and whether the envelope has `next_cursor` at all (a cursor-paged list)."""
    body = response.content
    data = _decode(body)
    items = data.get("items") or []
    page = Page(
        items=items,
        total=int(data.get("total", len(items))),
        page=int(data.get("page", 0)),
        size=int(data.get("size", len(items))),
        next_cursor=data.get("next_cursor"),
        body=body,
    )
    return page, "next_cursor" in data


def _page(response: httpx.Response) -> Page[Any]:
    return _page_and_mode(response)[0]


class HyperFleetClient:
    """Async client for the HyperFleet REST API.

    `base_url` is the server root (e.g. `http://127.0.0.1:8000`); `token` a bearer token or a
    callable asked before every attempt (see `TokenFile`). Use as `async with` or call
    `aclose()`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: TokenSource = None,
        timeout: float = 10.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        user_agent: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._token = token
        # Jitter only spreads retries out; it needs no cryptographic randomness.
        self._rng = random.Random()  # noqa: S311
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={
                "User-Agent": user_agent or DEFAULT_USER_AGENT,
                "Accept": "application/json, application/problem+json",
            },
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- the one place HTTP happens --------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send `method` to `path` (relative to the API prefix); raise `ApiError` on 4xx/5xx."""
        return await self._send(
            method, f"{API_PREFIX}/{path.lstrip('/')}", params=params, json=json, headers=headers
        )

    async def _send(
        self,
        method: str,
        url_path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        method = method.upper()
        attempts = self.retry.attempts if may_retry(method) else 1
        content = None if json is None else msgspec.json.encode(json)
        query = _query(params)
        for attempt in range(1, attempts + 1):
            request = self._http.build_request(
                method,
                url_path,
                params=query,
                content=content,
                headers=self._headers(headers, has_body=content is not None),
            )
            try:
                response = await self._http.send(request)
            except _TRANSIENT as exc:
                if attempt == attempts:
                    raise ClientConnectionError(
                        str(request.url), f"{type(exc).__name__}: {exc}", attempts=attempt
                    ) from exc
            except httpx.TransportError as exc:
                raise ClientConnectionError(
                    str(request.url), f"{type(exc).__name__}: {exc}", attempts=attempt
                ) from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    return self._checked(response)
            await asyncio.sleep(self.retry.delay(attempt, self._rng))
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _headers(self, extra: Mapping[str, str] | None, *, has_body: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if has_body:
            headers["Content-Type"] = "application/json"
        token = self._token() if callable(self._token) else self._token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if extra:
            headers.update(extra)
        return headers

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.status_code < 400:  # noqa: PLR2004 - success and redirects
            return response
        raise error_from_response(
            response.status_code, response.content, reason=response.reason_phrase
        )

    # -- resources -------------------------------------------------------------------------

    async def list(
        self,
        collection: str,
        *,
        search: str | None = None,
        page: int | None = None,
        size: int | None = None,
        cursor: str | None = None,
        order: str | Sequence[str] | None = None,
        fields: str | Sequence[str] | None = None,
    ) -> Page[Resource]:
        """One page of `collection` (page numbers, or `cursor` from a previous page)."""
        params: Params = {
            "search": search,
            "page": page,
            "size": size,
            "cursor": cursor,
            "order": order,
            "fields": fields,
        }
        return _page(await self.request("GET", collection.strip("/"), params=params))

    async def _list_page(self, collection: str, params: Params) -> tuple[Page[Resource], bool]:
        return _page_and_mode(await self.request("GET", collection.strip("/"), params=params))

    async def iterate(
        self,
        collection: str,
        *,
        search: str | None = None,
        size: int = 100,
        fields: str | Sequence[str] | None = None,
        order: str | Sequence[str] | None = None,
    ) -> AsyncGenerator[Resource, None]:
        """Every item of every page: follows `next_cursor` when sent, else page numbers.

        Page numbers stop once `total` items were seen or a page is empty.
        """
        base: dict[str, Any] = {"search": search, "size": size, "fields": fields, "order": order}
        current, cursor_mode = await self._list_page(collection, base)
        number, seen = 1, 0
        while True:
            for item in current.items:
                yield item
            seen += len(current.items)
            if cursor_mode:
                if not current.next_cursor:
                    return
                params = {**base, "cursor": current.next_cursor}
            else:
                if not current.items or seen >= current.total:
                    return
                number += 1
                params = {**base, "page": number}
            current, cursor_mode = await self._list_page(collection, params)

    async def get(self, collection: str, id: str) -> Resource:  # noqa: A002 - the API's name
        """One resource."""
        response = await self.request("GET", _item_path(collection, id))
        return cast("Resource", _decode(response.content))

    async def get_with_etag(self, collection: str, id: str) -> tuple[Resource, str]:  # noqa: A002
        """One resource and its ETag (for `if_match=`)."""
        response = await self.request("GET", _item_path(collection, id))
        return cast("Resource", _decode(response.content)), response.headers.get("etag", "")

    async def get_href(self, href: str) -> Resource:
        """The resource at `href` (absolute or relative); only its path is used, never its host."""
        path = urlsplit(href).path
        if not path.startswith(API_PREFIX + "/"):
            path = f"{API_PREFIX}/{path.lstrip('/')}"
        response = await self._send("GET", path)
        return cast("Resource", _decode(response.content))

    async def create(self, collection: str, body: Mapping[str, Any]) -> Resource:
        """POST a new resource (never retried)."""
        response = await self.request("POST", collection.strip("/"), json=dict(body))
        return cast("Resource", _decode(response.content))

    async def patch(
        self,
        collection: str,
        id: str,  # noqa: A002
        body: Mapping[str, Any],
        *,
        if_match: str | None = None,
    ) -> Resource:
        """PATCH `spec` and/or `labels` (never retried); `if_match` → 412 on a stale ETag."""
        headers = {"If-Match": if_match} if if_match is not None else None
        response = await self.request(
            "PATCH", _item_path(collection, id), json=dict(body), headers=headers
        )
        return cast("Resource", _decode(response.content))

    async def delete(
        self,
        collection: str,
        id: str,  # noqa: A002
        *,
        if_match: str | None = None,
    ) -> Resource:
        """Soft-delete (202 with the resource, `deleted_time` set)."""
        headers = {"If-Match": if_match} if if_match is not None else None
        response = await self.request("DELETE", _item_path(collection, id), headers=headers)
        return cast("Resource", _decode(response.content))

    async def force_delete(self, collection: str, id: str, reason: str) -> None:  # noqa: A002
        """Remove a resource being deleted and its descendants at once (204)."""
        await self.request(
            "POST", f"{_item_path(collection, id)}/force-delete", json={"reason": reason}
        )

    # -- statuses and history --------------------------------------------------------------

    async def statuses(
        self,
        collection: str,
        id: str,  # noqa: A002
        *,
        page: int | None = None,
        size: int | None = None,
    ) -> Page[AdapterStatus]:
        """The adapters' status reports, ordered by adapter."""
        response = await self.request(
            "GET", f"{_item_path(collection, id)}/statuses", params={"page": page, "size": size}
        )
        return _page(response)

    async def report_status(
        self,
        collection: str,
        id: str,  # noqa: A002
        report: Mapping[str, Any],
    ) -> AdapterStatus | None:
        """PUT an adapter's report: the stored report (201), or None when discarded (204)."""
        response = await self.request(
            "PUT", f"{_item_path(collection, id)}/statuses", json=dict(report)
        )
        if response.status_code == httpx.codes.NO_CONTENT or not response.content:
            return None
        return cast("AdapterStatus", _decode(response.content))

    async def phase_history(
        self,
        collection: str,
        id: str,  # noqa: A002
        *,
        page: int | None = None,
        size: int | None = None,
    ) -> Page[PhaseTransition]:
        """The resource's phase transitions, newest first."""
        response = await self.request(
            "GET",
            f"{_item_path(collection, id)}/phase-history",
            params={"page": page, "size": size},
        )
        return _page(response)

    # -- metadata --------------------------------------------------------------------------

    async def aggregation_config(self) -> dict[str, Any]:
        """The active status-engine configuration (`GET /aggregation-config`)."""
        response = await self.request("GET", "aggregation-config")
        return cast("dict[str, Any]", _decode(response.content))

    async def api_info(self) -> dict[str, Any]:
        """API metadata (`GET /api/hyperfleet`): id, kind, href, version."""
        response = await self._send("GET", API_ROOT)
        return cast("dict[str, Any]", _decode(response.content))
