"""Drive wrk against a running HyperFleet server (and the bare baseline) and print per operation
requests/s, p50/p99 latency and the server's CPU time per request.

    python bench/api_bench.py --server http://127.0.0.1:8000 [--baseline http://127.0.0.1:8001]
        [--ops get,list,put] [--duration 10] [--connections 32] [--seed 0]
        [--header 'X-Org: acme']...

The servers are yours to start (`hyperfleet serve`, and `uvicorn --app-dir bench baseline_app:app`
on the same database for the baseline). CPU time is read from `/proc/<pid>/stat` before and
after each run; the pid is the process listening on the URL's port (or `--server-pid`).
wrk is compiled and cheap, so the figures are the servers', not the load generator's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

API = "/api/hyperfleet/v1/clusters"
CLK_TCK = os.sysconf("SC_CLK_TCK")
ENVS = ("dev", "stage", "prod")

LUA_HEAD = """local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
math.randomseed(os.time())
local n = 0
"""
# wrk request generators; `@API@` is the collection path. PUT sends a fresh observed_time.
LUA = {
    "get": """request = function()
  return wrk.format("GET", "@API@/" .. ids[math.random(#ids)])
end
""",
    "list": """local envs = {"dev", "stage", "prod"}
request = function()
  n = n + 1
  return wrk.format("GET", "@API@?size=100&search=labels.env%3D%27" .. envs[n % 3 + 1] .. "%27")
end
""",
    "put": """local h
local report = '{"adapter":"dns","observed_generation":1,"observed_time":"%s","conditions":['
  .. '{"type":"Available","status":"True","reason":"Ok"},'
  .. '{"type":"Applied","status":"True","reason":"Ok"},'
  .. '{"type":"Health","status":"True","reason":"Ok"}]}'
request = function()
  if h == nil then  -- wrk.format uses these headers instead of wrk.headers (-H): copy those in
    h = {["Content-Type"] = "application/json"}
    for k, v in pairs(wrk.headers) do h[k] = v end
  end
  local body = string.format(report, os.date("!%Y-%m-%dT%H:%M:%SZ"))
  return wrk.format("PUT", "@API@/" .. ids[math.random(#ids)] .. "/statuses", h, body)
end
""",
}


def listening_pid(port: int) -> int:
    """The pid of the process holding the listening TCP socket on `port` (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(str(fd.readlink()) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    sys.exit(f"no process listens on port {port} (pass --server-pid / --baseline-pid)")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid`, all threads (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


HEADERS: dict[str, str] = {}
"""Sent with every request (`--header`), e.g. a tenant's dimension headers."""


def call(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> Any:
    payload = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, payload, {"Content-Type": "application/json", **HEADERS})
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        sys.exit(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data) if data else None


def cluster_ids(base: str, seed: int) -> list[str]:
    """Ids of the server's clusters; first creates `seed` clusters with two reports each."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for i in range(seed):
        labels = {"env": ENVS[i % 3], "region": f"region-{i % 20:02d}", "team": f"t{i % 100}"}
        spec = {"provider": "aws", "version": "4.17.3", "nodes": 3 + i % 5}
        name = f"bench-{os.getpid()}-{i}"
        created = call(
            conn, "POST", API, {"kind": "Cluster", "name": name, "labels": labels, "spec": spec}
        )
        for adapter in ("validation", "dns"):
            conditions = [
                {"type": t, "status": "True", "reason": "Ok"}
                for t in ("Available", "Applied", "Health")
            ]
            call(
                conn,
                "PUT",
                f"{API}/{created['id']}/statuses",
                {
                    "adapter": adapter,
                    "observed_generation": 1,
                    "observed_time": now,
                    "conditions": conditions,
                },
            )
    ids: list[str] = []
    page = 1
    while True:
        items = call(conn, "GET", f"{API}?size=100&page={page}")["items"]
        ids += [item["id"] for item in items]
        if len(items) < 100:
            return ids
        page += 1


def millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(base: str, pid: int, op: str, args: argparse.Namespace, ids: Path) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA_HEAD + LUA[op].replace("@API@", API))
    cmd = [
        "wrk",
        "-t1",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        *(f"-H{k}: {v}" for k, v in HEADERS.items()),
        "-s",
        script.name,
        base,
    ]
    env = {**os.environ, "IDS": str(ids)}
    if args.warmup:
        subprocess.run(
            [*cmd[:3], f"-d{args.warmup}s", *cmd[4:]], env=env, check=True, capture_output=True
        )
    before = cpu_seconds(pid)
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - before
    Path(script.name).unlink()
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "req_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": millis(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        "p99_ms": millis(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        "cpu_us_per_req": cpu * 1e6 / max(requests, 1),
        "requests": requests,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="HyperFleet base URL")
    parser.add_argument("--baseline", help="bare baseline base URL (bench/baseline_app.py)")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--baseline-pid", type=int)
    parser.add_argument("--ops", default="get,list,put")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="unrecorded seconds first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="clusters to create first")
    parser.add_argument(
        "--header", action="append", default=[], help="'Name: value' on every request"
    )
    args = parser.parse_args()
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            sys.exit(f"--header {header!r}: expected 'Name: value'")
        HEADERS[name.strip()] = value.strip()

    ids = cluster_ids(args.server, args.seed)
    if not ids:
        sys.exit("the server holds no cluster: pass --seed N")
    id_file = Path(tempfile.mkstemp(suffix=".ids")[1])
    id_file.write_text("\n".join(ids) + "\n")
    targets = [("hyperfleet", args.server, args.server_pid)]
    if args.baseline:
        targets.append(("baseline", args.baseline, args.baseline_pid))
    results: dict[str, dict[str, Any]] = {}
    print(f"{len(ids)} clusters; wrk -t1 -c{args.connections} -d{args.duration}s per run")
    print(
        f"{'op':5} {'target':10} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10}"
        f" {'non-2xx':>7}"
    )
    for op in args.ops.split(","):
        for name, base, pid in targets:
            port = urlsplit(base).port or 80
            result = run_wrk(base, pid or listening_pid(port), op, args, id_file)
            results[f"{op}/{name}"] = result
            print(
                f"{op:5} {name:10} {result['req_s']:8.0f} {result['p50_ms']:7.1f}"
                f" {result['p99_ms']:7.1f} {result['cpu_us_per_req']:10.0f}"
                f" {result['non_2xx']:7d} {result['socket_errors']}"
            )
        if args.baseline:
            hf, bare = results[f"{op}/hyperfleet"], results[f"{op}/baseline"]
            print(
                f"{op:5} {'hf/bare':10} {hf['req_s'] / bare['req_s']:8.2f} {'':15}"
                f" {hf['cpu_us_per_req'] / bare['cpu_us_per_req']:10.2f}"
            )
    id_file.unlink()
    print("BENCH_JSON " + json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
