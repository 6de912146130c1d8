"""What the client puts on the wire: URL, headers, tokens, query parameters, paging."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import msgspec
import pytest

from hyperfleet import __version__
from hyperfleet.client import HyperFleetClient, SyncHyperFleetClient, TokenFile

CLUSTER = {"id": "c1", "kind": "Cluster", "name": "abc"}


class Recorder:
    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.answer = answer or httpx.Response(200, json=CLUSTER)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer


def client_for(handler: Recorder, base: str = "http://hf", **kwargs) -> HyperFleetClient:
    return HyperFleetClient(base, transport=httpx.MockTransport(handler), **kwargs)


async def test_default_and_custom_user_agent():
    handler = Recorder()
    async with client_for(handler) as client:
        await client.get("clusters", "c1")
    async with client_for(handler, user_agent="sentinel/1.0") as client:
        await client.get("clusters", "c1")
    agents = [r.headers["user-agent"] for r in handler.requests]
    assert agents == [f"hyperfleet-client/{__version__}", "sentinel/1.0"]


async def test_json_body_and_headers():
    handler = Recorder(httpx.Response(201, json=CLUSTER))
    async with client_for(handler) as client:
        await client.create("clusters", {"kind": "Cluster", "name": "abc"})
        await client.patch("clusters", "c1", {"labels": {}}, if_match='"2-5"')
    post, patch = handler.requests
    assert post.method == "POST"
    assert post.url.path == "/api/hyperfleet/v1/clusters"
    assert post.headers["content-type"] == "application/json"
    assert msgspec.json.decode(post.content) == {"kind": "Cluster", "name": "abc"}
    assert "if-match" not in post.headers
    assert patch.headers["if-match"] == '"2-5"'
    assert "authorization" not in post.headers


async def test_static_token():
    handler = Recorder()
    async with client_for(handler, token="s3cret") as client:
        await client.get("clusters", "c1")
    assert handler.requests[0].headers["authorization"] == "Bearer s3cret"


async def test_callable_token_is_asked_per_request():
    handler = Recorder()
    tokens = iter(["a", None, "b"])
    async with client_for(handler, token=lambda: next(tokens)) as client:
        for _ in range(3):
            await client.get("clusters", "c1")
    sent = [r.headers.get("authorization") for r in handler.requests]
    assert sent == ["Bearer a", None, "Bearer b"]


def test_token_file_rereads_after_the_file_changes(tmp_path: Path):
    path = tmp_path / "token"
    path.write_text("first\n")
    token = TokenFile(path)
    assert token() == "first"
    assert token() == "first"
    path.write_text("second-token\n")
    # Make the change visible even on a filesystem with coarse mtimes.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert token() == "second-token"
    path.unlink()
    assert token() == "second-token"  # a rotation in progress keeps the last token


def test_token_file_missing_before_first_read_raises(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        TokenFile(tmp_path / "absent")()


async def test_token_file_as_client_token(tmp_path: Path):
    path = tmp_path / "token"
    path.write_text("from-file")
    handler = Recorder()
    async with client_for(handler, token=TokenFile(path)) as client:
        await client.get("clusters", "c1")
    assert handler.requests[0].headers["authorization"] == "Bearer from-file"


async def test_ids_are_quoted_and_base_path_is_kept():
    handler = Recorder()
    async with client_for(handler, base="http://proxy.local/hf/") as client:
        await client.get("clusters", "a/b?c")
        await client.api_info()
    assert handler.requests[0].url.raw_path == b"/hf/api/hyperfleet/v1/clusters/a%2Fb%3Fc"
    assert handler.requests[1].url.path == "/hf/api/hyperfleet"


async def test_get_href_uses_only_the_path():
    handler = Recorder()
    async with client_for(handler) as client:
        await client.get_href("http://attacker.example:8443/api/hyperfleet/v1/clusters/c1?x=1")
        await client.get_href("/api/hyperfleet/v1/clusters/c2")
        await client.get_href("clusters/c3")
    urls = [str(r.url) for r in handler.requests]
    assert urls == [
        "http://hf/api/hyperfleet/v1/clusters/c1",
        "http://hf/api/hyperfleet/v1/clusters/c2",
        "http://hf/api/hyperfleet/v1/clusters/c3",
    ]


async def test_get_href_refuses_dot_segments():
    handler = Recorder()
    async with client_for(handler) as client:
        for href in ("/api/hyperfleet/v1/../../metrics", "http://x/api/hyperfleet/v1/./c1"):
            with pytest.raises(ValueError, match="not a resource path"):
                await client.get_href(href)
    assert handler.requests == []


async def test_list_query_parameters():
    handler = Recorder(httpx.Response(200, json={"page": 2, "size": 0, "total": 0, "items": []}))
    async with client_for(handler) as client:
        await client.list(
            "clusters",
            search="labels.env = 'x'",
            page=2,
            size=10,
            order=["name asc", "id"],
            fields=("name", "spec"),
        )
        await client.list("clusters")
    first, bare = handler.requests
    assert dict(first.url.params) == {
        "search": "labels.env = 'x'",
        "page": "2",
        "size": "10",
        "order": "name asc,id",
        "fields": "name,spec",
    }
    assert not bare.url.params


def _envelope(items: list[int], total: int, **extra: object) -> httpx.Response:
    body = {"page": 1, "size": len(items), "total": total, "items": [{"id": str(i)} for i in items]}
    return httpx.Response(200, json=body | extra)


class CursorServer:
    """Three cursor pages: first (no cursor), then 'p2', then 'p3' with next_cursor null."""

    def __init__(self) -> None:
        self.pages = {None: ([1, 2], "p2"), "p2": ([3, 4], "p3"), "p3": ([5], None)}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        items, following = self.pages[request.url.params.get("cursor")]
        return _envelope(items, 5, next_cursor=following)


async def test_iterate_follows_cursors():
    server = CursorServer()
    async with HyperFleetClient("http://hf", transport=httpx.MockTransport(server)) as client:
        ids = [r["id"] async for r in client.iterate("clusters", size=2, search="a = 'b'")]
    assert ids == ["1", "2", "3", "4", "5"]
    params = [dict(r.url.params) for r in server.requests]
    assert params == [
        {"search": "a = 'b'", "size": "2"},
        {"search": "a = 'b'", "size": "2", "cursor": "p2"},
        {"search": "a = 'b'", "size": "2", "cursor": "p3"},
    ]


async def test_list_exposes_next_cursor():
    server = CursorServer()
    async with HyperFleetClient("http://hf", transport=httpx.MockTransport(server)) as client:
        page = await client.list("clusters", size=2)
        assert page.next_cursor == "p2"
        last = await client.list("clusters", cursor="p3")
    assert last.next_cursor is None
    assert [i["id"] for i in last.items] == ["5"]


async def test_iterate_by_page_stops_on_an_empty_page():
    # `total` claims more than the server ever returns (rows deleted meanwhile).
    answers = {"1": _envelope([1, 2], 9), "2": _envelope([3], 9), "3": _envelope([], 9)}
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers[request.url.params.get("page", "1")]

    async with HyperFleetClient("http://hf", transport=httpx.MockTransport(handler)) as client:
        ids = [r["id"] async for r in client.iterate("clusters", size=2)]
    assert ids == ["1", "2", "3"]
    assert [r.url.params.get("page") for r in requests] == [None, "2", "3"]


def test_sync_client_iterates_and_closes_early():
    server = CursorServer()
    with SyncHyperFleetClient("http://hf", transport=httpx.MockTransport(server)) as client:
        assert [r["id"] for r in client.iterate("clusters", size=2)] == ["1", "2", "3", "4", "5"]
        items = client.iterate("clusters", size=2)
        assert next(items)["id"] == "1"
        items.close()  # closes the async generator on the private loop
        assert client.list("clusters", cursor="p3").items == [{"id": "5"}]
    client.close()  # idempotent
