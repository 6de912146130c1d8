"""Outcome → status report body, and the rules for reading an adapter's stored report back.

Every report carries `Applied`, `Available` and `Health`, plus `Finalized` while the resource is
being deleted (and only then); every condition has a non-empty reason and message; no report
ever carries a `Ready` condition. `data` gets the bookkeeping fields `reconciled_generation`
(the generation the adapter last did work for) and `reconcile_count` (how many generations it
did work for), which an event for an already handled generation leaves unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hyperfleet.adapters.outcome import Outcome
from hyperfleet.client.types import AdapterStatus

RECONCILED_GENERATION = "reconciled_generation"
RECONCILE_COUNT = "reconcile_count"
_MANDATORY = ("Applied", "Available", "Health")


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tri(value: bool | None) -> str:
    return "Unknown" if value is None else ("True" if value else "False")


def conditions_for(
    adapter: str, generation: int, outcome: Outcome, *, deleting: bool
) -> list[dict[str, str]]:
    """The report's conditions; the outcome's reason and message go wherever they explain."""

    def cond(kind: str, status: str, reason: str, message: str) -> dict[str, str]:
        return {"type": kind, "status": status, "reason": reason, "message": message}

    own = (outcome.reason, outcome.message)
    applied = ("Applied", f"{adapter} applied generation {generation}") if outcome.applied else own
    health = (
        ("Healthy", f"{adapter} handled generation {generation} without errors")
        if outcome.healthy
        else own
    )
    conditions = [
        cond("Applied", tri(outcome.applied), *applied),
        cond("Available", tri(outcome.available), *own),
        cond("Health", tri(outcome.healthy), *health),
    ]
    if deleting:
        done = outcome.finalized is True
        conditions.append(cond("Finalized", tri(done), *own))
    return conditions


def bookkeeping(
    previous: Mapping[str, Any] | None, generation: int, *, worked: bool
) -> dict[str, int]:
    """`reconciled_generation` / `reconcile_count` after this handling.

    `worked` says whether reconcile() or finalize() ran. Work at a generation already counted
    (a retry, a pending resource looked at again) does not count twice.
    """
    prev_gen = _int(previous, RECONCILED_GENERATION)
    prev_count = _int(previous, RECONCILE_COUNT)
    if not worked:
        return {RECONCILED_GENERATION: prev_gen, RECONCILE_COUNT: prev_count}
    if prev_gen == generation and prev_count > 0:
        return {RECONCILED_GENERATION: generation, RECONCILE_COUNT: prev_count}
    return {RECONCILED_GENERATION: generation, RECONCILE_COUNT: prev_count + 1}


def _int(data: Mapping[str, Any] | None, key: str) -> int:
    value = (data or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def build_report(
    adapter: str,
    generation: int,
    outcome: Outcome,
    *,
    deleting: bool,
    observed_time: datetime,
    counters: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The `PUT …/statuses` body for one outcome."""
    data: dict[str, Any] = dict(outcome.data)
    if counters is not None:
        data.update(counters)
    return {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": rfc3339(observed_time),
        "conditions": conditions_for(adapter, generation, outcome, deleting=deleting),
        "data": data,
    }


def statuses_of(report: AdapterStatus) -> dict[str, str]:
    return {c["type"]: c["status"] for c in report.get("conditions", [])}


def is_settled(report: AdapterStatus | None, generation: int, *, deleting: bool) -> bool:
    """Has this adapter already finished its work for `generation`?

    Not deleting: applied, and Available True or False. Deleting: Finalized=True. A report in
    progress (Available=Unknown, waiting for dependencies, a terminal error's Applied=False) is
    not settled, so the next event does the work again.
    """
    if report is None or report.get("observed_generation") != generation:
        return False
    status = statuses_of(report)
    if deleting:
        return status.get("Finalized") == "True"
    return status.get("Applied") == "True" and status.get("Available") in {"True", "False"}


def resend(report: AdapterStatus, *, observed_time: datetime) -> dict[str, Any]:
    """The stored report again with a fresh `observed_time`.

    The Sentinel measures staleness from the oldest report time, so an adapter that skips work
    still reports; otherwise the resource looks stale and is re-published on every poll.
    """
    conditions: list[dict[str, str]] = []
    for c in report.get("conditions", []):
        if c["type"] == "Ready":
            continue
        conditions.append(
            {
                "type": c["type"],
                "status": c["status"],
                "reason": c.get("reason") or "Reported",
                "message": c.get("message") or f"{c['type']} is {c['status']}",
            }
        )
    return {
        "adapter": report["adapter"],
        "observed_generation": report["observed_generation"],
        "observed_time": rfc3339(observed_time),
        "conditions": conditions,
        "data": dict(report.get("data") or {}),
    }


def mandatory_present(report: Mapping[str, Any]) -> bool:
    types = {c["type"] for c in report.get("conditions", [])}
    return all(t in types for t in _MANDATORY)
