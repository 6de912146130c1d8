"""Tenancy: who the caller is scoped to, read from request headers, and what it may see.

A tenant caller's map is exactly the dimension headers it sent; it sees a resource only when the
resource's stored map equals its own (the unit that also scopes name uniqueness). A system
caller (the Sentinel, adapters) sees every tenant and writes only statuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from hyperfleet.errors import Forbidden, ValidationFailed, Violation

MAX_VALUE_LEN: Final = 63
_VALUE = re.compile(r"[A-Za-z0-9._-]+")
SYSTEM_WRITE_DENIED: Final = "system identities may only write status and conditions"


def tenancy_label(values: Mapping[str, str]) -> str:
    """`k=v,k=v` sorted by key; `""` for no tenancy.

    Lossless: keys and values are made of `A-Z a-z 0-9 . _ -` only, so two maps are equal
    exactly when their labels are. Storage keeps this form (text compares much faster than
    jsonb in the indexes that scope every tenant's list).
    """
    return ",".join(f"{k}={v}" for k, v in sorted(values.items()))


def parse_tenancy_label(label: str) -> dict[str, str]:
    """The map `tenancy_label` wrote."""
    if not label:
        return {}
    return dict(item.split("=", 1) for item in label.split(","))


@dataclass(frozen=True, slots=True)
class CallerTenancy:
    """The caller's scope: a system caller, or the tenancy map its headers formed."""

    system: bool
    values: dict[str, str] = field(default_factory=dict)
    label: str = field(init=False, compare=False)
    """`system`, else `k=v,k=v` sorted by key (the audit log's and storage's spelling)."""
    key: tuple[tuple[str, str], ...] | None = field(init=False, compare=False)
    """A hashable form of what this caller sees: None for everything."""

    def __post_init__(self) -> None:
        # Computed once: every list, cursor and watch of the request reads them.
        label = "system" if self.system else tenancy_label(self.values)
        object.__setattr__(self, "label", label)
        key = None if self.system else tuple(sorted(self.values.items()))
        object.__setattr__(self, "key", key)

    def sees(self, tenancy: Mapping[str, str]) -> bool:
        return self.system or tenancy == self.values

    def reject_write(self) -> None:
        """Resource writes other than status reports are not a system caller's."""
        if self.system:
            raise Forbidden(SYSTEM_WRITE_DENIED)


SYSTEM = CallerTenancy(system=True)


def visible_to(caller: CallerTenancy | None) -> str | None:
    """The tenancy label (`tenancy_label`) a read must match; None: every tenant."""
    if caller is None or caller.system:
        return None
    return caller.label


@dataclass(frozen=True, slots=True)
class Dimension:
    header: str
    key: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class TenancyPolicy:
    """The configured headers (`server.tenant`), resolved once per API request."""

    system_header: str
    dimensions: tuple[Dimension, ...]
    _wire: tuple[tuple[bytes, Dimension], ...] = field(init=False, repr=False, compare=False)
    _system_wire: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # ASGI header names arrive lower-cased as bytes.
        wire = tuple((d.header.lower().encode("latin-1"), d) for d in self.dimensions)
        object.__setattr__(self, "_wire", wire)
        object.__setattr__(self, "_system_wire", self.system_header.lower().encode("latin-1"))

    def resolve(self, headers: Iterable[tuple[bytes, bytes]]) -> CallerTenancy:
        """The caller's tenancy; a bad value is a 400 naming its header, no dimension a 403."""
        sent = dict(headers)
        system = sent.get(self._system_wire)
        if system is not None and system.strip().lower() == b"true":
            return SYSTEM
        values: dict[str, str] = {}
        for wire_name, dim in self._wire:
            raw = sent.get(wire_name)
            value = raw.decode("latin-1").strip() if raw is not None else ""
            if not value:
                if dim.required:
                    raise Forbidden(f"the tenant header {dim.header} is required")
                continue
            if len(value) > MAX_VALUE_LEN or not _VALUE.fullmatch(value):
                message = f"must be 1 to {MAX_VALUE_LEN} letters, digits, '.', '_' or '-'"
                raise ValidationFailed(
                    f"the tenant header {dim.header} has an invalid value",
                    violations=[Violation.with_value(dim.header, message, value, "pattern")],
                )
            values[dim.key] = value
        if not values:
            headers_named = ", ".join(d.header for d in self.dimensions)
            raise Forbidden(f"no tenant header was sent (one of: {headers_named})")
        return CallerTenancy(system=False, values=values)
