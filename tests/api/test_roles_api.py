"""Roles through the whole app: every role and operation cell, the 403 body, settings, auth off.

Tokens are signed by a test key whose JWKS the app reads from a file, as in test_auth_api.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tests.conftest import make_settings, with_database
from tests.factories import (
    API,
    assert_problem,
    cluster_body,
    nodepool_body,
    report_body,
)

from hyperfleet.domain.roles import GRANTS, Permission, Role, needed_role
from hyperfleet.rest.app import create_app

ISSUER = "https://issuer.test"
AUZ_001 = "HYPERFLEET-AUZ-001"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_path(tmp_path_factory: pytest.TempPathFactory, key: rsa.RSAPrivateKey) -> str:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return str(path)


def token(key: rsa.RSAPrivateKey, *, email: str = "alice@example.com", **claims: Any) -> str:
    now = int(time.time())
    payload = {"email": email, "iss": ISSUER, "iat": now, "exp": now + 3600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def bearer(key: rsa.RSAPrivateKey, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(key, **claims)}"}


def auth_settings(jwks_path: str, **auth: Any) -> dict[str, Any]:
    return {"enabled": True, "jwks_file": jwks_path, "issuer": ISSUER, **auth}


async def _emptied(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'schema_migrations'"
        )
        await conn.execute("TRUNCATE " + ", ".join(f'"{t["tablename"]}"' for t in tables))
    finally:
        await conn.close()
    return url


async def _client(settings: Any, url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database_url=url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hyperfleet") as c:
            yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def table_client(
    pg_admin_url: str, template_db: str, jwks_path: str
) -> AsyncIterator[httpx.AsyncClient]:
    """One app for the whole table: each cell makes resources of its own (unique names)."""
    url = await _emptied(with_database(pg_admin_url, template_db))
    async for c in _client(make_settings(auth=auth_settings(jwks_path)), url):
        yield c


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    """Relative to the API base; `{cid}` is a cluster made for the cell."""
    permission: Permission
    ok: int
    """The status of an allowed call."""
    needs: str = ""
    """"cluster": a fresh cluster; "deleting": a fresh cluster already marked for deletion."""
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


R, W, S, A = Permission.READ, Permission.WRITE, Permission.STATUS, Permission.ADMIN

OPERATIONS: dict[str, Operation] = {
    "list": Operation("GET", "/clusters", R, 200),
    "search": Operation("GET", "/clusters", R, 200, params={"search": "name = 'x'"}),
    # Allowed callers reach the watch code, which refuses the bad Last-Event-ID (a 400 before
    # any stream starts); refused ones get the 403 first.
    "watch": Operation(
        "GET", "/clusters", R, 400, params={"watch": "true"}, headers={"Last-Event-ID": "x1"}
    ),
    "list-resources": Operation("GET", "/resources", R, 200),
    "get": Operation("GET", "/clusters/{cid}", R, 200, "cluster"),
    "head": Operation("HEAD", "/clusters/{cid}", R, 200, "cluster"),
    "get-resources": Operation("GET", "/resources/{cid}", R, 200, "cluster"),
    "statuses": Operation("GET", "/clusters/{cid}/statuses", R, 200, "cluster"),
    "phase-history": Operation("GET", "/clusters/{cid}/phase-history", R, 200, "cluster"),
    "list-nested": Operation("GET", "/clusters/{cid}/nodepools", R, 200, "cluster"),
    "aggregation-config": Operation("GET", "/aggregation-config", R, 200),
    "create": Operation("POST", "/clusters", W, 201, json=cluster_body),
    "create-nested": Operation(
        "POST", "/clusters/{cid}/nodepools", W, 201, "cluster", json=nodepool_body
    ),
    "patch": Operation("PATCH", "/clusters/{cid}", W, 200, "cluster", json={"spec": {"a": 1}}),
    "patch-resources": Operation(
        "PATCH", "/resources/{cid}", W, 200, "cluster", json={"spec": {"a": 2}}
    ),
    "delete": Operation("DELETE", "/clusters/{cid}", W, 202, "cluster"),
    "put-status": Operation(
        "PUT", "/clusters/{cid}/statuses", S, 201, "cluster", json=lambda: report_body("dns", 1)
    ),
    "force-delete": Operation(
        "POST", "/clusters/{cid}/force-delete", A, 204, "deleting", json={"reason": "stuck"}
    ),
}

CALLERS: dict[str, list[str]] = {
    "viewer": ["viewer"],
    "editor": ["editor"],
    "adapter": ["adapter"],
    "admin": ["admin"],
    "viewer+adapter": ["viewer", "adapter"],
    "no-roles": [],
}


def _allowed(roles: list[str], permission: Permission) -> bool:
    return any(permission in GRANTS[Role(r)] for r in roles)


async def _prepare(client: httpx.AsyncClient, admin: dict[str, str], needs: str) -> str:
    if not needs:
        return ""
    r = await client.post(f"{API}/clusters", json=cluster_body(), headers=admin)
    assert r.status_code == 201, r.text
    cid: str = r.json()["id"]
    if needs == "deleting":
        assert (await client.delete(f"{API}/clusters/{cid}", headers=admin)).status_code == 202
    return cid


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_role_operation_table(
    table_client: httpx.AsyncClient, key: rsa.RSAPrivateKey, operation: str, caller: str
) -> None:
    op, roles = OPERATIONS[operation], CALLERS[caller]
    cid = await _prepare(table_client, bearer(key, roles=["admin"]), op.needs)
    body = op.json() if callable(op.json) else op.json
    r = await table_client.request(
        op.method,
        f"{API}{op.path.format(cid=cid)}",
        json=body,
        params=op.params,
        headers={**op.headers, **bearer(key, roles=roles)},
    )
    if _allowed(roles, op.permission):
        assert r.status_code == op.ok, r.text
    elif op.method == "HEAD":
        assert r.status_code == 403
    else:
        assert_problem(
            r, 403, AUZ_001, f"this operation needs the {needed_role(op.permission)} role"
        )


def test_the_table_covers_every_route_and_method() -> None:
    from hyperfleet.rest.authorization import ENTITY_ROUTES, OPERATION_ROUTES

    covered = {(op.method, _shape(op.path)) for op in OPERATIONS.values()}
    for shape, methods in ENTITY_ROUTES.items():
        for method, permission in methods.items():
            assert (method, "/clusters" + shape) in covered, (method, shape)
            assert any(
                o.permission is permission
                for o in OPERATIONS.values()
                if (o.method, _shape(o.path)) == (method, "/clusters" + shape)
            )
    for path, methods in OPERATION_ROUTES.items():
        for method in methods:
            assert (method, path) in covered


def _shape(path: str) -> str:
    return path.replace("{cid}", "{id}")


# -- the refusal and the order of checks -------------------------------------------------------


async def test_forbidden_body_names_the_role_and_comes_after_authentication(
    table_client: httpx.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    viewer = bearer(key, roles=["viewer"])
    r = await table_client.post(f"{API}/clusters", json=cluster_body(), headers=viewer)
    body = assert_problem(r, 403, AUZ_001, "this operation needs the editor role")
    assert body["title"] == "Permission Denied"
    assert body["type"].endswith("/permission-denied")
    # No token: 401 before any role check.
    r = await table_client.post(f"{API}/clusters", json=cluster_body())
    assert_problem(r, 401, "HYPERFLEET-AUT-001")
    # A body the handler would refuse: the role check still answers first.
    r = await table_client.post(f"{API}/clusters", content=b"{not json", headers=viewer)
    assert_problem(r, 403, AUZ_001)


async def test_unknown_paths_stay_404_and_wrong_methods_405(
    table_client: httpx.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    nobody = bearer(key, roles=[])
    r = await table_client.get(f"{API}/widgets", headers=nobody)
    assert_problem(r, 404, "HYPERFLEET-NTF-000")
    r = await table_client.put(f"{API}/clusters", headers=nobody)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"


async def test_operational_routes_need_no_role(
    table_client: httpx.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    nobody = bearer(key, roles=[])
    for path in ("/healthz", "/readyz", "/metrics", f"{API}/openapi", f"{API}/openapi.html"):
        assert (await table_client.get(path, headers=nobody)).status_code == 200, path
    assert (await table_client.get("/api/hyperfleet", headers=nobody)).status_code == 200


# -- settings ----------------------------------------------------------------------------------


@pytest.fixture
async def make_client(database_url: str, jwks_path: str) -> AsyncIterator[Any]:
    """Open an app with the given `auth` settings; closed at the end of the test."""
    stack: list[AsyncIterator[httpx.AsyncClient]] = []

    async def open_client(**auth: Any) -> httpx.AsyncClient:
        generator = _client(make_settings(auth=auth_settings(jwks_path, **auth)), database_url)
        stack.append(generator)
        return await anext(generator)

    yield open_client
    for generator in reversed(stack):
        await generator.aclose()


async def test_default_roles_apply_to_tokens_without_the_claim(
    make_client: Any, key: rsa.RSAPrivateKey
) -> None:
    client = await make_client(default_roles=["viewer"])
    plain = bearer(key)  # no "roles" claim
    assert (await client.get(f"{API}/clusters", headers=plain)).status_code == 200
    r = await client.post(f"{API}/clusters", json=cluster_body(), headers=plain)
    assert_problem(r, 403, AUZ_001, "this operation needs the editor role")
    # The claim, when present, replaces the default.
    r = await client.post(
        f"{API}/clusters", json=cluster_body(), headers=bearer(key, roles=["editor"])
    )
    assert r.status_code == 201


async def test_todays_tokens_keep_working_by_default(
    table_client: httpx.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    plain = bearer(key)  # default_roles: [admin]
    cid = await _prepare(table_client, plain, "deleting")
    r = await table_client.post(
        f"{API}/clusters/{cid}/force-delete", json={"reason": "stuck"}, headers=plain
    )
    assert r.status_code == 204


async def test_custom_roles_claim_and_mapping(make_client: Any, key: rsa.RSAPrivateKey) -> None:
    client = await make_client(
        roles_claim="groups", role_mapping={"fleet-ops": "editor", "fleet-robots": "adapter"}
    )
    ops = bearer(key, groups=["fleet-ops"], roles=["admin"])  # "roles" is not the claim now
    r = await client.post(f"{API}/clusters", json=cluster_body(), headers=ops)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = await client.delete(f"{API}/clusters/{cid}", headers=ops)
    assert r.status_code == 202
    r = await client.post(f"{API}/clusters/{cid}/force-delete", json={"reason": "x"}, headers=ops)
    assert_problem(r, 403, AUZ_001, "this operation needs the admin role")
    robot = bearer(key, groups=["fleet-robots"])
    r = await client.put(
        f"{API}/clusters/{cid}/statuses", json=report_body("dns", 2), headers=robot
    )
    assert r.status_code == 201, r.text
    # With a mapping, a bare role name in the claim is not a role.
    r = await client.get(f"{API}/clusters", headers=bearer(key, groups=["admin"]))
    assert_problem(r, 403, AUZ_001, "this operation needs the viewer role")


# -- auth off ----------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_auth_off_allows_everything(client: httpx.AsyncClient, operation: str) -> None:
    op = OPERATIONS[operation]
    cid = await _prepare(client, {}, op.needs)
    body = op.json() if callable(op.json) else op.json
    r = await client.request(
        op.method,
        f"{API}{op.path.format(cid=cid)}",
        json=body,
        params=op.params,
        headers=op.headers,
    )
    assert r.status_code == op.ok, r.text


# -- audit fields ------------------------------------------------------------------------------


def _access_lines(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("event") == "HTTP request completed"]


AUDIT = {"actor", "tenant", "role", "resource_id"}


async def test_writes_log_actor_tenant_role_and_resource_id(
    database_url: str, jwks_path: str, key: rsa.RSAPrivateKey, capsys: pytest.CaptureFixture[str]
) -> None:
    import structlog

    from hyperfleet.config import LoggingSettings
    from hyperfleet.logs import configure_logging

    editor = bearer(key, roles=["editor", "viewer"], email="ed@example.com")
    robot = bearer(key, roles=["adapter"], email="robot@example.com")
    saved = structlog.get_config()
    try:
        configure_logging(LoggingSettings(level="info", format="json"))
        async for c in _client(make_settings(auth=auth_settings(jwks_path)), database_url):
            created = await c.post(f"{API}/clusters", json=cluster_body(), headers=editor)
            cid = created.json()["id"]
            path = f"{API}/clusters/{cid}"
            await c.patch(path, json={"spec": {"a": 1}}, headers=editor)
            await c.put(f"{path}/statuses", json=report_body("dns", 2), headers=robot)
            refused = await c.delete(path, headers=robot)
            await c.delete(path, headers=editor)
            await c.get(path, headers=editor)
            await c.post(f"{API}/clusters", json=cluster_body())  # no token
    finally:
        structlog.configure(**saved)
    assert refused.status_code == 403
    lines = _access_lines(capsys.readouterr().out)
    audited = [(x["method"], x["status_code"], {k: x.get(k) for k in AUDIT}) for x in lines]
    assert audited[:5] == [
        (
            "POST",
            201,
            {"actor": "ed@example.com", "tenant": "", "role": "editor", "resource_id": cid},
        ),
        (
            "PATCH",
            200,
            {"actor": "ed@example.com", "tenant": "", "role": "editor", "resource_id": cid},
        ),
        (
            "PUT",
            201,
            {"actor": "robot@example.com", "tenant": "", "role": "adapter", "resource_id": cid},
        ),
        (
            "DELETE",
            403,
            {"actor": "robot@example.com", "tenant": "", "role": "", "resource_id": cid},
        ),
        (
            "DELETE",
            202,
            {"actor": "ed@example.com", "tenant": "", "role": "editor", "resource_id": cid},
        ),
    ]
    read, anonymous = lines[5], lines[6]
    assert read["method"] == "GET"
    assert not AUDIT & set(read)  # reads keep the plain line
    assert anonymous["status_code"] == 401
    assert {k: anonymous[k] for k in AUDIT} == {
        "actor": "",
        "tenant": "",
        "role": "",
        "resource_id": "",
    }


async def test_with_auth_off_writes_are_the_system_actors(client: httpx.AsyncClient) -> None:
    import structlog

    capture = structlog.testing.LogCapture()
    saved = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        created = await client.post(f"{API}/clusters", json=cluster_body())
        await client.get(f"{API}/clusters/{created.json()['id']}")
    finally:
        structlog.configure(**saved)
    lines = [e for e in capture.entries if e["event"] == "HTTP request completed"]
    write, read = lines[-2], lines[-1]
    assert {k: write[k] for k in AUDIT} == {
        "actor": "system@hyperfleet.local",
        "tenant": "",
        "role": "editor",
        "resource_id": created.json()["id"],
    }
    assert not AUDIT & set(read)
