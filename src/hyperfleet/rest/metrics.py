"""Prometheus metrics with the reference's `hyperfleet_api_*` / `hyperfleet_db_*` names.

Each app owns its registry (tests build many apps in one process). Reconciliation gauges are
filled from one indexed query when `/metrics` is scraped, and report zero for every known kind
and delete flag instead of disappearing; `resource_type` is the lower-case kind everywhere, so
the counter and the gauges join without relabelling.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from hyperfleet import __version__
from hyperfleet.rest.histograms import HistogramFamily, Series

COMPONENT = "api"
QUERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    def __init__(self, kinds: Iterable[str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Series by label values, looked up with the caller's own key: these are updated on every
        # request and every statement (histograms.py says why they are not prometheus_client's).
        self._request_series: dict[tuple[str, str, int], Series] = {}
        self._query_series: dict[tuple[str, str], Series] = {}
        self._kinds = tuple(k.lower() for k in kinds)
        self.requests = HistogramFamily(
            "hyperfleet_api_request_duration_seconds",
            "HTTP request duration in seconds.",
            ["component", "version", "method", "path", "code"],
            counter=(
                "hyperfleet_api_requests_total",
                "HTTP requests handled, by route pattern and status code.",
            ),
        )
        self.registry.register(self.requests)
        build = Gauge(
            "hyperfleet_api_build_info",
            "Build information; always 1.",
            ["component", "version", "commit", "python_version"],
            registry=self.registry,
        )
        build.labels(COMPONENT, __version__, "unknown", platform.python_version()).set(1)
        self.reconciliation_started_total = Counter(
            "hyperfleet_api_reconciliation_started_total",
            "Transitions of a resource into Reconciled=False.",
            ["component", "version", "resource_type", "is_delete"],
            registry=self.registry,
        )
        gauge_labels = ["component", "version", "resource_type", "is_delete"]
        self.pending = Gauge(
            "hyperfleet_api_resource_pending_reconciliation",
            "Resources whose Reconciled condition is False.",
            gauge_labels,
            registry=self.registry,
        )
        self.stuck = Gauge(
            "hyperfleet_api_resource_pending_reconciliation_stuck",
            "Resources Reconciled=False for longer than the stuck threshold.",
            gauge_labels,
            registry=self.registry,
        )
        self.stuck_duration = Gauge(
            "hyperfleet_api_resource_pending_reconciliation_stuck_duration_seconds",
            "Longest time a resource has been Reconciled=False.",
            gauge_labels,
            registry=self.registry,
        )
        self.db_connections_open = Gauge(
            "hyperfleet_db_connections_open",
            "Open database connections in the pool.",
            ["component", "version"],
            registry=self.registry,
        )
        self.db_connections_in_use = Gauge(
            "hyperfleet_db_connections_in_use",
            "Database connections checked out of the pool.",
            ["component", "version"],
            registry=self.registry,
        )
        self.db_query_duration = HistogramFamily(
            "hyperfleet_db_query_duration_seconds",
            "Database statement duration in seconds, by SQL operation and first table.",
            ["component", "version", "operation", "table"],
            buckets=QUERY_BUCKETS,
        )
        self.registry.register(self.db_query_duration)
        self.db_errors = Counter(
            "hyperfleet_db_errors_total",
            "Database errors seen by request handlers.",
            ["component", "version", "error_type"],
            registry=self.registry,
        )
        self.config_reloads = Counter(
            "hyperfleet_api_config_reloads_total",
            "Aggregation configuration reloads applied.",
            ["component", "version"],
            registry=self.registry,
        )
        self.config_reload_failures = Counter(
            "hyperfleet_api_config_reload_failures_total",
            "Configuration reloads rejected because the new file was invalid.",
            ["component", "version"],
            registry=self.registry,
        )

    def db_error(self, error_type: str) -> None:
        self.db_errors.labels(COMPONENT, __version__, error_type).inc()

    def config_reload_failed(self) -> None:
        self.config_reload_failures.labels(COMPONENT, __version__).inc()

    def config_reloaded(self) -> None:
        self.config_reloads.labels(COMPONENT, __version__).inc()

    def observe_request(self, method: str, path: str, code: int, seconds: float) -> None:
        """One request: `hyperfleet_api_requests_total` and `…_request_duration_seconds`."""
        series = self._request_series.get((method, path, code))
        if series is None:
            series = self.requests.series(COMPONENT, __version__, method, path, str(code))
            self._request_series[(method, path, code)] = series
        series.observe(seconds)

    def observe_query(self, operation: str, table: str, seconds: float) -> None:
        """One database statement (`hyperfleet_db_query_duration_seconds`)."""
        series = self._query_series.get((operation, table))
        if series is None:
            series = self.db_query_duration.series(COMPONENT, __version__, operation, table)
            self._query_series[(operation, table)] = series
        series.observe(seconds)

    def reconciliation_started(self, kind: str, *, is_delete: bool) -> None:
        self.reconciliation_started_total.labels(
            COMPONENT, __version__, kind.lower(), str(is_delete).lower()
        ).inc()

    def set_reconciliation(self, rows: Iterable[tuple[str, bool, int, int, float]]) -> None:
        """Rows of (kind, is_delete, pending, stuck, max stuck seconds); absent → zero."""
        values = {(k.lower(), d): (p, s, m) for k, d, p, s, m in rows}
        keys = {(k, d) for k in self._kinds for d in (False, True)} | set(values)
        for kind, is_delete in keys:
            pending, stuck, longest = values.get((kind, is_delete), (0, 0, 0.0))
            labels = (COMPONENT, __version__, kind, str(is_delete).lower())
            self.pending.labels(*labels).set(pending)
            self.stuck.labels(*labels).set(stuck)
            self.stuck_duration.labels(*labels).set(longest)

    def set_pool(self, open_: int, in_use: int) -> None:
        self.db_connections_open.labels(COMPONENT, __version__).set(open_)
        self.db_connections_in_use.labels(COMPONENT, __version__).set(in_use)

    def render(self) -> bytes:
        return generate_latest(self.registry)
