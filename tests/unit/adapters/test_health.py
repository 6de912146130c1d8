"""The adapter process's health/metrics endpoints, served in-process on a free port."""

from __future__ import annotations

import httpx

from hyperfleet.adapters.health import serve_health
from hyperfleet.adapters.metrics import AdapterMetrics, Handled


async def test_healthz_readyz_metrics_and_404():
    metrics = AdapterMetrics()
    metrics.handled("dns", "Cluster", Handled.RECONCILED)
    ready = [True]

    async def is_ready() -> bool:
        return ready[0]

    server = await serve_health("127.0.0.1", 0, metrics, is_ready)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            ready[0] = False
            assert (await http.get("/readyz")).status_code == 503
            body = (await http.get("/metrics?x=1")).text
            assert (
                'hyperfleet_adapter_events_processed_total{adapter="dns",kind="Cluster",'
                'outcome="reconciled"} 1.0'
            ) in body
            assert (await http.get("/nope")).status_code == 404
    finally:
        server.close()
        await server.wait_closed()
