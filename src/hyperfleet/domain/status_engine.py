"""The whole aggregated status of one resource, computed on write (pure).

Inputs are the resource (with its previous conditions and phase), its kind's descriptor, the
stored adapter reports and two times: the resource's `updated_time` drives the reference
conditions (deterministic, as the reference), and `now` stamps what the post-MVP engine adds
(condition update times, phase transitions). Output order of conditions: `Reconciled`,
`LastKnownReconciled`, `<Adapter>Successful`…, `AllAdaptersReady`, `ValidationPassed`, then the
configured CEL conditions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hyperfleet.domain import aggregation
from hyperfleet.domain.adapter_state import derive_state
from hyperfleet.domain.dependencies import blocked_by
from hyperfleet.domain.engine_conditions import engine_conditions
from hyperfleet.domain.model import (
    AdapterReport,
    AdapterSummary,
    EntityDescriptor,
    PhaseRecord,
    Resource,
    ResourceCondition,
)
from hyperfleet.domain.phases import AdapterView, PhaseTransition, advance, compute_phase
from hyperfleet.domain.reports import reference_input

_SENSITIVE = re.compile(
    r"password|secret|token|credential|api_?key|cert|auth|private|connection|kubeconfig",
    re.IGNORECASE,
)
MASK = "***REDACTED***"
_MASK_DEPTH = 20


@dataclass(frozen=True, slots=True)
class StatusResult:
    conditions: tuple[ResourceCondition, ...]
    phase: PhaseRecord
    transition: PhaseTransition | None
    adapters: tuple[AdapterSummary, ...]


def adapter_views(
    desc: EntityDescriptor, reports: Sequence[AdapterReport], generation: int
) -> dict[str, AdapterView]:
    """States of the stored reports.

    Reports ahead of the resource (kept by the lenient policy) are left out, as aggregation
    ignores them.
    """
    views: dict[str, AdapterView] = {}
    for report in reports:
        if report.observed_generation > generation:
            continue
        available = report.condition("Available")
        views[report.adapter] = AdapterView(
            adapter=report.adapter,
            state=derive_state(report.conditions, desc.progressing_reasons(report.adapter)),
            observed_generation=report.observed_generation,
            last_report_time=report.last_report_time,
            available_reason=available.reason if available is not None else None,
            available_message=available.message if available is not None else None,
        )
    return views


def mask(value: Any, depth: int = 0) -> Any:
    """Sensitive keys (password, token, secret, …) replaced before CEL sees the data."""
    if depth > _MASK_DEPTH:
        return MASK
    if isinstance(value, dict):
        return {
            k: MASK if _SENSITIVE.search(str(k)) else mask(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v, depth + 1) for v in value]
    return value


def cel_context(
    resource: Resource, reports: Sequence[AdapterReport], views: dict[str, AdapterView]
) -> dict[str, Any]:
    statuses = []
    for report in reports:
        if report.observed_generation > resource.generation:
            continue  # kept by the lenient policy, ignored by aggregation
        view = views.get(report.adapter)
        statuses.append(
            {
                "adapter": report.adapter,
                "state": view.state.value if view is not None else "Pending",
                "observed_generation": report.observed_generation,
                "conditions": [
                    {
                        "type": c.type,
                        "status": c.status.value,
                        "reason": c.reason or "",
                        "message": c.message or "",
                    }
                    for c in report.conditions
                ],
                "data": mask(report.data or {}),
            }
        )
    return {
        "resource": {
            "id": resource.id,
            "kind": resource.kind,
            "name": resource.name,
            "generation": resource.generation,
            "spec": mask(resource.spec),
            "labels": dict(resource.labels),
            "deleted": resource.is_deleting,
            "owner_id": resource.owner_id or "",
        },
        "statuses": statuses,
    }


def summarize(
    desc: EntityDescriptor, views: dict[str, AdapterView], generation: int
) -> tuple[AdapterSummary, ...]:
    declared = desc.declared_adapters
    others = sorted(a for a in views if a not in declared)
    out = []
    for adapter in (*declared, *others):
        view = views.get(adapter)
        out.append(
            AdapterSummary(
                adapter=adapter,
                state=view.state.value if view is not None else "Pending",
                required=adapter in desc.required_adapters,
                observed_generation=view.observed_generation if view is not None else None,
                last_report_time=view.last_report_time if view is not None else None,
                blocked_by=tuple(blocked_by(adapter, desc.adapter_dependencies, views, generation)),
            )
        )
    return tuple(out)


def compute_status(
    *,
    desc: EntityDescriptor,
    resource: Resource,
    reports: Sequence[AdapterReport],
    has_children: bool,
    now: datetime,
) -> StatusResult:
    generation = resource.generation
    reference = aggregation.aggregate(
        generation=generation,
        required_adapters=desc.required_adapters,
        reports=[reference_input(r) for r in reports],
        previous=resource.conditions,
        ref_time=resource.updated_time,
        is_deleting=resource.is_deleting,
        has_active_children=has_children,
    )
    views = adapter_views(desc, reports, generation)
    extra = engine_conditions(
        generation=generation,
        all_adapters=desc.declared_adapters,
        validators=desc.effective_validation_adapters,
        configured=desc.conditions,
        views=views,
        cel_context=cel_context(resource, reports, views) if desc.conditions else {},
        previous=resource.conditions,
        now=now,
    )
    phase_status = compute_phase(
        generation=generation,
        is_deleting=resource.is_deleting,
        required=desc.required_adapters,
        views=views,
    )
    record, transition = advance(resource.phase, phase_status, generation=generation, now=now)
    return StatusResult(
        conditions=(*reference, *extra),
        phase=record,
        transition=transition,
        adapters=summarize(desc, views, generation),
    )
