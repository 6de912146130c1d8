"""Retry policy: the backoff computation as a pure function, and which calls are retried
(httpx.MockTransport stands in for the network; no timing assertions)."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest
import structlog.testing
from tests.conftest import free_port

from hyperfleet.client import (
    ClientConnectionError,
    HyperFleetClient,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
)
from hyperfleet.client.retry import backoff_cap, may_retry

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)
PROBLEM_503 = {"code": "HYPERFLEET-SVC-001", "title": "Service Unavailable", "detail": "db down"}
CLUSTER = {"id": "c1", "kind": "Cluster", "name": "abc"}

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and records every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def unavailable() -> httpx.Response:
    return httpx.Response(
        503, json=PROBLEM_503, headers={"content-type": "application/problem+json"}
    )


def client_for(handler: Handler, retry: RetryPolicy = FAST) -> HyperFleetClient:
    return HyperFleetClient("http://hf", retry=retry, transport=httpx.MockTransport(handler))


# -- the delay computation -----------------------------------------------------------------


def test_backoff_cap_doubles_up_to_max_delay():
    policy = RetryPolicy(attempts=10, base_delay=0.2, max_delay=5.0)
    caps = [backoff_cap(policy, n) for n in range(1, 9)]
    assert caps == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert backoff_cap(policy, 10_000) == 5.0


def test_delay_is_full_jitter_within_the_cap():
    policy = RetryPolicy(attempts=10, base_delay=0.2, max_delay=5.0)
    rng = random.Random(1234)
    delays = [policy.delay(n, rng) for n in range(1, 50)]
    for n, delay in enumerate(delays, start=1):
        assert 0.0 <= delay <= backoff_cap(policy, n)
    assert max(delays) <= policy.max_delay
    # Jittered: not the cap itself, and spread over the range.
    late = delays[10:]
    assert len(set(late)) == len(late)
    assert min(late) < 2.5 < max(late)
    # Deterministic for a seed.
    again = random.Random(1234)
    assert [policy.delay(n, again) for n in range(1, 50)] == delays


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base_delay=-1)


def test_only_idempotent_methods_may_retry():
    assert all(may_retry(m) for m in ("GET", "put", "DELETE", "HEAD"))
    assert not any(may_retry(m) for m in ("POST", "PATCH", "post"))


# -- which calls are retried ---------------------------------------------------------------


async def test_get_503_then_200_is_retried_and_logged():
    handler = Recorder(unavailable(), httpx.Response(200, json=CLUSTER))
    transport = httpx.MockTransport(handler)
    async with HyperFleetClient(
        "http://hf", token="s3cret", retry=FAST, transport=transport
    ) as client:
        with structlog.testing.capture_logs() as logs:
            assert await client.get("clusters", "c1") == CLUSTER
    assert len(handler.requests) == 2
    [entry] = logs
    assert entry["event"] == "API call retried"
    assert entry["reason"] == "HTTP 503"
    assert entry["url"] == "http://hf/api/hyperfleet/v1/clusters/c1"
    assert entry["attempt"] == 1
    assert 0 <= entry["delay_s"] <= FAST.max_delay
    assert "s3cret" not in repr(entry)


async def test_get_503_every_time_raises_after_attempts():
    handler = Recorder(unavailable())
    async with client_for(handler) as client:
        with pytest.raises(ServiceUnavailableError) as info:
            await client.get("clusters", "c1")
    assert len(handler.requests) == FAST.attempts
    assert info.value.code == "HYPERFLEET-SVC-001"
    assert isinstance(info.value, ServerError)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_put_and_delete_are_retried_on_connection_errors(method):
    handler = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json=CLUSTER))
    async with client_for(handler) as client:
        response = await client.request(method, "clusters/c1", json={})
    assert response.status_code == 200
    assert len(handler.requests) == 2
    assert handler.requests[0].content == handler.requests[1].content


async def test_read_timeout_on_get_is_retried():
    handler = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json=CLUSTER))
    async with client_for(handler) as client:
        assert await client.get("clusters", "c1") == CLUSTER
    assert len(handler.requests) == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_post_and_patch_are_never_retried_on_503(method):
    handler = Recorder(unavailable(), httpx.Response(200, json=CLUSTER))
    async with client_for(handler) as client:
        with pytest.raises(ServiceUnavailableError):
            await client.request(method, "clusters", json={"name": "abc"})
    assert len(handler.requests) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_post_and_patch_are_never_retried_on_transport_errors(method):
    handler = Recorder(httpx.ReadTimeout("lost"), httpx.Response(200, json=CLUSTER))
    async with client_for(handler) as client:
        with pytest.raises(ClientConnectionError) as info:
            await client.request(method, "clusters", json={"name": "abc"})
    assert len(handler.requests) == 1
    assert info.value.attempts == 1


async def test_create_and_patch_methods_send_one_request_each():
    handler = Recorder(unavailable())
    async with client_for(handler) as client:
        with pytest.raises(ServiceUnavailableError):
            await client.create("clusters", {"name": "abc"})
        with pytest.raises(ServiceUnavailableError):
            await client.patch("clusters", "c1", {"spec": {}})
        with pytest.raises(ServiceUnavailableError):
            await client.force_delete("clusters", "c1", "why")
    assert [r.method for r in handler.requests] == ["POST", "PATCH", "POST"]


async def test_other_5xx_is_not_retried():
    handler = Recorder(httpx.Response(500, json={"code": "HYPERFLEET-INT-001", "detail": "bug"}))
    async with client_for(handler) as client:
        with pytest.raises(ServerError) as info:
            await client.get("clusters", "c1")
    assert not isinstance(info.value, ServiceUnavailableError)
    assert len(handler.requests) == 1


async def test_connection_errors_exhaust_attempts_via_mock():
    handler = Recorder(httpx.ConnectError("refused"))
    async with client_for(handler) as client:
        with pytest.raises(ClientConnectionError) as info:
            await client.get("clusters", "c1")
    assert len(handler.requests) == FAST.attempts
    assert info.value.attempts == FAST.attempts
    assert info.value.url == "http://hf/api/hyperfleet/v1/clusters/c1"


async def test_connection_refused_on_a_closed_port_names_the_url():
    port = free_port()  # bound then released: nothing listens there
    async with HyperFleetClient(f"http://127.0.0.1:{port}", retry=FAST) as client:
        with pytest.raises(ClientConnectionError) as info:
            await client.list("clusters", size=5)
    err = info.value
    assert err.url == f"http://127.0.0.1:{port}/api/hyperfleet/v1/clusters?size=5"
    assert err.attempts == FAST.attempts
    assert err.url in str(err)
    assert "3 attempts" in str(err)
    assert isinstance(err.__cause__, httpx.ConnectError)


async def test_token_is_asked_again_on_every_attempt():
    tokens = iter(["t1", "t2"])
    handler = Recorder(unavailable(), httpx.Response(200, json=CLUSTER))
    transport = httpx.MockTransport(handler)
    async with HyperFleetClient(
        "http://hf", token=lambda: next(tokens), retry=FAST, transport=transport
    ) as client:
        await client.get("clusters", "c1")
    assert [r.headers["authorization"] for r in handler.requests] == ["Bearer t1", "Bearer t2"]


async def test_a_non_transient_transport_error_is_not_retried():
    handler = Recorder(httpx.ProxyError("proxy refused the tunnel"))
    async with client_for(handler) as client:
        with pytest.raises(ClientConnectionError) as info:
            await client.get("clusters", "c1")
    assert len(handler.requests) == 1
    assert info.value.attempts == 1
    assert "ProxyError" in str(info.value)
