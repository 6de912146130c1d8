"""Extra request headers: `Name: value` text, checked before anything is sent.

The loop's processes and the CLI add headers the API reads beside the token: the system-caller
header of tenancy (`X-HyperFleet-System: true`, what the Sentinel and the adapters send by
default) or a tenant's dimension headers when no gateway sets them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SYSTEM_HEADER = "X-HyperFleet-System"
"""The API's default `server.tenant.system_header`: `true` marks an unscoped system caller."""

LOOP_HEADERS: Mapping[str, str] = {SYSTEM_HEADER: "true"}
"""What a Sentinel or adapter sends unless its `api_headers` say otherwise."""

# RFC 9110 field names are tokens; values may not break the header block.
_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
# The client sets these itself; a second copy would be ambiguous or break the body.
_RESERVED = frozenset({"authorization", "content-length", "content-type", "host"})


def check_header(name: str, value: str) -> tuple[str, str]:
    """The header, stripped; ValueError naming the problem when it cannot be sent."""
    name, value = name.strip(), value.strip()
    if not _NAME.match(name):
        raise ValueError(f"header name {name!r} is not a valid HTTP field name")
    if name.lower() in _RESERVED:
        raise ValueError(f"header {name!r} is set by the client itself")
    if _BAD_VALUE.search(value):
        raise ValueError(f"header {name!r}: the value must not contain line breaks")
    return name, value


def parse_header(text: str) -> tuple[str, str]:
    """`Name: value` as (name, value); ValueError when there is no colon or it is invalid."""
    name, sep, value = text.partition(":")
    if not sep:
        raise ValueError(f"{text!r} is not 'Name: value'")
    return check_header(name, value)


def parse_headers(text: str | Iterable[str]) -> dict[str, str]:
    """Headers from `Name: value` items: a list, or one string of items separated by commas.

    A later item with the same name (case-insensitive) replaces the earlier one.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    return merged({}, [parse_header(item) for item in items if item.strip()])


def checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A mapping of headers, each checked (see `check_header`)."""
    return merged({}, [check_header(str(n), str(v)) for n, v in headers.items()])


def merged(base: Mapping[str, str], top: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`base` with `top` over it; names compare case-insensitively, the later spelling wins."""
    out = dict(base)
    for name, value in top:
        for old in [k for k in out if k.lower() == name.lower()]:
            del out[old]
        out[name] = value
    return out


def header_setting(value: object) -> dict[str, str]:
    """A config value as headers; ValueError says what is wrong.

    A mapping, or `Name: value` items: a list, or one string of comma-separated items (the
    environment's form). YAML reads `true` as a boolean; it is sent as `true`, not Python's `True`.
    """
    if isinstance(value, str | list | tuple):
        return parse_headers(value if isinstance(value, str) else [str(v) for v in value])
    if isinstance(value, Mapping):
        return checked_headers({str(k): _text(v) for k, v in value.items()})
    raise ValueError("must map header names to values, or list 'Name: value' items")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        raise ValueError("a header value must not be empty (null)")
    return str(value)
