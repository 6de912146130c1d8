"""Requests that fuzzing (schemathesis, negative mode) once turned into 500s."""

from __future__ import annotations

import pytest

API = "/api/hyperfleet/v1"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (
            {"conditions": [{"type": "0", "status": {}, "reason": "", "message": ""}]},
            "conditions[0].status",
        ),
        ({"conditions": [{"type": "Available", "status": ["True"]}]}, "conditions[0].status"),
        ({"state": {}}, "state"),
    ],
)
async def test_unhashable_values_in_a_report_are_400(client, extra, field):
    created = await client.post(
        f"{API}/clusters", json={"kind": "Cluster", "name": "fuzzed", "spec": {}}
    )
    body = {
        "adapter": "validator",
        "observed_generation": 1,
        "observed_time": "2021-01-01T10:00:00Z",
        "conditions": [
            {"type": "Available", "status": "True"},
            {"type": "Applied", "status": "True"},
            {"type": "Health", "status": "True"},
        ],
        **extra,
    }
    if field == "state":
        from datetime import UTC, datetime

        body["observed_time"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    r = await client.put(f"{API}/clusters/{created.json()['id']}/statuses", json=body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == field
