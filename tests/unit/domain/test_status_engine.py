"""The whole aggregated status (`compute_status`, post-MVP §4): pure end-to-end scenarios.

The kind (loaded from an aggregation file, as the server does):
    required validation, dns; optional monitoring; dns depends on validation;
    one configured condition DnsReady.

`SCENARIO` is a sequence of writes; each row is one case that replays every write up to and
including its own, feeding each result (conditions, phase) into the next computation, and then
checks that row's expected phase, phase history row, conditions and adapter summaries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from hyperfleet.config import AggregationFile
from hyperfleet.domain.entities import build_registry
from hyperfleet.domain.model import (
    AdapterCondition,
    AdapterReport,
    ConditionStatus,
    EntityDescriptor,
    Phase,
    PhaseRecord,
    Resource,
    ResourceCondition,
)
from hyperfleet.domain.status_engine import StatusResult, compute_status

T = ConditionStatus.TRUE
F = ConditionStatus.FALSE
U = ConditionStatus.UNKNOWN

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TIMES = [BASE + timedelta(minutes=i) for i in range(20)]

CONFIG = """\
entities:
  - kind: Cluster
    required_adapters: [validation, dns]
    optional_adapters: [monitoring]
    adapter_dependencies: {dns: [validation]}
    generation_policy: lenient
    adapters:
      validation:
        progressing_reasons: [Checking]
    conditions:
      - type: DnsReady
        status: 'statuses.exists(s, s.adapter == "dns" && s.state == "Ready")'
        reason: '"DnsIsReady"'
        message: '"dns at generation " + string(resource.generation)'
"""


def descriptor(text: str = CONFIG) -> EntityDescriptor:
    parsed = AggregationFile.model_validate(yaml.safe_load(text))
    registry = build_registry(
        [], overlays=[("agg.yaml: ", [e.model_dump(exclude_unset=True) for e in parsed.entities])]
    )
    return registry.require("Cluster")


DESC = descriptor()


def adapter_report(
    adapter: str,
    generation: int,
    at: datetime,
    *,
    available: ConditionStatus = T,
    applied: ConditionStatus = T,
    health: ConditionStatus = T,
    finalized: ConditionStatus | None = None,
    reason: str | None = None,
    message: str | None = None,
    data: dict[str, Any] | None = None,
) -> AdapterReport:
    conditions = [
        AdapterCondition("Available", available, reason, message, at),
        AdapterCondition("Applied", applied, None, None, at),
        AdapterCondition("Health", health, None, None, at),
    ]
    if finalized is not None:
        conditions.append(AdapterCondition("Finalized", finalized, None, None, at))
    return AdapterReport(
        adapter=adapter,
        observed_generation=generation,
        conditions=tuple(conditions),
        created_time=at,
        last_report_time=at,
        data=data,
    )


def resource(
    *,
    generation: int = 1,
    updated: datetime = TIMES[0],
    deleted: datetime | None = None,
    conditions: tuple[ResourceCondition, ...] = (),
    phase: PhaseRecord | None = None,
) -> Resource:
    return Resource(
        id="019a0000-0000-7000-8000-000000000001",
        kind="Cluster",
        name="c1",
        href="/api/hyperfleet/v1/clusters/019a0000-0000-7000-8000-000000000001",
        spec={"region": "us-east-1"},
        labels={"env": "prod"},
        generation=generation,
        created_time=TIMES[0],
        updated_time=updated,
        created_by="alice@example.com",
        updated_by="alice@example.com",
        deleted_time=deleted,
        deleted_by="alice@example.com" if deleted is not None else None,
        conditions=conditions,
        phase=phase,
    )


@dataclass
class World:
    """What the database would hold for one resource between writes."""

    generation: int = 1
    updated: datetime = TIMES[0]
    deleted: datetime | None = None
    reports: dict[str, AdapterReport] = field(default_factory=dict)
    result: StatusResult | None = None

    def put(self, report: AdapterReport) -> None:
        self.reports[report.adapter] = report

    def compute(self, now: datetime, desc: EntityDescriptor = DESC) -> StatusResult:
        previous = self.result
        res = resource(
            generation=self.generation,
            updated=self.updated,
            deleted=self.deleted,
            conditions=previous.conditions if previous is not None else (),
            phase=previous.phase if previous is not None else None,
        )
        self.result = compute_status(
            desc=desc,
            resource=res,
            reports=tuple(self.reports.values()),
            has_children=False,
            now=now,
        )
        return self.result


def statuses(result: StatusResult) -> dict[str, str]:
    return {c.type: c.status.value for c in result.conditions}


def summary(result: StatusResult) -> list[tuple[str, str, bool, int | None, tuple[str, ...]]]:
    return [
        (a.adapter, a.state, a.required, a.observed_generation, a.blocked_by)
        for a in result.adapters
    ]


def bump(world: World, at: datetime) -> None:
    world.generation += 1
    world.updated = at


def delete(world: World, at: datetime) -> None:
    world.generation += 1
    world.updated = at
    world.deleted = at


@dataclass(frozen=True)
class Step:
    now: datetime
    write: Callable[[World], None]
    phase: Phase
    reason: str
    transition: tuple[Phase | None, Phase] | None
    entered: datetime
    conditions: dict[str, str]
    adapters: list[tuple[str, str, bool, int | None, tuple[str, ...]]]


def _no_write(_: World) -> None:
    return None


NONE_REPORTED = [
    ("validation", "Pending", True, None, ()),
    ("dns", "Pending", True, None, ("validation",)),
    ("monitoring", "Pending", False, None, ()),
]

SCENARIO = [
    pytest.param(
        Step(
            now=TIMES[0],
            write=_no_write,
            phase=Phase.PENDING,
            reason="AdaptersPending",
            transition=(None, Phase.PENDING),
            entered=TIMES[0],
            conditions={
                "Reconciled": "False",
                "LastKnownReconciled": "False",
                "AllAdaptersReady": "False",
                "ValidationPassed": "False",
                "DnsReady": "False",
            },
            adapters=NONE_REPORTED,
        ),
        id="01-create-pending",
    ),
    pytest.param(
        Step(
            now=TIMES[1],
            write=lambda w: w.put(
                adapter_report("validation", 1, TIMES[1], available=F, reason="Checking")
            ),
            phase=Phase.PROVISIONING,
            reason="AdaptersProgressing",
            transition=(Phase.PENDING, Phase.PROVISIONING),
            entered=TIMES[1],
            conditions={
                "Reconciled": "False",
                "LastKnownReconciled": "False",
                "ValidationSuccessful": "False",
                "AllAdaptersReady": "False",
                "ValidationPassed": "False",
                "DnsReady": "False",
            },
            adapters=[
                ("validation", "Provisioning", True, 1, ()),
                ("dns", "Pending", True, None, ("validation",)),
                ("monitoring", "Pending", False, None, ()),
            ],
        ),
        id="02-validation-provisioning-custom-reason",
    ),
    pytest.param(
        Step(
            now=TIMES[2],
            write=lambda w: (
                w.put(adapter_report("validation", 1, TIMES[2])),
                w.put(adapter_report("dns", 1, TIMES[2], available=U)),
            ),
            phase=Phase.PROVISIONING,
            reason="AdaptersProgressing",
            transition=None,
            entered=TIMES[1],
            conditions={
                "Reconciled": "False",
                "LastKnownReconciled": "False",
                "ValidationSuccessful": "True",
                "AllAdaptersReady": "False",
                "ValidationPassed": "True",
                "DnsReady": "False",
            },
            adapters=[
                ("validation", "Ready", True, 1, ()),
                ("dns", "Provisioning", True, 1, ()),
                ("monitoring", "Pending", False, None, ()),
            ],
        ),
        id="03-validation-ready-dns-provisioning",
    ),
    pytest.param(
        Step(
            now=TIMES[3],
            write=lambda w: w.put(adapter_report("dns", 1, TIMES[3])),
            phase=Phase.READY,
            reason="AllAdaptersReady",
            transition=(Phase.PROVISIONING, Phase.READY),
            entered=TIMES[3],
            conditions={
                "Reconciled": "True",
                "LastKnownReconciled": "True",
                "ValidationSuccessful": "True",
                "DnsSuccessful": "True",
                "AllAdaptersReady": "False",
                "ValidationPassed": "True",
                "DnsReady": "True",
            },
            adapters=[
                ("validation", "Ready", True, 1, ()),
                ("dns", "Ready", True, 1, ()),
                ("monitoring", "Pending", False, None, ()),
            ],
        ),
        id="04-required-ready-optional-missing",
    ),
    pytest.param(
        Step(
            now=TIMES[4],
            write=lambda w: w.put(adapter_report("monitoring", 1, TIMES[4])),
            phase=Phase.READY,
            reason="AllAdaptersReady",
            transition=None,
            entered=TIMES[3],
            conditions={
                "Reconciled": "True",
                "LastKnownReconciled": "True",
                "ValidationSuccessful": "True",
                "DnsSuccessful": "True",
                "AllAdaptersReady": "True",
                "ValidationPassed": "True",
                "DnsReady": "True",
            },
            adapters=[
                ("validation", "Ready", True, 1, ()),
                ("dns", "Ready", True, 1, ()),
                ("monitoring", "Ready", False, 1, ()),
            ],
        ),
        id="05-optional-ready-all-adapters-ready",
    ),
    pytest.param(
        Step(
            now=TIMES[5],
            write=lambda w: bump(w, TIMES[5]),
            phase=Phase.PENDING,
            reason="AdaptersPending",
            transition=(Phase.READY, Phase.PENDING),
            entered=TIMES[5],
            conditions={
                "Reconciled": "False",
                "LastKnownReconciled": "True",
                "ValidationSuccessful": "True",
                "DnsSuccessful": "True",
                "AllAdaptersReady": "False",
                "ValidationPassed": "False",
                "DnsReady": "True",
            },
            adapters=[
                ("validation", "Ready", True, 1, ()),
                ("dns", "Ready", True, 1, ("validation",)),
                ("monitoring", "Ready", False, 1, ()),
            ],
        ),
        id="06-patch-bump-pending",
    ),
    pytest.param(
        Step(
            now=TIMES[6],
            write=lambda w: w.put(
                adapter_report("validation", 2, TIMES[6], available=F, reason="Checking")
            ),
            phase=Phase.PROVISIONING,
            reason="AdaptersProgressing",
            transition=(Phase.PENDING, Phase.PROVISIONING),
            entered=TIMES[6],
            conditions={
                "Reconciled": "False",
                "LastKnownReconciled": "True",
                "ValidationSuccessful": "False",
                "DnsSuccessful": "True",
                "AllAdaptersReady": "False",
                "ValidationPassed": "False",
                "DnsReady": "True",
            },
            adapters=[
                ("validation", "Provisioning", True, 2, ()),
                ("dns", "Ready", True, 1, ("validation",)),
                ("monitoring", "Ready", False, 1, ()),
            ],
        ),
        id="07-after-bump-provisioning",
    ),
    pytest.param(
        Step(
            now=TIMES[7],
            write=lambda w: w.put(adapter_report("dns", 1, TIMES[7], health=F)),
            phase=Phase.DEGRADED,
            reason="AdaptersUnhealthy",
            transition=(Phase.PROVISIONING, Phase.DEGRADED),
            entered=TIMES[7],
            conditions={
                "Reconciled": "False",
                "LastKnownReconciled": "True",
                "ValidationSuccessful": "False",
                "DnsSuccessful": "True",
                "AllAdaptersReady": "False",
                "ValidationPassed": "False",
                "DnsReady": "False",
            },
            adapters=[
                ("validation", "Provisioning", True, 2, ()),
                ("dns", "Unhealthy", True, 1, ("validation",)),
                ("monitoring", "Ready", False, 1, ()),
            ],
        ),
        id="08-unhealthy-at-old-generation-degraded",
    ),
    pytest.param(
        Step(
            now=TIMES[8],
            write=lambda w: delete(w, TIMES[8]),
            phase=Phase.DELETING,
            reason="DeletionRequested",
            transition=(Phase.DEGRADED, Phase.DELETING),
            entered=TIMES[8],
            conditions={
                "Reconciled": "False",
                "LastKnownReconciled": "True",
                "ValidationSuccessful": "False",
                "DnsSuccessful": "True",
                "AllAdaptersReady": "False",
                "ValidationPassed": "False",
                "DnsReady": "False",
            },
            adapters=[
                ("validation", "Provisioning", True, 2, ()),
                ("dns", "Unhealthy", True, 1, ("validation",)),
                ("monitoring", "Ready", False, 1, ()),
            ],
        ),
        id="09-delete-deleting",
    ),
    pytest.param(
        Step(
            now=TIMES[9],
            write=lambda w: (
                w.put(adapter_report("validation", 3, TIMES[9], finalized=T)),
                w.put(adapter_report("dns", 3, TIMES[9], finalized=T)),
            ),
            phase=Phase.DELETING,
            reason="DeletionRequested",
            transition=None,
            entered=TIMES[8],
            conditions={
                "Reconciled": "True",
                "LastKnownReconciled": "True",
                "ValidationSuccessful": "True",
                "DnsSuccessful": "True",
                "AllAdaptersReady": "False",
                "ValidationPassed": "False",
                "DnsReady": "False",
            },
            adapters=[
                ("validation", "Finalized", True, 3, ()),
                ("dns", "Finalized", True, 3, ("validation",)),
                ("monitoring", "Ready", False, 1, ()),
            ],
        ),
        id="10-finalized-still-deleting",
    ),
]


@pytest.mark.parametrize("index", range(len(SCENARIO)), ids=[p.id for p in SCENARIO])
def test_scenario(index: int) -> None:
    world = World()
    for param in SCENARIO[: index + 1]:
        step: Step = param.values[0]
        step.write(world)
        result = world.compute(step.now)
    step = SCENARIO[index].values[0]

    assert result.phase.phase is step.phase
    assert result.phase.reason == step.reason
    assert result.phase.last_transition_time == step.entered
    if step.transition is None:
        assert result.transition is None
    else:
        assert result.transition is not None
        assert (result.transition.from_phase, result.transition.to_phase) == step.transition
        assert result.transition.generation == world.generation
        assert result.transition.time == step.now
        assert result.transition.reason == step.reason
        assert result.transition.message == result.phase.message
    assert list(statuses(result)) == list(step.conditions), "condition order"
    assert statuses(result) == step.conditions
    assert summary(result) == step.adapters
    for cond in result.conditions[-3:]:
        assert cond.observed_generation == world.generation
        assert cond.last_updated_time == step.now


def test_create_pending_messages() -> None:
    result = World().compute(TIMES[0])
    assert result.phase == PhaseRecord(
        Phase.PENDING,
        "AdaptersPending",
        "0 of 2 required adapters ready at generation 1",
        TIMES[0],
    )
    reconciled = result.conditions[0]
    assert (reconciled.type, reconciled.status) == ("Reconciled", F)
    validation = next(c for c in result.conditions if c.type == "ValidationPassed")
    assert validation.reason == "ValidationPending"


def test_configured_condition_sees_resource_and_statuses() -> None:
    world = World()
    world.put(adapter_report("validation", 1, TIMES[1]))
    world.put(adapter_report("dns", 1, TIMES[1]))
    result = world.compute(TIMES[1])
    dns_ready = result.conditions[-1]
    assert (dns_ready.type, dns_ready.status, dns_ready.reason, dns_ready.message) == (
        "DnsReady",
        T,
        "DnsIsReady",
        "dns at generation 1",
    )


def test_validation_failed_carries_the_adapters_message() -> None:
    world = World()
    world.put(
        adapter_report(
            "validation", 1, TIMES[1], available=F, reason="QuotaExceeded", message="no quota"
        )
    )
    result = world.compute(TIMES[1])
    assert result.phase.phase is Phase.FAILED
    validation = next(c for c in result.conditions if c.type == "ValidationPassed")
    assert (validation.status, validation.reason, validation.message) == (
        F,
        "ValidationFailed",
        "no quota",
    )


# --- lenient: reports ahead of the resource are stored but ignored by aggregation --------------

FUTURE_TABLE = [
    pytest.param(
        {"available": T},
        Phase.PROVISIONING,
        id="future-ready-does-not-make-ready",
    ),
    pytest.param(
        {"health": F},
        Phase.PROVISIONING,
        id="future-unhealthy-does-not-degrade",
    ),
    pytest.param(
        {"available": F, "reason": "Broken"},
        Phase.PROVISIONING,
        id="future-failed-does-not-fail",
    ),
]


@pytest.mark.parametrize(("dns", "phase"), FUTURE_TABLE)
def test_lenient_future_generation_report_ignored_by_phases(
    dns: dict[str, Any], phase: Phase
) -> None:
    world = World(generation=2)
    world.put(adapter_report("validation", 2, TIMES[1]))
    world.put(adapter_report("dns", 3, TIMES[1], **dns))
    result = world.compute(TIMES[1])
    assert result.phase.phase is phase
    got = statuses(result)
    assert got["Reconciled"] == "False"
    assert got["AllAdaptersReady"] == "False"
    assert "DnsSuccessful" not in got


def test_lenient_future_generation_report_ignored_by_configured_conditions() -> None:
    """Configured conditions are part of the aggregate, so a report the aggregate ignores (ahead
    of the resource) must not count for them either: DnsReady stays False until dns is Ready at
    a generation the resource has reached (post-MVP §3.2 "ignored by aggregation")."""
    world = World(generation=2)
    world.put(adapter_report("validation", 2, TIMES[1]))
    world.put(adapter_report("dns", 3, TIMES[1]))
    desc = descriptor(
        """\
entities:
  - kind: Cluster
    required_adapters: [validation, dns]
    generation_policy: lenient
    conditions:
      - type: DnsReported
        status: 'statuses.exists(s, s.adapter == "dns")'
      - type: DnsAvailable
        status: >-
          statuses.exists(s, s.adapter == "dns" &&
          s.conditions.exists(c, c.type == "Available" && c.status == "True"))
"""
    )
    result = world.compute(TIMES[1], desc)
    got = statuses(result)
    assert got["DnsReported"] == "False"
    assert got["DnsAvailable"] == "False"


# --- condition order and the adapters summary -------------------------------------------------------


def test_condition_order_reference_then_engine_then_configured() -> None:
    desc = descriptor(
        """\
entities:
  - kind: Cluster
    required_adapters: [validation, dns, pull-secret]
    conditions:
      - {type: Zeta, status: 'true'}
      - {type: Alpha, status: 'false'}
"""
    )
    world = World()
    for name in ("pull-secret", "dns", "validation"):
        world.put(adapter_report(name, 1, TIMES[1]))
    result = world.compute(TIMES[1], desc)
    assert [c.type for c in result.conditions] == [
        "Reconciled",
        "LastKnownReconciled",
        "ValidationSuccessful",
        "DnsSuccessful",
        "PullSecretSuccessful",
        "AllAdaptersReady",
        "ValidationPassed",
        "Zeta",
        "Alpha",
    ]
    assert all(c.status in {T, F} for c in result.conditions)


def test_validation_passed_omitted_when_the_kind_lists_no_validator() -> None:
    desc = descriptor("entities: [{kind: Cluster, validation_adapters: []}]")
    result = World().compute(TIMES[0], desc)
    assert "ValidationPassed" not in statuses(result)
    assert "AllAdaptersReady" in statuses(result)


def test_summary_lists_declared_adapters_then_others_sorted() -> None:
    world = World()
    world.put(adapter_report("zeta-extra", 1, TIMES[1]))
    world.put(adapter_report("alpha-extra", 1, TIMES[1], available=F, reason="Broken"))
    world.put(adapter_report("validation", 1, TIMES[2]))
    result = world.compute(TIMES[2])
    assert summary(result) == [
        ("validation", "Ready", True, 1, ()),
        ("dns", "Pending", True, None, ()),
        ("monitoring", "Pending", False, None, ()),
        ("alpha-extra", "Failed", False, 1, ()),
        ("zeta-extra", "Ready", False, 1, ()),
    ]
    validation = result.adapters[0]
    assert validation.last_report_time == TIMES[2]
    assert result.adapters[1].last_report_time is None
    # an unknown adapter never changes the phase
    assert result.phase.phase is Phase.PROVISIONING


def test_cel_sees_masked_sensitive_data() -> None:
    desc = descriptor(
        """\
entities:
  - kind: Cluster
    required_adapters: [validation]
    conditions:
      - type: Masked
        status: 'statuses[0].data.password == "***REDACTED***" && statuses[0].data.n == 1'
"""
    )
    world = World()
    world.put(adapter_report("validation", 1, TIMES[1], data={"password": "hunter2", "n": 1}))
    result = world.compute(TIMES[1], desc)
    assert statuses(result)["Masked"] == "True"


def test_compute_status_is_pure() -> None:
    world = World()
    world.put(adapter_report("validation", 1, TIMES[1]))
    res = resource()
    reports = tuple(world.reports.values())
    first = compute_status(
        desc=DESC, resource=res, reports=reports, has_children=False, now=TIMES[1]
    )
    again = compute_status(
        desc=DESC, resource=res, reports=reports, has_children=False, now=TIMES[1]
    )
    assert first == again
    assert replace(res) == res
