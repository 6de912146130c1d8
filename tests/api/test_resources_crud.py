"""Create / read / list of clusters and nodepools, the kind-agnostic /resources routes, field
projection, and HTTP-level behaviour (request ids, unknown routes, 405, trailing slashes).

Contract: spec/reference-api.md §1, §2.2, §6.1-6.2, §7.4 and post-MVP §1.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.factories import (
    API,
    SYSTEM_ACTOR,
    UUID7_RE,
    assert_json,
    assert_problem,
    cluster_body,
    condition,
    create_cluster,
    create_nodepool,
    delete,
    nodepool_body,
    parse_time,
    unique_name,
)

MISSING = "019466a0-8f8e-7abc-9def-0123456789ab"


# -- create -----------------------------------------------------------------------------------


async def test_create_cluster_returns_full_resource(client):
    before = datetime.now(UTC) - timedelta(seconds=1)
    name = unique_name()
    r = await client.post(
        f"{API}/clusters",
        json={"kind": "Cluster", "name": name, "spec": {"region": "eu", "n": {"x": [1, 2]}}},
    )
    body = assert_json(r, 201)
    assert r.headers["vary"] == "Authorization"

    assert UUID7_RE.match(body["id"]), body["id"]
    assert body["kind"] == "Cluster"
    assert body["name"] == name
    assert body["href"] == f"{API}/clusters/{body['id']}"
    assert body["spec"] == {"region": "eu", "n": {"x": [1, 2]}}
    assert body["generation"] == 1
    assert "labels" not in body, "no labels key when the resource has none"
    assert "owner_references" not in body, "a root kind has no owner"
    assert "deleted_time" not in body
    assert "deleted_by" not in body
    assert body["created_by"] == SYSTEM_ACTOR
    assert body["updated_by"] == SYSTEM_ACTOR
    created = parse_time(body["created_time"])
    assert before <= created <= datetime.now(UTC) + timedelta(seconds=1)
    assert body["updated_time"] == body["created_time"]


async def test_create_cluster_initial_conditions(client):
    body = await create_cluster(client)
    types = [c["type"] for c in body["status"]["conditions"]]
    assert types == ["Reconciled", "LastKnownReconciled", "AllAdaptersReady", "ValidationPassed"]
    assert body["status"]["phase"] == "Pending"

    rec = condition(body, "Reconciled")
    assert rec["status"] == "False"
    assert rec["reason"] == "ReconciledMissingAdapters"
    assert rec["message"] == (
        "Required adapters not reporting Available=True: "
        "[dns, hypershift, pullsecret, validation]. Currently reporting: []"
    )
    assert rec["observed_generation"] == 1
    for key in ("created_time", "last_updated_time", "last_transition_time"):
        assert rec[key] == body["created_time"], key

    lkr = condition(body, "LastKnownReconciled")
    assert lkr["status"] == "False"
    assert lkr["reason"] == "AdaptersMissingReports"
    assert lkr["message"] == "Required adapters have not yet reported status"
    assert lkr["observed_generation"] == 1
    assert lkr["last_updated_time"] == lkr["last_transition_time"] == body["created_time"]


async def test_create_cluster_with_labels(client):
    body = await create_cluster(client, labels={"env": "prod", "app.kubernetes.io/name": "x"})
    assert body["labels"] == {"env": "prod", "app.kubernetes.io/name": "x"}
    got = assert_json(await client.get(f"{API}/clusters/{body['id']}"), 200)
    assert got["labels"] == body["labels"]


async def test_create_cluster_empty_labels_has_no_labels_key(client):
    body = await create_cluster(client, labels={})
    assert "labels" not in body


async def test_create_nodepool_returns_nested_href_and_owner(client):
    cluster = await create_cluster(client)
    cid = cluster["id"]
    name = unique_name("np")
    r = await client.post(
        f"{API}/clusters/{cid}/nodepools",
        json={"kind": "NodePool", "name": name, "spec": {"replicas": 3}},
    )
    body = assert_json(r, 201)
    assert UUID7_RE.match(body["id"])
    assert body["id"] != cid
    assert body["kind"] == "NodePool"
    assert body["name"] == name
    assert body["href"] == f"{API}/clusters/{cid}/nodepools/{body['id']}"
    assert body["owner_references"] == {
        "id": cid,
        "kind": "Cluster",
        "href": f"{API}/clusters/{cid}",
    }
    assert body["spec"] == {"replicas": 3}
    assert body["generation"] == 1
    assert body["created_by"] == body["updated_by"] == SYSTEM_ACTOR
    assert "labels" not in body
    rec = condition(body, "Reconciled")
    assert rec["status"] == "False"
    assert rec["message"] == (
        "Required adapters not reporting Available=True: [hypershift, validation]. "
        "Currently reporting: []"
    )
    assert condition(body, "LastKnownReconciled")["status"] == "False"


async def test_create_nodepool_does_not_touch_cluster(client):
    cluster = await create_cluster(client)
    await create_nodepool(client, cluster["id"])
    after = assert_json(await client.get(f"{API}/clusters/{cluster['id']}"), 200)
    assert after["generation"] == 1
    assert after["updated_time"] == cluster["updated_time"]


async def test_create_nodepool_under_missing_cluster_is_404(client):
    r = await client.post(f"{API}/clusters/{MISSING}/nodepools", json=nodepool_body())
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{MISSING}' not found")


async def test_create_nodepool_under_a_nodepool_id_is_404(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])
    r = await client.post(f"{API}/clusters/{np['id']}/nodepools", json=nodepool_body())
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{np['id']}' not found")


@pytest.mark.parametrize(
    "extra",
    [
        {"id": "01234567-89ab-7def-8123-456789abcdef"},
        {"href": "/somewhere/else"},
        {"status": {"conditions": [{"type": "Reconciled", "status": "True"}]}},
        {"generation": 42},
        {"created_by": "mallory@example.com", "created_time": "2000-01-01T00:00:00Z"},
        {"deleted_time": "2000-01-01T00:00:00Z"},
        {"owner_references": {"id": MISSING, "kind": "Cluster"}},
        {"unknown_field": [1, 2, 3]},
    ],
    ids=",".join,
)
async def test_create_ignores_unknown_and_server_owned_fields(client, extra):
    body = cluster_body(**extra)
    r = await client.post(f"{API}/clusters", json=body)
    created = assert_json(r, 201)
    assert created["id"] != extra.get("id")
    assert created["href"] == f"{API}/clusters/{created['id']}"
    assert created["generation"] == 1
    assert created["created_by"] == SYSTEM_ACTOR
    assert "deleted_time" not in created
    assert "owner_references" not in created
    assert "unknown_field" not in created
    assert condition(created, "Reconciled")["status"] == "False"
    assert parse_time(created["created_time"]).year >= 2025


async def test_create_nodepool_ignores_spoofed_owner_and_href(client):
    mine = await create_cluster(client)
    other = await create_cluster(client)
    body = nodepool_body(
        owner_references={"id": other["id"], "kind": "Cluster", "href": other["href"]},
        owner_id=other["id"],
        href=f"{API}/clusters/{other['id']}/nodepools/x",
    )
    r = await client.post(f"{API}/clusters/{mine['id']}/nodepools", json=body)
    np = assert_json(r, 201)
    assert np["owner_references"]["id"] == mine["id"]
    assert np["href"] == f"{API}/clusters/{mine['id']}/nodepools/{np['id']}"
    other_list = assert_json(await client.get(f"{API}/clusters/{other['id']}/nodepools"), 200)
    assert other_list["total"] == 0


async def test_created_ids_are_unique_and_time_ordered(client):
    ids = [(await create_cluster(client))["id"] for _ in range(5)]
    assert len(set(ids)) == 5
    assert ids == sorted(ids), "UUIDv7 ids sort by creation time"


# -- get --------------------------------------------------------------------------------------


async def test_get_cluster_equals_create_body(client):
    created = await create_cluster(client, spec={"a": {"b": [True, None, 1.5]}}, labels={"k": "v"})
    r = await client.get(f"{API}/clusters/{created['id']}")
    got = assert_json(r, 200)
    assert r.headers["vary"] == "Authorization"
    assert got == created


async def test_get_missing_cluster_is_404(client):
    r = await client.get(f"{API}/clusters/{MISSING}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{MISSING}' not found")


@pytest.mark.parametrize(
    "bad_id",
    [
        "not-a-uuid",
        "123",
        "019466a08f8e7abc9def0123456789ab",  # UUID without hyphens
        "{019466a0-8f8e-7abc-9def-0123456789ab}",
        "019466a0-8f8e-7abc-9def-0123456789ab-x",
        "' OR 1=1 --",
    ],
)
async def test_get_cluster_with_non_uuid_id_is_404(client, bad_id):
    r = await client.get(f"{API}/clusters/{bad_id}")
    body = assert_problem(r, 404, "HYPERFLEET-NTF-001")
    assert body["detail"].startswith("Cluster with id='")
    assert body["detail"].endswith("' not found")


async def test_get_cluster_by_nodepool_id_is_404(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])
    r = await client.get(f"{API}/clusters/{np['id']}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{np['id']}' not found")


async def test_get_nodepool_nested_and_flat(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"], labels={"pool": "a"})
    nested = assert_json(
        await client.get(f"{API}/clusters/{cluster['id']}/nodepools/{np['id']}"), 200
    )
    flat = assert_json(await client.get(f"{API}/nodepools/{np['id']}"), 200)
    assert nested == flat == np


async def test_get_nodepool_under_wrong_cluster_is_404(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    np = await create_nodepool(client, c1["id"])
    r = await client.get(f"{API}/clusters/{c2['id']}/nodepools/{np['id']}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"NodePool with id='{np['id']}' not found")


async def test_get_nodepool_under_missing_cluster_is_404(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])
    r = await client.get(f"{API}/clusters/{MISSING}/nodepools/{np['id']}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001")


async def test_get_flat_nodepool_with_cluster_id_is_404(client):
    cluster = await create_cluster(client)
    r = await client.get(f"{API}/nodepools/{cluster['id']}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"NodePool with id='{cluster['id']}' not found")


async def test_get_missing_nodepool_is_404(client):
    cluster = await create_cluster(client)
    r = await client.get(f"{API}/clusters/{cluster['id']}/nodepools/{MISSING}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"NodePool with id='{MISSING}' not found")
    r = await client.get(f"{API}/nodepools/{MISSING}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"NodePool with id='{MISSING}' not found")


# -- list -------------------------------------------------------------------------------------


async def test_list_empty(client):
    r = await client.get(f"{API}/clusters")
    body = assert_json(r, 200)
    assert r.headers["vary"] == "Authorization"
    assert body == {"page": 1, "size": 0, "total": 0, "items": [], "next_cursor": None}


async def test_list_envelope_and_default_order_newest_first(client):
    created = [await create_cluster(client) for _ in range(3)]
    body = assert_json(await client.get(f"{API}/clusters"), 200)
    assert list(body) == ["page", "size", "total", "items", "next_cursor"], "no `kind`"
    assert body["page"] == 1
    assert body["size"] == 3
    assert body["total"] == 3
    assert [i["id"] for i in body["items"]] == [c["id"] for c in reversed(created)]
    assert body["items"][0] == created[-1], "list items are full resources"


async def test_list_pagination_size_is_items_returned(client):
    created = [await create_cluster(client) for _ in range(5)]
    newest_first = [c["id"] for c in reversed(created)]

    p1 = assert_json(await client.get(f"{API}/clusters", params={"page": 1, "size": 2}), 200)
    p2 = assert_json(await client.get(f"{API}/clusters", params={"page": 2, "size": 2}), 200)
    p3 = assert_json(await client.get(f"{API}/clusters", params={"page": 3, "size": 2}), 200)
    assert (p1["page"], p1["size"], p1["total"]) == (1, 2, 5)
    assert (p2["page"], p2["size"], p2["total"]) == (2, 2, 5)
    assert (p3["page"], p3["size"], p3["total"]) == (3, 1, 5)
    ids = [i["id"] for p in (p1, p2, p3) for i in p["items"]]
    assert ids == newest_first


async def test_list_page_beyond_end_is_empty_with_total(client):
    for _ in range(3):
        await create_cluster(client)
    body = assert_json(await client.get(f"{API}/clusters", params={"page": 7, "size": 2}), 200)
    assert body == {"page": 7, "size": 0, "total": 3, "items": [], "next_cursor": None}


async def test_list_default_size_is_20(client):
    for _ in range(21):
        await create_cluster(client)
    body = assert_json(await client.get(f"{API}/clusters"), 200)
    assert body["size"] == 20
    assert len(body["items"]) == 20
    assert body["total"] == 21


@pytest.mark.parametrize(
    ("params", "item"),
    [
        (
            {"page": "x"},
            {
                "field": "page",
                "value": "x",
                "constraint": "format",
                "message": "must be a valid integer",
            },
        ),
        (
            {"size": "abc"},
            {
                "field": "size",
                "value": "abc",
                "constraint": "format",
                "message": "must be a valid integer",
            },
        ),
        (
            {"size": "1.5"},
            {
                "field": "size",
                "value": "1.5",
                "constraint": "format",
                "message": "must be a valid integer",
            },
        ),
        (
            {"page": "0"},
            {
                "field": "page",
                "value": 0,
                "constraint": "min",
                "message": "page must be at least 1",
            },
        ),
        (
            {"page": "-3"},
            {
                "field": "page",
                "value": -3,
                "constraint": "min",
                "message": "page must be at least 1",
            },
        ),
        (
            {"page": "100001"},
            {
                "field": "page",
                "value": 100001,
                "constraint": "max",
                "message": "page must be at most 100000",
            },
        ),
        (
            {"size": "0"},
            {
                "field": "size",
                "value": 0,
                "constraint": "min",
                "message": "size must be at least 1",
            },
        ),
        (
            {"size": "101"},
            {
                "field": "size",
                "value": 101,
                "constraint": "max",
                "message": "size must be at most 100",
            },
        ),
    ],
)
@pytest.mark.parametrize("path", ["/clusters", "/nodepools", "/resources"])
async def test_list_bad_page_or_size(client, path, params, item):
    r = await client.get(f"{API}{path}", params=params)
    body = assert_problem(
        r, 400, "HYPERFLEET-VAL-000", "Invalid query parameters", fields=[item["field"]]
    )
    assert body["errors"] == [item]


async def test_list_bad_size_on_nested_list(client):
    cluster = await create_cluster(client)
    r = await client.get(f"{API}/clusters/{cluster['id']}/nodepools", params={"size": "1000"})
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", "Invalid query parameters")
    assert body["errors"] == [
        {"field": "size", "value": 1000, "constraint": "max", "message": "size must be at most 100"}
    ]


@pytest.mark.parametrize(("page", "size"), [("1", "1"), ("100000", "100"), ("", "")])
async def test_list_boundary_page_and_size_accepted(client, page, size):
    await create_cluster(client)
    body = assert_json(
        await client.get(f"{API}/clusters", params={"page": page, "size": size}), 200
    )
    assert body["page"] == (int(page) if page else 1)
    assert body["total"] == 1


async def test_list_order_by_name(client):
    names = ["cl-order-b", "cl-order-c", "cl-order-a"]
    for name in names:
        await create_cluster(client, name=name)
    asc = assert_json(await client.get(f"{API}/clusters", params={"order": "name asc"}), 200)
    assert [i["name"] for i in asc["items"]] == sorted(names)
    desc = assert_json(await client.get(f"{API}/clusters", params={"order": "name desc"}), 200)
    assert [i["name"] for i in desc["items"]] == sorted(names, reverse=True)
    plain = assert_json(await client.get(f"{API}/clusters", params={"order": "name"}), 200)
    assert [i["name"] for i in plain["items"]] == sorted(names)


async def test_list_empty_order_is_default(client):
    created = [await create_cluster(client) for _ in range(3)]
    body = assert_json(await client.get(f"{API}/clusters", params={"order": ""}), 200)
    assert [i["id"] for i in body["items"]] == [c["id"] for c in reversed(created)]


@pytest.mark.parametrize("order", ["Name", "name ASC", "name sideways", "name; drop table x"])
async def test_list_bad_order_format(client, order):
    r = await client.get(f"{API}/clusters", params={"order": order})
    assert_problem(r, 400, "HYPERFLEET-VAL-005", f"invalid order format '{order}'")


async def test_list_order_unknown_column(client):
    r = await client.get(f"{API}/clusters", params={"order": "no_such_column"})
    assert_problem(r, 400, "HYPERFLEET-VAL-005", "invalid field in search or order query")


async def test_nested_list_only_that_clusters_children(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    a = await create_nodepool(client, c1["id"])
    b = await create_nodepool(client, c1["id"])
    other = await create_nodepool(client, c2["id"])

    body = assert_json(await client.get(f"{API}/clusters/{c1['id']}/nodepools"), 200)
    assert (body["page"], body["size"], body["total"]) == (1, 2, 2)
    assert [i["id"] for i in body["items"]] == [b["id"], a["id"]]
    assert all(i["owner_references"]["id"] == c1["id"] for i in body["items"])

    body2 = assert_json(await client.get(f"{API}/clusters/{c2['id']}/nodepools"), 200)
    assert [i["id"] for i in body2["items"]] == [other["id"]]


async def test_nested_list_of_cluster_without_nodepools(client):
    cluster = await create_cluster(client)
    body = assert_json(await client.get(f"{API}/clusters/{cluster['id']}/nodepools"), 200)
    assert body == {"page": 1, "size": 0, "total": 0, "items": [], "next_cursor": None}


@pytest.mark.parametrize("cluster_id", [MISSING, "not-a-uuid"])
async def test_nested_list_of_missing_cluster_is_404(client, cluster_id):
    r = await client.get(f"{API}/clusters/{cluster_id}/nodepools")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{cluster_id}' not found")


async def test_nested_list_under_nodepool_id_is_404(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])
    r = await client.get(f"{API}/clusters/{np['id']}/nodepools")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{np['id']}' not found")


async def test_global_nodepool_list_spans_clusters_and_excludes_clusters(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    a = await create_nodepool(client, c1["id"])
    b = await create_nodepool(client, c2["id"])
    body = assert_json(await client.get(f"{API}/nodepools"), 200)
    assert body["total"] == 2
    assert [i["id"] for i in body["items"]] == [b["id"], a["id"]]
    assert {i["kind"] for i in body["items"]} == {"NodePool"}

    clusters = assert_json(await client.get(f"{API}/clusters"), 200)
    assert clusters["total"] == 2
    assert {i["kind"] for i in clusters["items"]} == {"Cluster"}


async def test_list_includes_soft_deleted(client):
    keep = await create_cluster(client)
    gone = await create_cluster(client)
    await delete(client, f"/clusters/{gone['id']}")
    body = assert_json(await client.get(f"{API}/clusters"), 200)
    assert body["total"] == 2
    by_id = {i["id"]: i for i in body["items"]}
    assert "deleted_time" in by_id[gone["id"]]
    assert "deleted_time" not in by_id[keep["id"]]


# -- /resources -------------------------------------------------------------------------------


async def test_resources_list_all_kinds_and_kind_filter(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])

    everything = assert_json(await client.get(f"{API}/resources"), 200)
    assert everything["total"] == 2
    assert {i["id"] for i in everything["items"]} == {cluster["id"], np["id"]}

    only = assert_json(await client.get(f"{API}/resources", params={"kind": "Cluster"}), 200)
    assert (only["size"], only["total"]) == (1, 1)
    assert only["items"][0] == cluster

    pools = assert_json(await client.get(f"{API}/resources", params={"kind": "NodePool"}), 200)
    assert [i["id"] for i in pools["items"]] == [np["id"]]


@pytest.mark.parametrize("kind", ["Widget", "cluster", "CLUSTER", "Clusters"])
async def test_resources_list_unknown_kind_is_400(client, kind):
    r = await client.get(f"{API}/resources", params={"kind": kind})
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", detail_contains=[kind], fields=["kind"])
    assert "unknown kind" in body["detail"]


async def test_resources_post_creates_root_kind(client):
    name = unique_name()
    r = await client.post(
        f"{API}/resources", json={"kind": "Cluster", "name": name, "spec": {"x": 1}}
    )
    body = assert_json(r, 201)
    assert body["kind"] == "Cluster"
    assert body["href"] == f"{API}/clusters/{body['id']}"
    got = assert_json(await client.get(f"{API}/clusters/{body['id']}"), 200)
    assert got == body


async def test_resources_post_without_kind_is_400(client):
    r = await client.post(f"{API}/resources", json={"name": unique_name(), "spec": {}})
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "kind is required", fields=["kind"])


async def test_resources_post_unknown_kind_is_400(client):
    r = await client.post(
        f"{API}/resources", json={"kind": "Gizmo", "name": unique_name(), "spec": {}}
    )
    assert_problem(r, 400, "HYPERFLEET-VAL-000", detail_contains=["Gizmo"], fields=["kind"])


async def test_resources_post_child_kind_is_422(client):
    r = await client.post(
        f"{API}/resources", json={"kind": "NodePool", "name": unique_name("np"), "spec": {}}
    )
    assert_problem(r, 422, "HYPERFLEET-VAL-000", detail_contains=["NodePool"])
    assert assert_json(await client.get(f"{API}/nodepools"), 200)["total"] == 0


async def test_resources_get_patch_delete_by_id(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])

    assert assert_json(await client.get(f"{API}/resources/{cluster['id']}"), 200) == cluster
    assert assert_json(await client.get(f"{API}/resources/{np['id']}"), 200) == np

    patched = assert_json(
        await client.patch(f"{API}/resources/{np['id']}", json={"labels": {"a": "b"}}), 200
    )
    assert patched["kind"] == "NodePool"
    assert patched["labels"] == {"a": "b"}
    assert patched["generation"] == 2
    assert patched["href"] == np["href"]

    deleted = assert_json(await client.delete(f"{API}/resources/{cluster['id']}"), 202)
    assert deleted["kind"] == "Cluster"
    assert "deleted_time" in deleted
    assert deleted["generation"] == 2
    np_after = assert_json(await client.get(f"{API}/nodepools/{np['id']}"), 200)
    assert np_after["deleted_time"] == deleted["deleted_time"]


async def test_resources_get_missing_is_404(client):
    r = await client.get(f"{API}/resources/{MISSING}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", detail_contains=[MISSING])
    r = await client.patch(f"{API}/resources/{MISSING}", json={"spec": {}})
    assert_problem(r, 404, "HYPERFLEET-NTF-001")
    r = await client.delete(f"{API}/resources/{MISSING}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001")


# -- flat POST of a child kind ----------------------------------------------------------------


async def test_flat_post_nodepool_is_422(client):
    await create_cluster(client)
    r = await client.post(f"{API}/nodepools", json=nodepool_body())
    assert_problem(r, 422, "HYPERFLEET-VAL-000", detail_contains=["NodePool"])
    assert assert_json(await client.get(f"{API}/nodepools"), 200)["total"] == 0


# -- field projection -------------------------------------------------------------------------


async def test_fields_projection_on_single_get(client):
    cluster = await create_cluster(client, spec={"region": "eu", "size": {"cpu": 4}})
    r = await client.get(f"{API}/clusters/{cluster['id']}", params={"fields": "name,generation"})
    body = assert_json(r, 200)
    assert body == {"id": cluster["id"], "name": cluster["name"], "generation": 1}


async def test_fields_projection_dotted_paths(client):
    cluster = await create_cluster(client, spec={"region": "eu", "size": {"cpu": 4, "mem": 8}})
    r = await client.get(
        f"{API}/clusters/{cluster['id']}", params={"fields": "spec.size.cpu,spec.region"}
    )
    assert assert_json(r, 200) == {
        "id": cluster["id"],
        "spec": {"size": {"cpu": 4}, "region": "eu"},
    }


async def test_fields_projection_repeated_param_and_id_given(client):
    cluster = await create_cluster(client, labels={"env": "dev"})
    r = await client.get(
        f"{API}/clusters/{cluster['id']}",
        params=[("fields", "id"), ("fields", "labels"), ("fields", "kind")],
    )
    assert assert_json(r, 200) == {"id": cluster["id"], "labels": {"env": "dev"}, "kind": "Cluster"}


async def test_fields_projection_status_conditions(client):
    cluster = await create_cluster(client)
    r = await client.get(f"{API}/clusters/{cluster['id']}", params={"fields": "status"})
    assert assert_json(r, 200) == {"id": cluster["id"], "status": cluster["status"]}


async def test_fields_projection_on_list_keeps_envelope(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    r = await client.get(f"{API}/clusters", params={"fields": "name", "size": 1})
    body = assert_json(r, 200)
    assert body == {
        "page": 1,
        "size": 1,
        "total": 2,
        "items": [{"id": c2["id"], "name": c2["name"]}],
        "next_cursor": body["next_cursor"],
    }
    assert body["next_cursor"]
    r = await client.get(f"{API}/clusters", params={"fields": "href,owner_references"})
    items = assert_json(r, 200)["items"]
    assert items == [
        {"id": c2["id"], "href": c2["href"]},
        {"id": c1["id"], "href": c1["href"]},
    ]


async def test_fields_projection_on_nested_and_global_nodepool_lists(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])
    expected = [{"id": np["id"], "owner_references": {"id": cluster["id"]}}]
    for path in (f"/clusters/{cluster['id']}/nodepools", "/nodepools"):
        r = await client.get(f"{API}{path}", params={"fields": "owner_references.id"})
        assert assert_json(r, 200)["items"] == expected


@pytest.mark.parametrize(
    ("fields", "unknown"),
    [
        ("bogus", "bogus"),
        ("name,bogus", "bogus"),
        ("Name", "Name"),
    ],
)
@pytest.mark.parametrize("single", [True, False])
async def test_fields_projection_unknown_field_is_400(client, fields, unknown, single):
    cluster = await create_cluster(client)
    path = f"{API}/clusters/{cluster['id']}" if single else f"{API}/clusters"
    r = await client.get(path, params={"fields": fields})
    assert_problem(
        r,
        400,
        "HYPERFLEET-VAL-000",
        f"The following field(s) doesn't exist in `Resource`: {unknown}",
    )


# -- HTTP behaviour ---------------------------------------------------------------------------


async def test_request_id_on_every_response(client):
    cluster = await create_cluster(client)
    responses = [
        await client.get(f"{API}/clusters"),
        await client.post(f"{API}/clusters", json=cluster_body()),
        await client.get(f"{API}/clusters/{cluster['id']}"),
        await client.get(f"{API}/clusters/{MISSING}"),
        await client.post(f"{API}/clusters", content=b"{"),
        await client.put(f"{API}/clusters"),
        await client.get(f"{API}/no-such-thing"),
        await client.delete(f"{API}/clusters/{cluster['id']}"),
        await client.post(
            f"{API}/clusters/{cluster['id']}/force-delete", json={"reason": "test cleanup"}
        ),
        await client.get("/api/hyperfleet"),
    ]
    assert [r.status_code for r in responses] == [200, 201, 200, 404, 400, 405, 404, 202, 204, 200]
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids), "each request gets its own id"
    for rid in ids:
        assert uuid.UUID(rid).version == 7, rid


async def test_incoming_request_id_is_not_reused(client):
    r = await client.get(f"{API}/clusters", headers={"X-Request-ID": "client-chosen"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] != "client-chosen"
    assert uuid.UUID(r.headers["x-request-id"])


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/no-such-thing",
        f"{API}/clusters/{MISSING}/nosuch",
        f"{API}/clusters/{MISSING}/nodepools/{MISSING}/nosuch",
        f"{API}/cluster",
        "/api/hyperfleet/v2/clusters",
        "/nope",
    ],
)
async def test_unknown_route_is_404_ntf_000(client, path):
    r = await client.get(path)
    assert_problem(r, 404, "HYPERFLEET-NTF-000", f"The requested endpoint '{path}' does not exist")


async def test_unknown_route_post_is_404_ntf_000(client):
    path = f"{API}/gizmos"
    r = await client.post(path, json={"kind": "Gizmo"})
    assert_problem(r, 404, "HYPERFLEET-NTF-000", f"The requested endpoint '{path}' does not exist")


ID = "019466a0-8f8e-7abc-9def-0123456789ab"

# (method, path, methods the path supports)
WRONG_METHODS = [
    ("PUT", f"{API}/clusters", {"GET", "POST"}),
    ("DELETE", f"{API}/clusters", {"GET", "POST"}),
    ("PATCH", f"{API}/clusters", {"GET", "POST"}),
    ("TRACE", f"{API}/clusters", {"GET", "POST"}),
    ("QUERY", f"{API}/clusters", {"GET", "POST"}),
    ("POST", f"{API}/clusters/{ID}", {"GET", "PATCH", "DELETE"}),
    ("PUT", f"{API}/clusters/{ID}", {"GET", "PATCH", "DELETE"}),
    ("QUERY", f"{API}/clusters/{ID}", {"GET", "PATCH", "DELETE"}),
    ("GET", f"{API}/clusters/{ID}/force-delete", {"POST"}),
    ("DELETE", f"{API}/clusters/{ID}/force-delete", {"POST"}),
    ("POST", f"{API}/clusters/{ID}/statuses", {"GET", "PUT"}),
    ("DELETE", f"{API}/clusters/{ID}/statuses", {"GET", "PUT"}),
    ("PATCH", f"{API}/clusters/{ID}/nodepools", {"GET", "POST"}),
    ("PUT", f"{API}/clusters/{ID}/nodepools/{ID}", {"GET", "PATCH", "DELETE"}),
    ("TRACE", f"{API}/nodepools/{ID}", {"GET", "PATCH", "DELETE"}),
    ("DELETE", f"{API}/nodepools", {"GET", "POST"}),
    ("PUT", f"{API}/resources", {"GET", "POST"}),
    ("POST", f"{API}/resources/{ID}", {"GET", "PATCH", "DELETE"}),
]


@pytest.mark.parametrize(("method", "path", "allowed"), WRONG_METHODS)
async def test_wrong_method_is_405_with_allow(client, method, path, allowed):
    r = await client.request(method, path)
    assert r.status_code == 405, r.text
    assert r.headers["content-type"].split(";")[0] == "application/problem+json"
    allow = {m.strip() for m in r.headers["allow"].split(",")}
    assert allowed <= allow, (allowed, allow)
    assert allow - allowed <= {"HEAD", "OPTIONS"}, allow
    assert method not in allow
    body = r.json()
    assert body["status"] == 405
    assert body["title"] == "Method Not Allowed"
    assert body["code"].startswith("HYPERFLEET-")
    assert body["type"].startswith("https://api.hyperfleet.io/errors/")
    assert body["instance"] == path
    assert body["trace_id"] == r.headers["x-request-id"]


async def test_trailing_slash_is_stripped(client):
    r = await client.post(f"{API}/clusters/", json=cluster_body())
    created = assert_json(r, 201)
    listed = assert_json(await client.get(f"{API}/clusters/"), 200)
    assert [i["id"] for i in listed["items"]] == [created["id"]]
    got = assert_json(await client.get(f"{API}/clusters/{created['id']}/"), 200)
    assert got == created
    np = assert_json(
        await client.post(f"{API}/clusters/{created['id']}/nodepools/", json=nodepool_body()), 201
    )
    assert assert_json(await client.get(f"{API}/nodepools/{np['id']}/"), 200) == np


async def test_trailing_slash_on_missing_resource_reports_stripped_instance(client):
    r = await client.get(f"{API}/clusters/{MISSING}/")
    body = assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{MISSING}' not found")
    assert body["instance"] == f"{API}/clusters/{MISSING}"
