"""Adapter contract validation (post-MVP §3.3 and §3.1 request fields).

All problems of a report are collected and raised together as one 400 `HYPERFLEET-VAL-000`
whose `errors[]` names each field: condition reasons (format, length, per-adapter enums),
messages (length, control characters), `data` against the adapter's JSON Schema (one entry
per violation, `field: data/<json-pointer>`), unknown adapters under `strict_adapters`, and the
optional `state` / `ready` fields, which must agree with the conditions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hyperfleet.domain.adapter_state import AdapterState, derive_state
from hyperfleet.domain.model import (
    DEFAULT_PROGRESSING_REASONS,
    AdapterRules,
    ConditionStatus,
    ReasonFormat,
)
from hyperfleet.errors import ValidationFailed, Violation

if TYPE_CHECKING:
    from hyperfleet.domain.reports import IncomingReport, ReportedCondition

REASON_RE = re.compile(r"[A-Z][A-Za-z0-9]*")
REASON_MAX = 128
MESSAGE_MAX = 2048
# C0 and C1 control characters (and DEL), except \t and \n.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _pointer(path: Sequence[Any]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "data/" + "/".join(parts) if parts else "data"


def contract_violations(
    report: IncomingReport,
    body: Mapping[str, Any],
    *,
    rules: AdapterRules | None,
    reason_format: ReasonFormat,
    declared_adapters: Sequence[str],
    strict_adapters: bool,
) -> list[Violation]:
    problems: list[Violation] = []
    if strict_adapters and report.adapter not in declared_adapters:
        problems.append(
            Violation.with_value(
                "adapter",
                f"adapter '{report.adapter}' is not declared for this kind "
                f"(declared: {', '.join(declared_adapters) or 'none'})",
                report.adapter,
                "enum",
            )
        )
    allowed = rules.reasons if rules is not None else {}
    for index, cond in enumerate(report.conditions):
        problems.extend(_text_violations(index, cond, allowed, reason_format))
    if rules is not None and rules.data_validator is not None:
        data = report.data if report.data is not None else {}
        errors = sorted(rules.data_validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        problems.extend(
            Violation(_pointer(list(err.absolute_path)), err.message, "format") for err in errors
        )
    problems.extend(_state_fields(report, body, rules))
    return problems


def _text_violations(
    index: int,
    cond: ReportedCondition,
    allowed: Mapping[str, tuple[str, ...]],
    reason_format: ReasonFormat,
) -> list[Violation]:
    """Reason format, length and enum; message length and control characters."""
    where = f"conditions[{index}]"
    problems: list[Violation] = []
    if cond.reason is not None:
        if len(cond.reason) > REASON_MAX:
            problems.append(
                Violation(
                    f"{where}.reason",
                    f"reason must be at most {REASON_MAX} characters",
                    "max_length",
                )
            )
        elif reason_format is ReasonFormat.CAMEL_CASE and not REASON_RE.fullmatch(cond.reason):
            problems.append(
                Violation.with_value(
                    f"{where}.reason",
                    "reason must be UpperCamelCase (^[A-Z][A-Za-z0-9]*$)",
                    cond.reason,
                    "pattern",
                )
            )
        enum = allowed.get(cond.type)
        if enum is not None and cond.reason not in enum:
            problems.append(
                Violation.with_value(
                    f"{where}.reason",
                    f"reason for {cond.type} must be one of: {', '.join(enum)}",
                    cond.reason,
                    "enum",
                )
            )
    if cond.message is not None:
        if len(cond.message) > MESSAGE_MAX:
            problems.append(
                Violation(
                    f"{where}.message",
                    f"message must be at most {MESSAGE_MAX} characters",
                    "max_length",
                )
            )
        elif _CONTROL.search(cond.message):
            problems.append(
                Violation(
                    f"{where}.message",
                    "message must not contain control characters other than \\n and \\t",
                    "pattern",
                )
            )
    return problems


def _state_fields(
    report: IncomingReport, body: Mapping[str, Any], rules: AdapterRules | None
) -> list[Violation]:
    problems: list[Violation] = []
    progressing = rules.progressing_reasons if rules is not None else DEFAULT_PROGRESSING_REASONS
    derived = derive_state(report.conditions, progressing)
    if "state" in body and body["state"] is not None:
        claimed = body["state"]
        valid = {s.value for s in AdapterState}
        if not isinstance(claimed, str) or claimed not in valid:
            problems.append(
                Violation.with_value(
                    "state", f"state must be one of: {', '.join(sorted(valid))}", claimed, "enum"
                )
            )
        elif claimed != derived.value:
            problems.append(
                Violation.with_value(
                    "state",
                    f"state '{claimed}' disagrees with the conditions, which say '{derived.value}'",
                    claimed,
                    "enum",
                )
            )
    if "ready" in body and body["ready"] is not None:
        claimed_ready = body["ready"]
        actual = report.status_of("Available") is ConditionStatus.TRUE
        if not isinstance(claimed_ready, bool):
            problems.append(Violation("ready", "field 'ready' must be a boolean", "format"))
        elif claimed_ready != actual:
            problems.append(
                Violation.with_value(
                    "ready",
                    f"ready must be {str(actual).lower()}: it must equal Available == True",
                    claimed_ready,
                    "enum",
                )
            )
    return problems


def check_contract(
    report: IncomingReport,
    body: Mapping[str, Any],
    *,
    rules: AdapterRules | None,
    reason_format: ReasonFormat,
    declared_adapters: Sequence[str],
    strict_adapters: bool,
) -> None:
    problems = contract_violations(
        report,
        body,
        rules=rules,
        reason_format=reason_format,
        declared_adapters=declared_adapters,
        strict_adapters=strict_adapters,
    )
    if problems:
        raise ValidationFailed(problems[0].message, violations=problems)
