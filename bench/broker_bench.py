"""Broker benchmark: events published per second, and delivered end to end to one subscriber.

    python bench/broker_bench.py [--events N] [--concurrency C] [--url amqp://…]

Rows (each on a fresh uuid topic, deleted afterwards):

- publish, in-process: `InProcessBroker`, one subscription bound, nobody consuming;
- publish, RabbitMQ: persistent messages with publisher confirms, one publish in flight at a
  time (what a simple Sentinel loop does), then C in flight; and C in flight without confirms
  for comparison; one durable queue bound, nobody consuming;
- end to end: one subscriber (parallelism 10, a handler that only counts) consuming while N
  events are published C at a time; delivered/s = N / (last handled - first publish).

Each row also shows this process's CPU time per event (publisher and, end to end, consumer),
which depends far less on how busy the machine is than events/s does.

Publisher and consumer run in this one process and share the machine with RabbitMQ, so the
figures are a floor for a single client, not RabbitMQ's capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable

import aio_pika
from cloudevents.core.v1.event import CloudEvent

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import ResourceHint, reconcile_event
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.broker.ports import Broker
from hyperfleet.broker.rabbitmq import RabbitBroker
from hyperfleet.broker.topology import topology

SUBSCRIPTION = "bench"


def _events(n: int) -> list[CloudEvent]:
    return [
        reconcile_event(ResourceHint(id=str(uuid.uuid4()), kind="Cluster", generation=1))
        for _ in range(n)
    ]


async def _bounded(calls: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await call()

    await asyncio.gather(*(one(c) for c in calls))


Rate = tuple[float, float]
"""(events per second of wall time, this process's CPU µs per event)"""


def _rate(n: int, wall: float, cpu: float) -> Rate:
    return n / wall, cpu / n * 1e6


async def publish_rate(broker: Broker, topic: str, n: int, concurrency: int) -> Rate:
    """Events/s published with `concurrency` publishes in flight (a queue is bound)."""
    sub = broker.subscriber(SUBSCRIPTION)

    async def never(_: CloudEvent) -> None:  # pragma: no cover - consumption is stopped below
        return None

    await sub.subscribe(topic, never)
    await sub.close()  # the queue stays bound; nothing consumes during the measurement
    publisher = broker.publisher()
    events = _events(n)
    started, cpu = time.perf_counter(), time.process_time()
    await _bounded([functools.partial(publisher.publish, topic, e) for e in events], concurrency)
    return _rate(n, time.perf_counter() - started, time.process_time() - cpu)


async def end_to_end_rate(broker: Broker, topic: str, n: int, concurrency: int) -> Rate:
    done = asyncio.Event()
    handled = 0

    async def count(_: CloudEvent) -> None:
        nonlocal handled
        handled += 1
        if handled == n:
            done.set()

    sub = broker.subscriber(SUBSCRIPTION, parallelism=10)
    await sub.subscribe(topic, count)
    publisher = broker.publisher()
    events = _events(n)
    started, cpu = time.perf_counter(), time.process_time()
    await _bounded([functools.partial(publisher.publish, topic, e) for e in events], concurrency)
    await asyncio.wait_for(done.wait(), 300)
    rate = _rate(n, time.perf_counter() - started, time.process_time() - cpu)
    await sub.close()
    return rate


async def _cleanup(url: str, settings: BrokerSettings, topics: list[str]) -> None:
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    for topic in topics:
        topo = topology(settings, topic, SUBSCRIPTION)
        for queue in topo.queues():
            await channel.queue_delete(queue)
        await channel.exchange_delete(topo.exchange)
        await channel.exchange_delete(topo.dead_letter_exchange)
    await connection.close()


async def run(args: argparse.Namespace) -> dict[str, Rate]:
    n, c = args.events, args.concurrency
    results: dict[str, Rate] = {}
    memory = InProcessBroker()
    results["publish, in-process"] = await publish_rate(memory, "bench-mem-pub", n, 1)
    results["end to end, in-process"] = await end_to_end_rate(memory, "bench-mem-e2e", n, c)
    await memory.close()

    confirmed = BrokerSettings(url=args.url)
    unconfirmed = BrokerSettings(url=args.url, publisher_confirms=False)
    rows: list[tuple[str, BrokerSettings, int, bool]] = [
        ("publish, RabbitMQ, confirms, 1 in flight", confirmed, 1, False),
        (f"publish, RabbitMQ, confirms, {c} in flight", confirmed, c, False),
        (f"publish, RabbitMQ, no confirms, {c} in flight", unconfirmed, c, False),
        (f"end to end, RabbitMQ, confirms, {c} in flight", confirmed, c, True),
    ]
    for label, settings, concurrency, e2e in rows:
        topic = f"bench-{uuid.uuid4().hex[:10]}"
        broker = RabbitBroker(settings)
        try:
            rate = end_to_end_rate if e2e else publish_rate
            results[label] = await rate(broker, topic, n, concurrency)
        finally:
            await broker.close()
            await _cleanup(args.url, settings, [topic])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--url",
        default=os.environ.get("HYPERFLEET_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    )
    args = parser.parse_args()
    results = asyncio.run(run(args))
    width = max(len(k) for k in results)
    title = f"broker benchmark, {args.events} events"
    print(f"{title:<{width}}  events/s  client CPU us/event")
    for label, (rate, cpu_us) in results.items():
        print(f"{label:<{width}}  {rate:>8.0f}  {cpu_us:>19.0f}")
    summary = {k: {"events_per_s": round(r), "cpu_us": round(u)} for k, (r, u) in results.items()}
    print("BENCH_JSON " + json.dumps(summary))


if __name__ == "__main__":
    main()
