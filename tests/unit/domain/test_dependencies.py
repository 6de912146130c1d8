"""Adapter dependencies (post-MVP §3.4): the graph check at load, `blocked_by`, and the per-report
check (409 HYPERFLEET-CNF-005 with `blocked_by`), including reverse-order finalization.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hyperfleet.domain.adapter_state import AdapterState
from hyperfleet.domain.dependencies import blocked_by, check_report, graph_errors
from hyperfleet.domain.model import ConditionStatus
from hyperfleet.domain.phases import AdapterView
from hyperfleet.domain.reports import IncomingReport, ReportedCondition
from hyperfleet.errors import Conflict, DependencyConflict

T = ConditionStatus.TRUE
F = ConditionStatus.FALSE
U = ConditionStatus.UNKNOWN

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GEN = 2

RDY = AdapterState.READY
PRV = AdapterState.PROVISIONING
FLD = AdapterState.FAILED
FIN = AdapterState.FINALIZED
PND = AdapterState.PENDING

DECLARED = ("validation", "dns", "pullsecret", "hypershift")
# The spec's example: dns needs validation; hypershift needs validation and dns.
GRAPH = {"dns": ("validation",), "hypershift": ("validation", "dns")}
PATH = "agg.yaml: entities[0].adapter_dependencies"


# --- graph_errors ----------------------------------------------------------------------------------

GRAPH_TABLE = [
    pytest.param(GRAPH, [], id="valid-dag"),
    pytest.param({}, [], id="empty"),
    pytest.param(
        {"hypershift": ("validation", "dns", "pullsecret"), "dns": ("validation",)},
        [],
        id="valid-diamond",
    ),
    pytest.param({"dns": ()}, [], id="no-dependencies"),
    pytest.param(
        {"ghost": ("validation",)},
        [(f"{PATH}.ghost", "ghost")],
        id="unknown-adapter",
    ),
    pytest.param(
        {"dns": ("validation", "ghost")},
        [(f"{PATH}.dns", "ghost")],
        id="unknown-dependency",
    ),
    pytest.param(
        {"dns": ("hypershift",), "hypershift": ("dns",)},
        [(f"{PATH}.dns", "cycle")],
        id="two-cycle",
    ),
    pytest.param(
        {"dns": ("pullsecret",), "pullsecret": ("hypershift",), "hypershift": ("dns",)},
        [(f"{PATH}.dns", "cycle")],
        id="three-cycle",
    ),
    pytest.param({"dns": ("dns",)}, [(f"{PATH}.dns", "cycle")], id="self-cycle"),
    pytest.param(
        {"ghost": ("phantom",), "dns": ("dns",)},
        [(f"{PATH}.ghost", "ghost"), (f"{PATH}.ghost", "phantom"), (f"{PATH}.dns", "cycle")],
        id="several-errors-at-once",
    ),
]


@pytest.mark.parametrize(("graph", "expected"), GRAPH_TABLE)
def test_graph_errors(graph: dict[str, tuple[str, ...]], expected: list[tuple[str, str]]) -> None:
    errors = graph_errors(graph, DECLARED, PATH)
    assert len(errors) == len(expected), errors
    for (path, message), (want_path, want_word) in zip(errors, expected, strict=True):
        assert path == want_path
        assert want_word in message


@pytest.mark.parametrize(
    ("graph", "members"),
    [
        pytest.param({"dns": ("hypershift",), "hypershift": ("dns",)}, ["dns", "hypershift"]),
        pytest.param(
            {"dns": ("pullsecret",), "pullsecret": ("hypershift",), "hypershift": ("dns",)},
            ["dns", "pullsecret", "hypershift"],
        ),
    ],
    ids=["two-cycle", "three-cycle"],
)
def test_cycle_message_names_every_member(
    graph: dict[str, tuple[str, ...]], members: list[str]
) -> None:
    ((_, message),) = graph_errors(graph, DECLARED, PATH)
    for member in members:
        assert member in message


# --- blocked_by ------------------------------------------------------------------------------------


def view(name: str, state: AdapterState, gen: int = GEN) -> AdapterView:
    return AdapterView(adapter=name, state=state, observed_generation=gen, last_report_time=AT)


def views(*items: AdapterView) -> dict[str, AdapterView]:
    return {v.adapter: v for v in items}


BLOCKED_TABLE = [
    pytest.param("hypershift", {}, ["validation", "dns"], id="dependencies-missing"),
    pytest.param(
        "hypershift",
        views(view("validation", RDY), view("dns", RDY, GEN - 1)),
        ["dns"],
        id="dependency-at-older-generation",
    ),
    pytest.param(
        "hypershift",
        views(view("validation", RDY), view("dns", PRV)),
        ["dns"],
        id="dependency-not-ready",
    ),
    pytest.param(
        "hypershift",
        views(view("validation", FLD), view("dns", PND)),
        ["validation", "dns"],
        id="dependencies-failed-and-pending",
    ),
    pytest.param(
        "hypershift",
        views(view("validation", RDY), view("dns", RDY)),
        [],
        id="dependencies-ready",
    ),
    pytest.param("validation", {}, [], id="no-dependencies"),
    pytest.param("stranger", {}, [], id="adapter-not-in-graph"),
    pytest.param(
        "dns",
        views(view("validation", RDY, GEN + 1)),
        ["validation"],
        id="dependency-at-newer-generation",
    ),
]


@pytest.mark.parametrize(("adapter", "adapter_views", "expected"), BLOCKED_TABLE)
def test_blocked_by(
    adapter: str, adapter_views: dict[str, AdapterView], expected: list[str]
) -> None:
    assert blocked_by(adapter, GRAPH, adapter_views, GEN) == expected


# --- check_report ------------------------------------------------------------------------------


def report(
    adapter: str,
    *,
    available: ConditionStatus = T,
    applied: ConditionStatus = T,
    finalized: ConditionStatus | None = None,
    gen: int = GEN,
    reason: str | None = None,
) -> IncomingReport:
    conditions = [
        ReportedCondition("Available", available, reason, None),
        ReportedCondition("Applied", applied, None, None),
        ReportedCondition("Health", T, None, None),
    ]
    if finalized is not None:
        conditions.append(ReportedCondition("Finalized", finalized, None, None))
    return IncomingReport(
        adapter=adapter,
        observed_generation=gen,
        observed_time=AT,
        conditions=tuple(conditions),
        data=None,
        metadata=None,
    )


CHECK_TABLE = [
    # --- forward: progress claims need Ready dependencies at the report's generation -------
    pytest.param(
        report("dns", available=U, applied=T),
        {},
        False,
        ["validation"],
        id="applied-true-blocked",
    ),
    pytest.param(
        report("dns", available=T, applied=T),
        views(view("validation", PRV)),
        False,
        ["validation"],
        id="available-true-blocked",
    ),
    pytest.param(
        report("dns", available=T, applied=F),
        {},
        False,
        ["validation"],
        id="available-true-applied-false-blocked",
    ),
    pytest.param(
        report("hypershift", available=U, applied=T),
        views(view("validation", RDY), view("dns", RDY, GEN - 1)),
        False,
        ["dns"],
        id="dependency-ready-at-older-generation-blocks",
    ),
    pytest.param(
        report("hypershift", available=U, applied=T),
        views(view("validation", RDY), view("dns", RDY)),
        False,
        None,
        id="dependencies-ready-accepted",
    ),
    pytest.param(
        report("dns", available=F, applied=F, reason="WaitingForDependencies"),
        {},
        False,
        None,
        id="waiting-no-progress-claim-accepted",
    ),
    pytest.param(
        report("dns", available=U, applied=F),
        {},
        False,
        None,
        id="unknown-not-applied-accepted",
    ),
    pytest.param(
        report("dns", available=F, applied=U),
        {},
        False,
        None,
        id="applied-unknown-is-no-claim",
    ),
    pytest.param(
        report("validation", available=T, applied=T),
        {},
        False,
        None,
        id="adapter-without-dependencies-accepted",
    ),
    pytest.param(
        report("monitoring", available=T, applied=T),
        {},
        False,
        None,
        id="adapter-outside-graph-accepted",
    ),
    # --- reverse: finalization while deleting ----------------------------------------------
    pytest.param(
        report("validation", finalized=T),
        views(view("dns", RDY), view("hypershift", FIN)),
        True,
        ["dns"],
        id="dependency-finalized-before-dependent-conflict",
    ),
    pytest.param(
        report("validation", finalized=T),
        {},
        True,
        ["dns", "hypershift"],
        id="dependency-finalized-no-dependent-reports-conflict",
    ),
    pytest.param(
        report("dns", finalized=T),
        views(view("hypershift", PRV)),
        True,
        ["hypershift"],
        id="middle-adapter-finalized-before-its-dependent-conflict",
    ),
    pytest.param(
        report("validation", finalized=T),
        views(view("dns", FIN, GEN - 1), view("hypershift", FIN)),
        True,
        ["dns"],
        id="dependent-finalized-at-older-generation-conflict",
    ),
    pytest.param(
        report("validation", finalized=T),
        views(view("dns", FIN), view("hypershift", FIN)),
        True,
        None,
        id="dependents-finalized-accepted",
    ),
    pytest.param(
        report("hypershift", finalized=T),
        views(view("validation", RDY), view("dns", RDY)),
        True,
        None,
        id="dependent-finalized-always-accepted",
    ),
    pytest.param(
        report("hypershift", finalized=T),
        {},
        True,
        None,
        id="dependent-finalized-accepted-with-no-other-reports",
    ),
    pytest.param(
        report("validation", finalized=F),
        {},
        True,
        None,
        id="not-finalized-report-accepted-while-deleting",
    ),
]


@pytest.mark.parametrize(("incoming", "adapter_views", "deleting", "blocked"), CHECK_TABLE)
def test_check_report(
    incoming: IncomingReport,
    adapter_views: dict[str, AdapterView],
    deleting: bool,
    blocked: list[str] | None,
) -> None:
    def run() -> None:
        check_report(
            incoming, graph=GRAPH, views=adapter_views, generation=GEN, is_deleting=deleting
        )

    if blocked is None:
        run()
        return
    with pytest.raises(DependencyConflict) as info:
        run()
    err = info.value
    assert isinstance(err, Conflict)
    assert err.code == "HYPERFLEET-CNF-005"
    assert err.http_status == 409
    assert list(err.extensions["blocked_by"]) == blocked
    for name in blocked:
        assert name in err.detail


def test_no_graph_never_blocks() -> None:
    check_report(report("dns"), graph={}, views={}, generation=GEN, is_deleting=False)
    check_report(
        report("validation", finalized=T), graph={}, views={}, generation=GEN, is_deleting=True
    )


def test_progress_is_judged_at_the_reports_generation() -> None:
    """A report at generation G needs its dependencies Ready at G (§3.4)."""
    ready_at_1 = views(view("validation", RDY, 1))
    check_report(
        report("dns", gen=1), graph=GRAPH, views=ready_at_1, generation=GEN, is_deleting=False
    )
    with pytest.raises(DependencyConflict):
        check_report(
            report("dns", gen=GEN),
            graph=GRAPH,
            views=ready_at_1,
            generation=GEN,
            is_deleting=False,
        )
