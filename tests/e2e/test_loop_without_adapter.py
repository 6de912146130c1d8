"""`--without dns` on RabbitMQ: the demo leaves dns out, and dns runs on its own as
`hyperfleet adapter --config FILE`; while it is stopped its durable queue keeps the events."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import yaml
from tests.e2e.loop_processes import (
    DemoProcess,
    LoopProcess,
    RabbitVhost,
    clean_env,
    eventually,
    phase_of,
    wait_for_phase,
)

pytestmark = pytest.mark.broker

DNS_QUEUE = "hyperfleet-clusters-dns"


def _dns_adapter(tmp_path: Path, api_url: str, broker_url: str) -> LoopProcess:
    config = tmp_path / "dns.yaml"
    config.write_text(
        yaml.safe_dump(
            {"name": "dns", "kind": "Cluster", "api_url": api_url, "broker": {"url": broker_url}}
        )
    )
    return LoopProcess(
        ["adapter", "--config", str(config)],
        tmp_path / "dns.log",
        env=clean_env(HYPERFLEET_LOGGING_LEVEL="info"),
    )


def test_dns_left_out_keeps_its_events_queued_until_it_runs_on_its_own(
    fresh_database_url, rabbit: RabbitVhost, tmp_path
):
    demo = DemoProcess(
        ["--database-url", fresh_database_url, "--broker-url", rabbit.url, "--without", "dns"],
        tmp_path / "demo.log",
        env=clean_env(HYPERFLEET_LOGGING_LEVEL="info"),
    )
    adapter: LoopProcess | None = None
    try:
        demo.wait_ready()
        assert "clusters: validation, pullsecret, hypershift;" in demo.output()
        assert DNS_QUEUE not in rabbit.queues(), "the demo must not consume for dns"

        # dns subscribes once (its durable queue is declared), then stops.
        adapter = _dns_adapter(tmp_path, demo.base, rabbit.url)
        eventually(lambda: DNS_QUEUE in rabbit.queues(), what="dns queue declared")
        adapter.signal(signal.SIGTERM)
        assert adapter.wait() == 0, adapter.output()[-3000:]
        adapter.stop()

        with demo.api() as api:
            cid = api.post("/clusters", json={"kind": "Cluster", "name": "dns-later", "spec": {}})
            assert cid.status_code == 201, cid.text
            path = f"/clusters/{cid.json()['id']}"
            # The Sentinel's events pile up in dns's queue; the cluster cannot be Ready.
            eventually(lambda: rabbit.queues().get(DNS_QUEUE, 0) >= 2, what="dns events queued")
            assert phase_of(api, path)[0] != "Ready"
            statuses = api.get(f"{path}/statuses").json()["items"]
            assert "dns" not in {s["adapter"] for s in statuses}

            adapter = _dns_adapter(tmp_path, demo.base, rabbit.url)
            wait_for_phase(api, path, "Ready")
        adapter.signal(signal.SIGTERM)
        assert adapter.wait() == 0
        demo.signal(signal.SIGTERM)
        assert demo.wait() == 0, demo.output()[-3000:]
    finally:
        if adapter is not None:
            adapter.stop()
        demo.stop()
