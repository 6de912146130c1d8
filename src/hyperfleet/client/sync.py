"""A blocking client: the async client driven on a private event loop.

Do not use it from inside a running event loop (use `HyperFleetClient` there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from hyperfleet.client.api import HyperFleetClient, Params, TokenSource
from hyperfleet.client.retry import DEFAULT_RETRY, RetryPolicy
from hyperfleet.client.types import AdapterStatus, Page, PhaseTransition, Resource

T = TypeVar("T")


class SyncHyperFleetClient:
    """The same methods as `HyperFleetClient`, blocking; `iterate` returns an Iterator."""

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
        self._loop = asyncio.new_event_loop()
        self._async = HyperFleetClient(
            base_url,
            token=token,
            timeout=timeout,
            retry=retry,
            user_agent=user_agent,
            transport=transport,
            headers=headers,
        )

    @property
    def base_url(self) -> str:
        return self._async.base_url

    def _run(self, aw: Awaitable[T]) -> T:
        return self._loop.run_until_complete(aw)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool and the private event loop."""
        if self._loop.is_closed():
            return
        try:
            self._run(self._async.aclose())
        finally:
            self._loop.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """See `HyperFleetClient.request`."""
        return self._run(
            self._async.request(method, path, params=params, json=json, headers=headers)
        )

    def list(
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
        """See `HyperFleetClient.list`."""
        return self._run(
            self._async.list(
                collection,
                search=search,
                page=page,
                size=size,
                cursor=cursor,
                order=order,
                fields=fields,
            )
        )

    def iterate(
        self,
        collection: str,
        *,
        search: str | None = None,
        size: int = 100,
        fields: str | Sequence[str] | None = None,
        order: str | Sequence[str] | None = None,
    ) -> Iterator[Resource]:
        """See `HyperFleetClient.iterate`."""
        items = self._async.iterate(
            collection, search=search, size=size, fields=fields, order=order
        )
        try:
            while True:
                try:
                    yield self._run(anext(items))
                except StopAsyncIteration:
                    return
        finally:
            if not self._loop.is_closed():
                self._run(items.aclose())

    def get(self, collection: str, id: str) -> Resource:  # noqa: A002 - the API's name
        """See `HyperFleetClient.get`."""
        return self._run(self._async.get(collection, id))

    def get_with_etag(self, collection: str, id: str) -> tuple[Resource, str]:  # noqa: A002
        """See `HyperFleetClient.get_with_etag`."""
        return self._run(self._async.get_with_etag(collection, id))

    def get_href(self, href: str) -> Resource:
        """See `HyperFleetClient.get_href`."""
        return self._run(self._async.get_href(href))

    def create(self, collection: str, body: Mapping[str, Any]) -> Resource:
        """See `HyperFleetClient.create`."""
        return self._run(self._async.create(collection, body))

    def patch(
        self,
        collection: str,
        id: str,  # noqa: A002
        body: Mapping[str, Any],
        *,
        if_match: str | None = None,
    ) -> Resource:
        """See `HyperFleetClient.patch`."""
        return self._run(self._async.patch(collection, id, body, if_match=if_match))

    def delete(self, collection: str, id: str, *, if_match: str | None = None) -> Resource:  # noqa: A002
        """See `HyperFleetClient.delete`."""
        return self._run(self._async.delete(collection, id, if_match=if_match))

    def force_delete(self, collection: str, id: str, reason: str) -> None:  # noqa: A002
        """See `HyperFleetClient.force_delete`."""
        self._run(self._async.force_delete(collection, id, reason))

    def statuses(
        self,
        collection: str,
        id: str,  # noqa: A002
        *,
        page: int | None = None,
        size: int | None = None,
    ) -> Page[AdapterStatus]:
        """See `HyperFleetClient.statuses`."""
        return self._run(self._async.statuses(collection, id, page=page, size=size))

    def report_status(
        self,
        collection: str,
        id: str,  # noqa: A002
        report: Mapping[str, Any],
    ) -> AdapterStatus | None:
        """See `HyperFleetClient.report_status`."""
        return self._run(self._async.report_status(collection, id, report))

    def phase_history(
        self,
        collection: str,
        id: str,  # noqa: A002
        *,
        page: int | None = None,
        size: int | None = None,
    ) -> Page[PhaseTransition]:
        """See `HyperFleetClient.phase_history`."""
        return self._run(self._async.phase_history(collection, id, page=page, size=size))

    def aggregation_config(self) -> dict[str, Any]:
        """See `HyperFleetClient.aggregation_config`."""
        return self._run(self._async.aggregation_config())

    def api_info(self) -> dict[str, Any]:
        """See `HyperFleetClient.api_info`."""
        return self._run(self._async.api_info())
