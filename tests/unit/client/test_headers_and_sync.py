"""Extra headers (parsing, what may not be sent, the wire) and the sync client's methods."""

from __future__ import annotations

import httpx
import pytest

from hyperfleet.client import HyperFleetClient, SyncHyperFleetClient
from hyperfleet.client.headers import (
    LOOP_HEADERS,
    header_setting,
    merged,
    parse_header,
    parse_headers,
)


def test_parse_header_strips_name_and_value():
    assert parse_header("  X-HyperFleet-Tenant :  acme ") == ("X-HyperFleet-Tenant", "acme")
    assert parse_header("X-Empty:") == ("X-Empty", "")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("no colon", "is not 'Name: value'"),
        ("Bad Name: x", "is not a valid HTTP field name"),
        (": x", "is not a valid HTTP field name"),
        ("Authorization: Bearer x", "is set by the client itself"),
        ("content-type: text/plain", "is set by the client itself"),
        ("X-A: one\r\nX-B: two", "must not contain line breaks"),
    ],
)
def test_bad_headers_are_refused(text: str, fragment: str):
    with pytest.raises(ValueError, match=fragment):
        parse_header(text)


def test_parse_headers_from_env_text_and_list():
    assert parse_headers("X-A: 1, X-B: 2,") == {"X-A": "1", "X-B": "2"}
    assert parse_headers(["X-A: 1", "x-a: 2"]) == {"x-a": "2"}


def test_merged_is_case_insensitive_and_the_later_wins():
    assert merged({"X-Tenant": "a", "X-Other": "o"}, [("x-tenant", "b")]) == {
        "X-Other": "o",
        "x-tenant": "b",
    }


def test_header_setting_accepts_yaml_forms():
    assert header_setting({"X-HyperFleet-System": True}) == {"X-HyperFleet-System": "true"}
    assert header_setting({"X-N": 3}) == {"X-N": "3"}
    assert header_setting(["X-A: 1"]) == {"X-A": "1"}
    assert header_setting("X-A: 1, X-B: 2") == {"X-A": "1", "X-B": "2"}
    assert header_setting({}) == {}
    with pytest.raises(ValueError, match="must map header names"):
        header_setting(5)
    with pytest.raises(ValueError, match="must not be empty"):
        header_setting({"X-A": None})


async def test_client_headers_go_with_every_request_and_a_request_header_wins():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "total": 0, "page": 1, "size": 0})

    headers = {"X-HyperFleet-Tenant": "acme", **LOOP_HEADERS}
    async with HyperFleetClient(
        "http://hf", transport=httpx.MockTransport(handler), headers=headers, token="t"
    ) as client:
        await client.list("clusters")
        await client.request("GET", "clusters", headers={"X-HyperFleet-Tenant": "other"})
    first, second = seen
    assert first.headers["x-hyperfleet-tenant"] == "acme"
    assert first.headers["x-hyperfleet-system"] == "true"
    assert first.headers["authorization"] == "Bearer t"
    assert second.headers["x-hyperfleet-tenant"] == "other"


def test_the_sync_client_passes_headers_on():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "total": 0, "page": 1, "size": 0})

    with SyncHyperFleetClient(
        "http://hf", transport=httpx.MockTransport(handler), headers={"X-A": "1"}
    ) as client:
        client.list("clusters")
    assert seen[0].headers["x-a"] == "1"


def test_an_invalid_client_header_fails_at_construction():
    with pytest.raises(ValueError, match="valid HTTP field name"):
        HyperFleetClient("http://hf", headers={"Bad Name": "x"})


def test_the_sync_client_has_every_call_of_the_async_one():
    import inspect

    from hyperfleet.client.sync import NOT_BLOCKING

    calls = {
        name
        for name, member in inspect.getmembers(HyperFleetClient)
        if not name.startswith("_")
        and (inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member))
    } | {"watch"}
    assert calls - NOT_BLOCKING <= set(dir(SyncHyperFleetClient))
    assert SyncHyperFleetClient.list.__doc__ == HyperFleetClient.list.__doc__
