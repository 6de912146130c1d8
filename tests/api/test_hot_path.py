"""The per-request features the hot path keeps: the access line, the query-duration metric,
routing semantics of the one-route path table, and the status write's index maintenance."""

from __future__ import annotations

import json

import pytest
import structlog
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from tests.factories import API, create_cluster, create_nodepool, report, report_body

from hyperfleet.config import LoggingSettings
from hyperfleet.logs import configure_logging
from hyperfleet.rest.app import create_app


async def test_query_duration_metric_counts_statements_by_operation_and_table(client):
    cluster = await create_cluster(client)
    assert (await client.get(f"{API}/clusters/{cluster['id']}")).status_code == 200
    assert (await report(client, f"/clusters/{cluster['id']}", "validation", 1)).status_code == 201
    text = (await client.get("/metrics")).text
    counts = {
        line.split("{", 1)[1].split("}", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("hyperfleet_db_query_duration_seconds_count{")
    }
    select = 'component="api",operation="select",table="resources",version="0.1.0"'
    insert = 'component="api",operation="insert",table="resources",version="0.1.0"'
    update = 'component="api",operation="update",table="resources",version="0.1.0"'
    assert counts[select] >= 2  # the GET and the report's read
    assert counts[insert] >= 1  # the POST
    assert counts[update] >= 1  # the report's one write statement (a CTE led by the UPDATE)
    assert "hyperfleet_db_query_duration_seconds_bucket{" in text
    assert 'le="0.001"' in text


async def test_access_line_in_json_has_every_field(settings, database_url, capsys):
    saved = structlog.get_config()
    try:
        configure_logging(LoggingSettings(level="info", format="json"))
        app = create_app(settings, database_url=database_url)
        async with LifespanManager(app) as manager:
            transport = ASGITransport(app=manager.app)
            async with AsyncClient(transport=transport, base_url="http://hf") as c:
                r = await c.get(f"{API}/clusters/00000000-0000-0000-0000-000000000000")
                ok = await c.get("/healthz")
    finally:
        structlog.configure(**saved)
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    access = [x for x in lines if x.get("event") == "HTTP request completed"]
    assert [x["status_code"] for x in access] == [404, 200]
    first = access[0]
    assert first["request_id"] == r.headers["x-request-id"]
    assert access[1]["request_id"] == ok.headers["x-request-id"]
    assert first["method"] == "GET"
    assert first["path"] == f"{API}/clusters/00000000-0000-0000-0000-000000000000"
    assert first["level"] == "info"
    assert first["component"] == "api"
    assert isinstance(first["duration_ms"], float)
    assert {"version", "hostname", "timestamp"} <= set(first)
    assert first["timestamp"].endswith("Z")


async def test_access_line_at_warning_level_is_dropped(settings, database_url, capsys):
    saved = structlog.get_config()
    try:
        configure_logging(LoggingSettings(level="warning", format="json"))
        app = create_app(settings, database_url=database_url)
        async with LifespanManager(app) as manager:
            transport = ASGITransport(app=manager.app)
            async with AsyncClient(transport=transport, base_url="http://hf") as c:
                assert (await c.get("/healthz")).status_code == 200
    finally:
        structlog.configure(**saved)
    assert "HTTP request completed" not in capsys.readouterr().out


async def test_nested_and_flat_routes_share_one_table(client):
    cluster = await create_cluster(client)
    pool = await create_nodepool(client, cluster["id"])
    nested = await client.get(f"{API}/clusters/{cluster['id']}/nodepools/{pool['id']}")
    assert nested.status_code == 200
    assert nested.json()["id"] == pool["id"]
    # The literal `statuses` after a cluster id is the status route, not a child collection.
    statuses = await client.get(f"{API}/clusters/{cluster['id']}/statuses")
    assert statuses.status_code == 200
    assert statuses.json()["items"] == []
    assert (await client.head(f"{API}/clusters/{cluster['id']}")).status_code == 200
    text = (await client.get("/metrics")).text
    assert 'path="/api/hyperfleet/v1/clusters/-/nodepools/-"' in text
    assert 'path="/api/hyperfleet/v1/clusters/-/statuses"' in text


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/clusters", "GET, POST"),
        ("POST", "/clusters/00000000-0000-0000-0000-000000000000", "DELETE, GET, PATCH"),
        ("GET", "/clusters/00000000-0000-0000-0000-000000000000/force-delete", "POST"),
    ],
)
async def test_wrong_method_is_405_with_allow(client, method, path, allow):
    r = await client.request(method, f"{API}{path}")
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "path", ["/clusters//statuses", "/clusters/x/unknown", "/widgets", "/clusters/a/b/c/d/e/f"]
)
async def test_unknown_paths_are_404_problems(client, path):
    r = await client.get(f"{API}{path}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_status_write_keeps_condition_index_rows_equal_to_the_document(client, db):
    cluster = await create_cluster(client)
    path = f"{API}/clusters/{cluster['id']}"
    for adapter in ("validation", "dns", "pullsecret", "hypershift"):
        r = await client.put(f"{path}/statuses", json=report_body(adapter, 1))
        assert r.status_code == 201, r.text
    r = await client.put(f"{path}/statuses", json=report_body("dns", 1, available="False"))
    assert r.status_code == 201, r.text
    body = (await client.get(path)).json()
    rows = await db.fetch(
        "SELECT type, status, reason, observed_generation, last_transition_time"
        " FROM resource_conditions WHERE resource_id = $1 ORDER BY type",
        cluster["id"],
    )
    document = sorted(body["status"]["conditions"], key=lambda c: c["type"])
    assert [r["type"] for r in rows] == [c["type"] for c in document]
    for row, cond in zip(rows, document, strict=True):
        assert row["status"] == cond["status"]
        assert row["reason"] == cond.get("reason")
        assert row["observed_generation"] == cond["observed_generation"]
        assert row["last_transition_time"].isoformat().replace("+00:00", "Z") == (
            cond["last_transition_time"].replace("+00:00", "Z")
        )
