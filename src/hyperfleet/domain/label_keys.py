"""Kubernetes label keys: `[prefix/]name`, as `kubectl` and the API server accept them.

The prefix is an optional DNS subdomain (at most 253 characters of lower-case dot-separated
segments), the name 1-63 characters of `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`. One rule
for storing labels (`validation`) and for naming them in a search (`search`).
"""

from __future__ import annotations

import re

LABEL_PREFIX_SEGMENT_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$")


def label_key_problem(key: str) -> str | None:  # noqa: PLR0911 - one message per rule
    """Why `key` is not a Kubernetes label key, or None when it is one."""
    if not key:
        return "label key must not be empty"
    if len(key) > 255:  # noqa: PLR2004 - reference limit
        return "label key must be at most 255 characters"
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        return "label key prefix must not be empty"
    if prefix:
        if len(prefix) > 253:  # noqa: PLR2004 - DNS subdomain limit
            return "label key prefix must be at most 253 characters"
        for segment in prefix.split("."):
            if len(segment) > 63 or not LABEL_PREFIX_SEGMENT_RE.fullmatch(segment):  # noqa: PLR2004
                return "label key prefix must be a DNS subdomain (lower case, digits, '-', '.')"
    if not name or len(name) > 63:  # noqa: PLR2004
        return "label key name must be 1 to 63 characters"
    if not LABEL_NAME_RE.fullmatch(name):
        return (
            "label key name must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None
