"""Coalescing on the in-process broker: skip a resource's event that would only queue up.

No new event is published for a resource when every subscription of the topic still has one
for it queued and unstarted.

Why: the Sentinel re-publishes every resource that is not Ready once per debounce. When the
adapters fall behind (hundreds of new clusters at once), each pass adds another event per
resource behind the ones not yet handled, the queues grow without bound, and every stale event
still costs each adapter a fetch and a report. An event is only a hint to fetch the resource
(interfaces.md), so an event queued but not started already carries everything a new one would:
whoever starts it reads the resource as it is then. Skipping the new one loses nothing.

Counting is conservative: a copy counts as waiting from publish until its handler starts. A
redelivered copy (NACK, or a handler cut off at shutdown) is not counted again, so the count
can only be too low, which publishes more than needed, never less.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from hyperfleet.broker.ports import Broker, Handler, Publisher, Subscriber


def _resource_id(event: CloudEvent) -> str | None:
    data: Any = event.get_data()
    rid = data.get("id") if isinstance(data, dict) else None
    return rid if isinstance(rid, str) else None


class CoalescingBroker:
    """A broker whose publishers skip events every subscription already has waiting."""

    def __init__(self, inner: Broker) -> None:
        self._inner = inner
        self._subscriptions: dict[str, set[str]] = defaultdict(set)
        self._waiting: dict[tuple[str, str], Counter[str]] = {}
        self.coalesced = 0
        """Events not published because every subscription had one waiting."""

    def publisher(self) -> Publisher:
        return _CoalescingPublisher(self, self._inner.publisher())

    def subscriber(self, subscription_id: str, *, parallelism: int | None = None) -> Subscriber:
        inner = self._inner.subscriber(subscription_id, parallelism=parallelism)
        return _CoalescingSubscriber(self, inner)

    async def healthy(self) -> bool:
        return await self._inner.healthy()

    async def close(self) -> None:
        await self._inner.close()

    def waiting(self, topic: str, resource_id: str) -> dict[str, int]:
        """Unstarted copies per subscription (for tests and logs)."""
        return dict(self._waiting.get((topic, resource_id), Counter()))

    def _should_publish(self, topic: str, event: CloudEvent) -> bool:
        rid = _resource_id(event)
        subscriptions = self._subscriptions.get(topic)
        if rid is None or not subscriptions:
            return True
        waiting = self._waiting.setdefault((topic, rid), Counter())
        if all(waiting[s] > 0 for s in subscriptions):
            self.coalesced += 1
            return False
        for subscription in subscriptions:
            waiting[subscription] += 1
        return True

    def _started(self, topic: str, subscription: str, event: CloudEvent) -> None:
        rid = _resource_id(event)
        if rid is None:
            return
        waiting = self._waiting.get((topic, rid))
        if waiting is None or waiting[subscription] <= 0:
            return
        waiting[subscription] -= 1
        if not +waiting:  # every count back at zero: forget the resource
            del self._waiting[(topic, rid)]


class _CoalescingPublisher:
    def __init__(self, coalescer: CoalescingBroker, inner: Publisher) -> None:
        self._coalescer = coalescer
        self._inner = inner

    async def publish(
        self, topic: str, event: CloudEvent, *, routing_key: str | None = None
    ) -> None:
        if self._coalescer._should_publish(topic, event):  # noqa: SLF001 - one unit with CoalescingBroker
            await self._inner.publish(topic, event, routing_key=routing_key)

    async def close(self) -> None:
        await self._inner.close()


class _CoalescingSubscriber:
    def __init__(self, coalescer: CoalescingBroker, inner: Subscriber) -> None:
        self._coalescer = coalescer
        self._inner = inner
        self.subscription_id = inner.subscription_id

    async def subscribe(self, topic: str, handler: Handler) -> None:
        coalescer = self._coalescer
        subscription = self.subscription_id

        async def started(event: CloudEvent, /) -> None:
            coalescer._started(topic, subscription, event)  # noqa: SLF001 - one unit with CoalescingBroker
            await handler(event)

        await self._inner.subscribe(topic, started)
        coalescer._subscriptions[topic].add(subscription)  # noqa: SLF001 - one unit with CoalescingBroker

    async def close(self) -> None:
        await self._inner.close()
