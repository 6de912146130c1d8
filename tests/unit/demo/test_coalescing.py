"""Coalescing on the in-process broker: an event every subscription already has waiting is
skipped; an event is never skipped for a subscription that has started its last copy."""

import asyncio

from hyperfleet.broker.events import ResourceHint, hint_from, reconcile_event
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.demo.coalescing import CoalescingBroker

TOPIC = "hyperfleet-clusters"


def _event(rid: str, generation: int = 1):
    return reconcile_event(ResourceHint(id=rid, kind="Cluster", generation=generation))


class Gated:
    """A handler that records each event and blocks until released (one at a time)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int | None]] = []
        self.release = asyncio.Semaphore(0)

    async def __call__(self, event) -> None:
        hint = hint_from(event)
        self.seen.append((hint.id, hint.generation))
        await self.release.acquire()


async def _until(check) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


async def test_events_every_subscription_has_waiting_are_skipped():
    bus = CoalescingBroker(InProcessBroker())
    handler = Gated()
    await bus.subscriber("dns", parallelism=1).subscribe(TOPIC, handler)
    publisher = bus.publisher()
    await publisher.publish(TOPIC, _event("a", 1))
    await _until(lambda: len(handler.seen) == 1)  # started, blocked
    await publisher.publish(TOPIC, _event("a", 2))  # queued behind it
    await publisher.publish(TOPIC, _event("a", 3))  # would only queue up: skipped
    await publisher.publish(TOPIC, _event("b", 1))  # another resource: published
    assert bus.coalesced == 1
    assert bus.waiting(TOPIC, "a") == {"dns": 1}
    for _ in range(3):
        handler.release.release()
    await _until(lambda: len(handler.seen) == 3)
    await asyncio.sleep(0.05)
    assert handler.seen == [("a", 1), ("a", 2), ("b", 1)]
    assert bus.waiting(TOPIC, "a") == {}
    await bus.close()


async def test_an_event_after_the_waiting_one_started_is_published():
    bus = CoalescingBroker(InProcessBroker())
    handler = Gated()
    await bus.subscriber("dns", parallelism=1).subscribe(TOPIC, handler)
    publisher = bus.publisher()
    await publisher.publish(TOPIC, _event("a", 1))
    await _until(lambda: len(handler.seen) == 1)
    # The change behind this event may have happened after the handler read the resource.
    await publisher.publish(TOPIC, _event("a", 2))
    handler.release.release()
    await _until(lambda: len(handler.seen) == 2)
    await publisher.publish(TOPIC, _event("a", 3))
    handler.release.release()
    handler.release.release()
    await _until(lambda: len(handler.seen) == 3)
    assert [g for _, g in handler.seen] == [1, 2, 3]
    assert bus.coalesced == 0
    await bus.close()


async def test_a_subscription_with_nothing_waiting_still_gets_the_event():
    bus = CoalescingBroker(InProcessBroker())
    slow, fast = Gated(), Gated()
    await bus.subscriber("slow", parallelism=1).subscribe(TOPIC, slow)
    await bus.subscriber("fast", parallelism=1).subscribe(TOPIC, fast)
    publisher = bus.publisher()
    await publisher.publish(TOPIC, _event("a", 1))
    await _until(lambda: len(slow.seen) == len(fast.seen) == 1)
    await publisher.publish(TOPIC, _event("a", 2))  # both queue it
    fast.release.release()
    await _until(lambda: len(fast.seen) == 2)  # fast started its copy; slow has one waiting
    await publisher.publish(TOPIC, _event("a", 3))
    assert bus.coalesced == 0
    for _ in range(3):
        fast.release.release()
        slow.release.release()
    await _until(lambda: len(fast.seen) == 3 and len(slow.seen) == 3)
    assert [g for _, g in fast.seen] == [1, 2, 3]
    await bus.close()


async def test_events_without_subscribers_or_resource_id_pass_through():
    inner = InProcessBroker()
    bus = CoalescingBroker(inner)
    publisher = bus.publisher()
    await publisher.publish(TOPIC, _event("a"))
    await publisher.publish(TOPIC, _event("a"))
    assert inner.published == 2
    assert await bus.healthy()
    await publisher.close()
    await bus.close()
    assert not await bus.healthy()
