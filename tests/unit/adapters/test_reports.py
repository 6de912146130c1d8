"""Outcome → report shapes, for every `spec.simulate` mode (interfaces.md "The loop")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hyperfleet.adapters.outcome import Outcome
from hyperfleet.adapters.reports import bookkeeping, build_report, is_settled, resend
from hyperfleet.adapters.simulate import (
    Mode,
    finalize_outcome,
    mode_for,
    provisioning_outcome,
    reconcile_outcome,
)

AT = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=UTC)

# mode -> expected (Applied, Available, Health)
RECONCILE = {
    Mode.SUCCEED: ("True", "True", "True"),
    Mode.FAIL: ("True", "False", "True"),
    Mode.UNHEALTHY: ("True", "True", "False"),
    Mode.PENDING: ("True", "Unknown", "True"),
}


def statuses(report: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in report["conditions"]}


def check_conditions(report: dict) -> None:
    types = [c["type"] for c in report["conditions"]]
    assert "Ready" not in types
    assert len(types) == len(set(types))
    for c in report["conditions"]:
        assert c["reason"]
        assert c["reason"][0].isupper()
        assert c["message"].strip()


@pytest.mark.parametrize("mode", list(RECONCILE))
def test_reconcile_modes_give_the_documented_conditions(mode: Mode):
    outcome = reconcile_outcome("dns", 3, mode)
    counters = bookkeeping(None, 3, worked=True)
    report = build_report("dns", 3, outcome, deleting=False, observed_time=AT, counters=counters)
    applied, available, health = RECONCILE[mode]
    assert statuses(report) == {"Applied": applied, "Available": available, "Health": health}
    assert report["observed_generation"] == 3
    assert report["observed_time"] == "2026-12-03T12:00:00.123456Z"
    assert report["data"] == {"reconciled_generation": 3, "reconcile_count": 1}
    check_conditions(report)


@pytest.mark.parametrize(("mode", "finalized"), [(Mode.SUCCEED, "True"), (Mode.STUCK, "False")])
def test_finalize_modes_report_finalized_only_while_deleting(mode: Mode, finalized: str):
    outcome = finalize_outcome("pullsecret", 2, mode)
    report = build_report("pullsecret", 2, outcome, deleting=True, observed_time=AT)
    assert statuses(report)["Finalized"] == finalized
    assert statuses(report)["Health"] == "True"
    check_conditions(report)
    live = build_report("pullsecret", 2, outcome, deleting=False, observed_time=AT)
    assert "Finalized" not in statuses(live)


def test_waiting_report_is_not_applied_unknown_and_healthy():
    report = build_report(
        "hypershift",
        1,
        Outcome.waiting_for(["validation", "dns"]),
        deleting=False,
        observed_time=AT,
    )
    assert statuses(report) == {"Applied": "False", "Available": "Unknown", "Health": "True"}
    available = next(c for c in report["conditions"] if c["type"] == "Available")
    assert available["reason"] == "WaitingForDependencies"
    assert "validation, dns" in available["message"]
    check_conditions(report)


def test_provisioning_report_is_applied_and_unknown():
    report = build_report(
        "dns", 1, provisioning_outcome("dns", 1, 2.5), deleting=False, observed_time=AT
    )
    assert statuses(report) == {"Applied": "True", "Available": "Unknown", "Health": "True"}
    check_conditions(report)


@pytest.mark.parametrize(
    ("spec", "deleting", "mode"),
    [
        ({"simulate": {"dns": "fail"}}, False, Mode.FAIL),
        ({"simulate": {"dns": "unhealthy"}}, False, Mode.UNHEALTHY),
        ({"simulate": {"dns": "pending"}}, False, Mode.PENDING),
        ({"simulate": {"dns": "stuck"}}, False, Mode.SUCCEED),
        ({"simulate": {"dns": "explode"}}, False, Mode.SUCCEED),
        ({"simulate": {"validation": "fail"}}, False, Mode.SUCCEED),
        ({"simulate": "fail"}, False, Mode.SUCCEED),
        ({"simulate": {"dns": 3}}, False, Mode.SUCCEED),
        ({}, False, Mode.SUCCEED),
        (None, False, Mode.SUCCEED),
        ({"simulate": {"dns": "stuck"}}, True, Mode.STUCK),
        ({"simulate": {"dns": "fail"}}, True, Mode.SUCCEED),
        ({"simulate": {"validation": "stuck"}}, True, Mode.SUCCEED),
    ],
)
def test_mode_for_obeys_spec_simulate_exactly(spec, deleting: bool, mode: Mode):
    assert mode_for(spec, "dns", deleting=deleting) is mode


def test_bookkeeping_counts_generations_worked_on_not_events():
    first = bookkeeping(None, 1, worked=True)
    assert first == {"reconciled_generation": 1, "reconcile_count": 1}
    again = bookkeeping(first, 1, worked=True)
    assert again == first
    idle = bookkeeping(first, 2, worked=False)
    assert idle == first
    second = bookkeeping(first, 2, worked=True)
    assert second == {"reconciled_generation": 2, "reconcile_count": 2}
    assert bookkeeping({"reconcile_count": "x"}, 1, worked=False) == {
        "reconciled_generation": 0,
        "reconcile_count": 0,
    }


def stored(gen: int, **conditions: str) -> dict:
    return {
        "adapter": "dns",
        "observed_generation": gen,
        "state": "Ready",
        "conditions": [
            {"type": t, "status": s, "reason": "R", "message": "m", "last_transition_time": ""}
            for t, s in conditions.items()
        ],
        "data": {"reconciled_generation": gen, "reconcile_count": 1},
        "created_time": "",
        "last_report_time": "",
    }


@pytest.mark.parametrize(
    ("report", "generation", "deleting", "settled"),
    [
        (stored(1, Applied="True", Available="True", Health="True"), 1, False, True),
        (stored(1, Applied="True", Available="False", Health="True"), 1, False, True),
        (stored(1, Applied="True", Available="True", Health="False"), 1, False, True),
        (stored(1, Applied="True", Available="Unknown", Health="True"), 1, False, False),
        (stored(1, Applied="False", Available="Unknown", Health="True"), 1, False, False),
        (stored(1, Applied="False", Available="False", Health="False"), 1, False, False),
        (stored(1, Applied="True", Available="True", Health="True"), 2, False, False),
        (stored(2, Applied="True", Available="True", Health="True"), 2, True, False),
        (
            stored(2, Applied="False", Available="False", Health="True", Finalized="True"),
            2,
            True,
            True,
        ),
        (
            stored(2, Applied="True", Available="Unknown", Health="True", Finalized="False"),
            2,
            True,
            False,
        ),
        (None, 1, False, False),
    ],
)
def test_is_settled(report, generation: int, deleting: bool, settled: bool):
    assert is_settled(report, generation, deleting=deleting) is settled


def test_resend_repeats_the_stored_outcome_with_a_fresh_time():
    before = stored(4, Applied="True", Available="True", Health="True")
    before["conditions"].append({"type": "Ready", "status": "True", "last_transition_time": ""})
    before["conditions"][0].pop("reason")
    report = resend(before, observed_time=AT)
    assert report["observed_generation"] == 4
    assert report["observed_time"] == "2026-12-03T12:00:00.123456Z"
    assert report["data"] == before["data"]
    assert statuses(report) == {"Applied": "True", "Available": "True", "Health": "True"}
    check_conditions(report)


@pytest.mark.parametrize(
    ("reason", "message"), [("", "m"), ("lower", "m"), ("Ok", " "), ("A" * 129, "m")]
)
def test_outcome_refuses_empty_or_malformed_reason_and_message(reason: str, message: str):
    with pytest.raises(ValueError, match=r"reason|message"):
        Outcome(applied=True, available=True, reason=reason, message=message)
