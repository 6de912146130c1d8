"""The RabbitMQ broker (aio-pika): the `ports` semantics on durable AMQP objects.

Topology and names: `hyperfleet.broker.topology`. Behaviour worth knowing:

- One robust connection per broker (`connect_robust`, reconnect every second); it re-declares
  exchanges, queues and bindings and restarts consumers after a broker restart. The first
  connection is made on first use and retried for `connect_timeout_seconds`.
- Publishing: persistent messages, publisher confirms; during an outage `publish` waits and
  retries until RabbitMQ is back, for at most `connect_timeout_seconds`, then raises
  `BrokerUnavailable`. A publish retried after a lost confirm may be delivered twice.
- Consuming: prefetch = parallelism; the ACK is sent only after the handler returned, so an
  event in flight when the connection drops is redelivered (at least once, never lost).
- NACK (handler raised): we count failed deliveries ourselves in the `x-hyperfleet-failures`
  header. Below `dlq_attempts` the event is re-published (confirmed) to the retry queue of
  `backoff(failures)`, then the delivery is ACKed; the retry queue's TTL returns it after the
  backoff. At `dlq_attempts`, or at once for a message that is not a CloudEvent (or a handler
  raising `MalformedEvent`), it is published to the dead-letter exchange with the reason in
  `x-hyperfleet-error`. Classic queues, no plugin: quorum queues' `x-delivery-limit` would
  redeliver without a backoff, and the delayed-message plugin is not always installed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import structlog
from aio_pika import ExchangeType
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
    DeliveryMode,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ProbableAuthenticationError
from cloudevents.core.bindings import rabbitmq as binding
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from hyperfleet.broker import metrics
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import MalformedEvent, decode
from hyperfleet.broker.ports import BrokerUnavailable, Handler
from hyperfleet.broker.topology import (
    ERROR_HEADER,
    FAILURES_HEADER,
    Topology,
    declare,
    declare_exchange,
    exchange_name,
    topology,
)

log = structlog.get_logger("hyperfleet.broker.rabbitmq")

_FORMAT = JSONFormat()
_RECONNECT_INTERVAL = 1.0
_RETRY_PAUSE = 0.5
_HEALTH_TIMEOUT = 5.0
_ERROR_TEXT_LIMIT = 1000


class RabbitBroker:
    """A robust connection to RabbitMQ handing out publishers and subscribers."""

    def __init__(self, settings: BrokerSettings) -> None:
        if urlsplit(settings.url).scheme.lower() not in {"amqp", "amqps"}:
            raise ValueError(f"broker.url: RabbitMQ needs amqp:// or amqps://, got {settings.url}")
        self.settings = settings
        self._connection: AbstractRobustConnection | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._parts: set[RabbitPublisher | RabbitSubscriber] = set()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def url(self) -> str:
        """The broker URL with its password masked (for logs and errors)."""
        return _redacted(self.settings.url)

    async def connection(self) -> AbstractRobustConnection:
        """The shared connection, made on first use."""
        if self._closed:
            raise BrokerUnavailable("the broker client is closed")
        if self._connection is None:
            async with self._lock:
                if self._connection is None:
                    self._connection = await self._connect()
        return self._connection

    async def _connect(self) -> AbstractRobustConnection:
        bound = self.settings.connect_timeout_seconds
        deadline = asyncio.get_running_loop().time() + bound
        while True:
            try:
                return await aio_pika.connect_robust(
                    self.settings.url,
                    reconnect_interval=_RECONNECT_INTERVAL,
                    timeout=min(bound, 10.0),
                    client_properties={"connection_name": "hyperfleet"},
                )
            except ProbableAuthenticationError as exc:
                metrics.error("connect")
                raise BrokerUnavailable(f"RabbitMQ at {self.url} refused the login") from exc
            except CONNECTION_EXCEPTIONS as exc:
                metrics.error("connect")
                if asyncio.get_running_loop().time() >= deadline:
                    raise BrokerUnavailable(
                        f"RabbitMQ at {self.url} unreachable for {bound:g}s"
                        f" (broker.connect_timeout_seconds): {exc}"
                    ) from exc
                log.warning("RabbitMQ unreachable; retrying", url=self.url, error=str(exc))
                await asyncio.sleep(_RECONNECT_INTERVAL)

    def publisher(self) -> RabbitPublisher:
        publisher = RabbitPublisher(self)
        self._parts.add(publisher)
        return publisher

    def subscriber(
        self, subscription_id: str, *, parallelism: int | None = None
    ) -> RabbitSubscriber:
        subscriber = RabbitSubscriber(
            self, subscription_id, parallelism or self.settings.parallelism
        )
        self._parts.add(subscriber)
        return subscriber

    def topology(self, topic: str, subscription_id: str) -> Topology:
        """Names of the exchanges and queues of one subscription."""
        return topology(self.settings, topic, subscription_id)

    async def healthy(self) -> bool:
        if self._closed:
            return False
        try:
            async with asyncio.timeout(_HEALTH_TIMEOUT):
                connection = await self.connection()
        except (BrokerUnavailable, TimeoutError):
            return False
        return not connection.is_closed and connection.connected.is_set()

    async def replay_dead_letters(
        self, topic: str, subscription_id: str, *, limit: int | None = None
    ) -> int:
        """Move dead letters back to the subscription's queue with a fresh failure count.

        Each message is ACKed from the DLQ only after its copy is confirmed, so a crash mid-way
        duplicates, never loses. Returns how many were moved.
        """
        topo = self.topology(topic, subscription_id)
        connection = await self.connection()
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        moved = 0
        try:
            dlq = await channel.declare_queue(topo.dead_letter_queue, passive=True)
            while limit is None or moved < limit:
                message = await dlq.get(no_ack=False, fail=False)
                if message is None:
                    break
                copy = _copy(message, drop=(FAILURES_HEADER, ERROR_HEADER))
                await channel.default_exchange.publish(copy, routing_key=topo.queue)
                await message.ack()
                moved += 1
        finally:
            await channel.close()
        log.info("replayed dead letters", queue=topo.queue, count=moved)
        return moved

    async def close(self) -> None:
        self._closed = True
        for part in list(self._parts):
            await part.close()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    def _forget(self, part: RabbitPublisher | RabbitSubscriber) -> None:
        self._parts.discard(part)


class RabbitPublisher:
    def __init__(self, broker: RabbitBroker) -> None:
        self._broker = broker
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._lock = asyncio.Lock()

    async def publish(
        self, topic: str, event: CloudEvent, *, routing_key: str | None = None
    ) -> None:
        """Publish persistently; return once confirmed; BrokerUnavailable after the bound."""
        wire = binding.to_structured(event, _FORMAT)
        message = aio_pika.Message(
            wire.body,
            content_type=wire.content_type,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=event.get_id(),
            type=event.get_type(),
        )
        key = topic if routing_key is None else routing_key
        bound = self._broker.settings.connect_timeout_seconds
        try:
            async with asyncio.timeout(bound):
                await self._publish_until_taken(topic, message, key)
        except TimeoutError as exc:
            metrics.error("publish")
            raise BrokerUnavailable(
                f"RabbitMQ at {self._broker.url} did not take the event within {bound:g}s"
                " (broker.connect_timeout_seconds)"
            ) from exc
        metrics.PUBLISHED.labels(topic).inc()

    async def _publish_until_taken(self, topic: str, message: aio_pika.Message, key: str) -> None:
        while True:
            try:
                exchange = await self._exchange(topic)
                await exchange.publish(message, key, mandatory=False)
            except BrokerUnavailable:
                raise
            except CONNECTION_EXCEPTIONS as exc:
                if self._broker.closed:
                    raise BrokerUnavailable("the broker client is closed") from exc
                # The robust connection restores the channel in the background; try again.
                metrics.error("publish")
                log.warning("publish failed; retrying", topic=topic, error=repr(exc))
                await asyncio.sleep(_RETRY_PAUSE)
            else:
                return

    async def _exchange(self, topic: str) -> AbstractExchange:
        name = exchange_name(self._broker.settings, topic)
        exchange = self._exchanges.get(name)
        if exchange is None:
            async with self._lock:
                exchange = self._exchanges.get(name)
                if exchange is None:
                    if self._channel is None:
                        connection = await self._broker.connection()
                        self._channel = await connection.channel(
                            publisher_confirms=self._broker.settings.publisher_confirms
                        )
                    exchange = await declare_exchange(self._channel, name)
                    self._exchanges[name] = exchange
        return exchange

    async def close(self) -> None:
        self._broker._forget(self)  # noqa: SLF001 - the broker owns its parts
        if self._channel is not None:
            with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                await self._channel.close()
            self._channel = None
        self._exchanges.clear()


class RabbitSubscriber:
    """Consumers of one subscription id (one per subscribed topic)."""

    def __init__(self, broker: RabbitBroker, subscription_id: str, parallelism: int) -> None:
        self.subscription_id = subscription_id
        self._broker = broker
        self._parallelism = parallelism
        self._consumers: list[_Consumer] = []

    async def subscribe(self, topic: str, handler: Handler) -> None:
        topo = self._broker.topology(topic, self.subscription_id)
        consumer = _Consumer(self._broker, topic, self.subscription_id, topo, handler)
        try:
            await consumer.start(self._parallelism)
        except BaseException:
            await consumer.close()
            raise
        self._consumers.append(consumer)

    async def close(self) -> None:
        self._broker._forget(self)  # noqa: SLF001 - the broker owns its parts
        for consumer in self._consumers:
            await consumer.close()
        self._consumers.clear()


class _Consumer:
    def __init__(
        self,
        broker: RabbitBroker,
        topic: str,
        subscription_id: str,
        topo: Topology,
        handler: Handler,
    ) -> None:
        self._broker = broker
        self._settings = broker.settings
        self._topic = topic
        self._subscription = subscription_id
        self._topo = topo
        self._handler = handler
        self._in: AbstractChannel | None = None
        self._out: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._dlx: AbstractExchange | None = None
        self._tag: str | None = None
        self._inflight: set[asyncio.Task[Any]] = set()

    async def start(self, parallelism: int) -> None:
        connection = await self._broker.connection()
        self._in = await connection.channel(publisher_confirms=False)
        await self._in.set_qos(prefetch_count=parallelism)
        self._queue = await declare(self._in, self._topo)
        # Re-publishing (retry, dead letter) is confirmed, on a channel of its own.
        self._out = await connection.channel(publisher_confirms=True, on_return_raises=True)
        self._dlx = await self._out.declare_exchange(
            self._topo.dead_letter_exchange, ExchangeType.DIRECT, durable=True
        )
        self._tag = await self._queue.consume(self._on_message)
        log.info("consuming", queue=self._topo.queue, prefetch=parallelism)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await self._process(message)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        attempt = failures(message) + 1
        try:
            event = from_message(message)
        except MalformedEvent as exc:
            await self._dead_letter(message, attempt, str(exc))
            return
        try:
            await self._handler(event)
        except MalformedEvent as exc:
            await self._dead_letter(message, attempt, str(exc))
        except Exception as exc:  # noqa: BLE001 - any handler failure is a NACK
            if attempt >= self._settings.dlq_attempts:
                await self._dead_letter(message, attempt, repr(exc))
            else:
                await self._retry(message, attempt, exc)
        else:
            if await self._settle(message.ack()):
                metrics.consumed(self._topic, self._subscription, "ack")

    async def _retry(self, message: AbstractIncomingMessage, attempt: int, exc: Exception) -> None:
        if not _delivery_open(message):
            return  # RabbitMQ redelivers it; a copy now would be a duplicate
        delay = self._settings.backoff(attempt)
        copy = _copy(message, extra={FAILURES_HEADER: attempt})
        try:
            async with asyncio.timeout(self._settings.connect_timeout_seconds):
                await self._output().default_exchange.publish(
                    copy, routing_key=self._topo.retry_queue(delay)
                )
        except (*CONNECTION_EXCEPTIONS, TimeoutError) as publish_error:
            # Keep the backoff: hold the delivery for it, then hand it back to the queue.
            metrics.error("retry")
            log.warning(
                "could not schedule a redelivery; requeueing after the backoff",
                queue=self._topo.queue,
                error=repr(publish_error),
            )
            await asyncio.sleep(delay)
            await self._settle(message.nack(requeue=True))
            return
        if await self._settle(message.ack()):
            metrics.consumed(self._topic, self._subscription, "nack")
            log.info(
                "event NACKed; redelivery scheduled",
                queue=self._topo.queue,
                attempt=attempt,
                delay=delay,
                error=repr(exc),
            )

    async def _dead_letter(
        self, message: AbstractIncomingMessage, attempt: int, reason: str
    ) -> None:
        if not _delivery_open(message):
            return
        copy = _copy(
            message, extra={FAILURES_HEADER: attempt, ERROR_HEADER: reason[:_ERROR_TEXT_LIMIT]}
        )
        try:
            async with asyncio.timeout(self._settings.connect_timeout_seconds):
                await self._dead_letter_exchange().publish(copy, routing_key=self._topo.queue)
        except (*CONNECTION_EXCEPTIONS, TimeoutError) as publish_error:
            # The queue's own dead-letter exchange still gets it, without our headers.
            metrics.error("dead_letter")
            log.warning("dead-letter publish failed; rejecting", error=repr(publish_error))
            settled = await self._settle(message.reject(requeue=False))
        else:
            settled = await self._settle(message.ack())
        if settled:
            metrics.consumed(self._topic, self._subscription, "dead_letter")
            log.warning(
                "dead-lettered event",
                queue=self._topo.queue,
                dead_letter_queue=self._topo.dead_letter_queue,
                attempts=attempt,
                reason=reason,
            )

    async def _settle(self, action: Awaitable[None]) -> bool:
        try:
            await action
        except CONNECTION_EXCEPTIONS as exc:
            metrics.error("ack")
            log.info("ACK lost with the channel; RabbitMQ redelivers the event", error=repr(exc))
            return False
        return True

    def _output(self) -> AbstractChannel:
        if self._out is None:  # pragma: no cover - set in start()
            raise BrokerUnavailable("consumer not started")
        return self._out

    def _dead_letter_exchange(self) -> AbstractExchange:
        if self._dlx is None:  # pragma: no cover - set in start()
            raise BrokerUnavailable("consumer not started")
        return self._dlx

    async def close(self) -> None:
        if self._queue is not None and self._tag is not None:
            with contextlib.suppress(*CONNECTION_EXCEPTIONS, TimeoutError):
                await self._queue.cancel(self._tag, timeout=_HEALTH_TIMEOUT)
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        for channel in (self._in, self._out):
            if channel is not None:
                with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                    await channel.close()
        self._in = self._out = None


def from_message(message: AbstractIncomingMessage) -> CloudEvent:
    """The CloudEvent in a delivery: structured mode (our wire format) or binary mode."""
    headers = {str(k): _text(v) for k, v in (message.headers or {}).items()}
    content_type = message.content_type or ""
    binary = "ce-specversion" in {k.lower() for k in headers}
    if not binary or content_type.lower().startswith("application/cloudevents"):
        return decode(message.body)
    wire = binding.RabbitMQMessage(headers, message.content_type, message.body)
    try:
        event = binding.from_binary(wire, _FORMAT, CloudEvent)
    except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MalformedEvent(f"not a CloudEvent: {exc}") from exc
    if not isinstance(event, CloudEvent):  # pragma: no cover - the factory is CloudEvent
        raise MalformedEvent("not a CloudEvents 1.0 event")
    return event


def failures(message: AbstractIncomingMessage) -> int:
    """Failed deliveries recorded in the message (0 when the header is absent or garbled)."""
    value = (message.headers or {}).get(FAILURES_HEADER)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


def _copy(
    message: AbstractIncomingMessage,
    *,
    extra: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> aio_pika.Message:
    headers = {k: v for k, v in (message.headers or {}).items() if k not in drop}
    headers.update(extra or {})
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        timestamp=message.timestamp,
        correlation_id=message.correlation_id,
        app_id=message.app_id,
    )


def _delivery_open(message: AbstractIncomingMessage) -> bool:
    try:
        return not message.channel.is_closed
    except CONNECTION_EXCEPTIONS:
        return False


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
