"""The default decision row by row (platform.md §2.3), thresholds, replaced expressions, compile
errors and condition zero values, all at a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hyperfleet.sentinel.config import MessageDecision, SentinelConfigError, load_sentinel_settings
from hyperfleet.sentinel.decision import Decision, DecisionError, cel_duration, default_decision

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def _ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat().replace("+00:00", "Z")


def _resource(
    generation: int,
    reconciled: str | None = None,
    observed: int | None = None,
    updated: str | None = None,
) -> dict[str, Any]:
    conditions = []
    if reconciled is not None:
        conditions.append(
            {
                "type": "Reconciled",
                "status": reconciled,
                "observed_generation": generation if observed is None else observed,
                "last_updated_time": updated or _ago(seconds=1),
                "last_transition_time": updated or _ago(seconds=1),
                "reason": "r",
                "message": "m",
            }
        )
    return {
        "id": "0190b3b0-0000-7000-8000-000000000001",
        "kind": "Cluster",
        "href": "/api/hyperfleet/v1/clusters/0190b3b0-0000-7000-8000-000000000001",
        "generation": generation,
        "labels": {"env": "prod"},
        "status": {"conditions": conditions},
    }


def _decision(**settings: Any) -> Decision:
    return Decision.from_settings(
        load_sentinel_settings(
            None, environ={}, overrides={"resource_type": "clusters", **settings}
        )
    )


DEFAULT_ROWS = [
    # (case, resource, publish)
    ("new resource, no Reconciled yet", _resource(1), True),
    (
        "new resource whose first report is fresh (debounced)",
        _resource(1, "False", updated=_ago(seconds=5)),
        False,
    ),
    ("not reconciled, debounce elapsed", _resource(1, "False", updated=_ago(seconds=11)), True),
    (
        "not reconciled at exactly the debounce",
        _resource(3, "False", updated=_ago(seconds=10)),
        False,
    ),
    ("reconciled and fresh", _resource(2, "True", updated=_ago(minutes=5)), False),
    (
        "reconciled and stale after max_age_ready",
        _resource(2, "True", updated=_ago(minutes=31)),
        True,
    ),
    ("reconciled at exactly max_age_ready", _resource(2, "True", updated=_ago(minutes=30)), False),
    (
        "generation ahead of Reconciled's observed generation",
        _resource(3, "True", observed=2),
        True,
    ),
    ("generation > 1 with no condition (observed 0)", _resource(2), True),
    (
        "Reconciled Unknown counts as not reconciled",
        _resource(2, "Unknown", updated=_ago(seconds=20)),
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "resource", "publish"), DEFAULT_ROWS, ids=[r[0] for r in DEFAULT_ROWS]
)
def test_default_decision(case: str, resource: dict[str, Any], publish: bool) -> None:
    assert _decision().evaluate(resource, NOW) is publish, case


@pytest.mark.parametrize(
    ("settings", "resource", "publish"),
    [
        ({"max_age_ready_seconds": 60}, _resource(2, "True", updated=_ago(seconds=61)), True),
        ({"max_age_ready_seconds": 60}, _resource(2, "True", updated=_ago(seconds=59)), False),
        ({"max_age_not_ready_seconds": 0}, _resource(2, "False", updated=_ago(seconds=0.5)), True),
        (
            {"max_age_not_ready_seconds": 120},
            _resource(2, "False", updated=_ago(seconds=100)),
            False,
        ),
        ({"max_age_not_ready_seconds": 2.5}, _resource(2, "False", updated=_ago(seconds=3)), True),
    ],
)
def test_thresholds_are_configurable(
    settings: dict[str, Any], resource: dict[str, Any], publish: bool
) -> None:
    assert _decision(**settings).evaluate(resource, NOW) is publish


def test_cel_duration_literals() -> None:
    assert cel_duration(1800) == "1800s"
    assert cel_duration(0.5) == "0.5s"
    assert cel_duration(0) == "0s"
    text = default_decision(1800, 10).params[5].expr
    assert 'duration("1800s")' in text


def test_replaced_expression_with_params_in_order() -> None:
    decision = _decision(
        message_decision={
            "params": [
                {"name": "is_prod", "expr": 'resource.labels.env == "prod"'},
                {"name": "applied", "expr": 'condition("Applied").status == "True"'},
                {"name": "due", "expr": "is_prod && !applied"},
            ],
            "result": "due",
        }
    )
    assert decision.evaluate(_resource(5, "True"), NOW) is True
    other = _resource(5)
    other["labels"] = {"env": "dev"}
    assert decision.evaluate(other, NOW) is False


def test_missing_condition_is_a_zero_value() -> None:
    decision = _decision(
        message_decision={
            "params": [{"name": "c", "expr": 'condition("Applied")'}],
            "result": (
                'c.status == "" && c.observed_generation == 0 && c.last_updated_time == ""'
                ' && c.last_transition_time == "" && c.reason == "" && c.message == ""'
                ' && c.type == "Applied"'
            ),
        }
    )
    assert decision.evaluate(_resource(1, "True"), NOW) is True


def test_condition_missing_keys_get_zero_values() -> None:
    decision = _decision(message_decision={"result": 'condition("Reconciled").reason == ""'})
    resource = _resource(1)
    resource["status"]["conditions"] = [{"type": "Reconciled", "status": "True"}]
    assert decision.evaluate(resource, NOW) is True


def test_resource_without_status_evaluates() -> None:
    assert _decision().evaluate({"id": "x", "kind": "Cluster", "generation": 1}, NOW) is True


def _compile_error(decision: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(SentinelConfigError) as info:
        Decision.compile(MessageDecision.model_validate(decision))
    return info.value.errors


def test_syntax_error_names_the_param() -> None:
    errors = _compile_error(
        {"params": [{"name": "a", "expr": "true"}, {"name": "b", "expr": "a &&"}], "result": "b"}
    )
    assert errors[0][0] == "message_decision.params[1].expr"
    assert "does not compile" in errors[0][1]


def test_unknown_variable_and_forward_reference_fail_at_start() -> None:
    errors = _compile_error(
        {
            "params": [{"name": "a", "expr": "b || resourcee.x"}, {"name": "b", "expr": "true"}],
            "result": "a",
        }
    )
    assert errors == [
        (
            "message_decision.params[0].expr",
            "unknown variables ['b', 'resourcee']; available: now, resource",
        )
    ]


def test_result_errors() -> None:
    assert _compile_error({"result": "nope"})[0][0] == "message_decision.result"
    errors = _compile_error({"result": "resource.generation + 1"})
    assert errors == [("message_decision.result", "must be a boolean, got int")]


def test_unknown_function_fails_at_start() -> None:
    errors = _compile_error(
        {"params": [{"name": "a", "expr": 'conditoin("Reconciled")'}], "result": "true"}
    )
    assert errors[0][0] == "message_decision.params[0].expr"
    assert "conditoin" in errors[0][1]


def test_macro_bindings_are_not_unknown_variables() -> None:
    decision = Decision.compile(
        MessageDecision.model_validate(
            {
                "result": 'resource.status.conditions.exists(c, c.type == "Reconciled" && c.status == "True")'
            }
        )
    )
    assert decision.evaluate(_resource(1, "True"), NOW) is True
    assert decision.evaluate(_resource(1), NOW) is False


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            {
                "params": [{"name": "a", "expr": "true"}, {"name": "a", "expr": "false"}],
                "result": "a",
            },
            "used twice",
        ),
        ({"params": [{"name": "now", "expr": "true"}], "result": "now"}, "reserved"),
        ({"params": [{"name": "1a", "expr": "true"}], "result": "true"}, "pattern"),
        ({"params": [], "result": ""}, "at least 1 character"),
    ],
)
def test_param_names_are_validated(decision: dict[str, Any], message: str) -> None:
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings(
            None, environ={}, overrides={"resource_type": "clusters", "message_decision": decision}
        )
    assert any(message in m and p.startswith("message_decision") for p, m in info.value.errors)


def test_runtime_error_is_a_decision_error() -> None:
    decision = _decision()
    resource = _resource(2, "True", updated="not a time")
    with pytest.raises(DecisionError, match="reconciled_and_stale"):
        decision.evaluate(resource, NOW)


def test_non_boolean_result_at_runtime_is_a_decision_error() -> None:
    decision = Decision.compile(MessageDecision.model_validate({"result": "resource.flag"}))
    with pytest.raises(DecisionError, match="not a boolean"):
        decision.evaluate({"flag": 3}, NOW)


@pytest.mark.parametrize(
    ("exprs", "keys"),
    [
        (["resource.generation == 1", 'condition("Reconciled").status == "True"'], {"generation"}),
        (
            ['resource.status.conditions.exists(c, c.type == "X")', "has(resource.labels.env)"],
            {"status", "labels"},
        ),
        (['resource["spec"] == {}'], None),
        (["size(resource) > 0"], None),
        (["true"], set()),
    ],
)
def test_resource_keys(exprs: list[str], keys: set[str] | None) -> None:
    from hyperfleet.sentinel.cel_env import resource_keys

    got = resource_keys(exprs)
    assert (None if got is None else set(got)) == keys


def test_default_decision_reads_only_the_generation() -> None:
    assert _decision().keys == frozenset({"generation"})


def test_whole_resource_expressions_still_see_everything() -> None:
    decision = Decision.compile(
        MessageDecision.model_validate({"result": 'resource["labels"]["env"] == "prod"'})
    )
    assert decision.keys is None
    assert decision.evaluate(_resource(1), NOW) is True
