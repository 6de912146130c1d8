"""Status aggregation (reference §4.2-§4.5): the worked examples of §4.7 plus edge cases.

The worked examples use required adapters [validation, dns] and times T0 < T1 < ... . Each step
is one table row: the inputs of that step (generation, ref_time = the resource's updated_time,
the stored reports, the previous conditions = the expected output of the step before) and every
field of every expected condition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperfleet.domain.aggregation import (
    MESSAGE_ADAPTER_REPORTED_NOT_AVAILABLE,
    MESSAGE_ADAPTERS_MISSING_REPORTS,
    MESSAGE_ADAPTERS_NOT_AT_SAME_GENERATION,
    MESSAGE_ALL_ADAPTERS_RECONCILED,
    MESSAGE_RECONCILED_ALL,
    MESSAGE_WAITING_FOR_CHILDREN,
    ConditionType,
    Reason,
    adapter_condition_type,
    aggregate,
    initial_conditions,
)
from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    ConditionStatus,
    ResourceCondition,
)

TRUE = ConditionStatus.TRUE
FALSE = ConditionStatus.FALSE
UNKNOWN = ConditionStatus.UNKNOWN

REQUIRED = ("validation", "dns")

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10 = (BASE + timedelta(minutes=i) for i in range(11))


# --- builders ---------------------------------------------------------------------------------


def report(
    adapter: str,
    generation: int,
    at: datetime,
    *,
    available: ConditionStatus = TRUE,
    finalized: ConditionStatus | None = None,
    with_available: bool = True,
) -> AdapterReport:
    """A stored adapter row as the service keeps it (observed_time became last_report_time)."""
    conditions = []
    if with_available:
        conditions.append(
            AdapterCondition(
                type="Available",
                status=available,
                reason=f"{adapter}-{available.value}",
                message=f"{adapter} says Available={available.value} at gen {generation}",
                last_transition_time=at,
            )
        )
    conditions += [
        AdapterCondition("Applied", TRUE, None, None, at),
        AdapterCondition("Health", TRUE, None, None, at),
    ]
    if finalized is not None:
        conditions.append(AdapterCondition("Finalized", finalized, "Cleaned", None, at))
    return AdapterReport(
        adapter=adapter,
        observed_generation=generation,
        conditions=tuple(conditions),
        created_time=at,
        last_report_time=at,
    )


def rec(
    status: ConditionStatus,
    reason: str,
    message: str,
    *,
    og: int,
    created: datetime,
    lut: datetime,
    ltt: datetime,
) -> ResourceCondition:
    return ResourceCondition("Reconciled", status, reason, message, og, created, lut, ltt)


def missing(not_ready: str, reporting: str, *, signal: str = "Available=True") -> str:
    return (
        f"Required adapters not reporting {signal}: [{not_ready}]. "
        f"Currently reporting: [{reporting}]"
    )


def lkr(
    status: ConditionStatus,
    reason: str,
    message: str,
    *,
    og: int,
    created: datetime,
    lut: datetime,
    ltt: datetime,
) -> ResourceCondition:
    return ResourceCondition("LastKnownReconciled", status, reason, message, og, created, lut, ltt)


def successful(
    adapter: str,
    status: ConditionStatus,
    *,
    og: int,
    created: datetime,
    lut: datetime,
    ltt: datetime,
) -> ResourceCondition:
    """The per-adapter condition, whose reason/message mirror the report built by `report`."""
    return ResourceCondition(
        adapter_condition_type(adapter),
        status,
        f"{adapter}-{status.value}",
        f"{adapter} says Available={status.value} at gen {og}",
        og,
        created,
        lut,
        ltt,
    )


@dataclass(frozen=True)
class Step:
    generation: int
    ref_time: datetime
    reports: tuple[AdapterReport, ...]
    previous: tuple[ResourceCondition, ...]
    expected: tuple[ResourceCondition, ...]
    is_deleting: bool = False
    has_active_children: bool = False
    required: tuple[str, ...] = REQUIRED

    def run(self) -> tuple[ResourceCondition, ...]:
        return aggregate(
            generation=self.generation,
            required_adapters=self.required,
            reports=self.reports,
            previous=self.previous,
            ref_time=self.ref_time,
            is_deleting=self.is_deleting,
            has_active_children=self.has_active_children,
        )


NOT_AVAILABLE = Reason.ADAPTER_REPORTED_NOT_AVAILABLE
MISSING_REPORTS = Reason.ADAPTERS_MISSING_REPORTS
ALL_RECONCILED = Reason.ALL_ADAPTERS_RECONCILED
RECONCILED_ALL = Reason.RECONCILED_ALL
MISSING_ADAPTERS = Reason.RECONCILED_MISSING_ADAPTERS

# --- §4.7 worked examples, each step's expected conditions ------------------------------------

# 1. Create at T0 -> gen 1.
S1 = (
    rec(FALSE, MISSING_ADAPTERS, missing("dns, validation", ""), og=1, created=T0, lut=T0, ltt=T0),
    lkr(FALSE, MISSING_REPORTS, MESSAGE_ADAPTERS_MISSING_REPORTS, og=1, created=T0, lut=T0, ltt=T0),
)

# 2. validation og1 Available=True @T1.
R2 = (report("validation", 1, T1),)
S2 = (
    rec(FALSE, MISSING_ADAPTERS, missing("dns", "validation"), og=1, created=T0, lut=T1, ltt=T0),
    lkr(FALSE, MISSING_REPORTS, MESSAGE_ADAPTERS_MISSING_REPORTS, og=1, created=T0, lut=T0, ltt=T0),
    successful("validation", TRUE, og=1, created=T0, lut=T1, ltt=T1),
)

# 3. dns og1 True @T2.
R3 = (report("validation", 1, T1), report("dns", 1, T2))
S3 = (
    rec(TRUE, RECONCILED_ALL, MESSAGE_RECONCILED_ALL, og=1, created=T0, lut=T1, ltt=T1),
    lkr(TRUE, ALL_RECONCILED, MESSAGE_ALL_ADAPTERS_RECONCILED, og=1, created=T0, lut=T1, ltt=T1),
    successful("validation", TRUE, og=1, created=T0, lut=T1, ltt=T1),
    successful("dns", TRUE, og=1, created=T0, lut=T2, ltt=T2),
)

# 4. PATCH spec @T3 -> gen 2, updated_time T3.
S4 = (
    rec(
        FALSE,
        MISSING_ADAPTERS,
        missing("dns, validation", "dns, validation"),
        og=2,
        created=T0,
        lut=T3,
        ltt=T3,
    ),
    S3[1],
    S3[2],
    S3[3],
)

# 5. validation og2 Available=False @T4.
R5 = (report("validation", 2, T4, available=FALSE), report("dns", 1, T2))
S5 = (
    rec(
        FALSE,
        MISSING_ADAPTERS,
        missing("dns, validation", "dns, validation"),
        og=2,
        created=T0,
        lut=T4,
        ltt=T3,
    ),
    lkr(TRUE, ALL_RECONCILED, MESSAGE_ALL_ADAPTERS_RECONCILED, og=1, created=T0, lut=T1, ltt=T1),
    successful("validation", FALSE, og=2, created=T0, lut=T4, ltt=T4),
    successful("dns", TRUE, og=1, created=T0, lut=T2, ltt=T2),
)

# 6. (branch after 5) dns re-reports og1 Available=False @T5.
R6 = (report("validation", 2, T4, available=FALSE), report("dns", 1, T5, available=FALSE))
S6 = (
    S5[0],
    lkr(
        FALSE,
        NOT_AVAILABLE,
        MESSAGE_ADAPTER_REPORTED_NOT_AVAILABLE,
        og=2,
        created=T0,
        lut=T4,
        ltt=T4,
    ),
    S5[2],
    successful("dns", FALSE, og=1, created=T0, lut=T5, ltt=T5),
)

# 7a. (continuing from 5) validation og2 True @T6.
R7A = (report("validation", 2, T6), report("dns", 1, T2))
S7A = (
    rec(
        FALSE,
        MISSING_ADAPTERS,
        missing("dns", "dns, validation"),
        og=2,
        created=T0,
        lut=T6,
        ltt=T3,
    ),
    S5[1],
    successful("validation", TRUE, og=2, created=T0, lut=T6, ltt=T6),
    S5[3],
)

# 7b. dns og2 True @T7.
R7B = (report("validation", 2, T6), report("dns", 2, T7))
S7B = (
    rec(TRUE, RECONCILED_ALL, MESSAGE_RECONCILED_ALL, og=2, created=T0, lut=T6, ltt=T6),
    lkr(TRUE, ALL_RECONCILED, MESSAGE_ALL_ADAPTERS_RECONCILED, og=2, created=T0, lut=T6, ltt=T1),
    successful("validation", TRUE, og=2, created=T0, lut=T6, ltt=T6),
    successful("dns", TRUE, og=2, created=T0, lut=T7, ltt=T2),
)

# 9. DELETE @T8 -> gen 3, deleted_time = updated_time = T8.
S9 = (
    rec(
        FALSE,
        MISSING_ADAPTERS,
        missing("dns, validation", "dns, validation", signal="Finalized=True"),
        og=3,
        created=T0,
        lut=T8,
        ltt=T8,
    ),
    S7B[1],
    S7B[2],
    S7B[3],
)

# 9b. validation og3 Available=True Finalized=True @T9.
R9B = (report("validation", 3, T9, finalized=TRUE), report("dns", 2, T7))
S9B = (
    rec(
        FALSE,
        MISSING_ADAPTERS,
        missing("dns", "dns, validation", signal="Finalized=True"),
        og=3,
        created=T0,
        lut=T9,
        ltt=T8,
    ),
    S7B[1],  # all True at mixed generations (3, 2): sticky, og stays 2
    successful("validation", TRUE, og=3, created=T0, lut=T9, ltt=T6),
    S7B[3],
)

# 9c/9d. dns og3 Available=True Finalized=True @T10.
R9C = (report("validation", 3, T9, finalized=TRUE), report("dns", 3, T10, finalized=TRUE))
LKR_9C = lkr(
    TRUE, ALL_RECONCILED, MESSAGE_ALL_ADAPTERS_RECONCILED, og=3, created=T0, lut=T9, ltt=T1
)
S9C_CHILDREN = (
    rec(
        FALSE,
        Reason.RECONCILED_WAITING_FOR_CHILDREN,
        MESSAGE_WAITING_FOR_CHILDREN,
        og=3,
        created=T0,
        lut=T9,
        ltt=T8,
    ),
    LKR_9C,
    S9B[2],
    successful("dns", TRUE, og=3, created=T0, lut=T10, ltt=T2),
)
S9D = (
    rec(TRUE, RECONCILED_ALL, MESSAGE_RECONCILED_ALL, og=3, created=T0, lut=T9, ltt=T9),
    *S9C_CHILDREN[1:],
)

# 9e. A Finalized=True row at the old generation 2 never counts toward gen 3.
R9E = (report("validation", 3, T9, finalized=TRUE), report("dns", 2, T7, finalized=TRUE))


WORKED_EXAMPLES = [
    pytest.param(Step(1, T0, (), (), S1), id="ex1-create"),
    pytest.param(Step(1, T0, R2, S1, S2), id="ex2-validation-true-og1"),
    pytest.param(Step(1, T0, R3, S2, S3), id="ex3-dns-true-og1-reconciled"),
    pytest.param(Step(2, T3, R3, S3, S4), id="ex4-patch-bumps-to-gen2"),
    pytest.param(Step(2, T3, R5, S4, S5), id="ex5-validation-false-og2-lkr-sticky"),
    pytest.param(Step(2, T3, R6, S5, S6), id="ex6-dns-false-at-tracked-gen-breaks-lkr"),
    pytest.param(Step(2, T3, R7A, S5, S7A), id="ex7a-validation-true-og2-mixed-sticky"),
    pytest.param(Step(2, T3, R7B, S7A, S7B), id="ex7b-dns-true-og2-reconciled"),
    # 204s (stale og1, future og3, Unknown after first) store nothing: recompute is a no-op.
    pytest.param(Step(2, T3, R7B, S7B, S7B), id="ex8-discarded-reports-change-nothing"),
    pytest.param(Step(3, T8, R7B, S7B, S9, is_deleting=True), id="ex9-delete-bumps-to-gen3"),
    pytest.param(Step(3, T8, R9B, S9, S9B, is_deleting=True), id="ex9b-validation-finalized-og3"),
    pytest.param(
        Step(3, T8, R9C, S9B, S9C_CHILDREN, is_deleting=True, has_active_children=True),
        id="ex9c-all-finalized-children-remain",
    ),
    pytest.param(Step(3, T8, R9C, S9B, S9D, is_deleting=True), id="ex9d-all-finalized"),
    pytest.param(
        Step(3, T8, R9E, S9, S9B, is_deleting=True),
        id="ex9e-finalized-at-old-generation-never-counts",
    ),
]


@pytest.mark.parametrize("step", WORKED_EXAMPLES)
def test_worked_example(step: Step) -> None:
    result = step.run()

    assert [c.type for c in result] == [c.type for c in step.expected]
    for got, want in zip(result, step.expected, strict=True):
        assert got == want, got.type


def test_worked_examples_chain_through_their_own_output() -> None:
    """Feeding each step's actual output to the next reproduces the whole 1-5, 7, 9 story."""
    story = [
        (1, T0, (), S1, False),
        (1, T0, R2, S2, False),
        (1, T0, R3, S3, False),
        (2, T3, R3, S4, False),
        (2, T3, R5, S5, False),
        (2, T3, R7A, S7A, False),
        (2, T3, R7B, S7B, False),
        (3, T8, R7B, S9, True),
        (3, T8, R9B, S9B, True),
        (3, T8, R9C, S9D, True),
    ]
    conditions: tuple[ResourceCondition, ...] = ()
    for generation, ref_time, reports, expected, is_deleting in story:
        conditions = aggregate(
            generation=generation,
            required_adapters=REQUIRED,
            reports=reports,
            previous=conditions,
            ref_time=ref_time,
            is_deleting=is_deleting,
            has_active_children=False,
        )
        assert conditions == expected


def test_vocabulary_matches_the_reference() -> None:
    """Types, reasons and the messages the spec quotes are the observable contract."""
    assert [t.value for t in ConditionType] == ["Reconciled", "LastKnownReconciled"]
    assert {r.value for r in Reason} == {
        "ReconciledAll",
        "ReconciledMissingAdapters",
        "ReconciledWaitingForChildren",
        "AllAdaptersReconciled",
        "AdaptersMissingReports",
        "AdapterReportedNotAvailable",
        "AdaptersNotAtSameGeneration",
    }
    assert MESSAGE_RECONCILED_ALL == (
        "All required adapters reported Available=True or Finalized=True at the current generation"
    )
    assert MESSAGE_ADAPTERS_MISSING_REPORTS == "Required adapters have not yet reported status"
    assert MESSAGE_ALL_ADAPTERS_RECONCILED == (
        "All required adapters report Available=True for the tracked generation"
    )
    assert S1[0].message == (
        "Required adapters not reporting Available=True: [dns, validation]. Currently reporting: []"
    )


def test_initial_conditions_match_example_1() -> None:
    assert initial_conditions(generation=1, required_adapters=REQUIRED, ref_time=T0) == S1


# --- edge cases ---------------------------------------------------------------------------------

ZERO_REC = rec(FALSE, MISSING_ADAPTERS, missing("", ""), og=1, created=T0, lut=T0, ltt=T0)
ZERO_LKR = lkr(
    FALSE, MISSING_REPORTS, MESSAGE_ADAPTERS_MISSING_REPORTS, og=1, created=T0, lut=T0, ltt=T0
)
ZERO_REC_DELETING = rec(
    FALSE,
    MISSING_ADAPTERS,
    missing("", "", signal="Finalized=True"),
    og=2,
    created=T0,
    lut=T0,
    ltt=T0,
)

# A True -> False flip without a generation bump transitions at the new last_updated_time.
R_FLIP = (report("validation", 1, T4), report("dns", 1, T5, available=FALSE))
S_FLIP = (
    rec(
        FALSE, MISSING_ADAPTERS, missing("dns", "dns, validation"), og=1, created=T0, lut=T4, ltt=T4
    ),
    lkr(
        FALSE,
        NOT_AVAILABLE,
        MESSAGE_ADAPTER_REPORTED_NOT_AVAILABLE,
        og=1,
        created=T0,
        lut=T4,
        ltt=T4,
    ),
    successful("validation", TRUE, og=1, created=T0, lut=T4, ltt=T1),
    successful("dns", FALSE, og=1, created=T0, lut=T5, ltt=T5),
)

# All True but at different generations, with no sticky True to keep.
R_MIXED = (report("validation", 2, T4), report("dns", 1, T2))
S_MIXED = (
    rec(
        FALSE, MISSING_ADAPTERS, missing("dns", "dns, validation"), og=2, created=T3, lut=T4, ltt=T4
    ),
    lkr(
        FALSE,
        Reason.ADAPTERS_NOT_AT_SAME_GENERATION,
        MESSAGE_ADAPTERS_NOT_AT_SAME_GENERATION,
        og=2,
        created=T3,
        lut=T3,
        ltt=T3,
    ),
    successful("validation", TRUE, og=2, created=T3, lut=T4, ltt=T4),
    successful("dns", TRUE, og=1, created=T3, lut=T2, ltt=T2),
)

# Deleting: Finalized decides Reconciled, Available still decides LastKnownReconciled.
R_FINALIZED_NOT_AVAILABLE = (
    report("validation", 2, T4, available=FALSE, finalized=TRUE),
    report("dns", 2, T5, finalized=TRUE),
)
S_FINALIZED_NOT_AVAILABLE = (
    rec(TRUE, RECONCILED_ALL, MESSAGE_RECONCILED_ALL, og=2, created=T3, lut=T4, ltt=T4),
    lkr(
        FALSE,
        NOT_AVAILABLE,
        MESSAGE_ADAPTER_REPORTED_NOT_AVAILABLE,
        og=2,
        created=T3,
        lut=T4,
        ltt=T4,
    ),
    successful("validation", FALSE, og=2, created=T3, lut=T4, ltt=T4),
    successful("dns", TRUE, og=2, created=T3, lut=T5, ltt=T5),
)
R_AVAILABLE_NOT_FINALIZED = (
    report("validation", 2, T4, finalized=FALSE),
    report("dns", 2, T5),
)
S_AVAILABLE_NOT_FINALIZED = (
    rec(
        FALSE,
        MISSING_ADAPTERS,
        missing("dns, validation", "dns, validation", signal="Finalized=True"),
        og=2,
        created=T3,
        lut=T4,
        ltt=T4,
    ),
    lkr(TRUE, ALL_RECONCILED, MESSAGE_ALL_ADAPTERS_RECONCILED, og=2, created=T3, lut=T4, ltt=T4),
    successful("validation", TRUE, og=2, created=T3, lut=T4, ltt=T4),
    successful("dns", TRUE, og=2, created=T3, lut=T5, ltt=T5),
)
R_ALL_FINALIZED = (
    report("validation", 2, T4, finalized=TRUE),
    report("dns", 2, T5, finalized=TRUE),
)
S_WAITING_FOR_CHILDREN = (
    rec(
        FALSE,
        Reason.RECONCILED_WAITING_FOR_CHILDREN,
        MESSAGE_WAITING_FOR_CHILDREN,
        og=2,
        created=T3,
        lut=T4,
        ltt=T4,
    ),
    *S_AVAILABLE_NOT_FINALIZED[1:],
)

EDGE_CASES = [
    pytest.param(
        Step(1, T0, (report("validation", 1, T1),), (), (ZERO_REC, ZERO_LKR), required=()),
        id="zero-required-adapters",
    ),
    pytest.param(
        Step(4, T0, (), (), (replace(ZERO_REC, observed_generation=4), ZERO_LKR), required=()),
        id="zero-required-adapters-lkr-og-stays-1",
    ),
    pytest.param(
        Step(2, T0, (), (), (ZERO_REC_DELETING, ZERO_LKR), is_deleting=True, required=()),
        id="zero-required-adapters-deleting",
    ),
    pytest.param(
        Step(1, T0, (*R2, report("hypershift", 1, T1), report("pull-secret", 1, T1)), S1, S2),
        id="non-required-adapters-ignored",
    ),
    pytest.param(
        Step(1, T0, (report("validation", 2, T1),), S1, S1),
        id="future-generation-report-ignored",
    ),
    pytest.param(
        Step(1, T0, (report("validation", 1, T1, available=UNKNOWN),), S1, S1),
        id="unknown-available-ignored",
    ),
    pytest.param(
        Step(1, T0, (report("validation", 1, T1, with_available=False),), S1, S1),
        id="report-without-available-ignored",
    ),
    pytest.param(
        Step(1, T0, R2, S1, S2, required=("validation", "dns", "validation")),
        id="repeated-required-adapter-counts-once",
    ),
    pytest.param(
        Step(1, T0, R_FLIP, S3, S_FLIP),
        id="true-to-false-same-generation-transitions-at-new-lut",
    ),
    pytest.param(
        # As example 5, but recomputed straight from the gen-1 True state: the flip dates from
        # the bump (ref_time T3), not from the first report at gen 2 (T4).
        Step(2, T3, R5, S3, S5),
        id="true-to-false-with-generation-bump-transitions-at-ref-time",
    ),
    pytest.param(Step(2, T3, R_MIXED, (), S_MIXED), id="all-true-mixed-generations-no-prev"),
    pytest.param(
        Step(2, T3, R_FINALIZED_NOT_AVAILABLE, (), S_FINALIZED_NOT_AVAILABLE, is_deleting=True),
        id="deleting-counts-finalized-not-available",
    ),
    pytest.param(
        Step(2, T3, R_AVAILABLE_NOT_FINALIZED, (), S_AVAILABLE_NOT_FINALIZED, is_deleting=True),
        id="deleting-available-without-finalized-is-not-reconciled",
    ),
    pytest.param(
        Step(
            2,
            T3,
            R_ALL_FINALIZED,
            (),
            S_WAITING_FOR_CHILDREN,
            is_deleting=True,
            has_active_children=True,
        ),
        id="deleting-with-active-children-waits",
    ),
    pytest.param(
        Step(2, T3, R_MIXED, (), S_MIXED, has_active_children=True),
        id="active-children-ignored-when-not-deleting",
    ),
]


@pytest.mark.parametrize("step", EDGE_CASES)
def test_edge_case(step: Step) -> None:
    result = step.run()

    assert [c.type for c in result] == [c.type for c in step.expected]
    for got, want in zip(result, step.expected, strict=True):
        assert got == want, got.type


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [
        ("validation", "ValidationSuccessful"),
        ("dns", "DnsSuccessful"),
        ("my-adapter", "MyAdapterSuccessful"),
        ("multi-word-adapter", "MultiWordAdapterSuccessful"),
        ("pullsecret", "PullsecretSuccessful"),
        ("adapter1", "Adapter1Successful"),
        ("a", "ASuccessful"),
        ("DNS", "DNSSuccessful"),
        ("myAdapter", "MyAdapterSuccessful"),
        ("my--adapter-", "MyAdapterSuccessful"),
        ("1st-pass", "1stPassSuccessful"),
        ("ßtraße", "ßtraßeSuccessful"),
        ("", "Successful"),
    ],
)
def test_adapter_condition_type(adapter: str, expected: str) -> None:
    assert adapter_condition_type(adapter) == expected


def test_per_adapter_conditions_follow_config_order_and_casing() -> None:
    required = ("pull-secret", "DNS", "my-adapter")
    reports = [report(a, 1, T1) for a in reversed(required)]

    result = aggregate(
        generation=1,
        required_adapters=required,
        reports=reports,
        previous=(),
        ref_time=T0,
        is_deleting=False,
        has_active_children=False,
    )

    assert [c.type for c in result] == [
        ConditionType.RECONCILED,
        ConditionType.LAST_KNOWN_RECONCILED,
        "PullSecretSuccessful",
        "DNSSuccessful",
        "MyAdapterSuccessful",
    ]
    assert result[0].status == TRUE


def test_previous_conditions_of_other_types_are_dropped() -> None:
    stale = ResourceCondition("Ready", TRUE, "Old", None, 1, T0, T0, T0)
    result = aggregate(
        generation=1,
        required_adapters=("validation",),
        reports=R3,
        previous=(*S3, stale),
        ref_time=T0,
        is_deleting=False,
        has_active_children=False,
    )

    assert [c.type for c in result] == [
        "Reconciled",
        "LastKnownReconciled",
        "ValidationSuccessful",
    ]
    assert result[2] == S3[2]


# --- properties ---------------------------------------------------------------------------------

POOL = ("validation", "dns", "pull-secret", "hypershift")
STATUSES = st.sampled_from([TRUE, FALSE, UNKNOWN])


@st.composite
def stored_reports(draw: st.DrawFn, generation: int) -> tuple[AdapterReport, ...]:
    """At most one stored row per adapter (the table's key), in any order."""
    rows = []
    for adapter in (*POOL, "not-required"):
        if not draw(st.booleans()):
            continue
        rows.append(
            report(
                adapter,
                draw(st.integers(1, generation + 1)),
                BASE + timedelta(minutes=draw(st.integers(0, 60))),
                available=draw(STATUSES),
                finalized=draw(st.none() | STATUSES),
                with_available=draw(st.integers(0, 9)) > 0,
            )
        )
    return tuple(draw(st.permutations(rows)))


@dataclass(frozen=True)
class Inputs:
    generation: int
    required: tuple[str, ...]
    reports: tuple[AdapterReport, ...]
    previous: tuple[ResourceCondition, ...]
    ref_time: datetime
    is_deleting: bool
    has_active_children: bool

    def run(self) -> tuple[ResourceCondition, ...]:
        return aggregate(
            generation=self.generation,
            required_adapters=self.required,
            reports=self.reports,
            previous=self.previous,
            ref_time=self.ref_time,
            is_deleting=self.is_deleting,
            has_active_children=self.has_active_children,
        )


@st.composite
def aggregation_inputs(draw: st.DrawFn) -> Inputs:
    generation = draw(st.integers(1, 5))
    required = tuple(draw(st.lists(st.sampled_from(POOL), unique=True, max_size=len(POOL))))
    previous: tuple[ResourceCondition, ...] = ()
    if draw(st.booleans()):
        # A realistic previous state: the output of an earlier aggregation of this resource.
        previous_generation = draw(st.integers(1, generation))
        previous = Inputs(
            generation=previous_generation,
            required=required,
            reports=draw(stored_reports(previous_generation)),
            previous=(),
            ref_time=BASE + timedelta(minutes=draw(st.integers(0, 60))),
            is_deleting=draw(st.booleans()),
            has_active_children=draw(st.booleans()),
        ).run()
    return Inputs(
        generation=generation,
        required=required,
        reports=draw(stored_reports(generation)),
        previous=previous,
        ref_time=BASE + timedelta(minutes=draw(st.integers(0, 60))),
        is_deleting=draw(st.booleans()),
        has_active_children=draw(st.booleans()),
    )


@given(aggregation_inputs())
def test_aggregate_invariants(inputs: Inputs) -> None:
    result = inputs.run()

    assert all(c.status in {TRUE, FALSE} for c in result)
    assert [c.type for c in result[:2]] == ["Reconciled", "LastKnownReconciled"]
    assert result[0].observed_generation == inputs.generation
    config_order = [adapter_condition_type(a) for a in inputs.required]
    per_adapter = [c.type for c in result[2:]]
    assert per_adapter == [t for t in config_order if t in per_adapter]

    # Deterministic: equal inputs, equal output; the order of the stored rows does not matter.
    assert inputs.run() == result
    assert replace(inputs, reports=inputs.reports[::-1]).run() == result


@given(aggregation_inputs())
def test_aggregate_reads_no_clock(inputs: Inputs) -> None:
    """Every timestamp in the output comes from the inputs."""
    known = {inputs.ref_time} | {r.last_report_time for r in inputs.reports}
    known |= {
        t
        for c in inputs.previous
        for t in (c.created_time, c.last_updated_time, c.last_transition_time)
    }

    for c in inputs.run():
        assert {c.created_time, c.last_updated_time, c.last_transition_time} <= known
