"""AdapterState: one word for what an adapter's latest report says (post-MVP §3.1).

Derived from the report's conditions, first matching row wins:

    Finalized     Finalized=True
    Unhealthy     Health=False
    Ready         Available=True
    Failed        Available=False, Applied=True, reason not a progressing reason
    Provisioning  Applied=True (Available Unknown, or False with a progressing reason)
    Pending       anything else
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Protocol

from hyperfleet.domain.model import DEFAULT_PROGRESSING_REASONS, ConditionStatus


class AdapterState(StrEnum):
    FINALIZED = "Finalized"
    UNHEALTHY = "Unhealthy"
    READY = "Ready"
    FAILED = "Failed"
    PROVISIONING = "Provisioning"
    PENDING = "Pending"


class ConditionLike(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def status(self) -> ConditionStatus: ...

    @property
    def reason(self) -> str | None: ...


def derive_state(
    conditions: Iterable[ConditionLike],
    progressing_reasons: Collection[str] = DEFAULT_PROGRESSING_REASONS,
) -> AdapterState:
    by_type = {c.type: c for c in conditions}

    def status(type_: str) -> ConditionStatus | None:
        cond = by_type.get(type_)
        return cond.status if cond is not None else None

    available = by_type.get("Available")
    applied = status("Applied") is ConditionStatus.TRUE
    if status("Finalized") is ConditionStatus.TRUE:
        return AdapterState.FINALIZED
    if status("Health") is ConditionStatus.FALSE:
        return AdapterState.UNHEALTHY
    if available is not None and available.status is ConditionStatus.TRUE:
        return AdapterState.READY
    progressing = available is not None and available.reason in progressing_reasons
    if available is not None and available.status is ConditionStatus.FALSE and applied:
        return AdapterState.PROVISIONING if progressing else AdapterState.FAILED
    if applied:
        return AdapterState.PROVISIONING
    return AdapterState.PENDING
