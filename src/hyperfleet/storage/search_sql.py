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

from hyperfleet.domain.search import (
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

    The id tiebreaker makes offset pagination stable when the ordered values repeat. Raises
    `ValueError` for a field outside the allowlist (`parse_order` never produces one).
    """
    if not terms:
        msg = "compile_order needs at least one term"
        raise ValueError(msg)
    parts: list[str] = []
    for term in terms:
        column = _ORDER_COLUMNS.get(term.field)
        if column is None:
            msg = f"cannot order by {term.field!r}"
            raise ValueError(msg)
        parts.append(f"{column} {_direction(term)}")
    if all(term.field != "id" for term in terms):
        parts.append(f"r.id {_direction(terms[0])}")
    return "ORDER BY " + ", ".join(parts)


def _direction(term: OrderTerm) -> str:
    return "DESC" if term.descending else "ASC"


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
    key = bind(field.key, "text")
    if isinstance(node, Compare) and node.op is Op.EQ:
        # Containment is what the GIN (jsonb_path_ops) index on labels serves.
        return f"r.labels @> jsonb_build_object({key}, {bind(node.value, 'text')})"
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
