"""`hyperfleet_sentinel_*` Prometheus metrics, labelled by resource type and selector.

One `SentinelMetrics` per registry: Sentinels sharing a process (the demo runs one per kind)
may share it, their series told apart by the `resource_type` / `resource_selector` labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LABELS = ("resource_type", "resource_selector")


class SentinelMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "hyperfleet_sentinel_polls_total",
            "Poll passes, by outcome (success: every page was read).",
            [*_LABELS, "outcome"],
            registry=r,
        )
        self.resources_seen = Counter(
            "hyperfleet_sentinel_resources_seen_total",
            "Resources read from the API and evaluated.",
            _LABELS,
            registry=r,
        )
        self.pending = Gauge(
            "hyperfleet_sentinel_pending_resources",
            "Resources the last complete pass decided to publish.",
            _LABELS,
            registry=r,
        )
        self.published = Counter(
            "hyperfleet_sentinel_events_published_total",
            "Reconcile events the broker accepted.",
            _LABELS,
            registry=r,
        )
        self.skipped = Counter(
            "hyperfleet_sentinel_resources_skipped_total",
            "Resources the decision left alone.",
            _LABELS,
            registry=r,
        )
        self.api_errors = Counter(
            "hyperfleet_sentinel_api_errors_total",
            "Failed list requests, by error_type (fetch_error, auth_error).",
            [*_LABELS, "error_type"],
            registry=r,
        )
        self.broker_errors = Counter(
            "hyperfleet_sentinel_broker_errors_total",
            "Events the broker refused or failed to take.",
            _LABELS,
            registry=r,
        )
        self.evaluation_errors = Counter(
            "hyperfleet_sentinel_evaluation_errors_total",
            "Resources whose decision or event data failed to evaluate.",
            _LABELS,
            registry=r,
        )
        self.pass_duration = Histogram(
            "hyperfleet_sentinel_poll_duration_seconds",
            "Duration of one pass (all pages, decisions and publishes).",
            _LABELS,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=r,
        )
        self.last_success = Gauge(
            "hyperfleet_sentinel_last_successful_poll_timestamp_seconds",
            "Unix time at which the last complete pass ended.",
            _LABELS,
            registry=r,
        )

    def bind(self, resource_type: str, selector: str) -> BoundMetrics:
        labels = {"resource_type": resource_type, "resource_selector": selector}
        return BoundMetrics(
            polls_ok=self.polls.labels(**labels, outcome="success"),
            polls_failed=self.polls.labels(**labels, outcome="error"),
            resources_seen=self.resources_seen.labels(**labels),
            pending=self.pending.labels(**labels),
            published=self.published.labels(**labels),
            skipped=self.skipped.labels(**labels),
            fetch_errors=self.api_errors.labels(**labels, error_type="fetch_error"),
            auth_errors=self.api_errors.labels(**labels, error_type="auth_error"),
            broker_errors=self.broker_errors.labels(**labels),
            evaluation_errors=self.evaluation_errors.labels(**labels),
            pass_duration=self.pass_duration.labels(**labels),
            last_success=self.last_success.labels(**labels),
        )


@dataclass(frozen=True, slots=True)
class BoundMetrics:
    """One Sentinel's series (the label values applied once)."""

    polls_ok: Counter
    polls_failed: Counter
    resources_seen: Counter
    pending: Gauge
    published: Counter
    skipped: Counter
    fetch_errors: Counter
    auth_errors: Counter
    broker_errors: Counter
    evaluation_errors: Counter
    pass_duration: Histogram
    last_success: Gauge
