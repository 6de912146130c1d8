"""Generation policy (post-MVP §3.2): every cell of the strict / discard / lenient table.

| Incoming report                  | strict | discard (reference)                    | lenient          |
|----------------------------------|--------|----------------------------------------|------------------|
| observed_generation < 1          | 400    | 400                                    | 400              |
| > resource.generation            | 409    | 204, not stored                        | stored + warning |
| < resource.generation            | 409    | 204 if < adapter's stored gen, else stored | stored + warning |
| same gen, observed_time older    | 409    | 204                                    | stored           |

409 = GenerationConflict, HYPERFLEET-CNF-004, extensions current_generation (the resource's) and
observed_generation (the report's). Plus: an equal-time re-send is UNCHANGED, and under
strict/lenient a later Available=Unknown report at the adapter's stored generation is discarded
while at a newer generation it is stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    ConditionStatus,
    GenerationPolicy,
)
from hyperfleet.domain.reports import (
    IncomingReport,
    Judgement,
    ReportedCondition,
    Verdict,
    judge,
    judge_with_policy,
    parse_report,
)
from hyperfleet.errors import Conflict, GenerationConflict, ValidationFailed

TRUE = ConditionStatus.TRUE
UNKNOWN = ConditionStatus.UNKNOWN

STRICT = GenerationPolicy.STRICT
DISCARD = GenerationPolicy.DISCARD
LENIENT = GenerationPolicy.LENIENT

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0, T1, T2 = (NOW - timedelta(minutes=10) + timedelta(minutes=i) for i in range(3))

CONFLICT = "409"


def incoming(generation: int, at: datetime, available: ConditionStatus = TRUE) -> IncomingReport:
    return IncomingReport(
        adapter="dns",
        observed_generation=generation,
        observed_time=at,
        conditions=(
            ReportedCondition("Available", available, None, None),
            ReportedCondition("Applied", TRUE, None, None),
            ReportedCondition("Health", TRUE, None, None),
        ),
        data=None,
        metadata=None,
    )


def stored(generation: int, at: datetime) -> AdapterReport:
    return AdapterReport(
        adapter="dns",
        observed_generation=generation,
        conditions=(AdapterCondition("Available", TRUE, None, None, at),),
        created_time=at,
        last_report_time=at,
    )


def test_default_policy_is_strict() -> None:
    from hyperfleet.domain.model import EntityDescriptor

    assert EntityDescriptor(kind="X", plural="xs").generation_policy is STRICT


# (policy, resource generation, stored (generation, time) | None, report (generation, time),
#  expected Verdict or CONFLICT)
TABLE: list[Any] = [
    # --- observed_generation > resource.generation -------------------------------------------
    pytest.param(STRICT, 2, None, (3, T1), CONFLICT, id="strict-ahead-no-stored"),
    pytest.param(STRICT, 2, (2, T0), (3, T1), CONFLICT, id="strict-ahead-with-stored"),
    pytest.param(DISCARD, 2, None, (3, T1), Verdict.DISCARD, id="discard-ahead-no-stored"),
    pytest.param(DISCARD, 2, (2, T0), (3, T1), Verdict.DISCARD, id="discard-ahead-with-stored"),
    pytest.param(LENIENT, 2, None, (3, T1), Verdict.STORE, id="lenient-ahead-no-stored"),
    pytest.param(LENIENT, 2, (2, T0), (3, T1), Verdict.STORE, id="lenient-ahead-with-stored"),
    # --- observed_generation < resource.generation -------------------------------------------
    pytest.param(STRICT, 3, None, (2, T1), CONFLICT, id="strict-behind-no-stored"),
    pytest.param(STRICT, 3, (1, T0), (2, T1), CONFLICT, id="strict-behind-newer-than-stored"),
    pytest.param(STRICT, 3, (2, T0), (2, T1), CONFLICT, id="strict-behind-equal-to-stored"),
    pytest.param(STRICT, 3, (3, T0), (2, T1), CONFLICT, id="strict-behind-older-than-stored"),
    pytest.param(DISCARD, 3, None, (2, T1), Verdict.STORE, id="discard-behind-no-stored"),
    pytest.param(
        DISCARD, 3, (1, T0), (2, T1), Verdict.STORE, id="discard-behind-newer-than-stored"
    ),
    pytest.param(DISCARD, 3, (2, T0), (2, T1), Verdict.STORE, id="discard-behind-equal-to-stored"),
    pytest.param(
        DISCARD, 3, (3, T0), (2, T1), Verdict.DISCARD, id="discard-behind-older-than-stored"
    ),
    pytest.param(LENIENT, 3, None, (2, T1), Verdict.STORE, id="lenient-behind-no-stored"),
    pytest.param(
        LENIENT, 3, (1, T0), (2, T1), Verdict.STORE, id="lenient-behind-newer-than-stored"
    ),
    pytest.param(LENIENT, 3, (2, T0), (2, T1), Verdict.STORE, id="lenient-behind-equal-to-stored"),
    pytest.param(
        LENIENT, 3, (3, T0), (2, T1), Verdict.STORE, id="lenient-behind-older-than-stored"
    ),
    # --- same generation, observed_time older than stored ------------------------------------
    pytest.param(STRICT, 2, (2, T1), (2, T0), CONFLICT, id="strict-same-gen-older-time"),
    pytest.param(DISCARD, 2, (2, T1), (2, T0), Verdict.DISCARD, id="discard-same-gen-older-time"),
    pytest.param(LENIENT, 2, (2, T1), (2, T0), Verdict.STORE, id="lenient-same-gen-older-time"),
    # --- the accepted path -------------------------------------------------------------------
    pytest.param(STRICT, 2, None, (2, T1), Verdict.STORE, id="strict-first-report"),
    pytest.param(DISCARD, 2, None, (2, T1), Verdict.STORE, id="discard-first-report"),
    pytest.param(LENIENT, 2, None, (2, T1), Verdict.STORE, id="lenient-first-report"),
    pytest.param(STRICT, 2, (2, T0), (2, T1), Verdict.STORE, id="strict-same-gen-newer-time"),
    pytest.param(DISCARD, 2, (2, T0), (2, T1), Verdict.STORE, id="discard-same-gen-newer-time"),
    pytest.param(LENIENT, 2, (2, T0), (2, T1), Verdict.STORE, id="lenient-same-gen-newer-time"),
    pytest.param(STRICT, 2, (1, T1), (2, T0), Verdict.STORE, id="strict-newer-gen-older-time"),
    pytest.param(DISCARD, 2, (1, T1), (2, T0), Verdict.STORE, id="discard-newer-gen-older-time"),
    pytest.param(LENIENT, 2, (1, T1), (2, T0), Verdict.STORE, id="lenient-newer-gen-older-time"),
    # --- equal-time re-send ------------------------------------------------------------------
    pytest.param(STRICT, 2, (2, T1), (2, T1), Verdict.UNCHANGED, id="strict-resend"),
    pytest.param(DISCARD, 2, (2, T1), (2, T1), Verdict.UNCHANGED, id="discard-resend"),
    pytest.param(LENIENT, 2, (2, T1), (2, T1), Verdict.UNCHANGED, id="lenient-resend"),
    pytest.param(LENIENT, 3, (2, T1), (2, T1), Verdict.UNCHANGED, id="lenient-resend-behind"),
]


def _run(
    policy: GenerationPolicy,
    generation: int,
    stored_at: tuple[int, datetime] | None,
    report_at: tuple[int, datetime],
    available: ConditionStatus = TRUE,
) -> Judgement:
    return judge_with_policy(
        incoming(*report_at, available=available),
        policy=policy,
        resource_generation=generation,
        stored=stored(*stored_at) if stored_at is not None else None,
    )


@pytest.mark.parametrize(("policy", "generation", "stored_at", "report_at", "expected"), TABLE)
def test_generation_policy_table(
    policy: GenerationPolicy,
    generation: int,
    stored_at: tuple[int, datetime] | None,
    report_at: tuple[int, datetime],
    expected: Verdict | str,
) -> None:
    if expected == CONFLICT:
        with pytest.raises(GenerationConflict) as info:
            _run(policy, generation, stored_at, report_at)
        err = info.value
        assert isinstance(err, Conflict)
        assert err.code == "HYPERFLEET-CNF-004"
        assert err.http_status == 409
        assert err.extensions == {
            "current_generation": generation,
            "observed_generation": report_at[0],
        }
        assert err.detail
    else:
        assert _run(policy, generation, stored_at, report_at).verdict is expected


@pytest.mark.parametrize(
    ("generation", "stored_at", "report_at"),
    [
        pytest.param(2, None, (2, T1), id="first-report"),
        pytest.param(2, (2, T0), (2, T1), id="newer"),
        pytest.param(2, (2, T1), (2, T0), id="older-time"),
        pytest.param(2, (2, T1), (2, T1), id="resend"),
        pytest.param(2, (2, T0), (3, T1), id="ahead"),
        pytest.param(3, (1, T0), (2, T1), id="behind-newer-than-stored"),
        pytest.param(3, (3, T0), (2, T1), id="behind-older-than-stored"),
    ],
)
@pytest.mark.parametrize("available", [TRUE, ConditionStatus.FALSE, UNKNOWN])
def test_discard_policy_is_exactly_the_reference_judge(
    generation: int,
    stored_at: tuple[int, datetime] | None,
    report_at: tuple[int, datetime],
    available: ConditionStatus,
) -> None:
    report = incoming(*report_at, available=available)
    row = stored(*stored_at) if stored_at is not None else None
    judgement = judge_with_policy(
        report, policy=DISCARD, resource_generation=generation, stored=row
    )
    assert judgement.verdict is judge(report, resource_generation=generation, stored=row)
    assert judgement.warning is None


@pytest.mark.parametrize(
    ("generation", "stored_at", "report_at", "side"),
    [
        pytest.param(2, None, (3, T1), "ahead", id="ahead-no-stored"),
        pytest.param(2, (2, T0), (7, T1), "ahead", id="ahead-with-stored"),
        pytest.param(5, None, (2, T1), "behind", id="behind-no-stored"),
        pytest.param(5, (1, T0), (2, T1), "behind", id="behind-newer-than-stored"),
        pytest.param(5, (4, T0), (2, T1), "behind", id="behind-older-than-stored"),
    ],
)
def test_lenient_mismatch_is_stored_with_a_warning_naming_both_generations(
    generation: int,
    stored_at: tuple[int, datetime] | None,
    report_at: tuple[int, datetime],
    side: str,
) -> None:
    judgement = _run(LENIENT, generation, stored_at, report_at)
    assert judgement.verdict is Verdict.STORE
    assert judgement.warning is not None
    assert re.search(rf"\b{report_at[0]}\b", judgement.warning)
    assert re.search(rf"\b{generation}\b", judgement.warning)
    assert side in judgement.warning


@pytest.mark.parametrize(
    "policy", [pytest.param(STRICT, id="strict"), pytest.param(LENIENT, id="lenient")]
)
def test_matching_generation_carries_no_warning(policy: GenerationPolicy) -> None:
    assert _run(policy, 2, (2, T0), (2, T1)).warning is None
    assert _run(policy, 2, None, (2, T1)).warning is None


@pytest.mark.parametrize("generation", [0, -1], ids=["zero", "negative"])
def test_observed_generation_below_one_is_400_under_every_policy(generation: int) -> None:
    """The 400 row is the same for all three policies: `parse_report` rejects the body before
    any policy is consulted (it takes no policy)."""
    body = {
        "adapter": "dns",
        "observed_generation": generation,
        "observed_time": "2026-03-01T12:00:00Z",
        "conditions": [
            {"type": "Available", "status": "True"},
            {"type": "Applied", "status": "True"},
            {"type": "Health", "status": "True"},
        ],
    }
    with pytest.raises(ValidationFailed) as info:
        parse_report(body, now=NOW)
    assert info.value.code == "HYPERFLEET-VAL-000"
    assert [v.field for v in info.value.violations] == ["observed_generation"]


# Available=Unknown: under strict/lenient, discarded at the adapter's stored generation (it
# carries no news and would erase known state), stored at a newer generation.
UNKNOWN_TABLE = [
    pytest.param(STRICT, 2, (2, T0), (2, T1), Verdict.DISCARD, id="strict-at-stored-gen"),
    pytest.param(STRICT, 2, (1, T0), (2, T1), Verdict.STORE, id="strict-newer-gen"),
    pytest.param(STRICT, 2, None, (2, T1), Verdict.STORE, id="strict-first-report"),
    pytest.param(LENIENT, 2, (2, T0), (2, T1), Verdict.DISCARD, id="lenient-at-stored-gen"),
    pytest.param(LENIENT, 2, (1, T0), (2, T1), Verdict.STORE, id="lenient-newer-gen"),
    pytest.param(LENIENT, 2, None, (2, T1), Verdict.STORE, id="lenient-first-report"),
    pytest.param(
        LENIENT, 3, (2, T0), (2, T1), Verdict.DISCARD, id="lenient-at-stored-gen-behind-resource"
    ),
    pytest.param(
        LENIENT, 3, (1, T0), (2, T1), Verdict.STORE, id="lenient-newer-gen-behind-resource"
    ),
    pytest.param(LENIENT, 2, (3, T0), (3, T1), Verdict.DISCARD, id="lenient-at-stored-future-gen"),
    # The reference discards any later Unknown once a row exists, whatever the generation.
    pytest.param(DISCARD, 2, (2, T0), (2, T1), Verdict.DISCARD, id="discard-at-stored-gen"),
    pytest.param(DISCARD, 2, (1, T0), (2, T1), Verdict.DISCARD, id="discard-newer-gen"),
    pytest.param(DISCARD, 2, None, (2, T1), Verdict.STORE, id="discard-first-report"),
]


@pytest.mark.parametrize(
    ("policy", "generation", "stored_at", "report_at", "expected"), UNKNOWN_TABLE
)
def test_available_unknown_rule(
    policy: GenerationPolicy,
    generation: int,
    stored_at: tuple[int, datetime] | None,
    report_at: tuple[int, datetime],
    expected: Verdict,
) -> None:
    judgement = _run(policy, generation, stored_at, report_at, available=UNKNOWN)
    assert judgement.verdict is expected


@pytest.mark.parametrize(
    ("generation", "stored_at", "report_at"),
    [
        pytest.param(2, (2, T0), (3, T1), id="ahead"),
        pytest.param(3, (2, T0), (2, T1), id="behind"),
        pytest.param(2, (2, T1), (2, T0), id="older-time"),
    ],
)
def test_strict_conflict_wins_over_the_unknown_rule(
    generation: int, stored_at: tuple[int, datetime], report_at: tuple[int, datetime]
) -> None:
    with pytest.raises(GenerationConflict):
        _run(STRICT, generation, stored_at, report_at, available=UNKNOWN)
