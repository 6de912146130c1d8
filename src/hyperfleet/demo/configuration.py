"""What the demo runs: its entity configuration, its thresholds and its adapter set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hyperfleet.config import EntityConfig
from hyperfleet.domain.entities import EntityRegistry

SENTINEL = "sentinel"
"""`--without sentinel` leaves out every Sentinel."""

DEMO_DEPENDENCIES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "Cluster": {"dns": ("validation",), "hypershift": ("validation", "dns")},
    "NodePool": {"hypershift": ("validation",)},
}
"""Adapter dependencies of the demo's default entities (interfaces.md, "The loop")."""

DEMO_LOGGING = {"level": "warning", "format": "text"}
"""The demo's logging unless the config or `HYPERFLEET_LOGGING_*` set it."""


@dataclass(frozen=True, slots=True)
class DemoThresholds:
    """Short Sentinel and adapter timings, so a new cluster is Ready within seconds."""

    poll_seconds: float = 1.0
    """How often each Sentinel lists its kind."""
    not_ready_debounce_seconds: float = 1.0
    """A resource that is not Ready is re-published at most this often."""
    ready_max_age_seconds: float = 60.0
    """A Ready resource is re-published when its last report is older than this."""
    adapter_delay_seconds: float = 0.0
    """Simulated work per reconcile."""


def demo_entities() -> list[EntityConfig]:
    """The built-in kinds with the demo's adapter dependencies (only that key is overridden)."""
    return [
        EntityConfig(
            kind=kind, adapter_dependencies={name: list(deps) for name, deps in graph.items()}
        )
        for kind, graph in DEMO_DEPENDENCIES.items()
    ]


def adapters_by_kind(registry: EntityRegistry) -> dict[str, tuple[str, ...]]:
    """Per kind, the adapters the configuration names: required first, then optional."""
    out: dict[str, tuple[str, ...]] = {}
    for desc in registry.kinds:
        names = tuple(dict.fromkeys((*desc.required_adapters, *desc.optional_adapters)))
        if names:
            out[desc.kind] = names
    return out


def unknown_parts(without: Iterable[str], registry: EntityRegistry) -> list[str]:
    """Names given to `--without` that are neither `sentinel` nor a configured adapter."""
    known = {SENTINEL} | {a for names in adapters_by_kind(registry).values() for a in names}
    return [name for name in without if name not in known]
