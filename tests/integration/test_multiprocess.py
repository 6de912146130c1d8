"""Concurrency proof (post-MVP §3.5): three server processes on one database.

Three `hyperfleet serve` processes share a fresh, migrated database. Concurrent creates of one
name (one per process) must give exactly one 201. Then a bounded, concurrent workload of status
reports, PATCHes and DELETEs hits clusters and node pools through the three processes in turn,
clusters under the strict generation policy with an adapter dependency (dns needs validation),
node pools under the reference (discard) policy, which stores stale-generation reports. Afterwards,
with everything quiet, every surviving resource must satisfy:

- no response was a 5xx (a deadlock or serialization failure surfaces as 503) or failed in
  transport, and every answer was one the contract allows for that request;
- generation == 1 + effective PATCHes (+1 once deleted), where "effective" is derived from the
  responses alone: the generations seen in PATCH answers are contiguous from 2, one
  {spec, labels} per generation, consecutive ones differ; a PATCH with If-Match answers the
  generation it saw (+1) or 412; every DELETE answered the same generation and deleted_time;
- no lost report: for each adapter the stored row is exactly the accepted (201) report with the
  greatest (observed_generation, observed_time); every observed_time is unique, so this is exact;
- the stored aggregate is a fixed point of `compute_status` over the stored reports: recomputing
  from the stored reports and the stored conditions/phase reproduces the stored conditions,
  phase and adapter summary (what a sequential replay in commit order would have left);
- the phase history is one unbroken chain ending in the stored phase.

Resources planned for a full finalization must be hard-deleted at the end (404).

A last phase races each cluster's first DELETE against force-deletes of its (already deleting)
node pools through the other processes: neither may fail with a deadlock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from tests.conftest import ServerProcess, with_database

from hyperfleet.config import EntityConfig
from hyperfleet.domain.entities import build_registry
from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    ConditionStatus,
    EntityDescriptor,
    Phase,
    PhaseRecord,
    Resource,
    ResourceCondition,
)
from hyperfleet.domain.status_engine import compute_status
from hyperfleet.storage.migrations import migrate_url

pytestmark = pytest.mark.slow

API = "/api/hyperfleet/v1"
SERVERS = 3
IN_FLIGHT = 24
OPS = 1500
LOAD_SECONDS = 25.0
"""Hard cap on the load phase; OPS normally ends it first."""
DELETE_FROM = 0.55
"""Fraction of the op budget after which doomed resources also get DELETEs."""
SEED = 3_5_2026
RACES = 40
"""Clusters whose DELETE races force-deletes of their node pools."""
RACE_POOLS = 3
"""Node pools per race cluster, all force-deleted while the cluster is DELETEd."""

ENTITIES: list[dict[str, Any]] = [
    {
        "kind": "Cluster",
        "required_adapters": ["validation", "dns"],
        "optional_adapters": ["extra"],
        "adapter_dependencies": {"dns": ["validation"]},
        "generation_policy": "strict",
        "conditions": [
            {
                "type": "DnsReady",
                "status": 'statuses.exists(s, s.adapter == "dns" && s.state == "Ready")',
                "reason": '"DnsChecked"',
                "message": '"dns adapter state"',
            }
        ],
    },
    {
        # The reference policy: reports at a stale generation are stored, not refused.
        "kind": "NodePool",
        "required_adapters": ["validation", "dns"],
        "optional_adapters": ["extra"],
        "generation_policy": "discard",
    },
]
REGISTRY = build_registry(
    EntityConfig.model_validate(e).model_dump(exclude_unset=True) for e in ENTITIES
)
ADAPTERS = ("validation", "dns", "extra")
ENGINE_TYPES = frozenset({"AllAdaptersReady", "ValidationPassed", "DnsReady"})

# (Available, Available reason, Applied, Health) per report shape, and how often it is sent.
SHAPES: dict[str, tuple[str, str, str, str]] = {
    "Ready": ("True", "Ready", "True", "True"),
    "Provisioning": ("False", "Progressing", "True", "True"),
    "Failed": ("False", "Broken", "True", "True"),
    "Pending": ("False", "WaitingForDependencies", "False", "True"),
    "Unknown": ("Unknown", "Checking", "True", "True"),
    "Unhealthy": ("False", "Broken", "True", "False"),
    "Finalized": ("False", "Finalized", "False", "True"),
}
SHAPE_WEIGHTS = {
    "Ready": 40,
    "Provisioning": 18,
    "Failed": 10,
    "Pending": 15,
    "Unknown": 10,
    "Unhealthy": 7,
}
CLUSTER_SPECS: list[dict[str, Any]] = [
    {"version": "4.14"},
    {"version": "4.15"},
    {"version": "4.16", "fips": True},
]
NODEPOOL_SPECS: list[dict[str, Any]] = [
    {"replicas": 1},
    {"replicas": 2},
    {"replicas": 3, "autoscale": False},
]
LABEL_SETS: list[dict[str, str]] = [{}, {"team": "a"}, {"team": "b", "tier": "gold"}]


# -- servers ---------------------------------------------------------------------------------


@dataclass
class Servers:
    procs: list[ServerProcess]

    @property
    def urls(self) -> list[str]:
        return [p.base for p in self.procs]

    def error_lines(self) -> list[str]:
        found = []
        for proc in self.procs:
            for line in proc.log_path.read_text(errors="replace").splitlines():
                lowered = line.lower()
                if "traceback" in lowered or '"level":"error"' in lowered.replace(" ", ""):
                    found.append(f"{proc.log_path.name}: {line}")
        return found


@pytest.fixture
async def servers(pg_admin_url: str, tmp_path: Path) -> AsyncIterator[Servers]:
    """Three `hyperfleet serve` processes on a fresh database, migrated once beforehand."""
    name = f"hf_mp_{secrets.token_hex(6)}"
    url = with_database(pg_admin_url, name)
    config = tmp_path / "hyperfleet.yaml"
    config.write_text(
        yaml.safe_dump(
            {"database": {"pool_min_size": 1, "pool_max_size": 10}, "entities": ENTITIES}
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env |= {"HYPERFLEET_DATABASE_URL": url, "HYPERFLEET_LOGGING_LEVEL": "warning"}
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        running = Servers([])
        try:
            await migrate_url(url)
            for index in range(SERVERS):
                args = ["--config", str(config), "--no-migrate"]
                running.procs.append(ServerProcess(args, env, tmp_path / f"server{index}.log"))
            for proc in running.procs:
                await asyncio.to_thread(proc.wait_ready)
            yield running
        finally:
            await asyncio.gather(*(asyncio.to_thread(p.stop) for p in running.procs))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# -- bookkeeping -----------------------------------------------------------------------------


class UniqueClock:
    """Strictly increasing UTC times (µs steps): every report has its own observed_time."""

    def __init__(self) -> None:
        self._last = datetime.now(UTC)

    def next(self) -> datetime:
        self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        return self._last


@dataclass(frozen=True)
class Sent:
    generation: int
    at: datetime
    token: str
    shape: str


@dataclass
class Tracked:
    kind: str
    name: str
    href: str
    initial_spec: dict[str, Any]
    specs: list[dict[str, Any]]
    plan: str | None = None
    """None (stays live), "partial" (only dns finalizes), "full" (finalized, hard-deleted at
    the end) or "forced" (force-deleted)."""
    delete_directly: bool = False
    child_plan: str | None = None
    """Set on the doomed clusters that also get node pools created while they are deleted."""
    parent: Tracked | None = None
    patches: list[tuple[dict[str, Any], int, dict[str, Any]]] = field(default_factory=list)
    """(PATCH body, answered generation, answered {spec, labels}) of every PATCH answered 200."""
    patch_conflicts: int = 0
    deletes: list[tuple[int, str]] = field(default_factory=list)
    """(generation, deleted_time) of every DELETE answered 202."""
    accepted: dict[str, list[Sent]] = field(default_factory=lambda: defaultdict(list))

    @property
    def adapters(self) -> tuple[str, ...]:
        return ADAPTERS

    @property
    def finalizers(self) -> tuple[str, ...]:
        return {"full": ("validation", "dns"), "partial": ("dns",)}.get(self.plan or "", ())

    @property
    def may_vanish(self) -> bool:
        return self.plan in {"full", "forced"}

    @property
    def may_be_deleting(self) -> bool:
        return self.plan is not None


def _state(doc: dict[str, Any]) -> dict[str, Any]:
    """What a PATCH may change, as a resource document shows it."""
    return {"spec": doc["spec"], "labels": doc.get("labels") or {}}


def _code(resp: httpx.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _conditions(shape: str, token: str) -> list[dict[str, Any]]:
    available, reason, applied, health = SHAPES[shape]
    out = [
        {"type": "Available", "status": available, "reason": reason, "message": token},
        {"type": "Applied", "status": applied, "reason": "Applied"},
        {"type": "Health", "status": health, "reason": "Healthy" if health == "True" else "Sick"},
    ]
    if shape == "Finalized":
        out.append({"type": "Finalized", "status": "True", "reason": "CleanedUp"})
    return out


class Workload:
    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self._turn = itertools.cycle(range(len(clients)))
        self.rng = random.Random(SEED)
        self.clock = UniqueClock()
        self.counts: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self.resources: list[Tracked] = []
        self._tokens = itertools.count(1)
        self._ticket = itertools.count()
        self._late = itertools.count(1)

    # -- transport --

    async def call(
        self,
        op: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        client = self.clients[next(self._turn)]
        try:
            resp = await client.request(method, path, json=json_body, headers=headers)
        except httpx.HTTPError as exc:
            self.failures.append(f"{op} {method} {path} via {client.base_url}: {exc!r}")
            self.counts[(op, 0)] += 1
            return None
        self.counts[(op, resp.status_code)] += 1
        if resp.status_code >= 500:
            self.failures.append(
                f"{op} {method} {path} via {client.base_url}: {resp.status_code} {resp.text}"
            )
        return resp

    def unexpected(self, what: str, resp: httpx.Response) -> None:
        self.failures.append(f"unexpected answer to {what}: {resp.status_code} {resp.text[:500]}")

    # -- setup: concurrent creates of one name --

    async def create(
        self,
        kind: str,
        name: str,
        spec: dict[str, Any],
        parent: Tracked | None = None,
        *,
        copies: int = SERVERS,
    ) -> Tracked:
        """POST the same resource `copies` times at once: exactly one 201, the rest 409."""
        path = f"{parent.href}/nodepools" if parent else f"{API}/clusters"
        body = {"kind": kind, "name": name, "spec": spec}
        answers = await asyncio.gather(
            *(self.call("create", "POST", path, json_body=body) for _ in range(copies))
        )
        created = [a for a in answers if a is not None and a.status_code == 201]
        assert len(created) == 1, [(a.status_code, a.text) for a in answers if a is not None]
        for answer in answers:
            if answer is not None and answer.status_code != 201:
                assert (answer.status_code, _code(answer)) == (409, "HYPERFLEET-CNF-001"), (
                    answer.text
                )
        doc = created[0].json()
        assert doc["generation"] == 1
        return Tracked(
            kind=kind,
            name=name,
            href=doc["href"],
            initial_spec=spec,
            specs=NODEPOOL_SPECS if parent else CLUSTER_SPECS,
            parent=parent,
        )

    async def setup(self) -> None:
        clusters = await asyncio.gather(
            *(self.create("Cluster", f"mp-cluster-{i}", CLUSTER_SPECS[i % 3]) for i in range(10))
        )
        layout = {0: 2, 1: 1, 2: 2, 4: 1}
        nodepools = await asyncio.gather(
            *(
                self.create("NodePool", f"np-{i}-{j}", NODEPOOL_SPECS[j % 3], clusters[i])
                for i, count in layout.items()
                for j in range(count)
            )
        )
        # Cluster 0 (and its pools): full finalization, hard-deleted in the end; one of its pools
        # is also DELETEd directly, racing the cascade. Cluster 1: stays Deleting, its pools are
        # finalized and hard-deleted. Cluster 3: stays Deleting. Clusters 0, 1 and 3 also get
        # node pools created while they are being deleted (created and cascaded, or 409). One
        # pool of cluster 2 is deleted on a live cluster and stays Deleting.
        c0, c1, _, c3 = clusters[:4]
        c0.plan = c0.child_plan = c1.child_plan = "full"
        c0.delete_directly = c1.delete_directly = c3.delete_directly = True
        c1.plan = c3.plan = c3.child_plan = "partial"
        c2p0 = nodepools[3]
        c2p0.plan, c2p0.delete_directly = "partial", True
        for pool in nodepools:
            if pool.parent is not None and pool.parent.child_plan is not None:
                pool.plan = pool.parent.child_plan
        nodepools[0].delete_directly = True  # a pool of cluster 0
        self.resources = [*clusters, *nodepools]

    # -- operations --

    async def get(self, r: Tracked) -> dict[str, Any] | None:
        resp = await self.call("get", "GET", r.href)
        if resp is None:
            return None
        if resp.status_code == 200:
            return dict(resp.json())
        if not (resp.status_code == 404 and r.may_vanish):
            self.unexpected(f"GET {r.kind} {r.name}", resp)
        return None

    async def report(
        self, r: Tracked, *, shape: str | None = None, adapter: str | None = None
    ) -> None:
        doc = await self.get(r)
        if doc is None:
            return
        generation = doc["generation"]
        adapter = adapter or self.rng.choice(r.adapters)
        if shape is None:
            shape = self.rng.choices(list(SHAPE_WEIGHTS), weights=list(SHAPE_WEIGHTS.values()))[0]
            if "deleted_time" in doc and adapter in r.finalizers and self.rng.random() < 0.5:
                shape = "Finalized"
        sent = Sent(generation, self.clock.next(), f"report-{next(self._tokens)}", shape)
        body = {
            "adapter": adapter,
            "observed_generation": generation,
            "observed_time": sent.at.isoformat().replace("+00:00", "Z"),
            "conditions": _conditions(shape, sent.token),
        }
        resp = await self.call("report", "PUT", f"{r.href}/statuses", json_body=body)
        if resp is not None and resp.status_code < 500:
            self.judge_report(r, adapter, sent, resp)

    def judge_report(self, r: Tracked, adapter: str, sent: Sent, resp: httpx.Response) -> None:
        what = f"report {adapter}/{sent.shape} at generation {sent.generation} on {r.kind} {r.name}"
        code = _code(resp)
        if resp.status_code == 201:
            echo = resp.json()
            if (
                echo["observed_generation"] != sent.generation
                or datetime.fromisoformat(echo["last_report_time"]) != sent.at
            ):
                self.unexpected(f"{what} (201 does not echo the report)", resp)
            r.accepted[adapter].append(sent)
        elif resp.status_code == 204:
            # Strict: only an Available=Unknown with nothing new is dropped; the discard
            # policy (node pools) also drops stale-generation reports.
            if sent.shape != "Unknown" and REGISTRY.require(r.kind).generation_policy == "strict":
                self.unexpected(f"{what} (discarded)", resp)
        elif resp.status_code == 409 and code in {"HYPERFLEET-CNF-004", "HYPERFLEET-CNF-005"}:
            self.counts[(f"report {code}", 409)] += 1
        elif not (resp.status_code == 404 and r.may_vanish):
            self.unexpected(what, resp)

    def _patch_body(self, r: Tracked) -> dict[str, Any]:
        x = self.rng.random()
        body: dict[str, Any] = {}
        if x < 0.85:
            body["spec"] = self.rng.choice(r.specs)
        if x >= 0.7:
            body["labels"] = self.rng.choice(LABEL_SETS)
        return body

    async def patch(self, r: Tracked, *, if_match: bool = False) -> None:
        """PATCH spec and/or labels; with `if_match`, conditional on a fresh GET's ETag."""
        headers, seen = None, None
        if if_match:
            got = await self.call("get", "GET", r.href)
            if got is None or got.status_code != 200:
                if got is not None and not (got.status_code == 404 and r.may_vanish):
                    self.unexpected(f"GET {r.kind} {r.name}", got)
                return
            headers, seen = {"If-Match": got.headers["ETag"]}, got.json()["generation"]
        body = self._patch_body(r)
        op = "patch if-match" if if_match else "patch"
        resp = await self.call(op, "PATCH", r.href, json_body=body, headers=headers)
        if resp is None or resp.status_code >= 500:
            return
        code = _code(resp)
        if resp.status_code == 200:
            doc = resp.json()
            r.patches.append((body, doc["generation"], _state(doc)))
            if seen is not None and doc["generation"] not in {seen, seen + 1}:
                self.unexpected(f"PATCH If-Match (generation {seen}) {r.kind} {r.name}", resp)
        elif resp.status_code == 412 and if_match and code == "HYPERFLEET-CNF-006":
            pass
        elif resp.status_code == 409 and code == "HYPERFLEET-CNF-003" and r.may_be_deleting:
            r.patch_conflicts += 1
        elif not (resp.status_code == 404 and r.may_vanish):
            self.unexpected(f"PATCH {r.kind} {r.name}", resp)

    async def create_late_pool(self, cluster: Tracked) -> None:
        """A node pool created while its cluster is being deleted: 201 (then cascaded) or 409."""
        name = f"late-{next(self._late)}"
        spec = self.rng.choice(NODEPOOL_SPECS)
        body = {"kind": "NodePool", "name": name, "spec": spec}
        resp = await self.call("create late", "POST", f"{cluster.href}/nodepools", json_body=body)
        if resp is None or resp.status_code >= 500:
            return
        if resp.status_code == 201:
            doc = resp.json()
            pool = Tracked(
                kind="NodePool",
                name=name,
                href=doc["href"],
                initial_spec=spec,
                specs=NODEPOOL_SPECS,
                plan=cluster.child_plan,
                parent=cluster,
            )
            self.resources.append(pool)
        elif not (
            (resp.status_code == 409 and _code(resp) == "HYPERFLEET-CNF-003")
            or (resp.status_code == 404 and cluster.may_vanish)
        ):
            self.unexpected(f"POST node pool under {cluster.name}", resp)

    async def delete(self, r: Tracked) -> None:
        resp = await self.call("delete", "DELETE", r.href)
        if resp is None or resp.status_code >= 500:
            return
        if resp.status_code == 202:
            doc = resp.json()
            r.deletes.append((doc["generation"], doc["deleted_time"]))
        elif not (resp.status_code == 404 and r.may_vanish):
            self.unexpected(f"DELETE {r.kind} {r.name}", resp)

    async def force_delete(self, r: Tracked) -> None:
        body = {"reason": "stuck in finalization"}
        resp = await self.call("force-delete", "POST", f"{r.href}/force-delete", json_body=body)
        if resp is not None and resp.status_code != 204:
            self.unexpected(f"force-delete {r.kind} {r.name}", resp)

    async def force_delete_race(self) -> None:
        """Each cluster's first DELETE races force-deletes of its (already deleting) node
        pools, the requests spread over the three processes."""
        clusters = await asyncio.gather(
            *(
                self.create("Cluster", f"mp-race-{i}", CLUSTER_SPECS[0], copies=1)
                for i in range(RACES)
            )
        )
        pools = await asyncio.gather(
            *(
                self.create("NodePool", f"rp-{i}-{j}", NODEPOOL_SPECS[0], cluster, copies=1)
                for i, cluster in enumerate(clusters)
                for j in range(RACE_POOLS)
            )
        )
        for cluster in clusters:
            cluster.plan, cluster.delete_directly = "partial", True
        for pool in pools:
            pool.plan, pool.delete_directly = "forced", True
        await asyncio.gather(*(self.delete(pool) for pool in pools))
        racing = []
        for cluster in clusters:
            own = [self.force_delete(pool) for pool in pools if pool.parent is cluster]
            racing += [*own[:1], self.delete(cluster), *own[1:]]
        await asyncio.gather(*racing)
        self.resources += [*clusters, *pools]

    async def one(self, r: Tracked, progress: float) -> None:
        x, y = self.rng.random(), self.rng.random()
        deleting_window = progress >= DELETE_FROM
        if deleting_window and r.child_plan is not None and x < 0.1:
            await self.create_late_pool(r)
        elif deleting_window and r.delete_directly and x < 0.3:
            await self.delete(r)
        elif y < 0.3:
            await self.patch(r, if_match=y < 0.1)
        else:
            await self.report(r)

    async def worker(self, deadline: float) -> None:
        while True:
            ticket = next(self._ticket)
            if ticket >= OPS or time.monotonic() > deadline:
                return
            await self.one(self.rng.choice(self.resources), ticket / OPS)

    async def load(self) -> None:
        deadline = time.monotonic() + LOAD_SECONDS
        await asyncio.gather(*(self.worker(deadline) for _ in range(IN_FLIGHT)))

    async def drain(self) -> None:
        """Quiet, in order: every doomed resource deleted; "full" ones finalized (children
        first, dns before validation as the dependency requires)."""
        for r in self.resources:
            if r.delete_directly and not r.deletes:
                await self.delete(r)
        doomed = [r for r in self.resources if r.plan == "full"]
        for r in sorted(doomed, key=lambda t: t.kind != "NodePool"):
            for adapter in ("dns", "validation"):
                await self.report(r, shape="Finalized", adapter=adapter)


# -- checks ----------------------------------------------------------------------------------


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _resource_condition(d: dict[str, Any]) -> ResourceCondition:
    return ResourceCondition(
        type=d["type"],
        status=ConditionStatus(d["status"]),
        reason=d.get("reason"),
        message=d.get("message"),
        observed_generation=d["observed_generation"],
        created_time=datetime.fromisoformat(d["created_time"]),
        last_updated_time=datetime.fromisoformat(d["last_updated_time"]),
        last_transition_time=datetime.fromisoformat(d["last_transition_time"]),
    )


def _report(d: dict[str, Any]) -> AdapterReport:
    return AdapterReport(
        adapter=d["adapter"],
        observed_generation=d["observed_generation"],
        conditions=tuple(
            AdapterCondition(
                type=c["type"],
                status=ConditionStatus(c["status"]),
                reason=c.get("reason"),
                message=c.get("message"),
                last_transition_time=datetime.fromisoformat(c["last_transition_time"]),
            )
            for c in d["conditions"]
        ),
        created_time=datetime.fromisoformat(d["created_time"]),
        last_report_time=datetime.fromisoformat(d["last_report_time"]),
        data=d.get("data") or None,
        metadata=d.get("metadata"),
    )


def _sent_report(adapter: str, sent: Sent) -> AdapterReport:
    conditions = tuple(
        AdapterCondition(
            c["type"], ConditionStatus(c["status"]), c.get("reason"), c.get("message"), sent.at
        )
        for c in _conditions(sent.shape, sent.token)
    )
    return AdapterReport(
        adapter=adapter,
        observed_generation=sent.generation,
        conditions=conditions,
        created_time=sent.at,
        last_report_time=sent.at,
    )


def _with_last_known(row: AdapterReport, sent: list[Sent]) -> AdapterReport:
    """The stored row as aggregation sees it.

    While its Available is Unknown, the reference conditions use the adapter's latest earlier
    report whose Available was True or False (the server keeps it as `last_known`, which
    `GET …/statuses` does not show). Accepted reports are strictly ordered by (generation,
    observed_time) under the strict and discard policies, so that report is known from the
    client's log.
    """
    if row.status_of("Available") is not ConditionStatus.UNKNOWN:
        return row
    ordered = sorted(sent, key=lambda s: (s.generation, s.at))
    earlier = [s for s in ordered[:-1] if SHAPES[s.shape][0] != "Unknown"]
    return replace(row, last_known=_sent_report(row.adapter, earlier[-1]) if earlier else None)


def _resource(doc: dict[str, Any]) -> Resource:
    owner = doc.get("owner_references") or {}
    status = doc["status"]
    return Resource(
        id=doc["id"],
        kind=doc["kind"],
        name=doc["name"],
        href=doc["href"],
        spec=doc["spec"],
        labels=doc.get("labels") or {},
        generation=doc["generation"],
        created_time=datetime.fromisoformat(doc["created_time"]),
        updated_time=datetime.fromisoformat(doc["updated_time"]),
        created_by=doc["created_by"],
        updated_by=doc["updated_by"],
        owner_id=owner.get("id"),
        owner_kind=owner.get("kind"),
        owner_href=owner.get("href"),
        deleted_time=_dt(doc.get("deleted_time")),
        deleted_by=doc.get("deleted_by"),
        conditions=tuple(_resource_condition(c) for c in status["conditions"]),
        phase=PhaseRecord(
            Phase(status["phase"]),
            status["phase_reason"],
            status["phase_message"],
            datetime.fromisoformat(status["last_phase_transition_time"]),
        ),
    )


def _engine_view(c: ResourceCondition) -> tuple[Any, ...]:
    """What of a post-MVP condition does not depend on the recompute's clock."""
    return (c.type, c.status, c.reason, c.message, c.observed_generation)


def _summary_view(item: Any) -> tuple[Any, ...]:
    if isinstance(item, dict):
        return (
            item["adapter"],
            item["state"],
            item["required"],
            item.get("observed_generation"),
            _dt(item.get("last_report_time")),
            tuple(item["blocked_by"]),
        )
    return (
        item.adapter,
        item.state,
        item.required,
        item.observed_generation,
        item.last_report_time,
        tuple(item.blocked_by),
    )


def _state_chain(r: Tracked, problems: list[str]) -> dict[int, str]:
    """Generation -> {spec, labels} (canonical JSON) as the PATCH answers tell it, checked for
    consistency: one state per generation, generations contiguous from 1, a bump per change."""
    where = f"{r.kind} {r.name}"
    by_generation: dict[int, set[str]] = defaultdict(set)
    for body, generation, answered in r.patches:
        if any(answered[key] != value for key, value in body.items()):
            problems.append(f"{where}: PATCH {body} answered {answered}")
        by_generation[generation].add(json.dumps(answered, sort_keys=True))
    problems.extend(
        f"{where}: generation {g} answered with several states {specs}"
        for g, specs in sorted(by_generation.items())
        if len(specs) > 1
    )
    bumped = sorted(g for g in by_generation if g >= 2)
    if bumped != list(range(2, len(bumped) + 2)):
        problems.append(f"{where}: PATCH generations {bumped} have gaps or do not start at 2")
    initial = json.dumps({"spec": r.initial_spec, "labels": {}}, sort_keys=True)
    if by_generation.get(1, {initial}) != {initial}:
        problems.append(f"{where}: no-op PATCH at generation 1 answered {by_generation[1]}")
    chain = {1: initial} | {g: min(by_generation[g]) for g in bumped}
    problems.extend(
        f"{where}: generation {g} bumped without a change ({chain[g]})"
        for g in bumped
        if g - 1 in chain and chain[g] == chain[g - 1]
    )
    return chain


def check_generation(r: Tracked, doc: dict[str, Any], problems: list[str]) -> int:
    """Generation == 1 + effective PATCHes (+1 once deleted); returns the effective count.

    Effective PATCHes are derived from the answers alone (see `_state_chain`).
    """
    where = f"{r.kind} {r.name}"
    chain = _state_chain(r, problems)
    top = max(chain)
    effective = top - 1
    deleting = "deleted_time" in doc
    if len(set(r.deletes)) > 1:
        problems.append(f"{where}: DELETEs answered differently: {sorted(set(r.deletes))}")
    if r.deletes and r.deletes[0][0] != top + 1:
        problems.append(f"{where}: DELETE answered generation {r.deletes[0][0]}, want {top + 1}")
    if r.deletes and (not deleting or _dt(doc["deleted_time"]) != _dt(r.deletes[0][1])):
        problems.append(f"{where}: deleted_time {doc.get('deleted_time')} != {r.deletes[0]}")
    if r.patch_conflicts and not deleting:
        problems.append(f"{where}: PATCH answered 409 but the resource is not being deleted")
    want = 1 + effective + (1 if deleting else 0)
    if doc["generation"] != want:
        problems.append(
            f"{where}: generation {doc['generation']} != 1 + {effective} effective PATCHes"
            f" + {int(deleting)} delete"
        )
    if json.dumps(_state(doc), sort_keys=True) != chain[top]:
        problems.append(f"{where}: stored {_state(doc)} != last PATCHed {chain[top]}")
    return effective


def check_reports(r: Tracked, stored: dict[str, AdapterReport], problems: list[str]) -> None:
    where = f"{r.kind} {r.name}"
    for adapter in sorted(set(stored) | set(r.accepted)):
        sent = r.accepted.get(adapter, [])
        row = stored.get(adapter)
        if not sent:
            problems.append(f"{where}: stored {adapter} row without any accepted report")
            continue
        best = max(sent, key=lambda s: (s.generation, s.at))
        if row is None:
            problems.append(f"{where}: {len(sent)} accepted {adapter} reports, none stored")
            continue
        available = row.condition("Available")
        token = available.message if available is not None else None
        if (row.observed_generation, row.last_report_time, token) != (
            best.generation,
            best.at,
            best.token,
        ):
            problems.append(
                f"{where}: lost report for {adapter}: stored (generation"
                f" {row.observed_generation}, {row.last_report_time.isoformat()}, {token}) but the"
                f" latest accepted was (generation {best.generation}, {best.at.isoformat()},"
                f" {best.token}, {best.shape})"
            )


def check_fixed_point(
    desc: EntityDescriptor,
    doc: dict[str, Any],
    reports: list[AdapterReport],
    *,
    has_children: bool,
    problems: list[str],
) -> None:
    where = f"{doc['kind']} {doc['name']}"
    resource = _resource(doc)
    result = compute_status(
        desc=desc,
        resource=resource,
        reports=reports,
        has_children=has_children,
        now=datetime.now(UTC),
    )
    stored = resource.conditions
    if [c.type for c in result.conditions] != [c.type for c in stored]:
        problems.append(
            f"{where}: condition types {[c.type for c in stored]} != recomputed"
            f" {[c.type for c in result.conditions]}"
        )
    for want, got in zip(result.conditions, stored, strict=False):
        if want.type in ENGINE_TYPES:
            if _engine_view(want) != _engine_view(got):
                problems.append(f"{where}: stored {got} != recomputed {want}")
        elif want != got:
            problems.append(f"{where}: stored {got} != recomputed {want}")
    phase = resource.phase
    assert phase is not None
    if (phase.phase, phase.reason, phase.message) != (
        result.phase.phase,
        result.phase.reason,
        result.phase.message,
    ):
        problems.append(f"{where}: stored phase {phase} != recomputed {result.phase}")
    if result.transition is not None:
        problems.append(f"{where}: recompute would change the phase: {result.transition}")
    stored_summary = [_summary_view(a) for a in doc["status"]["adapters"]]
    want_summary = [_summary_view(a) for a in result.adapters]
    if stored_summary != want_summary:
        problems.append(f"{where}: adapters {stored_summary} != recomputed {want_summary}")


def check_phase_history(
    r: Tracked, doc: dict[str, Any], items: list[dict[str, Any]], problems: list[str]
) -> None:
    where = f"{r.kind} {r.name}"
    if not items or items[0]["to_phase"] != doc["status"]["phase"]:
        problems.append(f"{where}: phase history does not end in {doc['status']['phase']}")
        return
    oldest_first = items[::-1]
    if oldest_first[0]["from_phase"] is not None:
        problems.append(f"{where}: first phase history row is {oldest_first[0]}")
    for older, newer in itertools.pairwise(oldest_first):
        if newer["from_phase"] != older["to_phase"] or newer["generation"] < older["generation"]:
            problems.append(f"{where}: phase history breaks between {older} and {newer}")


async def _all_items(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        resp = await client.get(path, params={"page": page, "size": 100})
        assert resp.status_code == 200, resp.text
        doc = resp.json()
        items += doc["items"]
        if not doc["items"] or len(items) >= doc["total"]:
            return items
        page += 1


async def verify(w: Workload, client: httpx.AsyncClient) -> tuple[list[str], dict[str, int]]:
    problems: list[str] = []
    tally: Counter[str] = Counter()
    for r in w.resources:
        resp = await client.get(r.href)
        if resp.status_code == 404:
            if not r.may_vanish:
                problems.append(f"{r.kind} {r.name} vanished")
            tally["hard_deleted"] += 1
            continue
        assert resp.status_code == 200, resp.text
        doc = resp.json()
        if r.may_vanish:
            problems.append(f"{r.kind} {r.name} ({r.plan}) still exists: {doc}")
        tally["effective_patches"] += check_generation(r, doc, problems)
        tally["deleting" if "deleted_time" in doc else "live"] += 1
        rows = [_report(item) for item in await _all_items(client, f"{r.href}/statuses")]
        check_reports(r, {row.adapter: row for row in rows}, problems)
        has_children = False
        if r.kind == "Cluster":
            pools = await _all_items(client, f"{r.href}/nodepools")
            has_children = bool(pools)
            live = [p["name"] for p in pools if "deleted_time" not in p]
            if "deleted_time" in doc and live:
                problems.append(f"{r.name} is being deleted but has live node pools {live}")
        rows = [_with_last_known(row, r.accepted.get(row.adapter, [])) for row in rows]
        desc = REGISTRY.require(r.kind)
        check_fixed_point(desc, doc, rows, has_children=has_children, problems=problems)
        history = await _all_items(client, f"{r.href}/phase-history")
        check_phase_history(r, doc, history, problems)
    return problems, dict(tally)


def _summary(w: Workload, tally: dict[str, int], seconds: float) -> str:
    lines = [f"multiprocess run: {seconds:.1f}s, {sum(w.counts.values())} requests"]
    lines += [f"  {op:<24} {status}: {n}" for (op, status), n in sorted(w.counts.items())]
    accepted = sum(len(s) for r in w.resources for s in r.accepted.values())
    patches = sum(len(r.patches) for r in w.resources)
    lines.append(f"  accepted reports: {accepted}; PATCHes answered 200: {patches}; {tally}")
    return "\n".join(lines)


async def test_three_processes_keep_aggregates_generations_and_reports_consistent(
    servers: Servers,
) -> None:
    started = time.monotonic()
    # Idle connections are dropped well before uvicorn's 5 s keep-alive timeout closes them
    # (reusing a connection the server is closing fails in transport, which is no server bug).
    limits = httpx.Limits(
        max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT, keepalive_expiry=1.0
    )
    clients = [httpx.AsyncClient(base_url=url, timeout=30, limits=limits) for url in servers.urls]
    try:
        w = Workload(clients)
        await w.setup()
        await w.load()
        await w.force_delete_race()
        await w.drain()
        problems, tally = await verify(w, clients[0])
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    summary = _summary(w, tally, time.monotonic() - started)
    print(summary)  # noqa: T201 - the run's profile, shown with -s
    assert not w.failures, "\n".join([*w.failures[:30], *problems[:30], summary])
    assert not problems, "\n".join([*problems[:30], summary])
    errors = servers.error_lines()
    assert not errors, "\n".join(errors[:30])
    # The run must actually have raced: strict-policy conflicts and effective PATCHes happened.
    assert w.counts[("report HYPERFLEET-CNF-004", 409)] > 0, summary
    assert tally.get("effective_patches", 0) > 0, summary
    assert tally.get("hard_deleted", 0) == sum(r.may_vanish for r in w.resources), summary
