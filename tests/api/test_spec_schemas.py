"""Per-kind spec validation against schemas from an OpenAPI document (server.spec_schema_path)."""

from __future__ import annotations

import httpx
import pytest
import yaml
from asgi_lifespan import LifespanManager
from tests.conftest import make_settings

from hyperfleet.rest.app import create_app

API = "/api/hyperfleet/v1"

DOCUMENT = {
    "openapi": "3.0.0",
    "info": {"title": "specs", "version": "1"},
    "paths": {},
    "components": {
        "schemas": {
            "ClusterSpec": {
                "type": "object",
                "required": ["region"],
                "properties": {
                    "region": {"type": "string", "minLength": 2},
                    "nodes": {"$ref": "#/components/schemas/Count"},
                },
            },
            "Count": {"type": "integer", "minimum": 1},
        }
    },
}


@pytest.fixture
async def schema_client(tmp_path, database_url):
    path = tmp_path / "specs.yaml"
    path.write_text(yaml.safe_dump(DOCUMENT))
    settings = make_settings(
        server={"spec_schema_path": str(path)},
        entities=[{"kind": "Cluster", "spec_schema_name": "ClusterSpec"}],
    )
    app = create_app(settings, database_url=database_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hyperfleet") as c:
            yield c


async def test_valid_spec_is_accepted(schema_client):
    r = await schema_client.post(
        f"{API}/clusters",
        json={"kind": "Cluster", "name": "ok-1", "spec": {"region": "eu", "nodes": 3}},
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        ({}, {"spec"}),
        ({"region": "e"}, {"spec.region"}),
        ({"region": "eu", "nodes": 0}, {"spec.nodes"}),
        ({"region": 5, "nodes": "x"}, {"spec.region", "spec.nodes"}),
    ],
)
async def test_invalid_spec_lists_every_violation(schema_client, spec, fields):
    r = await schema_client.post(
        f"{API}/clusters", json={"kind": "Cluster", "name": "bad-1", "spec": spec}
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "HYPERFLEET-VAL-000"
    assert body["detail"] == "Invalid ClusterSpec"
    assert {e["field"] for e in body["errors"]} == fields


async def test_patch_validates_the_new_spec(schema_client):
    created = await schema_client.post(
        f"{API}/clusters", json={"kind": "Cluster", "name": "ok-2", "spec": {"region": "eu"}}
    )
    cid = created.json()["id"]
    r = await schema_client.patch(f"{API}/clusters/{cid}", json={"spec": {"nodes": 2}})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "spec"
    ok = await schema_client.patch(f"{API}/clusters/{cid}", json={"spec": {"region": "us"}})
    assert ok.status_code == 200
    assert ok.json()["generation"] == 2


async def test_nodepools_without_schema_are_not_validated(schema_client):
    created = await schema_client.post(
        f"{API}/clusters", json={"kind": "Cluster", "name": "ok-3", "spec": {"region": "eu"}}
    )
    r = await schema_client.post(
        f"{API}/clusters/{created.json()['id']}/nodepools",
        json={"kind": "NodePool", "name": "np-1", "spec": {"anything": [1, 2]}},
    )
    assert r.status_code == 201


def test_unknown_schema_name_is_a_startup_error(tmp_path):
    path = tmp_path / "specs.yaml"
    path.write_text(yaml.safe_dump(DOCUMENT))
    settings = make_settings(
        server={"spec_schema_path": str(path)},
        entities=[{"kind": "NodePool", "spec_schema_name": "Missing"}],
    )
    with pytest.raises(ValueError, match="Missing"):
        create_app(settings, database_url="postgresql://unused")
