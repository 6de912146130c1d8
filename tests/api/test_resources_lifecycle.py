"""PATCH, DELETE (soft, cascade, restrict, hard), force-delete, and hard delete driven by adapter
Finalized reports.

Contract: spec/reference-api.md §1.2, §2.2, §3, §5 and post-MVP §1-§2 (ETag/If-Match and the
statuses-405 rows are not implemented yet and are not tested here).
"""

from __future__ import annotations

import asyncio

import pytest
from tests.factories import (
    API,
    CLUSTER_ADAPTERS,
    NODEPOOL_ADAPTERS,
    SYSTEM_ACTOR,
    assert_json,
    assert_problem,
    condition,
    create_cluster,
    create_kind,
    create_nodepool,
    delete,
    finalize,
    nodepool_body,
    parse_time,
    report,
)

from hyperfleet.config import load_settings

MISSING = "019466a0-8f8e-7abc-9def-0123456789ab"


async def patch(client, path, body=None, *, raw: bytes | None = None):
    url = f"{API}{path}"
    if raw is not None:
        return await client.patch(url, content=raw, headers={"content-type": "application/json"})
    return await client.patch(url, json=body)


async def get_json(client, path):
    return assert_json(await client.get(f"{API}{path}"), 200)


async def tick():
    """Let the clock move so that a changed `updated_time` is observable."""
    await asyncio.sleep(0.002)


# == PATCH ====================================================================================


async def test_patch_spec_replaces_whole_spec(client):
    c = await create_cluster(client, spec={"a": 1, "b": {"c": 2}}, labels={"env": "dev"})
    await tick()
    r = await patch(client, f"/clusters/{c['id']}", {"spec": {"b": {"d": 3}}})
    body = assert_json(r, 200)
    assert r.headers["vary"] == "Authorization"
    assert body["spec"] == {"b": {"d": 3}}, "replace, not merge"
    assert body["labels"] == {"env": "dev"}, "labels untouched when absent"
    assert body["generation"] == 2
    assert parse_time(body["updated_time"]) > parse_time(c["updated_time"])
    assert body["created_time"] == c["created_time"]
    assert body["created_by"] == SYSTEM_ACTOR
    assert body["updated_by"] == SYSTEM_ACTOR
    assert (body["id"], body["name"], body["href"]) == (c["id"], c["name"], c["href"])
    assert await get_json(client, f"/clusters/{c['id']}") == body


async def test_patch_labels_replace_and_empty_clears(client):
    c = await create_cluster(client, spec={"keep": True}, labels={"a": "1", "b": "2"})
    body = assert_json(await patch(client, f"/clusters/{c['id']}", {"labels": {"c": "3"}}), 200)
    assert body["labels"] == {"c": "3"}
    assert body["spec"] == {"keep": True}
    assert body["generation"] == 2

    cleared = assert_json(await patch(client, f"/clusters/{c['id']}", {"labels": {}}), 200)
    assert "labels" not in cleared
    assert cleared["generation"] == 3
    assert "labels" not in await get_json(client, f"/clusters/{c['id']}")


async def test_patch_spec_and_labels_bumps_once(client):
    c = await create_cluster(client, spec={"x": 1}, labels={"a": "1"})
    body = assert_json(
        await patch(client, f"/clusters/{c['id']}", {"spec": {"x": 2}, "labels": {"a": "2"}}), 200
    )
    assert body["generation"] == 2
    assert body["spec"] == {"x": 2}
    assert body["labels"] == {"a": "2"}


async def test_patch_bump_recomputes_reconciled(client):
    c = await create_cluster(client)
    body = assert_json(await patch(client, f"/clusters/{c['id']}", {"spec": {"v": 2}}), 200)
    rec = condition(body, "Reconciled")
    assert rec["status"] == "False"
    assert rec["observed_generation"] == 2
    assert rec["reason"] == "ReconciledMissingAdapters"
    assert condition(body, "LastKnownReconciled")["status"] == "False"


@pytest.mark.parametrize(
    ("initial", "patch_raw"),
    [
        ({"a": 1, "b": 2}, b'{"spec": {"b": 2, "a": 1}}'),
        ({"a": 1}, b'{"spec": {"a": 1.0}}'),
        ({"a": 1.5}, b'{"spec": {"a": 1.50}}'),
        ({"a": 100}, b'{"spec": {"a": 1e2}}'),
        (
            {"n": {"x": [1, {"y": "z", "w": None}]}},
            b'{"spec":{"n":{"x":[1.0,{"w":null,"y":"z"}]}}}',
        ),
        ({}, b'{"spec": {}}'),
        ({"s": "text"}, b'{ "spec" : { "s" : "text" } }'),
    ],
    ids=["key-order", "int-vs-float", "float-spelling", "exponent", "nested", "empty", "spaces"],
)
async def test_patch_semantically_equal_spec_is_noop(client, initial, patch_raw):
    c = await create_cluster(client, spec=initial, labels={"a": "b"})
    await tick()
    r = await patch(client, f"/clusters/{c['id']}", raw=patch_raw)
    body = assert_json(r, 200)
    assert body["generation"] == 1
    assert body["updated_time"] == c["updated_time"]
    assert body["status"] == c["status"]
    stored = await get_json(client, f"/clusters/{c['id']}")
    assert stored["generation"] == 1
    assert stored["updated_time"] == c["updated_time"]


@pytest.mark.parametrize(
    ("initial", "new"),
    [
        ({"a": 1}, {"a": True}),
        ({"a": True}, {"a": 1}),
        ({"a": 0}, {"a": False}),
        ({"a": "1"}, {"a": 1}),
        ({"a": None}, {}),
        ({"a": [1, 2]}, {"a": [2, 1]}),
        ({"a": 1}, {"a": 1, "b": None}),
        ({"a": {"b": 1}}, {"a": {"b": 2}}),
    ],
    ids=[
        "int-to-bool",
        "bool-to-int",
        "zero-to-false",
        "string-to-int",
        "null-key-removed",
        "list-order",
        "added-null",
        "nested-value",
    ],
)
async def test_patch_spec_change_bumps_once(client, initial, new):
    c = await create_cluster(client, spec=initial)
    await tick()
    body = assert_json(await patch(client, f"/clusters/{c['id']}", {"spec": new}), 200)
    assert body["generation"] == 2
    assert body["spec"] == new
    assert parse_time(body["updated_time"]) > parse_time(c["updated_time"])


async def test_patch_same_labels_is_noop(client):
    c = await create_cluster(client, labels={"a": "1", "b": "2"})
    await tick()
    body = assert_json(
        await patch(client, f"/clusters/{c['id']}", raw=b'{"labels": {"b": "2", "a": "1"}}'), 200
    )
    assert body["generation"] == 1
    assert body["updated_time"] == c["updated_time"]


async def test_patch_empty_labels_on_unlabelled_is_noop(client):
    c = await create_cluster(client)
    body = assert_json(await patch(client, f"/clusters/{c['id']}", {"labels": {}}), 200)
    assert body["generation"] == 1
    assert body["updated_time"] == c["updated_time"]


async def test_patch_noop_after_a_change_keeps_generation(client):
    c = await create_cluster(client, spec={"a": 1})
    changed = assert_json(await patch(client, f"/clusters/{c['id']}", {"spec": {"a": 2}}), 200)
    await tick()
    same = assert_json(
        await patch(client, f"/clusters/{c['id']}", {"spec": {"a": 2}, "labels": {}}), 200
    )
    assert same["generation"] == changed["generation"] == 2
    assert same["updated_time"] == changed["updated_time"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "new-name"}, "name"),
        ({"kind": "Cluster"}, "kind"),
        ({"generation": 5}, "generation"),
        ({"spec": {}, "foo": 1}, "foo"),
        ({"id": MISSING}, "id"),
        ({"status": {}}, "status"),
        ({"Spec": {}}, "Spec"),
    ],
)
async def test_patch_unknown_field_is_val_006(client, body, field):
    c = await create_cluster(client)
    r = await patch(client, f"/clusters/{c['id']}", body)
    assert_problem(r, 400, "HYPERFLEET-VAL-006", detail_contains=[field])
    assert (await get_json(client, f"/clusters/{c['id']}")) == c


async def test_patch_empty_object_is_val_005(client):
    c = await create_cluster(client)
    r = await patch(client, f"/clusters/{c['id']}", {})
    assert_problem(r, 400, "HYPERFLEET-VAL-005", "at least one field must be provided for update")


@pytest.mark.parametrize("raw", [b"", b"{", b"nope"])
async def test_patch_empty_or_malformed_body_is_val_006(client, raw):
    c = await create_cluster(client)
    r = await patch(client, f"/clusters/{c['id']}", raw=raw)
    assert_problem(r, 400, "HYPERFLEET-VAL-006")


@pytest.mark.parametrize("raw", [b"[]", b'[{"spec": {}}]', b"null", b"7"])
async def test_patch_non_object_body_is_400(client, raw):
    c = await create_cluster(client)
    r = await patch(client, f"/clusters/{c['id']}", raw=raw)
    assert r.status_code == 400, r.text
    assert r.json()["code"] in {"HYPERFLEET-VAL-006", "HYPERFLEET-VAL-005"}


@pytest.mark.parametrize("spec", ["str", [], 3, True])
async def test_patch_spec_not_object_is_400(client, spec):
    c = await create_cluster(client)
    r = await patch(client, f"/clusters/{c['id']}", {"spec": spec})
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "spec field must be an object", fields=["spec"])


async def test_patch_invalid_labels_is_400(client):
    c = await create_cluster(client, labels={"ok": "yes"})
    r = await patch(client, f"/clusters/{c['id']}", {"labels": {"ok": "no way"}})
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", "label validation failed")
    assert [e["field"] for e in body["errors"]] == ["labels[ok]"]
    assert (await get_json(client, f"/clusters/{c['id']}"))["labels"] == {"ok": "yes"}


async def test_patch_nul_in_spec_is_400(client):
    c = await create_cluster(client)
    r = await patch(client, f"/clusters/{c['id']}", {"spec": {"k": "a\u0000"}})
    assert_problem(r, 400, "HYPERFLEET-VAL-000", fields=["spec.k"])


async def test_patch_missing_cluster_is_404(client):
    r = await patch(client, f"/clusters/{MISSING}", {"spec": {}})
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{MISSING}' not found")


async def test_patch_validation_runs_before_existence_check(client):
    r = await patch(client, f"/clusters/{MISSING}", {"name": "x"})
    assert_problem(r, 400, "HYPERFLEET-VAL-006")
    r = await patch(client, f"/clusters/{MISSING}", {})
    assert_problem(r, 400, "HYPERFLEET-VAL-005")


async def test_patch_nodepool_nested_and_flat(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"], spec={"replicas": 1})
    nested = assert_json(
        await patch(client, f"/clusters/{c['id']}/nodepools/{np['id']}", {"spec": {"replicas": 2}}),
        200,
    )
    assert nested["generation"] == 2
    assert nested["href"] == np["href"]
    assert nested["owner_references"] == np["owner_references"]
    flat = assert_json(
        await patch(client, f"/nodepools/{np['id']}", {"labels": {"tier": "gold"}}), 200
    )
    assert flat["generation"] == 3
    assert flat["spec"] == {"replicas": 2}
    assert flat["labels"] == {"tier": "gold"}
    cluster_after = await get_json(client, f"/clusters/{c['id']}")
    assert cluster_after["generation"] == 1, "a child's PATCH does not bump the parent"


async def test_patch_nodepool_under_wrong_cluster_is_404(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    np = await create_nodepool(client, c1["id"])
    r = await patch(client, f"/clusters/{c2['id']}/nodepools/{np['id']}", {"spec": {"x": 1}})
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"NodePool with id='{np['id']}' not found")
    assert (await get_json(client, f"/nodepools/{np['id']}"))["generation"] == 1


async def test_patch_cluster_route_with_nodepool_id_is_404(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    r = await patch(client, f"/clusters/{np['id']}", {"spec": {"x": 1}})
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{np['id']}' not found")


async def test_patch_deleting_resource_is_409(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    await delete(client, f"/clusters/{c['id']}")
    r = await patch(client, f"/clusters/{c['id']}", {"spec": {"x": 1}})
    assert_problem(r, 409, "HYPERFLEET-CNF-003", f"Cluster '{c['id']}' is marked for deletion")
    r = await patch(client, f"/nodepools/{np['id']}", {"labels": {"a": "b"}})
    assert_problem(r, 409, "HYPERFLEET-CNF-003", f"NodePool '{np['id']}' is marked for deletion")
    # even a no-op PATCH is refused once deleting
    r = await patch(client, f"/clusters/{c['id']}", {"spec": {}})
    assert_problem(r, 409, "HYPERFLEET-CNF-003")


# == DELETE ===================================================================================


async def test_delete_cluster_soft_deletes(client):
    c = await create_cluster(client, spec={"a": 1}, labels={"k": "v"})
    await tick()
    r = await client.delete(f"{API}/clusters/{c['id']}")
    body = assert_json(r, 202)
    assert r.headers["vary"] == "Authorization"
    assert body["id"] == c["id"]
    assert body["generation"] == 2
    assert body["deleted_by"] == SYSTEM_ACTOR
    deleted_time = parse_time(body["deleted_time"])
    assert deleted_time > parse_time(c["created_time"])
    assert parse_time(body["updated_time"]) >= deleted_time
    assert body["spec"] == {"a": 1}
    assert body["labels"] == {"k": "v"}
    assert body["created_by"] == SYSTEM_ACTOR
    rec = condition(body, "Reconciled")
    assert rec["status"] == "False"
    assert rec["observed_generation"] == 2
    assert rec["reason"] == "ReconciledMissingAdapters"
    assert rec["message"] == (
        "Required adapters not reporting Finalized=True: "
        "[dns, hypershift, pullsecret, validation]. Currently reporting: []"
    )
    # still readable and listed
    assert await get_json(client, f"/clusters/{c['id']}") == body
    listed = assert_json(await client.get(f"{API}/clusters"), 200)
    assert [i["id"] for i in listed["items"]] == [c["id"]]
    assert listed["items"][0]["deleted_time"] == body["deleted_time"]


async def test_repeated_delete_is_idempotent(client):
    c = await create_cluster(client)
    first = await delete(client, f"/clusters/{c['id']}")
    await tick()
    second = await delete(client, f"/clusters/{c['id']}")
    third = await delete(client, f"/resources/{c['id']}")
    for again in (second, third):
        assert again["deleted_time"] == first["deleted_time"]
        assert again["generation"] == first["generation"] == 2
        assert again["updated_time"] == first["updated_time"]
        assert again["deleted_by"] == first["deleted_by"]
        assert again["status"] == first["status"]
    assert await get_json(client, f"/clusters/{c['id']}") == first


async def test_delete_cascades_to_nodepools(client):
    c = await create_cluster(client)
    np1 = await create_nodepool(client, c["id"])
    np2 = await create_nodepool(client, c["id"])
    np2 = assert_json(await patch(client, f"/nodepools/{np2['id']}", {"spec": {"v": 2}}), 200)
    assert np2["generation"] == 2
    other_cluster = await create_cluster(client)
    other_np = await create_nodepool(client, other_cluster["id"])

    deleted = await delete(client, f"/clusters/{c['id']}")
    for before in (np1, np2):
        after = await get_json(client, f"/nodepools/{before['id']}")
        assert after["generation"] == before["generation"] + 1
        assert after["deleted_time"] == deleted["deleted_time"]
        assert after["deleted_by"] == SYSTEM_ACTOR
        rec = condition(after, "Reconciled")
        assert rec["status"] == "False"
        assert rec["observed_generation"] == after["generation"]
        assert "Finalized=True" in rec["message"]
    untouched = await get_json(client, f"/nodepools/{other_np['id']}")
    assert untouched == other_np
    assert await get_json(client, f"/clusters/{other_cluster['id']}") == other_cluster


async def test_delete_cascade_does_not_rebump_already_deleting_nodepool(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    np_deleted = await delete(client, f"/clusters/{c['id']}/nodepools/{np['id']}")
    assert np_deleted["generation"] == 2
    await tick()
    await delete(client, f"/clusters/{c['id']}")
    after = await get_json(client, f"/nodepools/{np['id']}")
    assert after["generation"] == 2
    assert after["deleted_time"] == np_deleted["deleted_time"]


async def test_delete_nodepool_leaves_cluster_alone(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    body = await delete(client, f"/nodepools/{np['id']}")
    assert body["generation"] == 2
    assert "deleted_time" in body
    assert await get_json(client, f"/clusters/{c['id']}") == c
    listed = assert_json(await client.get(f"{API}/clusters/{c['id']}/nodepools"), 200)
    assert [i["id"] for i in listed["items"]] == [np["id"]]


async def test_delete_missing_is_404(client):
    r = await client.delete(f"{API}/clusters/{MISSING}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", "Cluster not found")
    r = await client.delete(f"{API}/nodepools/{MISSING}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", "NodePool not found")
    r = await client.delete(f"{API}/clusters/not-a-uuid")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", "Cluster not found")


async def test_delete_nodepool_under_wrong_cluster_is_404(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    np = await create_nodepool(client, c1["id"])
    r = await client.delete(f"{API}/clusters/{c2['id']}/nodepools/{np['id']}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", "NodePool not found")
    assert "deleted_time" not in await get_json(client, f"/nodepools/{np['id']}")


async def test_create_nodepool_under_deleting_cluster_is_409(client):
    c = await create_cluster(client)
    await delete(client, f"/clusters/{c['id']}")
    r = await client.post(f"{API}/clusters/{c['id']}/nodepools", json=nodepool_body())
    assert_problem(r, 409, "HYPERFLEET-CNF-003", f"Cluster '{c['id']}' is marked for deletion")
    listed = assert_json(await client.get(f"{API}/clusters/{c['id']}/nodepools"), 200)
    assert listed["total"] == 0


async def test_concurrent_deletes_bump_once(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    results = await asyncio.gather(*(client.delete(f"{API}/clusters/{c['id']}") for _ in range(5)))
    bodies = [assert_json(r, 202) for r in results]
    assert {b["deleted_time"] for b in bodies} == {bodies[0]["deleted_time"]}
    assert {b["generation"] for b in bodies} == {2}
    assert (await get_json(client, f"/nodepools/{np['id']}"))["generation"] == 2


# -- restrict and adapter-less kinds ----------------------------------------------------------

CHANNEL_ENTITIES = [
    {"kind": "Channel", "plural": "channels", "required_adapters": []},
    {
        "kind": "Version",
        "plural": "versions",
        "parent_kind": "Channel",
        "on_parent_delete": "restrict",
        "required_adapters": [],
    },
]


class TestRestrictAndHardDelete:
    @pytest.fixture
    def settings(self):
        return load_settings(None, use_env=False, entities=CHANNEL_ENTITIES)

    async def test_restrict_blocks_parent_delete(self, client):
        ch = await create_kind(client, "/channels", "Channel")
        v = await create_kind(client, f"/channels/{ch['id']}/versions", "Version")
        r = await client.delete(f"{API}/channels/{ch['id']}")
        assert_problem(
            r,
            409,
            "HYPERFLEET-CNF-003",
            f"Cannot delete Channel '{ch['id']}': active Version(s) exist",
        )
        # nothing changed
        assert await get_json(client, f"/channels/{ch['id']}") == ch
        assert await get_json(client, f"/versions/{v['id']}") == v

    async def test_kind_without_required_adapters_is_hard_deleted(self, client):
        ch = await create_kind(client, "/channels", "Channel")
        v = await create_kind(client, f"/channels/{ch['id']}/versions", "Version")
        body = await delete(client, f"/channels/{ch['id']}/versions/{v['id']}")
        assert body["id"] == v["id"]
        assert "deleted_time" in body
        assert body["deleted_by"] == SYSTEM_ACTOR
        assert body["generation"] == 2
        r = await client.get(f"{API}/versions/{v['id']}")
        assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Version with id='{v['id']}' not found")
        r = await client.delete(f"{API}/versions/{v['id']}")
        assert_problem(r, 404, "HYPERFLEET-NTF-001", "Version not found")

        # with its only child gone, the channel deletes (and is hard-deleted) too
        await delete(client, f"/channels/{ch['id']}")
        r = await client.get(f"{API}/channels/{ch['id']}")
        assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Channel with id='{ch['id']}' not found")
        r = await client.delete(f"{API}/channels/{ch['id']}")
        assert_problem(r, 404, "HYPERFLEET-NTF-001", "Channel not found")

    async def test_hard_deleted_name_is_free(self, client):
        ch = await create_kind(client, "/channels", "Channel", name="stable")
        await delete(client, f"/channels/{ch['id']}")
        again = await create_kind(client, "/channels", "Channel", name="stable")
        assert again["id"] != ch["id"]


# == force-delete =============================================================================


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"json": {}},
        {"json": {"reason": ""}},
        {"json": {"reason": None}},
        {"json": {"other": "x"}},
    ],
    ids=["no-body", "empty-object", "empty-reason", "null-reason", "no-reason-key"],
)
async def test_force_delete_reason_required_even_for_missing_id(client, kwargs):
    r = await client.post(f"{API}/clusters/{MISSING}/force-delete", **kwargs)
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "reason is required", fields=["reason"])


async def test_force_delete_reason_too_long(client):
    c = await create_cluster(client)
    await delete(client, f"/clusters/{c['id']}")
    r = await client.post(f"{API}/clusters/{c['id']}/force-delete", json={"reason": "x" * 1025})
    assert_problem(
        r, 400, "HYPERFLEET-VAL-000", "reason must be at most 1024 characters", fields=["reason"]
    )
    assert (await client.get(f"{API}/clusters/{c['id']}")).status_code == 200
    r = await client.post(f"{API}/clusters/{MISSING}/force-delete", json={"reason": "x" * 1025})
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "reason must be at most 1024 characters")


async def test_force_delete_reason_of_exactly_1024_is_accepted(client):
    c = await create_cluster(client)
    await delete(client, f"/clusters/{c['id']}")
    r = await client.post(f"{API}/clusters/{c['id']}/force-delete", json={"reason": "x" * 1024})
    assert r.status_code == 204, r.text


async def test_force_delete_malformed_body_is_val_006(client):
    r = await client.post(
        f"{API}/clusters/{MISSING}/force-delete",
        content=b"{",
        headers={"content-type": "application/json"},
    )
    assert_problem(r, 400, "HYPERFLEET-VAL-006")


async def test_force_delete_missing_is_404(client):
    r = await client.post(f"{API}/clusters/{MISSING}/force-delete", json={"reason": "cleanup"})
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{MISSING}' not found")


async def test_force_delete_not_deleting_is_409(client):
    c = await create_cluster(client)
    r = await client.post(f"{API}/clusters/{c['id']}/force-delete", json={"reason": "cleanup"})
    body = assert_problem(r, 409, "HYPERFLEET-CNF-003")
    assert body["detail"].endswith("is not in Finalizing state")
    assert c["id"] in body["detail"]
    assert await get_json(client, f"/clusters/{c['id']}") == c


async def test_force_delete_removes_cluster_and_nodepools(client):
    c = await create_cluster(client)
    np1 = await create_nodepool(client, c["id"])
    np2 = await create_nodepool(client, c["id"])
    r = await report(client, f"/clusters/{c['id']}", "validation", 1)
    assert r.status_code == 201, r.text
    survivor = await create_cluster(client)
    await delete(client, f"/clusters/{c['id']}")

    r = await client.post(f"{API}/clusters/{c['id']}/force-delete", json={"reason": "stuck"})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert r.headers.get("x-request-id")

    for path in (
        f"/clusters/{c['id']}",
        f"/nodepools/{np1['id']}",
        f"/nodepools/{np2['id']}",
        f"/clusters/{c['id']}/statuses",
    ):
        assert_problem(await client.get(f"{API}{path}"), 404, "HYPERFLEET-NTF-001")
    assert assert_json(await client.get(f"{API}/nodepools"), 200)["total"] == 0
    listed = assert_json(await client.get(f"{API}/clusters"), 200)
    assert [i["id"] for i in listed["items"]] == [survivor["id"]]

    r = await client.post(f"{API}/clusters/{c['id']}/force-delete", json={"reason": "again"})
    assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{c['id']}' not found")
    # the name is free again
    again = await create_cluster(client, name=c["name"])
    assert again["id"] != c["id"]


async def test_force_delete_nodepool_flat_and_nested(client):
    c = await create_cluster(client)
    np1 = await create_nodepool(client, c["id"])
    np2 = await create_nodepool(client, c["id"])
    await delete(client, f"/nodepools/{np1['id']}")
    await delete(client, f"/nodepools/{np2['id']}")
    r = await client.post(f"{API}/nodepools/{np1['id']}/force-delete", json={"reason": "x"})
    assert r.status_code == 204, r.text
    r = await client.post(
        f"{API}/clusters/{c['id']}/nodepools/{np2['id']}/force-delete", json={"reason": "x"}
    )
    assert r.status_code == 204, r.text
    for np in (np1, np2):
        assert_problem(await client.get(f"{API}/nodepools/{np['id']}"), 404, "HYPERFLEET-NTF-001")
    assert await get_json(client, f"/clusters/{c['id']}") == c


async def test_force_delete_nodepool_under_wrong_cluster_is_404(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    np = await create_nodepool(client, c1["id"])
    await delete(client, f"/nodepools/{np['id']}")
    r = await client.post(
        f"{API}/clusters/{c2['id']}/nodepools/{np['id']}/force-delete", json={"reason": "x"}
    )
    assert_problem(r, 404, "HYPERFLEET-NTF-001")
    assert (await client.get(f"{API}/nodepools/{np['id']}")).status_code == 200


async def test_force_delete_via_resources_route(client):
    c = await create_cluster(client)
    await delete(client, f"/clusters/{c['id']}")
    r = await client.post(f"{API}/resources/{c['id']}/force-delete", json={"reason": "x"})
    assert r.status_code == 204, r.text
    assert (await client.get(f"{API}/clusters/{c['id']}")).status_code == 404


# == hard delete through adapter Finalized reports ============================================


async def test_cluster_hard_deleted_after_last_required_adapter_finalizes(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    deleted = await delete(client, path)
    gen = deleted["generation"]
    assert gen == 2

    # Available may be True or False while finalizing; what counts is Finalized=True at gen.
    availability = {
        "validation": "True",
        "dns": "False",
        "pullsecret": "True",
        "hypershift": "False",
    }
    for i, adapter in enumerate(CLUSTER_ADAPTERS):
        r = await report(
            client, path, adapter, gen, available=availability[adapter], finalized="True"
        )
        assert r.status_code == 201, r.text
        assert r.json()["adapter"] == adapter
        if i < len(CLUSTER_ADAPTERS) - 1:
            still = await get_json(client, path)
            assert still["deleted_time"] == deleted["deleted_time"]
            assert still["generation"] == gen
    assert_problem(await client.get(f"{API}{path}"), 404, "HYPERFLEET-NTF-001")
    assert_problem(await client.get(f"{API}{path}/statuses"), 404, "HYPERFLEET-NTF-001")
    assert assert_json(await client.get(f"{API}/clusters"), 200)["total"] == 0
    r = await client.delete(f"{API}{path}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001", "Cluster not found")


async def test_deleting_reconciled_message_tracks_finalizers(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    gen = (await delete(client, path))["generation"]
    r = await report(client, path, "dns", gen, finalized="True")
    assert r.status_code == 201, r.text
    body = await get_json(client, path)
    rec = condition(body, "Reconciled")
    assert rec["status"] == "False"
    assert rec["message"] == (
        "Required adapters not reporting Finalized=True: [hypershift, pullsecret, validation]. "
        "Currently reporting: [dns]"
    )


@pytest.mark.parametrize(
    "last",
    [
        {"finalized": None},
        {"finalized": "False"},
        {"finalized": "Unknown"},
    ],
    ids=["no-finalized", "finalized-false", "finalized-unknown"],
)
async def test_no_hard_delete_without_finalized_true(client, last):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    gen = (await delete(client, path))["generation"]
    await finalize(client, path, CLUSTER_ADAPTERS[:-1], gen)
    r = await report(client, path, CLUSTER_ADAPTERS[-1], gen, **last)
    assert r.status_code == 201, r.text
    assert (await get_json(client, path))["deleted_time"]


async def test_finalized_before_delete_does_not_hard_delete(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    await finalize(client, path, CLUSTER_ADAPTERS, 1)
    body = await get_json(client, path)
    assert "deleted_time" not in body
    # after DELETE the generation moved on: the old Finalized rows do not count
    deleted = await delete(client, path)
    assert deleted["generation"] == 2
    assert await get_json(client, path) == deleted


async def test_finalized_at_current_generation_for_some_not_enough(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    gen = (await delete(client, path))["generation"]
    await finalize(client, path, ("validation", "dns", "pullsecret"), gen)
    # a non-required adapter finalizing does not complete the set
    r = await report(client, path, "monitoring", gen, finalized="True")
    assert r.status_code == 201, r.text
    assert (await client.get(f"{API}{path}")).status_code == 200
    await finalize(client, path, ("hypershift",), gen)
    assert (await client.get(f"{API}{path}")).status_code == 404


async def test_nodepool_hard_deleted_on_its_own(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    nested = f"/clusters/{c['id']}/nodepools/{np['id']}"
    gen = (await delete(client, nested))["generation"]
    r = await report(client, nested, "validation", gen, finalized="True")
    assert r.status_code == 201, r.text
    assert (await client.get(f"{API}/nodepools/{np['id']}")).status_code == 200
    r = await report(
        client, f"/nodepools/{np['id']}", "hypershift", gen, available="False", finalized="True"
    )
    assert r.status_code == 201, r.text
    assert_problem(await client.get(f"{API}{nested}"), 404, "HYPERFLEET-NTF-001")
    assert await get_json(client, f"/clusters/{c['id']}") == c


async def test_nodepools_finalized_first_then_cluster(client):
    c = await create_cluster(client)
    np1 = await create_nodepool(client, c["id"])
    np2 = await create_nodepool(client, c["id"])
    deleted = await delete(client, f"/clusters/{c['id']}")

    for np in (np1, np2):
        await finalize(client, f"/nodepools/{np['id']}", NODEPOOL_ADAPTERS, np["generation"] + 1)
        assert (await client.get(f"{API}/nodepools/{np['id']}")).status_code == 404
    # children gone, but the cluster still waits for its own adapters
    still = await get_json(client, f"/clusters/{c['id']}")
    assert still["deleted_time"] == deleted["deleted_time"]

    await finalize(client, f"/clusters/{c['id']}", CLUSTER_ADAPTERS[:-1], deleted["generation"])
    assert (await client.get(f"{API}/clusters/{c['id']}")).status_code == 200
    await finalize(client, f"/clusters/{c['id']}", CLUSTER_ADAPTERS[-1:], deleted["generation"])
    assert_problem(await client.get(f"{API}/clusters/{c['id']}"), 404, "HYPERFLEET-NTF-001")


async def test_cluster_finalized_first_is_removed_when_last_nodepool_goes(client):
    """Beyond the reference (§5, §14.2): the parent is re-evaluated when a child is
    hard-deleted, so it does not wait for another adapter report."""
    c = await create_cluster(client)
    np1 = await create_nodepool(client, c["id"])
    np2 = await create_nodepool(client, c["id"])
    gen = (await delete(client, f"/clusters/{c['id']}"))["generation"]

    await finalize(client, f"/clusters/{c['id']}", CLUSTER_ADAPTERS, gen)
    assert (await client.get(f"{API}/clusters/{c['id']}")).status_code == 200, (
        "nodepools still exist: the cluster must wait"
    )

    await finalize(client, f"/nodepools/{np1['id']}", NODEPOOL_ADAPTERS, 2)
    assert (await client.get(f"{API}/nodepools/{np1['id']}")).status_code == 404
    assert (await client.get(f"{API}/clusters/{c['id']}")).status_code == 200, "one nodepool left"

    await finalize(client, f"/clusters/{c['id']}/nodepools/{np2['id']}", NODEPOOL_ADAPTERS, 2)
    assert (await client.get(f"{API}/nodepools/{np2['id']}")).status_code == 404
    assert_problem(await client.get(f"{API}/clusters/{c['id']}"), 404, "HYPERFLEET-NTF-001")


async def test_cluster_finalized_first_is_removed_when_last_nodepool_is_force_deleted(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    gen = (await delete(client, f"/clusters/{c['id']}"))["generation"]
    await finalize(client, f"/clusters/{c['id']}", CLUSTER_ADAPTERS, gen)
    assert (await client.get(f"{API}/clusters/{c['id']}")).status_code == 200

    r = await client.post(f"{API}/nodepools/{np['id']}/force-delete", json={"reason": "stuck"})
    assert r.status_code == 204, r.text
    assert_problem(await client.get(f"{API}/clusters/{c['id']}"), 404, "HYPERFLEET-NTF-001")


async def test_stale_generation_finalized_does_not_count(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    patched = assert_json(await patch(client, path, {"spec": {"v": 2}}), 200)
    assert patched["generation"] == 2
    # everyone reports at gen 2 (current), then DELETE moves to gen 3
    for adapter in CLUSTER_ADAPTERS:
        r = await report(client, path, adapter, 2)
        assert r.status_code == 201, r.text
    gen = (await delete(client, path))["generation"]
    assert gen == 3
    await finalize(client, path, CLUSTER_ADAPTERS[:-1], gen)
    assert (await client.get(f"{API}{path}")).status_code == 200
    # the last adapter is still at gen 2: the row must survive until it finalizes at gen 3
    body = await get_json(client, path)
    assert condition(body, "Reconciled")["status"] == "False"
    await finalize(client, path, CLUSTER_ADAPTERS[-1:], gen)
    assert (await client.get(f"{API}{path}")).status_code == 404


# -- deeper trees: restrict below a cascade, adapter-less parent of adapter-driven children ----

TREE_ENTITIES = [
    {"kind": "Widget", "plural": "widgets", "required_adapters": ["builder"]},
    {
        "kind": "Gadget",
        "plural": "gadgets",
        "parent_kind": "Widget",
        "on_parent_delete": "cascade",
        "required_adapters": ["builder"],
    },
    {
        "kind": "Part",
        "plural": "parts",
        "parent_kind": "Gadget",
        "on_parent_delete": "restrict",
        "required_adapters": [],
    },
    {"kind": "Shelf", "plural": "shelves", "required_adapters": []},
    {
        "kind": "Book",
        "plural": "books",
        "parent_kind": "Shelf",
        "on_parent_delete": "cascade",
        "required_adapters": ["librarian"],
    },
]


class TestDeeperTrees:
    @pytest.fixture
    def settings(self):
        return load_settings(None, use_env=False, entities=TREE_ENTITIES)

    async def test_restrict_below_cascade_blocks_and_rolls_back(self, client):
        w = await create_kind(client, "/widgets", "Widget")
        g = await create_kind(client, f"/widgets/{w['id']}/gadgets", "Gadget")
        p = await create_kind(client, f"/gadgets/{g['id']}/parts", "Part")
        r = await client.delete(f"{API}/widgets/{w['id']}")
        assert_problem(
            r,
            409,
            "HYPERFLEET-CNF-003",
            f"Cannot delete Gadget '{g['id']}': active Part(s) exist",
        )
        # the whole DELETE rolled back: nothing is marked deleting, no generation moved
        assert await get_json(client, f"/widgets/{w['id']}") == w
        assert await get_json(client, f"/gadgets/{g['id']}") == g
        assert await get_json(client, f"/parts/{p['id']}") == p

    async def test_cascade_marks_whole_subtree(self, client):
        w = await create_kind(client, "/widgets", "Widget")
        g = await create_kind(client, f"/widgets/{w['id']}/gadgets", "Gadget")
        deleted = await delete(client, f"/widgets/{w['id']}")
        gadget = await get_json(client, f"/gadgets/{g['id']}")
        assert gadget["deleted_time"] == deleted["deleted_time"]
        assert gadget["generation"] == 2
        assert gadget["href"] == f"{API}/widgets/{w['id']}/gadgets/{g['id']}"

    async def test_adapterless_parent_waits_for_children_then_goes(self, client):
        shelf = await create_kind(client, "/shelves", "Shelf")
        book = await create_kind(client, f"/shelves/{shelf['id']}/books", "Book")
        deleted = await delete(client, f"/shelves/{shelf['id']}")
        assert "deleted_time" in deleted
        # the Book needs its adapter, so the Shelf row stays (soft-deleted) meanwhile
        assert (await get_json(client, f"/shelves/{shelf['id']}"))["deleted_time"]
        book_now = await get_json(client, f"/books/{book['id']}")
        assert book_now["generation"] == 2
        # repeated DELETE of the Shelf is still 202 and keeps it while the child remains
        again = await delete(client, f"/shelves/{shelf['id']}")
        assert again["deleted_time"] == deleted["deleted_time"]

        await finalize(client, f"/books/{book['id']}", ["librarian"], 2)
        assert_problem(await client.get(f"{API}/books/{book['id']}"), 404, "HYPERFLEET-NTF-001")
        # re-evaluated when its last child was hard-deleted
        assert_problem(await client.get(f"{API}/shelves/{shelf['id']}"), 404, "HYPERFLEET-NTF-001")
