"""The post-MVP status engine over HTTP: AdapterState, generation policies, the adapter contract,
adapter dependencies, phases with history, and the extra resource conditions.

Contract: spec/post-mvp.md §3 (reports) and §4 (aggregated status). Unless a class overrides the
`settings` fixture, the built-in kinds run with the post-MVP defaults: `strict` generation
policy, `camel_case` reasons, Cluster required adapters [validation, dns, pullsecret,
hypershift], NodePool [validation, hypershift], validation adapters [validation].

Under `strict` every accepted report carries `observed_generation` equal to the resource's
current generation, and `observed_time` is "now".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs
from tests.conftest import make_settings
from tests.factories import (
    API,
    RFC3339_RE,
    TYPE_BASE,
    assert_json,
    assert_problem,
    create_cluster,
    create_nodepool,
    now_rfc3339,
)

from hyperfleet.config import Settings

CLUSTER_REQUIRED = ("validation", "dns", "pullsecret", "hypershift")
NODEPOOL_REQUIRED = ("validation", "hypershift")
MISSING = "019466a0-8f8e-7abc-9def-0123456789ab"

# Conditions that make an adapter's derived state (post-MVP §3.1) the key.
STATES: dict[str, dict[str, Any]] = {
    "Ready": {},
    "Provisioning": {"available": "Unknown", "reason": "Progressing"},
    "Failed": {"available": "False", "reason": "QuotaExceeded", "message": "quota exceeded"},
    "Pending": {"available": "False", "applied": "False", "reason": "WaitingForDependencies"},
    "Unhealthy": {"health": "False"},
}


# --- helpers --------------------------------------------------------------------------------------


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rbody(
    adapter: str,
    generation: int,
    *,
    available: str = "True",
    applied: str = "True",
    health: str = "True",
    finalized: str | None = None,
    reason: str | None = "Checked",
    message: str | None = "ok",
    data: dict[str, Any] | None = None,
    observed_time: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A report body; `reason`/`message` are the Available condition's."""
    available_cond: dict[str, Any] = {"type": "Available", "status": available}
    if reason is not None:
        available_cond["reason"] = reason
    if message is not None:
        available_cond["message"] = message
    conditions: list[dict[str, Any]] = [
        available_cond,
        {"type": "Applied", "status": applied, "reason": "Applied"},
        {"type": "Health", "status": health, "reason": "Healthy" if health == "True" else "Sick"},
    ]
    if finalized is not None:
        conditions.append({"type": "Finalized", "status": finalized, "reason": "Cleaned"})
    body: dict[str, Any] = {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": observed_time or now_rfc3339(),
        "conditions": conditions,
    }
    if data is not None:
        body["data"] = data
    body.update(fields)
    return body


async def put(
    client: httpx.AsyncClient, path: str, adapter: str, generation: int, **kw: Any
) -> httpx.Response:
    return await client.put(f"{API}{path}/statuses", json=rbody(adapter, generation, **kw))


async def put_raw(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return await client.put(f"{API}{path}/statuses", json=body)


async def accepted(
    client: httpx.AsyncClient, path: str, adapter: str, generation: int, **kw: Any
) -> dict[str, Any]:
    return assert_json(await put(client, path, adapter, generation, **kw), 201)


async def get_json(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    return assert_json(await client.get(f"{API}{path}", params=params or None), 200)


def types(resource: dict[str, Any]) -> list[str]:
    return [c["type"] for c in resource["status"]["conditions"]]


def cond(resource: dict[str, Any], type_: str) -> dict[str, Any]:
    found = [c for c in resource["status"]["conditions"] if c["type"] == type_]
    assert len(found) == 1, (type_, resource["status"]["conditions"])
    return found[0]


def entry(resource: dict[str, Any], adapter: str) -> dict[str, Any]:
    found = [a for a in resource["status"]["adapters"] if a["adapter"] == adapter]
    assert len(found) == 1, (adapter, resource["status"]["adapters"])
    return found[0]


def phase(resource: dict[str, Any]) -> str:
    return resource["status"]["phase"]


def problem(
    r: httpx.Response,
    status: int,
    code: str,
    *,
    fields: list[str] | None = None,
    title: str | None = None,
    slug: str | None = None,
) -> dict[str, Any]:
    body = assert_problem(r, status, code, fields=fields)
    if title is not None:
        assert body["title"] == title, body
    if slug is not None:
        assert body["type"] == TYPE_BASE + slug, body
    return body


def generation_conflict(r: httpx.Response, *, current: int, observed: int) -> dict[str, Any]:
    body = problem(r, 409, "HYPERFLEET-CNF-004", title="Generation Conflict", slug="conflict")
    assert body["current_generation"] == current, body
    assert body["observed_generation"] == observed, body
    return body


def dependency_conflict(r: httpx.Response, blocked_by: list[str]) -> dict[str, Any]:
    body = problem(r, 409, "HYPERFLEET-CNF-005", title="Dependency Conflict", slug="conflict")
    assert body["blocked_by"] == blocked_by, body
    return body


async def all_ready(
    client: httpx.AsyncClient, path: str, adapters: tuple[str, ...], generation: int, **kw: Any
) -> None:
    for adapter in adapters:
        await accepted(client, path, adapter, generation, **kw)


async def stored_reports(client: httpx.AsyncClient, path: str) -> dict[str, dict[str, Any]]:
    listed = await get_json(client, f"{path}/statuses")
    return {item["adapter"]: item for item in listed["items"]}


# === §3.1 AdapterState ===========================================================================


@pytest.mark.parametrize("state", list(STATES))
async def test_state_in_put_response_list_and_summary(client, state):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    body = await accepted(client, path, "dns", 1, **STATES[state])
    assert body["state"] == state
    stored = await stored_reports(client, path)
    assert stored["dns"]["state"] == state
    got = await get_json(client, path)
    assert entry(got, "dns")["state"] == state


async def test_state_provisioning_from_available_false_with_progressing_reason(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    for reason in ("Progressing", "JobRunning", "InProgress", "Provisioning"):
        body = await accepted(client, path, "dns", 1, available="False", reason=reason)
        assert body["state"] == "Provisioning", reason
    body = await accepted(client, path, "dns", 1, available="False", reason="Broken")
    assert body["state"] == "Failed"
    # Applied=False never fails: not applied yet.
    body = await accepted(client, path, "dns", 1, available="False", applied="False", reason="X")
    assert body["state"] == "Pending"


async def test_state_precedence_unhealthy_over_ready_and_finalized_over_all(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    body = await accepted(client, path, "dns", 1, health="False")
    assert body["state"] == "Unhealthy"
    deleted = assert_json(await client.delete(f"{API}{path}"), 202)
    body = await accepted(
        client, path, "dns", deleted["generation"], finalized="True", health="False"
    )
    assert body["state"] == "Finalized"
    stored = await stored_reports(client, path)
    assert stored["dns"]["state"] == "Finalized"
    got = await get_json(client, path)
    assert entry(got, "dns")["state"] == "Finalized"


async def test_finalized_report_with_available_unknown_is_not_dropped(client):
    """Finalized=True decides the state whatever Available says (§3.1), and while deleting a
    Finalized=True report is always accepted (§3.4). Silently dropping it (the reference's open
    gap 4) would leave the resource stuck in Deleting until someone force-deletes it."""
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    path = f"/nodepools/{np['id']}"
    gen = assert_json(await client.delete(f"{API}{path}"), 202)["generation"]
    await accepted(client, path, "validation", gen, finalized="True")
    await accepted(client, path, "hypershift", gen, available="False", reason="Cleaning")
    r = await put(client, path, "hypershift", gen, available="Unknown", finalized="True")
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.json()["state"] == "Finalized"
    problem(await client.get(f"{API}{path}"), 404, "HYPERFLEET-NTF-001")


async def test_state_present_on_every_listed_report(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    for adapter, state in zip(CLUSTER_REQUIRED, STATES, strict=False):
        await accepted(client, path, adapter, 1, **STATES[state])
    await accepted(client, path, "extra-adapter", 1)
    listed = await get_json(client, f"{path}/statuses")
    assert listed["total"] == 5
    by_adapter = {i["adapter"]: i["state"] for i in listed["items"]}
    assert by_adapter == {
        "validation": "Ready",
        "dns": "Provisioning",
        "pullsecret": "Failed",
        "hypershift": "Pending",
        "extra-adapter": "Ready",
    }


@pytest.mark.parametrize("state", [*STATES, "Finalized"])
async def test_request_state_and_ready_agreeing_are_accepted(client, state):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    generation = 1
    kw = dict(STATES.get(state, {"finalized": "True"}))
    if state == "Finalized":
        generation = assert_json(await client.delete(f"{API}{path}"), 202)["generation"]
    ready = kw.get("available", "True") == "True"
    body = await accepted(client, path, "dns", generation, state=state, ready=ready, **kw)
    assert body["state"] == state


@pytest.mark.parametrize(
    ("conditions", "fields", "expected"),
    [
        ({}, {"state": "Failed"}, ["state"]),
        (STATES["Failed"], {"state": "Ready"}, ["state"]),
        (STATES["Provisioning"], {"state": "Pending"}, ["state"]),
        ({}, {"state": "Bogus"}, ["state"]),
        ({}, {"ready": False}, ["ready"]),
        (STATES["Failed"], {"ready": True}, ["ready"]),
        (STATES["Provisioning"], {"ready": True}, ["ready"]),
        ({}, {"ready": "yes"}, ["ready"]),
        (STATES["Failed"], {"state": "Ready", "ready": True}, ["state", "ready"]),
    ],
)
async def test_request_state_or_ready_disagreeing_is_400(client, conditions, fields, expected):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    r = await put(client, path, "dns", 1, **conditions, **fields)
    problem(r, 400, "HYPERFLEET-VAL-000", fields=expected)
    assert await stored_reports(client, path) == {}


# === §3.2 Generation policy: strict (default) =====================================================


async def resource_paths(client: httpx.AsyncClient) -> dict[str, str]:
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    return {
        "cluster": f"/clusters/{c['id']}",
        "nested": f"/clusters/{c['id']}/nodepools/{np['id']}",
        "flat": f"/nodepools/{np['id']}",
        "resources": f"/resources/{np['id']}",
    }


@pytest.mark.parametrize("where", ["cluster", "nested", "flat", "resources"])
async def test_strict_future_generation_is_409(client, where):
    path = (await resource_paths(client))[where]
    r = await put(client, path, "validation", 2)
    generation_conflict(r, current=1, observed=2)
    assert await stored_reports(client, path) == {}


@pytest.mark.parametrize("where", ["cluster", "nested", "flat", "resources"])
async def test_strict_stale_generation_is_409(client, where):
    path = (await resource_paths(client))[where]
    await accepted(client, path, "validation", 1)
    patched = assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
    assert patched["generation"] == 2
    r = await put(client, path, "validation", 1)
    generation_conflict(r, current=2, observed=1)
    # Also stale for an adapter that never reported before.
    r = await put(client, path, "hypershift", 1)
    generation_conflict(r, current=2, observed=1)
    stored = await stored_reports(client, path)
    assert set(stored) == {"validation"}
    # At the current generation it is accepted.
    await accepted(client, path, "validation", 2)


async def test_strict_older_time_at_same_generation_is_409(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    now = datetime.now(UTC)
    first = await accepted(client, path, "dns", 1, observed_time=rfc3339(now))
    r = await put(
        client, path, "dns", 1, available="False", observed_time=rfc3339(now - timedelta(minutes=1))
    )
    generation_conflict(r, current=1, observed=1)
    stored = await stored_reports(client, path)
    assert stored["dns"]["last_report_time"] == first["last_report_time"]
    assert stored["dns"]["state"] == "Ready"


async def test_strict_stale_report_while_deleting_is_409(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    deleted = assert_json(await client.delete(f"{API}{path}"), 202)
    r = await put(client, path, "dns", 1, finalized="True")
    generation_conflict(r, current=deleted["generation"], observed=1)


@pytest.mark.parametrize("value", [0, -1])
async def test_observed_generation_below_one_is_400(client, value):
    c = await create_cluster(client)
    r = await put(client, f"/clusters/{c['id']}", "dns", value)
    problem(r, 400, "HYPERFLEET-VAL-000", fields=["observed_generation"])


class TestLenientPolicy:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(
            entities=[
                {
                    "kind": "Cluster",
                    "generation_policy": "lenient",
                    "conditions": SECTION5_CLUSTER["conditions"],
                }
            ]
        )

    async def test_future_generation_is_stored_but_ignored_by_aggregation(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        with capture_logs() as logs:
            for adapter in CLUSTER_REQUIRED:
                body = await accepted(client, path, adapter, 2)
                assert body["observed_generation"] == 2
        warnings = [e for e in logs if e["log_level"] == "warning"]
        assert len(warnings) == 4, logs
        for event in warnings:
            assert event["resource_id"] == c["id"]
            assert event["adapter"] in CLUSTER_REQUIRED
            assert event["observed_generation"] == 2
            assert event["generation"] == 1
        stored = await stored_reports(client, path)
        assert {a: s["observed_generation"] for a, s in stored.items()} == dict.fromkeys(
            CLUSTER_REQUIRED, 2
        )
        got = await get_json(client, path)
        assert got["generation"] == 1
        assert phase(got) == "Pending"
        assert cond(got, "Reconciled")["status"] == "False"
        assert cond(got, "AllAdaptersReady")["status"] == "False"
        assert cond(got, "ValidationPassed")["status"] == "False"
        assert cond(got, "ControlPlaneReady")["status"] == "False"
        for adapter in CLUSTER_REQUIRED:
            summary = entry(got, adapter)
            assert summary["state"] == "Pending"
            assert summary.get("observed_generation") in (None, 1)
        history = await get_json(client, f"{path}/phase-history")
        assert [h["to_phase"] for h in history["items"]] == ["Pending"]

    async def test_stale_and_older_time_reports_are_stored(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        now = datetime.now(UTC)
        await accepted(client, path, "dns", 1, observed_time=rfc3339(now))
        older = rfc3339(now - timedelta(minutes=1))
        body = await accepted(
            client, path, "dns", 1, available="False", reason="Broken", observed_time=older
        )
        assert body["state"] == "Failed"
        stored = await stored_reports(client, path)
        assert stored["dns"]["state"] == "Failed"
        assert datetime.fromisoformat(stored["dns"]["last_report_time"]) == datetime.fromisoformat(
            older
        )
        assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
        with capture_logs() as logs:
            body = await accepted(client, path, "validation", 1)
        assert body["observed_generation"] == 1
        assert any(e["log_level"] == "warning" and e["adapter"] == "validation" for e in logs)

    async def test_observed_generation_zero_is_400(self, client):
        c = await create_cluster(client)
        r = await put(client, f"/clusters/{c['id']}", "dns", 0)
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["observed_generation"])

    async def test_nodepool_keeps_strict_default(self, client):
        c = await create_cluster(client)
        np = await create_nodepool(client, c["id"])
        r = await put(client, f"/nodepools/{np['id']}", "validation", 2)
        generation_conflict(r, current=1, observed=2)


class TestDiscardPolicy:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(entities=[{"kind": "Cluster", "generation_policy": "discard"}])

    async def test_mismatches_are_204(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        r = await put(client, path, "dns", 2)
        assert r.status_code == 204, r.text
        assert r.content == b""
        assert await stored_reports(client, path) == {}

        now = datetime.now(UTC)
        await accepted(client, path, "dns", 1, observed_time=rfc3339(now))
        r = await put(
            client,
            path,
            "dns",
            1,
            available="False",
            observed_time=rfc3339(now - timedelta(minutes=1)),
        )
        assert r.status_code == 204, r.text
        assert (await stored_reports(client, path))["dns"]["state"] == "Ready"

        assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
        await accepted(client, path, "dns", 2)
        r = await put(client, path, "dns", 1)
        assert r.status_code == 204, r.text
        assert (await stored_reports(client, path))["dns"]["observed_generation"] == 2
        # Behind the resource but not behind the adapter's stored report: stored.
        body = await accepted(client, path, "validation", 1)
        assert body["observed_generation"] == 1

    async def test_observed_generation_zero_is_400(self, client):
        c = await create_cluster(client)
        r = await put(client, f"/clusters/{c['id']}", "dns", 0)
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["observed_generation"])


# === §3.3 Contract validation =====================================================================


@pytest.mark.parametrize(
    ("mutate", "fields"),
    [
        (lambda b: b.pop("adapter"), ["adapter"]),
        (lambda b: b.pop("observed_generation"), ["observed_generation"]),
        (lambda b: b.pop("observed_time"), ["observed_time"]),
        (lambda b: b.update(observed_time="yesterday"), ["observed_time"]),
        (lambda b: b.update(observed_time="2026-01-01T00:00:00"), ["observed_time"]),
        (
            lambda b: b.update(observed_time=rfc3339(datetime.now(UTC) - timedelta(minutes=31))),
            ["observed_time"],
        ),
        (
            lambda b: b.update(observed_time=rfc3339(datetime.now(UTC) + timedelta(minutes=6))),
            ["observed_time"],
        ),
        (lambda b: b["conditions"].pop(2), ["conditions"]),
        (lambda b: b["conditions"].pop(1), ["conditions"]),
        (lambda b: b["conditions"].pop(0), ["conditions"]),
        (lambda b: b["conditions"][0].update(type=""), ["conditions[0].type"]),
        (lambda b: b["conditions"][1].update(type="Available"), ["conditions[1].type"]),
        (lambda b: b["conditions"][2].update(status="Maybe"), ["conditions[2].status"]),
    ],
)
async def test_required_fields_and_conditions(client, mutate, fields):
    c = await create_cluster(client)
    body = rbody("dns", 1)
    mutate(body)
    r = await put_raw(client, f"/clusters/{c['id']}", body)
    problem(r, 400, "HYPERFLEET-VAL-000", fields=fields)


@pytest.mark.parametrize(
    "reason", ["checked", "Not camel", "Has-Dash", "Under_score", "1Digit", ""]
)
async def test_reason_not_upper_camel_case_is_400(client, reason):
    c = await create_cluster(client)
    r = await put(client, f"/clusters/{c['id']}", "dns", 1, reason=reason)
    body = problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])
    assert body["errors"][0]["value"] == reason


async def test_every_bad_reason_is_named(client):
    c = await create_cluster(client)
    body = rbody("dns", 1)
    body["conditions"][2]["reason"] = "not healthy"
    body["conditions"].append({"type": "Extra", "status": "True", "reason": "ok then"})
    body["conditions"][0]["reason"] = "A" * 129
    r = await put_raw(client, f"/clusters/{c['id']}", body)
    problem(
        r,
        400,
        "HYPERFLEET-VAL-000",
        fields=["conditions[0].reason", "conditions[2].reason", "conditions[3].reason"],
    )


async def test_reason_limits_and_camel_case_accepted(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    await accepted(client, path, "dns", 1, reason="A" * 128)
    await accepted(client, path, "dns", 1, reason="Ready2Go")
    await accepted(client, path, "dns", 1, reason=None)
    r = await put(client, path, "dns", 1, reason="A" * 129)
    problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])


@pytest.mark.parametrize(
    ("message", "ok"),
    [
        ("x" * 2048, True),
        ("line one\n\tindented", True),
        ("x" * 2049, False),
        ("bell\x07", False),
        ("nul\x00", False),
        ("carriage\rreturn", False),
        ("escape\x1b[31m", False),
        ("delete\x7f", False),
    ],
)
async def test_message_length_and_control_characters(client, message, ok):
    c = await create_cluster(client)
    r = await put(client, f"/clusters/{c['id']}", "dns", 1, message=message)
    if ok:
        assert_json(r, 201)
    else:
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].message"])


async def test_unknown_adapter_accepted_by_default(client):
    c = await create_cluster(client)
    body = await accepted(client, f"/clusters/{c['id']}", "someone-else", 1)
    assert body["adapter"] == "someone-else"
    got = await get_json(client, f"/clusters/{c['id']}")
    assert entry(got, "someone-else")["required"] is False


class TestFreeReasons:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(
            entities=[
                {
                    "kind": "Cluster",
                    "reason_format": "free",
                    "adapters": {"pullsecret": {"reasons": {"Available": ["Copied", "Missing"]}}},
                }
            ]
        )

    async def test_sentence_reasons_accepted(self, client):
        c = await create_cluster(client)
        body = await accepted(client, f"/clusters/{c['id']}", "dns", 1, reason="The zone is ready.")
        assert body["conditions"][0]["reason"] == "The zone is ready."

    async def test_length_still_applies(self, client):
        c = await create_cluster(client)
        r = await put(client, f"/clusters/{c['id']}", "dns", 1, reason="a " * 65)
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])

    async def test_enum_still_applies(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        r = await put(client, path, "pullsecret", 1, reason="copied it")
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])
        await accepted(client, path, "pullsecret", 1, reason="Copied")

    async def test_nodepool_keeps_camel_case(self, client):
        c = await create_cluster(client)
        np = await create_nodepool(client, c["id"])
        r = await put(client, f"/nodepools/{np['id']}", "validation", 1, reason="all good")
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])


DATA_SCHEMA = {
    "type": "object",
    "properties": {
        "checks": {"type": "integer"},
        "zone": {"type": "string", "maxLength": 5},
        "records": {"type": "array", "items": {"type": "integer"}},
        "a/b": {"type": "integer"},
    },
    "required": ["checks"],
}


class TestAdapterContract:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(
            entities=[
                {
                    "kind": "Cluster",
                    "optional_adapters": ["monitoring"],
                    "strict_adapters": True,
                    "adapters": {
                        "validation": {
                            "reasons": {
                                "Available": ["ValidationSucceeded", "ValidationFailed"],
                                "Health": ["Healthy"],
                            }
                        },
                        "dns": {"data_schema": DATA_SCHEMA},
                    },
                }
            ]
        )

    async def test_reason_enum_per_adapter_and_condition_type(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        r = await put(client, path, "validation", 1, reason="Checked")
        body = problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])
        assert body["errors"][0]["value"] == "Checked"
        assert "ValidationSucceeded" in body["errors"][0]["message"]
        r = await put(client, path, "validation", 1, reason="ValidationSucceeded", health="False")
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[2].reason"])
        # Applied has no enum; other adapters have none.
        await accepted(client, path, "validation", 1, reason="ValidationSucceeded")
        await accepted(client, path, "pullsecret", 1, reason="Checked")

    async def test_data_schema_one_error_per_violation(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        data = {"checks": "three", "zone": "far-too-long", "records": [1, "x", 3, "y"], "a/b": "z"}
        r = await put(client, path, "dns", 1, data=data)
        body = problem(
            r,
            400,
            "HYPERFLEET-VAL-000",
            fields=["data/a~1b", "data/checks", "data/records/1", "data/records/3", "data/zone"],
        )
        assert all(e["message"] for e in body["errors"])
        assert await stored_reports(client, path) == {}

    async def test_data_schema_missing_required_property(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        # A violation at the document root (the pointer is empty) is named `data`.
        r = await put(client, path, "dns", 1, data={"zone": "eu"})
        body = problem(r, 400, "HYPERFLEET-VAL-000", fields=["data"])
        assert "checks" in body["errors"][0]["message"]
        r = await put(client, path, "dns", 1)
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["data"])
        r = await put(client, path, "dns", 1, data={"checks": 1, "records": [1, 2]})
        assert r.status_code == 201, r.text
        assert r.json()["data"] == {"checks": 1, "records": [1, 2]}

    async def test_strict_adapters_rejects_undeclared(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        r = await put(client, path, "intruder", 1)
        body = problem(r, 400, "HYPERFLEET-VAL-000", fields=["adapter"])
        assert body["errors"][0]["value"] == "intruder"
        await accepted(client, path, "monitoring", 1)
        await accepted(client, path, "hypershift", 1)
        assert set(await stored_reports(client, path)) == {"monitoring", "hypershift"}

    async def test_contract_errors_are_collected_together(self, client):
        c = await create_cluster(client)
        body = rbody(
            "dns", 1, reason="bad reason", message="x\x01", data={"checks": "x"}, state="Failed"
        )
        r = await put_raw(client, f"/clusters/{c['id']}", body)
        problem(
            r,
            400,
            "HYPERFLEET-VAL-000",
            fields=["conditions[0].reason", "conditions[0].message", "data/checks", "state"],
        )


# === Order of checks (services/statuses.py) =======================================================


async def test_body_validation_before_lookup(client):
    r = await put_raw(client, f"/clusters/{MISSING}", {"adapter": "dns"})
    problem(r, 400, "HYPERFLEET-VAL-000", fields=["observed_generation"])
    r = await put(client, f"/clusters/{MISSING}", "dns", 1)
    problem(r, 404, "HYPERFLEET-NTF-001")


async def test_contract_before_generation_before_mandatory(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    r = await put(client, path, "dns", 5, reason="lower case")
    problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])
    body = rbody("dns", 5)
    body["conditions"].pop(2)
    generation_conflict(await put_raw(client, path, body), current=1, observed=5)


# === §3.4 Adapter dependencies ====================================================================

DEPENDENCIES = {"dns": ["validation"], "hypershift": ["validation", "dns"]}


class TestDependencies:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(entities=[{"kind": "Cluster", "adapter_dependencies": DEPENDENCIES}])

    @pytest.mark.parametrize(
        ("applied", "available"),
        [("True", "Unknown"), ("True", "True"), ("False", "True"), ("True", "False")],
    )
    async def test_progress_before_dependency_ready_is_409(self, client, applied, available):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        r = await put(
            client, path, "dns", 1, applied=applied, available=available, reason="Progressing"
        )
        body = dependency_conflict(r, ["validation"])
        assert "validation" in body["detail"]
        assert await stored_reports(client, path) == {}

    async def test_waiting_report_accepted_and_blocked_by_shown(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        got = await get_json(client, path)
        assert entry(got, "validation")["blocked_by"] == []
        assert entry(got, "dns")["blocked_by"] == ["validation"]
        assert entry(got, "pullsecret")["blocked_by"] == []
        assert entry(got, "hypershift")["blocked_by"] == ["validation", "dns"]

        body = await accepted(
            client,
            path,
            "dns",
            1,
            available="False",
            applied="False",
            reason="WaitingForDependencies",
        )
        assert body["state"] == "Pending"
        await accepted(
            client,
            path,
            "hypershift",
            1,
            available="Unknown",
            applied="False",
            reason="WaitingForDependencies",
        )
        got = await get_json(client, path)
        assert entry(got, "dns")["state"] == "Pending"
        assert entry(got, "dns")["blocked_by"] == ["validation"]

        # validation Ready: dns unblocked, hypershift still waits for dns.
        await accepted(client, path, "validation", 1)
        got = await get_json(client, path)
        assert entry(got, "dns")["blocked_by"] == []
        assert entry(got, "hypershift")["blocked_by"] == ["dns"]
        dependency_conflict(await put(client, path, "hypershift", 1), ["dns"])

        body = await accepted(client, path, "dns", 1, available="False", reason="Progressing")
        assert body["state"] == "Provisioning"
        # Provisioning is not Ready: hypershift still blocked.
        dependency_conflict(
            await put(client, path, "hypershift", 1, available="False", reason="Progressing"),
            ["dns"],
        )
        await accepted(client, path, "dns", 1)
        await accepted(client, path, "hypershift", 1)
        await accepted(client, path, "pullsecret", 1)
        got = await get_json(client, path)
        assert all(a["blocked_by"] == [] for a in got["status"]["adapters"])
        assert phase(got) == "Ready"

    async def test_dependency_must_be_ready_at_the_same_generation(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        await accepted(client, path, "validation", 1)
        await accepted(client, path, "dns", 1)
        assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
        got = await get_json(client, path)
        assert entry(got, "dns")["blocked_by"] == ["validation"]
        dependency_conflict(await put(client, path, "dns", 2), ["validation"])
        await accepted(client, path, "validation", 2)
        await accepted(client, path, "dns", 2)

    async def test_finalization_runs_in_reverse(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        gen = assert_json(await client.delete(f"{API}{path}"), 202)["generation"]
        assert gen == 2
        dependency_conflict(
            await put(client, path, "validation", gen, finalized="True"), ["dns", "hypershift"]
        )
        dependency_conflict(await put(client, path, "dns", gen, finalized="True"), ["hypershift"])
        # A report that does not finalize is accepted while deleting.
        await accepted(client, path, "dns", gen, available="False", reason="Cleaning")
        await accepted(client, path, "hypershift", gen, finalized="True")
        dependency_conflict(await put(client, path, "validation", gen, finalized="True"), ["dns"])
        await accepted(client, path, "dns", gen, finalized="True")
        await accepted(client, path, "pullsecret", gen, finalized="True")
        got = await get_json(client, path)
        assert phase(got) == "Deleting"
        await accepted(client, path, "validation", gen, finalized="True")
        # Every required adapter finalized: the resource is gone.
        problem(await client.get(f"{API}{path}"), 404, "HYPERFLEET-NTF-001")

    async def test_nodepool_without_dependencies_is_unaffected(self, client):
        c = await create_cluster(client)
        np = await create_nodepool(client, c["id"])
        await accepted(client, f"/nodepools/{np['id']}", "hypershift", 1)


# === §4.1 Phases ==================================================================================


def check_phase_fields(resource: dict[str, Any]) -> None:
    status = resource["status"]
    assert status["phase"] in {"Pending", "Provisioning", "Ready", "Degraded", "Failed", "Deleting"}
    assert isinstance(status["phase_reason"], str)
    assert status["phase_reason"]
    assert isinstance(status["phase_message"], str)
    assert status["phase_message"]
    assert RFC3339_RE.match(status["last_phase_transition_time"])


async def test_phase_lifecycle_and_history(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    check_phase_fields(c)
    assert phase(c) == "Pending"
    seen: list[dict[str, Any]] = [c]

    async def step(adapter: str, expected: str, **kw: Any) -> dict[str, Any]:
        await accepted(client, path, adapter, 1, **kw)
        got = await get_json(client, path)
        check_phase_fields(got)
        assert phase(got) == expected, got["status"]
        if phase(seen[-1]) == expected:
            assert (
                got["status"]["last_phase_transition_time"]
                == seen[-1]["status"]["last_phase_transition_time"]
            )
        seen.append(got)
        return got

    got = await step("dns", "Provisioning", available="Unknown", reason="Progressing")
    assert got["status"]["phase_reason"] == "AdaptersProgressing"
    assert got["status"]["phase_message"] == "0 of 4 required adapters ready at generation 1"
    got = await step("dns", "Provisioning")
    assert got["status"]["phase_message"] == "1 of 4 required adapters ready at generation 1"
    await step("validation", "Provisioning")
    await step("pullsecret", "Provisioning")
    got = await step("hypershift", "Ready")
    assert cond(got, "Reconciled")["status"] == "True"
    await step("pullsecret", "Degraded", health="False")
    # Degraded outranks Failed.
    await step("validation", "Degraded", available="False", reason="ValidationFailed")
    await step("pullsecret", "Failed")
    deleted = assert_json(await client.delete(f"{API}{path}"), 202)
    check_phase_fields(deleted)
    assert phase(deleted) == "Deleting"
    seen.append(deleted)

    history = await get_json(client, f"{path}/phase-history")
    chain = [(h["from_phase"], h["to_phase"], h["generation"]) for h in history["items"]]
    assert chain == [
        ("Failed", "Deleting", 2),
        ("Degraded", "Failed", 1),
        ("Ready", "Degraded", 1),
        ("Provisioning", "Ready", 1),
        ("Pending", "Provisioning", 1),
        (None, "Pending", 1),
    ]
    assert history["page"] == 1
    assert history["size"] == 6
    assert history["total"] == 6
    times = [datetime.fromisoformat(h["time"]) for h in history["items"]]
    assert times == sorted(times, reverse=True)
    for h in history["items"]:
        assert set(h) == {"from_phase", "to_phase", "generation", "reason", "message", "time"}
        assert RFC3339_RE.match(h["time"])
        assert h["reason"]
        assert h["message"]
    # Each row carries the phase's reason/message and time as the resource showed them.
    by_phase = {s["status"]["phase"]: s["status"] for s in seen}
    for h in history["items"]:
        shown = by_phase[h["to_phase"]]
        assert h["reason"] == shown["phase_reason"], (h, shown)
        assert datetime.fromisoformat(h["time"]) == datetime.fromisoformat(
            shown["last_phase_transition_time"]
        )
    assert history["items"][0]["reason"] == deleted["status"]["phase_reason"]
    assert history["items"][0]["message"] == deleted["status"]["phase_message"]


async def test_failed_needs_applied_and_a_non_progressing_reason(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    await accepted(client, path, "dns", 1, available="False", applied="False", reason="NotYet")
    assert phase(await get_json(client, path)) == "Pending"
    await accepted(client, path, "dns", 1, available="False", reason="JobRunning")
    assert phase(await get_json(client, path)) == "Provisioning"
    await accepted(client, path, "dns", 1, available="False", reason="QuotaExceeded")
    got = await get_json(client, path)
    assert phase(got) == "Failed"
    assert "dns" in got["status"]["phase_message"]


async def test_patch_returns_phase_to_pending_and_unhealthy_report_degrades(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    await all_ready(client, path, CLUSTER_REQUIRED, 1)
    assert phase(await get_json(client, path)) == "Ready"
    patched = assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
    assert phase(patched) == "Pending"
    await accepted(client, path, "dns", 2, available="Unknown", reason="Progressing")
    assert phase(await get_json(client, path)) == "Provisioning"
    await accepted(client, path, "hypershift", 2, health="False")
    assert phase(await get_json(client, path)) == "Degraded"
    history = await get_json(client, f"{path}/phase-history")
    assert [(h["to_phase"], h["generation"]) for h in history["items"][:3]] == [
        ("Degraded", 2),
        ("Provisioning", 2),
        ("Pending", 2),
    ]


async def test_unhealthy_at_any_generation_degrades_but_failed_only_at_current(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    await accepted(client, path, "dns", 1, health="False")
    await accepted(client, path, "pullsecret", 1, available="False", reason="QuotaExceeded")
    assert phase(await get_json(client, path)) == "Degraded"
    # The latest dns report is still Unhealthy after the generation moves on.
    patched = assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
    assert phase(patched) == "Degraded"
    await accepted(client, path, "dns", 2, available="False", applied="False", reason="Waiting")
    # pullsecret's Failed report is for generation 1: it no longer counts.
    assert phase(await get_json(client, path)) == "Pending"
    await accepted(client, path, "pullsecret", 2, available="False", reason="QuotaExceeded")
    assert phase(await get_json(client, path)) == "Failed"


async def test_same_phase_report_adds_no_history_and_keeps_transition_time(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    await accepted(client, path, "dns", 1)
    first = await get_json(client, path)
    await accepted(client, path, "validation", 1)
    await accepted(client, path, "dns", 1)
    second = await get_json(client, path)
    assert phase(first) == phase(second) == "Provisioning"
    assert (
        first["status"]["last_phase_transition_time"]
        == second["status"]["last_phase_transition_time"]
    )
    assert second["status"]["phase_message"] == "2 of 4 required adapters ready at generation 1"
    history = await get_json(client, f"{path}/phase-history")
    assert history["total"] == 2


class TestNoRequiredAdapters:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(entities=[{"kind": "NodePool", "required_adapters": []}])

    async def test_kind_without_required_adapters_is_ready(self, client):
        c = await create_cluster(client)
        np = await create_nodepool(client, c["id"])
        assert phase(np) == "Ready"
        assert phase(await get_json(client, f"/nodepools/{np['id']}")) == "Ready"
        history = await get_json(client, f"/nodepools/{np['id']}/phase-history")
        assert [(h["from_phase"], h["to_phase"]) for h in history["items"]] == [(None, "Ready")]


# === §4.2 Phase history ===========================================================================


async def test_phase_history_on_every_route(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    await accepted(
        client, f"/nodepools/{np['id']}", "hypershift", 1, available="Unknown", reason="Progressing"
    )
    expected = [("Pending", "Provisioning"), (None, "Pending")]
    for path in (
        f"/clusters/{c['id']}/nodepools/{np['id']}",
        f"/nodepools/{np['id']}",
        f"/resources/{np['id']}",
    ):
        history = await get_json(client, f"{path}/phase-history")
        assert [(h["from_phase"], h["to_phase"]) for h in history["items"]] == expected, path
        assert history["total"] == 2
    for path in (f"/clusters/{c['id']}", f"/resources/{c['id']}"):
        history = await get_json(client, f"{path}/phase-history")
        assert [(h["from_phase"], h["to_phase"]) for h in history["items"]] == [(None, "Pending")]


async def test_phase_history_404s(client):
    c = await create_cluster(client)
    other = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    for path in (
        f"/clusters/{MISSING}",
        f"/nodepools/{MISSING}",
        f"/resources/{MISSING}",
        f"/clusters/{c['id']}/nodepools/{MISSING}",
        f"/clusters/{other['id']}/nodepools/{np['id']}",
        f"/clusters/{np['id']}",
        f"/nodepools/{c['id']}",
        "/clusters/not-a-uuid",
    ):
        problem(await client.get(f"{API}{path}/phase-history"), 404, "HYPERFLEET-NTF-001")


async def test_phase_history_pagination(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    # Pending -> Provisioning -> Degraded -> Provisioning -> Degraded: 5 rows.
    await accepted(client, path, "dns", 1)
    await accepted(client, path, "dns", 1, health="False")
    await accepted(client, path, "dns", 1)
    await accepted(client, path, "dns", 1, health="False")
    full = await get_json(client, f"{path}/phase-history")
    assert full["total"] == 5
    assert [h["to_phase"] for h in full["items"]] == [
        "Degraded",
        "Provisioning",
        "Degraded",
        "Provisioning",
        "Pending",
    ]
    page1 = await get_json(client, f"{path}/phase-history", page=1, size=2)
    page2 = await get_json(client, f"{path}/phase-history", page=2, size=2)
    page3 = await get_json(client, f"{path}/phase-history", page=3, size=2)
    page4 = await get_json(client, f"{path}/phase-history", page=4, size=2)
    assert (page1["page"], page1["size"], page1["total"]) == (1, 2, 5)
    assert (page3["page"], page3["size"], page3["total"]) == (3, 1, 5)
    assert (page4["page"], page4["size"], page4["total"]) == (4, 0, 5)
    assert page1["items"] + page2["items"] + page3["items"] == full["items"]
    assert page4["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "x"}, "page"),
        ({"size": "0"}, "size"),
        ({"size": "101"}, "size"),
        ({"size": "ten"}, "size"),
    ],
)
async def test_phase_history_pagination_validation(client, params, field):
    c = await create_cluster(client)
    r = await client.get(f"{API}/clusters/{c['id']}/phase-history", params=params)
    problem(r, 400, "HYPERFLEET-VAL-000", fields=[field])


async def test_phase_history_survives_soft_delete_and_goes_with_hard_delete(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    path = f"/nodepools/{np['id']}"
    deleted = assert_json(await client.delete(f"{API}{path}"), 202)
    history = await get_json(client, f"{path}/phase-history")
    assert [(h["from_phase"], h["to_phase"], h["generation"]) for h in history["items"]] == [
        ("Pending", "Deleting", 2),
        (None, "Pending", 1),
    ]
    assert history["items"][0]["reason"] == deleted["status"]["phase_reason"]
    for adapter in NODEPOOL_REQUIRED:
        await accepted(client, path, adapter, 2, finalized="True")
    problem(await client.get(f"{API}{path}"), 404, "HYPERFLEET-NTF-001")
    problem(await client.get(f"{API}{path}/phase-history"), 404, "HYPERFLEET-NTF-001")
    # The parent keeps its own history.
    assert (await get_json(client, f"/clusters/{c['id']}/phase-history"))["total"] == 1


async def test_cascaded_delete_records_deleting_on_children(client):
    c = await create_cluster(client)
    np = await create_nodepool(client, c["id"])
    assert_json(await client.delete(f"{API}/clusters/{c['id']}"), 202)
    child = await get_json(client, f"/nodepools/{np['id']}")
    assert phase(child) == "Deleting"
    history = await get_json(client, f"/nodepools/{np['id']}/phase-history")
    assert history["items"][0]["to_phase"] == "Deleting"
    assert history["items"][0]["generation"] == 2


# === §4.3 Conditions ==============================================================================


async def test_condition_order_with_defaults(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    assert types(c) == ["Reconciled", "LastKnownReconciled", "AllAdaptersReady", "ValidationPassed"]
    await accepted(client, path, "hypershift", 1)
    await accepted(client, path, "validation", 1)
    got = await get_json(client, path)
    assert types(got) == [
        "Reconciled",
        "LastKnownReconciled",
        "ValidationSuccessful",
        "HypershiftSuccessful",
        "AllAdaptersReady",
        "ValidationPassed",
    ]
    for c_ in got["status"]["conditions"]:
        assert c_["status"] in {"True", "False"}
        for key in (
            "reason",
            "message",
            "observed_generation",
            "created_time",
            "last_updated_time",
            "last_transition_time",
        ):
            assert key in c_, (key, c_)
        assert c_["observed_generation"] == 1


async def test_all_adapters_ready_and_validation_passed_with_defaults(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    aar = cond(c, "AllAdaptersReady")
    assert aar["status"] == "False"
    assert aar["reason"] == "AdaptersNotReady"
    for adapter in CLUSTER_REQUIRED:
        assert adapter in aar["message"]
    vp = cond(c, "ValidationPassed")
    assert (vp["status"], vp["reason"]) == ("False", "ValidationPending")

    await accepted(client, path, "validation", 1, available="Unknown", reason="Progressing")
    vp = cond(await get_json(client, path), "ValidationPassed")
    assert (vp["status"], vp["reason"]) == ("False", "ValidationPending")

    await accepted(
        client,
        path,
        "validation",
        1,
        available="False",
        reason="CidrOverlap",
        message="machine CIDR overlaps the service CIDR",
    )
    got = await get_json(client, path)
    vp = cond(got, "ValidationPassed")
    assert (vp["status"], vp["reason"]) == ("False", "ValidationFailed")
    assert vp["message"] == "machine CIDR overlaps the service CIDR"
    failed_at = vp["last_transition_time"]

    await accepted(client, path, "validation", 1)
    got = await get_json(client, path)
    vp = cond(got, "ValidationPassed")
    assert vp["status"] == "True"
    assert vp["last_transition_time"] != failed_at
    aar = cond(got, "AllAdaptersReady")
    assert aar["status"] == "False"
    assert "validation" not in aar["message"]
    assert "dns" in aar["message"]

    for adapter in ("dns", "pullsecret", "hypershift"):
        await accepted(client, path, adapter, 1)
    got = await get_json(client, path)
    aar = cond(got, "AllAdaptersReady")
    assert (aar["status"], aar["reason"]) == ("True", "AllAdaptersReady")
    ready_at = aar["last_transition_time"]
    # A new report that keeps the status does not move the transition time.
    await accepted(client, path, "dns", 1)
    again = cond(await get_json(client, path), "AllAdaptersReady")
    assert again["last_transition_time"] == ready_at

    # A PATCH bumps the generation: nothing is Ready at generation 2.
    patched = assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
    assert cond(patched, "AllAdaptersReady")["status"] == "False"
    vp = cond(patched, "ValidationPassed")
    assert (vp["status"], vp["reason"], vp["observed_generation"]) == (
        "False",
        "ValidationPending",
        2,
    )


async def test_adapters_summary_fields(client):
    c = await create_cluster(client)
    path = f"/clusters/{c['id']}"
    assert [a["adapter"] for a in c["status"]["adapters"]] == list(CLUSTER_REQUIRED)
    for a in c["status"]["adapters"]:
        assert a["state"] == "Pending"
        assert a["required"] is True
        assert a["blocked_by"] == []
        assert a.get("observed_generation") is None
        assert a.get("last_report_time") is None
    report = await accepted(client, path, "dns", 1, available="Unknown", reason="Progressing")
    got = await get_json(client, path)
    dns = entry(got, "dns")
    assert set(dns) == {
        "adapter",
        "state",
        "required",
        "observed_generation",
        "last_report_time",
        "blocked_by",
    }
    assert dns["state"] == "Provisioning"
    assert dns["observed_generation"] == 1
    assert dns["required"] is True
    assert datetime.fromisoformat(dns["last_report_time"]) == datetime.fromisoformat(
        report["last_report_time"]
    )


class TestNoValidationAdapters:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(entities=[{"kind": "Cluster", "validation_adapters": []}])

    async def test_validation_passed_omitted(self, client):
        c = await create_cluster(client)
        assert "ValidationPassed" not in types(c)
        await accepted(client, f"/clusters/{c['id']}", "validation", 1)
        got = await get_json(client, f"/clusters/{c['id']}")
        assert types(got) == [
            "Reconciled",
            "LastKnownReconciled",
            "ValidationSuccessful",
            "AllAdaptersReady",
        ]
        # NodePool keeps the default [validation].
        np = await create_nodepool(client, c["id"])
        assert "ValidationPassed" in types(np)


class TestCustomProgressingReasons:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(
            entities=[
                {"kind": "Cluster", "adapters": {"dns": {"progressing_reasons": ["Waiting"]}}}
            ]
        )

    async def test_per_adapter_progressing_reasons(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        body = await accepted(client, path, "dns", 1, available="False", reason="Waiting")
        assert body["state"] == "Provisioning"
        assert phase(await get_json(client, path)) == "Provisioning"
        body = await accepted(client, path, "dns", 1, available="False", reason="Progressing")
        assert body["state"] == "Failed"
        assert (await stored_reports(client, path))["dns"]["state"] == "Failed"
        assert phase(await get_json(client, path)) == "Failed"
        # Other adapters keep the defaults.
        body = await accepted(
            client, path, "pullsecret", 1, available="False", reason="Progressing"
        )
        assert body["state"] == "Provisioning"


# The configuration example of post-mvp.md §5, verbatim.
SECTION5_CLUSTER: dict[str, Any] = {
    "kind": "Cluster",
    "required_adapters": ["validation", "dns", "pullsecret", "hypershift"],
    "optional_adapters": ["monitoring"],
    "validation_adapters": ["validation"],
    "adapter_dependencies": {
        "dns": ["validation"],
        "hypershift": ["validation", "dns", "pullsecret"],
    },
    "generation_policy": "strict",
    "strict_adapters": False,
    "adapters": {
        "validation": {
            "reasons": {"Available": ["ValidationSucceeded", "ValidationFailed", "Progressing"]},
            "progressing_reasons": ["Progressing"],
            "data_schema": {
                "type": "object",
                "properties": {"checks": {"type": "integer"}},
                "required": ["checks"],
            },
        }
    },
    "conditions": [
        {
            "type": "ControlPlaneReady",
            "status": 'statuses.exists(s, s.adapter == "hypershift" && s.state == "Ready")',
            "reason": '"HypershiftReady"',
            "message": '"control plane is up"',
        }
    ],
}


class TestSection5Example:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(entities=[SECTION5_CLUSTER])

    @staticmethod
    async def validation_ready(client: httpx.AsyncClient, path: str, generation: int = 1) -> None:
        await accepted(
            client, path, "validation", generation, reason="ValidationSucceeded", data={"checks": 3}
        )

    async def test_control_plane_ready_and_condition_order(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        assert types(c) == [
            "Reconciled",
            "LastKnownReconciled",
            "AllAdaptersReady",
            "ValidationPassed",
            "ControlPlaneReady",
        ]
        assert cond(c, "ControlPlaneReady")["status"] == "False"

        await self.validation_ready(client, path)
        await accepted(client, path, "pullsecret", 1)
        await accepted(client, path, "dns", 1)
        got = await get_json(client, path)
        assert cond(got, "ControlPlaneReady")["status"] == "False"
        await accepted(client, path, "hypershift", 1, available="Unknown", reason="Progressing")
        assert cond(await get_json(client, path), "ControlPlaneReady")["status"] == "False"
        await accepted(client, path, "hypershift", 1)
        got = await get_json(client, path)
        cpr = cond(got, "ControlPlaneReady")
        assert (cpr["status"], cpr["reason"], cpr["message"]) == (
            "True",
            "HypershiftReady",
            "control plane is up",
        )
        assert cpr["observed_generation"] == 1
        assert types(got) == [
            "Reconciled",
            "LastKnownReconciled",
            "ValidationSuccessful",
            "DnsSuccessful",
            "PullsecretSuccessful",
            "HypershiftSuccessful",
            "AllAdaptersReady",
            "ValidationPassed",
            "ControlPlaneReady",
        ]
        assert phase(got) == "Ready"
        assert cond(got, "Reconciled")["status"] == "True"
        assert cond(got, "ValidationPassed")["status"] == "True"
        # The optional adapter has not reported: not all adapters are Ready.
        aar = cond(got, "AllAdaptersReady")
        assert (aar["status"], aar["reason"]) == ("False", "AdaptersNotReady")
        assert "monitoring" in aar["message"]

        monitoring = entry(got, "monitoring")
        assert monitoring["required"] is False
        assert monitoring["state"] == "Pending"
        assert [a["adapter"] for a in got["status"]["adapters"]] == [
            "validation",
            "dns",
            "pullsecret",
            "hypershift",
            "monitoring",
        ]
        assert all(a["required"] for a in got["status"]["adapters"][:4])

        # An unhealthy optional adapter does not degrade the resource.
        await accepted(client, path, "monitoring", 1, health="False")
        got = await get_json(client, path)
        assert phase(got) == "Ready"
        assert entry(got, "monitoring")["state"] == "Unhealthy"
        await accepted(client, path, "monitoring", 1)
        got = await get_json(client, path)
        aar = cond(got, "AllAdaptersReady")
        assert (aar["status"], aar["reason"]) == ("True", "AllAdaptersReady")

        # After a PATCH the condition is recomputed at the new generation. (The example's
        # expression looks at `state` only, which is the stored report's, whatever its
        # generation; AllAdaptersReady does look at the generation.)
        patched = assert_json(await client.patch(f"{API}{path}", json={"spec": {"v": 2}}), 200)
        assert cond(patched, "ControlPlaneReady")["observed_generation"] == 2
        assert cond(patched, "AllAdaptersReady")["status"] == "False"
        assert phase(patched) == "Pending"

    async def test_validation_contract_from_example(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        r = await put(client, path, "validation", 1, reason="Checked", data={"checks": 1})
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])
        r = await put(
            client, path, "validation", 1, reason="ValidationSucceeded", data={"checks": "1"}
        )
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["data/checks"])
        r = await put(client, path, "validation", 1, reason="ValidationSucceeded")
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["data"])
        # `InProgress` is not in validation's progressing reasons (nor in its enum).
        r = await put(
            client,
            path,
            "validation",
            1,
            available="False",
            reason="InProgress",
            data={"checks": 0},
        )
        problem(r, 400, "HYPERFLEET-VAL-000", fields=["conditions[0].reason"])

    async def test_validation_failed_and_pending_from_example(self, client):
        c = await create_cluster(client)
        path = f"/clusters/{c['id']}"
        body = await accepted(
            client,
            path,
            "validation",
            1,
            available="False",
            reason="Progressing",
            data={"checks": 0},
        )
        assert body["state"] == "Provisioning"
        got = await get_json(client, path)
        vp = cond(got, "ValidationPassed")
        assert (vp["status"], vp["reason"]) == ("False", "ValidationPending")
        body = await accepted(
            client,
            path,
            "validation",
            1,
            available="False",
            reason="ValidationFailed",
            message="base domain is not delegated",
            data={"checks": 2},
        )
        assert body["state"] == "Failed"
        got = await get_json(client, path)
        vp = cond(got, "ValidationPassed")
        assert (vp["status"], vp["reason"], vp["message"]) == (
            "False",
            "ValidationFailed",
            "base domain is not delegated",
        )
        assert phase(got) == "Failed"
        # dns depends on validation, which failed.
        dependency_conflict(await put(client, path, "dns", 1), ["validation"])
        assert entry(got, "dns")["blocked_by"] == ["validation"]
        assert entry(got, "hypershift")["blocked_by"] == ["validation", "dns", "pullsecret"]
