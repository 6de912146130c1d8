"""Post-MVP resource conditions (§4.3) and the `status.adapters[]` summary.

After the reference's `Reconciled`, `LastKnownReconciled` and `<Adapter>Successful` come, in
this order: `AllAdaptersReady`, `ValidationPassed` (omitted when the kind lists no validation
adapter) and the kind's configured CEL conditions. Conditions follow Kubernetes rules:
`last_transition_time` moves only when the status flips; `last_updated_time` is the time of
the recompute; `observed_generation` is the resource's generation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hyperfleet.domain.adapter_state import AdapterState
from hyperfleet.domain.model import ConditionStatus, ConfiguredCondition, ResourceCondition
from hyperfleet.domain.phases import AdapterView, in_state_at

RESERVED_TYPES = frozenset(
    {"Reconciled", "LastKnownReconciled", "AllAdaptersReady", "ValidationPassed"}
)
MESSAGE_LIMIT = 2048
REASON_LIMIT = 256


def is_reserved_type(type_: str) -> bool:
    return type_ in RESERVED_TYPES or type_.endswith("Successful")


@dataclass(frozen=True, slots=True)
class Verdict:
    status: ConditionStatus
    reason: str
    message: str


def _condition(
    type_: str,
    verdict: Verdict,
    *,
    generation: int,
    previous: Mapping[str, ResourceCondition],
    now: datetime,
) -> ResourceCondition:
    old = previous.get(type_)
    unchanged = old is not None and old.status is verdict.status
    return ResourceCondition(
        type=type_,
        status=verdict.status,
        reason=verdict.reason,
        message=verdict.message,
        observed_generation=generation,
        created_time=old.created_time if old is not None else now,
        last_updated_time=now,
        last_transition_time=old.last_transition_time if unchanged and old is not None else now,
    )


def all_adapters_ready(
    adapters: Sequence[str], views: Mapping[str, AdapterView], generation: int
) -> Verdict:
    not_ready = sorted(
        a for a in adapters if not in_state_at(views, a, AdapterState.READY, generation)
    )
    if not_ready:
        return Verdict(
            ConditionStatus.FALSE,
            "AdaptersNotReady",
            f"adapters not Ready at generation {generation}: {', '.join(not_ready)}",
        )
    return Verdict(
        ConditionStatus.TRUE,
        "AllAdaptersReady",
        f"all {len(adapters)} adapters Ready at generation {generation}",
    )


def validation_passed(
    validators: Sequence[str], views: Mapping[str, AdapterView], generation: int
) -> Verdict:
    for adapter in validators:
        if in_state_at(views, adapter, AdapterState.FAILED, generation):
            return Verdict(
                ConditionStatus.FALSE,
                "ValidationFailed",
                views[adapter].available_message or f"{adapter} reported a validation failure",
            )
    pending = sorted(
        a for a in validators if not in_state_at(views, a, AdapterState.READY, generation)
    )
    if pending:
        return Verdict(
            ConditionStatus.FALSE,
            "ValidationPending",
            f"validation not complete at generation {generation}: {', '.join(pending)}",
        )
    return Verdict(
        ConditionStatus.TRUE, "ValidationSucceeded", f"validation passed at generation {generation}"
    )


def _as_status(value: Any) -> ConditionStatus | None:
    if isinstance(value, bool):
        return ConditionStatus.TRUE if value else ConditionStatus.FALSE
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return ConditionStatus.TRUE if value.lower() == "true" else ConditionStatus.FALSE
    return None


def evaluate_configured(rule: ConfiguredCondition, context: dict[str, Any]) -> Verdict:
    """Run one configured condition.

    A runtime error or a non-boolean status gives status False with reason `EvaluationError`,
    so a faulty rule never rejects a report.
    """
    if rule.status is None:
        return Verdict(ConditionStatus.FALSE, "EvaluationError", "status expression not compiled")
    try:
        status = _as_status(rule.status.execute(context))
        if status is None:
            return Verdict(
                ConditionStatus.FALSE, "EvaluationError", "status expression is not a boolean"
            )
        reason = str(rule.reason.execute(context)) if rule.reason is not None else rule.type
        message = str(rule.message.execute(context)) if rule.message is not None else ""
    except Exception as exc:  # noqa: BLE001 - any evaluation failure is reported, not raised
        return Verdict(ConditionStatus.FALSE, "EvaluationError", str(exc)[:MESSAGE_LIMIT])
    return Verdict(status, reason[:REASON_LIMIT], message[:MESSAGE_LIMIT])


def engine_conditions(
    *,
    generation: int,
    all_adapters: Sequence[str],
    validators: Sequence[str],
    configured: Sequence[ConfiguredCondition],
    views: Mapping[str, AdapterView],
    cel_context: dict[str, Any],
    previous: Sequence[ResourceCondition],
    now: datetime,
) -> tuple[ResourceCondition, ...]:
    prev = {c.type: c for c in previous}
    out = [
        _condition(
            "AllAdaptersReady",
            all_adapters_ready(all_adapters, views, generation),
            generation=generation,
            previous=prev,
            now=now,
        )
    ]
    if validators:
        out.append(
            _condition(
                "ValidationPassed",
                validation_passed(validators, views, generation),
                generation=generation,
                previous=prev,
                now=now,
            )
        )
    out.extend(
        _condition(
            rule.type,
            evaluate_configured(rule, cel_context),
            generation=generation,
            previous=prev,
            now=now,
        )
        for rule in configured
    )
    return tuple(out)
