"""Page-number and cursor paging shared by every list: resuming a cursor, issuing the next.

A walk starts with a request without a cursor (page numbers, exact `total`); every page that
has items after it carries `next_cursor`. Following it continues after the last item returned
(keyset, so its cost does not depend on the depth) and reports the walk's first `total`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from hyperfleet.domain.cursor import (
    Cursor,
    KeyValue,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from hyperfleet.domain.search import OrderTerm, parse_order

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hyperfleet.services.ports import Page

T = TypeVar("T")
K = TypeVar("K", str, int)


@dataclass(frozen=True, slots=True)
class Listed(Generic[T]):
    """A page as the list envelope presents it."""

    items: list[T]
    page: int
    total: int
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ListSpec:
    """What a list is: the route's scope, its filters and order (all that a cursor pins)."""

    scope: str
    search: str = ""
    kind: str | None = None
    order: tuple[OrderTerm, ...] = ()


def resume(
    token: str,
    scope: str,
    *,
    search: str | None = None,
    kind: str | None = None,
    order: Sequence[str] = (),
) -> tuple[ListSpec, Cursor]:
    """Decode `token` for the list at `scope`; filters the request repeats must be the same.

    A request following a cursor may leave `search`, `kind` and `order` out (the cursor's
    apply) or repeat them unchanged; anything else is a 400 naming `cursor`.
    """
    cursor = decode_cursor(token)
    if cursor.scope != scope:
        raise invalid_cursor("the cursor belongs to another list")
    if search is not None and search != cursor.search:
        raise invalid_cursor("the cursor was issued for another search")
    if kind is not None and kind != cursor.kind:
        raise invalid_cursor("the cursor was issued for another kind")
    if order and parse_order(list(order)) != cursor.order:
        raise invalid_cursor("the cursor was issued for another order")
    return ListSpec(scope, cursor.search, cursor.kind, cursor.order), cursor


def present(page: Page[T], spec: ListSpec, *, number: int, total: int) -> Listed[T]:
    """The page with its number and total, and a cursor to the next page when one follows."""
    next_cursor = None
    if page.more and page.last_key is not None:
        next_cursor = encode_cursor(
            Cursor(
                scope=spec.scope,
                search=spec.search,
                kind=spec.kind,
                order=spec.order,
                after=page.last_key,
                total=total,
                page=number,
            )
        )
    return Listed(page.items, number, total, next_cursor)


def single_key(after: tuple[KeyValue, ...], kind: type[K]) -> K:
    """The one-column key of a fixed-order list (statuses, phase history), type-checked."""
    value = after[0] if len(after) == 1 else None
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    raise invalid_cursor("not a cursor issued by this server")


def carried_total(counted: int | None, carried: int) -> int:
    """The page's own count when it made one, else the total its cursor carried."""
    return counted if counted is not None else carried
