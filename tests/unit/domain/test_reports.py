"""Adapter report rules (reference §4.1, §3): body validation in the reference's order, the
discard policy (`judge`), the mandatory-condition check, the merge into the stored row and
when a report triggers re-aggregation. Pure: no clock, no database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hyperfleet.domain.model import AdapterCondition, AdapterReport, ConditionStatus
from hyperfleet.domain.reports import (
    FUTURE_WINDOW,
    MANDATORY_CONDITIONS,
    PAST_WINDOW,
    IncomingReport,
    ReportedCondition,
    Verdict,
    check_mandatory,
    judge,
    merge,
    parse_report,
    parse_timestamp,
    should_reaggregate,
)
from hyperfleet.errors import ValidationFailed

TRUE = ConditionStatus.TRUE
FALSE = ConditionStatus.FALSE
UNKNOWN = ConditionStatus.UNKNOWN

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0, T1, T2, T3 = (NOW - timedelta(minutes=10) + timedelta(minutes=i) for i in range(4))
MISSING = object()
INT32_MAX = 2**31 - 1
MANDATORY_MESSAGE = "all adapters must report Available, Applied, and Health"


def cond(type_: str, status: str = "True", **extra: Any) -> dict[str, Any]:
    return {"type": type_, "status": status, **extra}


def body(**overrides: Any) -> dict[str, Any]:
    """A valid report body; an override of MISSING removes the key."""
    base: dict[str, Any] = {
        "adapter": "validation",
        "observed_generation": 1,
        "observed_time": "2026-03-01T12:00:00Z",
        "conditions": [cond("Available"), cond("Applied"), cond("Health")],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not MISSING}


def incoming(
    *,
    generation: int = 1,
    at: datetime = T1,
    available: ConditionStatus | None = TRUE,
    extra: tuple[ReportedCondition, ...] = (),
    data: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> IncomingReport:
    conditions: list[ReportedCondition] = []
    if available is not None:
        conditions.append(ReportedCondition("Available", available, "R", "M"))
    conditions += [
        ReportedCondition("Applied", TRUE, None, None),
        ReportedCondition("Health", TRUE, None, None),
        *extra,
    ]
    return IncomingReport("validation", generation, at, tuple(conditions), data, metadata)


def stored(
    *,
    generation: int = 1,
    at: datetime = T1,
    created: datetime = T0,
    statuses: dict[str, ConditionStatus] | None = None,
    transitions: dict[str, datetime] | None = None,
) -> AdapterReport:
    statuses = statuses or {"Available": TRUE, "Applied": TRUE, "Health": TRUE}
    transitions = transitions or {}
    return AdapterReport(
        adapter="validation",
        observed_generation=generation,
        conditions=tuple(
            AdapterCondition(t, s, None, None, transitions.get(t, created))
            for t, s in statuses.items()
        ),
        created_time=created,
        last_report_time=at,
        data={"old": True},
        metadata={"job_name": "old"},
    )


# --- parse_report: the happy path ----------------------------------------------------------


def test_parse_report_decodes_every_field():
    report = parse_report(
        body(
            adapter="dns",
            observed_generation=7,
            observed_time="2026-03-01T12:01:30.123456+00:00",
            conditions=[
                cond("Available", "False", reason="Broken", message="no zone"),
                cond("Applied", "Unknown"),
                cond("Health"),
                cond("Finalized"),
            ],
            data={"zone": "example.org"},
            metadata={"job_name": "dns-1", "attempt": 2},
        ),
        now=NOW,
    )
    assert report == IncomingReport(
        adapter="dns",
        observed_generation=7,
        observed_time=datetime(2026, 3, 1, 12, 1, 30, 123456, tzinfo=UTC),
        conditions=(
            ReportedCondition("Available", FALSE, "Broken", "no zone"),
            ReportedCondition("Applied", UNKNOWN, None, None),
            ReportedCondition("Health", TRUE, None, None),
            ReportedCondition("Finalized", TRUE, None, None),
        ),
        data={"zone": "example.org"},
        metadata={"job_name": "dns-1", "attempt": 2},
    )
    assert report.status_of("Applied") is UNKNOWN
    assert report.status_of("Missing") is None


def test_parse_report_without_data_or_metadata_keeps_them_absent():
    report = parse_report(body(), now=NOW)
    assert report.data is None
    assert report.metadata is None


def test_parse_report_accepts_an_incomplete_report():
    """Mandatory conditions are checked later (after the discard rules), not while parsing."""
    report = parse_report(body(conditions=[cond("Available")]), now=NOW)
    assert [c.type for c in report.conditions] == ["Available"]
    report = parse_report(body(conditions=MISSING), now=NOW)
    assert report.conditions == ()


@pytest.mark.parametrize(
    ("observed", "accepted"),
    [
        pytest.param(NOW + FUTURE_WINDOW, True, id="exactly-5-min-future"),
        pytest.param(NOW + FUTURE_WINDOW + timedelta(microseconds=1), False, id="past-5-min"),
        pytest.param(NOW - PAST_WINDOW, True, id="exactly-30-min-past"),
        pytest.param(NOW - PAST_WINDOW - timedelta(microseconds=1), False, id="past-30-min"),
        pytest.param(NOW, True, id="now"),
    ],
)
def test_observed_time_window_boundaries(observed: datetime, accepted: bool):
    raw = observed.isoformat()
    if accepted:
        assert parse_report(body(observed_time=raw), now=NOW).observed_time == observed
    else:
        with pytest.raises(ValidationFailed):
            parse_report(body(observed_time=raw), now=NOW)


# --- parse_report: every validation message --------------------------------------------------

VALIDATION_CASES = [
    # (id, overrides, field, message)
    ("adapter-missing", {"adapter": MISSING}, "adapter", "adapter is required"),
    ("adapter-empty", {"adapter": ""}, "adapter", "adapter is required"),
    ("adapter-blank", {"adapter": "   "}, "adapter", "adapter is required"),
    ("adapter-null", {"adapter": None}, "adapter", "adapter is required"),
    ("adapter-number", {"adapter": 5}, "adapter", "field 'adapter' must be a string"),
    (
        "generation-missing",
        {"observed_generation": MISSING},
        "observed_generation",
        "observed_generation is required",
    ),
    (
        "generation-zero",
        {"observed_generation": 0},
        "observed_generation",
        "observed_generation must be >= 1",
    ),
    (
        "generation-negative",
        {"observed_generation": -3},
        "observed_generation",
        "observed_generation must be >= 1",
    ),
    (
        "generation-over-int32",
        {"observed_generation": INT32_MAX + 1},
        "observed_generation",
        f"observed_generation must be <= {INT32_MAX}",
    ),
    (
        "generation-string",
        {"observed_generation": "1"},
        "observed_generation",
        "field 'observed_generation' must be a number",
    ),
    (
        "generation-bool",
        {"observed_generation": True},
        "observed_generation",
        "field 'observed_generation' must be a number",
    ),
    (
        "conditions-not-array",
        {"conditions": {"type": "Available"}},
        "conditions",
        "field 'conditions' must be an array",
    ),
    (
        "condition-not-object",
        {"conditions": ["Available"]},
        "conditions[0]",
        "condition at index 0 must be an object",
    ),
    (
        "condition-type-empty",
        {"conditions": [cond("Available"), cond("")]},
        "conditions[1].type",
        "condition type cannot be empty at index 1",
    ),
    (
        "condition-type-missing",
        {"conditions": [{"status": "True"}]},
        "conditions[0].type",
        "condition type cannot be empty at index 0",
    ),
    (
        "condition-type-duplicate",
        {"conditions": [cond("Available"), cond("Applied"), cond("Available", "False")]},
        "conditions[2].type",
        "duplicate condition type 'Available' at index 2",
    ),
    (
        "condition-status-lowercase",
        {"conditions": [cond("Available", "true")]},
        "conditions[0].status",
        "invalid status value 'true' for condition at index 0: must be one of True, False, Unknown",
    ),
    (
        "condition-status-upper",
        {"conditions": [cond("Available", "TRUE")]},
        "conditions[0].status",
        "invalid status value 'TRUE' for condition at index 0: must be one of True, False, Unknown",
    ),
    (
        "condition-reason-number",
        {"conditions": [cond("Available", reason=3)]},
        "conditions[0].reason",
        "field 'reason' must be a string",
    ),
    (
        "observed-time-missing",
        {"observed_time": MISSING},
        "observed_time",
        "observed_time is required",
    ),
    (
        "observed-time-number",
        {"observed_time": 1700000000},
        "observed_time",
        "field 'observed_time' must be a string",
    ),
    (
        "observed-time-garbage",
        {"observed_time": "yesterday"},
        "observed_time",
        "observed_time must be an RFC 3339 date-time",
    ),
    (
        "observed-time-no-offset",
        {"observed_time": "2026-03-01T12:00:00"},
        "observed_time",
        "observed_time must be an RFC 3339 date-time",
    ),
    (
        "observed-time-date-only",
        {"observed_time": "2026-03-01"},
        "observed_time",
        "observed_time must be an RFC 3339 date-time",
    ),
    (
        "observed-time-future",
        {"observed_time": "2026-03-01T12:05:01Z"},
        "observed_time",
        "observed_time must not be more than 5 minutes in the future",
    ),
    (
        "observed-time-past",
        {"observed_time": "2026-03-01T11:29:59Z"},
        "observed_time",
        "observed_time must not be more than 30 minutes in the past",
    ),
    ("data-not-object", {"data": [1]}, "data", "field 'data' must be an object"),
    ("metadata-not-object", {"metadata": "x"}, "metadata", "field 'metadata' must be an object"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [pytest.param(o, f, m, id=i) for i, o, f, m in VALIDATION_CASES],
)
def test_parse_report_rejects(overrides: dict[str, Any], field: str, message: str):
    with pytest.raises(ValidationFailed) as caught:
        parse_report(body(**overrides), now=NOW)
    error = caught.value
    assert error.code == "HYPERFLEET-VAL-000"
    assert error.detail == message
    assert [(v.field, v.message) for v in error.violations] == [(field, message)]


@pytest.mark.parametrize("status", [None, 1, True, "", "unknown", " True"])
def test_parse_report_rejects_any_status_but_the_three(status: Any):
    conditions = [cond("Available"), {"type": "Applied", "status": status}]
    if status is None:
        del conditions[1]["status"]
    with pytest.raises(ValidationFailed) as caught:
        parse_report(body(conditions=conditions), now=NOW)
    (violation,) = caught.value.violations
    assert violation.field == "conditions[1].status"
    assert violation.message.startswith("invalid status value ")
    assert "for condition at index 1" in violation.message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param(
            {"adapter": "", "observed_generation": 0, "observed_time": "nope"},
            "adapter",
            id="adapter-before-generation",
        ),
        pytest.param(
            {"observed_generation": 0, "conditions": [cond("")]},
            "observed_generation",
            id="generation-before-conditions",
        ),
        pytest.param(
            {"conditions": [cond("Available", "yes")], "observed_time": "nope"},
            "conditions[0].status",
            id="conditions-before-observed-time",
        ),
        pytest.param(
            {"adapter": "", "observed_generation": "one"},
            "observed_generation",
            id="type-mismatch-before-everything",
        ),
        pytest.param(
            {"conditions": [cond(""), cond("Available"), cond("Available")]},
            "conditions[0].type",
            id="first-condition-problem-wins",
        ),
    ],
)
def test_parse_report_first_failure_wins(overrides: dict[str, Any], field: str):
    with pytest.raises(ValidationFailed) as caught:
        parse_report(body(**overrides), now=NOW)
    assert [v.field for v in caught.value.violations] == [field]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-01T12:00:00Z", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2026-03-01t12:00:00z", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2026-03-01T14:00:00+02:00", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2026-03-01T12:00:00.5Z", datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-01T12:00:00.123456Z", datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        (" 2026-03-01T12:00:00Z ", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2026-03-01T12:00:00", None),
        ("2026-03-01 12:00:00Z", None),
        ("2026-03-01", None),
        ("2026-13-01T12:00:00Z", None),
        ("2026-03-01T25:00:00Z", None),
        ("", None),
        ("not a time at all, really", None),
    ],
)
def test_parse_timestamp(raw: str, expected: datetime | None):
    assert parse_timestamp(raw) == expected


# --- judge: the discard policy ----------------------------------------------------------------

JUDGE_CASES = [
    # (id, report, resource generation, stored row, verdict)
    ("first-report", incoming(), 1, None, Verdict.STORE),
    ("first-report-unknown-is-stored", incoming(available=UNKNOWN), 1, None, Verdict.STORE),
    ("first-report-older-generation", incoming(generation=1), 3, None, Verdict.STORE),
    ("future-generation", incoming(generation=2), 1, None, Verdict.DISCARD),
    ("future-generation-with-row", incoming(generation=3), 2, stored(), Verdict.DISCARD),
    ("stale-generation", incoming(generation=1, at=T3), 2, stored(generation=2), Verdict.DISCARD),
    ("same-generation-older-time", incoming(at=T0), 1, stored(at=T1), Verdict.DISCARD),
    ("same-generation-newer-time", incoming(at=T2), 1, stored(at=T1), Verdict.STORE),
    ("same-generation-equal-time", incoming(at=T1), 1, stored(at=T1), Verdict.UNCHANGED),
    ("newer-generation-older-time", incoming(generation=2, at=T0), 2, stored(), Verdict.STORE),
    (
        "second-report-unknown",
        incoming(at=T2, available=UNKNOWN),
        1,
        stored(),
        Verdict.DISCARD,
    ),
    (
        "second-report-unknown-newer-generation",
        incoming(generation=2, at=T2, available=UNKNOWN),
        2,
        stored(),
        Verdict.DISCARD,
    ),
    (
        "second-report-unknown-equal-time",
        incoming(at=T1, available=UNKNOWN),
        1,
        stored(),
        Verdict.DISCARD,
    ),
    (
        "second-report-without-available-is-not-discarded",
        incoming(at=T2, available=None),
        1,
        stored(),
        Verdict.STORE,
    ),
    (
        "stale-incomplete-report",
        incoming(generation=1, at=T3, available=None),
        2,
        stored(generation=2),
        Verdict.DISCARD,
    ),
    ("second-report-false", incoming(at=T2, available=FALSE), 1, stored(), Verdict.STORE),
]


@pytest.mark.parametrize(
    ("report", "generation", "row", "verdict"),
    [pytest.param(r, g, s, v, id=i) for i, r, g, s, v in JUDGE_CASES],
)
def test_judge(
    report: IncomingReport, generation: int, row: AdapterReport | None, verdict: Verdict
):
    assert judge(report, resource_generation=generation, stored=row) is verdict


# --- check_mandatory --------------------------------------------------------------------------


def _only(*types: str) -> IncomingReport:
    return IncomingReport(
        "validation",
        1,
        T1,
        tuple(ReportedCondition(t, TRUE, None, None) for t in types),
        None,
        None,
    )


@pytest.mark.parametrize(
    ("types", "missing"),
    [
        ((), "Available"),
        (("Applied", "Health"), "Available"),
        (("Available", "Health"), "Applied"),
        (("Available", "Applied"), "Health"),
        (("Health",), "Available"),
        (("Available", "Finalized"), "Applied"),
        (("available", "applied", "health"), "Available"),
    ],
)
def test_check_mandatory_names_the_first_missing_type(types: tuple[str, ...], missing: str):
    with pytest.raises(ValidationFailed) as caught:
        check_mandatory(_only(*types))
    message = f"missing mandatory condition '{missing}': {MANDATORY_MESSAGE}"
    assert caught.value.detail == message
    assert [(v.field, v.message) for v in caught.value.violations] == [("conditions", message)]


@pytest.mark.parametrize(
    "types",
    [
        ("Available", "Applied", "Health"),
        ("Health", "Applied", "Available"),
        ("Available", "Applied", "Health", "Finalized", "Custom"),
    ],
)
def test_check_mandatory_accepts_complete_reports(types: tuple[str, ...]):
    check_mandatory(_only(*types))


def test_mandatory_conditions_are_the_reference_three():
    assert MANDATORY_CONDITIONS == ("Available", "Applied", "Health")


def test_unknown_status_counts_as_present():
    report = IncomingReport(
        "validation",
        1,
        T1,
        tuple(ReportedCondition(t, UNKNOWN, None, None) for t in MANDATORY_CONDITIONS),
        None,
        None,
    )
    check_mandatory(report)


# --- merge ------------------------------------------------------------------------------------


def test_merge_first_report():
    report = incoming(at=T1, data={"a": 1}, metadata={"job_name": "j"})
    row = merge(report, None)
    assert row == AdapterReport(
        adapter="validation",
        observed_generation=1,
        conditions=(
            AdapterCondition("Available", TRUE, "R", "M", T1),
            AdapterCondition("Applied", TRUE, None, None, T1),
            AdapterCondition("Health", TRUE, None, None, T1),
        ),
        created_time=T1,
        last_report_time=T1,
        data={"a": 1},
        metadata={"job_name": "j"},
    )


MERGE_CASES = [
    # (id, previous statuses, new Available status, expected Available ltt)
    ("unchanged-keeps-transition", TRUE, TRUE, T0),
    ("flipped-true-to-false", TRUE, FALSE, T2),
    ("flipped-false-to-true", FALSE, TRUE, T2),
    ("unknown-to-true", UNKNOWN, TRUE, T2),
    ("false-stays-false", FALSE, FALSE, T0),
]


@pytest.mark.parametrize(
    ("before", "after", "transition"),
    [pytest.param(b, a, t, id=i) for i, b, a, t in MERGE_CASES],
)
def test_merge_transition_times(
    before: ConditionStatus, after: ConditionStatus, transition: datetime
):
    previous = stored(
        at=T1,
        created=T0,
        statuses={"Available": before, "Applied": TRUE, "Health": TRUE},
        transitions={"Available": T0, "Applied": T0, "Health": T1},
    )
    row = merge(incoming(at=T2, available=after), previous)
    by_type = {c.type: c for c in row.conditions}
    assert by_type["Available"].status is after
    assert by_type["Available"].last_transition_time == transition
    # Applied and Health did not change: their own transition times are kept.
    assert by_type["Applied"].last_transition_time == T0
    assert by_type["Health"].last_transition_time == T1


def test_merge_new_type_transitions_at_observed_time_and_dropped_types_disappear():
    previous = stored(
        statuses={"Available": TRUE, "Applied": TRUE, "Health": TRUE, "Degraded": FALSE},
        transitions={"Available": T0, "Applied": T0, "Health": T0, "Degraded": T0},
    )
    report = incoming(at=T2, extra=(ReportedCondition("Finalized", TRUE, None, None),))
    row = merge(report, previous)
    assert [(c.type, c.last_transition_time) for c in row.conditions] == [
        ("Available", T0),
        ("Applied", T0),
        ("Health", T0),
        ("Finalized", T2),
    ]


def test_merge_keeps_created_time_and_replaces_the_rest():
    previous = stored(generation=1, at=T1, created=T0)
    row = merge(incoming(generation=2, at=T3, data=None, metadata=None), previous)
    assert row.created_time == T0
    assert row.last_report_time == T3
    assert row.observed_generation == 2
    assert row.data is None
    assert row.metadata is None


def test_merge_copies_reason_and_message_from_the_report():
    previous = stored()
    report = IncomingReport(
        "validation",
        1,
        T2,
        (
            ReportedCondition("Available", TRUE, "NewReason", "new message"),
            ReportedCondition("Applied", TRUE, None, None),
            ReportedCondition("Health", TRUE, None, None),
        ),
        None,
        None,
    )
    available = merge(report, previous).condition("Available")
    assert available is not None
    assert (available.reason, available.message) == ("NewReason", "new message")
    assert available.last_transition_time == T0  # reason changes do not transition


# --- should_reaggregate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "expected"),
    [(TRUE, True), (FALSE, True), (UNKNOWN, False), (None, False)],
)
def test_should_reaggregate(available: ConditionStatus | None, expected: bool):
    assert should_reaggregate(incoming(available=available)) is expected


@pytest.mark.parametrize("status", [{}, [], {"a": 1}, ["True"], 1, True, None])
def test_condition_status_of_any_json_type_is_a_400(status):
    """Regression: an object or array status crashed set membership (a 500 found by fuzzing)."""
    body = {
        "adapter": "dns",
        "observed_generation": 1,
        "observed_time": "2026-01-01T00:00:00Z",
        "conditions": [{"type": "Available", "status": status}],
    }
    with pytest.raises(ValidationFailed) as info:
        parse_report(body, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert info.value.violations[0].field == "conditions[0].status"
