"""`spec.simulate`: what a simulated adapter does for a resource (pure rules, no I/O).

`{"simulate": {"<adapter>": "fail" | "unhealthy" | "pending"}}`; while the resource is being
deleted, `"stuck"` keeps that adapter's `Finalized=False` for ever. Any other value, another
adapter's entry, a malformed `simulate`, or none at all: the adapter succeeds (interfaces.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from hyperfleet.adapters.outcome import Outcome


class Mode(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    UNHEALTHY = "unhealthy"
    PENDING = "pending"
    STUCK = "stuck"


_RECONCILE_MODES = frozenset({Mode.FAIL, Mode.UNHEALTHY, Mode.PENDING})


def mode_for(spec: Mapping[str, Any] | None, adapter: str, *, deleting: bool) -> Mode:
    """The mode `spec.simulate` asks of `adapter`; SUCCEED unless it names a known one."""
    simulate = (spec or {}).get("simulate")
    value = simulate.get(adapter) if isinstance(simulate, Mapping) else None
    if not isinstance(value, str):
        return Mode.SUCCEED
    if deleting:
        return Mode.STUCK if value == Mode.STUCK else Mode.SUCCEED
    try:
        mode = Mode(value)
    except ValueError:
        return Mode.SUCCEED
    return mode if mode in _RECONCILE_MODES else Mode.SUCCEED


def reconcile_outcome(adapter: str, generation: int, mode: Mode) -> Outcome:
    """The outcome of a reconcile in `mode`; Applied=True in every mode.

    fail: Available=False; unhealthy: Available=True, Health=False; pending: Available=Unknown;
    succeed: Available=True.
    """
    at = f"at generation {generation}"
    if mode is Mode.FAIL:
        return Outcome.failed("SimulatedFailure", f"spec.simulate.{adapter} = fail {at}")
    if mode is Mode.UNHEALTHY:
        return Outcome.unhealthy("SimulatedUnhealthy", f"spec.simulate.{adapter} = unhealthy {at}")
    if mode is Mode.PENDING:
        return Outcome.progressing(
            f"spec.simulate.{adapter} = pending {at}: stays in progress", reason="SimulatedPending"
        )
    return Outcome.ready(f"{adapter} (simulated) is ready {at}", reason="SimulatedReady")


def finalize_outcome(adapter: str, generation: int, mode: Mode) -> Outcome:
    """stuck: Finalized=False (Health=True) for ever; otherwise finalized."""
    if mode is Mode.STUCK:
        return Outcome.cleaning_up(
            f"spec.simulate.{adapter} = stuck: finalization never completes",
            reason="SimulatedStuck",
        )
    return Outcome.cleaned_up(f"{adapter} (simulated) cleaned up at generation {generation}")


def provisioning_outcome(adapter: str, generation: int, delay: float) -> Outcome:
    """The first report of a delayed reconcile: applied, not yet available."""
    return Outcome.progressing(
        f"{adapter} (simulated) provisioning generation {generation} for {delay:g}s"
    )
