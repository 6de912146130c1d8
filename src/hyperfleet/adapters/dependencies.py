"""Adapter dependencies as the API sees them, so an adapter waits instead of being refused.

The graph comes from `GET /aggregation-config` (the kind's `adapter_dependencies`), cached and
refreshed every `refresh_seconds`; whether a dependency is Ready comes from the resource's own
`status.adapters[]` (state and observed generation, and the API's `blocked_by`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from hyperfleet.client.types import Resource


class ConfigSource(Protocol):
    async def aggregation_config(self) -> dict[str, Any]: ...


Graph = Mapping[str, tuple[str, ...]]


def graph_of(config: Mapping[str, Any], kind: str) -> dict[str, tuple[str, ...]]:
    """The `adapter_dependencies` of `kind` (case-insensitive) in an aggregation config."""
    for entity in config.get("entities") or []:
        if str(entity.get("kind", "")).lower() == kind.lower():
            deps = entity.get("adapter_dependencies") or {}
            return {str(a): tuple(str(d) for d in ds) for a, ds in deps.items()}
    return {}


class DependencyCache:
    """The dependency graph of one kind, fetched lazily and refreshed periodically.

    A failed refresh keeps the previous graph; with none yet, the failure propagates (and the
    event is NACKed as transient by the caller).
    """

    def __init__(
        self,
        source: ConfigSource,
        kind: str,
        *,
        refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._kind = kind
        self._refresh = refresh_seconds
        self._clock = clock
        self._graph: dict[str, tuple[str, ...]] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def graph(self) -> Graph:
        if self._graph is not None and self._clock() - self._fetched_at < self._refresh:
            return self._graph
        async with self._lock:
            if self._graph is not None and self._clock() - self._fetched_at < self._refresh:
                return self._graph
            try:
                config = await self._source.aggregation_config()
            except Exception:
                if self._graph is None:
                    raise
                return self._graph
            self._graph = graph_of(config, self._kind)
            self._fetched_at = self._clock()
            return self._graph

    def invalidate(self) -> None:
        """Refetch on next use (e.g. after the API refused a report for dependencies)."""
        self._fetched_at = float("-inf")


def _summaries(resource: Resource) -> dict[str, Mapping[str, Any]]:
    status: Mapping[str, Any] = resource.get("status", {})
    return {a["adapter"]: a for a in status.get("adapters", [])}


def _in_state_at(summary: Mapping[str, Any] | None, state: str, generation: int) -> bool:
    return (
        summary is not None
        and summary.get("state") == state
        and summary.get("observed_generation") == generation
    )


def blocked_by(resource: Resource, adapter: str, graph: Graph) -> list[str]:
    """Dependencies of `adapter` not Ready at the resource's generation, in graph order.

    Also names whatever the API itself lists in `status.adapters[adapter].blocked_by`.
    """
    summaries = _summaries(resource)
    generation = resource["generation"]
    blocked = [
        dep
        for dep in graph.get(adapter, ())
        if not _in_state_at(summaries.get(dep), "Ready", generation)
    ]
    own = summaries.get(adapter)
    for dep in (own or {}).get("blocked_by") or []:
        if dep not in blocked:
            blocked.append(dep)
    return blocked


def dependents_not_finalized(resource: Resource, adapter: str, graph: Graph) -> list[str]:
    """Adapters depending on `adapter` that have not reported Finalized at this generation."""
    summaries = _summaries(resource)
    generation = resource["generation"]
    return sorted(
        other
        for other, deps in graph.items()
        if adapter in deps and not _in_state_at(summaries.get(other), "Finalized", generation)
    )
