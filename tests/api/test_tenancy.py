"""Tenancy (issue #10): header resolution, stamping, name scoping and read isolation.

Through the HTTP stack on real PostgreSQL. Tenants are `X-Org` (key `org`, required) and
`X-Team` (key `team`, optional); `X-HyperFleet-System: true` is the system caller.
Contract: docs/security.md#tenancy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp
from tests.conftest import make_settings
from tests.factories import (
    API,
    assert_json,
    assert_problem,
    cluster_body,
    nodepool_body,
    report_body,
    unique_name,
)

from hyperfleet.config import Settings
from hyperfleet.rest.app import create_app

TENANT = {
    "enabled": True,
    "dimensions": [
        {"header": "X-Org", "key": "org", "required": True},
        {"header": "X-Team", "key": "team"},
    ],
}
ACME = {"X-Org": "acme"}
GLOBEX = {"X-Org": "globex"}
SYSTEM = {"X-HyperFleet-System": "true"}
MISSING = "019466a0-8f8e-7abc-9def-0123456789ab"

Caller = Callable[..., httpx.AsyncClient]


@pytest.fixture
def settings() -> Settings:
    return make_settings(server={"tenant": TENANT})


@pytest.fixture
async def app(settings: Settings, database_url: str) -> AsyncIterator[ASGIApp]:
    application = create_app(settings, database_url=database_url)
    async with LifespanManager(application) as manager:
        yield manager.app


@pytest.fixture
async def caller(app: ASGIApp) -> AsyncIterator[Caller]:
    """`caller(headers)`: a client sending those headers on every request."""
    opened: list[httpx.AsyncClient] = []

    def make(headers: dict[str, str | bytes] | None = None) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://hyperfleet",
            headers=headers or {},
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
def acme(caller: Caller) -> httpx.AsyncClient:
    return caller(ACME)


@pytest.fixture
def globex(caller: Caller) -> httpx.AsyncClient:
    return caller(GLOBEX)


@pytest.fixture
def system(caller: Caller) -> httpx.AsyncClient:
    return caller(SYSTEM)


async def new_cluster(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    return dict(
        assert_json(await client.post(f"{API}/clusters", json=cluster_body(**overrides)), 201)
    )


async def new_nodepool(client: httpx.AsyncClient, cluster_id: str) -> dict[str, Any]:
    r = await client.post(f"{API}/clusters/{cluster_id}/nodepools", json=nodepool_body())
    return dict(assert_json(r, 201))


# -- headers -----------------------------------------------------------------------------------


async def test_creation_stamps_the_callers_map(caller: Caller) -> None:
    plain = await new_cluster(caller(ACME))
    assert plain["tenancy"] == {"org": "acme"}
    teamed = await new_cluster(caller({"X-Org": "acme", "X-Team": " blue.1 "}))
    assert teamed["tenancy"] == {"org": "acme", "team": "blue.1"}, "values are trimmed"
    r = await caller(ACME).get(f"{API}/clusters/{plain['id']}")
    assert assert_json(r, 200)["tenancy"] == {"org": "acme"}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("acme corp", "a space"),
        ("acme/1", "a slash"),
        ("é".encode(), "non-ASCII"),
        ("a" * 64, "64 chars"),
    ],
)
async def test_a_bad_dimension_value_is_a_400_naming_the_header(
    caller: Caller, value: str | bytes, why: str
) -> None:
    client = caller({"X-Org": "acme", "X-Team": value})
    r = await client.get(f"{API}/clusters")
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", fields=["X-Team"])
    assert "X-Team" in body["detail"], why


async def test_63_characters_are_allowed(caller: Caller) -> None:
    created = await new_cluster(caller({"X-Org": "a" * 63}))
    assert created["tenancy"] == {"org": "a" * 63}


@pytest.mark.parametrize(
    ("headers", "named"),
    [({}, "X-Org"), ({"X-Team": "blue"}, "X-Org"), ({"X-Org": "  "}, "X-Org")],
)
async def test_a_missing_required_dimension_is_a_403(
    caller: Caller, headers: dict[str, str], named: str
) -> None:
    r = await caller(headers).post(f"{API}/clusters", json=cluster_body())
    body = assert_problem(r, 403, "HYPERFLEET-AUZ-001")
    assert named in body["detail"]


async def test_no_dimension_at_all_is_a_403(database_url: str) -> None:
    optional = {"enabled": True, "dimensions": [{"header": "X-Org", "key": "org"}]}
    application = create_app(make_settings(server={"tenant": optional}), database_url=database_url)
    async with (
        LifespanManager(application) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://hyperfleet"
        ) as client,
    ):
        r = await client.get(f"{API}/clusters")
        body = assert_problem(r, 403, "HYPERFLEET-AUZ-001")
        assert "X-Org" in body["detail"]
        r = await client.get(f"{API}/clusters", headers=ACME)
        assert r.status_code == 200


async def test_documents_and_probes_need_no_tenant(caller: Caller) -> None:
    anonymous = caller()
    for path in (f"{API}/openapi", f"{API}/openapi.html", "/healthz", "/metrics"):
        r = await anonymous.get(path)
        assert r.status_code == 200, (path, r.text)


async def test_the_served_document_shows_tenancy_on_resources(caller: Caller) -> None:
    doc = (await caller().get(f"{API}/openapi")).json()
    for name in ("Cluster", "NodePool", "Resource"):
        schema = doc["components"]["schemas"][name]
        assert schema["properties"]["tenancy"]["type"] == "object", name
        assert "tenancy" in schema["required"], name


# -- names ---------------------------------------------------------------------------------------


async def test_a_name_is_unique_per_tenant(
    caller: Caller, acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    name = unique_name()
    await new_cluster(acme, name=name)
    await new_cluster(globex, name=name)
    await new_cluster(caller({"X-Org": "acme", "X-Team": "blue"}), name=name)
    r = await acme.post(f"{API}/clusters", json=cluster_body(name=name))
    assert_problem(r, 409, "HYPERFLEET-CNF-001")


# -- isolation -----------------------------------------------------------------------------------


async def test_another_tenants_resource_is_a_404_like_a_missing_id(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    cluster = await new_cluster(acme)
    pool = await new_nodepool(acme, cluster["id"])
    cid, pid = cluster["id"], pool["id"]
    paths = [
        "/clusters/{}",
        "/resources/{}",
        "/clusters/{}/statuses",
        "/clusters/{}/phase-history",
        "/clusters/{}/nodepools",
    ]
    for template in paths:
        theirs = await globex.get(API + template.format(cid))
        missing = await globex.get(API + template.format(MISSING))
        assert theirs.status_code == 404, (template, theirs.text)
        assert theirs.json()["detail"] == missing.json()["detail"].replace(MISSING, cid)
        assert theirs.json()["code"] == missing.json()["code"]
    for path in (
        f"/clusters/{cid}/nodepools/{pid}",
        f"/nodepools/{pid}",
        f"/nodepools/{pid}/statuses",
        f"/clusters/{cid}/nodepools/{pid}/phase-history",
    ):
        r = await globex.get(API + path)
        assert_problem(r, 404, "HYPERFLEET-NTF-001")
    assert (await acme.get(f"{API}/clusters/{cid}")).status_code == 200


async def test_another_tenants_resource_cannot_be_written(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    cluster = await new_cluster(acme)
    cid = cluster["id"]
    attempts = [
        globex.patch(f"{API}/clusters/{cid}", json={"labels": {"a": "b"}}),
        globex.put(f"{API}/clusters/{cid}/statuses", json=report_body("validation", 1)),
        globex.post(f"{API}/clusters/{cid}/nodepools", json=nodepool_body()),
        globex.delete(f"{API}/clusters/{cid}"),
        globex.post(f"{API}/clusters/{cid}/force-delete", json={"reason": "theirs"}),
    ]
    for attempt in attempts:
        r = await attempt
        assert r.status_code == 404, r.text
    after = assert_json(await acme.get(f"{API}/clusters/{cid}"), 200)
    assert after["generation"] == 1
    assert "labels" not in after
    assert "deleted_time" not in after


async def test_a_node_pool_inherits_its_clusters_tenancy(caller: Caller) -> None:
    blue = caller({"X-Org": "acme", "X-Team": "blue"})
    cluster = await new_cluster(blue)
    pool = await new_nodepool(blue, cluster["id"])
    assert pool["tenancy"] == {"org": "acme", "team": "blue"}
    # The same org without the team is another tenant: exact match, not a prefix.
    r = await caller(ACME).get(f"{API}/nodepools/{pool['id']}")
    assert_problem(r, 404, "HYPERFLEET-NTF-001")


async def test_lists_searches_and_totals_hold_only_the_callers_resources(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    ours = [await new_cluster(acme, labels={"env": "prod"}) for _ in range(3)]
    theirs = [await new_cluster(globex, labels={"env": "prod"}) for _ in range(2)]
    for pool_owner in (ours[0], theirs[0]):
        client = acme if pool_owner in ours else globex
        await new_nodepool(client, pool_owner["id"])
    ours_ids = {c["id"] for c in ours}

    listed = assert_json(await acme.get(f"{API}/clusters"), 200)
    assert {c["id"] for c in listed["items"]} == ours_ids
    assert listed["total"] == 3
    searched = assert_json(
        await acme.get(f"{API}/clusters", params={"search": "labels.env='prod'"}), 200
    )
    assert {c["id"] for c in searched["items"]} == ours_ids
    assert searched["total"] == 3
    by_name = assert_json(
        await acme.get(f"{API}/clusters", params={"search": f"name='{theirs[0]['name']}'"}), 200
    )
    assert by_name["items"] == []
    assert by_name["total"] == 0
    everything = assert_json(await acme.get(f"{API}/resources"), 200)
    assert everything["total"] == 4, "three clusters and one node pool"
    assert all(item["tenancy"] == {"org": "acme"} for item in everything["items"])
    by_updated = assert_json(
        await globex.get(f"{API}/clusters", params={"order": "updated_time"}), 200
    )
    assert {c["id"] for c in by_updated["items"]} == {c["id"] for c in theirs}
    pools = assert_json(await globex.get(f"{API}/nodepools"), 200)
    assert pools["total"] == 1


async def test_a_cursor_walk_stays_inside_the_tenant(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient
) -> None:
    ours: set[str] = set()
    for _ in range(5):
        ours.add((await new_cluster(acme))["id"])
        await new_cluster(globex)
    seen: list[str] = []
    page = assert_json(await acme.get(f"{API}/clusters", params={"size": 2}), 200)
    assert page["total"] == 5
    first_cursor = page["next_cursor"]
    while True:
        seen += [c["id"] for c in page["items"]]
        assert page["total"] == 5
        if page["next_cursor"] is None:
            break
        page = assert_json(
            await acme.get(f"{API}/clusters", params={"cursor": page["next_cursor"]}), 200
        )
    assert len(seen) == 5
    assert set(seen) == ours
    r = await globex.get(f"{API}/clusters", params={"cursor": first_cursor})
    assert_problem(r, 400, "HYPERFLEET-VAL-005", fields=["cursor"])


# -- system callers -------------------------------------------------------------------------------


async def test_a_system_caller_reads_every_tenant(
    acme: httpx.AsyncClient, globex: httpx.AsyncClient, system: httpx.AsyncClient
) -> None:
    a = await new_cluster(acme)
    g = await new_cluster(globex)
    listed = assert_json(await system.get(f"{API}/clusters"), 200)
    assert {c["id"] for c in listed["items"]} == {a["id"], g["id"]}
    assert listed["total"] == 2
    for cluster in (a, g):
        got = assert_json(await system.get(f"{API}/clusters/{cluster['id']}"), 200)
        assert got["tenancy"] == cluster["tenancy"]
        assert (await system.get(f"{API}/clusters/{cluster['id']}/statuses")).status_code == 200


async def test_a_system_caller_writes_only_statuses(
    acme: httpx.AsyncClient, system: httpx.AsyncClient
) -> None:
    cluster = await new_cluster(acme)
    cid = cluster["id"]
    denied = "system identities may only write status and conditions"
    for attempt in (
        system.post(f"{API}/clusters", json=cluster_body()),
        system.post(f"{API}/resources", json=cluster_body()),
        system.post(f"{API}/clusters/{cid}/nodepools", json=nodepool_body()),
        system.patch(f"{API}/clusters/{cid}", json={"labels": {"a": "b"}}),
        system.delete(f"{API}/clusters/{cid}"),
        system.post(f"{API}/clusters/{cid}/force-delete", json={"reason": "x"}),
    ):
        assert_problem(await attempt, 403, "HYPERFLEET-AUZ-001", denied)
    r = await system.put(f"{API}/clusters/{cid}/statuses", json=report_body("validation", 1))
    assert r.status_code == 201, r.text
    statuses = assert_json(await acme.get(f"{API}/clusters/{cid}/statuses"), 200)
    assert [s["adapter"] for s in statuses["items"]] == ["validation"]


async def test_the_system_header_must_say_true(caller: Caller) -> None:
    r = await caller({"X-HyperFleet-System": "yes"}).get(f"{API}/clusters")
    assert_problem(r, 403, "HYPERFLEET-AUZ-001")
    r = await caller({"X-HyperFleet-System": "TRUE"}).get(f"{API}/clusters")
    assert r.status_code == 200


# -- tenancy off ----------------------------------------------------------------------------------


class TestTenancyOff:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings()

    async def test_bodies_carry_an_empty_map_and_headers_mean_nothing(self, caller: Caller) -> None:
        acme = caller(ACME)
        created = await new_cluster(acme)
        assert created["tenancy"] == {}
        pool = await new_nodepool(caller(GLOBEX), created["id"])
        assert pool["tenancy"] == {}
        listed = assert_json(await caller(GLOBEX).get(f"{API}/clusters"), 200)
        assert [c["id"] for c in listed["items"]] == [created["id"]]
        r = await caller(SYSTEM).patch(f"{API}/clusters/{created['id']}", json={"labels": {}})
        assert r.status_code == 200, "no system restriction while tenancy is off"

    async def test_resources_made_while_off_are_unscoped_when_on(
        self, caller: Caller, database_url: str
    ) -> None:
        created = await new_cluster(caller())
        on = create_app(make_settings(server={"tenant": TENANT}), database_url=database_url)
        async with (
            LifespanManager(on) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app),
                base_url="http://hyperfleet",
                headers=ACME,
            ) as client,
        ):
            r = await client.get(f"{API}/clusters/{created['id']}")
            assert_problem(r, 404, "HYPERFLEET-NTF-001")
            r = await client.get(f"{API}/clusters/{created['id']}", headers=SYSTEM)
            assert assert_json(r, 200)["tenancy"] == {}
