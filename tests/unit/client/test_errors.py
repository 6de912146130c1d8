"""problem+json (and anything else) mapped to typed errors."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from hyperfleet.client import (
    ApiError,
    BadRequestError,
    ConflictError,
    FieldError,
    ForbiddenError,
    HyperFleetClient,
    NotFoundError,
    PreconditionFailedError,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnexpectedResponseError,
    UnprocessableError,
)
from hyperfleet.client.errors import error_class, error_from_response

PROBLEM = {
    "type": "https://api.hyperfleet.io/errors/validation-error",
    "title": "Validation Failed",
    "status": 400,
    "detail": "name must be at least 3 characters",
    "instance": "/api/hyperfleet/v1/clusters",
    "code": "HYPERFLEET-VAL-000",
    "trace_id": "t-1",
    "errors": [
        {"field": "name", "value": "c1", "constraint": "min_length", "message": "too short"},
        {"field": "spec.x", "message": "bad"},
    ],
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, UnauthorizedError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (405, ApiError),
        (409, ConflictError),
        (412, PreconditionFailedError),
        (418, ApiError),
        (422, UnprocessableError),
        (500, ServerError),
        (502, ServerError),
        (503, ServiceUnavailableError),
        (504, ServerError),
    ],
)
def test_status_to_class(status, cls):
    assert error_class(status) is cls
    err = error_from_response(status, b"")
    assert type(err) is cls
    assert err.status == status
    assert isinstance(err, ApiError)


def test_problem_members_and_extensions():
    body = msgspec.json.encode(PROBLEM | {"current_generation": 3, "blocked_by": ["dns"]})
    err = error_from_response(400, body)
    assert isinstance(err, BadRequestError)
    assert err.code == "HYPERFLEET-VAL-000"
    assert err.title == "Validation Failed"
    assert err.detail == "name must be at least 3 characters"
    assert err.errors == [
        FieldError("name", "too short", "min_length"),
        FieldError("spec.x", "bad", None),
    ]
    assert err.extensions == {
        "type": PROBLEM["type"],
        "status": 400,
        "instance": PROBLEM["instance"],
        "trace_id": "t-1",
        "current_generation": 3,
        "blocked_by": ["dns"],
    }
    assert err.body == body
    assert str(err) == (
        "HYPERFLEET-VAL-000: name must be at least 3 characters [name: too short; spec.x: bad]"
    )
    assert "\n" not in str(err)


def test_problem_without_errors_is_one_short_line():
    body = msgspec.json.encode(
        {"code": "HYPERFLEET-CNF-001", "detail": "This Cluster already exists"}
    )
    assert str(error_from_response(409, body)) == "HYPERFLEET-CNF-001: This Cluster already exists"


def test_non_json_body_gives_status_and_text_detail():
    err = error_from_response(502, b"<html>\n  Bad   Gateway\n</html>", reason="Bad Gateway")
    assert isinstance(err, ServerError)
    assert err.code is None
    assert err.detail == "<html> Bad Gateway </html>"
    assert str(err) == "HTTP 502: <html> Bad Gateway </html>"
    assert err.errors == []
    assert err.extensions == {}


def test_empty_or_non_object_body_falls_back():
    assert error_from_response(503, b"", reason="Service Unavailable").detail == (
        "Service Unavailable"
    )
    assert error_from_response(400, b"[1, 2]").detail == "[1, 2]"
    long = error_from_response(500, b"x" * 10_000)
    assert len(long.detail) <= 500


def test_malformed_members_are_ignored_not_fatal():
    body = msgspec.json.encode(
        {"code": 7, "title": None, "detail": ["?"], "errors": [{"field": "a"}, "junk"]}
    )
    err = error_from_response(400, body, reason="Bad Request")
    assert err.code is None
    assert err.title is None
    assert err.detail == "Bad Request"
    assert err.errors == [FieldError("a", "", None)]


async def test_client_maps_a_plain_text_answer():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="upstream gone", headers={"content-type": "text/plain"})

    transport = httpx.MockTransport(handler)
    async with HyperFleetClient(
        "http://hf", transport=transport, retry=RetryPolicy(attempts=1)
    ) as client:
        with pytest.raises(ServerError) as info:
            await client.get("clusters", "c1")
    assert info.value.status == 502
    assert info.value.detail == "upstream gone"
    assert info.value.body == b"upstream gone"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>login page</html>"),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"items": "nope"}),
        httpx.Response(200, json={"items": [], "next_cursor": 7}),
    ],
)
async def test_a_success_that_is_not_the_api_is_unexpected(answer):
    def handler(request: httpx.Request) -> httpx.Response:
        return answer

    async with HyperFleetClient("http://hf", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(UnexpectedResponseError) as info:
            await client.list("clusters")
    assert info.value.status == 200
    assert "http://hf/api/hyperfleet/v1/clusters" in info.value.detail
    assert info.value.body == answer.content


async def test_get_of_a_non_object_is_unexpected():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="ok")

    async with HyperFleetClient("http://hf", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(UnexpectedResponseError):
            await client.get("clusters", "c1")
        with pytest.raises(UnexpectedResponseError):
            await client.api_info()


async def test_a_repeated_cursor_stops_iteration_with_an_error():
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"page": 1, "size": 1, "total": 9, "items": [{"id": "x"}], "next_cursor": "same"}
        return httpx.Response(200, json=body)

    seen: list[object] = []

    async def walk(client: HyperFleetClient) -> None:
        async for item in client.iterate("clusters"):
            seen.append(item)  # noqa: PERF401 - the error interrupts the loop

    async with HyperFleetClient("http://hf", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(UnexpectedResponseError, match="repeated cursor"):
            await walk(client)
    assert len(seen) == 2
