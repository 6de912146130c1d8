"""The RabbitMQ broker on the machine's real RabbitMQ ($HYPERFLEET_TEST_BROKER_URL).

Every test uses its own topic (uuid) and deletes its exchanges and queues afterwards, so runs
by other people on the same RabbitMQ never collide. Without a reachable RabbitMQ the tests
skip, except under CI=true, where they fail: CI must never skip broker tests silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from cloudevents.core.v1.event import CloudEvent
from prometheus_client import REGISTRY

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import ResourceHint, hint_from, reconcile_event
from hyperfleet.broker.ports import BrokerUnavailable
from hyperfleet.broker.rabbitmq import RabbitBroker
from hyperfleet.broker.topology import (
    ERROR_HEADER,
    FAILURES_HEADER,
    Topology,
    TopologyConflict,
    topology,
)

pytestmark = pytest.mark.broker

BROKER_URL = os.environ.get("HYPERFLEET_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
DEADLINE = 30.0


@pytest.fixture(scope="session")
async def rabbit_url() -> str:
    try:
        connection = await aio_pika.connect(BROKER_URL, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "no RabbitMQ here"
        shown = RabbitBroker(BrokerSettings(url=BROKER_URL)).url  # password masked
        reason = f"RabbitMQ unreachable at {shown}: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: broker tests must not be skipped)")
        pytest.skip(reason)
    await connection.close()
    return BROKER_URL


class Rabbit:
    """One test's corner of RabbitMQ: a unique topic, brokers on it, raw access, cleanup."""

    def __init__(self, url: str, admin: AbstractConnection, channel: AbstractChannel) -> None:
        self.url = url
        self.topic = f"hf-test-{uuid.uuid4().hex[:12]}"
        self.admin = admin
        self.channel = channel
        self.brokers: list[RabbitBroker] = []
        self.settings = BrokerSettings(url=url)

    def broker(self, **overrides: Any) -> RabbitBroker:
        self.settings = BrokerSettings(url=self.url, **overrides)
        broker = RabbitBroker(self.settings)
        self.brokers.append(broker)
        return broker

    def topo(self, subscription_id: str) -> Topology:
        return topology(self.settings, self.topic, subscription_id)

    async def publish_raw(self, body: bytes, routing_key: str, **properties: Any) -> None:
        exchange = await self.channel.get_exchange(self.topo("x").exchange)
        await exchange.publish(aio_pika.Message(body, **properties), routing_key=routing_key)

    async def depth(self, queue: str) -> int:
        declared = await self.channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)

    async def peek(self, queue: str) -> AbstractIncomingMessage:
        """The next message of `queue`, left in it."""
        declared = await self.channel.declare_queue(queue, passive=True)
        got = await declared.get(no_ack=False, fail=False)
        assert got is not None, f"{queue} is empty"
        await got.reject(requeue=True)
        return got

    async def is_empty(self, queue: str) -> bool:
        return await self.depth(queue) == 0

    async def cleanup(self, subscription_ids: set[str]) -> None:
        for broker in self.brokers:
            await broker.close()
        channel = await self.admin.channel()
        for sid in subscription_ids:
            for queue in self.topo(sid).queues():
                await channel.queue_delete(queue)
        topo = self.topo("x")
        await channel.exchange_delete(topo.exchange)
        await channel.exchange_delete(topo.dead_letter_exchange)
        await channel.close()


SUBSCRIPTIONS = {"a", "b", "w", "dns", "durable", "bin", "live"}


@pytest.fixture
async def rabbit(rabbit_url: str) -> AsyncIterator[Rabbit]:
    admin = await aio_pika.connect(rabbit_url)
    env = Rabbit(rabbit_url, admin, await admin.channel())
    try:
        yield env
    finally:
        await env.cleanup(SUBSCRIPTIONS)
        await env.admin.close()


def _event(n: int) -> CloudEvent:
    return reconcile_event(ResourceHint(id=f"c{n}", kind="Cluster", generation=1))


async def until(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def recorder(seen: list[str]):
    async def handle(event: CloudEvent) -> None:
        seen.append(hint_from(event).id)

    return handle


def counter_value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_different_subscription_ids_each_get_every_event(rabbit: Rabbit) -> None:
    broker = rabbit.broker()
    seen_a: list[str] = []
    seen_b: list[str] = []
    await broker.subscriber("a").subscribe(rabbit.topic, recorder(seen_a))
    await broker.subscriber("b").subscribe(rabbit.topic, recorder(seen_b))
    publisher = broker.publisher()
    for n in range(10):
        await publisher.publish(rabbit.topic, _event(n))
    expected = sorted(f"c{n}" for n in range(10))
    await until(lambda: len(seen_a) == 10 and len(seen_b) == 10, "both subscriptions")
    assert sorted(seen_a) == expected
    assert sorted(seen_b) == expected
    assert counter_value("hyperfleet_broker_messages_published_total", topic=rabbit.topic) == 10
    acked = {"topic": rabbit.topic, "subscription": "a", "outcome": "ack"}
    # the ACK (and its count) follows the handler's return
    await until(
        lambda: counter_value("hyperfleet_broker_messages_consumed_total", **acked) == 10, "ACKs"
    )


async def test_subscribers_with_one_id_compete_for_events(rabbit: Rabbit) -> None:
    broker = rabbit.broker()
    seen: dict[str, list[str]] = {"w1": [], "w2": []}
    both_busy = asyncio.Event()

    def worker(name: str):
        async def handle(event: CloudEvent) -> None:
            seen[name].append(hint_from(event).id)
            if seen["w1"] and seen["w2"]:
                both_busy.set()
            # With prefetch 1, a worker holding its first event forces the next one onto the
            # other worker: the test waits for that instead of for a timing accident.
            await asyncio.wait_for(both_busy.wait(), DEADLINE)

        return handle

    await broker.subscriber("w", parallelism=1).subscribe(rabbit.topic, worker("w1"))
    await broker.subscriber("w", parallelism=1).subscribe(rabbit.topic, worker("w2"))
    publisher = broker.publisher()
    for n in range(20):
        await publisher.publish(rabbit.topic, _event(n))
    await until(lambda: len(seen["w1"]) + len(seen["w2"]) == 20, "all 20 events")
    assert seen["w1"]
    assert seen["w2"]
    assert sorted(seen["w1"] + seen["w2"]) == sorted(f"c{n}" for n in range(20))
    assert await rabbit.depth(rabbit.topo("w").queue) == 0


async def test_nack_redelivers_after_backoff_then_dead_letters(rabbit: Rabbit) -> None:
    broker = rabbit.broker(retry_delay_seconds=0.2, retry_max_delay_seconds=0.4, dlq_attempts=3)
    settings = broker.settings
    calls: list[float] = []
    healed = False

    async def failing(event: CloudEvent) -> None:
        calls.append(time.monotonic())
        if not healed:
            raise RuntimeError("transient failure")

    await broker.subscriber("dns").subscribe(rabbit.topic, failing)
    await broker.publisher().publish(rabbit.topic, _event(1))
    topo = rabbit.topo("dns")
    await until(lambda: rabbit.depth(topo.dead_letter_queue), "the dead letter")

    assert len(calls) == settings.dlq_attempts
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert gaps[0] >= settings.backoff(1)
    assert gaps[1] >= settings.backoff(2)
    assert await rabbit.depth(topo.queue) == 0
    labels = {"topic": rabbit.topic, "subscription": "dns"}
    consumed = "hyperfleet_broker_messages_consumed_total"
    await until(lambda: counter_value(consumed, **labels, outcome="dead_letter") == 1, "the count")
    assert counter_value(consumed, **labels, outcome="nack") == 2
    assert counter_value(consumed, **labels, outcome="ack") == 0

    dead = await rabbit.peek(topo.dead_letter_queue)
    assert dead.headers[FAILURES_HEADER] == settings.dlq_attempts
    assert "RuntimeError('transient failure')" in str(dead.headers[ERROR_HEADER])
    assert json.loads(dead.body)["data"]["id"] == "c1"
    assert dead.delivery_mode == aio_pika.DeliveryMode.PERSISTENT

    # Replay: the copy goes back to the subscription's queue with a fresh failure count.
    healed = True
    assert await broker.replay_dead_letters(rabbit.topic, "dns") == 1
    await until(lambda: len(calls) == settings.dlq_attempts + 1, "the replayed event")
    await until(
        lambda: counter_value(consumed, **labels, outcome="ack") == 1, "the replayed event's ACK"
    )
    assert await rabbit.depth(topo.dead_letter_queue) == 0


async def test_malformed_message_is_dead_lettered_at_once(rabbit: Rabbit) -> None:
    broker = rabbit.broker(dlq_attempts=5)
    seen: list[str] = []
    await broker.subscriber("dns").subscribe(rabbit.topic, recorder(seen))
    await rabbit.publish_raw(b"this is not a CloudEvent", routing_key=rabbit.topic)
    await broker.publisher().publish(rabbit.topic, _event(2))
    topo = rabbit.topo("dns")
    await until(lambda: seen == ["c2"], "the valid event after the malformed one")
    await until(lambda: rabbit.depth(topo.dead_letter_queue), "the dead letter")
    dead = await rabbit.peek(topo.dead_letter_queue)
    assert dead.body == b"this is not a CloudEvent"
    assert dead.headers[FAILURES_HEADER] == 1
    assert "not a CloudEvent" in str(dead.headers[ERROR_HEADER])
    assert seen == ["c2"]


async def test_any_routing_key_even_empty_reaches_every_queue(rabbit: Rabbit) -> None:
    broker = rabbit.broker()
    seen_a: list[str] = []
    seen_b: list[str] = []
    await broker.subscriber("a").subscribe(rabbit.topic, recorder(seen_a))
    await broker.subscriber("b").subscribe(rabbit.topic, recorder(seen_b))
    await broker.publisher().publish(rabbit.topic, _event(1), routing_key="")
    # What the `hf` scripts do: a structured CloudEvent with an empty routing key.
    body = json.dumps(
        {
            "specversion": "1.0",
            "type": "com.redhat.hyperfleet.cluster.reconcile.v1",
            "source": "/hyperfleet/service/sentinel",
            "id": "script-1",
            "data": {"id": "c2", "kind": "Cluster"},
        }
    ).encode()
    await rabbit.publish_raw(body, routing_key="")
    await rabbit.publish_raw(body.replace(b'"c2"', b'"c3"'), routing_key="some.other.key")
    await until(lambda: len(seen_a) == 3 and len(seen_b) == 3, "three events in both queues")
    assert sorted(seen_a) == sorted(seen_b) == ["c1", "c2", "c3"]


async def test_binary_mode_cloudevent_is_accepted(rabbit: Rabbit) -> None:
    broker = rabbit.broker()
    seen: list[str] = []
    await broker.subscriber("bin").subscribe(rabbit.topic, recorder(seen))
    await rabbit.publish_raw(
        b'{"id": "c9", "kind": "Cluster"}',
        routing_key=rabbit.topic,
        content_type="application/json",
        headers={
            "ce-specversion": "1.0",
            "ce-type": "com.redhat.hyperfleet.cluster.reconcile",
            "ce-source": "hyperfleet-sentinel",
            "ce-id": "bin-1",
        },
    )
    await until(lambda: seen == ["c9"], "the binary-mode event")


async def test_queue_outlives_its_subscriber(rabbit: Rabbit) -> None:
    first = rabbit.broker()
    subscriber = first.subscriber("durable")
    await subscriber.subscribe(rabbit.topic, recorder([]))
    await subscriber.close()
    await first.close()

    publisher_side = rabbit.broker()
    for n in range(3):
        await publisher_side.publisher().publish(rabbit.topic, _event(n))
    topo = rabbit.topo("durable")
    assert await rabbit.depth(topo.queue) == 3

    seen: list[str] = []
    await rabbit.broker().subscriber("durable").subscribe(rabbit.topic, recorder(seen))
    await until(lambda: len(seen) == 3, "the events published while nobody consumed")
    assert sorted(seen) == ["c0", "c1", "c2"]

    if shutil.which("rabbitmqctl"):
        listed = await _run("rabbitmqctl", "-q", "list_queues", "name", "durable")
        durable = dict(line.split("\t") for line in listed.splitlines() if "\t" in line)
        for queue in topo.queues():
            assert durable.get(queue) == "true", queue


async def test_publish_to_unreachable_rabbitmq_raises_after_the_bound() -> None:
    with contextlib.closing(__import__("socket").socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    broker = RabbitBroker(
        BrokerSettings(url=f"amqp://guest:secret@127.0.0.1:{port}/", connect_timeout_seconds=1)
    )
    with pytest.raises(BrokerUnavailable, match="connect_timeout_seconds") as info:
        await broker.publisher().publish("t", _event(1))
    assert "secret" not in str(info.value)
    assert not await broker.healthy()
    await broker.close()


async def test_queue_declared_elsewhere_with_other_arguments_is_a_clear_error(
    rabbit: Rabbit,
) -> None:
    await rabbit.channel.declare_queue(rabbit.topo("a").queue, durable=True)  # no DLX arguments
    broker = rabbit.broker()
    try:
        with pytest.raises(TopologyConflict, match=rabbit.topo("a").queue):
            await broker.subscriber("a").subscribe(rabbit.topic, recorder([]))
    finally:
        # An unclosed robust connection schedules its own close when collected, which a later
        # test then reports as a never-awaited coroutine.
        await broker.close()


async def test_refused_login_fails_at_once_without_leaking_the_password(rabbit_url: str) -> None:
    bad = rabbit_url.replace("guest:guest@", "guest:wrong-secret@")
    if bad == rabbit_url:
        pytest.skip("the test broker URL does not carry guest:guest credentials to spoil")
    broker = RabbitBroker(BrokerSettings(url=bad, connect_timeout_seconds=60))
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match="refused the login") as info:
        await broker.publisher().publish("t", _event(1))
    assert time.monotonic() - started < 60  # not retried until the bound
    assert "wrong-secret" not in str(info.value)
    await broker.close()


async def test_closed_broker_refuses_to_publish(rabbit: Rabbit) -> None:
    broker = rabbit.broker()
    publisher = broker.publisher()
    await publisher.publish(rabbit.topic, _event(1))
    await broker.close()
    with pytest.raises(BrokerUnavailable, match="closed"):
        await publisher.publish(rabbit.topic, _event(2))
    assert not await broker.healthy()


async def _run(*command: str, timeout: float = 120) -> str:
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"{' '.join(command)} failed: {text}"
    return text


async def test_rabbitmq_restart_loses_no_confirmed_event(rabbit: Rabbit) -> None:
    """Restarts the machine's RabbitMQ application (`rabbitmqctl stop_app` / `start_app`, which
    is much faster than a full node restart and drops every connection and every queue process
    the same way) while: events 0-9 are handled and ACKed, events 10-19 are confirmed and queued
    (one in flight, unACKed), and events 20-24 are published during the outage. Afterwards
    every event 10-24 is handled, consumption resumes, and no ACKed event comes back; a
    publisher with a 1 s bound raises BrokerUnavailable during the outage."""
    in_ci = os.environ.get("CI") == "true"
    if os.environ.get("HYPERFLEET_TEST_BROKER_RESTART", "1" if in_ci else "0") != "1":
        pytest.skip(
            "restarts the machine's shared RabbitMQ: runs under CI=true or"
            " HYPERFLEET_TEST_BROKER_RESTART=1 (.ci/run sets it)"
        )
    if not shutil.which("rabbitmqctl") or "127.0.0.1" not in rabbit.url:
        reason = "the restart test needs the local RabbitMQ and rabbitmqctl"
        if in_ci:
            pytest.fail(f"{reason} (CI=true: broker tests must not be skipped)")
        pytest.skip(reason)
    broker = rabbit.broker(connect_timeout_seconds=120)
    handled: Counter[str] = Counter()
    gate = asyncio.Event()

    async def handle(event: CloudEvent) -> None:
        rid = hint_from(event).id
        if int(rid[1:]) >= 10:
            await gate.wait()
        handled[rid] += 1

    await broker.subscriber("live", parallelism=1).subscribe(rabbit.topic, handle)
    publisher = broker.publisher()
    for n in range(10):
        await publisher.publish(rabbit.topic, _event(n))
    await until(lambda: len(handled) == 10, "events 0-9 handled")
    for n in range(10, 20):
        await publisher.publish(rabbit.topic, _event(n))

    impatient = rabbit.broker(connect_timeout_seconds=1).publisher()
    await impatient.publish(rabbit.topic, _event(26))  # connected before the outage

    await rabbit.channel.close()
    await rabbit.admin.close()
    await _run("rabbitmqctl", "stop_app")
    try:

        async def publish_during_outage() -> None:
            for n in range(20, 25):
                await publisher.publish(rabbit.topic, _event(n))

        late = asyncio.create_task(publish_during_outage())
        # A publisher with a 1 s bound gives up with a clear error meanwhile ...
        with pytest.raises(BrokerUnavailable, match="did not take the event within 1s"):
            await impatient.publish(rabbit.topic, _event(99))
        # ... while the patient one is still waiting for RabbitMQ.
        assert not late.done()
    finally:
        await _run("rabbitmqctl", "start_app")
        await _run("rabbitmqctl", "await_startup")
    await asyncio.wait_for(late, 120)
    gate.set()

    expected = [f"c{n}" for n in range(27) if n != 25]
    await until(lambda: all(handled[r] for r in expected), "every event after the restart", 120)
    assert all(handled[f"c{n}"] == 1 for n in range(10)), "an ACKed event came back"
    assert await broker.healthy()

    rabbit.admin = await aio_pika.connect(rabbit.url)
    rabbit.channel = await rabbit.admin.channel()
    await publisher.publish(rabbit.topic, _event(25))
    await until(lambda: handled["c25"] == 1, "an event published after the restart")
    await until(lambda: rabbit.is_empty(rabbit.topo("live").queue), "an empty queue")
