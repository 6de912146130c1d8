"""Operational surface: health, readiness, metrics, OpenAPI, Swagger UI, request ids."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest
from openapi_spec_validator import validate

API = "/api/hyperfleet/v1"


async def test_healthz_is_ok(client):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["x-request-id"]


async def test_readyz_ok_when_database_answers(client):
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_503_while_database_unreachable_then_recovers(
    client, database_url, pg_admin_url
):
    name = database_url.split("?")[0].rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json() == {"status": "not_ready", "reason": "database unavailable"}
        api_down = await client.get(f"{API}/clusters")
        assert api_down.status_code == 503
        assert api_down.headers["content-type"] == "application/problem+json"
        assert api_down.json()["code"] == "HYPERFLEET-SVC-001"
        assert api_down.json()["detail"] == "Database connection unavailable"
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    up = await client.get("/readyz")
    assert up.status_code == 200
    assert (await client.get(f"{API}/clusters")).status_code == 200
    metrics = (await client.get("/metrics")).text
    assert 'hyperfleet_db_errors_total{component="api",error_type="unavailable"' in metrics


async def test_readyz_503_when_shutting_down(client):
    state = client.hf_state
    state.shutting_down = True
    try:
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {"status": "shutting_down", "reason": "Application is shutting down"}
    finally:
        state.shutting_down = False


async def test_metrics_exposes_reference_names(client):
    await client.post(f"{API}/clusters", json={"kind": "Cluster", "name": "m-1", "spec": {}})
    await client.get(f"{API}/clusters/not-a-uuid")
    await client.get("/nope")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    for name in (
        "hyperfleet_api_requests_total",
        "hyperfleet_api_request_duration_seconds_bucket",
        "hyperfleet_api_build_info",
        "hyperfleet_api_reconciliation_started_total",
        "hyperfleet_api_resource_pending_reconciliation",
        "hyperfleet_api_resource_pending_reconciliation_stuck",
        "hyperfleet_api_resource_pending_reconciliation_stuck_duration_seconds",
        "hyperfleet_db_connections_open",
        "hyperfleet_db_connections_in_use",
    ):
        assert f"\n{name}" in text, name
    assert (
        'hyperfleet_api_requests_total{code="201",component="api",method="POST",'
        'path="/api/hyperfleet/v1/clusters"' in text
    )
    assert 'path="/api/hyperfleet/v1/clusters/-"' in text
    assert 'path="/-"' in text
    pending = (
        'hyperfleet_api_resource_pending_reconciliation{component="api",is_delete="false",'
        'resource_type="cluster"'
    )
    assert f"{pending},version=" in text or pending in text
    line = next(ln for ln in text.splitlines() if ln.startswith(pending))
    assert line.endswith(" 1.0")
    zero = next(
        ln
        for ln in text.splitlines()
        if ln.startswith(
            'hyperfleet_api_resource_pending_reconciliation{component="api",is_delete="true",'
            'resource_type="nodepool"'
        )
    )
    assert zero.endswith(" 0.0")
    started = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("hyperfleet_api_reconciliation_started_total{")
        and 'resource_type="cluster"' in ln
    )
    assert started.endswith(" 1.0")


async def test_openapi_document_is_valid_and_extended(client):
    r = await client.get(f"{API}/openapi")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    doc = msgspec.json.decode(r.content)
    validate(doc)
    assert doc["info"]["version"] == "1.0.25"
    assert f"{API}/nodepools/{{nodepool_id}}" in doc["paths"]
    assert f"{API}/nodepools/{{nodepool_id}}/statuses" in doc["paths"]
    params = doc["paths"][f"{API}/clusters"]["get"]["parameters"]
    assert any(p.get("name") == "fields" for p in params)


async def test_openapi_document_serves_cursor_pages_on_every_list(client):
    doc = msgspec.json.decode((await client.get(f"{API}/openapi")).content)
    cursor = doc["components"]["parameters"]["QueryParams.cursor"]
    assert (cursor["name"], cursor["in"], cursor["schema"]) == (
        "cursor",
        "query",
        {"type": "string"},
    )
    lists = {
        f"{API}/clusters": "ClusterList",
        f"{API}/clusters/{{cluster_id}}/nodepools": "NodePoolList",
        f"{API}/nodepools": "NodePoolList",
        f"{API}/resources": "ResourceList",
        f"{API}/clusters/{{cluster_id}}/statuses": "AdapterStatusList",
        f"{API}/clusters/{{cluster_id}}/nodepools/{{nodepool_id}}/statuses": "AdapterStatusList",
        f"{API}/nodepools/{{nodepool_id}}/statuses": "AdapterStatusList",
        f"{API}/resources/{{resource_id}}/statuses": "AdapterStatusList",
        f"{API}/clusters/{{cluster_id}}/phase-history": "PhaseHistoryList",
        f"{API}/nodepools/{{nodepool_id}}/phase-history": "PhaseHistoryList",
        f"{API}/resources/{{resource_id}}/phase-history": "PhaseHistoryList",
    }
    for path, schema in lists.items():
        refs = [p.get("$ref") for p in doc["paths"][path]["get"]["parameters"]]
        assert refs.count("#/components/parameters/QueryParams.cursor") == 1, path
        props = doc["components"]["schemas"][schema]["properties"]
        assert props["next_cursor"]["nullable"] is True, schema
        assert props["next_cursor"]["type"] == "string", schema


async def test_openapi_document_describes_the_status_engine(client):
    doc = msgspec.json.decode((await client.get(f"{API}/openapi")).content)
    schemas = doc["components"]["schemas"]
    for name in ("ClusterStatus", "NodePoolStatus", "ResourceStatus"):
        props = schemas[name]["properties"]
        for field in ("phase", "phase_reason", "phase_message", "last_phase_transition_time"):
            assert field in props, (name, field)
        assert props["adapters"]["items"]["$ref"].endswith("/AdapterSummary")
    assert schemas["AdapterStatus"]["properties"]["state"]["$ref"].endswith("/AdapterState")
    assert {"state", "ready"} <= set(schemas["AdapterStatusCreateRequest"]["properties"])
    for path in (
        f"{API}/clusters/{{cluster_id}}/phase-history",
        f"{API}/clusters/{{cluster_id}}/nodepools/{{nodepool_id}}/phase-history",
        f"{API}/nodepools/{{nodepool_id}}/phase-history",
        f"{API}/resources/{{resource_id}}/phase-history",
        f"{API}/aggregation-config",
    ):
        assert "get" in doc["paths"][path], path
    patch = doc["paths"][f"{API}/clusters/{{cluster_id}}"]["patch"]
    assert "412" in patch["responses"]
    assert any(p.get("name") == "If-Match" for p in patch["parameters"])
    assert "ETag" in patch["responses"]["200"]["headers"]
    put = doc["paths"][f"{API}/clusters/{{cluster_id}}/statuses"]["put"]
    assert "409" in put["responses"]


async def test_openapi_html_uses_local_assets(client):
    r = await client.get(f"{API}/openapi.html")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "https://" not in r.text
    assert f"{API}/swagger-ui/swagger-ui-bundle.js" in r.text
    js = await client.get(f"{API}/swagger-ui/swagger-ui-bundle.js")
    assert js.status_code == 200
    assert len(js.content) > 100_000


async def test_served_document_lists_this_server_first(client):
    doc = msgspec.json.decode((await client.get(f"{API}/openapi")).content)
    first = doc["servers"][0]["url"]
    # Relative: Swagger UI resolves it against the page, so "Try it out" calls this host.
    assert first.startswith("/")
    assert not first.startswith("//")
    assert "https://hyperfleet.redhat.com" in [s["url"] for s in doc["servers"][1:]]


def _referenced_urls(html: str) -> list[str]:
    import re

    return re.findall(r'(?:href|src|url)\s*[=:]\s*"([^"]+)"', html)


async def test_every_asset_the_swagger_page_references_answers_200(client):
    page = await client.get(f"{API}/openapi.html")
    urls = _referenced_urls(page.text)
    assert f"{API}/openapi" in urls
    assert any(u.endswith(".css") for u in urls)
    assert any(u.endswith(".js") for u in urls)
    # Browsers fetch /favicon.ico on their own; a 404 there is a console error.
    for url in [*urls, "/favicon.ico"]:
        r = await client.get(url)
        assert r.status_code == 200, url
        assert r.content, url
    icon = await client.get("/favicon.ico")
    assert icon.headers["content-type"] == "image/png"


async def test_api_metadata(client):
    r = await client.get("/api/hyperfleet")
    assert r.status_code == 200
    assert r.json()["id"] == "hyperfleet"
    assert r.json()["kind"] == "API"


async def test_api_metadata_carries_a_build_time_beside_the_version(client):
    from datetime import datetime

    from hyperfleet import __version__

    body = (await client.get("/api/hyperfleet")).json()
    assert body["version"] == __version__
    assert body["build_time"]
    assert datetime.strptime(body["build_time"], "%Y-%m-%dT%H:%M:%S%z")


@pytest.mark.parametrize("path", ["/healthz", f"{API}/clusters", "/nope", f"{API}/openapi"])
async def test_every_response_has_a_fresh_request_id(client, path):
    a = await client.get(path, headers={"X-Request-ID": "client-chosen"})
    b = await client.get(path)
    assert a.headers["x-request-id"] != "client-chosen"
    assert a.headers["x-request-id"] != b.headers["x-request-id"]
    assert len(a.headers["x-request-id"]) == 36


async def test_log_lines_carry_the_request_id(client):
    import structlog

    capture = structlog.testing.LogCapture()
    saved = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        r = await client.post(
            f"{API}/clusters", json={"kind": "Cluster", "name": "logged", "spec": {}}
        )
    finally:
        structlog.configure(**saved)
    completed = [e for e in capture.entries if e["event"] == "HTTP request completed"]
    assert completed, capture.entries
    assert completed[-1]["request_id"] == r.headers["x-request-id"]
    assert completed[-1]["status_code"] == 201


def test_json_logs_have_component_version_and_hostname(capsys):
    import json
    import logging

    import structlog

    from hyperfleet.config import LoggingSettings
    from hyperfleet.logs import configure_logging

    saved = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging(LoggingSettings(level="info", format="json"))
        structlog.get_logger("t").info("hello", answer=42)
    finally:
        structlog.configure(**saved)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "hello"
    assert record["answer"] == 42
    assert record["component"] == "api"
    assert record["level"] == "info"
    assert {"version", "hostname", "timestamp"} <= set(record)


def test_stdlib_logging_records_are_rendered_as_json_too(capsys):
    import json
    import logging

    import structlog

    from hyperfleet.config import LoggingSettings
    from hyperfleet.logs import configure_logging

    saved = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging(LoggingSettings(level="info", format="json"))
        logging.getLogger("some.library").info("Started server process [%d]", 7)
    finally:
        structlog.configure(**saved)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["event"] == "Started server process [7]"
    assert record["logger"] == "some.library"
    assert record["level"] == "info"
    assert {"component", "version", "hostname", "timestamp"} <= set(record)
