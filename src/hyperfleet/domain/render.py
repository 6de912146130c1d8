"""The JSON shapes of the official contract: Resource (Cluster, NodePool, …) and AdapterStatus.

Storage keeps each resource's rendered bytes beside the row, so GET and list stream them
without parsing. Field order follows the OpenAPI schemas.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from hyperfleet.domain.adapter_state import derive_state
from hyperfleet.domain.model import (
    DEFAULT_PROGRESSING_REASONS,
    AdapterReport,
    AdapterSummary,
    Resource,
    ResourceCondition,
)
from hyperfleet.domain.phases import PhaseTransition

_encoder = msgspec.json.Encoder()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def condition_to_dict(cond: ResourceCondition) -> dict[str, Any]:
    out: dict[str, Any] = {"type": cond.type, "status": cond.status.value}
    if cond.reason is not None:
        out["reason"] = cond.reason
    if cond.message is not None:
        out["message"] = cond.message
    out["observed_generation"] = cond.observed_generation
    out["created_time"] = cond.created_time
    out["last_updated_time"] = cond.last_updated_time
    out["last_transition_time"] = cond.last_transition_time
    return out


def resource_to_dict(resource: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": resource.id,
        "kind": resource.kind,
        "name": resource.name,
        "href": resource.href,
        "spec": resource.spec,
    }
    if resource.labels:
        out["labels"] = resource.labels
    out["generation"] = resource.generation
    if resource.owner_id is not None:
        out["owner_references"] = {
            "id": resource.owner_id,
            "kind": resource.owner_kind,
            "href": resource.owner_href,
        }
    out["created_time"] = resource.created_time
    out["updated_time"] = resource.updated_time
    out["created_by"] = resource.created_by
    out["updated_by"] = resource.updated_by
    if resource.deleted_time is not None:
        out["deleted_time"] = resource.deleted_time
        out["deleted_by"] = resource.deleted_by
    out["status"] = status_to_dict(resource)
    # Last, so that migration 0007 could append it to the bodies stored before it.
    out["tenancy"] = resource.tenancy
    return out


def _summary_to_dict(item: AdapterSummary) -> dict[str, Any]:
    out: dict[str, Any] = {"adapter": item.adapter, "state": item.state, "required": item.required}
    if item.observed_generation is not None:
        out["observed_generation"] = item.observed_generation
    if item.last_report_time is not None:
        out["last_report_time"] = item.last_report_time
    out["blocked_by"] = list(item.blocked_by)
    return out


def status_to_dict(resource: Resource) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if resource.phase is not None:
        status["phase"] = resource.phase.phase.value
        status["phase_reason"] = resource.phase.reason
        status["phase_message"] = resource.phase.message
        status["last_phase_transition_time"] = resource.phase.last_transition_time
    status["conditions"] = [condition_to_dict(c) for c in resource.conditions]
    status["adapters"] = [_summary_to_dict(a) for a in resource.adapters]
    return status


def etag(generation: int, updated_time: datetime) -> str:
    """Strong validator: changes with every write that bumps generation or updated_time."""
    micros = (updated_time - _EPOCH) // timedelta(microseconds=1)
    return f'"{generation}-{micros}"'


def transition_to_dict(item: PhaseTransition) -> dict[str, Any]:
    return {
        "from_phase": item.from_phase.value if item.from_phase is not None else None,
        "to_phase": item.to_phase.value,
        "generation": item.generation,
        "reason": item.reason,
        "message": item.message,
        "time": item.time,
    }


def render_resource(resource: Resource) -> bytes:
    return encode(resource_to_dict(resource))


def report_to_dict(
    report: AdapterReport, progressing_reasons: tuple[str, ...] = DEFAULT_PROGRESSING_REASONS
) -> dict[str, Any]:
    conditions = []
    for cond in report.conditions:
        item: dict[str, Any] = {"type": cond.type, "status": cond.status.value}
        if cond.reason is not None:
            item["reason"] = cond.reason
        if cond.message is not None:
            item["message"] = cond.message
        item["last_transition_time"] = cond.last_transition_time
        conditions.append(item)
    out: dict[str, Any] = {
        "adapter": report.adapter,
        "observed_generation": report.observed_generation,
        "state": derive_state(report.conditions, progressing_reasons).value,
        "conditions": conditions,
    }
    if report.metadata is not None:
        out["metadata"] = report.metadata
    out["data"] = report.data if report.data is not None else {}
    out["created_time"] = report.created_time
    out["last_report_time"] = report.last_report_time
    return out
