"""Authentication wired through the whole app: 401 codes, identity in audit fields."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tests.conftest import make_settings

from hyperfleet.rest.app import create_app

API = "/api/hyperfleet/v1"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_file(tmp_path, key):
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return path


def token(key, *, email="alice@example.com", exp_in=300, iss="https://issuer.test"):
    now = int(time.time())
    claims = {
        "email": email,
        "sub": "alice",
        "iss": iss,
        "aud": "hyperfleet",
        "iat": now,
        "exp": now + exp_in,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
async def auth_client(jwks_file, database_url):
    settings = make_settings(
        auth={
            "enabled": True,
            "jwks_file": str(jwks_file),
            "issuer": "https://issuer.test",
            "audience": "hyperfleet",
        }
    )
    app = create_app(settings, database_url=database_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hyperfleet") as c:
            yield c


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "HYPERFLEET-AUT-001"),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, "HYPERFLEET-AUT-002"),
        ({"Authorization": "Bearer not-a-jwt"}, "HYPERFLEET-AUT-002"),
    ],
)
async def test_unauthenticated_requests_get_401(auth_client, headers, code):
    r = await auth_client.get(f"{API}/clusters", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code
    assert body["trace_id"] == r.headers["x-request-id"]


async def test_expired_token_is_aut_003(auth_client, key):
    r = await auth_client.get(
        f"{API}/clusters", headers={"Authorization": f"Bearer {token(key, exp_in=-3600)}"}
    )
    assert r.status_code == 401
    assert r.json()["code"] == "HYPERFLEET-AUT-003"


async def test_wrong_issuer_is_aut_002(auth_client, key):
    bad = token(key, iss="https://evil.test")
    r = await auth_client.get(f"{API}/clusters", headers={"Authorization": f"Bearer {bad}"})
    assert r.status_code == 401
    assert r.json()["code"] == "HYPERFLEET-AUT-002"


async def test_identity_fills_audit_fields(auth_client, key):
    alice = {"Authorization": f"Bearer {token(key)}"}
    bob = {"Authorization": f"Bearer {token(key, email='bob@example.com')}"}
    created = await auth_client.post(
        f"{API}/clusters", json={"kind": "Cluster", "name": "audited", "spec": {}}, headers=alice
    )
    assert created.status_code == 201
    body = created.json()
    assert body["created_by"] == "alice@example.com"
    assert body["updated_by"] == "alice@example.com"
    patched = await auth_client.patch(
        f"{API}/clusters/{body['id']}", json={"spec": {"a": 1}}, headers=bob
    )
    assert patched.json()["created_by"] == "alice@example.com"
    assert patched.json()["updated_by"] == "bob@example.com"
    deleted = await auth_client.delete(f"{API}/clusters/{body['id']}", headers=alice)
    assert deleted.status_code == 202
    assert deleted.json()["deleted_by"] == "alice@example.com"
    assert deleted.json()["updated_by"] == "bob@example.com"


async def test_operational_routes_need_no_token(auth_client):
    for path in ("/healthz", "/readyz", "/metrics", f"{API}/openapi", f"{API}/openapi.html"):
        r = await auth_client.get(path)
        assert r.status_code == 200, path


async def test_swagger_ui_assets_need_no_token(auth_client):
    # Regression: the page needed no token but its assets did, so it could not load in a browser.
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"):
        r = await auth_client.get(f"{API}/swagger-ui/{asset}")
        assert r.status_code == 200, asset
        assert r.content


async def test_auth_disabled_uses_system_actor(client):
    r = await client.post(f"{API}/clusters", json={"kind": "Cluster", "name": "sys", "spec": {}})
    assert r.json()["created_by"] == "system@hyperfleet.local"
