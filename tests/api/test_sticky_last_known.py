"""Under the strict policy an adapter may report Available=Unknown for a new generation (it is
working on it). That report is stored (its state counts for the phase), but the reference
conditions keep using the adapter's last True/False report, so LastKnownReconciled stays sticky
exactly as under the reference's discard rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.conftest import make_settings

API = "/api/hyperfleet/v1"


@pytest.fixture
def settings():
    return make_settings(entities=[{"kind": "Cluster", "required_adapters": ["validation", "dns"]}])


def body(adapter: str, generation: int, available: str, applied: str = "True") -> dict:
    return {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "conditions": [
            {"type": "Available", "status": available, "reason": "Checked"},
            {"type": "Applied", "status": applied},
            {"type": "Health", "status": "True"},
        ],
    }


def conditions(resource: dict) -> dict:
    return {c["type"]: c for c in resource["status"]["conditions"]}


async def test_unknown_at_a_new_generation_keeps_last_known_reconciled(client):
    created = (
        await client.post(f"{API}/clusters", json={"kind": "Cluster", "name": "sticky", "spec": {}})
    ).json()
    cid = created["id"]
    for adapter in ("validation", "dns"):
        r = await client.put(f"{API}/clusters/{cid}/statuses", json=body(adapter, 1, "True"))
        assert r.status_code == 201, r.text
    ready = (await client.get(f"{API}/clusters/{cid}")).json()
    assert conditions(ready)["LastKnownReconciled"]["status"] == "True"
    assert ready["status"]["phase"] == "Ready"

    patched = await client.patch(f"{API}/clusters/{cid}", json={"spec": {"v": 2}})
    assert patched.json()["generation"] == 2
    r = await client.put(f"{API}/clusters/{cid}/statuses", json=body("dns", 2, "Unknown"))
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "Provisioning"

    after = (await client.get(f"{API}/clusters/{cid}")).json()
    conds = conditions(after)
    assert conds["LastKnownReconciled"]["status"] == "True"
    assert conds["LastKnownReconciled"]["observed_generation"] == 1
    assert conds["Reconciled"]["status"] == "False"
    assert conds["DnsSuccessful"]["observed_generation"] == 1
    assert after["status"]["phase"] == "Provisioning"
    dns = next(a for a in after["status"]["adapters"] if a["adapter"] == "dns")
    assert (dns["state"], dns["observed_generation"]) == ("Provisioning", 2)

    # A second Unknown at the same generation carries no news: discarded.
    again = await client.put(f"{API}/clusters/{cid}/statuses", json=body("dns", 2, "Unknown"))
    assert again.status_code == 204
    # The real answer replaces the remembered one.
    done = await client.put(f"{API}/clusters/{cid}/statuses", json=body("dns", 2, "True"))
    assert done.status_code == 201
    final = conditions((await client.get(f"{API}/clusters/{cid}")).json())
    assert final["DnsSuccessful"]["observed_generation"] == 2
