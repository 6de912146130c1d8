"""`hyperfleet demo` as a subprocess of the real console script (in-process broker)."""

from __future__ import annotations

import signal

import psutil
import pytest
from tests.conftest import ServerProcess
from tests.e2e.loop_processes import (
    DemoProcess,
    clean_env,
    eventually,
    phase_of,
    postgres_processes,
    wait_for_phase,
)

CLUSTER_ADAPTERS = ["validation", "dns", "pullsecret", "hypershift"]


def _cluster(name: str, spec: dict | None = None) -> dict:
    return {"kind": "Cluster", "name": name, "spec": spec or {}}


def test_a_new_cluster_becomes_ready_and_sigterm_exits_0(fresh_database_url, tmp_path):
    demo = DemoProcess(["--database-url", fresh_database_url], tmp_path / "demo.log")
    try:
        demo.wait_ready()
        with demo.api() as api:
            config = api.get("/aggregation-config").json()
            created = api.post("/clusters", json=_cluster("demo-one"))
            assert created.status_code == 201, created.text
            body = wait_for_phase(api, f"/clusters/{created.json()['id']}", "Ready")
        assert sorted(a["adapter"] for a in body["status"]["adapters"]) == sorted(CLUSTER_ADAPTERS)
        assert all(a["state"] == "Ready" for a in body["status"]["adapters"])
        children = psutil.Process(demo.proc.pid).children(recursive=True)
        demo.signal(signal.SIGTERM)
        assert demo.wait() == 0, demo.output()[-3000:]
    finally:
        demo.stop()
    assert not [c for c in children if c.is_running()], "a child process outlived the demo"
    kinds = {e["kind"]: e for e in config["entities"]}
    assert kinds["Cluster"]["adapter_dependencies"] == {
        "dns": ["validation"],
        "hypershift": ["validation", "dns"],
    }
    assert kinds["NodePool"]["adapter_dependencies"] == {"hypershift": ["validation"]}
    assert "HyperFleet demo: API http://127.0.0.1:" in demo.output()


def test_without_dns_leaves_dns_out_and_the_cluster_never_becomes_ready(
    fresh_database_url, tmp_path
):
    demo = DemoProcess(
        ["--database-url", fresh_database_url, "--without", "dns"], tmp_path / "demo.log"
    )
    try:
        demo.wait_ready()
        with demo.api() as api:
            cid = api.post("/clusters", json=_cluster("no-dns")).json()["id"]

            def others_settled():
                body = api.get(f"/clusters/{cid}").json()
                states = {a["adapter"]: a["state"] for a in body["status"]["adapters"]}
                return states if states["validation"] == states["pullsecret"] == "Ready" else None

            states = eventually(others_settled, what="validation and pullsecret Ready")
            # hypershift depends on dns: it waits, and nobody reports for dns at all.
            statuses = api.get(f"/clusters/{cid}/statuses").json()["items"]
            assert "dns" not in {s["adapter"] for s in statuses}
            assert states["dns"] != "Ready"
            assert states["hypershift"] != "Ready"
            assert phase_of(api, f"/clusters/{cid}")[0] != "Ready"
        demo.signal(signal.SIGINT)
        assert demo.wait() == 0
    finally:
        demo.stop()
    assert "clusters: validation, pullsecret, hypershift;" in demo.output()


def test_demo_rejects_an_unknown_without_name(tmp_path):
    demo = DemoProcess(["--without", "dsn"], tmp_path / "demo.log")
    assert demo.wait() == 2
    assert "dsn" in demo.output()
    demo.stop()


@pytest.mark.slow
def test_restart_on_the_same_data_dir_converges_what_was_in_flight_and_created_meanwhile(
    tmp_path,
):
    """Events on the in-process broker die with the process; the Sentinel's re-publish after
    the restart is what converges (cluster `born-offline` never had an event at all)."""
    data_dir = tmp_path / "pg"
    log = tmp_path / "demo.log"
    demo = DemoProcess(["--data-dir", str(data_dir)], log)
    try:
        demo.wait_ready(timeout=180)
        assert postgres_processes(data_dir), "the embedded PostgreSQL should be running"
        with demo.api() as api:
            first = api.post("/clusters", json=_cluster("first")).json()["id"]
            wait_for_phase(api, f"/clusters/{first}", "Ready")
            # Most likely still in flight at the SIGTERM (its adapters need a few seconds).
            in_flight = api.post("/clusters", json=_cluster("in-flight")).json()["id"]
        demo.signal(signal.SIGTERM)
        assert demo.wait() == 0, demo.output()[-3000:]
    finally:
        demo.stop()
    eventually(lambda: not postgres_processes(data_dir), timeout=60, what="postgres stopped")

    # The API alone (no loop) on the same data dir: a cluster nobody publishes an event for.
    serve = ServerProcess(["--data-dir", str(data_dir)], clean_env(), tmp_path / "serve.log")
    try:
        serve.wait_ready(timeout=120)
        import httpx

        created = httpx.post(
            f"{serve.base}/api/hyperfleet/v1/clusters", json=_cluster("born-offline"), timeout=30
        )
        assert created.status_code == 201, created.text
        offline = created.json()["id"]
    finally:
        assert serve.stop() == 0
    eventually(lambda: not postgres_processes(data_dir), timeout=60, what="postgres stopped")

    demo = DemoProcess(["--data-dir", str(data_dir)], log)
    try:
        demo.wait_ready(timeout=180)
        with demo.api() as api:
            assert phase_of(api, f"/clusters/{first}")[0] == "Ready"
            wait_for_phase(api, f"/clusters/{in_flight}", "Ready")
            wait_for_phase(api, f"/clusters/{offline}", "Ready")
        demo.signal(signal.SIGTERM)
        assert demo.wait() == 0
    finally:
        demo.stop()
    eventually(lambda: not postgres_processes(data_dir), timeout=60, what="postgres stopped")


def test_demo_rejects_a_broker_url_of_an_unknown_scheme(tmp_path):
    demo = DemoProcess(["--broker-url", "kafka://127.0.0.1:9092"], tmp_path / "demo.log")
    assert demo.wait() == 2
    assert "--broker-url: " in demo.output()
    assert "amqp://" in demo.output()
    demo.stop()
