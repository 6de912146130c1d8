"""Evaluate a parsed search over one rendered resource, as the SQL compilation would.

The watch stream filters changes in memory with the list's `search`: an object that stops
matching is sent as DELETED, one that starts matching as ADDED. So this evaluator must agree
with `storage/search_sql.py` row for row (a test checks both over the same data on PostgreSQL):

- SQL's three-valued logic: a comparison with a missing value (NULL) is unknown, `not unknown`
  is unknown, and only a true result matches;
- label equality is containment and `is null` is key existence (never unknown); condition
  predicates are `EXISTS` (never unknown);
- spec numbers compare numerically only when the stored value is a JSON number, booleans compare
  as JSON, and everything else compares on PostgreSQL's text form of the value (`#>>`);
- text compares by code point, which is the C collation the database uses.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, assert_never

import msgspec

from hyperfleet.domain.search import (
    And,
    Between,
    ColumnField,
    ColumnType,
    Compare,
    ConditionField,
    ConditionSubField,
    InList,
    IsNull,
    LabelField,
    Like,
    Node,
    Not,
    Op,
    Or,
    Predicate,
    SpecField,
)

Truth = bool | None
"""True, False or unknown (SQL NULL)."""

_decoder: Final = msgspec.json.Decoder(float_hook=Decimal)
_OWNER_FIELDS: Final = {"owner_id": "id", "owner_kind": "kind", "owner_href": "href"}
_TIMES: Final = frozenset({"created_time", "updated_time", "deleted_time"})


def decode_body(body: bytes) -> dict[str, Any]:
    """A stored rendered resource as a dict (numbers that are not integers as Decimal)."""
    value = _decoder.decode(body)
    if not isinstance(value, dict):
        msg = "a rendered resource is a JSON object"
        raise TypeError(msg)
    return value


def matches(node: Node | None, resource: dict[str, Any]) -> bool:
    """Whether the rendered `resource` is in the list `node` filters (None: every resource)."""
    return node is None or evaluate(node, resource) is True


def evaluate(node: Node, resource: dict[str, Any]) -> Truth:
    if isinstance(node, And):
        results = [evaluate(o, resource) for o in node.operands]
        if False in results:
            return False
        return None if None in results else True
    if isinstance(node, Or):
        results = [evaluate(o, resource) for o in node.operands]
        if True in results:
            return True
        return None if None in results else False
    if isinstance(node, Not):
        inner = evaluate(node.operand, resource)
        return None if inner is None else not inner
    return _predicate(node, resource)


def _predicate(node: Predicate, resource: dict[str, Any]) -> Truth:
    field = node.field
    if isinstance(field, ColumnField):
        return _apply(node, _column(field, resource))
    if isinstance(field, LabelField):
        return _label(node, field, resource)
    if isinstance(field, SpecField):
        return _spec(node, field, resource)
    if isinstance(field, ConditionField | ConditionSubField):
        return _condition(node, field, resource)
    assert_never(field)


def _column(field: ColumnField, resource: dict[str, Any]) -> Any:
    name = field.column
    if name in _OWNER_FIELDS:
        owner = resource.get("owner_references") or {}
        return owner.get(_OWNER_FIELDS[name])
    if name == "phase":
        return (resource.get("status") or {}).get("phase")
    value = resource.get(name)
    if value is not None and field.type is ColumnType.TIMESTAMP:
        return datetime.fromisoformat(value)
    return value


def _label(node: Predicate, field: LabelField, resource: dict[str, Any]) -> Truth:
    labels = resource.get("labels") or {}
    if isinstance(node, Compare) and node.op is Op.EQ:
        return field.key in labels and labels[field.key] == node.value
    if isinstance(node, IsNull):
        return (field.key in labels) is node.negated
    return _apply(node, _text_form(labels[field.key]) if field.key in labels else None)


_MISSING: Final = object()


def _spec_value(path: tuple[str, ...], spec: Any) -> Any:
    """`spec #> path`: the JSON value at the path, or _MISSING."""
    current = spec
    for segment in path:
        if isinstance(current, dict) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            return _MISSING
    return current


def _spec(node: Predicate, field: SpecField, resource: dict[str, Any]) -> Truth:
    value = _spec_value(field.path, resource.get("spec"))
    if isinstance(node, Compare) and isinstance(node.value, bool):
        if value is _MISSING:
            return None
        equal = isinstance(value, bool) and value is node.value
        return equal if node.op is Op.EQ else not equal
    sample = _sample(node)
    if isinstance(sample, int | Decimal) and not isinstance(sample, bool):
        number = _number(value)
        return _apply(node, number, numeric=True)
    # #>> gives NULL for a missing path and for JSON null.
    text = None if value is _MISSING or value is None else _text_form(value)
    return _apply(node, text)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def _sample(node: Predicate) -> Any:
    if isinstance(node, Compare):
        return node.value
    if isinstance(node, InList):
        return node.values[0]
    if isinstance(node, Between):
        return node.low
    return None


def _condition(
    node: Predicate, field: ConditionField | ConditionSubField, resource: dict[str, Any]
) -> Truth:
    conditions = (resource.get("status") or {}).get("conditions") or []
    found = next((c for c in conditions if c.get("type") == field.type), None)
    if isinstance(node, IsNull):
        return (found is not None) is node.negated
    if found is None:
        return False
    if isinstance(field, ConditionField):
        value: Any = found.get("status")
    else:
        raw = found.get(field.sub.value)
        value = raw if isinstance(raw, int) or raw is None else datetime.fromisoformat(raw)
    return _apply(node, value) is True


def _apply(node: Predicate, value: Any, *, numeric: bool = False) -> Truth:
    """`node`'s operator applied to `value` (None is SQL NULL)."""
    if isinstance(node, IsNull):
        return (value is None) is not node.negated
    if value is None:
        return None
    if isinstance(node, Compare):
        return _compare(value, node.op, _operand(node.value, numeric=numeric))
    if isinstance(node, InList):
        found = any(value == _operand(v, numeric=numeric) for v in node.values)
        return found is not node.negated
    if isinstance(node, Between):
        low, high = _operand(node.low, numeric=numeric), _operand(node.high, numeric=numeric)
        inside = bool(low <= value <= high)
        return inside is not node.negated
    if isinstance(node, Like):
        found = _like(node.pattern, node.case_insensitive).fullmatch(value) is not None
        return found is not node.negated
    assert_never(node)


def _operand(value: Any, *, numeric: bool) -> Any:
    return Decimal(value) if numeric else value


def _compare(left: Any, op: Op, right: Any) -> bool:
    if op is Op.EQ:
        return bool(left == right)
    if op is Op.NE:
        return bool(left != right)
    if op is Op.LT:
        return bool(left < right)
    if op is Op.LE:
        return bool(left <= right)
    if op is Op.GT:
        return bool(left > right)
    return bool(left >= right)


def _like(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    """PostgreSQL LIKE (`%`, `_`, backslash escapes) as an anchored regular expression."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if case_insensitive else 0)
    return re.compile("".join(out), flags)


def _text_form(value: Any) -> str:
    """PostgreSQL's text form of a jsonb value at the top level (`->>`, `#>>`)."""
    if isinstance(value, str):
        return value
    return _jsonb_text(value)


def _jsonb_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return _numeric_text(Decimal(value))
    if isinstance(value, str):
        return msgspec.json.encode(value).decode()
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb_text(v) for v in value) + "]"
    # jsonb keeps object keys shortest first, then in byte order.
    keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
    return "{" + ", ".join(f"{_jsonb_text(k)}: {_jsonb_text(value[k])}" for k in keys) + "}"


def _numeric_text(number: Decimal) -> str:
    text = format(number, "f")
    return text.removeprefix("-") if number.is_zero() else text
