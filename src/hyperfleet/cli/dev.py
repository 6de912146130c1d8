"""`hyperfleet dev`: a local signing key, its JWKS and tokens, for auth on a laptop or in tests.

`dev jwks DIR` writes `DIR/signing-key.pem` (owner-only) and `DIR/jwks.json`, the file the
API's `auth.jwks_file` names; run again, it keeps the key. `dev token --jwks-dir DIR …` prints
an RS256 token signed with that key. Not for production: the private key sits in a plain file.
See docs/local-auth.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer

KEY_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"
_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

app = typer.Typer(no_args_is_help=True, help="Local auth for development: a JWKS and tokens.")

DirArg = Annotated[Path, typer.Argument(help="Directory for the key and jwks.json.")]


def write_jwks(directory: Path) -> Path:
    """Create the key (unless `directory` has one) and write its JWKS; returns jwks.json."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / KEY_FILE
    if key_path.exists():
        key = _load_key(directory)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(key_path, pem)
    from jwt.algorithms import RSAAlgorithm

    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": _kid(jwk), "use": "sig", "alg": "RS256"})
    jwks_path = directory / JWKS_FILE
    jwks_path.write_text(json.dumps({"keys": [jwk]}, indent=2) + "\n", encoding="utf-8")
    return jwks_path


def mint_token(
    directory: Path,
    *,
    sub: str,
    roles: list[str],
    ttl_seconds: int = 3600,
    roles_claim: str = "roles",
    email: str | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    claims: dict[str, str] | None = None,
) -> str:
    """An RS256 token signed with `directory`'s key (its `kid` in the header)."""
    import jwt
    from jwt.algorithms import RSAAlgorithm

    key = _load_key(directory)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    now = int(time.time())
    payload: dict[str, Any] = {**(claims or {}), "sub": sub, "iat": now, "exp": now + ttl_seconds}
    payload[roles_claim] = roles
    optional = {"email": email, "iss": issuer, "aud": audience}
    payload.update({name: value for name, value in optional.items() if value is not None})
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": _kid(jwk)})


def parse_ttl(text: str) -> int:
    """`90`, `90s`, `30m`, `1h`, `2d` as seconds; ValueError otherwise."""
    match = _TTL.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 90s, 30m, 1h or 2d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _kid(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of the public key: the same key always gets the same kid."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _load_key(directory: Path) -> Any:
    from cryptography.hazmat.primitives import serialization

    path = directory / KEY_FILE
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot read {path} ({exc.strerror}); run 'hyperfleet dev jwks {directory}' first"
        ) from exc
    return serialization.load_pem_private_key(pem, password=None)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


@app.command("jwks")
def jwks_command(directory: DirArg) -> None:
    """Create a signing key in DIR (kept if there is one) and write DIR/jwks.json."""
    typer.echo(write_jwks(directory))


@app.command("token")
def token_command(  # noqa: PLR0917 - typer maps each parameter to a flag
    jwks_dir: Annotated[
        Path,
        typer.Option("--jwks-dir", help="Directory written by 'dev jwks'.", show_default=False),
    ],
    sub: Annotated[str, typer.Option("--sub", help="Subject (the caller's name).")],
    roles: Annotated[
        list[str] | None,
        typer.Option("--roles", help="Roles, comma-separated or repeated (viewer, editor, …)."),
    ] = None,
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 90s, 30m, 1h, 2d.")] = "1h",
    email: Annotated[str | None, typer.Option("--email", help="`email` claim.")] = None,
    issuer: Annotated[str | None, typer.Option("--issuer", help="`iss` claim.")] = None,
    audience: Annotated[str | None, typer.Option("--audience", help="`aud` claim.")] = None,
    roles_claim: Annotated[
        str, typer.Option("--roles-claim", help="Claim holding the roles (auth.roles_claim).")
    ] = "roles",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the token to this file (owner-only) instead of stdout."),
    ] = None,
) -> None:
    """Print a token signed with DIR's key, e.g. for a token file or `HYPERFLEET_TOKEN`."""
    try:
        seconds = parse_ttl(ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl") from exc
    names = [r.strip() for item in roles or () for r in item.split(",") if r.strip()]
    token = mint_token(
        jwks_dir,
        sub=sub,
        roles=names,
        ttl_seconds=seconds,
        roles_claim=roles_claim,
        email=email,
        issuer=issuer,
        audience=audience,
    )
    if out is None:
        typer.echo(token)
    else:
        _write_private(out, (token + "\n").encode())
