"""How the fleet console behaves over a large fleet: N clusters, then the page in Chromium.

Starts `hyperfleet serve` on a scratch database, creates N clusters through the API, then opens
`/console` in headless Chromium and prints: the time from navigation to the first page of rows
and the live indicator, the time of the page's own requests (the list and the six per-phase
counts), and the time to the first row after a search. Measures and prints; asserts nothing.

    .venv/bin/python bench/console_fleet.py --clusters 10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

# The checkout's root, for the browser tests' launcher (tests/browser.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser import VIEWPORT, chromium

API = "/api/hyperfleet/v1"


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _create(base: str, count: int, concurrency: int) -> float:
    started = time.perf_counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = {
                "kind": "Cluster",
                "name": f"bench-{i:05d}",
                "labels": {"env": "prod" if i % 3 == 0 else "dev", "shard": str(i % 10)},
                "spec": {},
            }
            response = await client.post(f"{API}/clusters", json=body)
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return time.perf_counter() - started


def _measure_page(base: str, count: int) -> None:
    timings: dict[str, float] = {}
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(120_000)

        def finished(request: object) -> None:
            url = request.url  # type: ignore[attr-defined]
            if f"{API}/clusters" in url and "watch=true" not in url:
                timing = request.timing  # type: ignore[attr-defined]
                timings[url] = timing["responseEnd"] - timing["requestStart"]

        page.on("requestfinished", finished)
        started = time.perf_counter()
        page.goto(f"{base}/console")
        page.wait_for_selector("#fleet-rows tr[data-id]")
        rows_at = time.perf_counter() - started
        page.wait_for_selector("#live[data-state='live']")
        page.wait_for_function("document.querySelectorAll('#counts .count').length === 6")
        counted_at = time.perf_counter() - started
        print(
            f"first page of rows {rows_at * 1000:.0f} ms, live + counts {counted_at * 1000:.0f} ms"
        )
        print(f"rows rendered: {page.locator('#fleet-rows tr[data-id]').count()}")
        print(page.inner_text("#page-info"))
        for url, ms in sorted(timings.items(), key=lambda kv: -kv[1]):
            print(f"  {ms:7.1f} ms  {url.split(API, 1)[1][:110]}")

        timings.clear()
        started = time.perf_counter()
        page.fill("#search-input", "labels.env = 'prod' and labels.shard = '3'")
        page.press("#search-input", "Enter")
        matching = sum(1 for i in range(count) if i % 3 == 0 and i % 10 == 3)
        expected = f"of {max(1, -(-matching // 50))} · {matching} clusters"
        page.wait_for_function(
            f"document.querySelector('#page-info').textContent.endsWith('{expected}')"
        )
        print(f"search to rows {(time.perf_counter() - started) * 1000:.0f} ms")
        page.click("#next-page")
        page.wait_for_function(
            "document.querySelector('#page-info').textContent.startsWith('Page 2')"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"hf_bench_console_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(args.database_url, f'CREATE DATABASE "{name}"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env["HYPERFLEET_DATABASE_URL"] = _with_db(args.database_url, name)
    env["HYPERFLEET_LOGGING_LEVEL"] = "warning"
    port = 18000 + os.getpid() % 1000
    log = (Path(tempfile.gettempdir()) / f"{name}.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "hyperfleet", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        took = asyncio.run(_create(base, args.clusters, args.concurrency))
        print(f"created {args.clusters} clusters in {took:.1f} s")
        _measure_page(base, args.clusters)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        asyncio.run(_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
