"""Cursor pages on every list (interfaces.md "Lists at scale"; docs/api.md "Lists").

A walk starts without a cursor and follows `next_cursor` until it is null; it must return every
item that existed when it started exactly once, in the list's order, whatever happens between
pages, and a cursor is only good for the list, search and order it was issued for.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from tests.factories import (
    API,
    assert_json,
    assert_problem,
    create_cluster,
    create_nodepool,
    delete,
    report,
)


async def page_of(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    return assert_json(await client.get(f"{API}{path}", params=params), 200)


async def walk(
    client: httpx.AsyncClient, path: str, size: int | list[int], **params: Any
) -> list[dict[str, Any]]:
    """Every page of a cursor walk; `size` may change from page to page."""
    sizes = size if isinstance(size, list) else [size]
    pages = [await page_of(client, path, size=sizes[0], **params)]
    while pages[-1]["next_cursor"] is not None:
        n = sizes[min(len(pages), len(sizes) - 1)]
        cursor = pages[-1]["next_cursor"]
        pages.append(await page_of(client, path, cursor=cursor, size=n, **params))
        assert len(pages) < 100, "a walk that does not end"
    return pages


def ids(pages: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page["items"]]


async def all_ids(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    """The list in one page-number request (the reference order)."""
    body = await page_of(client, path, size=100, **params)
    assert body["total"] <= 100
    return [item["id"] for item in body["items"]]


def cursor_problem(r: httpx.Response) -> dict[str, Any]:
    return assert_problem(r, 400, "HYPERFLEET-VAL-005", fields=["cursor"])


def tamper(token: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01  # a byte of the payload, behind the checksum
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


# --- walks -------------------------------------------------------------------------------------


async def test_walk_returns_every_cluster_once_in_order_and_ends_with_null(client):
    created = [await create_cluster(client) for _ in range(7)]
    pages = await walk(client, "/clusters", 3)
    assert ids(pages) == [c["id"] for c in reversed(created)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [(p["page"], p["size"], p["total"]) for p in pages] == [(1, 3, 7), (2, 3, 7), (3, 1, 7)]
    assert pages[-1]["next_cursor"] is None
    assert all(isinstance(p["next_cursor"], str) for p in pages[:-1])


async def test_exactly_full_last_page_has_null_cursor(client):
    for _ in range(4):
        await create_cluster(client)
    pages = await walk(client, "/clusters", 2)
    assert [len(p["items"]) for p in pages] == [2, 2]
    assert pages[-1]["next_cursor"] is None


async def test_inserts_and_deletes_during_a_walk_skip_or_repeat_nothing_that_existed(client):
    created = [await create_cluster(client) for _ in range(6)]
    first = await page_of(client, "/clusters", size=2)
    newer = [await create_cluster(client) for _ in range(3)]  # sort before the cursor
    second = await page_of(client, "/clusters", cursor=first["next_cursor"], size=2)
    await delete(client, f"/clusters/{created[0]['id']}")  # soft delete: still listed
    rest = await walk(client, "/clusters", 2, cursor=second["next_cursor"])
    seen = ids([first, second, *rest])
    assert seen == [c["id"] for c in reversed(created)]
    assert not set(seen) & {c["id"] for c in newer}
    assert {p["total"] for p in [first, second, *rest]} == {6}, "the walk's first total"


async def test_size_may_change_between_pages(client):
    created = [await create_cluster(client) for _ in range(9)]
    pages = await walk(client, "/clusters", [2, 5, 1, 100])
    assert [len(p["items"]) for p in pages] == [2, 5, 1, 1]
    assert ids(pages) == [c["id"] for c in reversed(created)]


async def test_page_numbers_are_unchanged_and_agree_with_the_cursor_walk(client):
    for _ in range(5):
        await create_cluster(client)
    numbered = [await page_of(client, "/clusters", page=n, size=2) for n in (1, 2, 3, 4)]
    assert [(p["page"], p["size"], p["total"]) for p in numbered] == [
        (1, 2, 5),
        (2, 2, 5),
        (3, 1, 5),
        (4, 0, 5),
    ]
    assert [p["next_cursor"] is None for p in numbered] == [False, False, True, True]
    assert ids(numbered) == ids(await walk(client, "/clusters", 2))
    # A deep page number hands out a cursor too, continuing after its last item.
    resumed = await page_of(client, "/clusters", cursor=numbered[1]["next_cursor"], size=2)
    assert resumed["items"] == numbered[2]["items"]
    assert resumed["page"] == 3


async def test_walk_with_a_search(client):
    prod = [await create_cluster(client, labels={"env": "prod"}) for _ in range(5)]
    for _ in range(4):
        await create_cluster(client, labels={"env": "dev"})
    search = "labels.env='prod'"
    pages = await walk(client, "/clusters", 2, search=search)
    assert ids(pages) == [c["id"] for c in reversed(prod)]
    assert {p["total"] for p in pages} == {5}
    # The cursor carries its search: following it without repeating the search is the same.
    bare = await page_of(client, "/clusters", cursor=pages[0]["next_cursor"], size=2)
    assert bare["items"] == pages[1]["items"]


@pytest.mark.parametrize(
    "order",
    [
        "name",
        "name desc",
        "generation desc,name",
        "deleted_time",
        "deleted_time desc",
        "owner_id,created_time",
        "updated_time desc",
        "id desc",
    ],
)
async def test_walk_in_every_order_matches_the_single_page(client, order):
    created = [await create_cluster(client) for _ in range(6)]
    for c in created[1:3]:  # generation 2 and a deleted_time, so NULLs and ties both occur
        await delete(client, f"/clusters/{c['id']}")
    expected = await all_ids(client, "/clusters", order=order)
    pages = await walk(client, "/clusters", 2, order=order)
    assert ids(pages) == expected
    assert sorted(expected) == sorted(c["id"] for c in created)


async def test_walk_on_nested_flat_and_generic_lists(client):
    cluster = await create_cluster(client)
    other = await create_cluster(client)
    pools = [await create_nodepool(client, cluster["id"]) for _ in range(5)]
    await create_nodepool(client, other["id"])
    nested = await walk(client, f"/clusters/{cluster['id']}/nodepools", 2)
    assert ids(nested) == [p["id"] for p in reversed(pools)]
    flat = await walk(client, "/nodepools", 2)
    assert ids(flat) == await all_ids(client, "/nodepools")
    assert len(ids(flat)) == 6
    everything = await walk(client, "/resources", 3)
    assert ids(everything) == await all_ids(client, "/resources")
    assert len(ids(everything)) == 8
    clusters = await walk(client, "/resources", 1, kind="Cluster")
    assert ids(clusters) == [other["id"], cluster["id"]]


async def test_walk_on_statuses(client):
    cluster = await create_cluster(client)
    path = f"/clusters/{cluster['id']}"
    for adapter in ("validation", "dns", "pullsecret", "hypershift", "extra"):
        assert (await report(client, path, adapter, 1)).status_code == 201
    pages = await walk(client, f"{path}/statuses", 2)
    adapters = [item["adapter"] for page in pages for item in page["items"]]
    assert adapters == ["dns", "extra", "hypershift", "pullsecret", "validation"]
    assert [(p["page"], p["total"]) for p in pages] == [(1, 5), (2, 5), (3, 5)]
    assert pages[-1]["next_cursor"] is None
    flat = await walk(client, f"/resources/{cluster['id']}/statuses", 4)
    assert [i["adapter"] for p in flat for i in p["items"]] == adapters


async def test_walk_on_nodepool_statuses(client):
    cluster = await create_cluster(client)
    pool = await create_nodepool(client, cluster["id"])
    for adapter in ("validation", "hypershift", "zeta"):
        assert (await report(client, f"/nodepools/{pool['id']}", adapter, 1)).status_code == 201
    for path in (f"/clusters/{cluster['id']}/nodepools/{pool['id']}", f"/nodepools/{pool['id']}"):
        pages = await walk(client, f"{path}/statuses", 1)
        assert [i["adapter"] for p in pages for i in p["items"]] == [
            "hypershift",
            "validation",
            "zeta",
        ]


async def test_walk_on_phase_history(client):
    cluster = await create_cluster(client)
    path = f"/clusters/{cluster['id']}"
    for health in ("True", "False", "True", "False"):  # Pending, then four transitions
        assert (await report(client, path, "dns", 1, health=health)).status_code == 201
    full = await page_of(client, f"{path}/phase-history", size=100)
    assert full["total"] == 5
    assert full["next_cursor"] is None
    pages = await walk(client, f"{path}/phase-history", 2)
    assert [i for p in pages for i in p["items"]] == full["items"]
    assert [(p["page"], p["size"], p["total"]) for p in pages] == [(1, 2, 5), (2, 2, 5), (3, 1, 5)]


# --- bad cursors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["x", "not a cursor", "%%%", "AAAA", "eyJ2IjoxfQ", "A" * 17000, "W10", "🙂"],
)
async def test_garbled_cursor_is_400_naming_cursor(client, token):
    await create_cluster(client)
    cursor_problem(await client.get(f"{API}/clusters", params={"cursor": token}))


async def test_tampered_cursor_is_400(client):
    for _ in range(3):
        await create_cluster(client)
    token = (await page_of(client, "/clusters", size=1))["next_cursor"]
    cursor_problem(await client.get(f"{API}/clusters", params={"cursor": tamper(token)}))
    cursor_problem(await client.get(f"{API}/clusters", params={"cursor": token[:-2]}))
    cursor_problem(await client.get(f"{API}/clusters", params={"cursor": token + "AA"}))


async def test_cursor_of_another_search_order_kind_or_list_is_400(client):
    cluster = await create_cluster(client, labels={"env": "prod"})
    await create_cluster(client, labels={"env": "prod"})
    for _ in range(2):
        await create_nodepool(client, cluster["id"])
    search = "labels.env='prod'"
    token = (await page_of(client, "/clusters", size=1, search=search))["next_cursor"]
    mismatched = [
        ("/clusters", {"search": "labels.env='dev'"}),
        ("/clusters", {"search": ""}),
        ("/clusters", {"search": search, "order": "name"}),
        ("/nodepools", {}),
        (f"/clusters/{cluster['id']}/nodepools", {}),
        ("/resources", {}),
        (f"/clusters/{cluster['id']}/statuses", {}),
        (f"/clusters/{cluster['id']}/phase-history", {}),
    ]
    for path, params in mismatched:
        r = await client.get(f"{API}{path}", params={"cursor": token, **params})
        cursor_problem(r)
    same = await client.get(
        f"{API}/clusters", params={"cursor": token, "search": search, "order": "created_time desc"}
    )
    assert_json(same, 200)
    kinded = (await page_of(client, "/resources", size=1, kind="Cluster"))["next_cursor"]
    r = await client.get(f"{API}/resources", params={"cursor": kinded, "kind": "NodePool"})
    cursor_problem(r)
    statuses_token = await _statuses_cursor(client, cluster["id"])
    other = await create_cluster(client)
    r = await client.get(
        f"{API}/clusters/{other['id']}/statuses", params={"cursor": statuses_token}
    )
    cursor_problem(r)
    r = await client.get(f"{API}/clusters", params={"cursor": statuses_token})
    cursor_problem(r)


async def _statuses_cursor(client: httpx.AsyncClient, cluster_id: str) -> str:
    for adapter in ("validation", "dns"):
        assert (await report(client, f"/clusters/{cluster_id}", adapter, 1)).status_code == 201
    token = (await page_of(client, f"/clusters/{cluster_id}/statuses", size=1))["next_cursor"]
    assert isinstance(token, str)
    return token


async def test_cursor_with_page_is_400_and_empty_cursor_is_no_cursor(client):
    for _ in range(2):
        await create_cluster(client)
    token = (await page_of(client, "/clusters", size=1))["next_cursor"]
    cursor_problem(await client.get(f"{API}/clusters", params={"cursor": token, "page": "2"}))
    body = await page_of(client, "/clusters", cursor="", size=1)
    assert (body["page"], body["total"]) == (1, 2)


async def test_garbled_statuses_and_history_cursors_are_400(client):
    cluster = await create_cluster(client)
    for suffix in ("statuses", "phase-history"):
        r = await client.get(f"{API}/clusters/{cluster['id']}/{suffix}", params={"cursor": "zz"})
        cursor_problem(r)


# --- lean projection -------------------------------------------------------------------------

LEAN = "id,kind,href,generation,owner_references,status.conditions,deleted_time"


def projected(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item[k] for k in ("id", "kind", "href", "generation") if k in item}
    if "owner_references" in item:
        out["owner_references"] = item["owner_references"]
    out["status"] = {"conditions": item["status"]["conditions"]}
    if "deleted_time" in item:
        out["deleted_time"] = item["deleted_time"]
    return out


async def test_lean_sentinel_projection_over_a_cursor_walk(client):
    cluster = await create_cluster(client)
    await delete(client, f"/clusters/{cluster['id']}")
    for _ in range(2):
        await create_cluster(client)
    pools = [await create_nodepool(client, (await create_cluster(client))["id"]) for _ in range(2)]
    for path in ("/clusters", "/nodepools"):
        full = (await page_of(client, path, size=100))["items"]
        pages = await walk(client, path, 2, fields=LEAN)
        lean = [item for page in pages for item in page["items"]]
        assert lean == [projected(item) for item in full]
        assert all(next(iter(item)) == "id" for item in lean)
    assert {p["id"] for p in pools} <= {i["id"] for i in lean}
    deleted = next(
        i
        for i in (await page_of(client, "/clusters", fields=LEAN))["items"]
        if i["id"] == cluster["id"]
    )
    assert deleted["deleted_time"]


async def test_projection_of_paths_that_do_not_fit_the_body(client):
    cluster = await create_cluster(client, labels={"env": "prod"})
    cases = {
        "labels.env.deeper": {"id": cluster["id"]},  # through a string
        "status.conditions.type": {"id": cluster["id"]},  # through an array
        "deleted_time.x": {"id": cluster["id"]},  # through a missing value
        "labels,labels.env": {"id": cluster["id"], "labels": {"env": "prod"}},
        "labels.env,labels": {"id": cluster["id"], "labels": {"env": "prod"}},
        "spec.missing,name": {"id": cluster["id"], "name": cluster["name"]},
    }
    for fields, expected in cases.items():
        items = (await page_of(client, "/clusters", fields=fields))["items"]
        assert items == [expected], fields
        one = assert_json(
            await client.get(f"{API}/clusters/{cluster['id']}", params={"fields": fields}), 200
        )
        assert one == expected, fields
