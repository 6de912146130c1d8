"""JWT bearer-token verification for the REST layer (`auth.enabled`).

`JwtVerifier` turns an `Authorization` header into the caller (`Principal`: identity and roles)
or raises one of the 401 errors of `hyperfleet.errors` (reference API §1.4, §9):

* no header                                   → `Unauthenticated` AUT-001
* not `Bearer <token>`, bad token, signature,
  algorithm, issuer, audience, identity       → `InvalidCredentials` AUT-002
* expired (`exp` older than the leeway)       → `InvalidToken` AUT-003

Only RS256 is accepted. Keys come from a JWKS document, read from a file or fetched over https
(plain http only for loopback hosts). The document is reloaded in the background every
`jwks_refresh_seconds`, and on demand (at most once per `UNKNOWN_KID_REFRESH_SECONDS`) when a
token names a key id that is not in the current set; a failed reload keeps the previous keys.

The roles come from `auth.roles_claim` through `auth.role_mapping` (`domain.roles`); a token
without the claim gets `auth.default_roles`. Naming no known role is not an authentication
failure: the caller is known, and every API route answers it 403.

Tokens are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import httpx
import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from hyperfleet.domain.roles import Role, roles_from_claim
from hyperfleet.errors import InvalidCredentials, InvalidToken, Unauthenticated

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType

    from hyperfleet.config import AuthSettings

__all__ = [
    "ALGORITHM",
    "UNKNOWN_KID_REFRESH_SECONDS",
    "JwksLoadError",
    "JwtVerifier",
    "Principal",
]

logger = structlog.get_logger(__name__)

ALGORITHM: Final = "RS256"
"""The only signature algorithm accepted."""
UNKNOWN_KID_REFRESH_SECONDS: Final = 30.0
"""Minimum time between two JWKS reloads triggered by tokens with an unknown `kid`."""
MIN_RSA_KEY_BITS: Final = 2048
MAX_JWKS_BYTES: Final = 1024 * 1024
MAX_TOKEN_LENGTH: Final = 16 * 1024
MAX_IDENTITY_LENGTH: Final = 256
JWKS_FETCH_TIMEOUT_SECONDS: Final = 10.0

_MISSING_HEADER: Final = "missing authorization header"
_INVALID_TOKEN: Final = "invalid JWT token"  # noqa: S105 - an error detail, not a secret
_EXPIRED: Final = "token is expired"
_FORBIDDEN_CHAR_CATEGORIES: Final = frozenset({"Cc", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    identity: str
    roles: frozenset[Role]


class JwksLoadError(Exception):
    """The JWKS document could not be read, fetched or parsed, or holds no usable key."""


@dataclass(frozen=True, slots=True)
class _KeySet:
    by_kid: Mapping[str, RSAPublicKey] = field(default_factory=dict)
    all_keys: tuple[RSAPublicKey, ...] = ()


class JwtVerifier:
    """Verifies RS256 bearer tokens against a JWKS and returns the caller identity.

    Lifecycle: `await start()` once (validates the settings, loads the keys, starts the
    background refresh), `await authenticate(header)` per request, `await close()` on shutdown.
    Also usable as an async context manager.
    """

    def __init__(
        self,
        settings: AuthSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._keys: _KeySet | None = None
        self._client: httpx.AsyncClient | None = None
        self._refresh_task: asyncio.Task[None] | None = None
        self._refresh_lock = asyncio.Lock()
        self._last_load_attempt = float("-inf")
        self._role_mapping = {value: Role(role) for value, role in settings.role_mapping.items()}
        self._default_roles = frozenset(Role(role) for role in settings.default_roles)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Validate the settings, load the JWKS and start the periodic refresh.

        Raises:
            ValueError: the settings are unusable (no or two JWKS sources, a JWKS URL that is
                neither https nor loopback http, an empty identity claim name).
            JwksLoadError: the initial JWKS could not be loaded.
        """
        if self._keys is not None:
            return
        self._validate_settings()
        if self._settings.jwks_url is not None:
            self._client = httpx.AsyncClient(
                timeout=JWKS_FETCH_TIMEOUT_SECONDS,
                follow_redirects=False,
                headers={"Accept": "application/json"},
            )
        try:
            self._last_load_attempt = self._clock()
            self._keys = await self._load()
        except BaseException:
            await self._close_client()
            raise
        logger.info("jwks_loaded", source=self._source, keys=len(self._keys.all_keys))
        self._refresh_task = asyncio.create_task(
            self._refresh_periodically(), name="hyperfleet-jwks-refresh"
        )

    async def close(self) -> None:
        """Stop the background refresh and release the HTTP client; safe to call twice."""
        task, self._refresh_task = self._refresh_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_client()
        self._keys = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- verification ----------------------------------------------------------------------

    async def authenticate(self, authorization: str | None) -> str:
        """The caller identity of `verify(authorization)`."""
        return (await self.verify(authorization)).identity

    async def verify(self, authorization: str | None) -> Principal:
        """Return the caller carried by an `Authorization: Bearer <jwt>` header.

        Raises:
            Unauthenticated: the header is missing or blank (AUT-001).
            InvalidCredentials: wrong scheme, malformed token, non-RS256 algorithm, unknown key,
                bad signature, wrong issuer or audience, unusable identity (AUT-002).
            InvalidToken: the token has expired, beyond the configured leeway (AUT-003).
            RuntimeError: `start()` has not been awaited.
        """
        if self._keys is None:
            raise RuntimeError("JwtVerifier.start() must be awaited before authenticate()")
        token = _bearer_token(authorization)
        kid = _key_id(token)
        key = await self._key_for(kid)
        claims = self._decode(token, key)
        return Principal(self._identity(claims), self._roles(claims))

    def _decode(self, token: str, key: RSAPublicKey) -> dict[str, Any]:
        settings = self._settings
        require = ["exp"]
        if settings.issuer is not None:
            require.append("iss")
        if settings.audience is not None:
            require.append("aud")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                options={
                    "require": require,
                    "verify_aud": settings.audience is not None,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.ExpiredSignatureError:
            logger.debug("jwt_rejected", reason="expired")
            raise InvalidToken(_EXPIRED) from None
        except jwt.PyJWTError as exc:
            logger.debug("jwt_rejected", reason=type(exc).__name__)
            raise InvalidCredentials(_INVALID_TOKEN) from None
        return claims

    def _identity(self, claims: Mapping[str, Any]) -> str:
        value = claims.get(self._settings.identity_claim)
        if value is None or (isinstance(value, str) and not value.strip()):
            value = claims.get("sub")
        if not isinstance(value, str):
            logger.debug("jwt_rejected", reason="no_identity")
            raise InvalidCredentials(_INVALID_TOKEN)
        identity = value.strip()
        if (
            not identity
            or len(identity) > MAX_IDENTITY_LENGTH
            or any(unicodedata.category(ch) in _FORBIDDEN_CHAR_CATEGORIES for ch in identity)
        ):
            logger.debug("jwt_rejected", reason="bad_identity")
            raise InvalidCredentials(_INVALID_TOKEN)
        return identity

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        present, value = _claim(claims, self._settings.roles_claim)
        return roles_from_claim(
            value, present=present, mapping=self._role_mapping, default=self._default_roles
        )

    async def _key_for(self, kid: str | None) -> RSAPublicKey:
        keys = self._current_keys()
        if kid is None:
            # No `kid`: acceptable only when the choice is unambiguous.
            if len(keys.all_keys) == 1:
                return keys.all_keys[0]
            logger.debug("jwt_rejected", reason="missing_kid")
            raise InvalidCredentials(_INVALID_TOKEN)
        key = keys.by_kid.get(kid)
        if key is None:
            await self._refresh_for_unknown_kid(kid)
            key = self._current_keys().by_kid.get(kid)
        if key is None:
            logger.debug("jwt_rejected", reason="unknown_kid")
            raise InvalidCredentials(_INVALID_TOKEN)
        return key

    def _current_keys(self) -> _KeySet:
        keys = self._keys
        if keys is None:
            raise RuntimeError("JwtVerifier is closed")
        return keys

    # -- key loading -----------------------------------------------------------------------

    async def _refresh_for_unknown_kid(self, kid: str) -> None:
        async with self._refresh_lock:
            if kid in self._current_keys().by_kid:
                return  # another request reloaded while this one waited
            if self._clock() - self._last_load_attempt < UNKNOWN_KID_REFRESH_SECONDS:
                return
            await self._refresh(reason="unknown_kid")

    async def _refresh_periodically(self) -> None:
        interval = self._settings.jwks_refresh_seconds
        while True:
            await asyncio.sleep(interval)
            async with self._refresh_lock:
                await self._refresh(reason="scheduled")

    async def _refresh(self, *, reason: str) -> None:
        """Reload the JWKS; on failure keep the current keys. Caller holds the lock."""
        self._last_load_attempt = self._clock()
        try:
            keys = await self._load()
        except JwksLoadError as exc:
            logger.warning(
                "jwks_refresh_failed", source=self._source, reason=reason, error=str(exc)
            )
            return
        if self._keys is None:  # closed meanwhile
            return
        self._keys = keys
        logger.info("jwks_refreshed", source=self._source, reason=reason, keys=len(keys.all_keys))

    async def _load(self) -> _KeySet:
        if self._settings.jwks_url is not None:
            raw = await self._fetch(self._settings.jwks_url)
        else:
            raw = await self._read_file(Path(self._settings.jwks_file or ""))
        return _parse_jwks(raw)

    async def _read_file(self, path: Path) -> bytes:
        try:
            raw = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise JwksLoadError(f"cannot read JWKS file {path}: {exc.strerror}") from exc
        if len(raw) > MAX_JWKS_BYTES:
            raise JwksLoadError(f"JWKS file {path} is larger than {MAX_JWKS_BYTES} bytes")
        return raw

    async def _fetch(self, url: str) -> bytes:
        client = self._client
        if client is None:
            raise JwksLoadError("JWKS client is closed")
        body = bytearray()
        try:
            async with client.stream("GET", url) as response:
                if response.status_code != httpx.codes.OK:
                    raise JwksLoadError(f"JWKS endpoint answered HTTP {response.status_code}")
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise JwksLoadError(f"JWKS document is larger than {MAX_JWKS_BYTES} bytes")
        except httpx.HTTPError as exc:
            raise JwksLoadError(f"cannot fetch JWKS: {type(exc).__name__}: {exc}") from exc
        return bytes(body)

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    @property
    def _source(self) -> str:
        return self._settings.jwks_url or self._settings.jwks_file or ""

    def _validate_settings(self) -> None:
        settings = self._settings
        if settings.jwks_file is None and settings.jwks_url is None:
            raise ValueError("auth.enabled requires auth.jwks_file or auth.jwks_url")
        if settings.jwks_file is not None and settings.jwks_url is not None:
            raise ValueError("set only one of auth.jwks_file and auth.jwks_url")
        if settings.jwks_url is not None:
            _check_jwks_url(settings.jwks_url)
        if not settings.identity_claim.strip():
            raise ValueError("auth.identity_claim must not be empty")
        if settings.leeway_seconds < 0:
            raise ValueError("auth.leeway_seconds must not be negative")
        if settings.jwks_refresh_seconds <= 0:
            raise ValueError("auth.jwks_refresh_seconds must be positive")


# -- helpers ---------------------------------------------------------------------------------


def _claim(claims: Mapping[str, Any], name: str) -> tuple[bool, object]:
    """(present, value) of claim `name`; `a.b` also reaches `claims["a"]["b"]`.

    The literal name wins: namespaced claims such as `https://example.com/roles` hold dots.
    """
    if name in claims:
        return True, claims[name]
    node: object = claims
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise Unauthenticated(_MISSING_HEADER)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidCredentials(_INVALID_TOKEN)
    return token


def _key_id(token: str) -> str | None:
    """Check the unverified header: RS256 only; return the `kid`, if any."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        logger.debug("jwt_rejected", reason="malformed")
        raise InvalidCredentials(_INVALID_TOKEN) from None
    if header.get("alg") != ALGORITHM:
        logger.debug("jwt_rejected", reason="algorithm")
        raise InvalidCredentials(_INVALID_TOKEN)
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        logger.debug("jwt_rejected", reason="malformed_kid")
        raise InvalidCredentials(_INVALID_TOKEN)
    return kid


def _check_jwks_url(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"auth.jwks_url is not a valid URL: {exc}") from exc
    scheme, host = parsed.scheme.lower(), parsed.host
    if not host:
        raise ValueError("auth.jwks_url must be an absolute https URL")
    if scheme == "https" or (scheme == "http" and _is_loopback(host)):
        return
    raise ValueError(
        f"auth.jwks_url must use https (plain http is allowed only for loopback hosts); "
        f"got scheme {scheme!r} for host {host!r}"
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_jwks(raw: bytes) -> _KeySet:
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JwksLoadError(f"JWKS is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksLoadError("JWKS must be a JSON object with a 'keys' array")
    by_kid: dict[str, RSAPublicKey] = {}
    all_keys: list[RSAPublicKey] = []
    for index, jwk in enumerate(document["keys"]):
        key = _rsa_signing_key(jwk, index)
        if key is None:
            continue
        kid = jwk.get("kid")
        if isinstance(kid, str):
            if kid in by_kid:
                logger.warning("jwks_duplicate_kid_ignored", index=index)
                continue
            by_kid[kid] = key
        all_keys.append(key)
    if not all_keys:
        raise JwksLoadError("JWKS holds no usable RS256 signing key")
    return _KeySet(by_kid=by_kid, all_keys=tuple(all_keys))


def _rsa_signing_key(jwk: object, index: int) -> RSAPublicKey | None:
    """The public key of one JWK if it can verify RS256 signatures, else None."""
    if not isinstance(jwk, dict):
        logger.warning("jwks_key_ignored", index=index, reason="not an object")
        return None
    if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
        return None  # encryption or non-RSA keys are legitimately present in some JWKS
    if jwk.get("alg", ALGORITHM) != ALGORITHM:
        return None
    try:
        key = RSAAlgorithm.from_jwk(jwk)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        logger.warning("jwks_key_ignored", index=index, reason=f"invalid RSA JWK: {exc}")
        return None
    public = key.public_key() if isinstance(key, RSAPrivateKey) else key
    if public.key_size < MIN_RSA_KEY_BITS:
        logger.warning(
            "jwks_key_ignored", index=index, reason=f"RSA key shorter than {MIN_RSA_KEY_BITS} bits"
        )
        return None
    return public
