"""Render a parsed search (and an order) as SQL over `resources r`.

Every value is bound as a `$N` parameter with an explicit cast; field names come only from the
fixed tables below, never from the query text. The output is designed never to raise a database
error for any AST `hyperfleet.domain.search.parse_search` can return: spec values are compared
numerically only when the stored JSON value is a number, and the domain has already rejected
what PostgreSQL would refuse (NUL characters, out-of-range integers and numbers, LIKE patterns
ending in an escape).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Final, assert_never

from hyperfleet.domain.cursor import KeyValue, key_terms
from hyperfleet.domain.search import (
    COLUMNS,
    And,
    Between,
    ColumnField,
    ColumnType,
    Compare,
    ConditionField,
    ConditionSub,
    ConditionSubField,
    InList,
    IsNull,
    LabelField,
    Like,
    Node,
    Not,
    Op,
    Or,
    OrderTerm,
    Predicate,
    Scalar,
    SpecField,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# Search expressions per column. uuid columns compare as text so that any string (including a
# partial id under LIKE) is a valid operand rather than a cast error.
_SEARCH_COLUMNS: Final = {
    "id": "r.id::text",
    "kind": "r.kind",
    "name": "r.name",
    "href": "r.href",
    "owner_id": "r.owner_id::text",
    "owner_kind": "r.owner_kind",
    "owner_href": "r.owner_href",
    "created_by": "r.created_by",
    "updated_by": "r.updated_by",
    "deleted_by": "r.deleted_by",
    "generation": "r.generation",
    "created_time": "r.created_time",
    "updated_time": "r.updated_time",
    "deleted_time": "r.deleted_time",
}
_ORDER_COLUMNS: Final = {name: f"r.{name}" for name in _SEARCH_COLUMNS}
_SEARCH_COLUMNS["phase"] = "r.phase"  # `status.phase`; searchable, not an order field
# Key columns that may hold NULL, which sorts after every value (keysets must say so).
_NULLABLE_ORDER_COLUMNS: Final = frozenset(
    {"r.owner_id", "r.owner_kind", "r.owner_href", "r.deleted_time", "r.deleted_by"}
)
_ORDER_CASTS: Final = {
    ColumnType.TEXT: "text",
    ColumnType.UUID: "uuid",
    ColumnType.INTEGER: "integer",
    ColumnType.TIMESTAMP: "timestamptz",
}
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_COLUMN_CASTS: Final = {
    ColumnType.TEXT: "text",
    ColumnType.UUID: "text",
    ColumnType.INTEGER: "integer",
    ColumnType.TIMESTAMP: "timestamptz",
}
_CONDITION_COLUMNS: Final = {
    ConditionSub.LAST_UPDATED_TIME: ("rc.last_updated_time", "timestamptz"),
    ConditionSub.LAST_TRANSITION_TIME: ("rc.last_transition_time", "timestamptz"),
    ConditionSub.OBSERVED_GENERATION: ("rc.observed_generation", "integer"),
}
_CONDITION_EXISTS: Final = (
    "EXISTS (SELECT 1 FROM resource_conditions rc WHERE rc.resource_id = r.id AND rc.type = "
)
_SQL_OPS: Final = {Op.EQ: "=", Op.NE: "<>", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


def compile_search(node: Node, params: list[object]) -> str:
    """Return a boolean SQL expression over `r` for `node`, appending its values to `params`.

    Placeholders continue from the list's current length, so the caller may bind its own
    values (kind, owner) first and AND the result with them.
    """
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(compile_search(o, params) for o in node.operands) + ")"
    if isinstance(node, Not):
        return f"NOT ({compile_search(node.operand, params)})"
    return _predicate(node, params)


def compile_order(terms: Sequence[OrderTerm]) -> str:
    """Return `ORDER BY …` for `terms`, ending with `r.id` in the first term's direction.

    The id tiebreaker makes pages stable when the ordered values repeat (and is the last part
    of every keyset). Raises `ValueError` for a field outside the allowlist (`parse_order`
    never produces one).
    """
    return "ORDER BY " + ", ".join(
        f"{column} {'DESC' if desc else 'ASC'}" for column, _, desc in _order_keys(terms)
    )


def key_columns(terms: Sequence[OrderTerm]) -> list[str]:
    """The SQL expressions of the full sort key, in order (to select the last row's key)."""
    return [column for column, _, _ in _order_keys(terms)]


def compile_keyset(
    terms: Sequence[OrderTerm], after: Sequence[KeyValue], params: list[object]
) -> str:
    """Rows strictly after the sort key `after` in `compile_order(terms)`'s order.

    When every key column is NOT NULL and all directions agree, this is one row comparison,
    which a btree on the key columns serves as a range scan. Otherwise it expands to
    `k1 after v1 OR (k1 = v1 AND k2 after v2) OR …`, with NULLs sorting after every value as
    PostgreSQL does (last ascending, first descending).
    """
    keys = _order_keys(terms)
    if len(after) != len(keys):
        msg = "keyset position does not match the order"
        raise ValueError(msg)
    bind = _Binder(params)
    directions = {desc for _, _, desc in keys}
    nullable = any(column in _NULLABLE_ORDER_COLUMNS for column, _, _ in keys)
    if len(directions) == 1 and not nullable and all(v is not None for v in after):
        columns = ", ".join(column for column, _, _ in keys)
        values = ", ".join(bind(v, cast) for (_, cast, _), v in zip(keys, after, strict=True))
        return f"({columns}) {'<' if directions == {True} else '>'} ({values})"
    disjuncts: list[str] = []
    equal: list[str] = []
    for i, ((column, cast, desc), value) in enumerate(zip(keys, after, strict=True)):
        beyond = _beyond(column, cast, value, bind, descending=desc)
        if beyond is not None:
            disjuncts.append("(" + " AND ".join([*equal, beyond]) + ")")
        if i < len(keys) - 1:  # every bound value must appear in the statement
            equal.append(
                f"{column} IS NULL" if value is None else f"{column} = {bind(value, cast)}"
            )
    return "(" + (" OR ".join(disjuncts) or "FALSE") + ")"


def _beyond(
    column: str, cast: str, value: KeyValue, bind: _Binder, *, descending: bool
) -> str | None:
    """`column` sorts strictly after `value`; None when nothing can."""
    if value is None:
        return f"{column} IS NOT NULL" if descending else None
    if descending:
        return f"{column} < {bind(value, cast)}"
    if column in _NULLABLE_ORDER_COLUMNS:
        return f"({column} > {bind(value, cast)} OR {column} IS NULL)"
    return f"{column} > {bind(value, cast)}"


def _order_keys(terms: Sequence[OrderTerm]) -> list[tuple[str, str, bool]]:
    """(column, cast, descending) of the full sort key: the terms plus the id tiebreaker."""
    if not terms:
        msg = "an order needs at least one term"
        raise ValueError(msg)
    keys: list[tuple[str, str, bool]] = []
    for term in key_terms(terms):
        column = _ORDER_COLUMNS.get(term.field)
        if column is None:
            msg = f"cannot order by {term.field!r}"
            raise ValueError(msg)
        keys.append((column, _ORDER_CASTS[COLUMNS[term.field]], term.descending))
    return keys


class _Binder:
    """Appends values to the caller's parameter list and hands out `$N` placeholders."""

    def __init__(self, params: list[object]) -> None:
        self._params = params

    def __call__(self, value: object, cast: str) -> str:
        self._params.append(value)
        return f"${len(self._params)}::{cast}"


def _predicate(node: Predicate, params: list[object]) -> str:
    bind = _Binder(params)
    field = node.field
    if isinstance(field, ConditionField | ConditionSubField):
        return _condition(node, field, bind)
    if isinstance(field, LabelField):
        return _label(node, field, bind)
    if isinstance(field, SpecField):
        return _spec(node, field, bind)
    if isinstance(field, ColumnField):
        if field.type is ColumnType.UUID and _all_uuids(node):
            # Equality on canonical ids compares as uuid, so the primary key index serves it.
            return _operand(node, f"r.{field.column}", "uuid", bind)
        column = _SEARCH_COLUMNS[field.column]  # KeyError only for a hand-made bad AST
        return _operand(node, column, _COLUMN_CASTS[field.type], bind)
    assert_never(field)


def _all_uuids(node: Predicate) -> bool:
    """`=`, `!=` or `in` whose every value is a canonical (lower-case, hyphenated) UUID."""
    if isinstance(node, Compare) and node.op in {Op.EQ, Op.NE}:
        values: list[object] = [node.value]
    elif isinstance(node, InList):
        values = list(node.values)
    else:
        return False
    return bool(values) and all(
        isinstance(v, str) and _CANONICAL_UUID.fullmatch(v) is not None for v in values
    )


def _operand(node: Predicate, expr: str, cast: str, bind: _Binder) -> str:
    """The predicate `node` applied to the SQL expression `expr`, whose values cast to `cast`."""
    if isinstance(node, Compare):
        return f"{expr} {_SQL_OPS[node.op]} {bind(node.value, cast)}"
    if isinstance(node, InList):
        values = bind(list(node.values), f"{cast}[]")
        return f"{expr} <> ALL({values})" if node.negated else f"{expr} = ANY({values})"
    if isinstance(node, Between):
        keyword = "NOT BETWEEN" if node.negated else "BETWEEN"
        low, high = bind(node.low, cast), bind(node.high, cast)
        return f"{expr} {keyword} {low} AND {high}"
    if isinstance(node, IsNull):
        return f"{expr} IS NOT NULL" if node.negated else f"{expr} IS NULL"
    if isinstance(node, Like):
        keyword = ("NOT " if node.negated else "") + ("ILIKE" if node.case_insensitive else "LIKE")
        return f"{expr} {keyword} {bind(node.pattern, 'text')}"
    assert_never(node)


def _label(node: Predicate, field: LabelField, bind: _Binder) -> str:
    if isinstance(node, Compare) and node.op is Op.EQ:
        # Containment is what the GIN (jsonb_path_ops) index on labels serves. The document is
        # one jsonb parameter: `jsonb_build_object($k, $v)` is not constant-folded (it is only
        # STABLE), so every recheck rebuilt it, doubling the cost of a label count.
        return f"r.labels @> {bind({field.key: node.value}, 'jsonb')}"
    key = bind(field.key, "text")
    if isinstance(node, IsNull):
        return f"r.labels ? {key}" if node.negated else f"NOT (r.labels ? {key})"
    return _operand(node, f"(r.labels ->> {key})", "text", bind)


def _spec(node: Predicate, field: SpecField, bind: _Binder) -> str:
    path = bind(list(field.path), "text[]")
    if isinstance(node, Compare) and isinstance(node.value, bool):
        # Booleans only come with = and !=; JSON is compared to JSON so true never equals "true".
        value = bind(node.value, "boolean")
        return f"(r.spec #> {path}) {_SQL_OPS[node.op]} to_jsonb({value})"
    if isinstance(_sample_value(node), int | Decimal):
        # The CASE keeps the cast away from non-numbers, so it can never raise.
        number = (
            f"(CASE WHEN jsonb_typeof(r.spec #> {path}) = 'number'"
            f" THEN (r.spec #>> {path})::numeric END)"
        )
        return _operand(node, number, "numeric", bind)
    # Strings, LIKE and IS NULL work on the text form (#>> gives NULL for JSON null too).
    return _operand(node, f"(r.spec #>> {path})", "text", bind)


def _sample_value(node: Predicate) -> Scalar | None:
    """One value of the predicate (all of its values share a type), or None for IS NULL/LIKE."""
    if isinstance(node, Compare):
        return node.value
    if isinstance(node, InList):
        return node.values[0]
    if isinstance(node, Between):
        return node.low
    return None


def _condition(
    node: Predicate,
    field: ConditionField | ConditionSubField,
    bind: _Binder,
) -> str:
    exists = _CONDITION_EXISTS + bind(field.type, "text")
    if isinstance(node, IsNull):
        # "has no condition of this type" / "has one"; the domain does not expose it today.
        return f"{exists})" if node.negated else f"NOT {exists})"
    if isinstance(field, ConditionField):
        column, cast = "rc.status", "text"
    else:
        column, cast = _CONDITION_COLUMNS[field.sub]
    return f"{exists} AND {_operand(node, column, cast, bind)})"
