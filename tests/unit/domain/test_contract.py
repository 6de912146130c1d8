"""Adapter contract validation (post-MVP §3.3) and the optional `state` / `ready` fields (§3).

Every problem becomes one Violation naming its field; `check_contract` raises all of them
together as 400 HYPERFLEET-VAL-000.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hyperfleet.domain.contract import check_contract, contract_violations
from hyperfleet.domain.model import AdapterRules, ConditionStatus, ReasonFormat
from hyperfleet.domain.reports import IncomingReport, ReportedCondition
from hyperfleet.errors import ValidationFailed, Violation

T = ConditionStatus.TRUE
F = ConditionStatus.FALSE
U = ConditionStatus.UNKNOWN

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CAMEL = ReasonFormat.CAMEL_CASE
FREE = ReasonFormat.FREE
DECLARED = ("validation", "dns")


def cond(type_: str, status: ConditionStatus = T, reason: str | None = None, message=None):
    return ReportedCondition(type_, status, reason, message)


def report(
    *conditions: ReportedCondition,
    adapter: str = "validation",
    data: dict[str, Any] | None = None,
) -> IncomingReport:
    if not conditions:
        conditions = (cond("Available"), cond("Applied"), cond("Health"))
    return IncomingReport(
        adapter=adapter,
        observed_generation=1,
        observed_time=AT,
        conditions=tuple(conditions),
        data=data,
        metadata=None,
    )


def violations(
    rep: IncomingReport,
    body: dict[str, Any] | None = None,
    *,
    rules: AdapterRules | None = None,
    reason_format: ReasonFormat = CAMEL,
    strict_adapters: bool = False,
) -> list[Violation]:
    return contract_violations(
        rep,
        body or {},
        rules=rules,
        reason_format=reason_format,
        declared_adapters=DECLARED,
        strict_adapters=strict_adapters,
    )


def fields(problems: list[Violation]) -> list[str]:
    return [p.field for p in problems]


# --- reason ---------------------------------------------------------------------------------------

REASON_TABLE = [
    pytest.param("Ready", CAMEL, [], id="camel-simple"),
    pytest.param("ValidationSucceeded", CAMEL, [], id="camel-compound"),
    pytest.param("A", CAMEL, [], id="camel-single-letter"),
    pytest.param("Http2Ready", CAMEL, [], id="camel-with-digits"),
    pytest.param("R" + "x" * 127, CAMEL, [], id="camel-exactly-128"),
    pytest.param("R" + "x" * 128, CAMEL, ["max_length"], id="camel-129-too-long"),
    pytest.param("ready", CAMEL, ["pattern"], id="camel-lowercase-start"),
    pytest.param("1Ready", CAMEL, ["pattern"], id="camel-digit-start"),
    pytest.param("Not_Ready", CAMEL, ["pattern"], id="camel-underscore"),
    pytest.param("Not Ready", CAMEL, ["pattern"], id="camel-space"),
    pytest.param("All good; done", CAMEL, ["pattern"], id="camel-sentence"),
    pytest.param("Ready\n", CAMEL, ["pattern"], id="camel-trailing-newline"),
    pytest.param("", CAMEL, ["pattern"], id="camel-empty"),
    pytest.param("Ready-Now", CAMEL, ["pattern"], id="camel-dash"),
    pytest.param("All good; done", FREE, [], id="free-sentence"),
    pytest.param("lower case is fine", FREE, [], id="free-lowercase"),
    pytest.param("x" * 128, FREE, [], id="free-exactly-128"),
    pytest.param("x" * 129, FREE, ["max_length"], id="free-129-too-long"),
]


@pytest.mark.parametrize(("reason", "reason_format", "constraints"), REASON_TABLE)
def test_reason_format_and_length(
    reason: str, reason_format: ReasonFormat, constraints: list[str]
) -> None:
    rep = report(cond("Available", T, reason), cond("Applied"), cond("Health"))
    problems = violations(rep, reason_format=reason_format)
    assert [p.constraint for p in problems] == constraints
    assert fields(problems) == ["conditions[0].reason"] * len(constraints)


def test_absent_reason_is_fine() -> None:
    assert violations(report()) == []


ENUM_RULES = AdapterRules(
    reasons={
        "Available": ("ValidationSucceeded", "ValidationFailed", "Progressing"),
        "Health": ("Healthy",),
    }
)

ENUM_TABLE = [
    pytest.param("Available", "ValidationSucceeded", CAMEL, [], id="available-allowed"),
    pytest.param("Available", "Progressing", CAMEL, [], id="available-allowed-2"),
    pytest.param("Available", "Ready", CAMEL, ["enum"], id="available-not-allowed"),
    pytest.param("Health", "Healthy", CAMEL, [], id="health-allowed"),
    pytest.param("Health", "ValidationSucceeded", CAMEL, ["enum"], id="other-types-enum-applies"),
    pytest.param("Applied", "Anything", CAMEL, [], id="type-without-enum-unrestricted"),
    pytest.param(
        "Available", "validation succeeded", FREE, ["enum"], id="free-format-still-enum-checked"
    ),
    pytest.param("Available", "ValidationFailed", FREE, [], id="free-format-allowed"),
    pytest.param(
        "Available", "bad reason", CAMEL, ["pattern", "enum"], id="pattern-and-enum-both-reported"
    ),
]


@pytest.mark.parametrize(("type_", "reason", "reason_format", "constraints"), ENUM_TABLE)
def test_reason_enum_per_condition_type(
    type_: str, reason: str, reason_format: ReasonFormat, constraints: list[str]
) -> None:
    others = [c for c in ("Available", "Applied", "Health") if c != type_]
    rep = report(cond(type_, T, reason), *(cond(o) for o in others))
    problems = violations(rep, rules=ENUM_RULES, reason_format=reason_format)
    assert [p.constraint for p in problems] == constraints
    assert set(fields(problems)) <= {"conditions[0].reason"}


def test_reason_enum_is_per_adapter() -> None:
    """Rules are the reporting adapter's; another adapter (no rules) is unrestricted."""
    rep = report(cond("Available", T, "Ready"), cond("Applied"), cond("Health"), adapter="dns")
    assert violations(rep, rules=None) == []
    assert fields(violations(rep, rules=ENUM_RULES)) == ["conditions[0].reason"]


def test_enum_message_lists_allowed_reasons_and_violation_carries_value() -> None:
    rep = report(cond("Available", T, "Ready"), cond("Applied"), cond("Health"))
    (problem,) = violations(rep, rules=ENUM_RULES)
    assert "ValidationSucceeded" in problem.message
    assert problem.has_value
    assert problem.value == "Ready"


# --- message ---------------------------------------------------------------------------------------

MESSAGE_TABLE = [
    pytest.param("all good", [], id="plain"),
    pytest.param("line one\nline two", [], id="newline-allowed"),
    pytest.param("col\tcol", [], id="tab-allowed"),
    pytest.param("ünïcödé ✓ 日本", [], id="unicode-allowed"),
    pytest.param("m" * 2048, [], id="exactly-2048"),
    pytest.param("m" * 2049, ["max_length"], id="2049-too-long"),
    pytest.param("windows\r\nline", ["pattern"], id="carriage-return-rejected"),
    pytest.param("bell\x07", ["pattern"], id="bell-rejected"),
    pytest.param("nul\x00", ["pattern"], id="nul-rejected"),
    pytest.param("esc\x1b[31mred", ["pattern"], id="escape-rejected"),
    pytest.param("del\x7f", ["pattern"], id="del-rejected"),
    pytest.param("vt\x0b", ["pattern"], id="vertical-tab-rejected"),
    pytest.param("ff\x0c", ["pattern"], id="form-feed-rejected"),
    # C1 control characters (Unicode category Cc, U+0080-U+009F) are control characters too;
    # U+009B is the 8-bit CSI that terminals honour like ESC [.
    pytest.param("nel\x85", ["pattern"], id="c1-next-line-rejected"),
    pytest.param("csi\x9b31mred", ["pattern"], id="c1-csi-rejected"),
]


@pytest.mark.parametrize(("message", "constraints"), MESSAGE_TABLE)
def test_message_length_and_control_characters(message: str, constraints: list[str]) -> None:
    rep = report(cond("Available"), cond("Applied", T, None, message), cond("Health"))
    problems = violations(rep)
    assert [p.constraint for p in problems] == constraints
    assert fields(problems) == ["conditions[1].message"] * len(constraints)


def test_every_condition_is_checked_and_named_by_index() -> None:
    rep = report(
        cond("Available", T, "bad reason"),
        cond("Applied", T, None, "bell\x07"),
        cond("Health", T, "x" * 200, "m" * 3000),
    )
    assert fields(violations(rep)) == [
        "conditions[0].reason",
        "conditions[1].message",
        "conditions[2].reason",
        "conditions[2].message",
    ]


# --- data against the adapter's JSON Schema ------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "checks": {"type": "integer"},
        "region": {"type": "string"},
        "nodes": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "network": {
            "type": "object",
            "properties": {"cidr": {"type": "string"}, "mtu": {"type": "integer", "maximum": 9000}},
        },
        "a/b": {"type": "integer"},
    },
    "required": ["checks"],
}
SCHEMA_RULES = AdapterRules(data_schema=SCHEMA, data_validator=Draft202012Validator(SCHEMA))

DATA_TABLE = [
    pytest.param({"checks": 3}, [], id="valid"),
    pytest.param(
        {"checks": 3, "nodes": [{"name": "a"}], "network": {"mtu": 1500}}, [], id="valid-nested"
    ),
    pytest.param({}, ["data"], id="missing-required-at-root"),
    pytest.param(None, ["data"], id="absent-data-is-validated-as-empty"),
    pytest.param({"checks": "three"}, ["data/checks"], id="wrong-type"),
    pytest.param(
        {"checks": 1, "network": {"mtu": 10000}}, ["data/network/mtu"], id="nested-property"
    ),
    pytest.param(
        {"checks": 1, "network": {"cidr": 10, "mtu": "x"}},
        ["data/network/cidr", "data/network/mtu"],
        id="two-nested-errors",
    ),
    pytest.param({"checks": 1, "nodes": [{"name": "a"}, {}]}, ["data/nodes/1"], id="array-index"),
    pytest.param({"checks": 1, "a/b": "x"}, ["data/a~1b"], id="json-pointer-escaping"),
    pytest.param(
        {"checks": "x", "region": 5, "nodes": [{}]},
        ["data/checks", "data/nodes/0", "data/region"],
        id="one-violation-per-error",
    ),
]


@pytest.mark.parametrize(("data", "expected"), DATA_TABLE)
def test_data_schema(data: dict[str, Any] | None, expected: list[str]) -> None:
    problems = violations(report(data=data), rules=SCHEMA_RULES)
    assert sorted(fields(problems)) == sorted(expected)
    assert all(p.message for p in problems)


def test_no_schema_no_data_check() -> None:
    assert violations(report(data={"anything": [1, 2]}), rules=AdapterRules()) == []


# --- strict_adapters -------------------------------------------------------------------------------

STRICT_TABLE = [
    pytest.param("validation", True, [], id="strict-declared"),
    pytest.param("dns", True, [], id="strict-declared-optional"),
    pytest.param("stranger", True, ["adapter"], id="strict-unknown-adapter"),
    pytest.param("stranger", False, [], id="lenient-unknown-adapter-accepted"),
]


@pytest.mark.parametrize(("adapter", "strict", "expected"), STRICT_TABLE)
def test_strict_adapters(adapter: str, strict: bool, expected: list[str]) -> None:
    problems = violations(report(adapter=adapter), strict_adapters=strict)
    assert fields(problems) == expected
    for p in problems:
        assert "stranger" in p.message
        assert p.value == "stranger"


# --- state and ready fields --------------------------------------------------------------------

READY_CONDS = (cond("Available"), cond("Applied"), cond("Health"))
FAILED_CONDS = (cond("Available", F, "QuotaExceeded"), cond("Applied"), cond("Health"))
PROVISIONING_CONDS = (cond("Available", F, "Progressing"), cond("Applied"), cond("Health"))
PENDING_CONDS = (cond("Available", U), cond("Applied", F), cond("Health"))

STATE_TABLE = [
    pytest.param(READY_CONDS, {"state": "Ready"}, [], id="state-agrees-ready"),
    pytest.param(FAILED_CONDS, {"state": "Failed"}, [], id="state-agrees-failed"),
    pytest.param(PROVISIONING_CONDS, {"state": "Provisioning"}, [], id="state-agrees-prov"),
    pytest.param(PENDING_CONDS, {"state": "Pending"}, [], id="state-agrees-pending"),
    pytest.param(READY_CONDS, {"state": "Failed"}, ["state"], id="state-disagrees"),
    pytest.param(FAILED_CONDS, {"state": "Provisioning"}, ["state"], id="state-disagrees-2"),
    pytest.param(READY_CONDS, {"state": "Bogus"}, ["state"], id="state-invalid-value"),
    pytest.param(READY_CONDS, {"state": "ready"}, ["state"], id="state-wrong-case"),
    pytest.param(READY_CONDS, {"state": 1}, ["state"], id="state-non-string"),
    pytest.param(READY_CONDS, {}, [], id="state-absent"),
    pytest.param(READY_CONDS, {"ready": True}, [], id="ready-agrees-true"),
    pytest.param(FAILED_CONDS, {"ready": False}, [], id="ready-agrees-false"),
    pytest.param(PENDING_CONDS, {"ready": False}, [], id="ready-agrees-false-unknown"),
    pytest.param(READY_CONDS, {"ready": False}, ["ready"], id="ready-disagrees-false"),
    pytest.param(FAILED_CONDS, {"ready": True}, ["ready"], id="ready-disagrees-true"),
    pytest.param(READY_CONDS, {"ready": "true"}, ["ready"], id="ready-string-not-bool"),
    pytest.param(READY_CONDS, {"ready": 1}, ["ready"], id="ready-int-not-bool"),
    pytest.param(
        FAILED_CONDS, {"state": "Ready", "ready": True}, ["state", "ready"], id="both-disagree"
    ),
]


@pytest.mark.parametrize(("conditions", "body", "expected"), STATE_TABLE)
def test_state_and_ready_fields(
    conditions: tuple[ReportedCondition, ...], body: dict[str, Any], expected: list[str]
) -> None:
    assert fields(violations(report(*conditions), body)) == expected


def test_state_uses_the_adapters_progressing_reasons() -> None:
    conds = (cond("Available", F, "Warming"), cond("Applied"), cond("Health"))
    rules = AdapterRules(progressing_reasons=("Warming",))
    assert violations(report(*conds), {"state": "Provisioning"}, rules=rules) == []
    assert fields(violations(report(*conds), {"state": "Provisioning"})) == ["state"]


def test_state_disagreement_names_the_derived_state() -> None:
    (problem,) = violations(report(*READY_CONDS), {"state": "Failed"})
    assert "Ready" in problem.message
    assert problem.value == "Failed"


# --- check_contract -------------------------------------------------------------------------------


def test_check_contract_raises_all_violations_at_once() -> None:
    rep = report(
        cond("Available", T, "not camel"),
        cond("Applied", T, None, "bell\x07"),
        cond("Health"),
        adapter="stranger",
        data={"checks": "x"},
    )
    with pytest.raises(ValidationFailed) as info:
        check_contract(
            rep,
            {"state": "Failed", "ready": False},
            rules=SCHEMA_RULES,
            reason_format=CAMEL,
            declared_adapters=DECLARED,
            strict_adapters=True,
        )
    err = info.value
    assert err.code == "HYPERFLEET-VAL-000"
    assert err.http_status == 400
    assert sorted(v.field for v in err.violations) == sorted(
        [
            "adapter",
            "conditions[0].reason",
            "conditions[1].message",
            "data/checks",
            "state",
            "ready",
        ]
    )


def test_check_contract_passes_silently_when_clean() -> None:
    check_contract(
        report(data={"checks": 1}),
        {"state": "Ready", "ready": True},
        rules=SCHEMA_RULES,
        reason_format=CAMEL,
        declared_adapters=DECLARED,
        strict_adapters=True,
    )


@pytest.mark.parametrize("claimed", [{}, [], {"a": 1}, 3])
def test_state_of_a_non_string_type_is_a_violation_not_a_crash(claimed):
    """Regression: an unhashable `state` crashed the set membership test."""
    from hyperfleet.domain.model import ConditionStatus
    from hyperfleet.domain.reports import IncomingReport, ReportedCondition

    report = IncomingReport(
        adapter="dns",
        observed_generation=1,
        observed_time=datetime(2026, 1, 1, tzinfo=UTC),
        conditions=(ReportedCondition("Available", ConditionStatus.TRUE, None, None),),
        data=None,
        metadata=None,
    )
    problems = contract_violations(
        report,
        {"state": claimed},
        rules=None,
        reason_format=ReasonFormat.CAMEL_CASE,
        declared_adapters=(),
        strict_adapters=False,
    )
    assert [p.field for p in problems] == ["state"]
