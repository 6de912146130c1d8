"""The CLI's profile file (named contexts) and where a command's API URL and token come from.

API URL: `--api-url` > `HYPERFLEET_API_URL` > the current context > `http://127.0.0.1:8000`.
Token: `HYPERFLEET_TOKEN` > `HYPERFLEET_TOKEN_FILE` > the current context's `token` >
its `token_file` > none. Extra headers: the current context's `headers` (a mapping), with the
command's `--header` values over them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from hyperfleet.client import TokenFile
from hyperfleet.client.headers import header_setting, merged, parse_header
from hyperfleet.client.wire import TokenSource

DEFAULT_API_URL = "http://127.0.0.1:8000"
CONFIG_ENV = "HYPERFLEET_CLI_CONFIG"
CONTEXT_KEYS = ("api_url", "token", "token_file")
HEADERS_KEY = "headers"
"""A context's extra request headers, a mapping `Name: value` (the only non-string key)."""


class ProfileError(Exception):
    """The profile file cannot be read or does not name what was asked for."""


def profile_path() -> Path:
    """`$HYPERFLEET_CLI_CONFIG`, else `cli.yaml` in the user's config dir for hyperfleet."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return platformdirs.user_config_path("hyperfleet") / "cli.yaml"


@dataclass
class Profile:
    """The profile file's content: contexts by name and the current one."""

    contexts: dict[str, dict[str, Any]]
    current: str | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> Profile:
        """Read the file; a missing file is an empty profile."""
        path = path or profile_path()
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls({})
        except (OSError, yaml.YAMLError) as exc:
            raise ProfileError(f"cannot read profile {path}: {exc}") from exc
        if raw is None:
            return cls({})
        if not isinstance(raw, dict) or not isinstance(raw.get("contexts", {}), dict):
            raise ProfileError(f"profile {path}: expected a mapping with 'contexts'")
        contexts = {
            str(name): _context(path, str(name), ctx or {})
            for name, ctx in (raw.get("contexts") or {}).items()
        }
        current = raw.get("current-context")
        return cls(contexts, str(current) if current else None)

    def save(self, path: Path | None = None) -> Path:
        """Write the file (owner-only: it may hold a token)."""
        path = path or profile_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"current-context": self.current, "contexts": self.contexts}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yaml.safe_dump(data, out, sort_keys=False)
        return path

    def active(self) -> dict[str, Any]:
        """The current context's settings ({} when none is current)."""
        if self.current is None:
            return {}
        if self.current not in self.contexts:
            raise ProfileError(f"current context {self.current!r} is not in {profile_path()}")
        return self.contexts[self.current]


@dataclass(frozen=True)
class Target:
    """Where a command sends its requests, and with which token."""

    api_url: str
    token: TokenSource
    headers: Mapping[str, str] = field(default_factory=dict)


def _context(path: Path, name: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ProfileError(f"profile {path}: context {name!r} must be a mapping")
    context: dict[str, Any] = {k: str(v) for k, v in raw.items() if k in CONTEXT_KEYS}
    if raw.get(HEADERS_KEY):
        try:
            context[HEADERS_KEY] = header_setting(raw[HEADERS_KEY])
        except ValueError as exc:
            raise ProfileError(f"profile {path}: context {name!r}: headers: {exc}") from exc
    return context


def resolve(api_url: str | None, headers: Sequence[str] = ()) -> Target:
    """The API URL, token and headers for a command, by the precedence in the docstring.

    `headers` are the command's `Name: value` items; a bad one is a ProfileError too (usage).
    """
    context = Profile.load().active()
    try:
        extra = merged(context.get(HEADERS_KEY, {}), [parse_header(h) for h in headers])
    except ValueError as exc:
        raise ProfileError(f"--header: {exc}") from exc
    url = api_url or os.environ.get("HYPERFLEET_API_URL") or context.get("api_url")
    token: TokenSource = None
    if os.environ.get("HYPERFLEET_TOKEN"):
        token = os.environ["HYPERFLEET_TOKEN"]
    elif os.environ.get("HYPERFLEET_TOKEN_FILE"):
        token = TokenFile(os.environ["HYPERFLEET_TOKEN_FILE"])
    elif context.get("token"):
        token = context["token"]
    elif context.get("token_file"):
        token = TokenFile(context["token_file"])
    return Target(url or DEFAULT_API_URL, token, extra)
