"""Resource phases (post-MVP §4.1), computed on write from the adapters' states.

First matching row wins; the order is fixed so that no configuration can hide a degraded
resource:

    Deleting      deleted_time is set
    Degraded      some required adapter's latest report is Unhealthy (any generation)
    Failed        some required adapter is Failed at the current generation
    Ready         every required adapter is Ready at the current generation
    Provisioning  some required adapter is Provisioning or Ready at the current generation
    Pending       otherwise

A kind with no required adapters is Ready unless deleting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hyperfleet.domain.adapter_state import AdapterState
from hyperfleet.domain.model import Phase, PhaseRecord


@dataclass(frozen=True, slots=True)
class AdapterView:
    """One adapter's latest stored report, reduced to what phases and summaries need."""

    adapter: str
    state: AdapterState
    observed_generation: int
    last_report_time: datetime
    available_reason: str | None = None
    available_message: str | None = None


def in_state_at(
    views: Mapping[str, AdapterView], adapter: str, state: AdapterState, generation: int
) -> bool:
    """True when `adapter`'s latest report is in `state` at exactly `generation`."""
    view = views.get(adapter)
    return view is not None and view.observed_generation == generation and view.state is state


@dataclass(frozen=True, slots=True)
class PhaseStatus:
    phase: Phase
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class PhaseTransition:
    """One row of phase history."""

    from_phase: Phase | None
    to_phase: Phase
    generation: int
    reason: str
    message: str
    time: datetime


def _names(items: Sequence[str]) -> str:
    return ", ".join(sorted(items))


def compute_phase(  # noqa: PLR0911 - one return per row of the phase table
    *,
    generation: int,
    is_deleting: bool,
    required: Sequence[str],
    views: Mapping[str, AdapterView],
) -> PhaseStatus:
    total = len(required)
    current = {
        a: views[a] for a in required if a in views and views[a].observed_generation == generation
    }
    ready = [a for a, v in current.items() if v.state is AdapterState.READY]
    if is_deleting:
        finalized = [a for a, v in current.items() if v.state is AdapterState.FINALIZED]
        return PhaseStatus(
            Phase.DELETING,
            "DeletionRequested",
            f"{len(finalized)} of {total} required adapters finalized at generation {generation}",
        )
    unhealthy = [a for a in required if a in views and views[a].state is AdapterState.UNHEALTHY]
    if unhealthy:
        return PhaseStatus(
            Phase.DEGRADED, "AdaptersUnhealthy", f"unhealthy adapters: {_names(unhealthy)}"
        )
    failed = [a for a, v in current.items() if v.state is AdapterState.FAILED]
    if failed:
        return PhaseStatus(
            Phase.FAILED,
            "AdaptersFailed",
            f"failed adapters at generation {generation}: {_names(failed)}",
        )
    if total == 0:
        return PhaseStatus(Phase.READY, "NoRequiredAdapters", "the kind has no required adapters")
    progress = f"{len(ready)} of {total} required adapters ready at generation {generation}"
    if len(ready) == total:
        return PhaseStatus(Phase.READY, "AllAdaptersReady", progress)
    if any(v.state in {AdapterState.PROVISIONING, AdapterState.READY} for v in current.values()):
        return PhaseStatus(Phase.PROVISIONING, "AdaptersProgressing", progress)
    return PhaseStatus(Phase.PENDING, "AdaptersPending", progress)


def advance(
    previous: PhaseRecord | None, new: PhaseStatus, *, generation: int, now: datetime
) -> tuple[PhaseRecord, PhaseTransition | None]:
    """The stored phase after `new` is computed, and the history row when the phase changed."""
    if previous is not None and previous.phase is new.phase:
        return PhaseRecord(new.phase, new.reason, new.message, previous.last_transition_time), None
    record = PhaseRecord(new.phase, new.reason, new.message, now)
    transition = PhaseTransition(
        from_phase=previous.phase if previous is not None else None,
        to_phase=new.phase,
        generation=generation,
        reason=new.reason,
        message=new.message,
        time=now,
    )
    return record, transition
