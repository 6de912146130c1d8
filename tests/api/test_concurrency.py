"""Races over the whole app (reference-api.md §8, house style §5.5, §5.7): one test per race.

Requests are issued with asyncio.gather over one client; the ASGI app serves them concurrently
on several pooled connections, so row locks and unique indexes are what keep results right.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from hyperfleet.domain.aggregation import aggregate
from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    ConditionStatus,
    ResourceCondition,
)

API = "/api/hyperfleet/v1"
CLUSTER_REQUIRED = ("validation", "dns", "pullsecret", "hypershift")

_names = itertools.count(1)


@pytest.fixture
def settings():
    # These races pin the reference (`discard`) policy and free-form reasons; the strict
    # policy's races are in test_multiprocess.py.
    from tests.conftest import make_settings

    reference = {"generation_policy": "discard", "reason_format": "free"}
    return make_settings(
        entities=[{"kind": "Cluster", **reference}, {"kind": "NodePool", **reference}]
    )


def rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def report(adapter: str, generation: int, at: datetime, available: str = "True") -> dict[str, Any]:
    return {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": rfc3339(at),
        "conditions": [
            {"type": "Available", "status": available, "reason": f"{adapter}-ok"},
            {"type": "Applied", "status": "True"},
            {"type": "Health", "status": "True"},
        ],
    }


async def create_cluster(client: httpx.AsyncClient, name: str | None = None) -> dict[str, Any]:
    r = await client.post(
        f"{API}/clusters",
        json={"kind": "Cluster", "name": name or f"race-{next(_names)}", "spec": {}},
    )
    assert r.status_code == 201, r.text
    return r.json()


def adapter_report_from_json(item: dict[str, Any]) -> AdapterReport:
    return AdapterReport(
        adapter=item["adapter"],
        observed_generation=item["observed_generation"],
        conditions=tuple(
            AdapterCondition(
                type=c["type"],
                status=ConditionStatus(c["status"]),
                reason=c.get("reason"),
                message=c.get("message"),
                last_transition_time=parse(c["last_transition_time"]),
            )
            for c in item["conditions"]
        ),
        created_time=parse(item["created_time"]),
        last_report_time=parse(item["last_report_time"]),
        data=item["data"],
        metadata=item.get("metadata"),
    )


def resource_condition_from_json(item: dict[str, Any]) -> ResourceCondition:
    return ResourceCondition(
        type=item["type"],
        status=ConditionStatus(item["status"]),
        reason=item.get("reason"),
        message=item.get("message"),
        observed_generation=item["observed_generation"],
        created_time=parse(item["created_time"]),
        last_updated_time=parse(item["last_updated_time"]),
        last_transition_time=parse(item["last_transition_time"]),
    )


async def test_concurrent_reports_from_many_adapters(client):
    """20 adapters (4 of them required) report at once: every row is stored and the final
    conditions are exactly what aggregation computes from the stored rows."""
    cluster = await create_cluster(client)
    cid = cluster["id"]
    adapters = [*CLUSTER_REQUIRED, *(f"extra-{i:02d}" for i in range(16))]
    random.Random(7).shuffle(adapters)
    base = datetime.now(UTC)
    bodies = [report(a, 1, base + timedelta(milliseconds=i)) for i, a in enumerate(adapters)]

    responses = await asyncio.gather(
        *(client.put(f"{API}/clusters/{cid}/statuses", json=b) for b in bodies)
    )
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    # The requests really ran side by side: the pool had to open more than its minimum.
    assert client.hf_state.pool.get_size() > 2

    r = await client.get(f"{API}/clusters/{cid}/statuses", params={"size": 100})
    listed = r.json()
    assert listed["total"] == 20
    assert sorted(i["adapter"] for i in listed["items"]) == sorted(adapters)
    assert sorted(listed["items"], key=lambda i: i["adapter"]) == sorted(
        (r.json() for r in responses), key=lambda i: i["adapter"]
    )

    body = (await client.get(f"{API}/clusters/{cid}")).json()
    actual = tuple(
        resource_condition_from_json(c)
        for c in body["status"]["conditions"]
        if c["type"] in {"Reconciled", "LastKnownReconciled"} or c["type"].endswith("Successful")
    )
    reports = [adapter_report_from_json(i) for i in listed["items"]]
    recomputed = aggregate(
        generation=body["generation"],
        required_adapters=CLUSTER_REQUIRED,
        reports=reports,
        previous=(),
        ref_time=parse(body["updated_time"]),
        is_deleting=False,
        has_active_children=False,
    )
    assert actual == recomputed
    assert actual[0].type == "Reconciled"
    assert actual[0].status is ConditionStatus.TRUE
    assert [c.type for c in actual[2:]] == [
        "ValidationSuccessful",
        "DnsSuccessful",
        "PullsecretSuccessful",
        "HypershiftSuccessful",
    ]


async def test_concurrent_reports_from_one_adapter_keep_the_latest(client):
    """Ten reports of one adapter, sent at once in shuffled order: each is stored or discarded,
    and the row that survives is the one with the latest observed_time."""
    cluster = await create_cluster(client)
    cid = cluster["id"]
    base = datetime.now(UTC)
    times = [base + timedelta(milliseconds=i) for i in range(10)]
    shuffled = times[:]
    random.Random(3).shuffle(shuffled)
    bodies = [
        report("validation", 1, at, available="True" if i % 2 else "False")
        for i, at in enumerate(shuffled)
    ]
    responses = await asyncio.gather(
        *(client.put(f"{API}/clusters/{cid}/statuses", json=b) for b in bodies)
    )
    assert {r.status_code for r in responses} <= {201, 204}, [r.text for r in responses]
    assert any(r.status_code == 201 for r in responses)

    (row,) = (await client.get(f"{API}/clusters/{cid}/statuses")).json()["items"]
    assert parse(row["last_report_time"]) == max(times)
    assert parse(row["created_time"]) == min(
        at for at, r in zip(shuffled, responses, strict=True) if r.status_code == 201
    )
    latest_body = bodies[shuffled.index(max(times))]
    assert row["conditions"][0]["status"] == latest_body["conditions"][0]["status"]


async def test_reports_racing_a_patch(client):
    """A PATCH (generation bump and recompute) racing fresh reports: whatever the order, the
    stored conditions are a fixed point of aggregation over the stored rows."""
    cluster = await create_cluster(client)
    cid = cluster["id"]
    path = f"{API}/clusters/{cid}/statuses"
    base = datetime.now(UTC)
    for i, adapter in enumerate(CLUSTER_REQUIRED):
        r = await client.put(path, json=report(adapter, 1, base + timedelta(milliseconds=i)))
        assert r.status_code == 201, r.text
    later = base + timedelta(seconds=1)
    responses = await asyncio.gather(
        client.patch(f"{API}/clusters/{cid}", json={"spec": {"bumped": True}}),
        *(
            client.put(path, json=report(a, 1, later + timedelta(milliseconds=i), "False"))
            for i, a in enumerate(CLUSTER_REQUIRED)
        ),
    )
    assert responses[0].status_code == 200, responses[0].text
    assert {r.status_code for r in responses[1:]} == {201}

    body = (await client.get(f"{API}/clusters/{cid}")).json()
    assert body["generation"] == 2
    actual = tuple(
        resource_condition_from_json(c)
        for c in body["status"]["conditions"]
        if c["type"] in {"Reconciled", "LastKnownReconciled"} or c["type"].endswith("Successful")
    )
    listed = (await client.get(path)).json()["items"]
    recomputed = aggregate(
        generation=2,
        required_adapters=CLUSTER_REQUIRED,
        reports=[adapter_report_from_json(i) for i in listed],
        previous=actual,
        ref_time=parse(body["updated_time"]),
        is_deleting=False,
        has_active_children=False,
    )
    assert actual == recomputed
    by_type = {c.type: c for c in actual}
    assert by_type["Reconciled"].status is ConditionStatus.FALSE
    for adapter in CLUSTER_REQUIRED:
        successful = by_type[f"{adapter.capitalize()}Successful"]
        assert successful.status is ConditionStatus.FALSE
        assert successful.observed_generation == 1


async def test_concurrent_creates_of_one_name(client):
    name = f"same-{next(_names)}"
    responses = await asyncio.gather(
        *(
            client.post(f"{API}/clusters", json={"kind": "Cluster", "name": name, "spec": {}})
            for _ in range(10)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 9, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "HYPERFLEET-CNF-001"
    listed = (await client.get(f"{API}/clusters", params={"search": f"name='{name}'"})).json()
    assert listed["total"] == 1
    (created,) = (r.json() for r in responses if r.status_code == 201)
    assert listed["items"][0]["id"] == created["id"]


async def test_concurrent_deletes_of_one_cluster(client):
    cluster = await create_cluster(client)
    responses = await asyncio.gather(
        *(client.delete(f"{API}/clusters/{cluster['id']}") for _ in range(5))
    )
    assert [r.status_code for r in responses] == [202] * 5, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert len({b["deleted_time"] for b in bodies}) == 1
    assert {b["generation"] for b in bodies} == {2}
    after = (await client.get(f"{API}/clusters/{cluster['id']}")).json()
    assert after["generation"] == 2
    assert after["deleted_time"] == bodies[0]["deleted_time"]


async def test_concurrent_patches_each_bump_once(client):
    cluster = await create_cluster(client)
    n = 10
    responses = await asyncio.gather(
        *(
            client.patch(f"{API}/clusters/{cluster['id']}", json={"spec": {"v": i}})
            for i in range(n)
        )
    )
    assert [r.status_code for r in responses] == [200] * n, [r.text for r in responses]
    generations = sorted(r.json()["generation"] for r in responses)
    assert generations == list(range(2, n + 2)), "every PATCH saw a distinct generation"
    final = (await client.get(f"{API}/clusters/{cluster['id']}")).json()
    assert final["generation"] == 1 + n
    last = next(r.json() for r in responses if r.json()["generation"] == 1 + n)
    assert final["spec"] == last["spec"]


async def test_nodepool_create_racing_cluster_delete(client, db: asyncpg.Connection):
    """Whatever the interleaving, no live nodepool is left under a deleting cluster."""
    for _ in range(5):
        cluster = await create_cluster(client)
        cid = cluster["id"]
        creates = [
            client.post(
                f"{API}/clusters/{cid}/nodepools",
                json={"kind": "NodePool", "name": f"np-{next(_names)}", "spec": {}},
            )
            for _ in range(3)
        ]
        *created, deleted = await asyncio.gather(*creates, client.delete(f"{API}/clusters/{cid}"))
        assert deleted.status_code == 202, deleted.text
        for r in created:
            assert r.status_code in {201, 409}, r.text
            if r.status_code == 409:
                assert r.json()["code"] == "HYPERFLEET-CNF-003"
            else:
                child = (await client.get(f"{API}/nodepools/{r.json()['id']}")).json()
                assert child["deleted_time"] == deleted.json()["deleted_time"]
                assert child["generation"] == 2

        orphans = await db.fetch(
            "SELECT c.id FROM resources c JOIN resources p ON p.id = c.owner_id"
            " WHERE p.id = $1 AND p.deleted_time IS NOT NULL AND c.deleted_time IS NULL",
            uuid.UUID(cid),
        )
        assert orphans == []


async def test_a_report_that_loses_the_race_to_another_write_starts_over(
    client, db: asyncpg.Connection
):
    """A status PUT reads unlocked and writes guarded by the row version: a write of the row
    in between makes the guarded write a no-op, and the report is judged again on the new row
    (else it would write back the row it read, undoing the other write)."""
    cid = (await create_cluster(client))["id"]
    tx = db.transaction()
    await tx.start()
    try:
        await db.execute("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE", cid)
        put = asyncio.ensure_future(
            client.put(f"{API}/clusters/{cid}/statuses", json=report("dns", 1, datetime.now(UTC)))
        )
        async with asyncio.timeout(30):  # a safety net: the PUT's write queues behind our lock
            while not await db.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
                await asyncio.sleep(0.01)
        await db.execute("""UPDATE resources SET labels = '{"env": "raced"}' WHERE id = $1""", cid)
    finally:
        await tx.commit()
    response = await put
    assert response.status_code == 201, response.text
    stored = await db.fetchrow(
        "SELECT labels->>'env' AS env, convert_from(body, 'UTF8')::jsonb #>> '{labels,env}'"
        " AS body_env, (SELECT count(*) FROM adapter_statuses WHERE resource_id = $1) AS reports"
        " FROM resources WHERE id = $1",
        cid,
    )
    assert (stored["env"], stored["body_env"], stored["reports"]) == ("raced", "raced", 1)
    body = (await client.get(f"{API}/clusters/{cid}")).json()
    assert body["labels"] == {"env": "raced"}
    assert "DnsSuccessful" in {c["type"] for c in body["status"]["conditions"]}
