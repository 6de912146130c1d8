"""Labelled histograms updated on every request without prometheus_client's per-call locks.

`prometheus_client`'s `Histogram.observe` takes a lock per bucket counter and for the sum, and a
labelled `Counter` one more; the request and query metrics pay that two or three times per
request. Every update here happens on the event loop's thread, so a series is plain counts,
summed into cumulative buckets only when `/metrics` is scraped. The exposition is the one
`prometheus_client` writes for a `Histogram` (and a `Counter` of the same label sets): the
same sample names, labels, `le` values and `_created` series.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""prometheus_client's default `Histogram` buckets (+Inf is implied)."""


class Series:
    """One label set: a count per bucket (the last one is +Inf), the sum, the creation time."""

    __slots__ = ("_bounds", "counts", "created", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.created = time.time()

    def observe(self, value: float) -> None:
        # `le` buckets: a value equal to a bound belongs to that bound's bucket.
        self.counts[bisect_left(self._bounds, value)] += 1
        self.total += value


class HistogramFamily:
    """A histogram over `labelnames`, optionally exposed with a counter of its observations.

    A collector for a `CollectorRegistry`; `series(*values)` is the hot-path handle.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        counter: tuple[str, str] | None = None,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._bounds = tuple(float(b) for b in buckets)
        # The `le` text prometheus_client writes (untyped upstream).
        les = [floatToGoString(b) for b in self._bounds]  # type: ignore[no-untyped-call]
        self._les: list[str] = [*les, "+Inf"]
        self._counter = counter
        self._series: dict[tuple[str, ...], Series] = {}

    def series(self, *labelvalues: str) -> Series:
        found = self._series.get(labelvalues)
        if found is None:
            if len(labelvalues) != len(self._labelnames):
                msg = f"{self._name} takes labels {self._labelnames}, got {labelvalues}"
                raise ValueError(msg)
            found = self._series[labelvalues] = Series(self._bounds)
        return found

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> list[Metric]:
        families = list(self._families())
        histogram = families[-1]
        counter = families[0] if self._counter is not None else None
        for values, series in list(self._series.items()):
            labels = dict(zip(self._labelnames, values, strict=True))
            cumulative = 0
            for le, count in zip(self._les, series.counts, strict=True):
                cumulative += count
                histogram.add_sample(f"{self._name}_bucket", {**labels, "le": le}, cumulative)
            histogram.add_sample(f"{self._name}_count", labels, cumulative)
            histogram.add_sample(f"{self._name}_sum", labels, series.total)
            histogram.add_sample(f"{self._name}_created", labels, series.created)
            if counter is not None:
                counter.add_sample(f"{counter.name}_total", labels, cumulative)
                counter.add_sample(f"{counter.name}_created", labels, series.created)
        return families

    def _families(self) -> Iterator[Metric]:
        if self._counter is not None:
            name, documentation = self._counter
            yield Metric(name.removesuffix("_total"), documentation, "counter")
        yield Metric(self._name, self._documentation, "histogram")
