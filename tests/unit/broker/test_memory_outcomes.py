"""The in-process broker counts outcomes like the RabbitMQ one, and dead-letters a handler's
MalformedEvent at once instead of retrying it."""

from __future__ import annotations

import asyncio
import uuid

from cloudevents.core.v1.event import CloudEvent
from prometheus_client import REGISTRY

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import MalformedEvent, ResourceHint, hint_from, reconcile_event
from hyperfleet.broker.memory import InProcessBroker

FAST = BrokerSettings(retry_delay_seconds=0.01, retry_max_delay_seconds=0.02, dlq_attempts=3)


def _count(topic: str, outcome: str) -> float:
    labels = {"topic": topic, "subscription": "dns", "outcome": outcome}
    return REGISTRY.get_sample_value("hyperfleet_broker_messages_consumed_total", labels) or 0.0


async def _until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def test_outcomes_are_counted_and_malformed_data_is_not_retried() -> None:
    topic = f"t-{uuid.uuid4().hex}"
    broker = InProcessBroker(FAST)
    calls: list[str] = []

    async def handle(event: CloudEvent) -> None:
        rid = hint_from(event).id
        calls.append(rid)
        if rid == "bad":
            raise MalformedEvent("the resource id is not a uuid")
        if rid == "flaky" and calls.count("flaky") == 1:
            raise RuntimeError("transient")

    sub = broker.subscriber("dns")
    await sub.subscribe(topic, handle)
    for rid in ("ok", "bad", "flaky"):
        await broker.publisher().publish(topic, reconcile_event(ResourceHint(rid, "Cluster")))
    await _until(lambda: _count(topic, "ack") == 2 and _count(topic, "dead_letter") == 1)
    assert calls.count("bad") == 1
    assert _count(topic, "nack") == 1
    assert len(broker.dead_letters[f"{topic}-dns"]) == 1
    published = REGISTRY.get_sample_value(
        "hyperfleet_broker_messages_published_total", {"topic": topic}
    )
    assert published == 3
    await sub.close()
