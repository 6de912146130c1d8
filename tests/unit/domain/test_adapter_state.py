"""AdapterState (post-MVP §3.1): one row of the table per case, first matching row wins.

Finalized     Finalized=True
Unhealthy     Health=False
Ready         Available=True
Failed        Available=False and Applied=True and reason not a progressing reason
Provisioning  Applied=True (Available Unknown, or False with a progressing reason)
Pending       anything else
"""

from __future__ import annotations

import pytest

from hyperfleet.domain.adapter_state import AdapterState, derive_state
from hyperfleet.domain.model import DEFAULT_PROGRESSING_REASONS, ConditionStatus
from hyperfleet.domain.reports import ReportedCondition

T = ConditionStatus.TRUE
F = ConditionStatus.FALSE
U = ConditionStatus.UNKNOWN


def conds(**statuses: ConditionStatus | tuple[ConditionStatus, str | None]) -> list:
    """`Available=(F, "Reason")` or `Applied=T`; a bare status carries no reason."""
    out = []
    for type_, value in statuses.items():
        status, reason = value if isinstance(value, tuple) else (value, None)
        out.append(ReportedCondition(type_, status, reason, None))
    return out


def test_enum_values_are_the_six_states_of_the_table() -> None:
    assert [s.value for s in AdapterState] == [
        "Finalized",
        "Unhealthy",
        "Ready",
        "Failed",
        "Provisioning",
        "Pending",
    ]


def test_default_progressing_reasons_are_the_documented_four() -> None:
    assert tuple(DEFAULT_PROGRESSING_REASONS) == (
        "Progressing",
        "JobRunning",
        "InProgress",
        "Provisioning",
    )


TABLE = [
    # --- Finalized -------------------------------------------------------------------------
    pytest.param(
        conds(Finalized=T, Available=T, Applied=T, Health=T),
        AdapterState.FINALIZED,
        id="finalized-true",
    ),
    pytest.param(
        conds(Finalized=T, Available=T, Applied=T, Health=F),
        AdapterState.FINALIZED,
        id="finalized-beats-unhealthy",
    ),
    pytest.param(
        conds(Finalized=T, Available=(F, "Boom"), Applied=T, Health=T),
        AdapterState.FINALIZED,
        id="finalized-beats-failed",
    ),
    pytest.param(
        conds(Finalized=T, Available=U, Applied=F, Health=T),
        AdapterState.FINALIZED,
        id="finalized-beats-pending",
    ),
    pytest.param(
        conds(Finalized=F, Available=T, Applied=T, Health=T),
        AdapterState.READY,
        id="finalized-false-is-not-finalized",
    ),
    pytest.param(
        conds(Finalized=U, Available=T, Applied=T, Health=T),
        AdapterState.READY,
        id="finalized-unknown-is-not-finalized",
    ),
    # --- Unhealthy -------------------------------------------------------------------------
    pytest.param(
        conds(Available=T, Applied=T, Health=F),
        AdapterState.UNHEALTHY,
        id="unhealthy-beats-ready",
    ),
    pytest.param(
        conds(Available=(F, "Boom"), Applied=T, Health=F),
        AdapterState.UNHEALTHY,
        id="unhealthy-beats-failed",
    ),
    pytest.param(
        conds(Available=U, Applied=T, Health=F),
        AdapterState.UNHEALTHY,
        id="unhealthy-beats-provisioning",
    ),
    pytest.param(
        conds(Available=F, Applied=F, Health=F),
        AdapterState.UNHEALTHY,
        id="unhealthy-beats-pending",
    ),
    pytest.param(
        conds(Available=T, Applied=T, Health=U),
        AdapterState.READY,
        id="health-unknown-is-not-unhealthy",
    ),
    # --- Ready -----------------------------------------------------------------------------
    pytest.param(conds(Available=T, Applied=T, Health=T), AdapterState.READY, id="ready"),
    pytest.param(
        conds(Available=T, Applied=F, Health=T),
        AdapterState.READY,
        id="ready-beats-applied-false",
    ),
    pytest.param(
        conds(Available=(T, "Progressing"), Applied=T, Health=T),
        AdapterState.READY,
        id="ready-even-with-progressing-reason",
    ),
    # --- Failed ----------------------------------------------------------------------------
    pytest.param(
        conds(Available=(F, "QuotaExceeded"), Applied=T, Health=T),
        AdapterState.FAILED,
        id="failed-non-progressing-reason",
    ),
    pytest.param(
        conds(Available=F, Applied=T, Health=T),
        AdapterState.FAILED,
        id="failed-no-reason",
    ),
    pytest.param(
        conds(Available=(F, "progressing"), Applied=T, Health=T),
        AdapterState.FAILED,
        id="failed-reason-match-is-case-sensitive",
    ),
    # --- Provisioning ----------------------------------------------------------------------
    *(
        pytest.param(
            conds(Available=(F, reason), Applied=T, Health=T),
            AdapterState.PROVISIONING,
            id=f"provisioning-default-reason-{reason}",
        )
        for reason in ("Progressing", "JobRunning", "InProgress", "Provisioning")
    ),
    pytest.param(
        conds(Available=U, Applied=T, Health=T),
        AdapterState.PROVISIONING,
        id="provisioning-available-unknown",
    ),
    pytest.param(
        conds(Available=(U, "QuotaExceeded"), Applied=T, Health=T),
        AdapterState.PROVISIONING,
        id="provisioning-available-unknown-any-reason",
    ),
    # --- Pending ---------------------------------------------------------------------------
    pytest.param(
        conds(Available=(F, "WaitingForDependencies"), Applied=F, Health=T),
        AdapterState.PENDING,
        id="pending-applied-false-available-false",
    ),
    pytest.param(
        conds(Available=(F, "Progressing"), Applied=F, Health=T),
        AdapterState.PENDING,
        id="pending-applied-false-progressing-reason",
    ),
    pytest.param(
        conds(Available=U, Applied=F, Health=T),
        AdapterState.PENDING,
        id="pending-applied-false-available-unknown",
    ),
    pytest.param(
        conds(Available=(F, "QuotaExceeded"), Applied=U, Health=T),
        AdapterState.PENDING,
        id="pending-applied-unknown-is-not-applied",
    ),
    # --- missing conditions ----------------------------------------------------------------
    pytest.param([], AdapterState.PENDING, id="missing-all-conditions"),
    pytest.param(conds(Finalized=T), AdapterState.FINALIZED, id="missing-only-finalized"),
    pytest.param(conds(Health=F), AdapterState.UNHEALTHY, id="missing-only-health-false"),
    pytest.param(conds(Available=T), AdapterState.READY, id="missing-applied-available-true"),
    pytest.param(
        conds(Available=(F, "QuotaExceeded"), Health=T),
        AdapterState.PENDING,
        id="missing-applied-available-false-not-failed",
    ),
    pytest.param(
        conds(Applied=T, Health=T),
        AdapterState.PROVISIONING,
        id="missing-available-applied-true",
    ),
    pytest.param(
        conds(Available=U, Applied=T),
        AdapterState.PROVISIONING,
        id="missing-health-is-not-unhealthy",
    ),
]


@pytest.mark.parametrize(("conditions", "expected"), TABLE)
def test_state_table_with_default_progressing_reasons(
    conditions: list, expected: AdapterState
) -> None:
    assert derive_state(conditions) is expected


CUSTOM = ("Warming", "Rolling")

CUSTOM_TABLE = [
    pytest.param("Warming", AdapterState.PROVISIONING, id="custom-reason-provisioning"),
    pytest.param("Rolling", AdapterState.PROVISIONING, id="custom-second-reason-provisioning"),
    pytest.param("Progressing", AdapterState.FAILED, id="custom-list-replaces-default"),
    pytest.param("JobRunning", AdapterState.FAILED, id="custom-list-replaces-default-2"),
    pytest.param("QuotaExceeded", AdapterState.FAILED, id="custom-unlisted-reason-failed"),
    pytest.param(None, AdapterState.FAILED, id="custom-no-reason-failed"),
]


@pytest.mark.parametrize(("reason", "expected"), CUSTOM_TABLE)
def test_custom_progressing_reasons(reason: str | None, expected: AdapterState) -> None:
    conditions = conds(Available=(F, reason), Applied=T, Health=T)
    assert derive_state(conditions, CUSTOM) is expected


@pytest.mark.parametrize(
    ("applied", "reason", "expected"),
    [
        pytest.param(T, "Progressing", AdapterState.PROVISIONING, id="applied-progressing"),
        pytest.param(T, "Broken", AdapterState.FAILED, id="applied-not-progressing"),
        pytest.param(F, "Progressing", AdapterState.PENDING, id="not-applied-progressing"),
        pytest.param(F, "Broken", AdapterState.PENDING, id="not-applied-not-progressing"),
    ],
)
def test_available_false_split_by_applied_and_reason(
    applied: ConditionStatus, reason: str, expected: AdapterState
) -> None:
    conditions = conds(Available=(F, reason), Applied=applied, Health=T)
    assert derive_state(conditions) is expected


def test_empty_custom_list_makes_every_available_false_applied_report_failed() -> None:
    conditions = conds(Available=(F, "Progressing"), Applied=T, Health=T)
    assert derive_state(conditions, ()) is AdapterState.FAILED


def test_condition_order_in_the_report_does_not_matter() -> None:
    forward = conds(Available=T, Applied=T, Health=F)
    assert derive_state(forward) is derive_state(list(reversed(forward))) is AdapterState.UNHEALTHY
