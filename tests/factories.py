"""Small helpers for API tests: create resources, send adapter reports, check problem bodies.

Every helper talks to the app only through the HTTP client, so tests exercise the same paths as
real callers. Names are unique per process so tests never collide inside one database.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

API = "/api/hyperfleet/v1"
SYSTEM_ACTOR = "system@hyperfleet.local"
TYPE_BASE = "https://api.hyperfleet.io/errors/"

CLUSTER_ADAPTERS = ("validation", "dns", "pullsecret", "hypershift")
NODEPOOL_ADAPTERS = ("validation", "hypershift")

UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# code -> (title, type suffix), reference-api.md §7.4
PROBLEM_KINDS: dict[str, tuple[str, str]] = {
    "HYPERFLEET-VAL-000": ("Validation Failed", "validation-error"),
    "HYPERFLEET-VAL-005": ("Bad Request", "bad-request"),
    "HYPERFLEET-VAL-006": ("Malformed Request", "malformed-request"),
    "HYPERFLEET-NTF-000": ("Endpoint Not Found", "not-found"),
    "HYPERFLEET-NTF-001": ("Resource Not Found", "not-found"),
    "HYPERFLEET-CNF-001": ("Resource Conflict", "conflict"),
    "HYPERFLEET-CNF-003": ("State Conflict", "conflict"),
}

_seq = itertools.count(1)


def unique_name(prefix: str = "cl") -> str:
    """A valid, process-unique resource name (short enough for a NodePool: ≤ 15 chars)."""
    return f"{prefix}-{next(_seq)}"


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    assert RFC3339_RE.match(value), value
    return datetime.fromisoformat(value)


# -- resources ------------------------------------------------------------------------------


def cluster_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Cluster", "name": unique_name("cl"), "spec": {}}
    body.update(overrides)
    return body


def nodepool_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "NodePool", "name": unique_name("np"), "spec": {}}
    body.update(overrides)
    return body


async def create_cluster(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """POST /clusters and return the 201 body (fails the test otherwise)."""
    r = await client.post(f"{API}/clusters", json=cluster_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


async def create_nodepool(
    client: httpx.AsyncClient, cluster_id: str, **overrides: Any
) -> dict[str, Any]:
    """POST /clusters/{cluster_id}/nodepools and return the 201 body."""
    r = await client.post(f"{API}/clusters/{cluster_id}/nodepools", json=nodepool_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


async def create_kind(
    client: httpx.AsyncClient, collection: str, kind: str, **overrides: Any
) -> dict[str, Any]:
    """POST to any collection path (e.g. "/widgets") with `kind` and a unique name."""
    body: dict[str, Any] = {"kind": kind, "name": unique_name(kind.lower()[:2]), "spec": {}}
    body.update(overrides)
    r = await client.post(f"{API}{collection}", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    return await client.get(path if path.startswith("/api/") else f"{API}{path}")


async def delete(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    r = await client.delete(path if path.startswith("/api/") else f"{API}{path}")
    assert r.status_code == 202, r.text
    return r.json()


def condition(resource: Mapping[str, Any], type_: str) -> dict[str, Any]:
    conds = [c for c in resource["status"]["conditions"] if c["type"] == type_]
    assert len(conds) == 1, (type_, resource["status"])
    return conds[0]


# -- adapter reports ------------------------------------------------------------------------


def report_body(
    adapter: str,
    generation: int,
    *,
    available: str = "True",
    applied: str = "True",
    health: str = "True",
    finalized: str | None = None,
    extra: Iterable[Mapping[str, Any]] = (),
    observed_time: str | None = None,
) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [
        {"type": "Available", "status": available, "reason": "Checked", "message": "ok"},
        {"type": "Applied", "status": applied, "reason": "Applied"},
        {"type": "Health", "status": health, "reason": "Healthy"},
    ]
    if finalized is not None:
        conditions.append({"type": "Finalized", "status": finalized, "reason": "Cleaned"})
    conditions.extend(dict(c) for c in extra)
    return {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": observed_time or now_rfc3339(),
        "conditions": conditions,
    }


async def report(
    client: httpx.AsyncClient, path: str, adapter: str, generation: int, **conditions: Any
) -> httpx.Response:
    """PUT {path}/statuses (path is the resource path, with or without the API prefix)."""
    base = path if path.startswith("/api/") else f"{API}{path}"
    return await client.put(f"{base}/statuses", json=report_body(adapter, generation, **conditions))


async def finalize(
    client: httpx.AsyncClient,
    path: str,
    adapters: Iterable[str],
    generation: int,
    *,
    available: str = "True",
) -> None:
    """Every adapter reports Finalized=True at `generation`; each PUT must be accepted (201)."""
    for adapter in adapters:
        r = await report(client, path, adapter, generation, available=available, finalized="True")
        assert r.status_code == 201, r.text


# -- assertions -----------------------------------------------------------------------------


def assert_json(r: httpx.Response, status: int) -> Any:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == "application/json", r.headers
    assert r.headers.get("x-request-id"), r.headers
    return r.json()


def assert_problem(
    r: httpx.Response,
    status: int,
    code: str,
    detail: str | None = None,
    *,
    detail_contains: Iterable[str] = (),
    fields: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Check an RFC 9457 body: content type, type/title per code, status, code, detail,
    instance (= request path), trace_id (= X-Request-ID), timestamp, and errors[].field.
    """
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == "application/problem+json", r.headers
    body = r.json()
    assert body["status"] == status
    assert body["code"] == code
    if code in PROBLEM_KINDS:
        title, slug = PROBLEM_KINDS[code]
        assert body["title"] == title
        assert body["type"] == TYPE_BASE + slug
    else:
        assert body["type"].startswith(TYPE_BASE)
        assert body["title"]
    if detail is not None:
        assert body["detail"] == detail
    for fragment in detail_contains:
        assert fragment in body["detail"], (fragment, body["detail"])
    assert body["instance"] == (r.request.url.path.rstrip("/") or "/")
    request_id = r.headers.get("x-request-id")
    assert request_id
    assert body["trace_id"] == request_id
    assert RFC3339_RE.match(body["timestamp"]), body["timestamp"]
    if fields is not None:
        assert [e["field"] for e in body.get("errors", [])] == list(fields), body
    return body
