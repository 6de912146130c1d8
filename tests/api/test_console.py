"""The fleet console's routes over the ASGI app (#9): the page, its assets, the switch."""

from __future__ import annotations

import contextlib
import json

import html5lib
import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tests.conftest import make_settings

from hyperfleet.rest.app import create_app
from hyperfleet.rest.console import STATIC_DIR

ASSETS = {
    "console.js": "text/javascript",
    "console.css": "text/css",
    "index.html": "text/html",
}


@contextlib.asynccontextmanager
async def _client_for(settings, database_url):
    app = create_app(settings, database_url=database_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hyperfleet") as c:
            yield c


async def test_console_page_is_served_as_valid_html(client):
    r = await client.get("/console")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    # html5lib's strict mode raises on any HTML parse error (unclosed or misnested elements,
    # a missing doctype, stray end tags).
    html5lib.HTMLParser(strict=True).parse(r.text)
    assert '<meta name="hf-auth-enabled" content="false">' in r.text
    assert '<script type="module" src="/console/static/console.js">' in r.text


async def test_trailing_slash_serves_the_page(client):
    r = await client.get("/console/")
    assert r.status_code == 200
    assert "<title>HyperFleet console</title>" in r.text


@pytest.mark.parametrize(("name", "media_type"), sorted(ASSETS.items()))
async def test_assets_are_served_from_the_package(client, name, media_type):
    r = await client.get(f"/console/static/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert r.content == (STATIC_DIR / name).read_bytes()


async def test_assets_reference_nothing_outside_the_origin():
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text, path.name
        assert "https://" not in text, path.name


async def test_unknown_asset_is_a_404(client):
    r = await client.get("/console/static/nope.js")
    assert r.status_code == 404


async def test_console_disabled_is_a_404(database_url):
    async with _client_for(make_settings(console={"enabled": False}), database_url) as client:
        for path in ("/console", "/console/static/console.js"):
            r = await client.get(path)
            assert r.status_code == 404, path
            assert r.json()["code"] == "HYPERFLEET-NTF-000"
        assert (await client.get("/api/hyperfleet/v1/clusters")).status_code == 200


async def test_console_tells_the_page_when_auth_is_on(tmp_path, database_url):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    settings = make_settings(
        auth={
            "enabled": True,
            "jwks_file": str(jwks),
            "issuer": "https://issuer.test",
            "audience": "hyperfleet",
        }
    )
    async with _client_for(settings, database_url) as client:
        r = await client.get("/console")
        # The page itself needs no token: it asks for one and sends it with API calls.
        assert r.status_code == 200
        assert '<meta name="hf-auth-enabled" content="true">' in r.text
        assert (await client.get("/console/static/console.js")).status_code == 200
        assert (await client.get("/api/hyperfleet/v1/clusters")).status_code == 401
