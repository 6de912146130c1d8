"""Adapter status reports: validation, the acceptance policy, the merge into the stored row.

The acceptance policy is one seam (`judge`): the reference's "discard" rules live here, and the
post-MVP strict/lenient policies plug in beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hyperfleet.domain.limits import INT32_MAX
from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    ConditionStatus,
    GenerationPolicy,
)
from hyperfleet.errors import GenerationConflict, ValidationFailed, Violation

MANDATORY_CONDITIONS = ("Available", "Applied", "Health")
_STATUS_VALUES = frozenset(s.value for s in ConditionStatus)
FUTURE_WINDOW = timedelta(minutes=5)
PAST_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class ReportedCondition:
    type: str
    status: ConditionStatus
    reason: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class IncomingReport:
    """A validated `PUT …/statuses` body."""

    adapter: str
    observed_generation: int
    observed_time: datetime
    conditions: tuple[ReportedCondition, ...]
    data: dict[str, Any] | None
    metadata: dict[str, Any] | None

    def status_of(self, type_: str) -> ConditionStatus | None:
        for cond in self.conditions:
            if cond.type == type_:
                return cond.status
        return None


class Verdict(StrEnum):
    STORE = "store"
    """Accepted: upsert the row (201)."""
    UNCHANGED = "unchanged"
    """Accepted but identical in generation and time to the stored row: return it as is (201)."""
    DISCARD = "discard"
    """Silently dropped (204)."""


def _fail(field: str, message: str, constraint: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, violations=[Violation(field, message, constraint)])


def _type_name(expected: type) -> str:
    return {int: "a number", str: "a string", list: "an array", dict: "an object"}[expected]


def _typed(body: Mapping[str, Any], key: str, expected: type) -> Any:
    value = body.get(key)
    if value is None:
        return None
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        raise _fail(key, f"field '{key}' must be {_type_name(expected)}", "format")
    return value


def parse_timestamp(raw: str) -> datetime | None:
    """RFC 3339 with a mandatory offset (or Z); None when it is not one."""
    text = raw.strip()
    if len(text) < 20 or text[10] not in "Tt":  # noqa: PLR2004 - shortest RFC 3339 date-time
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_report(body: Mapping[str, Any], *, now: datetime) -> IncomingReport:
    """Validate a report body in the reference's order; the first problem wins (400 VAL-000)."""
    adapter = _typed(body, "adapter", str)
    generation = _typed(body, "observed_generation", int)
    raw_time = _typed(body, "observed_time", str)
    raw_conditions = _typed(body, "conditions", list)
    data = _typed(body, "data", dict)
    metadata = _typed(body, "metadata", dict)

    if not adapter or not adapter.strip():
        raise _fail("adapter", "adapter is required", "required")
    if generation is None:
        raise _fail("observed_generation", "observed_generation is required", "required")
    if generation < 1:
        raise _fail("observed_generation", "observed_generation must be >= 1", "min")
    if generation > INT32_MAX:
        raise _fail("observed_generation", f"observed_generation must be <= {INT32_MAX}", "max")
    conditions = _parse_conditions(raw_conditions or [])
    if raw_time is None:
        raise _fail("observed_time", "observed_time is required", "required")
    observed = parse_timestamp(raw_time)
    if observed is None:
        raise _fail("observed_time", "observed_time must be an RFC 3339 date-time", "format")
    if observed > now + FUTURE_WINDOW:
        raise _fail(
            "observed_time", "observed_time must not be more than 5 minutes in the future", "max"
        )
    if observed < now - PAST_WINDOW:
        raise _fail(
            "observed_time", "observed_time must not be more than 30 minutes in the past", "min"
        )
    return IncomingReport(
        adapter=adapter,
        observed_generation=generation,
        observed_time=observed,
        conditions=conditions,
        data=data,
        metadata=metadata,
    )


def _parse_conditions(raw: list[Any]) -> tuple[ReportedCondition, ...]:
    seen: set[str] = set()
    out: list[ReportedCondition] = []
    for index, item in enumerate(raw):
        where = f"conditions[{index}]"
        if not isinstance(item, dict):
            raise _fail(where, f"condition at index {index} must be an object", "format")
        type_ = item.get("type")
        if not isinstance(type_, str) or not type_.strip():
            raise _fail(
                f"{where}.type", f"condition type cannot be empty at index {index}", "required"
            )
        if type_ in seen:
            raise _fail(
                f"{where}.type", f"duplicate condition type '{type_}' at index {index}", "unique"
            )
        seen.add(type_)
        status = item.get("status")
        # isinstance first: an object or array is unhashable and must be a 400, not a crash.
        if not isinstance(status, str) or status not in _STATUS_VALUES:
            raise _fail(
                f"{where}.status",
                f"invalid status value '{status}' for condition at index {index}: "
                "must be one of True, False, Unknown",
                "enum",
            )
        reason = item.get("reason")
        message = item.get("message")
        for key, value in (("reason", reason), ("message", message)):
            if value is not None and not isinstance(value, str):
                raise _fail(f"{where}.{key}", f"field '{key}' must be a string", "format")
        out.append(ReportedCondition(type_, ConditionStatus(status), reason, message))
    return tuple(out)


def check_mandatory(report: IncomingReport) -> None:
    for type_ in MANDATORY_CONDITIONS:
        if report.status_of(type_) is None:
            raise _fail(
                "conditions",
                f"missing mandatory condition '{type_}': "
                "all adapters must report Available, Applied, and Health",
                "required",
            )


def judge(
    report: IncomingReport, *, resource_generation: int, stored: AdapterReport | None
) -> Verdict:
    """The reference ("discard") policy, evaluated before the mandatory-condition check."""
    if report.observed_generation > resource_generation:
        return Verdict.DISCARD
    if stored is not None:
        if report.observed_generation < stored.observed_generation:
            return Verdict.DISCARD
        same_generation = report.observed_generation == stored.observed_generation
        if same_generation and report.observed_time < stored.last_report_time:
            return Verdict.DISCARD
        if report.status_of("Available") is ConditionStatus.UNKNOWN:
            return Verdict.DISCARD
        if same_generation and report.observed_time == stored.last_report_time:
            return Verdict.UNCHANGED
    return Verdict.STORE


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    warning: str | None = None
    """Set when a lenient policy stores a mismatched report (logged at WARNING)."""


def _conflict(message: str, report: IncomingReport, generation: int) -> GenerationConflict:
    return GenerationConflict(
        message,
        extensions={
            "current_generation": generation,
            "observed_generation": report.observed_generation,
        },
    )


def judge_with_policy(
    report: IncomingReport,
    *,
    policy: GenerationPolicy,
    resource_generation: int,
    stored: AdapterReport | None,
) -> Judgement:
    """Apply the kind's generation policy; strict raises GenerationConflict (409).

    `discard` is the reference (`judge`). Under `strict` and `lenient`, a later report with
    Available=Unknown at the generation already stored for the adapter is still discarded
    (204): it carries no news and would erase known state; at a newer generation it is stored.
    """
    if policy is GenerationPolicy.DISCARD:
        return Judgement(judge(report, resource_generation=resource_generation, stored=stored))
    og, gen = report.observed_generation, resource_generation
    same_as_stored = stored is not None and og == stored.observed_generation
    older_time = (
        same_as_stored and stored is not None and (report.observed_time < stored.last_report_time)
    )
    if policy is GenerationPolicy.STRICT:
        if og > gen:
            raise _conflict(
                f"observed_generation {og} is ahead of the resource's generation {gen}",
                report,
                gen,
            )
        if og < gen:
            raise _conflict(
                f"observed_generation {og} is behind the resource's generation {gen}",
                report,
                gen,
            )
        if older_time:
            raise _conflict(
                f"observed_time is older than the stored report at generation {og}",
                report,
                gen,
            )
        warning = None
    else:
        warning = None
        if og != gen:
            side = "ahead of" if og > gen else "behind"
            warning = f"observed_generation {og} is {side} resource generation {gen}"
        elif older_time:
            warning = f"observed_time is older than the stored report at generation {og}"
    if (
        same_as_stored
        and report.status_of("Available") is ConditionStatus.UNKNOWN
        and report.status_of("Finalized") is not ConditionStatus.TRUE
    ):
        # A finalizing report always counts (the reference would drop it and the resource
        # would stay Deleting until force-deleted).
        return Judgement(Verdict.DISCARD)
    if same_as_stored and stored is not None and report.observed_time == stored.last_report_time:
        return Judgement(Verdict.UNCHANGED)
    return Judgement(Verdict.STORE, warning)


def merge(report: IncomingReport, stored: AdapterReport | None) -> AdapterReport:
    """The row to store: transition times kept for conditions whose status did not change."""
    at = report.observed_time
    before = {c.type: c for c in stored.conditions} if stored is not None else {}
    conditions = []
    for cond in report.conditions:
        previous = before.get(cond.type)
        changed = previous is None or previous.status is not cond.status
        conditions.append(
            AdapterCondition(
                type=cond.type,
                status=cond.status,
                reason=cond.reason,
                message=cond.message,
                last_transition_time=(
                    previous.last_transition_time if previous is not None and not changed else at
                ),
            )
        )
    return AdapterReport(
        adapter=report.adapter,
        observed_generation=report.observed_generation,
        conditions=tuple(conditions),
        created_time=stored.created_time if stored is not None else at,
        last_report_time=at,
        data=report.data,
        metadata=report.metadata,
        last_known=_last_known(report, stored),
    )


def _last_known(report: IncomingReport, stored: AdapterReport | None) -> AdapterReport | None:
    if stored is None or report.status_of("Available") is not ConditionStatus.UNKNOWN:
        return None
    if stored.status_of("Available") in {ConditionStatus.TRUE, ConditionStatus.FALSE}:
        return replace(stored, last_known=None)
    return stored.last_known


def reference_input(report: AdapterReport) -> AdapterReport:
    """The report the reference conditions aggregate for this adapter."""
    if report.status_of("Available") is ConditionStatus.UNKNOWN and report.last_known is not None:
        return report.last_known
    return report


def should_reaggregate(report: IncomingReport) -> bool:
    """The reference re-aggregates only when Available is True or False."""
    return report.status_of("Available") in {ConditionStatus.TRUE, ConditionStatus.FALSE}
