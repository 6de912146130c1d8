"""JwtVerifier: bearer parsing, RS256 verification, claims, identity, JWKS file and URL modes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode
from jwt.warnings import InsecureKeyLengthWarning
from structlog.testing import capture_logs

from hyperfleet.config import AuthSettings
from hyperfleet.domain.roles import Role
from hyperfleet.errors import InvalidCredentials, InvalidToken, Unauthenticated
from hyperfleet.rest.auth import (
    UNKNOWN_KID_REFRESH_SECONDS,
    JwksLoadError,
    JwtVerifier,
    Principal,
    _check_jwks_url,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

ISSUER = "https://sso.example.com/realms/hyperfleet"
AUDIENCE = "hyperfleet-api"
AUT_001 = "HYPERFLEET-AUT-001"
AUT_002 = "HYPERFLEET-AUT-002"
AUT_003 = "HYPERFLEET-AUT-003"


# -- keys, JWKS and tokens ---------------------------------------------------------------------


def _rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.fixture(scope="module")
def key1() -> rsa.RSAPrivateKey:
    return _rsa()


@pytest.fixture(scope="module")
def key2() -> rsa.RSAPrivateKey:
    return _rsa()


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return _rsa()


def jwk(key: rsa.RSAPrivateKey, kid: str | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    out |= {"use": "sig", "alg": "RS256"}
    if kid is not None:
        out["kid"] = kid
    return out | extra


def jwks(*keys: Any) -> dict[str, Any]:
    return {"keys": list(keys)}


def write_jwks(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "user-123",
        "email": "alice@example.com",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        # A day, not minutes: parametrized claims are built at collection time, and a slow
        # run of the whole suite must not outlive them.
        "exp": now + 86_400,
    }
    base |= overrides
    return {k: v for k, v in base.items() if v is not None}


def mint(key: Any, payload: dict[str, Any], *, kid: str | None = "k1", alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def bearer(token: str) -> str:
    return f"Bearer {token}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def file_settings(path: Path, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {"enabled": True, "jwks_file": str(path), "issuer": ISSUER}
    values |= overrides
    return AuthSettings(**values)


@pytest.fixture
def jwks_file(tmp_path: Path, key1: rsa.RSAPrivateKey) -> Path:
    return write_jwks(tmp_path / "jwks.json", jwks(jwk(key1, "k1")))


@pytest.fixture
async def verifier(jwks_file: Path) -> AsyncIterator[JwtVerifier]:
    async with JwtVerifier(file_settings(jwks_file, audience=AUDIENCE)) as v:
        yield v


async def assert_rejected(
    verifier: JwtVerifier,
    header: str | None,
    error: type[Unauthenticated],
    code: str,
    detail: str = "invalid JWT token",
) -> None:
    with pytest.raises(Unauthenticated) as info:
        await verifier.authenticate(header)
    assert type(info.value) is error
    assert info.value.code == code
    assert info.value.status == 401
    assert info.value.detail == detail


# -- happy path and identity -------------------------------------------------------------------


async def test_valid_token_returns_email(verifier: JwtVerifier, key1: rsa.RSAPrivateKey) -> None:
    assert await verifier.authenticate(bearer(mint(key1, claims()))) == "alice@example.com"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
async def test_scheme_is_case_insensitive(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey, scheme: str
) -> None:
    token = mint(key1, claims())
    assert await verifier.authenticate(f"  {scheme}   {token}  ") == "alice@example.com"


@pytest.mark.parametrize("email", [None, "", "   "])
async def test_identity_falls_back_to_sub(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey, email: str | None
) -> None:
    payload = claims()
    payload["email"] = email
    if email is None:
        del payload["email"]
    assert await verifier.authenticate(bearer(mint(key1, payload))) == "user-123"


async def test_custom_identity_claim(jwks_file: Path, key1: rsa.RSAPrivateKey) -> None:
    settings = file_settings(jwks_file, identity_claim="preferred_username")
    async with JwtVerifier(settings) as v:
        token = mint(key1, claims(preferred_username="  alice  "))
        assert await v.authenticate(bearer(token)) == "alice"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(claims(email="alice\n@example.com"), id="newline-in-email"),
        pytest.param(claims(email="alice\x00@example.com"), id="nul-in-email"),
        pytest.param(claims(email="alice\u2028@example.com"), id="line-separator"),
        pytest.param(claims(email="a" * 257), id="too-long"),
        pytest.param(claims(email=None, sub=None), id="no-identity"),
        pytest.param(claims(email="", sub=" "), id="blank-identity"),
        pytest.param(claims(email=42), id="non-string-email"),
        pytest.param(claims(email=None, sub="bob\r\nX-Injected: 1"), id="control-chars-in-sub"),
    ],
)
async def test_unusable_identity_is_invalid_credentials(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey, payload: dict[str, Any]
) -> None:
    await assert_rejected(verifier, bearer(mint(key1, payload)), InvalidCredentials, AUT_002)


async def test_identity_of_256_chars_is_accepted(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey
) -> None:
    identity = "a" * 256
    assert await verifier.authenticate(bearer(mint(key1, claims(email=identity)))) == identity


# -- roles -------------------------------------------------------------------------------------


async def test_verify_returns_identity_and_roles(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey
) -> None:
    caller = await verifier.verify(bearer(mint(key1, claims(roles=["viewer", "adapter"]))))
    assert caller == Principal("alice@example.com", frozenset({Role.VIEWER, Role.ADAPTER}))


async def test_a_token_without_the_claim_gets_the_default_roles(
    jwks_file: Path, key1: rsa.RSAPrivateKey
) -> None:
    async with JwtVerifier(file_settings(jwks_file)) as v:
        assert (await v.verify(bearer(mint(key1, claims())))).roles == {Role.ADMIN}
    async with JwtVerifier(file_settings(jwks_file, default_roles=["viewer"])) as v:
        assert (await v.verify(bearer(mint(key1, claims())))).roles == {Role.VIEWER}
        # The default is for a missing claim only: an empty list is no roles.
        assert (await v.verify(bearer(mint(key1, claims(roles=[]))))).roles == frozenset()


async def test_naming_no_known_role_authenticates_with_no_roles(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey
) -> None:
    caller = await verifier.verify(bearer(mint(key1, claims(roles=["superuser", 7]))))
    assert caller.identity == "alice@example.com"
    assert caller.roles == frozenset()


@pytest.mark.parametrize(
    ("claim", "payload", "roles"),
    [
        pytest.param("groups", {"groups": ["editor"]}, {Role.EDITOR}, id="custom-claim"),
        pytest.param(
            "realm_access.roles",
            {"realm_access": {"roles": ["adapter"]}},
            {Role.ADAPTER},
            id="dotted-path",
        ),
        pytest.param(
            "https://hyperfleet.io/roles",
            {"https://hyperfleet.io/roles": ["viewer"]},
            {Role.VIEWER},
            id="literal-name-with-dots",
        ),
        pytest.param(
            "realm_access.roles", {"realm_access": ["admin"]}, {Role.ADMIN}, id="path-missing"
        ),
    ],
)
async def test_roles_claim_names_the_claim(
    jwks_file: Path,
    key1: rsa.RSAPrivateKey,
    claim: str,
    payload: dict[str, Any],
    roles: set[Role],
) -> None:
    # "roles" is present in none of these payloads: the default (admin) would show through.
    async with JwtVerifier(file_settings(jwks_file, roles_claim=claim)) as v:
        assert (await v.verify(bearer(mint(key1, claims(**payload))))).roles == roles


async def test_role_mapping_translates_claim_values(
    jwks_file: Path, key1: rsa.RSAPrivateKey
) -> None:
    settings = file_settings(
        jwks_file, role_mapping={"fleet-admins": "admin", "fleet-readers": "viewer"}
    )
    async with JwtVerifier(settings) as v:
        token = mint(key1, claims(roles=["fleet-readers", "fleet-admins", "editor"]))
        # "editor" is not a key of the mapping, so it grants nothing.
        assert (await v.verify(bearer(token))).roles == {Role.ADMIN, Role.VIEWER}


# -- header parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "   "])
async def test_missing_header_is_unauthenticated(verifier: JwtVerifier, header: str | None) -> None:
    await assert_rejected(
        verifier, header, Unauthenticated, AUT_001, detail="missing authorization header"
    )


@pytest.mark.parametrize(
    "header_template",
    ["Basic {token}", "Token {token}", "{token}", "Bearer", "Bearer   ", "Bearer{token}"],
)
async def test_wrong_scheme_or_empty_token_is_invalid_credentials(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey, header_template: str
) -> None:
    header = header_template.format(token=mint(key1, claims()))
    await assert_rejected(verifier, header, InvalidCredentials, AUT_002)


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "x" * 20_000, "Bearer token"],
)
async def test_garbage_token_is_invalid_credentials(verifier: JwtVerifier, token: str) -> None:
    await assert_rejected(verifier, bearer(token), InvalidCredentials, AUT_002)


# -- signature and algorithm -------------------------------------------------------------------


async def test_signature_from_other_key_is_rejected(
    verifier: JwtVerifier, attacker_key: rsa.RSAPrivateKey
) -> None:
    token = mint(attacker_key, claims(), kid="k1")
    await assert_rejected(verifier, bearer(token), InvalidCredentials, AUT_002)


async def test_tampered_payload_is_rejected(verifier: JwtVerifier, key1: rsa.RSAPrivateKey) -> None:
    header, _, signature = mint(key1, claims()).split(".")
    forged_payload = mint(key1, claims(email="root@example.com")).split(".")[1]
    forged = f"{header}.{forged_payload}.{signature}"
    await assert_rejected(verifier, bearer(forged), InvalidCredentials, AUT_002)


async def test_hs256_token_is_rejected(verifier: JwtVerifier) -> None:
    token = mint(b"s" * 32, claims(), alg="HS256")
    await assert_rejected(verifier, bearer(token), InvalidCredentials, AUT_002)


async def test_alg_none_token_is_rejected(verifier: JwtVerifier) -> None:
    token = mint(None, claims(), alg="none")
    await assert_rejected(verifier, bearer(token), InvalidCredentials, AUT_002)


async def test_rs512_token_is_rejected(verifier: JwtVerifier, key1: rsa.RSAPrivateKey) -> None:
    token = mint(key1, claims(), alg="RS512")
    await assert_rejected(verifier, bearer(token), InvalidCredentials, AUT_002)


async def test_non_string_kid_is_rejected(verifier: JwtVerifier, key1: rsa.RSAPrivateKey) -> None:
    # PyJWT refuses to mint this, so sign by hand; only the kid type is wrong.
    signing_input = b".".join(
        base64url_encode(json.dumps(part).encode())
        for part in ({"alg": "RS256", "typ": "JWT", "kid": 7}, claims())
    )
    signature = key1.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    token = (signing_input + b"." + base64url_encode(signature)).decode()
    await assert_rejected(verifier, bearer(token), InvalidCredentials, AUT_002)


async def test_token_without_kid_uses_the_only_key(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey
) -> None:
    assert await verifier.authenticate(bearer(mint(key1, claims(), kid=None))) == (
        "alice@example.com"
    )


async def test_token_without_kid_is_rejected_when_keys_are_ambiguous(
    tmp_path: Path, key1: rsa.RSAPrivateKey, key2: rsa.RSAPrivateKey
) -> None:
    path = write_jwks(tmp_path / "jwks.json", jwks(jwk(key1, "k1"), jwk(key2, "k2")))
    async with JwtVerifier(file_settings(path)) as v:
        assert await v.authenticate(bearer(mint(key2, claims(), kid="k2"))) == "alice@example.com"
        await assert_rejected(
            v, bearer(mint(key1, claims(), kid=None)), InvalidCredentials, AUT_002
        )


# -- claims ------------------------------------------------------------------------------------


async def test_expired_token_is_invalid_token(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    token = mint(key1, claims(iat=now - 600, exp=now - 60))
    await assert_rejected(verifier, bearer(token), InvalidToken, AUT_003, detail="token is expired")


async def test_expired_within_leeway_is_accepted(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    token = mint(key1, claims(iat=now - 600, exp=now - 10))
    assert await verifier.authenticate(bearer(token)) == "alice@example.com"


async def test_leeway_comes_from_settings(jwks_file: Path, key1: rsa.RSAPrivateKey) -> None:
    now = int(time.time())
    token = mint(key1, claims(iat=now - 600, exp=now - 10))
    async with JwtVerifier(file_settings(jwks_file, leeway_seconds=0)) as v:
        await assert_rejected(v, bearer(token), InvalidToken, AUT_003, detail="token is expired")


async def test_expired_token_with_bad_signature_is_invalid_credentials(
    verifier: JwtVerifier, attacker_key: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    token = mint(attacker_key, claims(exp=now - 600))
    await assert_rejected(verifier, bearer(token), InvalidCredentials, AUT_002)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(claims(exp=None), id="missing-exp"),
        pytest.param(claims(exp="tomorrow"), id="non-numeric-exp"),
        pytest.param(claims(nbf=int(time.time()) + 3600), id="not-yet-valid"),
    ],
)
async def test_bad_time_claims_are_invalid_credentials(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey, payload: dict[str, Any]
) -> None:
    await assert_rejected(verifier, bearer(mint(key1, payload)), InvalidCredentials, AUT_002)


@pytest.mark.parametrize("iss", ["https://evil.example.com", ISSUER + "/", None])
async def test_wrong_or_missing_issuer_is_rejected(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey, iss: str | None
) -> None:
    await assert_rejected(
        verifier, bearer(mint(key1, claims(iss=iss))), InvalidCredentials, AUT_002
    )


async def test_issuer_not_checked_when_unset(jwks_file: Path, key1: rsa.RSAPrivateKey) -> None:
    async with JwtVerifier(file_settings(jwks_file, issuer=None)) as v:
        token = mint(key1, claims(iss="https://anyone.example.com"))
        assert await v.authenticate(bearer(token)) == "alice@example.com"


@pytest.mark.parametrize("aud", ["other-api", ["other-api", "more"], None])
async def test_wrong_or_missing_audience_is_rejected(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey, aud: Any
) -> None:
    await assert_rejected(
        verifier, bearer(mint(key1, claims(aud=aud))), InvalidCredentials, AUT_002
    )


async def test_audience_list_containing_ours_is_accepted(
    verifier: JwtVerifier, key1: rsa.RSAPrivateKey
) -> None:
    token = mint(key1, claims(aud=["other-api", AUDIENCE]))
    assert await verifier.authenticate(bearer(token)) == "alice@example.com"


async def test_audience_not_checked_when_unset(jwks_file: Path, key1: rsa.RSAPrivateKey) -> None:
    async with JwtVerifier(file_settings(jwks_file)) as v:
        assert await v.authenticate(bearer(mint(key1, claims(aud="whatever")))) == (
            "alice@example.com"
        )


# -- JWKS file: rotation, parsing, lifecycle ---------------------------------------------------


async def test_unknown_kid_refreshes_jwks_at_most_every_30s(
    jwks_file: Path, key1: rsa.RSAPrivateKey, key2: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()
    async with JwtVerifier(file_settings(jwks_file), clock=clock) as v:
        rotated = bearer(mint(key2, claims(), kid="k2"))
        await assert_rejected(v, rotated, InvalidCredentials, AUT_002)

        write_jwks(jwks_file, jwks(jwk(key1, "k1"), jwk(key2, "k2")))
        clock.now += UNKNOWN_KID_REFRESH_SECONDS - 1
        await assert_rejected(v, rotated, InvalidCredentials, AUT_002)  # still rate-limited

        clock.now += 1
        assert await v.authenticate(rotated) == "alice@example.com"
        assert await v.authenticate(bearer(mint(key1, claims()))) == "alice@example.com"


async def test_unknown_kid_refresh_failure_keeps_old_keys(
    jwks_file: Path, key1: rsa.RSAPrivateKey, key2: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()
    async with JwtVerifier(file_settings(jwks_file), clock=clock) as v:
        jwks_file.write_text("{not json", encoding="utf-8")
        clock.now += UNKNOWN_KID_REFRESH_SECONDS
        with capture_logs() as logs:
            await assert_rejected(
                v, bearer(mint(key2, claims(), kid="k2")), InvalidCredentials, AUT_002
            )
        assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["jwks_refresh_failed"]
        assert await v.authenticate(bearer(mint(key1, claims()))) == "alice@example.com"


async def test_unusable_keys_in_jwks_are_skipped(tmp_path: Path, key1: rsa.RSAPrivateKey) -> None:
    weak = _rsa(1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_jwk = ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True) | {"kid": "ec"}
    document = jwks(
        ec_jwk,
        jwk(weak, "weak"),
        jwk(key1, "enc", use="enc"),
        jwk(key1, "rs512", alg="RS512"),
        {"kty": "RSA", "kid": "broken", "n": "AQAB"},
        "not-an-object",
        jwk(key1, "k1"),
    )
    path = write_jwks(tmp_path / "jwks.json", document)
    async with JwtVerifier(file_settings(path)) as v:
        assert await v.authenticate(bearer(mint(key1, claims()))) == "alice@example.com"
        for kid in ("weak", "enc", "rs512", "broken"):
            if kid == "weak":
                with pytest.warns(InsecureKeyLengthWarning):
                    token = mint(weak, claims(), kid=kid)
            else:
                token = mint(key1, claims(), kid=kid)
            await assert_rejected(v, bearer(token), InvalidCredentials, AUT_002)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param("[]", id="not-an-object"),
        pytest.param('{"keys": {}}', id="keys-not-a-list"),
        pytest.param('{"keys": []}', id="no-keys"),
        pytest.param('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', id="only-symmetric"),
    ],
)
async def test_bad_jwks_file_fails_start(tmp_path: Path, content: str) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(JwksLoadError):
        await JwtVerifier(file_settings(path)).start()


async def test_missing_jwks_file_fails_start(tmp_path: Path) -> None:
    with pytest.raises(JwksLoadError, match="cannot read JWKS file"):
        await JwtVerifier(file_settings(tmp_path / "absent.json")).start()


async def test_authenticate_requires_start(jwks_file: Path) -> None:
    v = JwtVerifier(file_settings(jwks_file))
    with pytest.raises(RuntimeError, match="start"):
        await v.authenticate("Bearer x")
    await v.start()
    await v.close()
    await v.close()  # idempotent
    with pytest.raises(RuntimeError):
        await v.authenticate("Bearer x")


async def test_tokens_are_never_logged(verifier: JwtVerifier, key1: rsa.RSAPrivateKey) -> None:
    now = int(time.time())
    tokens = [
        mint(key1, claims()),
        mint(key1, claims(exp=now - 600)),
        mint(key1, claims(), kid="unknown"),
        "garbage.token.value",
    ]
    with capture_logs() as logs:
        for token in tokens:
            with pytest.raises(Unauthenticated):
                await verifier.authenticate(f"Basic {token}")
            with contextlib.suppress(Unauthenticated):
                await verifier.authenticate(bearer(token))
    rendered = repr(logs)
    for token in tokens:
        assert token not in rendered
        assert token.split(".")[-1] not in rendered


# -- configuration errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({}, "requires auth.jwks_file or auth.jwks_url", id="no-source"),
        pytest.param(
            {"jwks_file": "jwks.json", "jwks_url": "https://sso.example.com/certs"},
            "only one of",
            id="two-sources",
        ),
        pytest.param({"jwks_url": "http://sso.example.com/certs"}, "https", id="plain-http"),
        pytest.param({"jwks_url": "http://10.0.0.1/certs"}, "https", id="private-ip-http"),
        pytest.param({"jwks_url": "ftp://127.0.0.1/certs"}, "https", id="ftp-loopback"),
        pytest.param({"jwks_url": "/etc/jwks.json"}, "absolute", id="relative-url"),
        pytest.param({"jwks_url": "http://[::1"}, "valid URL", id="unparseable"),
        pytest.param(
            {"jwks_file": "jwks.json", "identity_claim": " "}, "identity_claim", id="claim"
        ),
    ],
)
async def test_invalid_configuration_fails_start(overrides: dict[str, Any], message: str) -> None:
    v = JwtVerifier(AuthSettings(enabled=True, **overrides))
    with pytest.raises(ValueError, match=message):
        await v.start()
    await v.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://sso.example.com/certs",
        "HTTPS://sso.example.com/certs",
        "http://127.0.0.1:8080/certs",
        "http://127.9.9.9/certs",
        "http://localhost/certs",
        "http://LOCALHOST:1234/certs",
        "http://[::1]:8080/certs",
    ],
)
def test_https_and_loopback_http_urls_are_allowed(url: str) -> None:
    _check_jwks_url(url)


# -- JWKS URL mode -----------------------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 served by `http.server` in a thread."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.status = HTTPStatus.OK
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps(server.document).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/certs"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@pytest.fixture
def jwks_server(key1: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    with JwksServer(jwks(jwk(key1, "k1"))) as server:
        yield server


def url_settings(url: str, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {"enabled": True, "jwks_url": url, "issuer": ISSUER}
    values |= overrides
    return AuthSettings(**values)


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_jwks_url_is_fetched_at_start(
    jwks_server: JwksServer, key1: rsa.RSAPrivateKey
) -> None:
    async with JwtVerifier(url_settings(jwks_server.url)) as v:
        assert jwks_server.requests == 1
        assert await v.authenticate(bearer(mint(key1, claims()))) == "alice@example.com"


async def test_jwks_url_unknown_kid_refetches_once_per_30s(
    jwks_server: JwksServer, key2: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()
    async with JwtVerifier(url_settings(jwks_server.url), clock=clock) as v:
        rotated = bearer(mint(key2, claims(), kid="k2"))
        clock.now += UNKNOWN_KID_REFRESH_SECONDS
        await assert_rejected(v, rotated, InvalidCredentials, AUT_002)
        assert jwks_server.requests == 2
        for _ in range(5):  # a burst of unknown kids does not hammer the JWKS endpoint
            await assert_rejected(v, rotated, InvalidCredentials, AUT_002)
        assert jwks_server.requests == 2

        jwks_server.document["keys"].append(jwk(key2, "k2"))
        clock.now += UNKNOWN_KID_REFRESH_SECONDS
        assert await v.authenticate(rotated) == "alice@example.com"
        assert jwks_server.requests == 3


async def test_jwks_url_background_refresh_and_failure_keeps_keys(
    jwks_server: JwksServer, key1: rsa.RSAPrivateKey, key2: rsa.RSAPrivateKey
) -> None:
    clock = FakeClock()  # keeps the unknown-kid path from fetching, so only the task fetches
    with capture_logs() as logs:
        async with JwtVerifier(
            url_settings(jwks_server.url, jwks_refresh_seconds=1), clock=clock
        ) as v:
            old = bearer(mint(key1, claims()))
            new = bearer(mint(key2, claims(), kid="k2"))
            assert await v.authenticate(old) == "alice@example.com"

            jwks_server.status = HTTPStatus.SERVICE_UNAVAILABLE
            await wait_for(lambda: any(e["event"] == "jwks_refresh_failed" for e in logs))
            assert await v.authenticate(old) == "alice@example.com"  # old keys kept

            mark = len(logs)
            jwks_server.document = jwks(jwk(key2, "k2"))
            jwks_server.status = HTTPStatus.OK
            await wait_for(lambda: any(e["event"] == "jwks_refreshed" for e in logs[mark:]))
            assert await v.authenticate(new) == "alice@example.com"
            await assert_rejected(v, old, InvalidCredentials, AUT_002)  # k1 was retired
    failure = next(e for e in logs if e["event"] == "jwks_refresh_failed")
    assert failure["log_level"] == "warning"
    assert "503" in failure["error"]


async def test_unreachable_jwks_url_fails_start() -> None:
    with JwksServer(jwks()) as server:
        url = server.url
    v = JwtVerifier(url_settings(url))
    with pytest.raises(JwksLoadError, match="cannot fetch JWKS"):
        await v.start()
    await v.close()


async def test_jwks_url_error_status_fails_start(jwks_server: JwksServer) -> None:
    jwks_server.status = HTTPStatus.NOT_FOUND
    with pytest.raises(JwksLoadError, match="HTTP 404"):
        await JwtVerifier(url_settings(jwks_server.url)).start()
