"""The typed client against the real ASGI app: every method, and problem+json → typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from asgi_lifespan import LifespanManager
from tests.conftest import make_settings
from tests.factories import CLUSTER_ADAPTERS, cluster_body, nodepool_body, report_body

from hyperfleet.client import (
    ApiError,
    BadRequestError,
    ConflictError,
    FieldError,
    HyperFleetClient,
    NotFoundError,
    PreconditionFailedError,
    UnprocessableError,
)
from hyperfleet.config import Settings
from hyperfleet.rest.app import create_app


@pytest.fixture
async def hf(settings: Settings, database_url: str) -> AsyncIterator[HyperFleetClient]:
    app = create_app(settings, database_url=database_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with HyperFleetClient("http://hyperfleet", transport=transport) as client:
            yield client


async def test_create_get_and_get_with_etag(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body(labels={"env": "dev"}))
    assert created["kind"] == "Cluster"
    assert created["generation"] == 1
    assert created["labels"] == {"env": "dev"}
    assert created["href"] == f"/api/hyperfleet/v1/clusters/{created['id']}"

    got = await hf.get("clusters", created["id"])
    assert got == created
    same, tag = await hf.get_with_etag("clusters", created["id"])
    assert same == created
    assert tag.startswith('"1-')


async def test_nested_collection_and_owner_references(hf: HyperFleetClient):
    cluster = await hf.create("clusters", cluster_body())
    pool = await hf.create(f"clusters/{cluster['id']}/nodepools", nodepool_body())
    assert pool["owner_references"]["id"] == cluster["id"]
    assert (await hf.get("nodepools", pool["id"]))["id"] == pool["id"]
    assert (await hf.get(f"clusters/{cluster['id']}/nodepools", pool["id"]))["id"] == pool["id"]
    assert (await hf.get("resources", pool["id"]))["kind"] == "NodePool"


async def test_get_href_absolute_relative_and_never_a_foreign_host(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body())
    href = created["href"]
    assert (await hf.get_href(href))["id"] == created["id"]
    # The event's host is ignored: only the path is sent, to our base URL (the ASGI app).
    assert (await hf.get_href(f"http://elsewhere.example:9999{href}"))["id"] == created["id"]
    assert (await hf.get_href(f"clusters/{created['id']}"))["id"] == created["id"]
    assert (await hf.get_href(f"{href}?ignored=1#frag"))["id"] == created["id"]


async def test_list_page_fields_and_raw_body(hf: HyperFleetClient):
    names = sorted(cluster_body()["name"] for _ in range(3))
    for name in names:
        await hf.create("clusters", cluster_body(name=name))
    page = await hf.list("clusters", size=2, order="name asc")
    assert (page.page, page.size, page.total) == (1, 2, 3)
    assert isinstance(page.next_cursor, str)
    assert [c["name"] for c in page.items] == names[:2]
    assert msgspec.json.decode(page.body)["items"] == page.items
    second = await hf.list("clusters", page=2, size=2, order=["name asc"])
    assert [c["name"] for c in second.items] == names[2:]
    assert second.next_cursor is None
    followed = await hf.list("clusters", size=2, cursor=page.next_cursor)
    assert (followed.page, followed.total, followed.items) == (2, 3, second.items)

    projected = await hf.list("clusters", fields=["name"], search=f"name = '{names[0]}'")
    assert projected.items == [{"id": page.items[0]["id"], "name": names[0]}]


async def test_iterate_walks_every_page(hf: HyperFleetClient):
    ids = {(await hf.create("clusters", cluster_body()))["id"] for _ in range(5)}
    seen = [c["id"] async for c in hf.iterate("clusters", size=2)]
    assert len(seen) == 5
    assert set(seen) == ids
    none = [c async for c in hf.iterate("clusters", search="name = 'no-such-name'")]
    assert none == []


async def test_patch_with_and_without_if_match(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body())
    patched = await hf.patch("clusters", created["id"], {"spec": {"replicas": 2}})
    assert patched["generation"] == 2
    assert patched["spec"] == {"replicas": 2}

    _, tag = await hf.get_with_etag("clusters", created["id"])
    again = await hf.patch("clusters", created["id"], {"spec": {"replicas": 3}}, if_match=tag)
    assert again["generation"] == 3

    with pytest.raises(PreconditionFailedError) as info:
        await hf.patch("clusters", created["id"], {"spec": {"replicas": 4}}, if_match=tag)
    err = info.value
    assert err.status == 412
    assert err.code == "HYPERFLEET-CNF-006"
    assert err.extensions["current_etag"] != tag
    assert (await hf.get("clusters", created["id"]))["generation"] == 3


async def test_delete_then_force_delete(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body())
    deleted = await hf.delete("clusters", created["id"])
    assert deleted["deleted_time"]
    assert deleted["generation"] == 2
    await hf.force_delete("clusters", created["id"], "test cleanup")
    with pytest.raises(NotFoundError):
        await hf.get("clusters", created["id"])


async def test_delete_with_stale_if_match_is_412(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body())
    with pytest.raises(PreconditionFailedError):
        await hf.delete("clusters", created["id"], if_match='"1-0"')
    _, tag = await hf.get_with_etag("clusters", created["id"])
    assert (await hf.delete("clusters", created["id"], if_match=tag))["deleted_time"]


async def test_report_status_statuses_and_phase_history(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body())
    stored = await hf.report_status("clusters", created["id"], report_body("dns", 1))
    assert stored is not None
    assert stored["adapter"] == "dns"
    assert stored["observed_generation"] == 1
    await hf.report_status("clusters", created["id"], report_body("validation", 1))

    page = await hf.statuses("clusters", created["id"])
    assert [s["adapter"] for s in page.items] == ["dns", "validation"]
    assert page.total == 2
    first = await hf.statuses("clusters", created["id"], page=2, size=1)
    assert [s["adapter"] for s in first.items] == ["validation"]

    for adapter in CLUSTER_ADAPTERS:
        await hf.report_status("clusters", created["id"], report_body(adapter, 1))
    history = await hf.phase_history("clusters", created["id"])
    assert history.total >= 2
    assert history.items[-1]["from_phase"] is None
    assert (
        history.items[0]["to_phase"] == (await hf.get("clusters", created["id"]))["status"]["phase"]
    )
    one = await hf.phase_history("clusters", created["id"], page=1, size=1)
    assert one.size == 1


async def test_aggregation_config_and_api_info(hf: HyperFleetClient):
    config = await hf.aggregation_config()
    assert {e["kind"] for e in config["entities"]} >= {"Cluster", "NodePool"}
    info = await hf.api_info()
    assert info["id"] == "hyperfleet"
    assert info["href"] == "/api/hyperfleet"


async def test_request_is_the_raw_escape_hatch(hf: HyperFleetClient):
    response = await hf.request("GET", "clusters", params={"size": 1})
    assert response.status_code == 200
    with pytest.raises(ApiError) as info:
        await hf.request("TRACE", "clusters")
    assert info.value.status == 405
    assert info.value.code == "HYPERFLEET-MTH-001"


# -- problem+json → typed errors ---------------------------------------------------------------


async def test_400_carries_field_errors(hf: HyperFleetClient):
    with pytest.raises(BadRequestError) as info:
        await hf.create("clusters", cluster_body(name="x"))
    err = info.value
    assert err.status == 400
    assert err.code == "HYPERFLEET-VAL-000"
    assert err.title == "Validation Failed"
    assert err.errors == [FieldError("name", "name must be at least 3 characters", "min_length")]
    assert str(err) == (
        "HYPERFLEET-VAL-000: name must be at least 3 characters"
        " [name: name must be at least 3 characters]"
    )
    assert err.extensions["instance"] == "/api/hyperfleet/v1/clusters"
    assert err.extensions["trace_id"]
    assert msgspec.json.decode(err.body)["code"] == err.code


async def test_400_on_bad_query(hf: HyperFleetClient):
    with pytest.raises(BadRequestError) as info:
        await hf.list("clusters", search="name ==== 'x'")
    assert info.value.code == "HYPERFLEET-VAL-005"


async def test_404_for_resource_and_route(hf: HyperFleetClient):
    missing = "01a23c41-ad39-7063-bcc8-47fbccd256d1"
    with pytest.raises(NotFoundError) as info:
        await hf.get("clusters", missing)
    assert info.value.code == "HYPERFLEET-NTF-001"
    assert missing in info.value.detail
    with pytest.raises(NotFoundError) as route:
        await hf.list("no-such-plural")
    assert route.value.code == "HYPERFLEET-NTF-000"


async def test_409_duplicate_name(hf: HyperFleetClient):
    body = cluster_body()
    await hf.create("clusters", body)
    with pytest.raises(ConflictError) as info:
        await hf.create("clusters", body)
    assert info.value.code == "HYPERFLEET-CNF-001"
    assert str(info.value) == "HYPERFLEET-CNF-001: This Cluster already exists"


async def test_409_generation_conflict_carries_extensions(hf: HyperFleetClient):
    # The built-in kinds run the strict generation policy: a future generation is a 409.
    created = await hf.create("clusters", cluster_body())
    with pytest.raises(ConflictError) as info:
        await hf.report_status("clusters", created["id"], report_body("dns", 2))
    err = info.value
    assert err.code == "HYPERFLEET-CNF-004"
    assert err.extensions["current_generation"] == 1
    assert err.extensions["observed_generation"] == 2


async def test_422_child_kind_on_flat_route(hf: HyperFleetClient):
    with pytest.raises(UnprocessableError) as info:
        await hf.create("nodepools", nodepool_body())
    assert info.value.status == 422


class TestDiscardPolicy:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(entities=[{"kind": "Cluster", "generation_policy": "discard"}])

    async def test_discarded_report_is_none(self, hf: HyperFleetClient):
        created = await hf.create("clusters", cluster_body())
        assert await hf.report_status("clusters", created["id"], report_body("dns", 2)) is None
        assert (await hf.statuses("clusters", created["id"])).items == []
        assert await hf.report_status("clusters", created["id"], report_body("dns", 1))


# -- why PUT and DELETE may be retried: repeating them changes nothing -------------------------


async def test_repeated_status_report_is_the_same_stored_row(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body())
    report = report_body("dns", 1)
    first = await hf.report_status("clusters", created["id"], report)
    again = await hf.report_status("clusters", created["id"], report)
    assert first is not None
    assert again == first
    assert (await hf.statuses("clusters", created["id"])).total == 1


async def test_repeated_delete_is_the_same_deletion(hf: HyperFleetClient):
    created = await hf.create("clusters", cluster_body())
    first = await hf.delete("clusters", created["id"])
    again = await hf.delete("clusters", created["id"])
    assert again["deleted_time"] == first["deleted_time"]
    assert again["generation"] == first["generation"]
    assert again["updated_time"] == first["updated_time"]
