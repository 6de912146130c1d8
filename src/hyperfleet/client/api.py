"""The async HyperFleet API client: the one place that sends HTTP to the API.

Paths given to the methods are relative to `/api/hyperfleet/v1` (a collection such as
`"clusters"` or `f"clusters/{cid}/nodepools"`). Error answers become typed `ApiError`s;
idempotent calls are retried on transport errors and 503 (see `hyperfleet.client.retry`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import urlsplit

import httpx
import msgspec
import structlog

from hyperfleet import __version__
from hyperfleet.client.errors import (
    ClientConnectionError,
    UnexpectedResponseError,
    error_from_response,
)
from hyperfleet.client.headers import checked_headers
from hyperfleet.client.retry import DEFAULT_RETRY, RETRY_STATUSES, RetryPolicy, may_retry
from hyperfleet.client.types import AdapterStatus, Page, PhaseTransition, Resource
from hyperfleet.client.watch import WatchEvent, watch
from hyperfleet.client.wire import (
    Params,
    TokenSource,
    envelope,
    item_path,
    json_object,
    page_and_mode,
    query_params,
)

__all__ = [
    "API_PREFIX",
    "API_ROOT",
    "DEFAULT_USER_AGENT",
    "HyperFleetClient",
    "Params",
    "TokenSource",
]

API_PREFIX = "/api/hyperfleet/v1"
API_ROOT = "/api/hyperfleet"
DEFAULT_USER_AGENT = f"hyperfleet-client/{__version__}"

log = structlog.get_logger("hyperfleet.client")

# Transport errors worth another try on an idempotent call: the server may not have seen the
# request, or its answer was lost. Others (bad URL scheme, proxy misconfiguration) are final.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class HyperFleetClient:
    """Async client for the HyperFleet REST API.

    `base_url` is the server root (e.g. `http://127.0.0.1:8000`); `token` a bearer token or a
    callable asked before every attempt (see `TokenFile`); `headers` go with every request
    (e.g. `X-HyperFleet-System: true`, or a tenant's dimension headers; a request's own headers
    win). Use as `async with` or call `aclose()`.
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
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.headers = checked_headers(headers or {})
        """The extra headers of every request (ValueError at construction when one is invalid)."""
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
        query = query_params(params)
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
                reason = f"{type(exc).__name__}: {exc}"
                if attempt == attempts:
                    raise ClientConnectionError(str(request.url), reason, attempts=attempt) from exc
            except httpx.TransportError as exc:
                raise ClientConnectionError(
                    str(request.url), f"{type(exc).__name__}: {exc}", attempts=attempt
                ) from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt == attempts:
                    return self._checked(response)
                reason = f"HTTP {response.status_code}"
            delay = self.retry.delay(attempt, self._rng)
            log.warning(
                "API call retried",
                method=method,
                url=str(request.url),
                attempt=attempt,
                reason=reason,
                delay_s=round(delay, 3),
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """A streamed response (body not read) for `path`; `ApiError` on 4xx/5xx. Sent once.

        `read_timeout` (None: wait for ever) bounds the wait for the next chunk.
        """
        timeout = self._http.timeout
        request = self._http.build_request(
            method.upper(),
            f"{API_PREFIX}/{path.lstrip('/')}",
            params=query_params(params),
            headers=self._headers(headers, has_body=False),
            timeout=httpx.Timeout(
                timeout.connect, read=read_timeout, write=timeout.write, pool=timeout.pool
            ),
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ClientConnectionError(str(request.url), f"{type(exc).__name__}: {exc}") from exc
        try:
            if response.status_code >= 400:  # noqa: PLR2004 - error statuses
                await response.aread()
                self._checked(response)
            yield response
        finally:
            await response.aclose()

    def watch(
        self,
        collection: str,
        *,
        search: str | None = None,
        last_event_id: str | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """Every change to `collection` from now (or after `last_event_id`): see client/watch.py."""
        return watch(self, collection.strip("/"), search=search, last_event_id=last_event_id)

    def _headers(self, extra: Mapping[str, str] | None, *, has_body: bool) -> dict[str, str]:
        headers = dict(self.headers)
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
        return envelope(await self.request("GET", collection.strip("/"), params=params))

    async def _list_page(self, collection: str, params: Params) -> tuple[Page[Resource], bool]:
        return page_and_mode(await self.request("GET", collection.strip("/"), params=params))

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
        params = base
        current, cursor_mode = await self._list_page(collection, params)
        number, seen = 1, 0
        while True:
            for item in current.items:
                yield item
            seen += len(current.items)
            if cursor_mode:
                if not current.next_cursor:
                    return
                if current.next_cursor == params.get("cursor"):
                    raise UnexpectedResponseError(
                        200,
                        detail=f"{collection}: the server repeated cursor {current.next_cursor!r}",
                    )
                params = {**base, "cursor": current.next_cursor}
            else:
                if not current.items or seen >= current.total:
                    return
                number += 1
                params = {**base, "page": number}
            current, cursor_mode = await self._list_page(collection, params)

    async def get(self, collection: str, id: str) -> Resource:  # noqa: A002 - the API's name
        """One resource."""
        response = await self.request("GET", item_path(collection, id))
        return cast("Resource", json_object(response))

    async def get_with_etag(self, collection: str, id: str) -> tuple[Resource, str]:  # noqa: A002
        """One resource and its ETag (for `if_match=`)."""
        response = await self.request("GET", item_path(collection, id))
        return cast("Resource", json_object(response)), response.headers.get("etag", "")

    async def get_href(self, href: str) -> Resource:
        """The resource at `href` (absolute or relative); only its path is used, never its host.

        Raises ValueError for a path with `.` or `..` segments: an href from an event must not
        lead the client (and its token) outside the API.
        """
        path = urlsplit(href).path
        if any(segment in {".", ".."} for segment in path.split("/")):
            raise ValueError(f"href {href!r} is not a resource path")
        if not path.startswith(API_PREFIX + "/"):
            path = f"{API_PREFIX}/{path.lstrip('/')}"
        response = await self._send("GET", path)
        return cast("Resource", json_object(response))

    async def create(self, collection: str, body: Mapping[str, Any]) -> Resource:
        """POST a new resource (never retried)."""
        response = await self.request("POST", collection.strip("/"), json=dict(body))
        return cast("Resource", json_object(response))

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
            "PATCH", item_path(collection, id), json=dict(body), headers=headers
        )
        return cast("Resource", json_object(response))

    async def delete(
        self,
        collection: str,
        id: str,  # noqa: A002
        *,
        if_match: str | None = None,
    ) -> Resource:
        """Soft-delete (202 with the resource, `deleted_time` set)."""
        headers = {"If-Match": if_match} if if_match is not None else None
        response = await self.request("DELETE", item_path(collection, id), headers=headers)
        return cast("Resource", json_object(response))

    async def force_delete(self, collection: str, id: str, reason: str) -> None:  # noqa: A002
        """Remove a resource being deleted and its descendants at once (204)."""
        await self.request(
            "POST", f"{item_path(collection, id)}/force-delete", json={"reason": reason}
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
            "GET", f"{item_path(collection, id)}/statuses", params={"page": page, "size": size}
        )
        return envelope(response)

    async def report_status(
        self,
        collection: str,
        id: str,  # noqa: A002
        report: Mapping[str, Any],
    ) -> AdapterStatus | None:
        """PUT an adapter's report: the stored report (201), or None when discarded (204)."""
        response = await self.request(
            "PUT", f"{item_path(collection, id)}/statuses", json=dict(report)
        )
        if response.status_code == httpx.codes.NO_CONTENT or not response.content:
            return None
        return cast("AdapterStatus", json_object(response))

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
            f"{item_path(collection, id)}/phase-history",
            params={"page": page, "size": size},
        )
        return envelope(response)

    # -- metadata --------------------------------------------------------------------------

    async def aggregation_config(self) -> dict[str, Any]:
        """The active status-engine configuration (`GET /aggregation-config`)."""
        response = await self.request("GET", "aggregation-config")
        return json_object(response)

    async def api_info(self) -> dict[str, Any]:
        """API metadata (`GET /api/hyperfleet`): id, kind, href, version."""
        response = await self._send("GET", API_ROOT)
        return json_object(response)
