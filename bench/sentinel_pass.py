"""Sentinel full-pass benchmark: one pass over N clusters, against a real `hyperfleet serve`.

    python bench/sentinel_pass.py [--clusters 10000 100000] [--page-size 100] [--database-url URL]

For each N it:

1. creates a scratch database `hf_sbench_<random>` and migrates it;
2. starts `hyperfleet serve --no-migrate` on a free port against it;
3. creates one template cluster through `POST /clusters`, then clones its rows in SQL
   (`resources` with id, name, href and the stored body rewritten; its `resource_conditions`)
   until there are N clusters: seeding 100k through the API would take most of an hour here;
4. runs Sentinel passes in this process (the real client over HTTP, the in-process broker):
   - `skip`: the Sentinel's clock an hour before the clusters' condition times, so the default
     decision debounces every one: the cost of reading every page and deciding;
   - `publish`: the clock an hour after them, so every cluster gets an event;
   - `publish, full resource`: as `publish` but without the `fields` projection;
5. prints a table and a `BENCH_JSON {...}` line; stops the server and drops the database.

Sentinel CPU is this process's CPU during the pass; server CPU is the API process's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import structlog
import uuid_utils

from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.client import HyperFleetClient
from hyperfleet.sentinel.config import load_sentinel_settings
from hyperfleet.sentinel.loop import Sentinel
from hyperfleet.storage.migrations import migrate_url

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLK_TCK = os.sysconf("SC_CLK_TCK")
BATCH = 5000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _postgres_cpu(database: str) -> float:
    """CPU-seconds of the PostgreSQL backends serving `database` (matched by process title)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres: ") and f" {database} " in title:
                stat = (proc / "stat").read_text(encoding="ascii", errors="replace")
                fields = stat.rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    name = f"hf_sbench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        url = _with_db(server_url, name)
        await migrate_url(url)
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def api_server(database_url: str) -> AsyncIterator[tuple[str, int]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env |= {"HYPERFLEET_DATABASE_URL": database_url, "HYPERFLEET_LOGGING_LEVEL": "warning"}
    log = Path(tempfile.mkstemp(prefix="hf-sbench-", suffix=".log")[1])
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hyperfleet", "serve", "--no-migrate", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.unlink(missing_ok=True)


async def seed(base: str, database_url: str, total: int) -> float:
    """One cluster through the API, cloned in SQL to `total`; returns seconds taken."""
    started = time.perf_counter()
    async with HyperFleetClient(base) as client:
        template = await client.create(
            "clusters", {"kind": "Cluster", "name": "sbench-template", "spec": {"v": 1}}
        )
    tid = template["id"]
    conn = await asyncpg.connect(database_url)
    try:
        created = datetime.now(UTC)
        for start in range(1, total, BATCH):
            count = min(BATCH, total - start)
            ids = [str(uuid_utils.uuid7()) for _ in range(count)]
            names = [f"sbench-{start + i:07d}" for i in range(count)]
            times = [created - timedelta(microseconds=start + i) for i in range(count)]
            await conn.execute(
                """
                INSERT INTO resources (id, kind, name, href, owner_id, owner_kind, owner_href,
                    spec, labels, generation, conditions, created_time, updated_time,
                    created_by, updated_by, deleted_time, deleted_by, body)
                SELECT n.id, r.kind, n.name, replace(r.href, r.id::text, n.id::text),
                    r.owner_id, r.owner_kind, r.owner_href, r.spec, r.labels, r.generation,
                    r.conditions, n.t, n.t, r.created_by, r.updated_by, r.deleted_time,
                    r.deleted_by,
                    convert_to(replace(replace(convert_from(r.body, 'UTF8'),
                        r.id::text, n.id::text), '"sbench-template"', '"' || n.name || '"'),
                        'UTF8')
                FROM resources r,
                     unnest($2::uuid[], $3::text[], $4::timestamptz[]) AS n(id, name, t)
                WHERE r.id = $1
                """,
                tid,
                ids,
                names,
                times,
            )
            await conn.execute(
                """
                INSERT INTO resource_conditions
                SELECT n.id, c.type, c.status, c.reason, c.message, c.observed_generation,
                    c.created_time, c.last_updated_time, c.last_transition_time
                FROM resource_conditions c, unnest($2::uuid[]) AS n(id)
                WHERE c.resource_id = $1
                """,
                tid,
                ids,
            )
        await conn.execute("ANALYZE")
        got = await conn.fetchval("SELECT count(*) FROM resources WHERE kind = 'Cluster'")
    finally:
        await conn.close()
    if got != total:
        raise RuntimeError(f"seeded {got} clusters, wanted {total}")
    return time.perf_counter() - started


@dataclass
class PassFigures:
    clusters: int
    mode: str
    page_size: int
    pages: int
    seen: int
    published: int
    seconds: float
    sentinel_cpu_s: float
    server_cpu_s: float
    postgres_cpu_s: float

    @property
    def per_second(self) -> float:
        return self.seen / self.seconds if self.seconds else 0.0


async def one_pass(
    base: str, *, server_pid: int, database: str, clusters: int, page_size: int, mode: str
) -> PassFigures:
    overrides: dict[str, object] = {"resource_type": "clusters", "page_size": page_size}
    # Every clone carries the template's condition times. `skip` looks from an hour before
    # them, so the debounce holds every cluster back; the others from an hour after.
    shift = timedelta(hours=-1 if mode == "skip" else 1)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC) + shift  # noqa: E731
    if mode == "publish, full resource":
        overrides["fields"] = []
    settings = load_sentinel_settings(None, environ={}, overrides=overrides)
    broker = InProcessBroker()
    async with HyperFleetClient(base, timeout=120) as client:
        sentinel = Sentinel(settings, client, broker.publisher(), clock=clock)
        cpu0, srv0, pg0 = time.process_time(), _cpu(server_pid), _postgres_cpu(database)
        result = await sentinel.run_pass()
        cpu1, srv1, pg1 = time.process_time(), _cpu(server_pid), _postgres_cpu(database)
    if not result.ok or result.seen != clusters:
        raise RuntimeError(f"pass failed or incomplete: {result}")
    if broker.published != result.published:
        raise RuntimeError("broker count differs from the pass's")
    return PassFigures(
        clusters=clusters,
        mode=mode,
        page_size=page_size,
        pages=math.ceil(result.seen / page_size),
        seen=result.seen,
        published=result.published,
        seconds=round(result.seconds, 2),
        sentinel_cpu_s=round(cpu1 - cpu0, 2),
        server_cpu_s=round(srv1 - srv0, 2),
        postgres_cpu_s=round(pg1 - pg0, 2),
    )


async def bench(sizes: list[int], page_size: int, server_url: str, modes: list[str]) -> None:
    rows: list[PassFigures] = []
    seeds: dict[int, float] = {}
    for size in sizes:
        async with scratch_database(server_url) as url, api_server(url) as (base, pid):
            seeds[size] = round(await seed(base, url, size), 1)
            print(f"seeded {size} clusters in {seeds[size]}s", flush=True)
            for mode in modes:
                database = urlsplit(url).path.lstrip("/")
                figures = await one_pass(
                    base,
                    server_pid=pid,
                    database=database,
                    clusters=size,
                    page_size=page_size,
                    mode=mode,
                )
                rows.append(figures)
                print(
                    f"  {mode}: {figures.seconds}s, {figures.published} events,"
                    f" CPU: sentinel {figures.sentinel_cpu_s}s, API {figures.server_cpu_s}s,"
                    f" PostgreSQL {figures.postgres_cpu_s}s",
                    flush=True,
                )
    print()
    print(
        "| clusters | pass | pages | events | pass s | resources/s"
        " | CPU s: Sentinel | API | PostgreSQL |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.clusters} | {r.mode} | {r.pages} | {r.published} | {r.seconds} |"
            f" {r.per_second:.0f} | {r.sentinel_cpu_s} | {r.server_cpu_s} | {r.postgres_cpu_s} |"
        )
    print("BENCH_JSON " + json.dumps({"seed_seconds": seeds, "passes": [asdict(r) for r in rows]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--mode",
        action="append",
        choices=["skip", "publish", "publish, full resource"],
        help="passes to run (default: all three)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("HYPERFLEET_BENCH_DATABASE_URL", DEFAULT_SERVER_URL),
        help="PostgreSQL server (a scratch database is created on it and dropped)",
    )
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the server is stopped and the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    modes = args.mode or ["skip", "publish", "publish, full resource"]
    asyncio.run(bench(args.clusters, args.page_size, args.database_url, modes))


if __name__ == "__main__":
    main()
