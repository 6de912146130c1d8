"""Output for the client commands: the console, ages, and the raw JSON / YAML of an API body.

The console colours only a terminal, and never with `NO_COLOR` set; ages read like "3m".
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec
import yaml
from rich.console import Console
from rich.text import Text

# Without a terminal rich would wrap tables at 80 columns; piped output is read by tools.
_PIPE_WIDTH = 250

_MINUTE, _HOUR, _DAY = 60, 3600, 86400

PHASE_STYLES = {
    "Ready": "bold green",
    "Provisioning": "cyan",
    "Pending": "yellow",
    "Degraded": "bold yellow",
    "Failed": "bold red",
    "Deleting": "magenta",
}
STATE_STYLES = {
    "Ready": "green",
    "Finalized": "green",
    "Provisioning": "cyan",
    "Pending": "yellow",
    "Unhealthy": "yellow",
    "Failed": "red",
}
STATUS_STYLES = {"True": "green", "False": "red", "Unknown": "yellow"}
DOT = "●"


class Output(StrEnum):
    """The `-o` choices."""

    table = "table"
    json = "json"
    yaml = "yaml"


def make_console(*, stderr: bool = False) -> Console:
    """A console that colours only a terminal, and never with `NO_COLOR` set (rich checks both)."""
    stream = sys.stderr if stderr else sys.stdout
    # markup off: API text such as "[dns, validation]" must print as it is.
    # NO_COLOR: rich would drop colours but keep bold and dim; no styling at all is expected.
    console = Console(
        file=stream,
        soft_wrap=False,
        highlight=False,
        markup=False,
        color_system=None if os.environ.get("NO_COLOR") else "auto",
    )
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = _PIPE_WIDTH
    return console


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp from the API, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(value: str | None, now: datetime | None = None) -> str:
    """How long ago `value` was, in its largest unit: "45s", "3m", "2h", "5d"; "-" if unknown."""
    when = parse_time(value)
    if when is None:
        return "-"
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    seconds = max(seconds, 0)
    if seconds < _MINUTE:
        return f"{seconds}s"
    if seconds < _HOUR:
        return f"{seconds // _MINUTE}m"
    if seconds < _DAY:
        return f"{seconds // _HOUR}h"
    return f"{seconds // _DAY}d"


def styled(value: str | None, styles: dict[str, str]) -> Text:
    """`value` in the style its table gives it (plain when unknown)."""
    if not value:
        return Text("-")
    return Text(value, style=styles.get(value, ""))


def dot(status: str | None) -> Text:
    """A coloured dot for a condition status."""
    return Text(DOT, style=STATUS_STYLES.get(status or "", "dim"))


def decode(body: bytes) -> Any:
    """The JSON value of an API body (None for an empty one)."""
    return msgspec.json.decode(body) if body else None


def print_json(body: bytes) -> None:
    """The API's body exactly as received, newline-terminated."""
    if not body:
        return
    out = sys.stdout.buffer
    out.write(body)
    if not body.endswith(b"\n"):
        out.write(b"\n")
    out.flush()


def print_yaml(body: bytes) -> None:
    """The API's body as YAML (keys in the API's order)."""
    value = decode(body)
    if value is None:
        return
    sys.stdout.write(yaml.safe_dump(value, sort_keys=False, allow_unicode=True))
    sys.stdout.flush()
