"""`status.phase` is searchable (beyond the reference): Sentinels and users filter by phase."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.conftest import make_settings

API = "/api/hyperfleet/v1"


@pytest.fixture
def settings():
    return make_settings(entities=[{"kind": "Cluster", "required_adapters": ["validation"]}])


async def test_search_by_phase(client):
    ids = []
    for name in ("ph-a", "ph-b", "ph-c"):
        r = await client.post(f"{API}/clusters", json={"kind": "Cluster", "name": name, "spec": {}})
        ids.append(r.json()["id"])
    report = {
        "adapter": "validation",
        "observed_generation": 1,
        "observed_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "conditions": [
            {"type": "Available", "status": "True", "reason": "Checked"},
            {"type": "Applied", "status": "True"},
            {"type": "Health", "status": "True"},
        ],
    }
    assert (await client.put(f"{API}/clusters/{ids[0]}/statuses", json=report)).status_code == 201

    ready = (
        await client.get(f"{API}/clusters", params={"search": "status.phase = 'Ready'"})
    ).json()
    assert [i["id"] for i in ready["items"]] == [ids[0]]
    pending = await client.get(
        f"{API}/clusters", params={"search": "status.phase in ('Pending', 'Provisioning')"}
    )
    assert sorted(i["id"] for i in pending.json()["items"]) == sorted(ids[1:])
    by_id = await client.get(f"{API}/clusters", params={"search": f"id = '{ids[1]}'"})
    assert [i["id"] for i in by_id.json()["items"]] == [ids[1]]
