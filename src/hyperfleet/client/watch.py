"""Reading the watch stream: `GET /{collection}?watch=true` as Server-Sent Events.

Each event is `{"type": "ADDED|MODIFIED|DELETED", "object": <resource>}` with a numeric `id:`.
When the connection drops, the reader reconnects with `Last-Event-ID` (the retry policy's
delays; the retries start again after every event received), so nothing is missed or repeated.
An error event (the server cannot resume from the id: the client must list again) raises
`WatchExpiredError`; heartbeat comments are skipped.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from hyperfleet.client.errors import (
    ApiError,
    ClientConnectionError,
    UnexpectedResponseError,
    error_from_response,
)

if TYPE_CHECKING:
    from hyperfleet.client.api import HyperFleetClient

_GONE = 410
# Jitter only spreads reconnects out; it needs no cryptographic randomness.
_rng = random.Random()  # noqa: S311


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change: `type` (ADDED, MODIFIED, DELETED), the resource and the event id.

    `data` is the event's JSON exactly as the server sent it.
    """

    type: str
    object: dict[str, Any]
    id: str | None
    data: bytes = field(repr=False)


class WatchExpiredError(ApiError):
    """The server cannot resume the watch from the last event id (410): list again."""


@dataclass
class _Frame:
    id: str | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)


async def frames(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str | None, str | None, str]]:
    """SSE frames as (event id, event name, data) from a stream of lines; comments skipped."""
    frame = _Frame()
    async for line in lines:
        if not line:
            if frame.data:
                yield frame.id, frame.event, "\n".join(frame.data)
            frame = _Frame()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            frame.data.append(value)
        elif name == "id":
            frame.id = value
        elif name == "event":
            frame.event = value


def parse_event(event_id: str | None, name: str | None, data: str) -> WatchEvent:
    """A frame as a WatchEvent; an error frame raises (WatchExpiredError for 410)."""
    raw = data.encode()
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        raise UnexpectedResponseError(200, detail=f"watch: not a JSON event: {data[:200]!r}")
    obj = value.get("object")
    if name == "error" or value.get("type") == "ERROR":
        problem = obj if isinstance(obj, dict) else value
        status = int(problem.get("status") or _GONE)
        err = error_from_response(status, msgspec.json.encode(problem))
        if status == _GONE:
            raise WatchExpiredError(
                status,
                code=err.code,
                title=err.title,
                detail=err.detail,
                extensions=err.extensions,
                body=err.body,
            )
        raise err
    if not isinstance(obj, dict) or not isinstance(value.get("type"), str):
        raise UnexpectedResponseError(200, detail=f"watch: not a watch event: {data[:200]!r}")
    return WatchEvent(type=value["type"], object=obj, id=event_id, data=raw)


async def watch(
    client: HyperFleetClient,
    collection: str,
    *,
    search: str | None = None,
    last_event_id: str | None = None,
) -> AsyncIterator[WatchEvent]:
    """Every change to `collection` (matching `search`) from now, or after `last_event_id`."""
    attempt = 0
    while True:
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        try:
            async with client.stream(
                "GET", collection, params={"watch": "true", "search": search}, headers=headers
            ) as response:
                async for event_id, name, data in frames(response.aiter_lines()):
                    event = parse_event(event_id, name, data)
                    attempt = 0
                    if event.id is not None:
                        last_event_id = event.id
                    yield event
        except (ClientConnectionError, httpx.TransportError) as exc:
            attempt += 1
            if attempt >= client.retry.attempts:
                if isinstance(exc, ClientConnectionError):
                    raise
                raise ClientConnectionError(
                    f"{client.base_url}/{collection}", f"{type(exc).__name__}: {exc}"
                ) from exc
        else:
            attempt += 1  # the server ended the stream: reconnect and resume
        await asyncio.sleep(client.retry.delay(attempt, _rng))
