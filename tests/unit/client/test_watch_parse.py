"""The watch stream's Server-Sent Events: frames, comments, ids, events and error events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hyperfleet.client import ApiError, UnexpectedResponseError, WatchExpiredError
from hyperfleet.client.watch import frames, parse_event


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def collect(*items: str) -> list[tuple[str | None, str | None, str]]:
    return [frame async for frame in frames(lines(*items))]


async def test_frames_join_data_lines_and_skip_comments_and_empty_frames():
    got = await collect(
        ": heartbeat",
        "",
        "id: 7",
        'data: {"type": "ADDED",',
        'data: "object": {"id": "a"}}',
        "",
        "retry: 1000",
        "",
        "event: error",
        "id:8",
        "data:{}",
        "",
        "data: unterminated",  # no blank line: not dispatched
    )
    assert got == [
        ("7", None, '{"type": "ADDED",\n"object": {"id": "a"}}'),
        ("8", "error", "{}"),
    ]


def test_parse_event_keeps_the_data_exactly():
    data = '{"type":"MODIFIED","object":{"id":"a","generation":2}}'
    event = parse_event("12", None, data)
    assert event.type == "MODIFIED"
    assert event.object == {"id": "a", "generation": 2}
    assert event.id == "12"
    assert event.data == data.encode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("error", '{"status": 410, "code": "HYPERFLEET-GON-001", "detail": "too old"}'),
        (None, '{"type": "ERROR", "object": {"status": 410, "detail": "too old"}}'),
    ],
)
def test_a_410_error_event_means_list_again(name: str | None, data: str):
    with pytest.raises(WatchExpiredError) as info:
        parse_event("3", name, data)
    assert info.value.status == 410
    assert info.value.detail == "too old"


def test_other_error_events_are_api_errors():
    with pytest.raises(ApiError) as info:
        parse_event(None, "error", '{"status": 400, "code": "HYPERFLEET-VAL-005", "detail": "x"}')
    assert info.value.status == 400
    assert not isinstance(info.value, WatchExpiredError)


@pytest.mark.parametrize("data", ["not json", "[1]", '{"type": "ADDED"}', '{"object": {}}'])
def test_malformed_events_are_unexpected_responses(data: str):
    with pytest.raises(UnexpectedResponseError):
        parse_event(None, None, data)
