"""Prometheus metrics of adapter processes (one registry may serve several adapters)."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, generate_latest


class Handled(StrEnum):
    """How one event ended (the `outcome` label)."""

    RECONCILED = "reconciled"
    FINALIZED = "finalized"
    SKIPPED = "skipped"
    """Already done at this generation: the stored report was re-sent, no work."""
    WAITING = "waiting"
    GONE = "gone"
    IGNORED = "ignored"
    """Another kind's event, or one this adapter cannot use."""
    MALFORMED = "malformed"
    TERMINAL = "terminal"
    TRANSIENT = "transient"


class AdapterMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.events = Counter(
            "hyperfleet_adapter_events_processed_total",
            "Events handled, by adapter, kind and how the handling ended.",
            ["adapter", "kind", "outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "hyperfleet_adapter_errors_total",
            "Failed handlings, by adapter, kind and error class (transient = NACKed).",
            ["adapter", "kind", "error"],
            registry=self.registry,
        )

    def handled(self, adapter: str, kind: str, outcome: Handled) -> None:
        self.events.labels(adapter, kind, outcome.value).inc()
        if outcome in {Handled.TERMINAL, Handled.TRANSIENT}:
            self.errors.labels(adapter, kind, outcome.value).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
