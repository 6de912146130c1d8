"""Tokens from the CLI against a server with JWT auth on: a context's token file, the
`HYPERFLEET_TOKEN` variable, and the errors without a (readable) token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from tests.integration.cli_support import Cli, running_server

ISSUER = "https://issuer.test"
AUDIENCE = "hyperfleet"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(key: rsa.RSAPrivateKey, email: str) -> str:
    now = int(time.time())
    claims = {"email": email, "sub": email, "iss": ISSUER, "aud": AUDIENCE, "iat": now}
    claims["exp"] = now + 3600
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory, key: rsa.RSAPrivateKey
) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("cli-auth")
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    jwks = directory / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    auth = {
        "HYPERFLEET_AUTH_ENABLED": "true",
        "HYPERFLEET_AUTH_JWKS_FILE": str(jwks),
        "HYPERFLEET_AUTH_ISSUER": ISSUER,
        "HYPERFLEET_AUTH_AUDIENCE": AUDIENCE,
    }
    with running_server(pg_admin_url, directory, auth) as proc:
        yield proc.base


@pytest.fixture
def hf(server: str, tmp_path: Path) -> Cli:
    return Cli(server, tmp_path / "profile.yaml")


def test_a_context_token_file_is_sent_as_bearer(hf: Cli, server: str, key, tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text(sign(key, "alice@example.com") + "\n")
    env = hf.env()
    del env["HYPERFLEET_API_URL"]
    hf.ok("config", "set-context", "secure", "--api-url", server, "--token-file", str(token_file),
          env=env)  # fmt: skip
    created = json.loads(hf.ok("cluster", "create", "auth-file", "-o", "json", env=env))
    assert created["created_by"] == "alice@example.com"

    # HYPERFLEET_TOKEN wins over the context's token file
    bob = env | {"HYPERFLEET_TOKEN": sign(key, "bob@example.com")}
    patched = json.loads(
        hf.ok("cluster", "patch", created["id"], "-l", "by=bob", "-o", "json", env=bob)
    )
    assert patched["updated_by"] == "bob@example.com"

    # so does HYPERFLEET_TOKEN_FILE
    carol_file = tmp_path / "carol"
    carol_file.write_text(sign(key, "carol@example.com"))
    carol = env | {"HYPERFLEET_TOKEN_FILE": str(carol_file)}
    again = json.loads(
        hf.ok("cluster", "patch", created["id"], "-l", "by=carol", "-o", "json", env=carol)
    )
    assert again["updated_by"] == "carol@example.com"


def test_an_inline_context_token(hf: Cli, server: str, key):
    token = sign(key, "dave@example.com")
    hf.ok("config", "set-context", "inline", "--api-url", server, "--token", token)
    assert hf.json("cluster", "create", "auth-inline")["created_by"] == "dave@example.com"


def test_no_token_is_a_401_line_and_exit_1(hf: Cli):
    result = hf("cluster", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: HYPERFLEET-AUT-001")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreadable_token_file_is_exit_1(hf: Cli, tmp_path: Path):
    missing = tmp_path / "no-such-token"
    result = hf("cluster", "list", env=hf.env(HYPERFLEET_TOKEN_FILE=str(missing)))
    assert result.returncode == 1
    assert "cannot read the token" in result.stderr
    assert str(missing) in result.stderr
