"""`?watch=true` on list routes: the watch stream as Server-Sent Events (docs/watch.md).

Each change is `id: <seq>`, `event: <type>` and one `data:` line holding
`{"type": ..., "object": <resource>}`; idle streams get a `: heartbeat` comment; a stream that
cannot go on ends with `event: error` whose object is the problem (410). The response watches
for the client's disconnect itself, so a vanished watcher is dropped at once, not at the next
write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hyperfleet.domain.search import parse_search
from hyperfleet.errors import HyperFleetError, ValidationFailed, Violation, WatchExpired
from hyperfleet.rest.problems import render_problem
from hyperfleet.services.watch import WatchEvent, WatchFilter, WatchService

EVENT_STREAM = "text/event-stream"
CHANGE_SEQ_HEADER = "X-Hyperfleet-Change-Seq"
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0", ""})


def wants_watch(request: Request) -> bool:
    """The `watch` query parameter as a boolean; anything but true/false is a 400."""
    raw = request.query_params.get("watch")
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationFailed(
        "Invalid query parameters",
        violations=[Violation.with_value("watch", "must be true or false", raw, "format")],
    )


def last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not text.isdigit() or len(text) > 19:  # noqa: PLR2004 - a bigint has at most 19 digits
        raise ValidationFailed(
            "Invalid Last-Event-ID",
            violations=[
                Violation.with_value("Last-Event-ID", "must be an event id", raw, "format")
            ],
        )
    return int(text)


def frame(event: WatchEvent) -> bytes:
    data = b'{"type":"' + event.type.encode() + b'","object":' + event.object + b"}"
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, event.type.encode(), data)


def error_frame(error: HyperFleetError, path: str, request_id: str) -> bytes:
    _, _, problem = render_problem(error, instance=path, trace_id=request_id)
    return b'event: error\ndata: {"type":"ERROR","object":' + problem + b"}\n\n"


HEARTBEAT_FRAME = b": heartbeat\n\n"


class EventStreamResponse(Response):
    """Streams `chunks`; ends (and closes the iterator) when the client disconnects."""

    media_type = EVENT_STREAM

    def __init__(self, chunks: AsyncIterator[bytes], headers: dict[str, str]) -> None:
        super().__init__(status_code=200, headers=headers, media_type=EVENT_STREAM)
        # A stream has no length: chunked transfer, as StreamingResponse does.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._chunks = chunks

    async def __call__(self, _scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})

        async def pump() -> None:
            async for chunk in self._chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(disconnected())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and isinstance(task.exception(), OSError):
                    return  # the client went away mid-write
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                await aclose()


async def _chunks(
    service: WatchService, watch: WatchFilter, after: int | None, path: str, request_id: str
) -> AsyncIterator[bytes]:
    # A first comment flushes the headers through buffering proxies at once.
    yield b": watching\n\n"
    try:
        async for event in service.events(watch, last_event_id=after):
            yield HEARTBEAT_FRAME if event is None else frame(event)
    except WatchExpired as exc:
        yield error_frame(exc, path, request_id)
    except HyperFleetError as exc:
        yield error_frame(exc, path, request_id)


async def watch_response(
    request: Request,
    service: WatchService,
    *,
    kind: str | None,
    owner_id: str | None,
    tenant: tuple[tuple[str, str], ...] | None = None,
) -> Response:
    """The watch stream for one list route (kind and parent already checked by the caller).

    `tenant` is the tenancy map (as sorted items) the watcher sees, None for every tenant.
    """
    search = parse_search(request.query_params.get("search") or "")
    watch = WatchFilter(kind, owner_id, search, tenant)
    after = last_event_id(request)
    if not service.feed.ready.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await service.feed.ready.wait()
    request_id = getattr(request.state, "request_id", "")
    headers = {
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        "Vary": "Authorization",
    }
    position = service.position()
    if position is not None:
        headers[CHANGE_SEQ_HEADER] = str(position)
    return EventStreamResponse(
        _chunks(service, watch, after, request.url.path, request_id), headers
    )
