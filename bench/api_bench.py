"""End-to-end API benchmark: the real `hyperfleet serve` against a bare Starlette + asyncpg app.

    python bench/api_bench.py [--clusters N] [--duration S] [--concurrency C] [--database-url URL]

What it does, and undoes, by itself:

1. creates a scratch database `hf_bench_<random>` on the server at `--database-url`;
2. starts `hyperfleet serve` on a free port against it (migrations run at start-up) and waits
   for `/readyz`;
3. loads N clusters through `POST /clusters` (labels env/region/team) and, for a quarter of them,
   two adapter statuses through `PUT …/statuses`;
4. runs three time-bounded phases with C keep-alive HTTP/1.1 connections (httpx.AsyncClient):
   GET one cluster by random id; list with `search=labels.env='prod'&size=20`; PUT adapter
   statuses that flip Available True/False so every request is a real write;
5. reads the server's RSS, stops it, then starts `bench/baseline_app.py` under uvicorn (one
   process, like HyperFleet) on the same database and runs the same GET-by-id phase against it,
   once with uvicorn's default loop (uvloop) and once with `--loop asyncio`;
6. prints a table and one `BENCH_JSON {...}` line, stops every subprocess and drops the database.

The load generator is Python too and shares this machine's cores with the server and with
PostgreSQL, so absolute requests/s are a floor, not a capacity figure. The table therefore also
shows server CPU time per request (from /proc), which does not depend on how fast the client is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import os
import platform
import random
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
import msgspec

API = "/api/hyperfleet/v1"
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENVS = ("prod", "dev", "staging")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1")
TEAMS = ("core", "edge", "data", "payments")
# The built-in Cluster kind's required adapters: reports for these re-run aggregation.
ADAPTERS = ("validation", "dns", "pullsecret", "hypershift")
REQUEST_TIMEOUT_S = 10.0
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOISY_OTHER_PCT = 20.0  # CPU used by unrelated processes above which a phase is flagged

CLIENT_NOTE = (
    "The load generator (httpx, Python, one process) runs on the same {cpus}-core machine as the "
    "server and PostgreSQL and used {client_cpu:.0f}% of a core for HyperFleet GET-by-id "
    "(~{client_us:.0f} µs of CPU per request, more than the server's {server_us:.0f} µs), so "
    "req/s is bounded by the client, not the server, and req/s ratios are pulled toward 1.0. "
    "Compare servers by 'srv µs/req' (server CPU time per request): 1e6 / srv µs/req estimates "
    "what one dedicated core could serve. Nothing is pinned to a core."
)

Send = Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the run unwinds through its finally blocks."""


class Stop:
    """Set by SIGINT/SIGTERM; workers stop at their next request and phases raise Interrupted.

    A flag rather than asyncio's default cancel-the-main-task: that cancellation can be
    swallowed inside httpx/anyio while requests are in flight, and the run then just went on.
    """

    requested = False

    @classmethod
    def request(cls) -> None:
        cls.requested = True

    @classmethod
    def check(cls) -> None:
        if cls.requested:
            raise Interrupted


STOP = Stop


# --------------------------------------------------------------------------- results


@dataclass
class PhaseResult:
    name: str
    target: str
    concurrency: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    status_codes: dict[str, int]
    error_samples: list[str]
    server_cpu_s: float
    server_cpu_us_per_req: float
    server_cpu_pct: float
    client_cpu_pct: float
    postgres_cpu_pct: float
    postgres_cpu_us_per_req: float
    other_cpu_pct: float


@dataclass
class Recorder:
    """Latencies and outcomes of one phase, shared by its workers (one event loop, no locks)."""

    ok: frozenset[int]
    latencies: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    async def call(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
        started = time.perf_counter()
        response: httpx.Response | None = None
        try:
            response = await send()
        except httpx.HTTPError as exc:
            code = type(exc).__name__
            detail = str(exc)
        else:
            code = str(response.status_code)
            detail = ""
        self.latencies.append(time.perf_counter() - started)
        self.codes[code] += 1
        if response is None or response.status_code not in self.ok:
            self.errors += 1
            if len(self.samples) < 5:
                if response is not None:
                    detail = response.text
                self.samples.append(f"{code}: {detail[:300]}")
            return None
        return response


def _percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[index] * 1000.0


def summarise(
    recorder: Recorder,
    *,
    name: str,
    target: str,
    concurrency: int,
    seconds: float,
    server_cpu_s: float,
    client_cpu_s: float,
    machine_cpu_s: float,
    postgres_cpu_s: float,
) -> PhaseResult:
    """Figures of one phase; "other" CPU is everything but the server, this client and
    PostgreSQL: whatever else ran on the machine meanwhile (noise)."""
    other_s = max(0.0, machine_cpu_s - server_cpu_s - client_cpu_s - postgres_cpu_s)
    ordered = sorted(recorder.latencies)
    count = len(ordered)
    return PhaseResult(
        name=name,
        target=target,
        concurrency=concurrency,
        seconds=round(seconds, 2),
        requests=count,
        rps=round(count / seconds, 1) if seconds else 0.0,
        p50_ms=round(_percentile(ordered, 0.50), 2),
        p90_ms=round(_percentile(ordered, 0.90), 2),
        p99_ms=round(_percentile(ordered, 0.99), 2),
        max_ms=round(ordered[-1] * 1000.0, 2) if ordered else 0.0,
        errors=recorder.errors,
        status_codes=dict(sorted(recorder.codes.items())),
        error_samples=recorder.samples,
        server_cpu_s=round(server_cpu_s, 2),
        server_cpu_us_per_req=round(server_cpu_s / count * 1e6, 1) if count else 0.0,
        server_cpu_pct=round(server_cpu_s / seconds * 100.0, 1) if seconds else 0.0,
        client_cpu_pct=round(client_cpu_s / seconds * 100.0, 1) if seconds else 0.0,
        postgres_cpu_pct=round(postgres_cpu_s / seconds * 100.0, 1) if seconds else 0.0,
        postgres_cpu_us_per_req=round(postgres_cpu_s / count * 1e6, 1) if count else 0.0,
        other_cpu_pct=round(other_s / seconds * 100.0, 1) if seconds else 0.0,
    )


# --------------------------------------------------------------------------- subprocesses


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One server subprocess: output to a log file, /proc readings, stopped by SIGTERM."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, database: str
    ) -> None:
        self.name = name
        self.database = database
        self.argv = argv
        self.env = env
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = Path(tempfile.mkstemp(prefix=f"hf-bench-{name}-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None  # noqa: S101
        return self.proc.pid

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=BENCH_DIR.parent,
                # Own session: a Ctrl-C in the terminal reaches only this script, which then
                # stops the server itself (in-flight requests finish, the database is dropped).
                start_new_session=True,
            )

    async def wait_ready(self, path: str = "/readyz") -> float:
        """Poll `path` until it answers 200; returns seconds taken. Raises on exit or timeout."""
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() - started < READY_TIMEOUT_S:
                STOP.check()
                assert self.proc is not None  # noqa: S101
                if self.proc.poll() is not None:
                    msg = f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
                    raise RuntimeError(msg)
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(path)).status_code == 200:
                        return time.monotonic() - started
                await asyncio.sleep(0.2)
        msg = f"{self.name} not ready after {READY_TIMEOUT_S:.0f}s:\n{self.log_tail()}"
        raise RuntimeError(msg)

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (fields 14 and 15 of /proc/<pid>/stat)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text(encoding="ascii")
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def status_kib(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
        return 0

    def uses_uvloop(self) -> bool:
        maps = Path(f"/proc/{self.pid}/maps").read_text(encoding="utf-8", errors="replace")
        return "uvloop" in maps

    def log_lines(self) -> list[str]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()]

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_lines()[-lines:])

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        return self.proc.returncode

    def cleanup(self) -> None:
        with contextlib.suppress(OSError):
            self.log_path.unlink()


def hyperfleet_argv(port: int) -> list[str]:
    script = Path(sys.executable).parent / "hyperfleet"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "hyperfleet"]
    return [*head, "serve", "--port", str(port)]


def baseline_argv(port: int, loop: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(BENCH_DIR),
        "baseline_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        loop,
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def git_revision() -> str:
    """HEAD of the checkout under test, with "+dirty" when tracked files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without HYPERFLEET_* (a stray one would change the server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env.update(extra)
    return env


# --------------------------------------------------------------------------- database


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[tuple[str, str]]:
    """CREATE DATABASE hf_bench_<random>; yield (url, server version); DROP it (FORCE)."""
    name = f"hf_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(server_url)
    try:
        version = await conn.fetchval("SHOW server_version")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield database_url(server_url, name), str(version)
    finally:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


# --------------------------------------------------------------------------- load


@contextlib.asynccontextmanager
async def worker_clients(base_url: str, concurrency: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One HTTP/1.1 keep-alive client (one connection) per worker.

    Not one shared client with C connections: httpcore's pool scans every connection on every
    request, which at C=32 costs the client ~2.6 ms of CPU per request here (it capped the run
    at ~370 req/s with the server mostly idle). One client per worker keeps it at ~0.6 ms.
    """
    tls = ssl.create_default_context()
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base_url,
                    timeout=REQUEST_TIMEOUT_S,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    http2=False,
                    verify=tls,  # unused (plain http); shared so the CA bundle loads once
                )
            )
            for _ in range(concurrency)
        ]
        yield clients


def machine_busy_seconds() -> float:
    """CPU-seconds spent by every process on the machine (all cores), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text(encoding="ascii").split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / CLK_TCK


def postgres_cpu_seconds(database: str) -> float:
    """CPU-seconds of PostgreSQL working for `database`: its backends (and autovacuum workers)
    plus the shared helpers (WAL writer, checkpointer, background writer), which other
    databases on the server may also keep busy."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres: "):
                continue
            if f" {database} " not in title and "(" in title:
                continue  # another database's backend
            stat = (proc / "stat").read_text(encoding="ascii", errors="replace")
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


@dataclass
class CpuMeter:
    """CPU time of the server, of this client process and of the whole machine over a phase."""

    server: ServerProcess
    started: float = 0.0
    server0: float = 0.0
    client0: float = 0.0
    machine0: float = 0.0
    postgres0: float = 0.0

    def __post_init__(self) -> None:
        self.postgres0 = postgres_cpu_seconds(self.server.database)
        self.started = time.perf_counter()
        self.server0 = self.server.cpu_seconds()
        self.client0 = time.process_time()
        self.machine0 = machine_busy_seconds()

    def result(self, name: str, target: str, concurrency: int, recorder: Recorder) -> PhaseResult:
        return summarise(
            recorder,
            name=name,
            target=target,
            concurrency=concurrency,
            seconds=time.perf_counter() - self.started,
            server_cpu_s=self.server.cpu_seconds() - self.server0,
            client_cpu_s=time.process_time() - self.client0,
            machine_cpu_s=machine_busy_seconds() - self.machine0,
            postgres_cpu_s=postgres_cpu_seconds(self.server.database) - self.postgres0,
        )


async def run_workers(
    clients: Sequence[httpx.AsyncClient],
    recorder: Recorder,
    send: Send,
    *,
    seconds: float,
) -> None:
    """One worker per client, each sending `send(client, worker, i)` back to back until the
    deadline."""
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        client = clients[w]
        for i in itertools.count():
            if time.perf_counter() >= deadline or STOP.requested:
                return
            await recorder.call(functools.partial(send, client, w, i))

    tasks = [asyncio.create_task(worker(w)) for w in range(len(clients))]
    try:
        # Bounded even if a request hangs: the deadline plus one request timeout.
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + REQUEST_TIMEOUT_S + 5)
    finally:
        for task in tasks:
            task.cancel()


async def timed_phase(
    clients: Sequence[httpx.AsyncClient],
    server: ServerProcess,
    name: str,
    target: str,
    send: Send,
    *,
    ok: frozenset[int],
    seconds: float,
    warmup: float,
) -> PhaseResult:
    """Warm up (not recorded), then measure for `seconds`."""
    if warmup > 0:
        await run_workers(clients, Recorder(ok=ok), send, seconds=warmup)
    STOP.check()
    recorder = Recorder(ok=ok)
    meter = CpuMeter(server)
    await run_workers(clients, recorder, send, seconds=seconds)
    STOP.check()
    return meter.result(name, target, len(clients), recorder)


Job = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def drain(
    clients: Sequence[httpx.AsyncClient],
    server: ServerProcess,
    name: str,
    target: str,
    jobs: Iterator[Job],
    *,
    ok: frozenset[int],
    on_ok: Callable[[httpx.Response], None] | None = None,
) -> PhaseResult:
    """Run a finite series of requests, one worker per client (used for loading data)."""
    recorder = Recorder(ok=ok)

    async def worker(client: httpx.AsyncClient) -> None:
        for job in jobs:  # one shared iterator: each job is taken by exactly one worker
            if STOP.requested:
                return
            response = await recorder.call(functools.partial(job, client))
            if response is not None and on_ok is not None:
                on_ok(response)

    meter = CpuMeter(server)
    await asyncio.gather(*(worker(c) for c in clients))
    STOP.check()
    return meter.result(name, target, len(clients), recorder)


def rfc3339_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def status_report(adapter: str, *, available: bool) -> bytes:
    flag = "True" if available else "False"
    body = {
        "adapter": adapter,
        "observed_generation": 1,
        "observed_time": rfc3339_now(),
        "conditions": [
            {"type": "Available", "status": flag, "reason": "Bench", "message": "bench report"},
            {"type": "Applied", "status": "True", "reason": "Bench", "message": "applied"},
            {"type": "Health", "status": flag, "reason": "Bench", "message": "healthy"},
        ],
        "data": {"bench": True},
    }
    return msgspec.json.encode(body)


JSON_HEADERS = {"content-type": "application/json"}


def cluster_body(i: int) -> bytes:
    body = {
        "kind": "Cluster",
        "name": f"bench-{i:06d}",
        "spec": {"region": REGIONS[i % len(REGIONS)], "version": "4.16.3", "nodes": 3 + i % 5},
        "labels": {
            "env": ENVS[i % len(ENVS)],
            "region": REGIONS[(i // 3) % len(REGIONS)],
            "team": TEAMS[i % len(TEAMS)],
        },
    }
    return msgspec.json.encode(body)


# --------------------------------------------------------------------------- benchmark


@dataclass
class Options:
    clusters: int
    duration: float
    concurrency: int
    warmup: float
    server_url: str
    asyncio_baseline: bool


async def bench_hyperfleet(
    opts: Options, db_url: str, report: dict[str, Any]
) -> tuple[list[PhaseResult], list[str]]:
    port = free_port()
    env = clean_env(HYPERFLEET_DATABASE_URL=db_url, HYPERFLEET_LOGGING_LEVEL="warning")
    server = ServerProcess("hyperfleet", hyperfleet_argv(port), env, port, db_name(db_url))
    phases: list[PhaseResult] = []
    try:
        server.start()
        report["hyperfleet_ready_s"] = round(await server.wait_ready(), 2)
        report["hyperfleet_rss_idle_kib"] = server.status_kib("VmRSS")
        report["hyperfleet_uvloop"] = server.uses_uvloop()
        async with worker_clients(server.base_url, opts.concurrency) as clients:
            ids = await load_clusters(opts, clients, server, phases)
            phases.extend(await measure_hyperfleet(opts, clients, server, ids))
        report["hyperfleet_rss_after_load_kib"] = server.status_kib("VmRSS")
        report["hyperfleet_rss_peak_kib"] = server.status_kib("VmHWM")
    finally:
        report["hyperfleet_exit_code"] = server.stop()
        logs = server.log_lines()
        server.cleanup()
    return phases, logs


async def load_clusters(
    opts: Options,
    clients: Sequence[httpx.AsyncClient],
    server: ServerProcess,
    phases: list[PhaseResult],
) -> list[str]:
    """POST the clusters, then two adapter reports for a quarter of them; returns the ids."""
    ids: list[str] = []

    def create(i: int) -> Job:
        body = cluster_body(i)
        return lambda c: c.post(f"{API}/clusters", content=body, headers=JSON_HEADERS)

    phases.append(
        await drain(
            clients,
            server,
            "load: POST cluster",
            "hyperfleet",
            (create(i) for i in range(opts.clusters)),
            ok=frozenset({201}),
            on_ok=lambda r: ids.append(r.json()["id"]),
        )
    )
    if not ids:
        msg = f"no cluster was created: {phases[-1].error_samples}"
        raise RuntimeError(msg)

    def seed(cid: str, adapter: str) -> Job:
        url = f"{API}/clusters/{cid}/statuses"
        return lambda c: c.put(
            url, content=status_report(adapter, available=True), headers=JSON_HEADERS
        )

    subset = ids[: max(1, len(ids) // 4)]
    phases.append(
        await drain(
            clients,
            server,
            "load: PUT status",
            "hyperfleet",
            (seed(cid, adapter) for cid in subset for adapter in ADAPTERS[:2]),
            ok=frozenset({201}),
        )
    )
    return ids


async def measure_hyperfleet(
    opts: Options,
    clients: Sequence[httpx.AsyncClient],
    server: ServerProcess,
    ids: list[str],
) -> list[PhaseResult]:
    rngs = [random.Random(w) for w in range(len(clients))]

    async def get_by_id(c: httpx.AsyncClient, w: int, _: int) -> httpx.Response:
        return await c.get(f"{API}/clusters/{rngs[w].choice(ids)}")

    list_url = f"{API}/clusters?" + urlencode({"search": "labels.env='prod'", "size": "20"})

    async def list_search(c: httpx.AsyncClient, _w: int, _i: int) -> httpx.Response:
        return await c.get(list_url)

    # Each worker owns its own (cluster, adapter) pairs, so its reports for a pair arrive in
    # observed_time order (none is discarded as stale) and workers never wait on each other's
    # row locks; Available flips on every report to the same pair, so each one is a real write.
    pairs = [(cid, adapter) for cid in ids for adapter in ADAPTERS]
    owned = [pairs[w :: len(clients)] or [pairs[w % len(pairs)]] for w in range(len(clients))]
    flips: dict[tuple[str, str], bool] = {}

    async def put_status(c: httpx.AsyncClient, w: int, i: int) -> httpx.Response:
        cid, adapter = owned[w][i % len(owned[w])]
        available = flips[cid, adapter] = not flips.get((cid, adapter), True)
        return await c.put(
            f"{API}/clusters/{cid}/statuses",
            content=status_report(adapter, available=available),
            headers=JSON_HEADERS,
        )

    timing = {"seconds": opts.duration, "warmup": opts.warmup}
    target = "hyperfleet"
    return [
        await timed_phase(
            clients, server, "GET cluster by id", target, get_by_id, ok=frozenset({200}), **timing
        ),
        await timed_phase(
            clients, server, "LIST env=prod size=20", target, list_search, ok=frozenset({200}),
            **timing,
        ),
        await timed_phase(
            clients, server, "PUT adapter status", target, put_status, ok=frozenset({201}),
            **timing,
        ),
    ]  # fmt: skip


async def bench_baseline(
    opts: Options, db_url: str, loop: str, report: dict[str, Any]
) -> tuple[PhaseResult, list[str]]:
    conn = await asyncpg.connect(db_url)
    try:
        ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM resources")]
    finally:
        await conn.close()
    port = free_port()
    env = clean_env(BASELINE_DATABASE_URL=db_url)
    server = ServerProcess(
        f"baseline-{loop}", baseline_argv(port, loop), env, port, db_name(db_url)
    )
    rngs = [random.Random(w) for w in range(opts.concurrency)]

    async def get_item(c: httpx.AsyncClient, w: int, _: int) -> httpx.Response:
        return await c.get(f"/item/{rngs[w].choice(ids)}")

    try:
        server.start()
        await server.wait_ready()
        async with worker_clients(server.base_url, opts.concurrency) as clients:
            result = await timed_phase(
                clients,
                server,
                "GET item by id",
                f"baseline ({loop})",
                get_item,
                ok=frozenset({200}),
                seconds=opts.duration,
                warmup=opts.warmup,
            )
        report[f"baseline_{loop}_rss_after_load_kib"] = server.status_kib("VmRSS")
        report[f"baseline_{loop}_uvloop"] = server.uses_uvloop()
    finally:
        server.stop()
        logs = server.log_lines()
        server.cleanup()
    return result, logs


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def ratios(phases: list[PhaseResult]) -> dict[str, Any]:
    by = {(p.name, p.target): p for p in phases}
    hf = by.get(("GET cluster by id", "hyperfleet"))
    out: dict[str, Any] = {}
    for loop in ("uvloop", "asyncio"):
        base = by.get(("GET item by id", f"baseline ({loop})"))
        if hf is None or base is None:
            continue
        out[f"get_by_id_vs_baseline_{loop}"] = {
            "rps": _ratio(hf.rps, base.rps),
            "p50": _ratio(hf.p50_ms, base.p50_ms),
            "p99": _ratio(hf.p99_ms, base.p99_ms),
            "server_cpu_per_req": _ratio(hf.server_cpu_us_per_req, base.server_cpu_us_per_req),
        }
    return out


# --------------------------------------------------------------------------- output


def print_table(phases: list[PhaseResult]) -> None:
    head = (
        f"{'phase':<22} {'target':<18} {'reqs':>6} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'srv CPU':>7} {'srv µs/req':>10} {'pg µs/req':>9} {'client':>6} "
        f"{'pg':>5} {'other':>5}"
    )
    print(head)
    print("-" * len(head))
    for p in phases:
        print(
            f"{p.name:<22} {p.target:<18} {p.requests:>6} {p.rps:>6.0f} {p.p50_ms:>7.1f} "
            f"{p.p99_ms:>7.1f} {p.errors:>6} {p.server_cpu_pct:>6.0f}% "
            f"{p.server_cpu_us_per_req:>10.0f} {p.postgres_cpu_us_per_req:>9.0f} "
            f"{p.client_cpu_pct:>5.0f}% {p.postgres_cpu_pct:>4.0f}% {p.other_cpu_pct:>4.0f}%"
        )
    print(
        "srv CPU / client / pg / other: share of one core used by the server process, by this "
        "load generator, by PostgreSQL and by everything else on the machine during the phase; "
        "srv µs/req and pg µs/req: CPU time per request."
    )


def print_report(
    phases: list[PhaseResult], report: dict[str, Any], logs: dict[str, list[str]]
) -> None:
    print()
    print(
        f"HyperFleet API benchmark — {report['clusters']} clusters, concurrency "
        f"{report['concurrency']}, {report['duration_s']:g} s per phase "
        f"(+{report['warmup_s']:g} s warm-up), {report['cpus']} CPUs, "
        f"PostgreSQL {report['postgres']}, Python {report['python']}, code {report['git']}"
    )
    print()
    print_table(phases)
    print()
    for key, value in report["ratios"].items():
        loop = key.rsplit("_", 1)[1]
        print(
            f"HyperFleet / baseline ({loop}), GET by id: req/s x{value['rps']}, "
            f"p50 x{value['p50']}, p99 x{value['p99']}, "
            f"server CPU per request x{value['server_cpu_per_req']}"
        )
    mib = 1024.0
    print(
        f"HyperFleet RSS: {report['hyperfleet_rss_idle_kib'] / mib:.1f} MiB idle, "
        f"{report['hyperfleet_rss_after_load_kib'] / mib:.1f} MiB after load "
        f"(peak {report['hyperfleet_rss_peak_kib'] / mib:.1f} MiB); baseline "
        f"{report.get('baseline_uvloop_rss_after_load_kib', 0) / mib:.1f} MiB after load"
    )
    print(
        f"Event loop: HyperFleet uvloop={report['hyperfleet_uvloop']}, "
        f"baseline (default uvicorn CLI) uvloop={report.get('baseline_uvloop_uvloop')}"
    )
    noisy = [p for p in phases if p.other_cpu_pct > NOISY_OTHER_PCT]
    if noisy:
        print(
            "WARNING: other processes used more than "
            f"{NOISY_OTHER_PCT:.0f}% of a core during: "
            + "; ".join(f"{p.name} ({p.target}) {p.other_cpu_pct:.0f}%" for p in noisy)
            + ". Those figures are disturbed; compare runs on a quiet machine."
        )
    for p in phases:
        if p.errors:
            print(f"errors in {p.name} ({p.target}): {p.status_codes}")
            for sample in p.error_samples:
                print(f"    {sample}")
    for name, lines in logs.items():
        if lines:
            print(f"{name} server log: {len(lines)} lines at warning or above; last ones:")
            for line in lines[-10:]:
                print(f"    {line[:300]}")
    print()
    print("Note: " + report["client_note"])
    print()
    print("BENCH_JSON " + json.dumps({**report, "phases": [asdict(p) for p in phases]}))


async def main_async(opts: Options) -> int:
    report: dict[str, Any] = {
        "clusters": opts.clusters,
        "concurrency": opts.concurrency,
        "duration_s": opts.duration,
        "warmup_s": opts.warmup,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "started": rfc3339_now(),
        "git": git_revision(),
        "loadavg_at_start": Path("/proc/loadavg").read_text(encoding="ascii").split()[:3],
    }
    logs: dict[str, list[str]] = {}
    async with scratch_database(opts.server_url) as (db_url, version):
        report["postgres"] = version
        phases, logs["hyperfleet"] = await bench_hyperfleet(opts, db_url, report)
        loops = ["uvloop", "asyncio"] if opts.asyncio_baseline else ["uvloop"]
        for loop in loops:
            result, logs[f"baseline-{loop}"] = await bench_baseline(opts, db_url, loop, report)
            phases.append(result)
    report["ratios"] = ratios(phases)
    get_phase = next(p for p in phases if p.name == "GET cluster by id")
    report["client_note"] = CLIENT_NOTE.format(
        cpus=report["cpus"],
        client_cpu=get_phase.client_cpu_pct,
        client_us=get_phase.client_cpu_pct / 100.0 * get_phase.seconds / get_phase.requests * 1e6
        if get_phase.requests
        else 0.0,
        server_us=get_phase.server_cpu_us_per_req,
    )
    report["server_core_capacity_rps_est"] = {
        f"{p.name} ({p.target})": round(1e6 / p.server_cpu_us_per_req)
        for p in phases
        if p.server_cpu_us_per_req
    }
    report["server_log_lines"] = {k: len(v) for k, v in logs.items()}
    report["noisy_phases"] = [
        f"{p.name} ({p.target})" for p in phases if p.other_cpu_pct > NOISY_OTHER_PCT
    ]
    print_report(phases, report, logs)
    return 0


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=2000, help="clusters to load (2000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase (10)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent workers (32)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded seconds (1)")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_SERVER_URL,
        help="PostgreSQL server to create the scratch database on",
    )
    parser.add_argument(
        "--no-asyncio-baseline",
        action="store_true",
        help="skip the second baseline run with uvicorn --loop asyncio",
    )
    args = parser.parse_args(argv)
    if args.clusters < 1 or args.concurrency < 1 or args.duration <= 0:
        parser.error("--clusters and --concurrency must be >= 1 and --duration > 0")
    return Options(
        clusters=args.clusters,
        duration=args.duration,
        concurrency=args.concurrency,
        warmup=max(0.0, args.warmup),
        server_url=args.database_url,
        asyncio_baseline=not args.no_asyncio_baseline,
    )


async def guarded(opts: Options) -> int:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, STOP.request)
    try:
        return await main_async(opts)
    except Interrupted:
        print("interrupted: servers stopped, scratch database dropped", file=sys.stderr)
        return 130
    except (OSError, RuntimeError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1


def main() -> int:
    return asyncio.run(guarded(parse_args()))


if __name__ == "__main__":
    sys.exit(main())
