"""A blocking client: the async client driven on a private event loop.

Do not use it from inside a running event loop (use `HyperFleetClient` there). Every call
method is made from the async one by `_blocking`, so the two cannot drift apart: same
parameters, same types for mypy, same docstring. Only `iterate` (a generator) is written out.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import httpx

from hyperfleet.client.api import HyperFleetClient, TokenSource
from hyperfleet.client.retry import DEFAULT_RETRY, RetryPolicy
from hyperfleet.client.types import Resource

T = TypeVar("T")
P = ParamSpec("P")

# The async methods that have no blocking form: streams stay async, closing is `close()`.
NOT_BLOCKING = frozenset({"stream", "watch", "aclose"})


def _blocking(
    method: Callable[Concatenate[HyperFleetClient, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[SyncHyperFleetClient, P], T]:
    """The blocking form of an async client method: run it to completion on the private loop."""

    @functools.wraps(method)
    def call(self: SyncHyperFleetClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(method(self._async, *args, **kwargs))

    return call


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

    request = _blocking(HyperFleetClient.request)
    list = _blocking(HyperFleetClient.list)
    get = _blocking(HyperFleetClient.get)
    get_with_etag = _blocking(HyperFleetClient.get_with_etag)
    get_href = _blocking(HyperFleetClient.get_href)
    create = _blocking(HyperFleetClient.create)
    patch = _blocking(HyperFleetClient.patch)
    delete = _blocking(HyperFleetClient.delete)
    force_delete = _blocking(HyperFleetClient.force_delete)
    statuses = _blocking(HyperFleetClient.statuses)
    report_status = _blocking(HyperFleetClient.report_status)
    phase_history = _blocking(HyperFleetClient.phase_history)
    aggregation_config = _blocking(HyperFleetClient.aggregation_config)
    api_info = _blocking(HyperFleetClient.api_info)

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
