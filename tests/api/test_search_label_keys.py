"""Kubernetes label keys (`example.com/team`, `app.kubernetes.io/name`) are stored on create
and searchable as written, with every label operator (#7)."""

from __future__ import annotations

import pytest
from tests.factories import API, assert_json, assert_problem, create_cluster, create_nodepool

LABELS = {
    "a": {"example.com/team": "core", "app.kubernetes.io/name": "web"},
    "b": {"example.com/team": "edge", "app.kubernetes.io/name": "db"},
    "c": {"env": "prod"},
}


@pytest.fixture
async def clusters(client) -> dict[str, str]:
    ids = {}
    for name, labels in LABELS.items():
        created = await create_cluster(client, name=f"lk-{name}", labels=labels)
        assert created["labels"] == labels
        ids[created["id"]] = created["name"]
    return ids


async def search(client, query: str, path: str = "/clusters") -> set[str]:
    body = assert_json(await client.get(f"{API}{path}", params={"search": query}), 200)
    return {item["name"] for item in body["items"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("labels.example.com/team = 'core'", {"lk-a"}),
        ("labels.app.kubernetes.io/name = 'db'", {"lk-b"}),
        ("labels.example.com/team != 'core'", {"lk-b"}),
        ("labels.app.kubernetes.io/name in ('web', 'db')", {"lk-a", "lk-b"}),
        ("labels.app.kubernetes.io/name not in ('web')", {"lk-b"}),
        ("labels.example.com/team is not null", {"lk-a", "lk-b"}),
        ("labels.example.com/team is null", {"lk-c"}),
        ("labels.example.com/team like 'c%'", {"lk-a"}),
        ("labels.example.com/team = 'edge' and labels.app.kubernetes.io/name = 'db'", {"lk-b"}),
        ("labels.example.com/team = 'core' or labels.env = 'prod'", {"lk-a", "lk-c"}),
        # a prefix alone is another key
        ("labels.app.kubernetes.io = 'web'", set()),
    ],
)
async def test_label_key_with_prefix_is_searchable(client, clusters, query, expected):
    assert await search(client, query) == expected


async def test_nested_lists_search_prefixed_label_keys_too(client, clusters):
    cluster_id = next(i for i, n in clusters.items() if n == "lk-a")
    await create_nodepool(client, cluster_id, name="np-x", labels={"example.com/pool": "x"})
    await create_nodepool(client, cluster_id, name="np-y", labels={"example.com/pool": "y"})
    found = await search(
        client, "labels.example.com/pool = 'y'", f"/clusters/{cluster_id}/nodepools"
    )
    assert found == {"np-y"}


@pytest.mark.parametrize(
    "key", ["Example.com/team", "example.com/", "a/b/c", "example.com/team-", "a_b/c"]
)
async def test_a_key_kubernetes_refuses_is_a_400_naming_the_problem(client, key):
    r = await client.get(f"{API}/clusters", params={"search": f"labels.{key} = 'x'"})
    problem = assert_problem(r, 400, "HYPERFLEET-VAL-005", "invalid field in search or order query")
    assert problem["errors"][0]["field"] == "search"
    assert "label key" in problem["errors"][0]["message"]
