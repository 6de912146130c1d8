"""What the Sentinel and adapters need from a message broker, and nothing more.

Semantics (shared by every implementation, in-process and RabbitMQ):

- `Publisher.publish(topic, event)` returns once the broker has taken responsibility for the
  event (RabbitMQ: publisher confirm). A topic with no subscription yet drops the event, like an
  exchange with no bound queue.
- A `Subscriber` is built for one subscription id. Subscribers with different ids on one topic
  each get every event (fan-out); subscribers with the same id share one queue and compete.
- `subscribe(topic, handler)` returns once the subscription's queue exists and is bound, so
  events published after it returns are never lost; consumption then runs in the background
  with `parallelism` handlers in flight at most, until `close()`.
- The handler returning normally ACKs the event. Raising NACKs it: the event is delivered again
  after a backoff, and after `dlq_attempts` failed deliveries it goes to the dead-letter queue.
  A message that is not a CloudEvent, or whose handler raises `events.MalformedEvent` (no
  point retrying it), goes to the dead-letter queue at once.
- Delivery is at least once: an event whose handler finished but whose ACK was lost (a broker
  restart) is delivered again, so handlers must be idempotent.
- `publish` raises `BrokerUnavailable` when the broker cannot take the event within the
  configured bound (`connect_timeout_seconds`); the caller decides whether to try again later.
"""

from __future__ import annotations

from typing import Protocol

from cloudevents.core.v1.event import CloudEvent


class BrokerUnavailable(ConnectionError):
    """The broker did not take an event, or accept a connection, within the configured bound."""


class Handler(Protocol):
    async def __call__(self, event: CloudEvent, /) -> None: ...


class Publisher(Protocol):
    async def publish(
        self, topic: str, event: CloudEvent, *, routing_key: str | None = None
    ) -> None:
        """Deliver `event` to every subscription of `topic` (routing key defaults to the topic)."""
        ...

    async def close(self) -> None: ...


class Subscriber(Protocol):
    subscription_id: str

    async def subscribe(self, topic: str, handler: Handler) -> None: ...

    async def close(self) -> None:
        """Stop consuming. An event whose handler had not finished is delivered again later."""
        ...


class Broker(Protocol):
    """A connection to one broker, handing out publishers and subscribers."""

    def publisher(self) -> Publisher: ...

    def subscriber(self, subscription_id: str, *, parallelism: int | None = None) -> Subscriber: ...

    async def healthy(self) -> bool: ...

    async def close(self) -> None: ...
