"""Opaque list cursors: where a keyset page ends, and which list it belongs to.

A cursor carries the list it was issued for (a scope string naming the route, the search text,
the `kind` filter and the order), the sort key of the last item returned, the `total` counted
when the walk began and the ordinal of the page that issued it. It is JSON behind a keyed
BLAKE2b checksum, base64url-encoded: any altered byte makes it invalid. The checksum guards
against garbling, not against a forger; a forged cursor could only name another position in
a list its bearer may read anyway, and every value in it is type-checked before use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

import msgspec

from hyperfleet.domain.search import COLUMNS, ColumnType, OrderTerm
from hyperfleet.errors import BadRequest, Violation

if TYPE_CHECKING:
    from collections.abc import Sequence

KeyValue = str | int | datetime | None

_VERSION: Final = 1
_DIGEST_SIZE: Final = 12
_KEY: Final = b"hyperfleet list cursor v1"
_MAX_TOKEN: Final = 16_384
_INT32: Final = 2**31


class _Wire(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    version: int
    scope: str
    search: str
    kind: str | None
    order: list[tuple[str, bool]]
    after: list[str | int | None]
    total: int
    page: int


@dataclass(frozen=True, slots=True)
class Cursor:
    """A decoded cursor. `after` holds the key of the last item already returned."""

    scope: str
    search: str
    kind: str | None
    order: tuple[OrderTerm, ...]
    after: tuple[KeyValue, ...]
    total: int
    page: int


def invalid_cursor(message: str) -> BadRequest:
    """The one error every cursor problem raises: a 400 naming `cursor`."""
    return BadRequest(f"invalid cursor: {message}", violations=[Violation("cursor", message)])


def key_terms(terms: Sequence[OrderTerm]) -> tuple[OrderTerm, ...]:
    """The order's terms plus the `id` tiebreaker in the first term's direction, unless present.

    This is the full sort key of a list (storage orders by exactly these), so it is also what a
    keyset cursor records of the last item.
    """
    if any(t.field == "id" for t in terms):
        return tuple(terms)
    return (*terms, OrderTerm("id", descending=terms[0].descending))


def encode_cursor(cursor: Cursor) -> str:
    wire = _Wire(
        version=_VERSION,
        scope=cursor.scope,
        search=cursor.search,
        kind=cursor.kind,
        order=[(t.field, t.descending) for t in cursor.order],
        after=[_wire_value(v) for v in cursor.after],
        total=cursor.total,
        page=cursor.page,
    )
    payload = msgspec.json.encode(wire)
    digest = hashlib.blake2b(payload, key=_KEY, digest_size=_DIGEST_SIZE).digest()
    return base64.urlsafe_b64encode(digest + payload).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> Cursor:
    """Parse and verify a token; anything but an intact cursor of this server is a 400."""
    if not token or len(token) > _MAX_TOKEN:
        raise invalid_cursor("not a cursor issued by this server")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid_cursor("not a cursor issued by this server") from None
    digest, payload = raw[:_DIGEST_SIZE], raw[_DIGEST_SIZE:]
    expected = hashlib.blake2b(payload, key=_KEY, digest_size=_DIGEST_SIZE).digest()
    if not hmac.compare_digest(digest, expected):
        raise invalid_cursor("not a cursor issued by this server")
    try:
        wire = msgspec.json.decode(payload, type=_Wire)
    except msgspec.DecodeError:
        raise invalid_cursor("not a cursor issued by this server") from None
    if wire.version != _VERSION or wire.page < 1 or wire.total < 0:
        raise invalid_cursor("not a cursor issued by this server")
    order = tuple(OrderTerm(field, descending=desc) for field, desc in wire.order)
    return Cursor(
        scope=wire.scope,
        search=wire.search,
        kind=wire.kind,
        order=order,
        after=_typed_key(order, wire.after),
        total=wire.total,
        page=wire.page,
    )


def _wire_value(value: KeyValue) -> str | int | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _typed_key(
    order: tuple[OrderTerm, ...], values: list[str | int | None]
) -> tuple[KeyValue, ...]:
    """The stored key values as the Python types storage binds, checked against the order.

    An empty order means a list with a fixed order (statuses, phase history): its key values
    are passed through as they are (storage checks them).
    """
    if not order:
        return tuple(values)
    terms = key_terms(order)
    if len(values) != len(terms):
        raise invalid_cursor("not a cursor issued by this server")
    return tuple(_typed(term.field, value) for term, value in zip(terms, values, strict=True))


def _typed(field: str, value: str | int | None) -> KeyValue:
    kind = COLUMNS.get(field)
    if kind is None:
        raise invalid_cursor("not a cursor issued by this server")
    if value is None:
        return None
    if kind is ColumnType.INTEGER:
        if isinstance(value, int) and not isinstance(value, bool) and -_INT32 <= value < _INT32:
            return value
    elif isinstance(value, str) and "\x00" not in value:
        if kind is ColumnType.TEXT:
            return value
        if kind is ColumnType.UUID and _is_uuid(value):
            return value
        if kind is ColumnType.TIMESTAMP:
            return _timestamp(value)
    raise invalid_cursor("not a cursor issued by this server")


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid_cursor("not a cursor issued by this server") from None
    if parsed.tzinfo is None:
        raise invalid_cursor("not a cursor issued by this server")
    return parsed
