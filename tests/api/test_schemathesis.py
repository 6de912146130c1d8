"""Property-based conformance: schemathesis drives every operation of the official contract
against a real server process; no response may be a 5xx or violate the response schemas.

The server runs as a subprocess (`python -m hyperfleet serve`) on its own database. Path ids
are swapped for real resource ids half of the time so that the handlers behind the 404s are
exercised too.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from tests.conftest import ServerProcess, scratch_database

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"
schema = schemathesis.openapi.from_path(str(SPEC))
# Valid and invalid requests alike: neither may ever produce a 5xx.
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(pg_admin_url: str) -> Iterator[dict[str, str]]:
    with scratch_database(pg_admin_url, "hf_st") as database_url:
        env = {
            **os.environ,
            "HYPERFLEET_DATABASE_URL": database_url,
            "HYPERFLEET_LOGGING_LEVEL": "warning",
        }
        process = ServerProcess([], env, Path(tempfile.mkdtemp(prefix="hf-st-")) / "server.log")
        try:
            process.wait_ready()
            api = f"{process.base}/api/hyperfleet/v1"
            cluster = httpx.post(
                f"{api}/clusters", json={"kind": "Cluster", "name": "st-seed", "spec": {}}
            ).json()
            nodepool = httpx.post(
                f"{api}/clusters/{cluster['id']}/nodepools",
                json={"kind": "NodePool", "name": "np-seed", "spec": {}},
            ).json()
            yield {"base": process.base, "cluster_id": cluster["id"], "nodepool_id": nodepool["id"]}
        finally:
            process.stop()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_contract(case: schemathesis.Case, server: dict[str, str]) -> None:
    rng = random.Random(repr(case.path_parameters))
    ids = {"cluster_id": server["cluster_id"], "nodepool_id": server["nodepool_id"]}
    ids["resource_id"] = rng.choice([server["cluster_id"], server["nodepool_id"]])
    if case.path_parameters and rng.random() < 0.5:
        for key in list(case.path_parameters):
            if key in ids:
                case.path_parameters[key] = ids[key]
    case.call_and_validate(
        base_url=server["base"],
        checks=[not_a_server_error, response_schema_conformance],
        timeout=30,
    )
