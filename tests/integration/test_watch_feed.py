"""The change feed across processes and transactions (docs/watch.md).

- two server processes on one database: writes through one reach a watcher on the other, all
  of them, in commit order;
- a transaction that took a change number and is still open holds back every later number, and
  nothing is skipped once it commits (the case a snapshot-xmin reader gets wrong);
- a watcher that never reads is cut off with the re-list event, while writes and a reading
  watcher carry on;
- a resume from an id older than the retention window gets the re-list event.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
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


@pytest_asyncio.fixture(loop_scope="session")
async def url(pg_admin_url: str) -> AsyncIterator[str]:
    database = await fresh_database(pg_admin_url)
    try:
        yield database
    finally:
        await drop_database(pg_admin_url, database)


async def test_writes_on_one_process_reach_watchers_on_another_in_commit_order(
    url: str, tmp_path: Path
) -> None:
    one = start_server(url, tmp_path / "one.log")
    two = start_server(url, tmp_path / "two.log")
    try:
        async with (
            httpx.AsyncClient(base_url=one.base, timeout=30) as writer,
            Watcher(two.base, f"{API}/clusters") as w,
        ):
            cluster = await create_cluster(writer)
            cid = cluster["id"]
            for n in range(20):
                await patch(writer, f"/clusters/{cid}", {"labels": {"n": str(n)}})
            await until(lambda: len(w.of(cid)) == 21)
            seen = w.of(cid)
            assert seen[0][0] == "ADDED"
            assert [o["labels"]["n"] for _, o in seen[1:]] == [str(n) for n in range(20)]
            assert [o["generation"] for _, o in seen[1:]] == list(range(2, 22))
            ids = [f.id for f in w.events]
            assert ids == sorted(set(ids))
    finally:
        one.stop()
        two.stop()


async def test_an_open_transaction_holds_back_later_changes_and_none_is_skipped(
    url: str, tmp_path: Path
) -> None:
    server = start_server(url, tmp_path / "server.log")
    first = await asyncpg.connect(url)
    second = await asyncpg.connect(url)
    try:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as api:
            a = await create_cluster(api)
            b = await create_cluster(api)
            async with Watcher(server.base, f"{API}/clusters") as w:
                older = first.transaction()
                await older.start()
                # The older transaction gets its id first, the younger one a change number first.
                await first.fetchval("SELECT pg_current_xact_id()")
                younger = second.transaction()
                await younger.start()
                await second.execute(
                    "UPDATE resources SET body = body || ' '::bytea WHERE id = $1", a["id"]
                )
                await first.execute(
                    "UPDATE resources SET body = body || ' '::bytea WHERE id = $1", b["id"]
                )
                await older.commit()  # the larger number commits first
                numbers = await first.fetch(
                    "SELECT seq, resource_id::text AS id FROM resource_changes"
                    " ORDER BY seq DESC LIMIT 1"
                )
                assert numbers[0]["id"] == b["id"]
                # A marker write after it: once the watcher sees the marker, the feed has read
                # past the committed change of `b` if it was ever going to.
                marker = await create_cluster(api)
                await younger.commit()
                await until(lambda: len(w.of(marker["id"])) == 1)
                order = [f.data["object"]["id"] for f in w.events]
                assert order == [a["id"], b["id"], marker["id"]]
                ids = [f.id for f in w.events]
                assert ids == sorted(set(ids))
    finally:
        await first.close()
        await second.close()
        server.stop()


async def test_a_watcher_that_never_reads_is_cut_off_and_slows_nobody(
    url: str, tmp_path: Path
) -> None:
    server = start_server(url, tmp_path / "server.log", buffer_size=20)
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)  # noqa: FBT003
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(
            f"GET {API}/clusters?watch=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        # More than any kernel send buffer (tcp_wmem max is 4 MiB) plus uvicorn's 64 KiB.
        blob = "x" * 60_000
        async with (
            httpx.AsyncClient(base_url=server.base, timeout=30) as api,
            Watcher(server.base, f"{API}/clusters") as reading,
        ):
            created = [await create_cluster(api, spec={"blob": blob}) for _ in range(150)]
            await until(lambda: len(reading.events) == len(created))
            assert [f.data["object"]["id"] for f in reading.events] == [c["id"] for c in created]
        # Now read what the stalled watcher got: a prefix of the events, then the re-list event.
        rest = await asyncio.wait_for(reader.read(), 60)
        writer.close()
        assert b"event: error" in rest
        assert b'"reason":"buffer_overflow"' in rest
        assert rest.rstrip().endswith(b"0")  # the chunked stream was ended by the server
        assert rest.count(b"event: ADDED") < len(created)
    finally:
        server.stop()


async def test_resume_older_than_the_retention_window_asks_for_a_relist(
    url: str, tmp_path: Path
) -> None:
    server = start_server(
        url, tmp_path / "server.log", retention_seconds=0.5, prune_interval_seconds=0.2
    )
    conn = await asyncpg.connect(url)
    try:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as api:
            async with Watcher(server.base, f"{API}/clusters") as w:
                cluster = await create_cluster(api)
                await until(lambda: len(w.events) == 1)
            old = w.events[0].id
            assert old is not None
            await patch(api, f"/clusters/{cluster['id']}", {"labels": {"a": "b"}})

            async def pruned() -> int:
                return int(await conn.fetchval("SELECT pruned_through FROM change_feed_state"))

            end = asyncio.get_running_loop().time() + 60
            while await pruned() <= old:
                assert asyncio.get_running_loop().time() < end, "pruning never ran"
                await asyncio.sleep(0.1)
            stale = Watcher(server.base, f"{API}/clusters", headers={"Last-Event-ID": str(old)})
            async with stale:
                await until(lambda: stale.ended)
            assert [f.event for f in stale.frames] == ["error"]
            problem = stale.frames[0].data["object"]
            assert problem["status"] == 410
            assert problem["reason"] == "expired"
    finally:
        await conn.close()
        server.stop()
