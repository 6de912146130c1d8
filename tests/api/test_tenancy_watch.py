"""Watch isolation under tenancy (issue #10): each tenant's stream holds only its own changes.

Against a real `hyperfleet serve` process (watch streams need a real server); waiting is
polling with generous deadlines, nothing is timed.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from tests.conftest import ServerProcess
from tests.watch_helpers import API, Watcher, drop_database, fresh_database, until

pytestmark = pytest.mark.slow

ACME = {"X-Org": "acme"}
GLOBEX = {"X-Org": "globex"}
SYSTEM = {"X-HyperFleet-System": "true"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerProcess]:
    url = await fresh_database(pg_admin_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env["HYPERFLEET_DATABASE_URL"] = url
    env["HYPERFLEET_SERVER_TENANT_ENABLED"] = "true"
    env["HYPERFLEET_SERVER_TENANT_DIMENSIONS"] = json.dumps(
        [{"header": "X-Org", "key": "org", "required": True}]
    )
    proc = ServerProcess(["--no-migrate"], env, tmp_path_factory.mktemp("tw") / "server.log")
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()
        await drop_database(pg_admin_url, url)


async def _lifecycle(server: ServerProcess, headers: dict[str, str], name: str) -> str:
    """Create, patch, delete and force-delete one cluster as this tenant; its id."""
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as api:
        r = await api.post(f"{API}/clusters", json={"kind": "Cluster", "name": name, "spec": {}})
        assert r.status_code == 201, r.text
        cid = str(r.json()["id"])
        r = await api.patch(f"{API}/clusters/{cid}", json={"labels": {"step": "two"}})
        assert r.status_code == 200, r.text
        assert (await api.delete(f"{API}/clusters/{cid}")).status_code == 202
        r = await api.post(f"{API}/clusters/{cid}/force-delete", json={"reason": "test"})
        assert r.status_code == 204, r.text
        return cid


def _types(watcher: Watcher, resource_id: str) -> list[str]:
    return [t for t, _ in watcher.of(resource_id)]


def _ids(watcher: Watcher) -> set[Any]:
    return {f.data["object"]["id"] for f in watcher.events}


async def test_each_tenant_watches_only_its_own_changes(server: ServerProcess) -> None:
    path = f"{API}/clusters"
    async with (
        Watcher(server.base, path, headers=ACME) as acme,
        Watcher(server.base, path, headers=GLOBEX) as globex,
        Watcher(server.base, path, headers=SYSTEM) as system,
        Watcher(server.base, f"{API}/resources", headers=GLOBEX) as globex_all,
    ):
        for w in (acme, globex, system, globex_all):
            assert w.status == 200
        ours = await _lifecycle(server, ACME, "acme-one")
        theirs = await _lifecycle(server, GLOBEX, "globex-one")
        lifecycle = ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
        await until(lambda: len(system.of(theirs)) == len(lifecycle))
        await until(lambda: len(acme.of(ours)) == len(lifecycle))
        await until(lambda: len(globex.of(theirs)) == len(lifecycle))
        await until(lambda: len(globex_all.of(theirs)) == len(lifecycle))
        assert _types(acme, ours) == lifecycle
        assert _types(globex, theirs) == lifecycle
        assert _ids(acme) == {ours}
        assert _ids(globex) == {theirs}
        assert _ids(globex_all) == {theirs}
        assert _types(system, ours) == lifecycle
        assert _types(system, theirs) == lifecycle
        assert all(f.data["object"]["tenancy"] == {"org": "acme"} for f in acme.events)


async def test_a_resumed_watch_back_fills_only_the_tenants_changes(
    server: ServerProcess,
) -> None:
    path = f"{API}/clusters"
    async with httpx.AsyncClient(base_url=server.base, headers=ACME, timeout=30) as api:
        position = (await api.get(path)).headers["x-hyperfleet-change-seq"]
    ours = await _lifecycle(server, ACME, "acme-two")
    theirs = await _lifecycle(server, GLOBEX, "globex-two")
    resumed = Watcher(server.base, path, headers={**ACME, "Last-Event-ID": position})
    async with resumed:
        await until(lambda: len(resumed.of(ours)) == 4)
        marker = await _lifecycle(server, ACME, "acme-three")
        await until(lambda: len(resumed.of(marker)) == 4)
        assert resumed.of(theirs) == []
        assert _ids(resumed) == {ours, marker}


async def test_a_watch_without_tenant_headers_is_refused(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as api:
        r = await api.get(f"{API}/clusters", params={"watch": "true"})
        assert r.status_code == 403
        assert r.json()["code"] == "HYPERFLEET-AUZ-001"
