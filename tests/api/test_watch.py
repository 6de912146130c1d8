"""`?watch=true` against a real `hyperfleet serve` process (docs/watch.md).

Every event type, search filtering in and out, kind and parent scoping, resume with
Last-Event-ID, the list's change-sequence header, heartbeats and parameter errors. Waiting is
polling with generous deadlines; nothing here is timed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from tests.conftest import ServerProcess
from tests.watch_helpers import (
    API,
    Watcher,
    create_cluster,
    drop_database,
    fresh_database,
    patch,
    start_server,
    until,
)

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerProcess]:
    url = await fresh_database(pg_admin_url)
    log = tmp_path_factory.mktemp("watch") / "server.log"
    proc = start_server(url, log, heartbeat_seconds=1)
    try:
        yield proc
    finally:
        proc.stop()
        await drop_database(pg_admin_url, url)


@pytest_asyncio.fixture(loop_scope="session")
async def api(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        yield client


def watch(server: ServerProcess, path: str, **params: str) -> Watcher:
    return Watcher(server.base, f"{API}{path}", params=params)


async def test_each_event_type_in_order(server: ServerProcess, api: httpx.AsyncClient) -> None:
    async with watch(server, "/clusters") as w:
        assert w.status == 200
        assert w.response_headers["content-type"].startswith("text/event-stream")
        assert "x-request-id" in w.response_headers
        cluster = await create_cluster(api)
        cid = cluster["id"]
        await patch(api, f"/clusters/{cid}", {"labels": {"team": "a"}})
        assert (await api.delete(f"{API}/clusters/{cid}")).status_code == 202
        r = await api.post(f"{API}/clusters/{cid}/force-delete", json={"reason": "test"})
        assert r.status_code == 204
        await until(lambda: len(w.of(cid)) == 4)
        seen = w.of(cid)
        assert [t for t, _ in seen] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
        assert seen[0][1] == cluster
        assert seen[1][1]["labels"] == {"team": "a"}
        assert "deleted_time" in seen[2][1]
        assert seen[3][1]["deleted_time"] == seen[2][1]["deleted_time"]
        frames = [f for f in w.events if f.data["object"]["id"] == cid]
        ids = [f.id for f in frames]
        assert ids == sorted(ids)
        assert len(set(ids)) == 4
        assert [f.event for f in frames] == [t for t, _ in seen]


async def test_search_filters_in_and_out(server: ServerProcess, api: httpx.AsyncClient) -> None:
    async with watch(server, "/clusters", search="labels.env = 'prod'") as w:
        other = await create_cluster(api, labels={"env": "dev"})
        cluster = await create_cluster(api, labels={"env": "dev"})
        cid = cluster["id"]
        await patch(api, f"/clusters/{cid}", {"labels": {"env": "prod"}})
        await patch(api, f"/clusters/{cid}", {"labels": {"env": "prod", "x": "y"}})
        await patch(api, f"/clusters/{cid}", {"labels": {"env": "dev"}})
        await patch(api, f"/clusters/{other['id']}", {"labels": {"env": "staging"}})
        marker = await create_cluster(api, labels={"env": "prod"})
        await until(lambda: len(w.of(marker["id"])) == 1)
        assert [t for t, _ in w.of(cid)] == ["ADDED", "MODIFIED", "DELETED"]
        # The object of a "stopped matching" event is the resource as it is now.
        assert w.of(cid)[2][1]["labels"] == {"env": "dev"}
        assert w.of(other["id"]) == []


async def test_kind_and_parent_scoping(server: ServerProcess, api: httpx.AsyncClient) -> None:
    c1 = await create_cluster(api)
    c2 = await create_cluster(api)

    async def nodepool(cid: str, name: str) -> dict[str, object]:
        r = await api.post(
            f"{API}/clusters/{cid}/nodepools", json={"kind": "NodePool", "name": name, "spec": {}}
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async with (
        watch(server, f"/clusters/{c1['id']}/nodepools") as nested,
        watch(server, "/nodepools") as flat,
        watch(server, "/resources", kind="NodePool") as generic,
        watch(server, "/resources") as everything,
        watch(server, "/clusters") as clusters,
    ):
        p1 = await nodepool(c1["id"], "np-one")
        p2 = await nodepool(c2["id"], "np-two")
        c3 = await create_cluster(api)
        await until(lambda: len(everything.events) >= 3)
        await until(lambda: len(flat.events) >= 2 and len(generic.events) >= 2)
        await until(lambda: len(clusters.events) >= 1 and len(nested.events) >= 1)
        assert {f.data["object"]["id"] for f in nested.events} == {p1["id"]}
        assert {f.data["object"]["id"] for f in flat.events} == {p1["id"], p2["id"]}
        assert {f.data["object"]["id"] for f in generic.events} == {p1["id"], p2["id"]}
        assert {f.data["object"]["id"] for f in clusters.events} == {c3["id"]}
        ids = {p1["id"], p2["id"], c3["id"]}
        assert {f.data["object"]["id"] for f in everything.events} == ids


async def test_resume_with_last_event_id_gets_exactly_what_was_missed(
    server: ServerProcess, api: httpx.AsyncClient
) -> None:
    async with watch(server, "/clusters") as first:
        cluster = await create_cluster(api)
        await until(lambda: len(first.of(cluster["id"])) == 1)
    last = first.events[-1].id
    assert last is not None
    cid = cluster["id"]
    await patch(api, f"/clusters/{cid}", {"labels": {"n": "1"}})
    await patch(api, f"/clusters/{cid}", {"labels": {"n": "2"}})
    resumed = Watcher(server.base, f"{API}/clusters", headers={"Last-Event-ID": str(last)})
    async with resumed:
        await patch(api, f"/clusters/{cid}", {"labels": {"n": "3"}})
        await until(lambda: len(resumed.of(cid)) == 3)
        assert [o["labels"]["n"] for _, o in resumed.of(cid)] == ["1", "2", "3"]
        ids = [f.id for f in resumed.events]
        assert all(i is not None and i > last for i in ids)
        assert ids == sorted(set(ids))


async def test_list_header_lets_a_client_watch_without_a_gap(
    server: ServerProcess, api: httpx.AsyncClient
) -> None:
    listed = await api.get(f"{API}/clusters")
    seq = listed.headers["x-hyperfleet-change-seq"]
    assert int(seq) >= 0
    created = await create_cluster(api)  # after the list: must reach the watcher
    w = Watcher(server.base, f"{API}/clusters", headers={"Last-Event-ID": seq})
    async with w:
        await until(lambda: len(w.of(created["id"])) == 1)
        assert w.of(created["id"])[0][0] == "ADDED"


async def test_idle_stream_gets_heartbeats(server: ServerProcess) -> None:
    async with watch(server, "/clusters", search="name = 'never-there'") as w:
        await until(lambda: "heartbeat" in w.comments)


async def test_bad_watch_parameters_are_400(api: httpx.AsyncClient) -> None:
    r = await api.get(f"{API}/clusters", params={"watch": "maybe"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "watch"
    r = await api.get(f"{API}/clusters", params={"watch": "true"}, headers={"Last-Event-ID": "x1"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "Last-Event-ID"
    r = await api.get(f"{API}/clusters", params={"watch": "true", "search": "nope = 1"})
    assert r.status_code == 400
    r = await api.get(f"{API}/resources", params={"watch": "true", "kind": "Nope"})
    assert r.status_code == 400
    missing = "00000000-0000-4000-8000-000000000000"
    r = await api.get(f"{API}/clusters/{missing}/nodepools", params={"watch": "true"})
    assert r.status_code == 404


async def test_an_id_never_issued_asks_for_a_relist(server: ServerProcess) -> None:
    w = Watcher(server.base, f"{API}/clusters", headers={"Last-Event-ID": "999999999"})
    async with w:
        await until(lambda: w.ended)
    assert [f.event for f in w.frames] == ["error"]
    problem = w.frames[0].data["object"]
    assert w.frames[0].data["type"] == "ERROR"
    assert problem["status"] == 410
    assert problem["code"] == "HYPERFLEET-WCH-001"
    assert problem["reason"] == "unknown_id"


async def test_watch_false_is_a_plain_list(api: httpx.AsyncClient) -> None:
    r = await api.get(f"{API}/clusters", params={"watch": "false"})
    assert r.status_code == 200
    assert "items" in r.json()


def test_server_log_has_no_errors(server: ServerProcess) -> None:
    text = Path(server.log_path).read_text()
    assert '"level": "error"' not in text
