"""Adapter status reports over HTTP: `PUT|GET …/statuses` on clusters, nodepools (nested and
flat) and `/resources`, and the aggregated conditions they produce.

Contract: spec/reference-api.md §1.5 (shapes), §3 (observed_generation table), §4.1 (pipeline:
validation messages, discard rules, mandatory conditions, hard delete), §4.7 (worked examples).
The Cluster kind is configured with required adapters [validation, dns] as in §4.7; NodePool
keeps its defaults [validation, hypershift].
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from openapi_schema_validator import OAS30Validator, validate
from tests.conftest import make_settings

from hyperfleet.config import Settings
from hyperfleet.rest.openapi import load_official

API = "/api/hyperfleet/v1"
REQUIRED = ("validation", "dns")
MANDATORY = "all adapters must report Available, Applied, and Health"
MISSING_ID = "019466a0-8f8e-7abc-9def-0123456789ab"
OMIT = object()

_names = itertools.count(1)
_SCHEMAS = load_official()["components"]


@pytest.fixture
def settings() -> Settings:
    # This module pins the reference behaviour: the `discard` generation policy and free-form
    # reasons. The post-MVP defaults (strict, camel_case) are tested in test_status_engine.py.
    reference = {"generation_policy": "discard", "reason_format": "free"}
    return make_settings(
        entities=[
            {"kind": "Cluster", "required_adapters": list(REQUIRED), **reference},
            {"kind": "NodePool", **reference},
        ]
    )


# --- helpers --------------------------------------------------------------------------------------


def check_schema(instance: Any, name: str) -> None:
    validate(
        instance,
        {"$ref": f"#/components/schemas/{name}", "components": _SCHEMAS},
        cls=OAS30Validator,
    )


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Ticker:
    """Strictly increasing observation times, never before the server's own timestamps."""

    def __init__(self) -> None:
        self.last = datetime.now(UTC) - timedelta(seconds=1)

    def __call__(self) -> datetime:
        self.last = max(datetime.now(UTC), self.last + timedelta(milliseconds=1))
        return self.last


@pytest.fixture
def tick() -> Ticker:
    return Ticker()


def conditions(
    available: str | None = "True",
    *,
    applied: str | None = "True",
    health: str | None = "True",
    finalized: str | None = None,
    reason: str = "Reason",
) -> list[dict[str, Any]]:
    out = []
    for type_, status in (
        ("Available", available),
        ("Applied", applied),
        ("Health", health),
        ("Finalized", finalized),
    ):
        if status is not None:
            out.append({"type": type_, "status": status, "reason": f"{type_}{reason}"})
    return out


def report(
    adapter: str,
    generation: int,
    at: datetime,
    /,
    available: str | None = "True",
    **extra: Any,
) -> dict[str, Any]:
    """A report body; keyword arguments override keys (OMIT removes one)."""
    body: dict[str, Any] = {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": rfc3339(at),
        "conditions": conditions(available, finalized=extra.pop("finalized", None)),
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not OMIT}


async def create_cluster(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.post(
        f"{API}/clusters",
        json={"kind": "Cluster", "name": f"st-{next(_names)}", "spec": {"n": 0}},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def create_nodepool(client: httpx.AsyncClient, cluster_id: str) -> dict[str, Any]:
    r = await client.post(
        f"{API}/clusters/{cluster_id}/nodepools",
        json={"kind": "NodePool", "name": f"np-{next(_names)}", "spec": {}},
    )
    assert r.status_code == 201, r.text
    return r.json()


def statuses_of(cluster_id: str) -> str:
    return f"{API}/clusters/{cluster_id}/statuses"


async def put(client: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    return await client.put(path, json=body)


async def put_ok(client: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
    r = await put(client, path, body)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    check_schema(data, "AdapterStatus")
    return data


async def put_discarded(client: httpx.AsyncClient, path: str, body: Any) -> None:
    r = await put(client, path, body)
    assert r.status_code == 204, r.text
    assert r.content == b""


async def listing(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    data = r.json()
    check_schema(data, "AdapterStatusList")
    return data


async def get_resource(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    return r.json()


REFERENCE_TYPES = ("Reconciled", "LastKnownReconciled")


def is_reference_type(type_: str) -> bool:
    """The reference's conditions; the post-MVP engine's ones are tested elsewhere."""
    return type_ in REFERENCE_TYPES or type_.endswith("Successful")


async def cluster_conditions(client: httpx.AsyncClient, cluster_id: str) -> dict[str, Any]:
    body = await get_resource(client, f"{API}/clusters/{cluster_id}")
    return {c["type"]: c for c in body["status"]["conditions"] if is_reference_type(c["type"])}


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    assert body["status"] == status
    return body


def missing_adapters(not_ready: str, reporting: str, signal: str = "Available=True") -> str:
    return (
        f"Required adapters not reporting {signal}: [{not_ready}]. "
        f"Currently reporting: [{reporting}]"
    )


def assert_condition(
    cond: dict[str, Any],
    status: str,
    *,
    reason: str | None = None,
    message: str | None = None,
    og: int | None = None,
    lut: datetime | None = None,
    ltt: datetime | None = None,
) -> None:
    assert cond["status"] == status, cond
    if reason is not None:
        assert cond["reason"] == reason, cond
    if message is not None:
        assert cond["message"] == message, cond
    if og is not None:
        assert cond["observed_generation"] == og, cond
    if lut is not None:
        assert parse(cond["last_updated_time"]) == lut, cond
    if ltt is not None:
        assert parse(cond["last_transition_time"]) == ltt, cond


# --- PUT: success shape ---------------------------------------------------------------------------


async def test_first_report_returns_adapter_status(client, tick):
    cluster = await create_cluster(client)
    at = tick()
    body = report("validation", 1, at)
    body["conditions"][0]["message"] = "all good"
    stored = await put_ok(client, statuses_of(cluster["id"]), body)

    assert stored["adapter"] == "validation"
    assert stored["observed_generation"] == 1
    assert stored["data"] == {}, "data is {} when not sent"
    assert "metadata" not in stored, "metadata is omitted when never sent"
    assert parse(stored["created_time"]) == at
    assert parse(stored["last_report_time"]) == at
    assert [(c["type"], c["status"]) for c in stored["conditions"]] == [
        ("Available", "True"),
        ("Applied", "True"),
        ("Health", "True"),
    ]
    assert stored["conditions"][0]["reason"] == "AvailableReason"
    assert stored["conditions"][0]["message"] == "all good"
    assert "message" not in stored["conditions"][1]
    for cond in stored["conditions"]:
        assert parse(cond["last_transition_time"]) == at

    listed = await listing(client, statuses_of(cluster["id"]))
    assert listed["items"] == [stored]


async def test_data_and_metadata_round_trip(client, tick):
    cluster = await create_cluster(client)
    data = {"zone": "example.org", "records": [1, 2.5, None, True], "nested": {"k": "v"}}
    metadata = {"job_name": "dns-1", "job_namespace": "hf", "attempt": 2, "duration": "2m"}
    stored = await put_ok(
        client,
        statuses_of(cluster["id"]),
        report("dns", 1, tick(), data=data, metadata=metadata),
    )
    assert stored["data"] == data
    assert stored["metadata"] == metadata


async def test_times_and_transitions_across_reports(client, tick):
    """created_time is the first observed_time, last_report_time the latest; a condition's
    last_transition_time moves only when its status flips."""
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    t1, t2, t3 = tick(), tick(), tick()

    await put_ok(client, path, report("validation", 1, t1))
    second = await put_ok(client, path, report("validation", 1, t2, available="False"))
    third = await put_ok(client, path, report("validation", 1, t3, available="False"))

    for row, latest in ((second, t2), (third, t3)):
        assert parse(row["created_time"]) == t1
        assert parse(row["last_report_time"]) == latest
    transitions = {c["type"]: parse(c["last_transition_time"]) for c in second["conditions"]}
    assert transitions == {"Available": t2, "Applied": t1, "Health": t1}
    transitions = {c["type"]: parse(c["last_transition_time"]) for c in third["conditions"]}
    assert transitions == {"Available": t2, "Applied": t1, "Health": t1}

    fourth = await put_ok(client, path, report("validation", 1, tick(), available="True"))
    assert parse(fourth["conditions"][0]["last_transition_time"]) == parse(
        fourth["last_report_time"]
    )


async def test_report_does_not_touch_resource_generation_or_updated_time(client, tick):
    cluster = await create_cluster(client)
    await put_ok(client, statuses_of(cluster["id"]), report("validation", 1, tick()))
    after = await get_resource(client, f"{API}/clusters/{cluster['id']}")
    assert after["generation"] == 1
    assert after["updated_time"] == cluster["updated_time"]
    assert after["updated_by"] == cluster["updated_by"]


# --- PUT: validation (§4.1 step 1) ----------------------------------------------------------------

VALIDATION = [
    # (id, overrides, field, message)
    ("adapter-missing", {"adapter": OMIT}, "adapter", "adapter is required"),
    ("adapter-empty", {"adapter": ""}, "adapter", "adapter is required"),
    ("adapter-not-string", {"adapter": 7}, "adapter", "field 'adapter' must be a string"),
    (
        "generation-zero",
        {"observed_generation": 0},
        "observed_generation",
        "observed_generation must be >= 1",
    ),
    (
        "generation-negative",
        {"observed_generation": -1},
        "observed_generation",
        "observed_generation must be >= 1",
    ),
    (
        "generation-above-int32",
        {"observed_generation": 2**31},
        "observed_generation",
        "observed_generation must be <= 2147483647",
    ),
    (
        "generation-missing",
        {"observed_generation": OMIT},
        "observed_generation",
        "observed_generation is required",
    ),
    (
        "generation-wrong-type",
        {"observed_generation": "1"},
        "observed_generation",
        "field 'observed_generation' must be a number",
    ),
    (
        "conditions-wrong-type",
        {"conditions": "Available"},
        "conditions",
        "field 'conditions' must be an array",
    ),
    (
        "condition-type-empty",
        {"conditions": [*conditions(), {"type": "", "status": "True"}]},
        "conditions[3].type",
        "condition type cannot be empty at index 3",
    ),
    (
        "condition-type-duplicate",
        {"conditions": [*conditions(), {"type": "Applied", "status": "False"}]},
        "conditions[3].type",
        "duplicate condition type 'Applied' at index 3",
    ),
    (
        "condition-status-lowercase-true",
        {"conditions": [{"type": "Available", "status": "true"}]},
        "conditions[0].status",
        "invalid status value 'true' for condition at index 0: must be one of True, False, Unknown",
    ),
    (
        "observed-time-missing",
        {"observed_time": OMIT},
        "observed_time",
        "observed_time is required",
    ),
    (
        "observed-time-not-rfc3339",
        {"observed_time": "01/03/2026 12:00"},
        "observed_time",
        "observed_time must be an RFC 3339 date-time",
    ),
    (
        "observed-time-without-offset",
        {"observed_time": "2026-03-01T12:00:00"},
        "observed_time",
        "observed_time must be an RFC 3339 date-time",
    ),
    (
        "observed-time-future",
        {"observed_time": "+10m"},
        "observed_time",
        "observed_time must not be more than 5 minutes in the future",
    ),
    (
        "observed-time-past",
        {"observed_time": "-31m"},
        "observed_time",
        "observed_time must not be more than 30 minutes in the past",
    ),
    (
        "missing-available",
        {"conditions": conditions(None)},
        "conditions",
        f"missing mandatory condition 'Available': {MANDATORY}",
    ),
    (
        "missing-applied",
        {"conditions": conditions(applied=None)},
        "conditions",
        f"missing mandatory condition 'Applied': {MANDATORY}",
    ),
    (
        "missing-health",
        {"conditions": conditions(health=None)},
        "conditions",
        f"missing mandatory condition 'Health': {MANDATORY}",
    ),
    (
        "no-conditions",
        {"conditions": []},
        "conditions",
        f"missing mandatory condition 'Available': {MANDATORY}",
    ),
]


def _resolve_time(overrides: dict[str, Any]) -> dict[str, Any]:
    raw = overrides.get("observed_time")
    if isinstance(raw, str) and raw[:1] in "+-" and raw.endswith("m"):
        minutes = int(raw[:-1])
        return {
            **overrides,
            "observed_time": rfc3339(datetime.now(UTC) + timedelta(minutes=minutes)),
        }
    return overrides


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [pytest.param(o, f, m, id=i) for i, o, f, m in VALIDATION],
)
async def test_invalid_report_is_400_val_000(
    client, tick, overrides: dict[str, Any], field: str, message: str
):
    cluster = await create_cluster(client)
    body = report("validation", 1, tick(), **_resolve_time(overrides))
    r = await put(client, statuses_of(cluster["id"]), body)
    problem_body = problem(r, 400, "HYPERFLEET-VAL-000")
    assert problem_body["detail"] == message
    assert [(e["field"], e["message"]) for e in problem_body["errors"]] == [(field, message)]
    assert problem_body["instance"] == statuses_of(cluster["id"])
    assert (await listing(client, statuses_of(cluster["id"])))["total"] == 0


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        pytest.param(b"", "Request body is empty", id="empty"),
        pytest.param(b"{not json", "Invalid JSON in request body", id="malformed"),
        pytest.param(b"[1, 2]", "Request body must be a JSON object", id="array"),
    ],
)
async def test_unreadable_body_is_400_val_006(client, content: bytes, detail: str):
    cluster = await create_cluster(client)
    r = await client.put(
        statuses_of(cluster["id"]), content=content, headers={"content-type": "application/json"}
    )
    assert problem(r, 400, "HYPERFLEET-VAL-006")["detail"] == detail


async def test_validation_comes_before_existence(client, tick):
    r = await put(client, statuses_of(MISSING_ID), report("", 1, tick()))
    problem(r, 400, "HYPERFLEET-VAL-000")


async def test_mandatory_conditions_are_checked_on_an_accepted_report(client, tick):
    """A report that survives the discard rules but lacks Health is a 400 and stores nothing."""
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    first = await put_ok(client, path, report("validation", 1, tick()))
    incomplete = report("validation", 1, tick(), conditions=conditions(health=None))
    r = await put(client, path, incomplete)
    body = problem(r, 400, "HYPERFLEET-VAL-000")
    assert body["errors"][0]["field"] == "conditions"
    assert (await listing(client, path))["items"] == [first]


# --- PUT: discard rules (§3, §4.1 step 4) ---------------------------------------------------------


async def bump(client: httpx.AsyncClient, cluster_id: str, n: int) -> dict[str, Any]:
    r = await client.patch(f"{API}/clusters/{cluster_id}", json={"spec": {"n": n}})
    assert r.status_code == 200, r.text
    return r.json()


async def test_future_generation_is_discarded(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    await put_discarded(client, path, report("validation", 2, tick()))
    assert (await listing(client, path))["total"] == 0
    before = await cluster_conditions(client, cluster["id"])
    assert "ValidationSuccessful" not in before


async def test_stale_generation_is_discarded(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    await bump(client, cluster["id"], 1)
    current = await put_ok(client, path, report("validation", 2, tick()))
    await put_discarded(client, path, report("validation", 1, tick(), available="False"))
    assert (await listing(client, path))["items"] == [current]


async def test_older_time_at_same_generation_is_discarded(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    earlier, later = tick(), tick()
    current = await put_ok(client, path, report("validation", 1, later))
    await put_discarded(client, path, report("validation", 1, earlier, available="False"))
    assert (await listing(client, path))["items"] == [current]


async def test_second_report_with_available_unknown_is_discarded(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    current = await put_ok(client, path, report("validation", 1, tick()))
    before = await cluster_conditions(client, cluster["id"])
    await put_discarded(client, path, report("validation", 1, tick(), available="Unknown"))
    assert (await listing(client, path))["items"] == [current]
    assert await cluster_conditions(client, cluster["id"]) == before


@pytest.mark.parametrize(
    ("generation", "available", "stored_generation"),
    [
        pytest.param(1, "True", 2, id="stale-generation"),
        pytest.param(3, "True", 2, id="future-generation"),
        pytest.param(2, "Unknown", 2, id="second-unknown"),
    ],
)
async def test_discard_wins_over_missing_mandatory_conditions(
    client, tick, generation: int, available: str, stored_generation: int
):
    """Discards happen before the mandatory-condition check: 204, not 400 (§4.1 step 5)."""
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    await bump(client, cluster["id"], 1)
    await put_ok(client, path, report("validation", stored_generation, tick()))
    incomplete = report(
        "validation",
        generation,
        tick(),
        conditions=[{"type": "Available", "status": available}],
    )
    await put_discarded(client, path, incomplete)


async def test_first_unknown_report_is_stored_but_not_aggregated(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    before = await cluster_conditions(client, cluster["id"])
    stored = await put_ok(client, path, report("validation", 1, tick(), available="Unknown"))
    assert stored["conditions"][0]["status"] == "Unknown"
    assert (await listing(client, path))["items"] == [stored]
    after = await cluster_conditions(client, cluster["id"])
    assert after == before
    assert after["Reconciled"]["message"] == missing_adapters("dns, validation", "")


async def test_equal_time_resend_returns_the_stored_row(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    at = tick()
    first = await put_ok(client, path, report("validation", 1, at, data={"v": 1}))
    resend = await put_ok(
        client, path, report("validation", 1, at, available="False", data={"v": 2})
    )
    assert resend == first
    assert (await listing(client, path))["items"] == [first]


async def test_newer_generation_is_accepted_even_with_an_older_time(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    earlier, later = tick(), tick()
    await put_ok(client, path, report("validation", 1, later))
    await bump(client, cluster["id"], 1)
    stored = await put_ok(client, path, report("validation", 2, earlier))
    assert stored["observed_generation"] == 2
    assert parse(stored["last_report_time"]) == earlier


# --- PUT: missing resources -----------------------------------------------------------------------


async def test_put_on_missing_resources_is_404(client, tick):
    cluster = await create_cluster(client)
    other = await create_cluster(client)
    nodepool = await create_nodepool(client, cluster["id"])
    body = report("validation", 1, tick())
    cases = [
        (statuses_of(MISSING_ID), f"Cluster with id='{MISSING_ID}' not found"),
        (statuses_of("not-a-uuid"), "Cluster with id='not-a-uuid' not found"),
        (statuses_of(nodepool["id"]), f"Cluster with id='{nodepool['id']}' not found"),
        (
            f"{API}/clusters/{other['id']}/nodepools/{nodepool['id']}/statuses",
            f"NodePool with id='{nodepool['id']}' not found",
        ),
        (
            f"{API}/clusters/{MISSING_ID}/nodepools/{nodepool['id']}/statuses",
            f"NodePool with id='{nodepool['id']}' not found",
        ),
        (
            f"{API}/nodepools/{cluster['id']}/statuses",
            f"NodePool with id='{cluster['id']}' not found",
        ),
        (f"{API}/resources/{MISSING_ID}/statuses", f"Resource with id='{MISSING_ID}' not found"),
    ]
    for path, detail in cases:
        r = await put(client, path, body)
        assert problem(r, 404, "HYPERFLEET-NTF-001")["detail"] == detail, path
        r = await client.get(path)
        problem(r, 404, "HYPERFLEET-NTF-001")
    assert (await listing(client, statuses_of(cluster["id"])))["total"] == 0
    assert (await listing(client, f"{API}/nodepools/{nodepool['id']}/statuses"))["total"] == 0


# --- GET statuses ---------------------------------------------------------------------------------


async def test_list_of_a_fresh_resource_is_empty(client):
    cluster = await create_cluster(client)
    assert await listing(client, statuses_of(cluster["id"])) == {
        "page": 1,
        "size": 0,
        "total": 0,
        "items": [],
        "next_cursor": None,
    }


async def test_list_is_ordered_by_adapter_and_paginates(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    for adapter in ("zeta", "alpha", "mid", "beta", "omega"):
        await put_ok(client, path, report(adapter, 1, tick()))
    everything = await listing(client, path)
    assert [i["adapter"] for i in everything["items"]] == ["alpha", "beta", "mid", "omega", "zeta"]
    assert (everything["page"], everything["size"], everything["total"]) == (1, 5, 5)

    pages = [await listing(client, path, page=p, size=2) for p in (1, 2, 3, 4)]
    assert [[i["adapter"] for i in p["items"]] for p in pages] == [
        ["alpha", "beta"],
        ["mid", "omega"],
        ["zeta"],
        [],
    ]
    assert [(p["page"], p["size"], p["total"]) for p in pages] == [
        (1, 2, 5),
        (2, 2, 5),
        (3, 1, 5),
        (4, 0, 5),
    ]
    assert [i for p in pages for i in p["items"]] == everything["items"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"size": 0}, "size", id="size-zero"),
        pytest.param({"size": 101}, "size", id="size-too-big"),
        pytest.param({"page": 0}, "page", id="page-zero"),
        pytest.param({"page": "x"}, "page", id="page-not-int"),
    ],
)
async def test_list_validates_page_and_size(client, params: dict[str, Any], field: str):
    cluster = await create_cluster(client)
    r = await client.get(statuses_of(cluster["id"]), params=params)
    assert problem(r, 400, "HYPERFLEET-VAL-000")["errors"][0]["field"] == field


async def test_list_ignores_search_and_order(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    for adapter in ("b", "a"):
        await put_ok(client, path, report(adapter, 1, tick()))
    listed = await listing(client, path, search="adapter='b'", order="adapter desc")
    assert [i["adapter"] for i in listed["items"]] == ["a", "b"]


async def test_list_drops_stored_conditions_with_an_invalid_status(
    client, db: asyncpg.Connection, tick
):
    cluster = await create_cluster(client)
    stored = await put_ok(client, statuses_of(cluster["id"]), report("validation", 1, tick()))
    await db.execute(
        "UPDATE adapter_statuses SET conditions = conditions || $2::jsonb WHERE resource_id = $1",
        uuid.UUID(cluster["id"]),
        '[{"type": "Broken", "status": "maybe", "last_transition_time": "2026-01-01T00:00:00Z"}]',
    )
    listed = await listing(client, statuses_of(cluster["id"]))
    assert listed["items"] == [stored]


# --- nodepools and /resources ---------------------------------------------------------------------


async def test_nodepool_reports_on_nested_flat_and_generic_routes(client, tick):
    cluster = await create_cluster(client)
    nodepool = await create_nodepool(client, cluster["id"])
    nested = f"{API}/clusters/{cluster['id']}/nodepools/{nodepool['id']}/statuses"
    flat = f"{API}/nodepools/{nodepool['id']}/statuses"
    generic = f"{API}/resources/{nodepool['id']}/statuses"

    await put_ok(client, nested, report("validation", 1, tick()))
    await put_ok(client, flat, report("hypershift", 1, tick()))
    await put_ok(client, generic, report("extra", 1, tick()))

    lists = [await listing(client, p) for p in (nested, flat, generic)]
    assert lists[0] == lists[1] == lists[2]
    assert [i["adapter"] for i in lists[0]["items"]] == ["extra", "hypershift", "validation"]
    assert (await listing(client, statuses_of(cluster["id"])))["total"] == 0

    body = await get_resource(client, f"{API}/clusters/{cluster['id']}/nodepools/{nodepool['id']}")
    by_type = {c["type"]: c for c in body["status"]["conditions"]}
    assert [c["type"] for c in body["status"]["conditions"]] == [
        "Reconciled",
        "LastKnownReconciled",
        "ValidationSuccessful",
        "HypershiftSuccessful",
        "AllAdaptersReady",
        "ValidationPassed",
    ]
    assert_condition(by_type["Reconciled"], "True", reason="ReconciledAll", og=1)
    assert_condition(by_type["LastKnownReconciled"], "True", reason="AllAdaptersReconciled", og=1)


async def test_cluster_report_via_resources_route(client, tick):
    cluster = await create_cluster(client)
    generic = f"{API}/resources/{cluster['id']}/statuses"
    stored = await put_ok(client, generic, report("validation", 1, tick()))
    assert (await listing(client, statuses_of(cluster["id"])))["items"] == [stored]
    conds = await cluster_conditions(client, cluster["id"])
    assert conds["ValidationSuccessful"]["status"] == "True"


# --- aggregation ----------------------------------------------------------------------------------


async def test_non_required_adapter_is_stored_but_not_aggregated(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    before = await cluster_conditions(client, cluster["id"])
    stored = await put_ok(client, path, report("pullsecret", 1, tick()))
    await put_ok(client, path, report("hypershift", 1, tick(), available="False"))
    listed = await listing(client, path)
    assert [i["adapter"] for i in listed["items"]] == ["hypershift", "pullsecret"]
    assert listed["items"][1] == stored
    assert await cluster_conditions(client, cluster["id"]) == before


async def test_worked_examples_1_to_5_and_9(client, db: asyncpg.Connection, tick):  # noqa: PLR0915
    """reference-api.md §4.7 with required = [validation, dns]."""
    # 1. Create at T0.
    cluster = await create_cluster(client)
    cid = cluster["id"]
    path = statuses_of(cid)
    t0 = parse(cluster["created_time"])
    assert cluster["generation"] == 1
    assert [c["type"] for c in cluster["status"]["conditions"]] == [
        "Reconciled",
        "LastKnownReconciled",
        "AllAdaptersReady",
        "ValidationPassed",
    ]
    conds = await cluster_conditions(client, cid)
    assert_condition(
        conds["Reconciled"],
        "False",
        reason="ReconciledMissingAdapters",
        message=missing_adapters("dns, validation", ""),
        og=1,
        lut=t0,
        ltt=t0,
    )
    assert_condition(
        conds["LastKnownReconciled"],
        "False",
        reason="AdaptersMissingReports",
        message="Required adapters have not yet reported status",
        og=1,
        lut=t0,
        ltt=t0,
    )

    # 2. validation og1 Available=True at T1.
    t1 = tick()
    await put_ok(client, path, report("validation", 1, t1))
    conds = await cluster_conditions(client, cid)
    assert list(conds) == ["Reconciled", "LastKnownReconciled", "ValidationSuccessful"]
    assert_condition(
        conds["Reconciled"],
        "False",
        reason="ReconciledMissingAdapters",
        message=missing_adapters("dns", "validation"),
        og=1,
        lut=t1,
        ltt=t0,
    )
    assert_condition(
        conds["LastKnownReconciled"], "False", reason="AdaptersMissingReports", og=1, lut=t0
    )
    assert_condition(
        conds["ValidationSuccessful"], "True", reason="AvailableReason", og=1, lut=t1, ltt=t1
    )

    # 3. dns og1 Available=True at T2.
    t2 = tick()
    await put_ok(client, path, report("dns", 1, t2))
    conds = await cluster_conditions(client, cid)
    assert list(conds) == [
        "Reconciled",
        "LastKnownReconciled",
        "ValidationSuccessful",
        "DnsSuccessful",
    ]
    assert_condition(
        conds["Reconciled"],
        "True",
        reason="ReconciledAll",
        message="All required adapters reported Available=True or Finalized=True "
        "at the current generation",
        og=1,
        lut=t1,
        ltt=t1,
    )
    assert_condition(
        conds["LastKnownReconciled"], "True", reason="AllAdaptersReconciled", og=1, lut=t1, ltt=t1
    )
    assert_condition(conds["DnsSuccessful"], "True", og=1, lut=t2, ltt=t2)

    # 4. PATCH spec at T3: generation 2.
    patched = await bump(client, cid, 1)
    assert patched["generation"] == 2
    t3 = parse(patched["updated_time"])
    conds = await cluster_conditions(client, cid)
    assert_condition(
        conds["Reconciled"],
        "False",
        reason="ReconciledMissingAdapters",
        message=missing_adapters("dns, validation", "dns, validation"),
        og=2,
        lut=t3,
        ltt=t3,
    )
    assert_condition(
        conds["LastKnownReconciled"], "True", reason="AllAdaptersReconciled", og=1, lut=t1, ltt=t1
    )

    # 5. validation og2 Available=False at T4.
    t4 = tick()
    await put_ok(client, path, report("validation", 2, t4, available="False"))
    conds = await cluster_conditions(client, cid)
    assert_condition(conds["Reconciled"], "False", og=2, lut=t4, ltt=t3)
    assert_condition(
        conds["LastKnownReconciled"], "True", reason="AllAdaptersReconciled", og=1, lut=t1, ltt=t1
    )
    assert_condition(conds["ValidationSuccessful"], "False", og=2, lut=t4, ltt=t4)
    assert_condition(conds["DnsSuccessful"], "True", og=1, lut=t2, ltt=t2)

    # 9. DELETE at T8: generation 3, Finalized=True needed from every required adapter.
    r = await client.delete(f"{API}/clusters/{cid}")
    assert r.status_code == 202, r.text
    deleted = r.json()
    assert deleted["generation"] == 3
    t8 = parse(deleted["deleted_time"])
    conds = await cluster_conditions(client, cid)
    assert_condition(
        conds["Reconciled"],
        "False",
        reason="ReconciledMissingAdapters",
        message=missing_adapters("dns, validation", "dns, validation", "Finalized=True"),
        og=3,
        lut=t8,
    )

    # A Finalized report at the old generation never counts.
    r = await put(client, path, report("validation", 2, tick(), finalized="True"))
    assert r.status_code in {201, 204}
    await put_discarded(
        client, path, report("dns", 3, tick(), available="Unknown", finalized="True")
    )
    await get_resource(client, f"{API}/clusters/{cid}")

    await put_ok(client, path, report("validation", 3, tick(), finalized="True"))
    conds = await cluster_conditions(client, cid)
    assert conds["Reconciled"]["message"] == missing_adapters(
        "dns", "dns, validation", "Finalized=True"
    )

    # The last Finalized report hard-deletes; the response is still 201 with the row.
    last = await put_ok(client, path, report("dns", 3, tick(), available="False", finalized="True"))
    assert last["adapter"] == "dns"
    assert last["observed_generation"] == 3
    problem(await client.get(f"{API}/clusters/{cid}"), 404, "HYPERFLEET-NTF-001")
    problem(await client.get(path), 404, "HYPERFLEET-NTF-001")
    for table, column in (
        ("resources", "id"),
        ("adapter_statuses", "resource_id"),
        ("resource_conditions", "resource_id"),
    ):
        query = f"SELECT count(*) FROM {table} WHERE {column} = $1"  # noqa: S608 - fixed names
        count = await db.fetchval(query, uuid.UUID(cid))
        assert count == 0, table


async def test_worked_examples_6_to_8(client, tick):
    """The alternative branch (6) and the continuation (7, 8) of §4.7."""
    cluster = await create_cluster(client)
    cid = cluster["id"]
    path = statuses_of(cid)
    t1, t2 = tick(), tick()
    await put_ok(client, path, report("validation", 1, t1))
    await put_ok(client, path, report("dns", 1, t2))
    await bump(client, cid, 1)
    t4 = tick()
    await put_ok(client, path, report("validation", 2, t4, available="False"))

    # 7. validation og2 True at T6: LKR stays True at gen 1 (mixed generations, sticky).
    t6 = tick()
    await put_ok(client, path, report("validation", 2, t6))
    conds = await cluster_conditions(client, cid)
    assert_condition(conds["LastKnownReconciled"], "True", og=1, lut=t1, ltt=t1)
    assert_condition(conds["Reconciled"], "False", og=2)
    # ... then dns og2 True at T7: Reconciled True, LKR moves to gen 2.
    t7 = tick()
    await put_ok(client, path, report("dns", 2, t7))
    conds = await cluster_conditions(client, cid)
    assert_condition(conds["Reconciled"], "True", reason="ReconciledAll", og=2, lut=t6, ltt=t6)
    assert_condition(
        conds["LastKnownReconciled"], "True", reason="AllAdaptersReconciled", og=2, lut=t6, ltt=t1
    )

    # 8. Stale, future and second-Unknown reports are discarded.
    before = await cluster_conditions(client, cid)
    await put_discarded(client, path, report("validation", 1, tick()))
    await put_discarded(client, path, report("validation", 3, tick()))
    await put_discarded(client, path, report("validation", 2, tick(), available="Unknown"))
    assert await cluster_conditions(client, cid) == before


async def test_worked_example_6_false_at_tracked_generation_breaks_lkr(client, tick):
    cluster = await create_cluster(client)
    cid = cluster["id"]
    path = statuses_of(cid)
    await put_ok(client, path, report("validation", 1, tick()))
    await put_ok(client, path, report("dns", 1, tick()))
    await bump(client, cid, 1)
    t4 = tick()
    await put_ok(client, path, report("validation", 2, t4, available="False"))

    t5 = tick()
    await put_ok(client, path, report("dns", 1, t5, available="False"))
    conds = await cluster_conditions(client, cid)
    assert_condition(
        conds["LastKnownReconciled"],
        "False",
        reason="AdapterReportedNotAvailable",
        og=2,
    )
    assert_condition(conds["Reconciled"], "False", og=2)


# --- deletion and Finalized -----------------------------------------------------------------------


async def test_finalized_before_delete_does_not_delete(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    for adapter in REQUIRED:
        await put_ok(client, path, report(adapter, 1, tick(), finalized="True"))
    body = await get_resource(client, f"{API}/clusters/{cluster['id']}")
    assert "deleted_time" not in body


async def test_non_required_finalized_adapters_are_not_enough(client, tick):
    cluster = await create_cluster(client)
    path = statuses_of(cluster["id"])
    r = await client.delete(f"{API}/clusters/{cluster['id']}")
    generation = r.json()["generation"]
    await put_ok(client, path, report("validation", generation, tick(), finalized="True"))
    await put_ok(client, path, report("pullsecret", generation, tick(), finalized="True"))
    await put_ok(client, path, report("dns", generation, tick(), finalized="False"))
    body = await get_resource(client, f"{API}/clusters/{cluster['id']}")
    assert body["deleted_time"]
    await put_ok(client, path, report("dns", generation, tick(), finalized="True"))
    problem(await client.get(f"{API}/clusters/{cluster['id']}"), 404, "HYPERFLEET-NTF-001")


async def test_finalized_cascade_waits_for_children(client, tick):
    """A deleting cluster is hard-deleted only after its (deleting) nodepool is; the nodepool's
    last Finalized report finishes both (§4.1 step 7, §5)."""
    cluster = await create_cluster(client)
    nodepool = await create_nodepool(client, cluster["id"])
    cluster_path = f"{API}/clusters/{cluster['id']}"
    nodepool_path = f"{cluster_path}/nodepools/{nodepool['id']}"

    r = await client.delete(cluster_path)
    assert r.status_code == 202, r.text
    generation = r.json()["generation"]
    child = await get_resource(client, nodepool_path)
    assert child["deleted_time"] == r.json()["deleted_time"]
    child_generation = child["generation"]
    assert child_generation == 2

    for adapter in REQUIRED:
        await put_ok(
            client,
            f"{cluster_path}/statuses",
            report(adapter, generation, tick(), finalized="True"),
        )
    parent = await get_resource(client, cluster_path)
    reconciled = {c["type"]: c for c in parent["status"]["conditions"]}["Reconciled"]
    # Every required adapter is finalized, but the (deleting) nodepool still exists: the
    # cluster waits for it (adapter contract: "ReconciledWaitingForChildren if nodepools
    # still exist"; §4.3 says "active" children, which would make this True).
    assert_condition(
        reconciled,
        "False",
        reason="ReconciledWaitingForChildren",
        message="Deletion in progress. All required adapters reported Finalized=True "
        "but child resources still exist",
        og=generation,
    )

    await put_ok(
        client,
        f"{nodepool_path}/statuses",
        report("validation", child_generation, tick(), finalized="True"),
    )
    await get_resource(client, nodepool_path)
    await put_ok(
        client,
        f"{API}/nodepools/{nodepool['id']}/statuses",
        report("hypershift", child_generation, tick(), finalized="True"),
    )
    problem(await client.get(nodepool_path), 404, "HYPERFLEET-NTF-001")
    problem(await client.get(cluster_path), 404, "HYPERFLEET-NTF-001")


async def test_children_finalized_first_then_parent(client, tick):
    """The other order: the nodepool finishes first (the cluster still waits for its own
    adapters); the cluster's last Finalized report then hard-deletes it."""
    cluster = await create_cluster(client)
    nodepool = await create_nodepool(client, cluster["id"])
    cluster_path = f"{API}/clusters/{cluster['id']}"
    nodepool_path = f"{API}/nodepools/{nodepool['id']}"
    generation = (await client.delete(cluster_path)).json()["generation"]

    for adapter in ("validation", "hypershift"):
        await put_ok(
            client, f"{nodepool_path}/statuses", report(adapter, 2, tick(), finalized="True")
        )
    problem(await client.get(nodepool_path), 404, "HYPERFLEET-NTF-001")
    parent = await get_resource(client, cluster_path)
    assert parent["deleted_time"]

    await put_ok(
        client,
        f"{cluster_path}/statuses",
        report("validation", generation, tick(), finalized="True"),
    )
    await get_resource(client, cluster_path)
    await put_ok(
        client, f"{cluster_path}/statuses", report("dns", generation, tick(), finalized="True")
    )
    problem(await client.get(cluster_path), 404, "HYPERFLEET-NTF-001")


async def test_deleting_resource_still_accepts_reports_at_its_generation(client, tick):
    cluster = await create_cluster(client)
    r = await client.delete(f"{API}/clusters/{cluster['id']}")
    generation = r.json()["generation"]
    stored = await put_ok(
        client, statuses_of(cluster["id"]), report("validation", generation, tick())
    )
    assert stored["observed_generation"] == generation
    conds = await cluster_conditions(client, cluster["id"])
    assert conds["Reconciled"]["message"] == missing_adapters(
        "dns, validation", "validation", "Finalized=True"
    )
