"""Prometheus counters of every broker (default registry: one broker client per process).

Labels stay bounded: `topic` and `subscription` come from configuration, `outcome` and
`operation` are fixed vocabularies.
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import Counter

Outcome = Literal["ack", "nack", "dead_letter"]
Operation = Literal["connect", "publish", "ack", "retry", "dead_letter", "declare"]

PUBLISHED = Counter(
    "hyperfleet_broker_messages_published_total",
    "Events the broker took responsibility for (confirmed when publisher confirms are on).",
    ["topic"],
)
CONSUMED = Counter(
    "hyperfleet_broker_messages_consumed_total",
    "Deliveries handled, by outcome: ack (handler returned), nack (redelivery scheduled), "
    "dead_letter (malformed, or out of attempts).",
    ["topic", "subscription", "outcome"],
)
ERRORS = Counter(
    "hyperfleet_broker_errors_total",
    "Broker operations that failed (and were retried or left to redelivery).",
    ["operation"],
)


def consumed(topic: str, subscription: str, outcome: Outcome) -> None:
    CONSUMED.labels(topic, subscription, outcome).inc()


def error(operation: Operation) -> None:
    ERRORS.labels(operation).inc()
