"""`hyperfleet sentinel --config FILE` as a process: config errors exit 2 naming the key, and
against a real `hyperfleet serve` and the machine's RabbitMQ it publishes a reconcile event
that a RabbitMQ subscriber receives, serves its health port, and exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aio_pika
import httpx
import pytest
import yaml
from cloudevents.core.v1.event import CloudEvent
from tests.conftest import ServerProcess, free_port
from tests.factories import cluster_body

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.rabbitmq import RabbitBroker
from hyperfleet.broker.topology import topology
from hyperfleet.client import HyperFleetClient

BROKER_URL = os.environ.get("HYPERFLEET_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}


def _sentinel(config: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperfleet", "sentinel", "--config", str(config), *extra],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_config_errors_exit_2_with_key_paths(tmp_path: Path):
    config = tmp_path / "sentinel.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "resource_type": "clusters",
                "poll_intervall": 1,
                "broker": {"parallelism": 0},
                "message_decision": {
                    "params": [{"name": "a", "expr": "resource.generation >"}],
                    "result": "a",
                },
            }
        )
    )
    done = _sentinel(config)
    assert done.returncode == 2, done.stderr
    assert "config error: poll_intervall: Extra inputs are not permitted" in done.stderr
    assert "config error: broker.parallelism:" in done.stderr


def test_cel_compile_error_exits_2(tmp_path: Path):
    config = tmp_path / "sentinel.yaml"
    config.write_text(
        yaml.safe_dump(
            {"resource_type": "clusters", "message_decision": {"result": "resource.generation >"}}
        )
    )
    done = _sentinel(config)
    assert done.returncode == 2, done.stderr
    assert "config error: message_decision.result: does not compile" in done.stderr


def test_missing_resource_type_and_bad_broker_url(tmp_path: Path):
    config = tmp_path / "sentinel.yaml"
    config.write_text("broker: {url: 'kafka://x'}\n")
    done = _sentinel(config)
    assert done.returncode == 2
    assert "config error: resource_type: Field required" in done.stderr
    assert "config error: broker.url: Value error, must start with memory://" in done.stderr


def test_flags_override_the_file(tmp_path: Path):
    config = tmp_path / "sentinel.yaml"
    config.write_text("resource_type: clusters\nhealth: {port: 9999}\n")
    done = _sentinel(config, "--resource-type", "Not-A-Plural", "--health-port", "70000")
    assert done.returncode == 2
    assert "config error: resource_type: String should match pattern" in done.stderr
    assert "config error: health.port: Input should be less than or equal to 65535" in done.stderr


async def _rabbit_or_skip() -> None:
    try:
        connection = await aio_pika.connect(BROKER_URL, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "no RabbitMQ here"
        reason = f"RabbitMQ unreachable at {BROKER_URL}: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: broker tests must not be skipped)")
        pytest.skip(reason)
    await connection.close()


@pytest.mark.broker
async def test_sentinel_process_publishes_to_rabbitmq(tmp_path: Path, database_url: str):
    await _rabbit_or_skip()
    topic = f"hf-test-sentinel-{uuid.uuid4().hex[:12]}"
    settings = BrokerSettings(url=BROKER_URL)
    consumer = RabbitBroker(settings)
    received: list[CloudEvent] = []

    async def handler(event: CloudEvent) -> None:
        received.append(event)

    subscriber = consumer.subscriber("test")
    await subscriber.subscribe(topic, handler)

    api = ServerProcess(
        ["--no-migrate"], {**_env(), "HYPERFLEET_DATABASE_URL": database_url}, tmp_path / "api.log"
    )
    sentinel: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.to_thread(api.wait_ready)
        async with HyperFleetClient(api.base) as client:
            cluster = await client.create("clusters", cluster_body())

        health_port = free_port()
        config = tmp_path / "sentinel.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "resource_type": "clusters",
                    "topic": topic,
                    "poll_interval_seconds": 0.2,
                    "max_age_not_ready_seconds": 0.5,
                    "health": {"port": health_port},
                    "logging": {"format": "text"},
                }
            )
        )
        log = (tmp_path / "sentinel.log").open("wb")
        sentinel = subprocess.Popen(
            [sys.executable, "-m", "hyperfleet", "sentinel", "--config", str(config)],
            env={**_env(), "HYPERFLEET_API_URL": api.base, "HYPERFLEET_BROKER_URL": BROKER_URL},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        async with asyncio.timeout(60):
            while not received:
                assert sentinel.poll() is None, (tmp_path / "sentinel.log").read_text()
                await asyncio.sleep(0.1)
        event = received[0]
        assert event.get_type() == "com.redhat.hyperfleet.cluster.reconcile"
        assert event.get_source() == "hyperfleet-sentinel"
        assert event.get_data() == {
            "id": cluster["id"],
            "kind": "Cluster",
            "href": f"/api/hyperfleet/v1/clusters/{cluster['id']}",
            "generation": 1,
        }
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{health_port}") as probe:
            assert (await probe.get("/healthz")).status_code == 200
            assert (await probe.get("/readyz")).status_code == 200
            metrics = (await probe.get("/metrics")).text
            assert (
                'hyperfleet_sentinel_events_published_total{resource_selector="all",resource_type="clusters"}'
                in metrics
            )

        sentinel.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(sentinel.wait, 30) == 0
        log.close()
        assert "sentinel stopped" in (tmp_path / "sentinel.log").read_text()
    finally:
        if sentinel is not None and sentinel.poll() is None:
            sentinel.kill()
            sentinel.wait()
        api.stop()
        await subscriber.close()
        await consumer.close()
        await _delete_topology(settings, topic)


async def _delete_topology(settings: BrokerSettings, topic: str) -> None:
    admin = await aio_pika.connect(BROKER_URL)
    channel = await admin.channel()
    topo = topology(settings, topic, "test")
    for queue in topo.queues():
        await channel.queue_delete(queue)
    await channel.exchange_delete(topo.exchange)
    await channel.exchange_delete(topo.dead_letter_exchange)
    await admin.close()
