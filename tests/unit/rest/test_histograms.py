"""The lock-free request/query histograms expose what prometheus_client's own would."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from hyperfleet.rest.histograms import HistogramFamily

LABELS = ["component", "version", "method", "path", "code"]
VALUES = ("api", "0.1.0", "GET", "/api/x/-", "200")


def _without_created_values(text: str) -> str:
    return re.sub(r"(_created\{[^}]*\}) \S+", r"\1 T", text)


@pytest.mark.parametrize("observed", [[], [0.001], [0.005, 0.3, 20.0, 0.0049, 10.0]])
def test_exposition_equals_prometheus_clients_counter_and_histogram(observed):
    theirs = CollectorRegistry()
    counter = Counter("hf_requests_total", "Requests.", LABELS, registry=theirs)
    histogram = Histogram("hf_request_seconds", "Duration.", LABELS, registry=theirs)
    ours = CollectorRegistry()
    family = HistogramFamily(
        "hf_request_seconds", "Duration.", LABELS, counter=("hf_requests_total", "Requests.")
    )
    ours.register(family)
    series = family.series(*VALUES)
    counter.labels(*VALUES)
    histogram.labels(*VALUES)
    for value in observed:
        counter.labels(*VALUES).inc()
        histogram.labels(*VALUES).observe(value)
        series.observe(value)
    assert _without_created_values(generate_latest(ours).decode()) == _without_created_values(
        generate_latest(theirs).decode()
    )


def test_a_value_on_a_bound_counts_in_that_bucket():
    family = HistogramFamily("q", "Q.", ["op"], buckets=(0.1, 1.0))
    family.series("select").observe(0.1)
    registry = CollectorRegistry()
    registry.register(family)
    text = generate_latest(registry).decode()
    assert 'q_bucket{le="0.1",op="select"} 1.0' in text
    assert 'q_bucket{le="+Inf",op="select"} 1.0' in text


def test_a_series_needs_every_label():
    with pytest.raises(ValueError, match="takes labels"):
        HistogramFamily("q", "Q.", ["op", "table"]).series("select")
