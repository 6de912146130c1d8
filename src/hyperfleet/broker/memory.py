"""The in-process broker: the embedded demo and unit tests run the loop without RabbitMQ.

Same semantics as the RabbitMQ broker (see `ports`): queues keyed by (topic, subscription id)
outlive their subscribers, like durable queues, so an adapter restarted inside one process
resumes where it stopped; NACKed events come back after the configured backoff and go to
`dead_letters` after `dlq_attempts` deliveries. Events cross it encoded, as on the wire, so a
test on this broker exercises the codec too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field

import structlog
from cloudevents.core.v1.event import CloudEvent

from hyperfleet.broker import metrics
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import MalformedEvent, decode, encode
from hyperfleet.broker.ports import Handler

log = structlog.get_logger("hyperfleet.broker.memory")


@dataclass(slots=True)
class _Message:
    body: bytes
    attempts: int = 0


@dataclass(slots=True)
class _Queue:
    name: str
    items: asyncio.Queue[_Message] = field(default_factory=asyncio.Queue)
    pending_retries: set[asyncio.Task[None]] = field(default_factory=set)


class InProcessBroker:
    def __init__(self, settings: BrokerSettings | None = None) -> None:
        self.settings = settings or BrokerSettings()
        self._queues: dict[tuple[str, str], _Queue] = {}
        self._bindings: dict[str, list[_Queue]] = defaultdict(list)
        self.dead_letters: dict[str, list[bytes]] = defaultdict(list)
        """Dead-lettered message bodies per queue name, for inspection and replay."""
        self.published = 0
        self._closed = False

    def _queue(self, topic: str, subscription_id: str) -> _Queue:
        key = (topic, subscription_id)
        queue = self._queues.get(key)
        if queue is None:
            prefix = self.settings.queue or topic
            queue = _Queue(f"{prefix}-{subscription_id}")
            self._queues[key] = queue
            self._bindings[topic].append(queue)
        return queue

    async def publish_bytes(self, topic: str, body: bytes) -> None:
        if self._closed:
            raise RuntimeError("broker is closed")
        self.published += 1
        metrics.PUBLISHED.labels(topic).inc()
        for queue in self._bindings.get(topic, ()):
            queue.items.put_nowait(_Message(body))

    def depth(self, topic: str, subscription_id: str) -> int:
        """Events waiting in a subscription's queue (not counting retries in backoff)."""
        queue = self._queues.get((topic, subscription_id))
        return queue.items.qsize() if queue else 0

    def publisher(self) -> InProcessPublisher:
        return InProcessPublisher(self)

    def subscriber(
        self, subscription_id: str, *, parallelism: int | None = None
    ) -> InProcessSubscriber:
        return InProcessSubscriber(self, subscription_id, parallelism or self.settings.parallelism)

    async def healthy(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        self._closed = True
        for queue in self._queues.values():
            for task in list(queue.pending_retries):
                task.cancel()


class InProcessPublisher:
    def __init__(self, broker: InProcessBroker) -> None:
        self._broker = broker

    async def publish(
        self,
        topic: str,
        event: CloudEvent,
        *,
        routing_key: str | None = None,  # noqa: ARG002 - every queue is bound with '#'
    ) -> None:
        await self._broker.publish_bytes(topic, encode(event))

    async def close(self) -> None:
        return None


class InProcessSubscriber:
    def __init__(self, broker: InProcessBroker, subscription_id: str, parallelism: int) -> None:
        self.subscription_id = subscription_id
        self._broker = broker
        self._parallelism = parallelism
        self._workers: list[asyncio.Task[None]] = []

    async def subscribe(self, topic: str, handler: Handler) -> None:
        queue = self._broker._queue(topic, self.subscription_id)  # noqa: SLF001 - same module family
        for _ in range(self._parallelism):
            self._workers.append(asyncio.create_task(self._work(topic, queue, handler)))

    async def _work(self, topic: str, queue: _Queue, handler: Handler) -> None:
        while True:
            message = await queue.items.get()
            message.attempts += 1
            try:
                event = decode(message.body)
                await handler(event)
            except asyncio.CancelledError:
                queue.items.put_nowait(message)  # unacked work goes back, as on a lost channel
                raise
            except MalformedEvent as exc:
                log.warning("dead-lettered malformed event", queue=queue.name, error=str(exc))
                self._dead_letter(topic, queue, message)
            except Exception as exc:  # noqa: BLE001 - any handler failure is a NACK
                self._nack(topic, queue, message, exc)
            else:
                metrics.consumed(topic, self.subscription_id, "ack")

    def _dead_letter(self, topic: str, queue: _Queue, message: _Message) -> None:
        self._broker.dead_letters[queue.name].append(message.body)
        metrics.consumed(topic, self.subscription_id, "dead_letter")

    def _nack(self, topic: str, queue: _Queue, message: _Message, exc: Exception) -> None:
        settings = self._broker.settings
        if message.attempts >= settings.dlq_attempts:
            log.warning(
                "dead-lettered event after failed deliveries",
                queue=queue.name,
                attempts=message.attempts,
                error=repr(exc),
            )
            self._dead_letter(topic, queue, message)
            return
        metrics.consumed(topic, self.subscription_id, "nack")
        delay = settings.backoff(message.attempts)
        log.info(
            "event NACKed; redelivery scheduled", queue=queue.name, delay=delay, error=repr(exc)
        )

        async def redeliver() -> None:
            await asyncio.sleep(delay)
            queue.items.put_nowait(message)

        task = asyncio.create_task(redeliver())
        queue.pending_retries.add(task)
        task.add_done_callback(queue.pending_retries.discard)

    async def close(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
