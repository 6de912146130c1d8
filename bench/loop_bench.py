"""The whole loop's latency: create N clusters on `hyperfleet demo`, time each to phase Ready.

    python bench/loop_bench.py [--clusters N] [--concurrency C] [--database-url URL] [--rabbitmq]

What it does, and undoes, by itself:

1. creates a scratch database `hf_loopbench_<random>` on the server at `--database-url` (and,
   with `--rabbitmq`, a scratch vhost on the local RabbitMQ through `rabbitmqctl`);
2. starts `hyperfleet demo --port 0 --database-url …` (in-process broker, or
   `--broker-url amqp://…/<vhost>`) with the demo's own thresholds (Sentinel poll 1 s,
   not-ready debounce 1 s, simulated adapters without delay) and waits for its API URL;
3. creates N clusters through `POST /clusters` with C concurrent clients, as fast as they go;
4. polls `GET /clusters?search=status.phase='Ready'&size=1` until `total` = N;
5. lists every cluster and takes, per cluster, `status.last_phase_transition_time` (when it
   entered Ready) minus `created_time`: both are server timestamps, so polling resolution does
   not enter the figures;
6. prints p50/p90/p99/max of that latency, the total time from the first create to the last
   Ready, and one `BENCH_JSON {...}` line; stops the demo (SIGTERM), drops the database/vhost.

Everything (API, PostgreSQL client side, Sentinels, adapters) shares this machine's cores with
the load generator, so the figures are what one demo process does, not a capacity figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

API = "/api/hyperfleet/v1"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672/"
CONSOLE_SCRIPT = str(Path(sys.executable).with_name("hyperfleet"))
URL_LINE = re.compile(rb"HyperFleet demo: API (http://\S+)")


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    name = f"hf_loopbench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_db(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.contextmanager
def scratch_vhost() -> Any:
    name = f"hf-loopbench-{secrets.token_hex(4)}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    try:
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
        yield _with_db(RABBIT_URL, name)
    finally:
        subprocess.run(
            ["rabbitmqctl", "-q", "delete_vhost", name], check=False, capture_output=True
        )


class Demo:
    def __init__(self, database_url: str, broker_url: str | None, log: Path) -> None:
        args = [CONSOLE_SCRIPT, "demo", "--port", "0", "--database-url", database_url]
        if broker_url:
            args += ["--broker-url", broker_url]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(args, env=env, stdout=self._out, stderr=subprocess.STDOUT)

    async def url(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = URL_LINE.search(self.log.read_bytes())
            if match:
                return match.group(1).decode()
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.2)
        msg = f"demo did not start: {self.log.read_text(errors='replace')[-2000:]}"
        raise RuntimeError(msg)

    def cpu_seconds(self) -> float:
        """User + system CPU of the demo process so far (from /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return int(self.proc.returncode)


async def create_clusters(api: httpx.AsyncClient, count: int, concurrency: int) -> list[str]:
    ids: list[str] = []
    numbers = iter(range(count))

    async def worker() -> None:
        for n in numbers:
            body = {"kind": "Cluster", "name": f"bench-{n:05d}", "spec": {}}
            response = await api.post("/clusters", json=body)
            response.raise_for_status()
            ids.append(response.json()["id"])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


async def wait_all_ready(api: httpx.AsyncClient, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        response = await api.get("/clusters", params={"search": "status.phase='Ready'", "size": 1})
        response.raise_for_status()
        ready = int(response.json()["total"])
        if ready != last:
            print(f"  ready: {ready}/{count}", flush=True)
            last = ready
        if ready >= count:
            return
        if time.monotonic() > deadline:
            msg = f"only {ready}/{count} clusters Ready after {timeout:g} s"
            raise TimeoutError(msg)
        await asyncio.sleep(0.5)


async def latencies(api: httpx.AsyncClient) -> tuple[list[float], datetime, datetime]:
    """Per cluster: entered Ready minus created (seconds); the first create, the last Ready."""
    out: list[float] = []
    first_created: datetime | None = None
    last_ready: datetime | None = None
    page = 1
    while True:
        response = await api.get("/clusters", params={"page": page, "size": 100})
        response.raise_for_status()
        items = response.json()["items"]
        if not items:
            break
        for item in items:
            created = datetime.fromisoformat(item["created_time"])
            ready = datetime.fromisoformat(item["status"]["last_phase_transition_time"])
            out.append((ready - created).total_seconds())
            first_created = created if first_created is None else min(first_created, created)
            last_ready = ready if last_ready is None else max(last_ready, ready)
        page += 1
    if first_created is None or last_ready is None:
        msg = "no clusters listed"
        raise RuntimeError(msg)
    return out, first_created, last_ready


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    broker = "rabbitmq" if args.rabbitmq else "in-process"
    vhost = scratch_vhost() if args.rabbitmq else contextlib.nullcontext(None)
    with vhost as broker_url, tempfile.TemporaryDirectory(prefix="hf-loopbench-") as tmp:
        async with scratch_database(args.database_url) as database_url:
            demo = Demo(database_url, broker_url, Path(tmp) / "demo.log")
            try:
                base = await demo.url()
                print(f"demo at {base} ({broker} broker); creating {args.clusters} clusters")
                limits = httpx.Limits(max_connections=args.concurrency + 2)
                async with httpx.AsyncClient(
                    base_url=f"{base}{API}", timeout=60, limits=limits
                ) as api:
                    cpu0, t0 = demo.cpu_seconds(), time.monotonic()
                    await create_clusters(api, args.clusters, args.concurrency)
                    created_in = time.monotonic() - t0
                    print(f"  created in {created_in:.1f} s", flush=True)
                    await wait_all_ready(api, args.clusters, args.timeout)
                    cpu = demo.cpu_seconds() - cpu0
                    values, first_created, last_ready = await latencies(api)
            finally:
                code = demo.stop()
    total = (last_ready - first_created).total_seconds()
    return {
        "broker": broker,
        "clusters": args.clusters,
        "concurrency": args.concurrency,
        "create_seconds": round(created_in, 2),
        "ready_p50_s": round(statistics.median(values), 2),
        "ready_p90_s": round(percentile(values, 0.90), 2),
        "ready_p99_s": round(percentile(values, 0.99), 2),
        "ready_max_s": round(max(values), 2),
        "total_seconds": round(total, 2),
        "clusters_per_second": round(args.clusters / total, 1),
        "demo_cpu_seconds": round(cpu, 1),
        "demo_exit_code": code,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent POSTs")
    parser.add_argument("--database-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--rabbitmq", action="store_true", help="local RabbitMQ, own vhost")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds until all Ready")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print()
    print(f"{'broker':<22}{result['broker']}")
    print(f"{'clusters':<22}{result['clusters']} (created in {result['create_seconds']} s)")
    for key in ("ready_p50_s", "ready_p90_s", "ready_p99_s", "ready_max_s"):
        print(f"{'create -> Ready ' + key.split('_')[1]:<22}{result[key]} s")
    print(f"{'total':<22}{result['total_seconds']} s ({result['clusters_per_second']}/s)")
    print(f"{'demo CPU':<22}{result['demo_cpu_seconds']} s")
    print("BENCH_JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
