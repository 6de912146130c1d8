"""The client over real TCP against a `hyperfleet serve` subprocess with bearer-token auth:
async and sync clients, TokenFile rotation, typed errors and connection errors on the wire."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tests.conftest import ServerProcess, with_database
from tests.factories import cluster_body, report_body

from hyperfleet.client import (
    ClientConnectionError,
    HyperFleetClient,
    NotFoundError,
    RetryPolicy,
    SyncHyperFleetClient,
    TokenFile,
    UnauthorizedError,
)
from hyperfleet.storage.migrations import migrate_url

ISSUER = "https://issuer.test"
AUDIENCE = "hyperfleet"

pytestmark = pytest.mark.slow


def sign(key: rsa.RSAPrivateKey, email: str) -> str:
    now = int(time.time())
    claims = {"email": email, "sub": email, "iss": ISSUER, "aud": AUDIENCE, "iat": now}
    claims["exp"] = now + 600
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


class Server:
    def __init__(self, proc: ServerProcess, key: rsa.RSAPrivateKey) -> None:
        self.proc = proc
        self.base = proc.base
        self.key = key


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def server(
    pg_admin_url: str, tmp_path: Path, key: rsa.RSAPrivateKey
) -> AsyncIterator[Server]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))

    name = f"hf_client_{secrets.token_hex(6)}"
    url = with_database(pg_admin_url, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env |= {
        "HYPERFLEET_DATABASE_URL": url,
        "HYPERFLEET_LOGGING_LEVEL": "warning",
        "HYPERFLEET_AUTH_ENABLED": "true",
        "HYPERFLEET_AUTH_JWKS_FILE": str(jwks),
        "HYPERFLEET_AUTH_ISSUER": ISSUER,
        "HYPERFLEET_AUTH_AUDIENCE": AUDIENCE,
    }
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        proc: ServerProcess | None = None
        try:
            await migrate_url(url)
            proc = ServerProcess(["--no-migrate"], env, tmp_path / "serve.log")
            await asyncio.to_thread(proc.wait_ready)
            yield Server(proc, key)
        finally:
            if proc is not None:
                await asyncio.to_thread(proc.stop)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_async_client_over_tcp_with_rotating_token_file(server: Server, tmp_path: Path):
    token_path = tmp_path / "token"
    token_path.write_text(sign(server.key, "alice@example.com"))
    async with HyperFleetClient(server.base) as anonymous:
        with pytest.raises(UnauthorizedError) as info:
            await anonymous.list("clusters")
        assert info.value.code == "HYPERFLEET-AUT-001"

    async with HyperFleetClient(server.base, token=TokenFile(token_path)) as client:
        created = await client.create("clusters", cluster_body())
        assert created["created_by"] == "alice@example.com"

        token_path.write_text(sign(server.key, "bob@example.com"))
        stat = token_path.stat()
        os.utime(token_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        patched = await client.patch("clusters", created["id"], {"labels": {"team": "b"}})
        assert patched["updated_by"] == "bob@example.com"

        stored = await client.report_status("clusters", created["id"], report_body("dns", 2))
        assert stored is not None
        assert stored["observed_generation"] == 2
        for _ in range(3):
            await client.create("clusters", cluster_body())
        ids = [c["id"] async for c in client.iterate("clusters", size=2)]
        assert len(ids) == 4
        assert created["id"] in ids
        assert (await client.api_info())["id"] == "hyperfleet"


def test_sync_client_over_tcp(server: Server):
    token = sign(server.key, "carol@example.com")
    with SyncHyperFleetClient(server.base, token=lambda: token) as client:
        created = client.create("clusters", cluster_body())
        got, tag = client.get_with_etag("clusters", created["id"])
        assert got["id"] == created["id"]
        patched = client.patch("clusters", created["id"], {"spec": {"v": 1}}, if_match=tag)
        assert patched["generation"] == 2
        assert client.get_href(f"http://other.example{created['href']}")["generation"] == 2
        assert [c["id"] for c in client.iterate("clusters", size=1)] == [created["id"]]
        assert client.list("clusters").total == 1
        stored = client.report_status("clusters", created["id"], report_body("dns", 2))
        assert stored is not None
        assert [s["adapter"] for s in client.statuses("clusters", created["id"]).items] == ["dns"]
        assert client.phase_history("clusters", created["id"]).total >= 1
        assert client.request("GET", "clusters", params={"size": 1}).status_code == 200
        assert {e["kind"] for e in client.aggregation_config()["entities"]} >= {"Cluster"}
        assert client.api_info()["id"] == "hyperfleet"
        assert client.base_url == server.base
        deleted = client.delete("clusters", created["id"])
        assert deleted["deleted_time"]
        client.force_delete("clusters", created["id"], "sync test")
        with pytest.raises(NotFoundError):
            client.get("clusters", created["id"])


async def test_stopped_server_is_a_connection_error(server: Server):
    base = server.base
    await asyncio.to_thread(server.proc.stop)
    retry = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.001)
    async with HyperFleetClient(base, retry=retry) as client:
        with pytest.raises(ClientConnectionError) as info:
            await client.get("clusters", "x")
    assert info.value.url == f"{base}/api/hyperfleet/v1/clusters/x"
    assert info.value.attempts == 2
