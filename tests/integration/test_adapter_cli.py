"""`hyperfleet adapter --config FILE` as a real process: config errors exit 2 naming the key
path; on RabbitMQ it consumes a published event and reports to a `hyperfleet serve` process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import httpx
import pytest
import yaml
from tests.conftest import ServerProcess, free_port

from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.events import ResourceHint, reconcile_event
from hyperfleet.broker.rabbitmq import RabbitBroker
from hyperfleet.broker.topology import topology

API = "/api/hyperfleet/v1"
BROKER_URL = os.environ.get("HYPERFLEET_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
DEADLINE = 60.0


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    return env | extra


def run_adapter(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperfleet", "adapter", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_errors_exit_2_with_every_key_path(tmp_path: Path):
    config = tmp_path / "adapter.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "dns",
                "kindd": "Cluster",
                "simulated": {"failure_rate": 2},
                "broker": {"dlq_attempts": 0},
            }
        )
    )
    result = run_adapter(config, clean_env())
    assert result.returncode == 2, result.stderr
    assert "config error: kindd:" in result.stderr
    assert "config error: simulated.failure_rate:" in result.stderr
    assert "config error: broker.dlq_attempts:" in result.stderr


def test_env_errors_name_the_variable_and_missing_kind_is_named(tmp_path: Path):
    config = tmp_path / "adapter.yaml"
    config.write_text(yaml.safe_dump({"name": "dns"}))
    result = run_adapter(config, clean_env())
    assert result.returncode == 2
    assert "config error: kind:" in result.stderr
    config.write_text(yaml.safe_dump({"name": "dns", "kind": "Cluster"}))
    result = run_adapter(config, clean_env(HYPERFLEET_BROKER_PARALLELISM="none"))
    assert result.returncode == 2
    assert "broker.parallelism" in result.stderr
    assert "HYPERFLEET_BROKER_PARALLELISM" in result.stderr


def test_an_unimportable_adapter_is_a_config_error(tmp_path: Path):
    config = tmp_path / "adapter.yaml"
    config.write_text(yaml.safe_dump({"name": "x", "kind": "Cluster", "adapter": "no.such:Thing"}))
    result = run_adapter(config, clean_env())
    assert result.returncode == 2
    assert "config error: adapter: cannot import no.such:Thing" in result.stderr


def test_an_unreachable_broker_at_start_exits_1(tmp_path: Path):
    config = tmp_path / "adapter.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "dns",
                "kind": "Cluster",
                "broker": {
                    "url": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                    "connect_timeout_seconds": 1,
                },
            }
        )
    )
    result = run_adapter(config, clean_env())
    assert result.returncode == 1, result.stderr
    assert "error:" in result.stderr


def wait_for(check, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while True:
        with contextlib.suppress(httpx.TransportError):
            if check():
                return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def api_server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "hyperfleet.yaml"
    config.write_text(
        yaml.safe_dump({"entities": [{"kind": "Cluster", "required_adapters": ["validation"]}]})
    )
    env = clean_env(HYPERFLEET_DATABASE_URL=database_url, HYPERFLEET_LOGGING_LEVEL="warning")
    server = ServerProcess(["--config", str(config), "--no-migrate"], env, tmp_path / "api.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


async def _cleanup(topic: str, subscription: str) -> None:
    connection = await aio_pika.connect(BROKER_URL, timeout=5)
    try:
        channel = await connection.channel()
        topo = topology(BrokerSettings(url=BROKER_URL), topic, subscription)
        for queue in topo.queues():
            await channel.queue_delete(queue)
        await channel.exchange_delete(topo.exchange)
        await channel.exchange_delete(topo.dead_letter_exchange)
    finally:
        await connection.close()


@pytest.mark.broker
async def test_adapter_process_reconciles_an_event_from_rabbitmq(
    api_server: ServerProcess, tmp_path: Path
):
    try:
        probe = await aio_pika.connect(BROKER_URL, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any failure means "no RabbitMQ here"
        if os.environ.get("CI") == "true":
            pytest.fail(f"RabbitMQ unreachable at {BROKER_URL}: {exc!r}")
        pytest.skip(f"RabbitMQ unreachable at {BROKER_URL}: {exc!r}")
    await probe.close()

    topic = f"hf-test-{uuid.uuid4().hex[:12]}"
    health_port = free_port()
    config = tmp_path / "adapter.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "validation",
                "resource_type": "clusters",
                "topic": topic,
                "health_port": health_port,
                "dependency_refresh_seconds": 1,
                "broker": {"url": "amqp://nobody:wrong@127.0.0.1:1/"},  # the env wins
            }
        )
    )
    env = clean_env(HYPERFLEET_API_URL=api_server.base, HYPERFLEET_BROKER_URL=BROKER_URL)
    log_path = tmp_path / "adapter.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hyperfleet", "adapter", "--config", str(config)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    health = f"http://127.0.0.1:{health_port}"
    try:
        wait_for(lambda: httpx.get(f"{health}/readyz", timeout=2).status_code == 200, "adapter")
        cluster = httpx.post(
            f"{api_server.base}{API}/clusters",
            json={"kind": "Cluster", "name": "cli-adapter", "spec": {}},
            timeout=10,
        ).json()
        broker = RabbitBroker(BrokerSettings(url=BROKER_URL))
        try:
            hint = ResourceHint(
                id=cluster["id"], kind="Cluster", href=cluster["href"], generation=1
            )
            await broker.publisher().publish(topic, reconcile_event(hint), routing_key="")
        finally:
            await broker.close()

        def ready() -> bool:
            got = httpx.get(f"{api_server.base}{API}/clusters/{cluster['id']}", timeout=5).json()
            return got["status"]["phase"] == "Ready"

        wait_for(ready, "cluster Ready")
        statuses = httpx.get(
            f"{api_server.base}{API}/clusters/{cluster['id']}/statuses", timeout=5
        ).json()
        (report,) = statuses["items"]
        assert report["adapter"] == "validation"
        assert report["data"] == {"reconciled_generation": 1, "reconcile_count": 1}
        metrics = httpx.get(f"{health}/metrics", timeout=5).text
        assert (
            'hyperfleet_adapter_events_processed_total{adapter="validation",kind="Cluster",'
            'outcome="reconciled"} 1.0'
        ) in metrics
        assert httpx.get(f"{health}/healthz", timeout=5).status_code == 200
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        await _cleanup(topic, "validation")
    assert proc.returncode == 0, log_path.read_text()[-3000:]
