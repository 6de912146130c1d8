"""Status aggregation: latest adapter reports in, the resource's aggregated conditions out.

Pure and clock-free (reference §4.2-§4.5). Inputs are the resource's generation, the kind's
required adapters, the stored latest report of every adapter, the resource's previous conditions
and a reference time, which is the resource's own `updated_time`, never `now()`: equal inputs
give equal output.

The result is, in order: `Reconciled`, `LastKnownReconciled`, then one `<Adapter>Successful` per
required adapter with a usable report, in configuration order. Every status is True or False.
Which reports are accepted in the first place (204 discards) is the service's business; this
module only reads what was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from hyperfleet.domain.model import AdapterReport, ConditionStatus, ResourceCondition

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

ADAPTER_CONDITION_SUFFIX: Final = "Successful"
AVAILABLE: Final = "Available"
FINALIZED: Final = "Finalized"


class ConditionType(StrEnum):
    """The two aggregated condition types every resource carries."""

    RECONCILED = "Reconciled"
    LAST_KNOWN_RECONCILED = "LastKnownReconciled"


class Reason(StrEnum):
    """Reasons of `Reconciled` and `LastKnownReconciled`, as in the reference."""

    RECONCILED_ALL = "ReconciledAll"
    RECONCILED_MISSING_ADAPTERS = "ReconciledMissingAdapters"
    RECONCILED_WAITING_FOR_CHILDREN = "ReconciledWaitingForChildren"
    ALL_ADAPTERS_RECONCILED = "AllAdaptersReconciled"
    ADAPTERS_MISSING_REPORTS = "AdaptersMissingReports"
    ADAPTER_REPORTED_NOT_AVAILABLE = "AdapterReportedNotAvailable"
    ADAPTERS_NOT_AT_SAME_GENERATION = "AdaptersNotAtSameGeneration"


MESSAGE_RECONCILED_ALL: Final = (
    "All required adapters reported Available=True or Finalized=True at the current generation"
)
MESSAGE_WAITING_FOR_CHILDREN: Final = (
    "Deletion in progress. All required adapters reported Finalized=True "
    "but child resources still exist"
)
MESSAGE_ALL_ADAPTERS_RECONCILED: Final = (
    "All required adapters report Available=True for the tracked generation"
)
MESSAGE_ADAPTERS_MISSING_REPORTS: Final = "Required adapters have not yet reported status"
MESSAGE_ADAPTER_REPORTED_NOT_AVAILABLE: Final = (
    "One or more required adapters report Available=False"
)
MESSAGE_ADAPTERS_NOT_AT_SAME_GENERATION: Final = (
    "Required adapters report Available=True at different generations"
)

_TRUE: Final = ConditionStatus.TRUE
_FALSE: Final = ConditionStatus.FALSE


def adapter_condition_type(adapter: str) -> str:
    """Name the per-adapter condition: `my-adapter` becomes `MyAdapterSuccessful`.

    The name is split on `-`; each non-empty part gets its first character upper-cased (the
    rest is kept as written) and the parts are joined, then `Successful` is appended.
    """
    parts = (_capitalise_first(part) for part in adapter.split("-"))
    return "".join(parts) + ADAPTER_CONDITION_SUFFIX


def _capitalise_first(part: str) -> str:
    if not part:
        return part
    upper = part[0].upper()
    # One character in, one character out (like Go's unicode.ToUpper): "ß" stays "ß".
    head = upper if len(upper) == 1 else part[0]
    return head + part[1:]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One required adapter's usable report after normalisation (§4.2)."""

    observed_generation: int
    observed_time: datetime
    available: bool
    finalized: bool
    reason: str | None
    message: str | None


def _normalise(
    generation: int, required: Sequence[str], reports: Iterable[AdapterReport]
) -> dict[str, _Snapshot]:
    """Keep the reports aggregation may look at, keyed by adapter.

    Ignored: adapters that are not required, reports for a future generation, reports without
    an `Available` condition or whose `Available` is neither True nor False. Should the same
    adapter appear twice, the later usable report wins.
    """
    wanted = set(required)
    snapshots: dict[str, _Snapshot] = {}
    for report in reports:
        if report.adapter not in wanted or report.observed_generation > generation:
            continue
        available = report.condition(AVAILABLE)
        if available is None or available.status not in {_TRUE, _FALSE}:
            continue
        snapshots[report.adapter] = _Snapshot(
            observed_generation=report.observed_generation,
            observed_time=report.last_report_time,
            available=available.status == _TRUE,
            finalized=report.status_of(FINALIZED) == _TRUE,
            reason=available.reason,
            message=available.message,
        )
    return snapshots


def _status(flag: bool) -> ConditionStatus:
    return _TRUE if flag else _FALSE


def _bracketed(names: Iterable[str]) -> str:
    return "[" + ", ".join(sorted(names)) + "]"


def _reconciled(
    *,
    generation: int,
    required: Sequence[str],
    snapshots: Mapping[str, _Snapshot],
    prev: ResourceCondition | None,
    ref_time: datetime,
    is_deleting: bool,
    has_active_children: bool,
) -> ResourceCondition:
    """`Reconciled` (§4.3): every required adapter done at the current generation."""
    current = {a: s for a, s in snapshots.items() if s.observed_generation == generation}
    done = {a for a, s in current.items() if (s.finalized if is_deleting else s.available)}
    all_done = bool(required) and all(a in done for a in required)
    status = _status(all_done and not (is_deleting and has_active_children))

    if status == _TRUE:
        reason, message = Reason.RECONCILED_ALL.value, MESSAGE_RECONCILED_ALL
    elif all_done:  # only reachable while deleting with active children
        reason, message = Reason.RECONCILED_WAITING_FOR_CHILDREN.value, MESSAGE_WAITING_FOR_CHILDREN
    else:
        signal = "Finalized=True" if is_deleting else "Available=True"
        not_done = _bracketed(a for a in required if a not in done)
        reporting = _bracketed(a for a in required if a in snapshots)
        reason = Reason.RECONCILED_MISSING_ADAPTERS.value
        message = (
            f"Required adapters not reporting {signal}: {not_done}. "
            f"Currently reporting: {reporting}"
        )

    at_generation = [current[a].observed_time for a in required if a in current]
    last_updated = min(at_generation) if at_generation else ref_time

    if prev is None:
        last_transition = last_updated
    elif prev.status == status:
        last_transition = prev.last_transition_time
    elif prev.status == _TRUE and generation > prev.observed_generation:
        # True -> False because the generation moved on: the flip happened at the bump.
        last_transition = ref_time
    else:
        last_transition = last_updated

    return ResourceCondition(
        type=ConditionType.RECONCILED.value,
        status=status,
        reason=reason,
        message=message,
        observed_generation=generation,
        created_time=ref_time if prev is None else prev.created_time,
        last_updated_time=last_updated,
        last_transition_time=last_transition,
    )


def _last_known_status(
    required: Sequence[str],
    snapshots: Mapping[str, _Snapshot],
    prev: ResourceCondition | None,
    *,
    all_true: bool,
    mixed: bool,
) -> ConditionStatus:
    """The first rule of §4.4 that applies decides the status."""
    if not required or any(a not in snapshots for a in required):
        return _FALSE
    prev_true = prev is not None and prev.status == _TRUE
    if all_true:
        return _status(not mixed or prev_true)
    if prev is None or not prev_true:
        return _FALSE
    tracked = prev.observed_generation
    failed_at_tracked = any(
        not snapshots[a].available and snapshots[a].observed_generation == tracked for a in required
    )
    return _status(not failed_at_tracked)


def _last_known_reconciled(
    *,
    required: Sequence[str],
    snapshots: Mapping[str, _Snapshot],
    prev: ResourceCondition | None,
    ref_time: datetime,
) -> ResourceCondition:
    """`LastKnownReconciled` (§4.4): sticky across generations until a failure hits its own."""
    seen = [snapshots[a] for a in required if a in snapshots]
    missing = len(seen) < len(required)
    all_true = bool(required) and not missing and all(s.available for s in seen)
    generations = {s.observed_generation for s in seen}
    mixed = len(generations) > 1
    uniform_true = all_true and not mixed
    status = _last_known_status(required, snapshots, prev, all_true=all_true, mixed=mixed)
    prev_generation = 1 if prev is None else prev.observed_generation
    prev_updated = ref_time if prev is None else prev.last_updated_time

    if not required:
        observed_generation, last_updated = 1, ref_time
    elif uniform_true:
        observed_generation = seen[0].observed_generation
        last_updated = min(s.observed_time for s in seen)
    elif status == _TRUE:
        observed_generation, last_updated = prev_generation, prev_updated
    else:
        observed_generation = max(generations, default=prev_generation)
        at_x = [s for s in seen if s.observed_generation == observed_generation]
        if any(not s.available for s in at_x):
            last_updated = min(s.observed_time for s in at_x)
        else:
            last_updated = prev_updated

    if status == _TRUE:
        reason, message = Reason.ALL_ADAPTERS_RECONCILED.value, MESSAGE_ALL_ADAPTERS_RECONCILED
    elif missing or not required:
        reason, message = Reason.ADAPTERS_MISSING_REPORTS.value, MESSAGE_ADAPTERS_MISSING_REPORTS
    elif not all_true:
        reason = Reason.ADAPTER_REPORTED_NOT_AVAILABLE.value
        message = MESSAGE_ADAPTER_REPORTED_NOT_AVAILABLE
    else:
        reason = Reason.ADAPTERS_NOT_AT_SAME_GENERATION.value
        message = MESSAGE_ADAPTERS_NOT_AT_SAME_GENERATION

    return ResourceCondition(
        type=ConditionType.LAST_KNOWN_RECONCILED.value,
        status=status,
        reason=reason,
        message=message,
        observed_generation=observed_generation,
        created_time=ref_time if prev is None else prev.created_time,
        last_updated_time=last_updated,
        last_transition_time=(
            prev.last_transition_time
            if prev is not None and prev.status == status
            else last_updated
        ),
    )


def _adapter_conditions(
    *,
    required: Sequence[str],
    snapshots: Mapping[str, _Snapshot],
    previous: Mapping[str, ResourceCondition],
    ref_time: datetime,
) -> tuple[ResourceCondition, ...]:
    """One `<Adapter>Successful` per required adapter with a snapshot (§4.5), config order."""
    conditions: list[ResourceCondition] = []
    for adapter in required:
        snapshot = snapshots.get(adapter)
        if snapshot is None:
            continue
        type_ = adapter_condition_type(adapter)
        prev = previous.get(type_)
        status = _status(snapshot.available)
        conditions.append(
            ResourceCondition(
                type=type_,
                status=status,
                reason=snapshot.reason,
                message=snapshot.message,
                observed_generation=snapshot.observed_generation,
                created_time=ref_time if prev is None else prev.created_time,
                last_updated_time=snapshot.observed_time,
                last_transition_time=(
                    prev.last_transition_time
                    if prev is not None and prev.status == status
                    else snapshot.observed_time
                ),
            )
        )
    return tuple(conditions)


def aggregate(
    *,
    generation: int,
    required_adapters: Sequence[str],
    reports: Sequence[AdapterReport],
    previous: Sequence[ResourceCondition],
    ref_time: datetime,
    is_deleting: bool,
    has_active_children: bool,
) -> tuple[ResourceCondition, ...]:
    """Compute a resource's aggregated conditions from its adapters' latest reports.

    `reports` holds the latest stored report of each adapter, of any adapter and generation;
    only required adapters count. `required_adapters` is in configuration order (a repeated
    name counts once). `previous` is matched by condition type; other types are ignored and
    dropped. `ref_time` is the resource's `updated_time` and stands in wherever no report time
    applies. While `is_deleting`, `Reconciled` needs `Finalized=True` instead of
    `Available=True` and, additionally, no `has_active_children`.

    Returns `Reconciled`, `LastKnownReconciled`, then `<Adapter>Successful` for each required
    adapter that has a usable report, in `required_adapters` order. Statuses are only True or
    False; `Reconciled.observed_generation` is always `generation`. Types and reasons are plain
    `str` values (those of `ConditionType` and `Reason`).
    """
    required = tuple(dict.fromkeys(required_adapters))
    snapshots = _normalise(generation, required, reports)
    prev_by_type = {c.type: c for c in previous}
    reconciled = _reconciled(
        generation=generation,
        required=required,
        snapshots=snapshots,
        prev=prev_by_type.get(ConditionType.RECONCILED),
        ref_time=ref_time,
        is_deleting=is_deleting,
        has_active_children=has_active_children,
    )
    last_known = _last_known_reconciled(
        required=required,
        snapshots=snapshots,
        prev=prev_by_type.get(ConditionType.LAST_KNOWN_RECONCILED),
        ref_time=ref_time,
    )
    per_adapter = _adapter_conditions(
        required=required, snapshots=snapshots, previous=prev_by_type, ref_time=ref_time
    )
    return (reconciled, last_known, *per_adapter)


def initial_conditions(
    *, generation: int, required_adapters: Sequence[str], ref_time: datetime
) -> tuple[ResourceCondition, ...]:
    """Conditions of a freshly created resource: no reports, no previous conditions."""
    return aggregate(
        generation=generation,
        required_adapters=required_adapters,
        reports=(),
        previous=(),
        ref_time=ref_time,
        is_deleting=False,
        has_active_children=False,
    )
