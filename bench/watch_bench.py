"""Watch benchmark: write rate with 0 and 1,000 idle watchers, the trigger's cost, and the delay
from commit to event.

Starts `hyperfleet serve` on a scratch database, creates clusters, then runs timed phases of
PATCHes (each one a change-table row and an event) over raw keep-alive sockets (a cheap client,
so the server, not the client, is what is measured):

1. `trigger off`: the change-feed triggers disabled (what writes cost without the feed);
2. `0 watchers`: triggers on, nobody watching;
3. `1000 idle watchers`: 1,000 open watch streams whose search matches nothing (every change is
   still filtered for each of them);
4. `latency`: one watcher of everything while PATCHes run at a moderate rate; the delay is the
   event's arrival minus the resource's `updated_time` (set in the writing transaction, same
   machine clock), so it bounds commit → event from above.

Prints a table; asserts nothing. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

API = "/api/hyperfleet/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Conn:
    """One keep-alive HTTP/1.1 connection; just enough protocol for JSON requests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        self.writer.close()


async def open_watch(port: int, query: str) -> Conn:
    """A watch stream; the caller keeps the Conn (a collected StreamWriter closes its socket)."""
    conn = await Conn.open(port)
    request = f"GET {API}/clusters?watch=true&{query} HTTP/1.1\r\nHost: bench\r\n\r\n"
    conn.writer.write(request.encode())
    await conn.writer.drain()
    await conn.reader.readuntil(b"\r\n\r\n")
    return conn


async def drain_forever(conn: Conn) -> None:
    try:
        while await conn.reader.read(65536):
            pass
    finally:
        conn.close()


async def patch_phase(port: int, ids: list[str], seconds: float, concurrency: int) -> float:
    """PATCHes for `seconds` on `concurrency` connections; returns writes per second."""
    conns = [await Conn.open(port) for _ in range(concurrency)]
    done = 0
    end = time.perf_counter() + seconds

    async def worker(conn: Conn, offset: int) -> None:
        nonlocal done
        n = offset
        while time.perf_counter() < end:
            rid = ids[n % len(ids)]
            body = json.dumps({"labels": {"n": str(n)}}).encode()
            status, _ = await conn.request("PATCH", f"{API}/clusters/{rid}", body)
            if status != 200:
                raise RuntimeError(f"PATCH answered {status}")
            done += 1
            n += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, i) for i, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return done / elapsed


async def latency_phase(port: int, ids: list[str], count: int) -> list[float]:
    stream = await open_watch(port, "")
    reader = stream.reader
    delays: list[float] = []

    async def read_events() -> None:
        while len(delays) < count:
            line = await reader.readline()
            if line.startswith(b"data: "):
                received = datetime.now(UTC)
                obj = json.loads(line[6:])["object"]
                updated = datetime.fromisoformat(obj["updated_time"])
                delays.append((received - updated).total_seconds() * 1000)

    task = asyncio.create_task(read_events())
    conn = await Conn.open(port)
    for n in range(count):
        body = json.dumps({"labels": {"lat": str(n)}}).encode()
        await conn.request("PATCH", f"{API}/clusters/{ids[n % len(ids)]}", body)
        await asyncio.sleep(0.01)
    await asyncio.wait_for(task, 60)
    conn.close()
    stream.close()
    return delays


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def wait_ready(port: int) -> None:
    for _ in range(300):
        with contextlib.suppress(OSError):
            conn = await Conn.open(port)
            status, _ = await conn.request("GET", "/readyz")
            conn.close()
            if status == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


async def create_clusters(port: int, count: int) -> list[str]:
    conn = await Conn.open(port)
    ids = []
    for i in range(count):
        body = json.dumps({"kind": "Cluster", "name": f"bench-{i:05d}", "spec": {}}).encode()
        status, payload = await conn.request("POST", f"{API}/clusters", body)
        if status != 201:
            raise RuntimeError(f"POST answered {status}: {payload[:200]!r}")
        ids.append(json.loads(payload)["id"])
    conn.close()
    return ids


async def measured(port: int, ids: list[str], args: argparse.Namespace) -> float:
    await patch_phase(port, ids, args.warmup, args.concurrency)
    return await patch_phase(port, ids, args.duration, args.concurrency)


async def measure(port: int, url: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    ids = await create_clusters(port, args.clusters)
    progress("clusters created; measuring")
    db = await asyncpg.connect(url)
    watchers: list[asyncio.Task[None]] = []
    try:
        await db.execute("ALTER TABLE resources DISABLE TRIGGER USER")
        off = await measured(port, ids, args)
        await db.execute("ALTER TABLE resources ENABLE TRIGGER USER")
        zero = await measured(port, ids, args)
        progress(f"opening {args.watchers} watchers")
        for _ in range(args.watchers):
            stream = await open_watch(port, "search=name%20%3D%20%27nobody%27")
            watchers.append(asyncio.create_task(drain_forever(stream)))
        many = await measured(port, ids, args)
        still_open = sum(not t.done() for t in watchers)
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        await asyncio.sleep(1)
        progress("latency phase")
        delays = await latency_phase(port, ids, args.latency_events)
    finally:
        for task in watchers:
            task.cancel()
        await db.close()
    return [
        ("PATCH/s, trigger off", f"{off:.0f}"),
        ("PATCH/s, 0 watchers", f"{zero:.0f}"),
        (f"PATCH/s, {args.watchers} idle watchers", f"{many:.0f}"),
        ("watch streams still open after that phase", str(still_open)),
        ("trigger cost (0 watchers / trigger off)", f"{zero / off:.2f}"),
        (f"ratio ({args.watchers} watchers / 0)", f"{many / zero:.2f}"),
        ("commit → event p50 ms", f"{statistics.median(delays):.1f}"),
        ("commit → event p99 ms", f"{pct(delays, 0.99):.1f}"),
    ]


async def run(args: argparse.Namespace) -> None:
    name = f"hf_bench_watch_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env |= {"HYPERFLEET_DATABASE_URL": url, "HYPERFLEET_LOGGING_LEVEL": "warning"}
    log = Path(f"/tmp/{name}.log").open("wb")  # noqa: SIM115, S108
    server = subprocess.Popen(
        [sys.executable, "-m", "hyperfleet", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_ready(port)
        progress("server ready; creating clusters")
        rows = await measure(port, url, args)
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value:>8}")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--latency-events", type=int, default=500)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
