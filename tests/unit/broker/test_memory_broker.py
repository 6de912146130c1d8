"""The in-process broker keeps the broker ports' semantics: fan-out, competing consumers,
NACK → redelivery with backoff → dead letter, malformed messages dead-lettered at once."""

from __future__ import annotations

import asyncio

from cloudevents.core.v1.event import CloudEvent

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import ResourceHint, hint_from, reconcile_event
from hyperfleet.broker.memory import InProcessBroker

FAST = BrokerSettings(retry_delay_seconds=0.01, retry_max_delay_seconds=0.02, dlq_attempts=3)


def _event(n: int) -> CloudEvent:
    return reconcile_event(ResourceHint(id=f"c{n}", kind="Cluster", generation=1))


async def _until(predicate, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def test_different_subscriptions_fan_out_and_equal_ones_compete() -> None:
    broker = InProcessBroker(FAST)
    seen: dict[str, list[str]] = {"a1": [], "a2": [], "b": []}

    def recorder(name: str):
        async def handle(event: CloudEvent) -> None:
            seen[name].append(hint_from(event).id)

        return handle

    subs = [broker.subscriber("a", parallelism=1), broker.subscriber("a", parallelism=1)]
    subs.append(broker.subscriber("b"))
    await subs[0].subscribe("t", recorder("a1"))
    await subs[1].subscribe("t", recorder("a2"))
    await subs[2].subscribe("t", recorder("b"))
    for n in range(20):
        await broker.publisher().publish("t", _event(n))
    await _until(lambda: len(seen["a1"]) + len(seen["a2"]) == 20 and len(seen["b"]) == 20)
    assert sorted(seen["a1"] + seen["a2"]) == sorted(f"c{n}" for n in range(20))
    assert sorted(seen["b"]) == sorted(f"c{n}" for n in range(20))
    for sub in subs:
        await sub.close()


async def test_nacked_event_is_redelivered_then_dead_lettered() -> None:
    broker = InProcessBroker(FAST)
    attempts: list[int] = []

    async def failing(event: CloudEvent) -> None:
        attempts.append(1)
        raise RuntimeError("transient")

    sub = broker.subscriber("dns")
    await sub.subscribe("hyperfleet-clusters", failing)
    await broker.publisher().publish("hyperfleet-clusters", _event(1))
    await _until(lambda: len(broker.dead_letters["hyperfleet-clusters-dns"]) == 1)
    assert len(attempts) == FAST.dlq_attempts
    await sub.close()


async def test_event_succeeding_on_retry_is_not_dead_lettered() -> None:
    broker = InProcessBroker(FAST)
    calls: list[str] = []

    async def flaky(event: CloudEvent) -> None:
        calls.append(hint_from(event).id)
        if len(calls) == 1:
            raise RuntimeError("first try fails")

    sub = broker.subscriber("dns")
    await sub.subscribe("t", flaky)
    await broker.publisher().publish("t", _event(7))
    await _until(lambda: len(calls) == 2)
    await asyncio.sleep(0.05)
    assert calls == ["c7", "c7"]
    assert not broker.dead_letters
    await sub.close()


async def test_malformed_message_goes_to_dead_letters_without_reaching_the_handler() -> None:
    broker = InProcessBroker(FAST)
    handled: list[CloudEvent] = []

    async def handle(event: CloudEvent) -> None:
        handled.append(event)

    sub = broker.subscriber("dns")
    await sub.subscribe("t", handle)
    await broker.publish_bytes("t", b"not json")
    await _until(lambda: len(broker.dead_letters["t-dns"]) == 1)
    assert handled == []
    await sub.close()


async def test_queue_outlives_its_subscriber_and_keeps_events() -> None:
    broker = InProcessBroker(FAST)
    got: list[str] = []

    async def handle(event: CloudEvent) -> None:
        got.append(hint_from(event).id)

    first = broker.subscriber("dns")
    await first.subscribe("t", handle)
    await first.close()
    await broker.publisher().publish("t", _event(3))
    assert broker.depth("t", "dns") == 1
    second = broker.subscriber("dns")
    await second.subscribe("t", handle)
    await _until(lambda: got == ["c3"])
    await second.close()


async def test_publish_to_a_topic_without_subscriptions_drops_the_event() -> None:
    broker = InProcessBroker(FAST)
    await broker.publisher().publish("nobody", _event(1))
    assert broker.published == 1
    assert broker.depth("nobody", "x") == 0
