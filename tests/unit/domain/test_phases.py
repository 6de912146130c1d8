"""Resource phases (post-MVP §4.1) and phase history rows (§4.2).

First matching row wins, in a fixed order:

    Deleting      deleted_time is set
    Degraded      some required adapter's latest report is Unhealthy
    Failed        some required adapter is Failed at the current generation
    Ready         every required adapter is Ready at the current generation
    Provisioning  some required adapter is Provisioning or Ready at the current generation
    Pending       otherwise

A kind with no required adapters is Ready unless deleting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hyperfleet.domain.adapter_state import AdapterState
from hyperfleet.domain.model import Phase, PhaseRecord
from hyperfleet.domain.phases import (
    AdapterView,
    PhaseStatus,
    PhaseTransition,
    advance,
    compute_phase,
)

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T0, T1, T2, T3 = (BASE + timedelta(minutes=i) for i in range(4))

FIN = AdapterState.FINALIZED
UNH = AdapterState.UNHEALTHY
RDY = AdapterState.READY
FLD = AdapterState.FAILED
PRV = AdapterState.PROVISIONING
PND = AdapterState.PENDING

REQUIRED = ("validation", "dns")
GEN = 3


def views(**states: tuple[AdapterState, int]) -> dict[str, AdapterView]:
    return {
        name: AdapterView(adapter=name, state=state, observed_generation=gen, last_report_time=T0)
        for name, (state, gen) in states.items()
    }


PHASE_TABLE = [
    # --- Deleting --------------------------------------------------------------------------
    pytest.param(True, REQUIRED, {}, Phase.DELETING, id="deleting-no-reports"),
    pytest.param(
        True,
        REQUIRED,
        views(validation=(UNH, GEN), dns=(FLD, GEN)),
        Phase.DELETING,
        id="deleting-beats-degraded-and-failed",
    ),
    pytest.param(
        True,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(RDY, GEN)),
        Phase.DELETING,
        id="deleting-beats-ready",
    ),
    pytest.param(True, (), {}, Phase.DELETING, id="deleting-without-required-adapters"),
    # --- Degraded --------------------------------------------------------------------------
    pytest.param(
        False,
        REQUIRED,
        views(validation=(UNH, GEN), dns=(RDY, GEN)),
        Phase.DEGRADED,
        id="degraded-current-generation",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(UNH, GEN - 2), dns=(RDY, GEN)),
        Phase.DEGRADED,
        id="degraded-from-old-generation",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(UNH, GEN), dns=(FLD, GEN)),
        Phase.DEGRADED,
        id="degraded-beats-failed",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(UNH, GEN), dns=(PRV, GEN)),
        Phase.DEGRADED,
        id="degraded-beats-provisioning",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(RDY, GEN), monitoring=(UNH, GEN)),
        Phase.READY,
        id="unhealthy-non-required-adapter-ignored",
    ),
    # --- Failed ----------------------------------------------------------------------------
    pytest.param(
        False,
        REQUIRED,
        views(validation=(FLD, GEN), dns=(RDY, GEN)),
        Phase.FAILED,
        id="failed-current-generation",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(FLD, GEN), dns=(PRV, GEN)),
        Phase.FAILED,
        id="failed-beats-provisioning",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(FLD, GEN - 1), dns=(RDY, GEN)),
        Phase.PROVISIONING,
        id="failed-at-old-generation-is-not-failed",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(FLD, GEN - 1)),
        Phase.PENDING,
        id="failed-at-old-generation-alone-is-pending",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(RDY, GEN), monitoring=(FLD, GEN)),
        Phase.READY,
        id="failed-non-required-adapter-ignored",
    ),
    # --- Ready -----------------------------------------------------------------------------
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(RDY, GEN)),
        Phase.READY,
        id="ready-all-required-at-current-generation",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(RDY, GEN - 1)),
        Phase.PROVISIONING,
        id="ready-at-old-generation-does-not-count",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(RDY, GEN), monitoring=(PND, GEN)),
        Phase.READY,
        id="ready-ignores-non-required-adapters",
    ),
    pytest.param(False, (), {}, Phase.READY, id="no-required-adapters-is-ready"),
    pytest.param(
        False,
        (),
        views(monitoring=(FLD, GEN)),
        Phase.READY,
        id="no-required-adapters-ready-whatever-others-say",
    ),
    # --- Provisioning ----------------------------------------------------------------------
    pytest.param(
        False,
        REQUIRED,
        views(validation=(PRV, GEN)),
        Phase.PROVISIONING,
        id="provisioning-one-provisioning",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN)),
        Phase.PROVISIONING,
        id="provisioning-one-ready-one-missing",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(PND, GEN)),
        Phase.PROVISIONING,
        id="provisioning-beats-pending",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(PRV, GEN - 1), dns=(RDY, GEN - 1)),
        Phase.PENDING,
        id="provisioning-at-old-generation-is-pending",
    ),
    # --- Pending ---------------------------------------------------------------------------
    pytest.param(False, REQUIRED, {}, Phase.PENDING, id="pending-just-created"),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(PND, GEN), dns=(PND, GEN)),
        Phase.PENDING,
        id="pending-all-waiting",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN - 1), dns=(RDY, GEN - 1)),
        Phase.PENDING,
        id="pending-just-patched",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(FIN, GEN), dns=(FIN, GEN)),
        Phase.PENDING,
        id="pending-finalized-while-not-deleting",
    ),
]


@pytest.mark.parametrize(("deleting", "required", "adapter_views", "expected"), PHASE_TABLE)
def test_phase_table(
    deleting: bool,
    required: tuple[str, ...],
    adapter_views: dict[str, AdapterView],
    expected: Phase,
) -> None:
    status = compute_phase(
        generation=GEN, is_deleting=deleting, required=required, views=adapter_views
    )
    assert status.phase is expected


STRINGS_TABLE = [
    pytest.param(
        True,
        REQUIRED,
        views(validation=(FIN, GEN), dns=(RDY, GEN)),
        PhaseStatus(
            Phase.DELETING,
            "DeletionRequested",
            "1 of 2 required adapters finalized at generation 3",
        ),
        id="deleting",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(UNH, 1), dns=(UNH, GEN)),
        PhaseStatus(Phase.DEGRADED, "AdaptersUnhealthy", "unhealthy adapters: dns, validation"),
        id="degraded",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(FLD, GEN), dns=(FLD, GEN)),
        PhaseStatus(
            Phase.FAILED, "AdaptersFailed", "failed adapters at generation 3: dns, validation"
        ),
        id="failed",
    ),
    pytest.param(
        False,
        REQUIRED,
        views(validation=(RDY, GEN), dns=(RDY, GEN)),
        PhaseStatus(
            Phase.READY, "AllAdaptersReady", "2 of 2 required adapters ready at generation 3"
        ),
        id="ready",
    ),
    pytest.param(
        False,
        (),
        {},
        PhaseStatus(Phase.READY, "NoRequiredAdapters", "the kind has no required adapters"),
        id="ready-no-required",
    ),
    pytest.param(
        False,
        ("validation", "dns", "pullsecret", "hypershift"),
        views(validation=(RDY, GEN), dns=(RDY, GEN), pullsecret=(PRV, GEN)),
        PhaseStatus(
            Phase.PROVISIONING,
            "AdaptersProgressing",
            "2 of 4 required adapters ready at generation 3",
        ),
        id="provisioning-spec-example",
    ),
    pytest.param(
        False,
        REQUIRED,
        {},
        PhaseStatus(
            Phase.PENDING, "AdaptersPending", "0 of 2 required adapters ready at generation 3"
        ),
        id="pending",
    ),
]


@pytest.mark.parametrize(("deleting", "required", "adapter_views", "expected"), STRINGS_TABLE)
def test_phase_reason_and_message(
    deleting: bool,
    required: tuple[str, ...],
    adapter_views: dict[str, AdapterView],
    expected: PhaseStatus,
) -> None:
    status = compute_phase(
        generation=GEN, is_deleting=deleting, required=required, views=adapter_views
    )
    assert status == expected


# --- advance: the stored phase record and the history row --------------------------------------


def test_advance_from_none_on_creation() -> None:
    new = PhaseStatus(Phase.PENDING, "AdaptersPending", "0 of 2 required adapters ready")
    record, transition = advance(None, new, generation=1, now=T1)
    assert record == PhaseRecord(Phase.PENDING, "AdaptersPending", new.message, T1)
    assert transition == PhaseTransition(
        from_phase=None,
        to_phase=Phase.PENDING,
        generation=1,
        reason="AdaptersPending",
        message=new.message,
        time=T1,
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(Phase.PENDING, Phase.PROVISIONING, id="pending-to-provisioning"),
        pytest.param(Phase.PROVISIONING, Phase.READY, id="provisioning-to-ready"),
        pytest.param(Phase.READY, Phase.PROVISIONING, id="ready-to-provisioning"),
        pytest.param(Phase.READY, Phase.DEGRADED, id="ready-to-degraded"),
        pytest.param(Phase.FAILED, Phase.DELETING, id="failed-to-deleting"),
    ],
)
def test_advance_yields_a_transition_when_the_phase_changes(before: Phase, after: Phase) -> None:
    previous = PhaseRecord(before, "Old", "old message", T0)
    new = PhaseStatus(after, "NewReason", "new message")
    record, transition = advance(previous, new, generation=4, now=T2)
    assert record == PhaseRecord(after, "NewReason", "new message", T2)
    assert transition == PhaseTransition(
        from_phase=before,
        to_phase=after,
        generation=4,
        reason="NewReason",
        message="new message",
        time=T2,
    )


@pytest.mark.parametrize("phase", list(Phase), ids=str)
def test_advance_keeps_transition_time_when_phase_is_unchanged(phase: Phase) -> None:
    previous = PhaseRecord(phase, "Old", "1 of 2", T0)
    new = PhaseStatus(phase, "New", "2 of 3")
    record, transition = advance(previous, new, generation=5, now=T3)
    assert transition is None
    assert record.phase is phase
    assert record.last_transition_time == T0
    # reason and message follow the latest computation
    assert (record.reason, record.message) == ("New", "2 of 3")
