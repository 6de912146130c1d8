"""The CLI's profile file (named contexts) and where a command's API URL and token come from.

API URL: `--api-url` > `HYPERFLEET_API_URL` > the current context > `http://127.0.0.1:8000`.
Token: `HYPERFLEET_TOKEN` > `HYPERFLEET_TOKEN_FILE` > the current context's `token` >
its `token_file` > none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from hyperfleet.client import TokenFile
from hyperfleet.client.wire import TokenSource

DEFAULT_API_URL = "http://127.0.0.1:8000"
CONFIG_ENV = "HYPERFLEET_CLI_CONFIG"
CONTEXT_KEYS = ("api_url", "token", "token_file")


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

    contexts: dict[str, dict[str, str]]
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
            str(name): {k: str(v) for k, v in (ctx or {}).items() if k in CONTEXT_KEYS}
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

    def active(self) -> dict[str, str]:
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


def resolve(api_url: str | None) -> Target:
    """The API URL and token for a command, by the precedence in this module's docstring."""
    context = Profile.load().active()
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
    return Target(url or DEFAULT_API_URL, token)
