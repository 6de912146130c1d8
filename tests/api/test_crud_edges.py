"""Full CRUD edges (post-MVP §1): PATCH/DELETE on every single-resource route, the 405 on
`…/statuses` writes other than PUT, ETags on single-resource responses and `If-Match` on PATCH
and DELETE (412), idempotent DELETE, PATCH of a deleting resource (409), force-delete (204) and
the flat NodePool POST (422).

Contract: spec/post-mvp.md §1 and §2. Built-in kinds with default required adapters, so a
DELETE leaves the resource soft-deleted ("Deleting") until the adapters finalize.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.factories import (
    API,
    TYPE_BASE,
    assert_json,
    assert_problem,
    cluster_body,
    create_cluster,
    create_nodepool,
    nodepool_body,
)

MISSING = "019466a0-8f8e-7abc-9def-0123456789ab"
ETAG_RE = re.compile(r'^"(\d+)-(\d+)"$')
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Every way a single resource is addressed.
TARGETS = ("cluster", "nested_nodepool", "flat_nodepool", "resources_cluster", "resources_nodepool")
NODEPOOL_TARGETS = ("nested_nodepool", "flat_nodepool")


async def make_target(client: httpx.AsyncClient, where: str) -> tuple[str, dict[str, Any]]:
    """Create what `where` addresses; return (item path under API, 201 body)."""
    cluster = await create_cluster(client)
    if where == "cluster":
        return f"/clusters/{cluster['id']}", cluster
    if where == "resources_cluster":
        return f"/resources/{cluster['id']}", cluster
    pool = await create_nodepool(client, cluster["id"])
    paths = {
        "nested_nodepool": f"/clusters/{cluster['id']}/nodepools/{pool['id']}",
        "flat_nodepool": f"/nodepools/{pool['id']}",
        "resources_nodepool": f"/resources/{pool['id']}",
    }
    return paths[where], pool


def problem(
    r: httpx.Response,
    status: int,
    code: str,
    *,
    title: str,
    slug: str,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    body = assert_problem(r, status, code, fields=fields)
    assert body["title"] == title, body
    assert body["type"] == TYPE_BASE + slug, body
    return body


def precondition_failed(r: httpx.Response) -> dict[str, Any]:
    return problem(
        r, 412, "HYPERFLEET-CNF-006", title="Precondition Failed", slug="precondition-failed"
    )


def epoch_micros(value: str) -> int:
    return (datetime.fromisoformat(value) - EPOCH) // timedelta(microseconds=1)


def check_etag(r: httpx.Response) -> str:
    """The ETag is `"<generation>-<updated_time as epoch micros>"` of the body it comes with."""
    etag = r.headers.get("etag")
    assert etag is not None, (r.status_code, r.headers)
    m = ETAG_RE.match(etag)
    assert m, etag
    body = r.json()
    assert int(m.group(1)) == body["generation"], (etag, body["generation"])
    assert int(m.group(2)) == epoch_micros(body["updated_time"]), (etag, body["updated_time"])
    return etag


async def tick() -> None:
    """Let the clock move so that a changed `updated_time` is observable."""
    await asyncio.sleep(0.002)


# == PATCH and DELETE on nodepool routes =====================================================


@pytest.mark.parametrize("where", NODEPOOL_TARGETS)
async def test_patch_nodepool(client, where):
    path, pool = await make_target(client, where)
    r = await client.patch(f"{API}{path}", json={"spec": {"replicas": 3}, "labels": {"a": "b"}})
    body = assert_json(r, 200)
    assert body["id"] == pool["id"]
    assert body["kind"] == "NodePool"
    assert body["spec"] == {"replicas": 3}
    assert body["labels"] == {"a": "b"}
    assert body["generation"] == 2
    got = assert_json(await client.get(f"{API}{path}"), 200)
    assert got["spec"] == {"replicas": 3}
    assert got["generation"] == 2


@pytest.mark.parametrize("where", NODEPOOL_TARGETS)
async def test_delete_nodepool(client, where):
    path, pool = await make_target(client, where)
    r = await client.delete(f"{API}{path}")
    body = assert_json(r, 202)
    assert body["id"] == pool["id"]
    assert body["generation"] == 2
    assert body["deleted_time"]
    assert body["status"]["phase"] == "Deleting"
    got = assert_json(await client.get(f"{API}{path}"), 200)
    assert got["deleted_time"] == body["deleted_time"]
    assert got["status"]["phase"] == "Deleting"


async def test_flat_and_nested_nodepool_routes_see_each_others_writes(client):
    cluster = await create_cluster(client)
    pool = await create_nodepool(client, cluster["id"])
    nested = f"{API}/clusters/{cluster['id']}/nodepools/{pool['id']}"
    flat = f"{API}/nodepools/{pool['id']}"
    assert_json(await client.patch(flat, json={"spec": {"x": 1}}), 200)
    assert assert_json(await client.get(nested), 200)["spec"] == {"x": 1}
    assert_json(await client.patch(nested, json={"spec": {"x": 2}}), 200)
    got = assert_json(await client.get(flat), 200)
    assert got["spec"] == {"x": 2}
    assert got["generation"] == 3


async def test_nested_nodepool_under_other_cluster_is_404(client):
    a = await create_cluster(client)
    b = await create_cluster(client)
    pool = await create_nodepool(client, a["id"])
    wrong = f"{API}/clusters/{b['id']}/nodepools/{pool['id']}"
    assert_problem(await client.patch(wrong, json={"spec": {}}), 404, "HYPERFLEET-NTF-001")
    assert_problem(await client.delete(wrong), 404, "HYPERFLEET-NTF-001")


async def test_flat_nodepool_post_is_422(client):
    r = await client.post(f"{API}/nodepools", json=nodepool_body())
    assert_problem(r, 422, "HYPERFLEET-VAL-000", fields=["kind"])


@pytest.mark.parametrize("where", TARGETS)
async def test_patch_unknown_field_and_empty_body_are_400(client, where):
    path, _ = await make_target(client, where)
    r = await client.patch(f"{API}{path}", json={"spec": {}, "name": "renamed"})
    assert_problem(r, 400, "HYPERFLEET-VAL-006", fields=["name"])
    r = await client.patch(f"{API}{path}", json={})
    assert_problem(r, 400, "HYPERFLEET-VAL-005")


@pytest.mark.parametrize("where", ["cluster", "nested_nodepool", "flat_nodepool"])
async def test_force_delete_of_deleting_resource_is_204(client, where):
    path, _ = await make_target(client, where)
    assert_json(await client.delete(f"{API}{path}"), 202)
    r = await client.post(f"{API}{path}/force-delete", json={"reason": "stuck adapter"})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_problem(await client.get(f"{API}{path}"), 404, "HYPERFLEET-NTF-001")


# == 405 on …/statuses ========================================================================

STATUS_TARGETS = (
    "cluster",
    "nested_nodepool",
    "flat_nodepool",
    "resources_cluster",
    "resources_nodepool",
)


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "POST"])
@pytest.mark.parametrize("where", STATUS_TARGETS)
async def test_statuses_write_methods_other_than_put_are_405(client, where, method):
    path, _ = await make_target(client, where)
    url = f"{API}{path}/statuses"
    kwargs: dict[str, Any] = {} if method == "DELETE" else {"json": {"adapter": "dns"}}
    r = await client.request(method, url, **kwargs)
    body = problem(
        r, 405, "HYPERFLEET-MTH-001", title="Method Not Allowed", slug="method-not-allowed"
    )
    assert r.headers["allow"] == "GET, PUT"
    assert "immutable" in body["detail"], body["detail"]
    assert "disappear only with their resource" in body["detail"], body["detail"]
    assert method in body["detail"]
    # Nothing was touched: the list still answers, empty.
    listed = assert_json(await client.get(url), 200)
    assert listed["items"] == []


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/clusters/{MISSING}/statuses",
        f"{API}/nodepools/{MISSING}/statuses",
        f"{API}/resources/{MISSING}/statuses",
        f"{API}/clusters/{MISSING}/nodepools/{MISSING}/statuses",
    ],
)
async def test_statuses_delete_is_405_even_for_unknown_resource(client, url):
    r = await client.delete(url)
    problem(r, 405, "HYPERFLEET-MTH-001", title="Method Not Allowed", slug="method-not-allowed")
    assert r.headers["allow"] == "GET, PUT"


# == ETag ====================================================================================


@pytest.mark.parametrize("where", TARGETS)
async def test_etag_on_every_single_resource_response(client, where):
    cluster = await create_cluster(client)
    r = await client.post(f"{API}/clusters", json=cluster_body())
    assert r.status_code == 201, r.text
    check_etag(r)
    r = await client.post(f"{API}/clusters/{cluster['id']}/nodepools", json=nodepool_body())
    assert r.status_code == 201, r.text
    check_etag(r)

    path, created = await make_target(client, where)
    url = f"{API}{path}"
    r = await client.get(url)
    assert_json(r, 200)
    at_get = check_etag(r)
    assert at_get == f'"1-{epoch_micros(created["updated_time"])}"'
    r = await client.get(url, params={"fields": "id"})
    assert_json(r, 200)
    assert r.headers.get("etag") == at_get, "a projected GET still names the resource's version"

    await tick()
    r = await client.patch(url, json={"spec": {"v": 1}})
    assert_json(r, 200)
    at_patch = check_etag(r)
    assert at_patch != at_get
    r = await client.get(url)
    assert r.headers["etag"] == at_patch

    await tick()
    r = await client.delete(url)
    assert_json(r, 202)
    at_delete = check_etag(r)
    assert at_delete not in (at_get, at_patch)
    r = await client.get(url)
    assert r.headers["etag"] == at_delete


async def test_no_etag_on_lists(client):
    cluster = await create_cluster(client)
    await create_nodepool(client, cluster["id"])
    for url in (
        f"{API}/clusters",
        f"{API}/nodepools",
        f"{API}/clusters/{cluster['id']}/nodepools",
        f"{API}/resources",
        f"{API}/clusters/{cluster['id']}/statuses",
        f"{API}/clusters/{cluster['id']}/phase-history",
    ):
        r = await client.get(url)
        assert_json(r, 200)
        assert "etag" not in r.headers, url


async def test_noop_patch_keeps_etag_and_real_patch_changes_it(client):
    c = await create_cluster(client, spec={"a": 1}, labels={"x": "y"})
    url = f"{API}/clusters/{c['id']}"
    first = (await client.get(url)).headers["etag"]
    await tick()
    r = await client.patch(url, json={"spec": {"a": 1.0}, "labels": {"x": "y"}})
    body = assert_json(r, 200)
    assert body["generation"] == 1
    assert body["updated_time"] == c["updated_time"]
    assert r.headers["etag"] == first
    await tick()
    r = await client.patch(url, json={"labels": {"x": "z"}})
    assert_json(r, 200)
    assert r.headers["etag"] != first
    assert check_etag(r).startswith('"2-')


# == If-Match =================================================================================


@pytest.mark.parametrize("where", TARGETS)
async def test_if_match_on_patch(client, where):
    path, _ = await make_target(client, where)
    url = f"{API}{path}"
    current = (await client.get(url)).headers["etag"]

    # Mismatch: 412 with the current ETag, nothing written.
    stale = '"1-1"'
    r = await client.patch(url, json={"spec": {"n": 0}}, headers={"If-Match": stale})
    body = precondition_failed(r)
    assert body["current_etag"] == current
    assert stale in body["detail"]
    got = assert_json(await client.get(url), 200)
    assert got["generation"] == 1
    assert got["spec"] == {}

    # Weak validators never match under strong comparison.
    r = await client.patch(url, json={"spec": {"n": 0}}, headers={"If-Match": f"W/{current}"})
    assert precondition_failed(r)["current_etag"] == current

    # Matching: applied, new ETag.
    await tick()
    r = await client.patch(url, json={"spec": {"n": 1}}, headers={"If-Match": current})
    assert_json(r, 200)
    after_one = check_etag(r)
    assert after_one != current

    # The old ETag no longer matches.
    r = await client.patch(url, json={"spec": {"n": 9}}, headers={"If-Match": current})
    assert precondition_failed(r)["current_etag"] == after_one

    # A list containing the current one matches.
    await tick()
    r = await client.patch(
        url, json={"spec": {"n": 2}}, headers={"If-Match": f'"0-0", {after_one} , "9-9"'}
    )
    assert_json(r, 200)
    after_two = check_etag(r)

    # A list without it does not.
    r = await client.patch(
        url, json={"spec": {"n": 9}}, headers={"If-Match": f"{current}, {after_one}"}
    )
    assert precondition_failed(r)["current_etag"] == after_two

    # `*` matches any existing resource.
    await tick()
    r = await client.patch(url, json={"spec": {"n": 3}}, headers={"If-Match": "*"})
    assert_json(r, 200)
    after_star = check_etag(r)

    # No header: no check.
    await tick()
    r = await client.patch(url, json={"spec": {"n": 4}})
    body = assert_json(r, 200)
    assert body["generation"] == 5
    assert check_etag(r) != after_star


@pytest.mark.parametrize("where", TARGETS)
async def test_if_match_on_delete_mismatch_and_weak_are_412(client, where):
    path, _ = await make_target(client, where)
    url = f"{API}{path}"
    current = (await client.get(url)).headers["etag"]
    r = await client.delete(url, headers={"If-Match": '"7-7"'})
    assert precondition_failed(r)["current_etag"] == current
    r = await client.delete(url, headers={"If-Match": f"W/{current}"})
    assert precondition_failed(r)["current_etag"] == current
    got = assert_json(await client.get(url), 200)
    assert "deleted_time" not in got
    assert got["status"]["phase"] != "Deleting"


@pytest.mark.parametrize("header", ["current", "star", "list", "none"])
async def test_if_match_on_delete_success(client, header):
    c = await create_cluster(client)
    url = f"{API}/clusters/{c['id']}"
    current = (await client.get(url)).headers["etag"]
    headers = {
        "current": {"If-Match": current},
        "star": {"If-Match": "*"},
        "list": {"If-Match": f'"1-1",{current}'},
        "none": {},
    }[header]
    r = await client.delete(url, headers=headers)
    body = assert_json(r, 202)
    assert body["deleted_time"]
    assert check_etag(r) != current


async def test_if_match_on_repeated_delete(client):
    c = await create_cluster(client)
    url = f"{API}/clusters/{c['id']}"
    before = (await client.get(url)).headers["etag"]
    r = await client.delete(url)
    after = check_etag(r)
    # The pre-delete ETag is stale now: the first DELETE bumped the generation.
    r = await client.delete(url, headers={"If-Match": before})
    assert precondition_failed(r)["current_etag"] == after
    r = await client.delete(url, headers={"If-Match": after})
    assert_json(r, 202)
    assert r.headers["etag"] == after


async def test_if_match_on_missing_resource_is_404(client):
    r = await client.patch(
        f"{API}/clusters/{MISSING}", json={"spec": {}}, headers={"If-Match": "*"}
    )
    assert_problem(r, 404, "HYPERFLEET-NTF-001")
    r = await client.delete(f"{API}/clusters/{MISSING}", headers={"If-Match": '"1-1"'})
    assert_problem(r, 404, "HYPERFLEET-NTF-001")


# == Repeated DELETE, PATCH while deleting ====================================================


@pytest.mark.parametrize("where", TARGETS)
async def test_repeated_delete_is_idempotent(client, where):
    path, _ = await make_target(client, where)
    url = f"{API}{path}"
    r1 = await client.delete(url)
    first = assert_json(r1, 202)
    await tick()
    r2 = await client.delete(url)
    second = assert_json(r2, 202)
    assert second["deleted_time"] == first["deleted_time"]
    assert second["generation"] == first["generation"] == 2
    assert second["updated_time"] == first["updated_time"]
    assert second["deleted_by"] == first["deleted_by"]
    assert r2.headers["etag"] == r1.headers["etag"]
    assert second["status"]["phase"] == "Deleting"
    history = assert_json(await client.get(f"{url}/phase-history"), 200)
    assert [h["to_phase"] for h in history["items"]].count("Deleting") == 1


async def test_repeated_cluster_delete_does_not_bump_children_again(client):
    cluster = await create_cluster(client)
    pool = await create_nodepool(client, cluster["id"])
    assert_json(await client.delete(f"{API}/clusters/{cluster['id']}"), 202)
    child = assert_json(await client.get(f"{API}/nodepools/{pool['id']}"), 200)
    assert child["generation"] == 2
    assert_json(await client.delete(f"{API}/clusters/{cluster['id']}"), 202)
    again = assert_json(await client.get(f"{API}/nodepools/{pool['id']}"), 200)
    assert again["generation"] == 2
    assert again["deleted_time"] == child["deleted_time"]


@pytest.mark.parametrize("where", TARGETS)
async def test_patch_of_deleting_resource_is_409(client, where):
    path, _ = await make_target(client, where)
    url = f"{API}{path}"
    deleted = assert_json(await client.delete(url), 202)
    r = await client.patch(url, json={"spec": {"late": True}})
    assert_problem(r, 409, "HYPERFLEET-CNF-003")
    # Even with the right ETag.
    etag = (await client.get(url)).headers["etag"]
    r = await client.patch(url, json={"labels": {"a": "b"}}, headers={"If-Match": etag})
    assert_problem(r, 409, "HYPERFLEET-CNF-003")
    got = assert_json(await client.get(url), 200)
    assert got["generation"] == deleted["generation"]
    assert got["spec"] == {}


async def test_patch_of_nodepool_whose_cluster_is_deleting_is_409(client):
    cluster = await create_cluster(client)
    pool = await create_nodepool(client, cluster["id"])
    assert_json(await client.delete(f"{API}/clusters/{cluster['id']}"), 202)
    for url in (
        f"{API}/nodepools/{pool['id']}",
        f"{API}/clusters/{cluster['id']}/nodepools/{pool['id']}",
    ):
        assert_problem(await client.patch(url, json={"spec": {"a": 1}}), 409, "HYPERFLEET-CNF-003")
