"""Aggregation configuration (post-MVP §5): config keys to descriptor values.

CEL and JSON Schemas are compiled once at load, and cross-key rules are checked. Every
problem is reported with its key path, e.g. `entities[0].adapter_dependencies.dns`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hyperfleet.domain.dependencies import graph_errors
from hyperfleet.domain.engine_conditions import is_reserved_type
from hyperfleet.domain.model import (
    DEFAULT_PROGRESSING_REASONS,
    AdapterRules,
    ConfiguredCondition,
    EntityDescriptor,
    Program,
)

_TUPLE_KEYS = frozenset({"required_adapters", "optional_adapters", "validation_adapters"})

Errors = list[tuple[str, str]]


_SAMPLE_CONTEXT: dict[str, Any] = {
    "resource": {
        "id": "00000000-0000-7000-8000-000000000000",
        "kind": "Sample",
        "name": "sample",
        "generation": 1,
        "spec": {},
        "labels": {},
        "deleted": False,
    },
    "statuses": [
        {
            "adapter": "sample",
            "state": "Pending",
            "observed_generation": 1,
            "conditions": [],
            "data": {},
        }
    ],
}


CEL_VARIABLES = frozenset({"resource", "statuses"})
_MACRO_BINDING = re.compile(
    r"\.\s*(?:all|exists|exists_one|existsOne|map|filter|sortBy|transformList|transformMap)"
    r"\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,(?:\s*([A-Za-z_][A-Za-z0-9_]*)\s*,)?"
)


def _bound_names(expr: str) -> set[str]:
    """Names a comprehension macro binds (`statuses.exists(s, …)` binds `s`)."""
    names: set[str] = set()
    for match in _MACRO_BINDING.finditer(expr):
        names.update(n for n in match.groups() if n)
    return names


def _compile(expr: str, path: str, errors: Errors) -> Program | None:
    """Compile, then dry-run on a sample context to catch unknown variables and functions."""
    import cel  # noqa: PLC0415 - ~30 MB resident (it loads its REPL); only kinds with CEL need it

    try:
        program = cel.compile(expr)
    except (ValueError, RuntimeError) as exc:
        errors.append((path, f"CEL does not compile: {str(exc).splitlines()[0]}"))
        return None
    unknown = sorted(set(program.variables()) - CEL_VARIABLES - _bound_names(expr))
    if unknown:
        errors.append(
            (path, f"CEL uses unknown variables {unknown}; available: resource, statuses")
        )
        return None
    try:
        program.execute(_SAMPLE_CONTEXT)
    except RuntimeError as exc:
        if "Undefined variable or function" in str(exc):
            errors.append((path, f"{str(exc).splitlines()[0]} (variables: resource, statuses)"))
            return None
    except Exception:  # noqa: BLE001, S110 - data-dependent failures surface at evaluation
        pass
    result: Program = program
    return result


def convert(key: str, value: Any, path: str, errors: Errors) -> Any:
    """The descriptor value for one config key (`value` is the dumped config value)."""
    if key in _TUPLE_KEYS:
        return tuple(value)
    if key == "adapter_dependencies":
        return {adapter: tuple(deps) for adapter, deps in value.items()}
    if key == "adapters":
        return {
            name: _adapter_rules(rules, f"{path}.adapters.{name}", errors)
            for name, rules in value.items()
        }
    if key == "conditions":
        return tuple(
            _condition(rule, f"{path}.conditions[{i}]", errors) for i, rule in enumerate(value)
        )
    return value


def _adapter_rules(raw: Mapping[str, Any], path: str, errors: Errors) -> AdapterRules:
    schema = raw.get("data_schema")
    validator = None
    if schema is not None:
        from jsonschema import Draft202012Validator  # noqa: PLC0415 - ~11 MB, rarely configured
        from jsonschema.exceptions import SchemaError  # noqa: PLC0415

        try:
            Draft202012Validator.check_schema(schema)
            validator = Draft202012Validator(schema)
        except SchemaError as exc:
            errors.append((f"{path}.data_schema", f"invalid JSON Schema: {exc.message}"))
    reasons = {t: tuple(r) for t, r in (raw.get("reasons") or {}).items()}
    progressing = raw.get("progressing_reasons")
    return AdapterRules(
        reasons=reasons,
        progressing_reasons=(
            tuple(progressing) if progressing is not None else DEFAULT_PROGRESSING_REASONS
        ),
        data_schema=schema,
        data_validator=validator,
    )


def _condition(raw: Mapping[str, Any], path: str, errors: Errors) -> ConfiguredCondition:
    type_ = raw["type"]
    if is_reserved_type(type_):
        errors.append((f"{path}.type", f"condition type '{type_}' is reserved"))
    reason, message = raw.get("reason"), raw.get("message")
    return ConfiguredCondition(
        type=type_,
        status_expr=raw["status"],
        reason_expr=reason,
        message_expr=message,
        status=_compile(raw["status"], f"{path}.status", errors),
        reason=_compile(reason, f"{path}.reason", errors) if reason is not None else None,
        message=_compile(message, f"{path}.message", errors) if message is not None else None,
    )


def check_descriptor(desc: EntityDescriptor, path: str) -> Errors:
    """Cross-key rules: named adapters are declared, dependencies form a DAG, types unique."""
    errors: Errors = []
    declared = desc.declared_adapters
    both = sorted(set(desc.required_adapters) & set(desc.optional_adapters))
    if both:
        errors.append((f"{path}.optional_adapters", f"adapters both required and optional: {both}"))
    if desc.validation_adapters is not None:
        errors.extend(
            (f"{path}.validation_adapters", f"adapter '{a}' is not declared")
            for a in desc.validation_adapters
            if a not in declared
        )
    errors.extend(
        (f"{path}.adapters.{a}", f"adapter '{a}' is not declared")
        for a in desc.adapters
        if a not in declared
    )
    errors.extend(graph_errors(desc.adapter_dependencies, declared, f"{path}.adapter_dependencies"))
    seen: set[str] = set()
    for i, rule in enumerate(desc.conditions):
        if rule.type in seen:
            errors.append((f"{path}.conditions[{i}].type", f"duplicate type '{rule.type}'"))
        seen.add(rule.type)
    return errors
