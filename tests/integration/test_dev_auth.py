"""`hyperfleet dev jwks` / `dev token` as docs/local-auth.md runs them: tokens that verify
against the written JWKS, with the documented claims; the key survives a second `dev jwks`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from tests.local_auth_doc import env, run_sh

from hyperfleet.cli.dev import parse_ttl

pytestmark = pytest.mark.slow


def _claims(directory: Path, token_file: str) -> dict:
    jwks = jwt.PyJWKSet.from_dict(json.loads((directory / "hf-keys/jwks.json").read_text()))
    token = (directory / token_file).read_text().strip()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=["RS256"])


def test_the_documented_token_commands(tmp_path: Path):
    run_sh("tokens", tmp_path)
    assert (tmp_path / "hf-keys/signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "alice.token").stat().st_mode & 0o777 == 0o600
    alice = _claims(tmp_path, "alice.token")
    assert (alice["sub"], alice["email"], alice["roles"]) == (
        "alice",
        "alice@acme.example",
        ["editor"],
    )
    assert alice["exp"] - alice["iat"] == 3600
    loop = _claims(tmp_path, "loop.token")
    assert (loop["sub"], loop["roles"], "email" in loop) == ("hyperfleet-loop", ["adapter"], False)
    assert loop["exp"] - loop["iat"] == 7 * 86400
    assert loop["exp"] >= int(time.time())

    # a second `dev jwks` keeps the key: the tokens already minted still verify
    run_sh("tokens", tmp_path)
    assert _claims(tmp_path, "bob.token")["email"] == "bob@globex.example"


def _dev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperfleet", "dev", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_token_options_and_errors(tmp_path: Path):
    assert _dev("jwks", "keys", cwd=tmp_path).returncode == 0
    done = _dev(
        "token",
        "--jwks-dir",
        "keys",
        "--sub",
        "carol",
        "--roles",
        "viewer,editor",
        "--roles",
        "admin",
        "--issuer",
        "https://issuer.test",
        "--audience",
        "hyperfleet",
        "--roles-claim",
        "groups",
        "--ttl",
        "90s",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), options={"verify_signature": False})
    assert claims["groups"] == ["viewer", "editor", "admin"]
    assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == (
        "https://issuer.test",
        "hyperfleet",
        90,
    )
    bad_ttl = _dev("token", "--jwks-dir", "keys", "--sub", "c", "--ttl", "soon", cwd=tmp_path)
    assert bad_ttl.returncode == 2
    assert "is not a duration" in bad_ttl.stderr
    no_key = _dev("token", "--jwks-dir", "nowhere", "--sub", "c", cwd=tmp_path)
    assert no_key.returncode == 2
    assert "run 'hyperfleet dev jwks nowhere' first" in " ".join(no_key.stderr.split())


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800)]
)
def test_parse_ttl(text: str, seconds: int):
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "1w", "-1h", "1.5h"])
def test_parse_ttl_refuses(text: str):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_ttl(text)
