"""Adapter dependencies (post-MVP §3.4): a DAG per kind, checked on every report.

A report from B at generation G that claims progress (Applied=True or Available=True) while a
dependency of B is not Ready at G is refused (409 `HYPERFLEET-CNF-005`, `blocked_by`). While
the resource is being deleted the order reverses: A's Finalized=True is refused while an
adapter that depends on A has not finalized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hyperfleet.domain.adapter_state import AdapterState
from hyperfleet.domain.model import ConditionStatus
from hyperfleet.domain.phases import AdapterView, in_state_at
from hyperfleet.errors import DependencyConflict

if TYPE_CHECKING:
    from hyperfleet.domain.reports import IncomingReport

Graph = Mapping[str, tuple[str, ...]]


def graph_errors(graph: Graph, declared: Sequence[str], path: str) -> list[tuple[str, str]]:
    """Unknown adapters and cycles, each with its key path."""
    errors: list[tuple[str, str]] = []
    known = set(declared)
    for adapter, deps in graph.items():
        if adapter not in known:
            errors.append((f"{path}.{adapter}", f"adapter '{adapter}' is not declared"))
        errors.extend(
            (f"{path}.{adapter}", f"dependency '{dep}' is not a declared adapter")
            for dep in deps
            if dep not in known
        )
    state: dict[str, int] = {}  # 0 = visiting, 1 = done

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 1:
            return
        if state.get(node) == 0:
            cycle = [*trail[trail.index(node) :], node]
            errors.append((f"{path}.{node}", f"dependency cycle: {' -> '.join(cycle)}"))
            return
        state[node] = 0
        for dep in graph.get(node, ()):
            visit(dep, [*trail, node])
        state[node] = 1

    for node in graph:
        visit(node, [])
    return errors


def blocked_by(
    adapter: str, graph: Graph, views: Mapping[str, AdapterView], generation: int
) -> list[str]:
    """Dependencies of `adapter` that are not Ready at `generation`."""
    return [
        dep
        for dep in graph.get(adapter, ())
        if not in_state_at(views, dep, AdapterState.READY, generation)
    ]


def dependents_not_finalized(
    adapter: str, graph: Graph, views: Mapping[str, AdapterView], generation: int
) -> list[str]:
    return sorted(
        other
        for other, deps in graph.items()
        if adapter in deps and not in_state_at(views, other, AdapterState.FINALIZED, generation)
    )


def check_report(
    report: IncomingReport,
    *,
    graph: Graph,
    views: Mapping[str, AdapterView],
    generation: int,
    is_deleting: bool,
) -> None:
    """Raise DependencyConflict when the report runs ahead of its dependencies."""
    if not graph:
        return
    if is_deleting:
        if report.status_of("Finalized") is ConditionStatus.TRUE:
            waiting = dependents_not_finalized(report.adapter, graph, views, generation)
            if waiting:
                raise DependencyConflict(
                    f"adapter '{report.adapter}' cannot finalize before its dependents: "
                    f"{', '.join(waiting)}",
                    extensions={"blocked_by": waiting},
                )
        return
    claims_progress = ConditionStatus.TRUE in {
        report.status_of("Applied"),
        report.status_of("Available"),
    }
    if not claims_progress:
        return
    blockers = blocked_by(report.adapter, graph, views, report.observed_generation)
    if blockers:
        raise DependencyConflict(
            f"adapter '{report.adapter}' reports progress at generation "
            f"{report.observed_generation} before its dependencies are Ready: "
            f"{', '.join(blockers)}",
            extensions={"blocked_by": blockers},
        )
