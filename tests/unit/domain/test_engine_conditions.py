"""Post-MVP resource conditions (§4.3): AllAdaptersReady, ValidationPassed, configured CEL
conditions, Kubernetes time rules and output order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import cel
import pytest

from hyperfleet.domain.adapter_state import AdapterState
from hyperfleet.domain.engine_conditions import (
    MESSAGE_LIMIT,
    REASON_LIMIT,
    all_adapters_ready,
    engine_conditions,
    evaluate_configured,
    is_reserved_type,
    validation_passed,
)
from hyperfleet.domain.model import ConditionStatus, ConfiguredCondition, ResourceCondition
from hyperfleet.domain.phases import AdapterView

TRUE = ConditionStatus.TRUE
FALSE = ConditionStatus.FALSE

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0, T1, T2, T3 = (BASE + timedelta(minutes=i) for i in range(4))

RDY = AdapterState.READY
FLD = AdapterState.FAILED
PRV = AdapterState.PROVISIONING
PND = AdapterState.PENDING
UNH = AdapterState.UNHEALTHY
GEN = 2


def view(name: str, state: AdapterState, gen: int = GEN, message: str | None = None) -> AdapterView:
    return AdapterView(
        adapter=name,
        state=state,
        observed_generation=gen,
        last_report_time=T0,
        available_reason=None,
        available_message=message,
    )


def views(*items: AdapterView) -> dict[str, AdapterView]:
    return {v.adapter: v for v in items}


def rule(type_: str, status: str, reason: str | None = None, message: str | None = None):
    return ConfiguredCondition(
        type=type_,
        status_expr=status,
        reason_expr=reason,
        message_expr=message,
        status=cel.compile(status),
        reason=cel.compile(reason) if reason is not None else None,
        message=cel.compile(message) if message is not None else None,
    )


# --- AllAdaptersReady: required AND optional adapters, at the current generation ----------------

ALL = ("validation", "dns", "monitoring")  # required validation, dns; optional monitoring

ALL_READY_TABLE = [
    pytest.param(
        views(view("validation", RDY), view("dns", RDY), view("monitoring", RDY)),
        TRUE,
        "AllAdaptersReady",
        (),
        id="all-ready",
    ),
    pytest.param(
        views(view("validation", RDY), view("dns", RDY)),
        FALSE,
        "AdaptersNotReady",
        ("monitoring",),
        id="optional-adapter-missing",
    ),
    pytest.param(
        views(view("validation", RDY), view("dns", RDY), view("monitoring", PRV)),
        FALSE,
        "AdaptersNotReady",
        ("monitoring",),
        id="optional-adapter-provisioning",
    ),
    pytest.param(
        views(view("validation", RDY), view("dns", RDY, gen=GEN - 1), view("monitoring", RDY)),
        FALSE,
        "AdaptersNotReady",
        ("dns",),
        id="required-ready-at-old-generation",
    ),
    pytest.param(
        views(view("validation", FLD), view("dns", UNH), view("monitoring", RDY)),
        FALSE,
        "AdaptersNotReady",
        ("dns", "validation"),
        id="failed-and-unhealthy",
    ),
    pytest.param({}, FALSE, "AdaptersNotReady", ALL, id="no-reports"),
    pytest.param(
        views(
            view("validation", RDY),
            view("dns", RDY),
            view("monitoring", RDY),
            view("stranger", FLD),
        ),
        TRUE,
        "AllAdaptersReady",
        (),
        id="undeclared-adapter-ignored",
    ),
]


@pytest.mark.parametrize(("adapter_views", "status", "reason", "listed"), ALL_READY_TABLE)
def test_all_adapters_ready(
    adapter_views: dict[str, AdapterView],
    status: ConditionStatus,
    reason: str,
    listed: tuple[str, ...],
) -> None:
    verdict = all_adapters_ready(ALL, adapter_views, GEN)
    assert (verdict.status, verdict.reason) == (status, reason)
    for adapter in listed:
        assert adapter in verdict.message
    for adapter in set(ALL) - set(listed):
        if status is FALSE:
            assert adapter not in verdict.message


# --- ValidationPassed ---------------------------------------------------------------------------

VALIDATION_TABLE = [
    pytest.param(
        ("validation",),
        views(view("validation", RDY)),
        TRUE,
        "ValidationSucceeded",
        None,
        id="true-validation-succeeded",
    ),
    pytest.param(
        ("validation",),
        views(view("validation", FLD, message="quota exceeded in us-east-1")),
        FALSE,
        "ValidationFailed",
        "quota exceeded in us-east-1",
        id="false-validation-failed-carries-message",
    ),
    pytest.param(
        ("validation", "policy"),
        views(view("validation", RDY), view("policy", FLD, message="policy P-7 denied")),
        FALSE,
        "ValidationFailed",
        "policy P-7 denied",
        id="second-validator-failed",
    ),
    pytest.param(
        ("validation", "policy"),
        views(view("validation", PRV), view("policy", FLD, message="policy P-7 denied")),
        FALSE,
        "ValidationFailed",
        "policy P-7 denied",
        id="failed-beats-pending",
    ),
    pytest.param(
        ("validation",),
        {},
        FALSE,
        "ValidationPending",
        None,
        id="false-pending-no-report",
    ),
    pytest.param(
        ("validation",),
        views(view("validation", PRV)),
        FALSE,
        "ValidationPending",
        None,
        id="false-pending-provisioning",
    ),
    pytest.param(
        ("validation",),
        views(view("validation", PND)),
        FALSE,
        "ValidationPending",
        None,
        id="false-pending-pending",
    ),
    pytest.param(
        ("validation",),
        views(view("validation", RDY, gen=GEN - 1)),
        FALSE,
        "ValidationPending",
        None,
        id="false-pending-ready-at-old-generation",
    ),
    pytest.param(
        ("validation",),
        views(view("validation", FLD, gen=GEN - 1, message="old failure")),
        FALSE,
        "ValidationPending",
        None,
        id="failure-at-old-generation-is-pending",
    ),
    pytest.param(
        ("validation", "policy"),
        views(view("validation", RDY), view("policy", RDY)),
        TRUE,
        "ValidationSucceeded",
        None,
        id="true-all-validators-ready",
    ),
]


@pytest.mark.parametrize(
    ("validators", "adapter_views", "status", "reason", "message"), VALIDATION_TABLE
)
def test_validation_passed(
    validators: tuple[str, ...],
    adapter_views: dict[str, AdapterView],
    status: ConditionStatus,
    reason: str,
    message: str | None,
) -> None:
    verdict = validation_passed(validators, adapter_views, GEN)
    assert (verdict.status, verdict.reason) == (status, reason)
    if message is not None:
        assert verdict.message == message


def _conditions(
    *,
    validators: tuple[str, ...] = ("validation",),
    configured: tuple[ConfiguredCondition, ...] = (),
    adapter_views: dict[str, AdapterView] | None = None,
    context: dict[str, Any] | None = None,
    previous: tuple[ResourceCondition, ...] = (),
    now: datetime = T1,
) -> tuple[ResourceCondition, ...]:
    return engine_conditions(
        generation=GEN,
        all_adapters=ALL,
        validators=validators,
        configured=configured,
        views=adapter_views if adapter_views is not None else {},
        cel_context=context if context is not None else {"resource": {}, "statuses": []},
        previous=previous,
        now=now,
    )


@pytest.mark.parametrize(
    ("validators", "types"),
    [
        pytest.param(("validation",), ["AllAdaptersReady", "ValidationPassed"], id="validators"),
        pytest.param((), ["AllAdaptersReady"], id="no-validators-omits-validation-passed"),
    ],
)
def test_validation_passed_omitted_without_validators(
    validators: tuple[str, ...], types: list[str]
) -> None:
    assert [c.type for c in _conditions(validators=validators)] == types


def test_output_order_is_all_ready_validation_then_configured_in_config_order() -> None:
    configured = (rule("Zeta", "true"), rule("Alpha", "false"), rule("Mid", "true"))
    out = _conditions(configured=configured)
    assert [c.type for c in out] == [
        "AllAdaptersReady",
        "ValidationPassed",
        "Zeta",
        "Alpha",
        "Mid",
    ]
    assert [c.status for c in out[2:]] == [TRUE, FALSE, TRUE]
    assert all(c.status in {TRUE, FALSE} for c in out)
    assert all(c.observed_generation == GEN for c in out)


# --- Kubernetes time rules -----------------------------------------------------------------------


def _previous(type_: str, status: ConditionStatus) -> ResourceCondition:
    return ResourceCondition(
        type=type_,
        status=status,
        reason="Old",
        message="old",
        observed_generation=GEN - 1,
        created_time=T0,
        last_updated_time=T0,
        last_transition_time=T0,
    )


@pytest.mark.parametrize(
    ("previous_status", "now_ready", "transition"),
    [
        pytest.param(None, False, T2, id="first-computation"),
        pytest.param(FALSE, False, T0, id="false-stays-false-keeps-transition"),
        pytest.param(TRUE, True, T0, id="true-stays-true-keeps-transition"),
        pytest.param(FALSE, True, T2, id="false-to-true-moves-transition"),
        pytest.param(TRUE, False, T2, id="true-to-false-moves-transition"),
    ],
)
def test_kubernetes_time_rules(
    previous_status: ConditionStatus | None, now_ready: bool, transition: datetime
) -> None:
    previous = () if previous_status is None else (_previous("AllAdaptersReady", previous_status),)
    ready = (view("validation", RDY), view("dns", RDY), view("monitoring", RDY))
    adapter_views = views(*ready) if now_ready else {}
    out = _conditions(validators=(), adapter_views=adapter_views, previous=previous, now=T2)
    (cond,) = out
    assert cond.status is (TRUE if now_ready else FALSE)
    assert cond.created_time == (T2 if previous_status is None else T0)
    assert cond.last_updated_time == T2
    assert cond.last_transition_time == transition
    assert cond.observed_generation == GEN


def test_time_rules_apply_to_configured_conditions() -> None:
    previous = (_previous("Custom", TRUE),)
    (_, _, kept) = _conditions(configured=(rule("Custom", "true"),), previous=previous, now=T3)
    assert (kept.created_time, kept.last_transition_time, kept.last_updated_time) == (T0, T0, T3)
    (_, _, flipped) = _conditions(configured=(rule("Custom", "false"),), previous=previous, now=T3)
    assert (flipped.created_time, flipped.last_transition_time) == (T0, T3)


def test_previous_conditions_of_other_types_do_not_leak() -> None:
    previous = (_previous("ValidationPassed", TRUE),)
    (ready, validation) = _conditions(previous=previous, now=T2)
    assert ready.created_time == T2
    assert validation.created_time == T0
    assert validation.last_transition_time == T2  # True -> False (no report)


# --- configured CEL conditions -------------------------------------------------------------------

CONTEXT: dict[str, Any] = {
    "resource": {"name": "c1", "generation": GEN, "labels": {"env": "prod"}, "spec": {}},
    "statuses": [
        {
            "adapter": "hypershift",
            "state": "Ready",
            "observed_generation": GEN,
            "conditions": [],
            "data": {"nodes": 3},
        }
    ],
}

CEL_TABLE = [
    pytest.param(rule("C", "true"), TRUE, "C", "", id="bool-true-defaults"),
    pytest.param(rule("C", "false"), FALSE, "C", "", id="bool-false-defaults"),
    pytest.param(rule("C", '"True"'), TRUE, "C", "", id="string-True"),
    pytest.param(rule("C", '"false"'), FALSE, "C", "", id="string-false"),
    pytest.param(rule("C", '"TRUE"'), TRUE, "C", "", id="string-case-insensitive"),
    pytest.param(
        rule(
            "ControlPlaneReady",
            'statuses.exists(s, s.adapter == "hypershift" && s.state == "Ready")',
            '"HypershiftReady"',
            '"control plane is up"',
        ),
        TRUE,
        "HypershiftReady",
        "control plane is up",
        id="spec-example",
    ),
    pytest.param(
        rule("C", 'resource.labels.env == "prod"', '"Prod"', '"env is " + resource.labels.env'),
        TRUE,
        "Prod",
        "env is prod",
        id="resource-fields",
    ),
    pytest.param(
        rule("C", "statuses[0].data.nodes > 5", '"TooFew"'),
        FALSE,
        "TooFew",
        "",
        id="status-data",
    ),
    pytest.param(rule("C", "1"), FALSE, "EvaluationError", None, id="non-boolean-int"),
    pytest.param(rule("C", '"yes"'), FALSE, "EvaluationError", None, id="non-boolean-string"),
    pytest.param(rule("C", "[true]"), FALSE, "EvaluationError", None, id="non-boolean-list"),
    pytest.param(rule("C", "null"), FALSE, "EvaluationError", None, id="non-boolean-null"),
    pytest.param(
        rule("C", "1 / (resource.generation - 2) == 1"),
        FALSE,
        "EvaluationError",
        None,
        id="runtime-error-division",
    ),
    pytest.param(
        rule("C", "resource.spec.missing == 1"),
        FALSE,
        "EvaluationError",
        None,
        id="runtime-error-missing-key",
    ),
    pytest.param(
        rule("C", "true", "resource.spec.missing"),
        FALSE,
        "EvaluationError",
        None,
        id="runtime-error-in-reason",
    ),
    pytest.param(
        rule("C", "true", None, "resource.spec.missing"),
        FALSE,
        "EvaluationError",
        None,
        id="runtime-error-in-message",
    ),
    pytest.param(
        ConfiguredCondition(type="C", status_expr="true"),
        FALSE,
        "EvaluationError",
        None,
        id="not-compiled",
    ),
]


@pytest.mark.parametrize(("configured", "status", "reason", "message"), CEL_TABLE)
def test_configured_condition(
    configured: ConfiguredCondition,
    status: ConditionStatus,
    reason: str,
    message: str | None,
) -> None:
    verdict = evaluate_configured(configured, CONTEXT)
    assert (verdict.status, verdict.reason) == (status, reason)
    if message is not None:
        assert verdict.message == message
    else:
        assert verdict.message  # an evaluation error always says what went wrong


@pytest.mark.parametrize(
    ("configured", "field", "limit"),
    [
        pytest.param(
            rule("C", "true", '"R' + "x" * 1000 + '"'),
            "reason",
            REASON_LIMIT,
            id="reason-truncated",
        ),
        pytest.param(
            rule("C", "true", None, '"' + "m" * (MESSAGE_LIMIT + 500) + '"'),
            "message",
            MESSAGE_LIMIT,
            id="message-truncated",
        ),
    ],
)
def test_configured_reason_and_message_truncated(
    configured: ConfiguredCondition, field: str, limit: int
) -> None:
    verdict = evaluate_configured(configured, CONTEXT)
    assert verdict.status is TRUE
    text = getattr(verdict, field)
    assert len(text) == limit
    assert text == (getattr(configured, f"{field}_expr").strip('"'))[:limit]


def test_configured_message_limit_matches_the_contract_limit() -> None:
    assert MESSAGE_LIMIT == 2048


def test_error_message_is_truncated() -> None:
    long_key = "k" * (MESSAGE_LIMIT + 100)
    verdict = evaluate_configured(rule("C", f"resource.spec.{long_key} == 1"), CONTEXT)
    assert verdict.reason == "EvaluationError"
    assert 0 < len(verdict.message) <= MESSAGE_LIMIT


def test_configured_conditions_in_engine_output() -> None:
    configured = (
        rule("Broken", "1"),
        rule("Prod", 'resource.labels.env == "prod"', '"IsProd"', '"yes"'),
    )
    out = _conditions(configured=configured, context=CONTEXT)
    broken, prod = out[2], out[3]
    assert (broken.type, broken.status, broken.reason) == ("Broken", FALSE, "EvaluationError")
    assert (prod.type, prod.status, prod.reason, prod.message) == ("Prod", TRUE, "IsProd", "yes")


@pytest.mark.parametrize(
    ("type_", "reserved"),
    [
        pytest.param("Reconciled", True, id="Reconciled"),
        pytest.param("LastKnownReconciled", True, id="LastKnownReconciled"),
        pytest.param("AllAdaptersReady", True, id="AllAdaptersReady"),
        pytest.param("ValidationPassed", True, id="ValidationPassed"),
        pytest.param("FooSuccessful", True, id="FooSuccessful"),
        pytest.param("DnsSuccessful", True, id="DnsSuccessful"),
        pytest.param("ControlPlaneReady", False, id="ControlPlaneReady"),
        pytest.param("Available", False, id="Available"),
    ],
)
def test_reserved_types(type_: str, reserved: bool) -> None:
    assert is_reserved_type(type_) is reserved
