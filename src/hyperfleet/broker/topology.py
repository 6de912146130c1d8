"""RabbitMQ objects of one subscription: their names, and their declaration.

For topic `t` and subscription `s` (exchange name `E` = `broker.exchange` or `t`, queue name
`Q` = `<broker.queue or t>-<s>`):

- `E`: durable topic exchange the publishers send to.
- `Q`: durable queue bound to `E` with `#`, so every routing key (the empty one too) reaches it;
  it dead-letters natively to `E.dlx` with routing key `Q` (used when we reject a message
  because publishing it to the dead-letter exchange failed, or when an operator rejects one).
- `Q.retry.<ms>ms`: one durable queue per distinct backoff, with that queue-wide TTL, no
  consumer, dead-lettering to the default exchange with routing key `Q`. A NACKed event is
  re-published there with its failure count in a header; it comes back to `Q` (and only to `Q`,
  not to the other subscriptions) once the TTL has passed. A queue-wide TTL keeps expiry FIFO
  exact, which per-message TTLs in one shared queue would not.
- `E.dlx`: durable direct exchange; `Q.dlq` is bound to it with routing key `Q` and keeps
  dead letters for `DLQ_TTL_MS` (7 days).
"""

from __future__ import annotations

from dataclasses import dataclass

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue
from aio_pika.exceptions import ChannelPreconditionFailed

from hyperfleet.broker.config import BrokerSettings

FAILURES_HEADER = "x-hyperfleet-failures"
"""Failed deliveries of this event so far (absent = none)."""
ERROR_HEADER = "x-hyperfleet-error"
"""Why an event was dead-lettered (the handler's exception, or the decoding error)."""
DLQ_TTL_MS = 7 * 24 * 3600 * 1000
BIND_ALL = "#"


class TopologyConflict(RuntimeError):
    """A queue or exchange exists with other arguments than ours (RabbitMQ PRECONDITION_FAILED)."""


def exchange_name(settings: BrokerSettings, topic: str) -> str:
    return settings.exchange or topic


@dataclass(frozen=True, slots=True)
class Topology:
    exchange: str
    queue: str
    dead_letter_exchange: str
    dead_letter_queue: str
    retry_queues: tuple[tuple[int, str], ...]
    """(TTL in ms, queue name), one per distinct backoff of attempts 1 … dlq_attempts-1."""

    def retry_queue(self, delay_seconds: float) -> str:
        wanted = _millis(delay_seconds)
        for ttl, name in self.retry_queues:
            if ttl == wanted:
                return name
        raise KeyError(f"no retry queue for a {delay_seconds}s backoff")

    def queues(self) -> tuple[str, ...]:
        """Every queue of the subscription (for cleanup and inspection)."""
        return (self.queue, self.dead_letter_queue, *(name for _, name in self.retry_queues))


def topology(settings: BrokerSettings, topic: str, subscription_id: str) -> Topology:
    exchange = exchange_name(settings, topic)
    queue = f"{settings.queue or topic}-{subscription_id}"
    delays = sorted({_millis(settings.backoff(n)) for n in range(1, settings.dlq_attempts)})
    return Topology(
        exchange=exchange,
        queue=queue,
        dead_letter_exchange=f"{exchange}.dlx",
        dead_letter_queue=f"{queue}.dlq",
        retry_queues=tuple((ms, f"{queue}.retry.{ms}ms") for ms in delays),
    )


def _millis(seconds: float) -> int:
    return round(seconds * 1000)


async def declare_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    try:
        return await channel.declare_exchange(name, ExchangeType.TOPIC, durable=True)
    except ChannelPreconditionFailed as exc:
        raise TopologyConflict(
            f"exchange {name!r} exists but is not a durable topic exchange; delete it or set"
            f" broker.exchange: {exc}"
        ) from exc


async def declare(channel: AbstractChannel, topo: Topology) -> AbstractQueue:
    """Declare (idempotently) every object of the subscription; returns its queue."""
    exchange = await declare_exchange(channel, topo.exchange)
    try:
        dlx = await channel.declare_exchange(
            topo.dead_letter_exchange, ExchangeType.DIRECT, durable=True
        )
        dlq = await channel.declare_queue(
            topo.dead_letter_queue, durable=True, arguments={"x-message-ttl": DLQ_TTL_MS}
        )
        await dlq.bind(dlx, routing_key=topo.queue)
        for ttl, name in topo.retry_queues:
            await channel.declare_queue(
                name,
                durable=True,
                arguments={
                    "x-message-ttl": ttl,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": topo.queue,
                },
            )
        queue = await channel.declare_queue(
            topo.queue,
            durable=True,
            arguments={
                "x-dead-letter-exchange": topo.dead_letter_exchange,
                "x-dead-letter-routing-key": topo.queue,
            },
        )
    except ChannelPreconditionFailed as exc:
        raise TopologyConflict(
            f"a queue of subscription {topo.queue!r} exists with other arguments (declared by"
            f" another tool?); delete it or set broker.queue: {exc}"
        ) from exc
    await queue.bind(exchange, routing_key=BIND_ALL)
    return queue
