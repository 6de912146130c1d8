"""The JSON access line: one write per event-loop turn, each line complete JSON."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from hyperfleet.logs import _JsonAccessLine


class _Stdout(io.TextIOWrapper):
    """A text stream over a byte buffer that counts the writes reaching the buffer."""

    def __init__(self) -> None:
        self.raw_buffer = _CountingBuffer()
        super().__init__(self.raw_buffer, encoding="utf-8")


class _CountingBuffer(io.BytesIO):
    writes = 0

    def write(self, data):  # type: ignore[no-untyped-def]
        self.writes += 1
        return super().write(data)


def _line() -> tuple[_Stdout, _JsonAccessLine]:
    out = _Stdout()
    return out, _JsonAccessLine(out, level=logging.INFO, static={"component": "api"})


def test_lines_of_one_loop_turn_are_written_together():
    out, access = _line()

    async def three_requests() -> int:
        for status in (200, 404, 503):
            access("GET", '/p"q', status, 1.5, "rid")
        pending = out.raw_buffer.writes
        await asyncio.sleep(0)  # the next turn
        return pending

    assert asyncio.run(three_requests()) == 0
    assert out.raw_buffer.writes == 1
    lines = [json.loads(x) for x in out.raw_buffer.getvalue().splitlines()]
    assert [x["status_code"] for x in lines] == [200, 404, 503]
    assert [x["level"] for x in lines] == ["info", "info", "error"]
    assert lines[0]["path"] == '/p"q'
    assert lines[0]["component"] == "api"
    assert lines[0]["timestamp"].endswith("Z")


def test_outside_an_event_loop_a_line_is_written_at_once():
    out, access = _line()
    access("GET", "/", 200, 0.25, "rid")
    assert json.loads(out.raw_buffer.getvalue())["duration_ms"] == 0.25


def test_each_event_loop_flushes_its_own_lines():
    out, access = _line()

    async def one_request(path: str) -> None:
        access("GET", path, 200, 1.0, "rid")
        await asyncio.sleep(0)

    asyncio.run(one_request("/a"))
    asyncio.run(one_request("/b"))
    assert out.raw_buffer.writes == 2
    assert [json.loads(x)["path"] for x in out.raw_buffer.getvalue().splitlines()] == ["/a", "/b"]
