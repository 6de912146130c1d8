"""Aggregation configuration loader (post-MVP §5): the example file loads into descriptor values,
and every load-time error names its key path.

Files go through `AggregationFile` (unknown keys, via `load_aggregation_file`) and then
`build_registry(overlays=[("agg.yaml: ", entities)])` (everything cross-key), as the server does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperfleet.config import AggregationFile, ConfigError, load_aggregation_file
from hyperfleet.domain.engine_conditions import evaluate_configured
from hyperfleet.domain.entities import EntityRegistry, RegistryError, build_registry
from hyperfleet.domain.model import (
    DEFAULT_PROGRESSING_REASONS,
    AdapterRules,
    ConditionStatus,
    GenerationPolicy,
    ReasonFormat,
)

# Verbatim from post-mvp.md §5.
EXAMPLE = """\
entities:
  - kind: Cluster
    required_adapters: [validation, dns, pullsecret, hypershift]
    optional_adapters: [monitoring]
    validation_adapters: [validation]
    adapter_dependencies: {dns: [validation], hypershift: [validation, dns, pullsecret]}
    generation_policy: strict
    strict_adapters: false
    adapters:
      validation:
        reasons: {Available: [ValidationSucceeded, ValidationFailed, Progressing]}
        progressing_reasons: [Progressing]
        data_schema: {type: object, properties: {checks: {type: integer}}, required: [checks]}
    conditions:
      - type: ControlPlaneReady
        status: 'statuses.exists(s, s.adapter == "hypershift" && s.state == "Ready")'
        reason: '"HypershiftReady"'
        message: '"control plane is up"'
"""

PREFIX = "agg.yaml: "
E0 = f"{PREFIX}entities[0]"


def entities_of(text: str) -> list[dict[str, Any]]:
    parsed = AggregationFile.model_validate(yaml.safe_load(text))
    return [e.model_dump(exclude_unset=True) for e in parsed.entities]


def load(text: str) -> EntityRegistry:
    return build_registry([], overlays=[(PREFIX, entities_of(text))])


def load_entries(*entries: dict[str, Any]) -> EntityRegistry:
    """Entries as the YAML would give them, validated by AggregationFile first."""
    return load(yaml.safe_dump({"entities": list(entries)}))


def errors_of(*entries: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RegistryError) as info:
        load_entries(*entries)
    return info.value.errors


# --- the example file ------------------------------------------------------------------------------


def test_example_file_loads_into_the_cluster_descriptor() -> None:
    desc = load(EXAMPLE).require("Cluster")
    assert desc.required_adapters == ("validation", "dns", "pullsecret", "hypershift")
    assert desc.optional_adapters == ("monitoring",)
    assert desc.declared_adapters == ("validation", "dns", "pullsecret", "hypershift", "monitoring")
    assert desc.validation_adapters == ("validation",)
    assert desc.effective_validation_adapters == ("validation",)
    assert dict(desc.adapter_dependencies) == {
        "dns": ("validation",),
        "hypershift": ("validation", "dns", "pullsecret"),
    }
    assert desc.generation_policy is GenerationPolicy.STRICT
    assert desc.strict_adapters is False
    assert desc.reason_format is ReasonFormat.CAMEL_CASE
    # built-in keys the file does not set are kept
    assert (desc.plural, desc.name_min_len, desc.name_max_len) == ("clusters", 3, 53)


def test_example_file_adapter_rules() -> None:
    desc = load(EXAMPLE).require("Cluster")
    assert set(desc.adapters) == {"validation"}
    rules = desc.adapters["validation"]
    assert dict(rules.reasons) == {
        "Available": ("ValidationSucceeded", "ValidationFailed", "Progressing")
    }
    assert rules.progressing_reasons == ("Progressing",)
    assert desc.progressing_reasons("validation") == ("Progressing",)
    assert desc.progressing_reasons("dns") == DEFAULT_PROGRESSING_REASONS
    assert rules.data_schema == {
        "type": "object",
        "properties": {"checks": {"type": "integer"}},
        "required": ["checks"],
    }
    assert rules.data_validator is not None
    assert list(rules.data_validator.iter_errors({"checks": 1})) == []
    assert [e.message for e in rules.data_validator.iter_errors({})] != []


def test_example_file_condition_is_compiled_and_runs() -> None:
    desc = load(EXAMPLE).require("Cluster")
    (rule,) = desc.conditions
    assert rule.type == "ControlPlaneReady"
    assert rule.status_expr == (
        'statuses.exists(s, s.adapter == "hypershift" && s.state == "Ready")'
    )
    assert (rule.reason_expr, rule.message_expr) == ('"HypershiftReady"', '"control plane is up"')
    assert rule.status is not None
    assert rule.reason is not None
    assert rule.message is not None
    context: dict[str, Any] = {
        "resource": {},
        "statuses": [{"adapter": "hypershift", "state": "Ready"}],
    }
    verdict = evaluate_configured(rule, context)
    assert (verdict.status, verdict.reason, verdict.message) == (
        ConditionStatus.TRUE,
        "HypershiftReady",
        "control plane is up",
    )
    context["statuses"] = [{"adapter": "hypershift", "state": "Provisioning"}]
    assert evaluate_configured(rule, context).status is ConditionStatus.FALSE


def test_example_file_through_load_aggregation_file(tmp_path: Path) -> None:
    path = tmp_path / "agg.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    parsed = load_aggregation_file(path)
    entries = [e.model_dump(exclude_unset=True) for e in parsed.entities]
    assert entries == entities_of(EXAMPLE)
    registry = build_registry([], overlays=[(f"{path}: ", entries)])
    assert registry.require("Cluster").conditions[0].type == "ControlPlaneReady"
    # untouched kinds keep their built-in values
    nodepool = registry.require("NodePool")
    assert nodepool.required_adapters == ("validation", "hypershift")
    assert nodepool.generation_policy is GenerationPolicy.STRICT


def test_defaults_when_the_file_sets_nothing() -> None:
    desc = load("entities: [{kind: Cluster}]").require("Cluster")
    assert desc.optional_adapters == ()
    assert desc.validation_adapters is None
    assert desc.effective_validation_adapters == ("validation",)
    assert dict(desc.adapter_dependencies) == {}
    assert desc.generation_policy is GenerationPolicy.STRICT
    assert desc.strict_adapters is False
    assert desc.reason_format is ReasonFormat.CAMEL_CASE
    assert desc.conditions == ()


@pytest.mark.parametrize(
    ("key", "value", "attribute", "expected"),
    [
        pytest.param(
            "generation_policy", "discard", "generation_policy", GenerationPolicy.DISCARD, id="d"
        ),
        pytest.param(
            "generation_policy", "lenient", "generation_policy", GenerationPolicy.LENIENT, id="l"
        ),
        pytest.param("reason_format", "free", "reason_format", ReasonFormat.FREE, id="free"),
        pytest.param("strict_adapters", True, "strict_adapters", True, id="strict-adapters"),
        pytest.param("validation_adapters", [], "effective_validation_adapters", (), id="none"),
    ],
)
def test_scalar_keys(key: str, value: Any, attribute: str, expected: Any) -> None:
    desc = load_entries({"kind": "Cluster", key: value}).require("Cluster")
    assert getattr(desc, attribute) == expected


def test_adapter_without_progressing_reasons_keeps_defaults() -> None:
    desc = load_entries(
        {"kind": "Cluster", "adapters": {"dns": {"reasons": {"Available": ["Ready"]}}}}
    ).require("Cluster")
    assert desc.adapters["dns"] == AdapterRules(reasons={"Available": ("Ready",)})
    assert desc.adapters["dns"].progressing_reasons == DEFAULT_PROGRESSING_REASONS


# --- unknown keys: AggregationFile / load_aggregation_file -----------------------------------------

UNKNOWN_KEY_TABLE = [
    pytest.param({"entities": [], "bogus": 1}, "bogus", id="top-level"),
    pytest.param({"entities": [{"kind": "Cluster", "bogus": 1}]}, "entities.0.bogus", id="entity"),
    pytest.param(
        {"entities": [{"kind": "Cluster"}, {"kind": "NodePool", "requird_adapters": []}]},
        "entities.1.requird_adapters",
        id="second-entity-typo",
    ),
    pytest.param(
        {"entities": [{"kind": "Cluster", "adapters": {"dns": {"bogus": 1}}}]},
        "entities.0.adapters.dns.bogus",
        id="adapter-rules",
    ),
    pytest.param(
        {
            "entities": [
                {"kind": "Cluster", "conditions": [{"type": "X", "status": "true", "y": 1}]}
            ]
        },
        "entities.0.conditions.0.y",
        id="condition",
    ),
]


@pytest.mark.parametrize(("content", "key_path"), UNKNOWN_KEY_TABLE)
def test_unknown_keys_name_their_path(
    tmp_path: Path, content: dict[str, Any], key_path: str
) -> None:
    path = tmp_path / "agg.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_aggregation_file(path)
    assert (f"{path}: {key_path}") in [p for p, _ in info.value.errors]
    assert str(path) in str(info.value)


def test_several_unknown_keys_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "agg.yaml"
    content = {"entities": [{"kind": "Cluster", "foo": 1, "bar": 2}], "baz": 3}
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_aggregation_file(path)
    assert {p for p, _ in info.value.errors} >= {
        f"{path}: entities.0.foo",
        f"{path}: entities.0.bar",
        f"{path}: baz",
    }


@pytest.mark.parametrize(
    ("content", "key_path"),
    [
        pytest.param(
            {"entities": [{"kind": "Cluster", "generation_policy": "loose"}]},
            "entities.0.generation_policy",
            id="bad-policy",
        ),
        pytest.param(
            {"entities": [{"kind": "Cluster", "reason_format": "snake"}]},
            "entities.0.reason_format",
            id="bad-reason-format",
        ),
        pytest.param(
            {"entities": [{"kind": "Cluster", "conditions": [{"type": "X"}]}]},
            "entities.0.conditions.0.status",
            id="condition-without-status",
        ),
    ],
)
def test_invalid_values_name_their_path(
    tmp_path: Path, content: dict[str, Any], key_path: str
) -> None:
    path = tmp_path / "agg.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_aggregation_file(path)
    assert (f"{path}: {key_path}") in [p for p, _ in info.value.errors]


# --- cross-key and compile errors: build_registry ----------------------------------------------

CLUSTER = {"kind": "Cluster", "required_adapters": ["validation", "dns"]}


def cluster(**keys: Any) -> dict[str, Any]:
    return {**CLUSTER, **keys}


def cel_condition(status: str, **more: str) -> list[dict[str, str]]:
    return [{"type": "Custom", "status": status, **more}]


ERROR_TABLE = [
    # --- unknown kinds ---------------------------------------------------------------------
    pytest.param(
        [{"kind": "Widget", "required_adapters": ["a"]}],
        f"{E0}.kind",
        "Widget",
        id="unknown-kind",
    ),
    # --- adapters named but not declared ---------------------------------------------------
    pytest.param(
        [cluster(adapter_dependencies={"dns": ["ghost"]})],
        f"{E0}.adapter_dependencies.dns",
        "ghost",
        id="undeclared-dependency",
    ),
    pytest.param(
        [cluster(adapter_dependencies={"ghost": ["dns"]})],
        f"{E0}.adapter_dependencies.ghost",
        "ghost",
        id="undeclared-dependent",
    ),
    pytest.param(
        [cluster(validation_adapters=["ghost"])],
        f"{E0}.validation_adapters",
        "ghost",
        id="undeclared-validation-adapter",
    ),
    pytest.param(
        [cluster(adapters={"ghost": {"progressing_reasons": ["X"]}})],
        f"{E0}.adapters.ghost",
        "ghost",
        id="undeclared-adapters-entry",
    ),
    pytest.param(
        [cluster(optional_adapters=["dns"])],
        f"{E0}.optional_adapters",
        "dns",
        id="required-and-optional",
    ),
    # --- dependency cycles -----------------------------------------------------------------
    pytest.param(
        [cluster(adapter_dependencies={"dns": ["validation"], "validation": ["dns"]})],
        f"{E0}.adapter_dependencies.dns",
        "cycle",
        id="two-cycle",
    ),
    pytest.param(
        [cluster(adapter_dependencies={"dns": ["dns"]})],
        f"{E0}.adapter_dependencies.dns",
        "cycle",
        id="self-cycle",
    ),
    # --- CEL -------------------------------------------------------------------------------
    pytest.param(
        [cluster(conditions=cel_condition("resource.generation >"))],
        f"{E0}.conditions[0].status",
        "CEL",
        id="cel-status-does-not-compile",
    ),
    pytest.param(
        [cluster(conditions=cel_condition("true", reason='"unterminated'))],
        f"{E0}.conditions[0].reason",
        "CEL",
        id="cel-reason-does-not-compile",
    ),
    pytest.param(
        [cluster(conditions=cel_condition("true", message="1 +"))],
        f"{E0}.conditions[0].message",
        "CEL",
        id="cel-message-does-not-compile",
    ),
    pytest.param(
        [cluster(conditions=cel_condition("clusters.size() > 0"))],
        f"{E0}.conditions[0].status",
        "clusters",
        id="cel-unknown-variable",
    ),
    pytest.param(
        [cluster(conditions=cel_condition("true", reason="reason_var"))],
        f"{E0}.conditions[0].reason",
        "reason_var",
        id="cel-unknown-variable-in-reason",
    ),
    pytest.param(
        [cluster(conditions=cel_condition("no_such_function(resource)"))],
        f"{E0}.conditions[0].status",
        "no_such_function",
        id="cel-unknown-function",
    ),
    # An unknown identifier is a compile (check) error in CEL wherever it appears; it must not
    # slip through because the sample evaluation short-circuits past it.
    pytest.param(
        [cluster(conditions=cel_condition("resource.generation > 1 && bogus_var"))],
        f"{E0}.conditions[0].status",
        "bogus_var",
        id="cel-unknown-variable-behind-short-circuit",
    ),
    pytest.param(
        [cluster(conditions=cel_condition('statuses.exists(s, s.adapter == "dns" && bogus_var)'))],
        f"{E0}.conditions[0].status",
        "bogus_var",
        id="cel-unknown-variable-inside-macro",
    ),
    # --- JSON Schema -----------------------------------------------------------------------
    pytest.param(
        [cluster(adapters={"dns": {"data_schema": {"type": "integr"}}})],
        f"{E0}.adapters.dns.data_schema",
        "JSON Schema",
        id="invalid-json-schema-type",
    ),
    pytest.param(
        [cluster(adapters={"dns": {"data_schema": {"required": "checks"}}})],
        f"{E0}.adapters.dns.data_schema",
        "JSON Schema",
        id="invalid-json-schema-required",
    ),
    # --- reserved and duplicate condition types --------------------------------------------
    *(
        pytest.param(
            [cluster(conditions=[{"type": t, "status": "true"}])],
            f"{E0}.conditions[0].type",
            t,
            id=f"reserved-{t}",
        )
        for t in (
            "Reconciled",
            "LastKnownReconciled",
            "AllAdaptersReady",
            "ValidationPassed",
            "FooSuccessful",
        )
    ),
    pytest.param(
        [
            cluster(
                conditions=[
                    {"type": "Custom", "status": "true"},
                    {"type": "Other", "status": "true"},
                    {"type": "Custom", "status": "false"},
                ]
            )
        ],
        f"{E0}.conditions[2].type",
        "Custom",
        id="duplicate-condition-type",
    ),
]


@pytest.mark.parametrize(("entries", "key_path", "word"), ERROR_TABLE)
def test_load_time_error_names_its_key_path(
    entries: list[dict[str, Any]], key_path: str, word: str
) -> None:
    errors = errors_of(*entries)
    matching = [message for path, message in errors if path == key_path]
    assert matching, errors
    assert any(word in message for message in matching), errors


def test_kind_declared_in_the_main_config_is_known_to_the_aggregation_file() -> None:
    registry = build_registry(
        [{"kind": "Widget", "required_adapters": ["a"]}],
        overlays=[(PREFIX, entities_of("entities: [{kind: Widget, optional_adapters: [b]}]"))],
    )
    assert registry.require("Widget").declared_adapters == ("a", "b")


def test_dependencies_may_name_optional_adapters() -> None:
    desc = load_entries(
        cluster(optional_adapters=["monitoring"], adapter_dependencies={"monitoring": ["dns"]})
    ).require("Cluster")
    assert dict(desc.adapter_dependencies) == {"monitoring": ("dns",)}


def test_builtin_cluster_adapters_are_declared_without_restating_them() -> None:
    desc = load_entries(
        {"kind": "Cluster", "adapter_dependencies": {"hypershift": ["dns", "pullsecret"]}}
    ).require("Cluster")
    assert dict(desc.adapter_dependencies) == {"hypershift": ("dns", "pullsecret")}


def test_several_errors_reported_at_once() -> None:
    errors = errors_of(
        cluster(
            optional_adapters=["dns"],
            validation_adapters=["ghost"],
            adapter_dependencies={"dns": ["dns"], "validation": ["phantom"]},
            adapters={"dns": {"data_schema": {"type": 5}}, "spook": {}},
            conditions=[
                {"type": "Reconciled", "status": "true"},
                {"type": "Custom", "status": "1 +"},
                {"type": "Custom", "status": "nope_var"},
            ],
        ),
        {"kind": "NodePool", "adapter_dependencies": {"hypershift": ["hypershift"]}},
    )
    paths = {path for path, _ in errors}
    assert paths >= {
        f"{E0}.optional_adapters",
        f"{E0}.validation_adapters",
        f"{E0}.adapter_dependencies.dns",
        f"{E0}.adapter_dependencies.validation",
        f"{E0}.adapters.dns.data_schema",
        f"{E0}.adapters.spook",
        f"{E0}.conditions[0].type",
        f"{E0}.conditions[1].status",
        f"{E0}.conditions[2].status",
        f"{E0}.conditions[2].type",
        f"{PREFIX}entities[1].adapter_dependencies.hypershift",
    }
    message = str(RegistryError(errors))
    assert all(path in message for path in paths)
