"""The TSL search language and list ordering: text in, validated values out.

`parse_search` turns the `search` query parameter into a small, frozen AST whose fields are
already resolved against the field table of the reference (§6.3) and whose values are already
typed (`datetime` for timestamps, `int` for integers, `Decimal` for fractional numbers), so the
storage layer only has to render SQL. `parse_order` does the same for the `order` parameter.

Grammar (keywords are case-insensitive; precedence: `()` > comparison > `not` > `and` > `or`)::

    expr       := expr 'or' expr | expr 'and' expr | 'not' expr | '(' expr ')' | predicate
    predicate  := FIELD op value
                | FIELD ['not'] 'in' ( '[' values ']' | '(' values ')' )
                | FIELD ['not'] 'between' value 'and' value
                | FIELD 'is' ['not'] 'null'
                | FIELD ['not'] ('like' | 'ilike') value
    op         := '=' | '!=' | '<' | '<=' | '>' | '>='
    value      := 'single-quoted string' ('' escapes a quote) | number | 'true' | 'false'
    FIELD      := [A-Za-z_][A-Za-z0-9_-]* ('.' [A-Za-z0-9_][A-Za-z0-9_/-]*)*

A `/` may appear after the first segment, so Kubernetes label keys read as written:
`labels.app.kubernetes.io/name = 'web'` (the key is everything after `labels.`).

Every error is a `BadRequest` (HYPERFLEET-VAL-005) whose detail quotes at most the user's own
tokens; nothing here knows any SQL.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from lark import Lark, Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from hyperfleet.domain.label_keys import label_key_problem
from hyperfleet.domain.limits import INT32_MAX, INT32_MIN
from hyperfleet.errors import BadRequest, Violation

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_QUERY_LENGTH: Final = 4096
"""Longest accepted `search` value, in characters."""

MAX_DEPTH: Final = 32
"""Deepest accepted nesting of `and` / `or` / `not` (parentheses alone do not count)."""

INVALID_FIELD: Final = "invalid field in search or order query"
NOT_WITH_LABELS: Final = "NOT operator is not supported with label queries"
NOT_WITH_CONDITIONS: Final = "NOT operator is not supported with condition queries"
_PARSE_FAILED: Final = "failed to parse search query: "

# Fractional and exponent numbers must stay well inside PostgreSQL's numeric range.
_MAX_DECIMAL_EXPONENT: Final = 1000


# --------------------------------------------------------------------------------------------
# AST


class ColumnType(StrEnum):
    """How a plain column of `resources` is compared."""

    TEXT = "text"
    UUID = "uuid"
    INTEGER = "integer"
    TIMESTAMP = "timestamp"


COLUMNS: Final[dict[str, ColumnType]] = {
    "id": ColumnType.UUID,
    "kind": ColumnType.TEXT,
    "name": ColumnType.TEXT,
    "href": ColumnType.TEXT,
    "owner_id": ColumnType.UUID,
    "owner_kind": ColumnType.TEXT,
    "owner_href": ColumnType.TEXT,
    "created_by": ColumnType.TEXT,
    "updated_by": ColumnType.TEXT,
    "deleted_by": ColumnType.TEXT,
    "generation": ColumnType.INTEGER,
    "created_time": ColumnType.TIMESTAMP,
    "updated_time": ColumnType.TIMESTAMP,
    "deleted_time": ColumnType.TIMESTAMP,
}
"""The columns a search may filter on and a list may be ordered by."""


class ConditionSub(StrEnum):
    """Searchable sub-fields of an aggregated condition."""

    LAST_UPDATED_TIME = "last_updated_time"
    LAST_TRANSITION_TIME = "last_transition_time"
    OBSERVED_GENERATION = "observed_generation"


class Op(StrEnum):
    """Comparison operators, spelled as in the query."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True, slots=True)
class ColumnField:
    """A plain column of `resources`, e.g. `name` or `created_time`."""

    column: str
    type: ColumnType

    @property
    def name(self) -> str:
        return self.column


@dataclass(frozen=True, slots=True)
class LabelField:
    """`labels.<key>`; the key is everything after the first dot."""

    key: str

    @property
    def name(self) -> str:
        return f"labels.{self.key}"


@dataclass(frozen=True, slots=True)
class SpecField:
    """`spec.<a>.<b>…`; each segment matches `^[a-z0-9_]+$`."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return "spec." + ".".join(self.path)


@dataclass(frozen=True, slots=True)
class ConditionField:
    """`status.conditions.<Type>`: the status (True/False/Unknown) of an aggregated condition."""

    type: str

    @property
    def name(self) -> str:
        return f"status.conditions.{self.type}"


@dataclass(frozen=True, slots=True)
class ConditionSubField:
    """`status.conditions.<Type>.<sub>`: a time or generation of an aggregated condition."""

    type: str
    sub: ConditionSub

    @property
    def name(self) -> str:
        return f"status.conditions.{self.type}.{self.sub}"


Field = ColumnField | LabelField | SpecField | ConditionField | ConditionSubField

Scalar = str | int | Decimal | bool | datetime
"""A typed literal: `bool` for true/false, `int` for integer literals, `Decimal` for other
numbers, `datetime` (aware, UTC) for timestamps on time fields, `str` otherwise."""


@dataclass(frozen=True, slots=True)
class Compare:
    """`field <op> value`."""

    field: Field
    op: Op
    value: Scalar


@dataclass(frozen=True, slots=True)
class InList:
    """`field [not] in (v1, v2, …)`; values are non-empty and all of one type."""

    field: Field
    values: tuple[Scalar, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Between:
    """`field [not] between low and high` (inclusive); both bounds have one type."""

    field: Field
    low: Scalar
    high: Scalar
    negated: bool = False


@dataclass(frozen=True, slots=True)
class IsNull:
    """`field is [not] null`."""

    field: Field
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Like:
    """`field [not] like|ilike 'pattern'` (`%` and `_` wildcards, backslash escapes)."""

    field: Field
    pattern: str
    case_insensitive: bool = False
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction of two or more operands (a chain `a and b and c` is one node)."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction of two or more operands (a chain `a or b or c` is one node)."""

    operands: tuple[Node, ...]


Predicate = Compare | InList | Between | IsNull | Like
Node = Predicate | Not | And | Or


@dataclass(frozen=True, slots=True)
class OrderTerm:
    """One `order` entry: a column of `COLUMNS` and a direction."""

    field: str
    descending: bool = False


DEFAULT_ORDER: Final = (OrderTerm("created_time", descending=True),)


# --------------------------------------------------------------------------------------------
# Grammar

# Keywords carry priority 2 and refuse to match the start of a longer name, so `android`,
# `notes` or `is_ready` stay field names while `and`, `not`, `is` are keywords.
_KW = r"(?![A-Za-z0-9_.\-\/])/i"
_GRAMMAR: Final = rf"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> not_
         | atom
?atom: predicate
     | "(" or_expr ")"
predicate: FIELD OP value                         -> compare
         | FIELD _IN list                         -> in_
         | FIELD _NOT _IN list                    -> not_in
         | FIELD _BETWEEN value _AND value        -> between
         | FIELD _NOT _BETWEEN value _AND value   -> not_between
         | FIELD _IS _NULL                        -> is_null
         | FIELD _IS _NOT _NULL                   -> is_not_null
         | FIELD LIKE value                       -> like
         | FIELD _NOT LIKE value                  -> not_like
list: "[" value ("," value)* "]"
    | "(" value ("," value)* ")"
?value: STRING | NUMBER | TRUE | FALSE

_OR.2: /or{_KW}
_AND.2: /and{_KW}
_NOT.2: /not{_KW}
_IN.2: /in{_KW}
_BETWEEN.2: /between{_KW}
_IS.2: /is{_KW}
_NULL.2: /null{_KW}
LIKE.2: /i?like{_KW}
TRUE.2: /true{_KW}
FALSE.2: /false{_KW}
FIELD: /[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_\-\/]*)*/
STRING: /'(?:[^']|'')*'/
NUMBER: /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/
OP: /<=|>=|!=|=|<|>/
%ignore /[ \t\r\n]+/
"""

_PARSER: Final = Lark(_GRAMMAR, parser="lalr", lexer="basic")

_TERMINAL_NAMES: Final = {
    "FIELD": "a field name",
    "OP": "a comparison operator",
    "STRING": "a value",
    "NUMBER": "a value",
    "TRUE": "a value",
    "FALSE": "a value",
    "LIKE": "'like' or 'ilike'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "$END": "end of query",
}
"""Friendly names for lark terminals; keywords (`_AND` …) are spelled from their names."""

_ECHO_LIMIT: Final = 40
_ORDER_ENTRY: Final = re.compile(r"([a-z_][a-z0-9_]*)(?:\s+(asc|desc))?")


# --------------------------------------------------------------------------------------------
# Public API


def parse_search(text: str) -> Node | None:
    """Parse and validate a `search` expression; `None` when it is empty or blank.

    Raises `BadRequest` for syntax errors ("failed to parse search query: …"), unknown fields
    ("invalid field in search or order query"), values of the wrong type for their field,
    operators a field does not support, and `not` around label or condition queries.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequest(f"{_PARSE_FAILED}query is longer than {MAX_QUERY_LENGTH} characters")
    if "\x00" in text:
        raise BadRequest(f"{_PARSE_FAILED}query contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{_PARSE_FAILED}query is not valid UTF-8") from None
    if not text.strip():
        return None
    return _parse(text)


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> Node:
    """The AST of a checked, non-blank expression (errors are raised, never cached).

    Cached because the AST is frozen and clients repeat their filters (a Sentinel's, a
    console page's): parsing cost a list request more CPU than joining its hundred bodies.
    """
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise BadRequest(_PARSE_FAILED + _describe_syntax_error(exc)) from None
    except LarkError:  # pragma: no cover - lark raises UnexpectedInput for every input error
        raise BadRequest(f"{_PARSE_FAILED}invalid syntax") from None
    if _depth(tree) > MAX_DEPTH:
        raise BadRequest(f"{_PARSE_FAILED}expression is nested more than {MAX_DEPTH} levels deep")
    return _node(tree, under_not=False)


def parse_order(values: Sequence[str]) -> tuple[OrderTerm, ...]:
    r"""Parse the raw `order` query values (each may be a comma list) into order terms.

    Each entry must match `^[a-z_][a-z0-9_]*(\s+(asc|desc))?$` (else "invalid order format
    '<entry>'") and name a column of `COLUMNS` (else "invalid field in search or order query").
    No entries at all means `DEFAULT_ORDER`; a repeated field keeps its first direction.
    """
    raw = [values] if isinstance(values, str) else values
    terms: list[OrderTerm] = []
    seen: set[str] = set()
    for value in raw:
        for part in value.split(","):
            entry = part.strip()
            if not entry:
                continue
            match = _ORDER_ENTRY.fullmatch(entry)
            if match is None:
                raise BadRequest(f"invalid order format '{_echo(entry)}'")
            name, direction = match.group(1), match.group(2)
            if name not in COLUMNS:
                raise BadRequest(INVALID_FIELD, violations=[_unknown_field("order", name)])
            if name not in seen:
                seen.add(name)
                terms.append(OrderTerm(name, descending=direction == "desc"))
    return tuple(terms) if terms else DEFAULT_ORDER


# --------------------------------------------------------------------------------------------
# Syntax errors


def _describe_syntax_error(exc: UnexpectedInput) -> str:
    if isinstance(exc, UnexpectedCharacters):
        where = _where(exc.line, exc.column)
        if exc.char == "'":
            return f"unterminated string {where}"
        return f"unexpected character {exc.char!r} {where}"
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        found = f"unexpected '{_echo(str(token))}' {_where(token.line, token.column)}"
        return found + _expected(exc.expected)
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        return "unexpected end of query" + _expected({str(t) for t in exc.expected})
    return "invalid syntax"  # pragma: no cover - the three cases above are all lark raises


def _where(line: int | None, column: int | None) -> str:
    if line is None or line == 1:
        return f"at position {column}"
    return f"at line {line}, column {column}"


def _expected(terminals: set[str]) -> str:
    names = sorted({_TERMINAL_NAMES.get(t, f"'{t.strip('_').lower()}'") for t in terminals})
    if len(names) > 1:
        return f"; expected one of {', '.join(names)}"
    return f"; expected {names[0]}" if names else ""


def _echo(text: str) -> str:
    return text if len(text) <= _ECHO_LIMIT else text[:_ECHO_LIMIT] + "…"


def _depth(tree: Tree[Token]) -> int:
    """Nesting depth of logical operators, computed without recursion."""
    deepest = 0
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _LOGICAL:
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in node.children if isinstance(child, Tree))
    return deepest


_LOGICAL: Final = frozenset({"or_expr", "and_expr", "not_"})


# --------------------------------------------------------------------------------------------
# Tree → AST (recursion is bounded by MAX_DEPTH)


def _node(tree: Tree[Token], *, under_not: bool) -> Node:
    kind = str(tree.data)
    if kind == "or_expr":
        return Or(tuple(_node(_tree(c), under_not=under_not) for c in tree.children))
    if kind == "and_expr":
        return And(tuple(_node(_tree(c), under_not=under_not) for c in tree.children))
    if kind == "not_":
        return Not(_node(_tree(tree.children[0]), under_not=True))
    return _predicate(kind, tree.children, under_not=under_not)


def _tree(child: Tree[Token] | Token) -> Tree[Token]:
    if not isinstance(child, Tree):  # pragma: no cover - the grammar never puts bare tokens here
        raise BadRequest(f"{_PARSE_FAILED}invalid syntax")
    return child


def _predicate(kind: str, children: list[Tree[Token] | Token], *, under_not: bool) -> Predicate:
    field = _resolve_field(str(children[0]))
    if under_not and isinstance(field, LabelField):
        raise BadRequest(NOT_WITH_LABELS)
    if under_not and isinstance(field, ConditionField | ConditionSubField):
        raise BadRequest(NOT_WITH_CONDITIONS)
    args = children[1:]
    if kind == "compare":
        return _compare(field, Op(str(args[0])), _token(args[1]))
    if kind in {"in_", "not_in"}:
        items = _tree(args[0]).children
        return _in_list(field, [_token(i) for i in items], negated=kind == "not_in")
    if kind in {"between", "not_between"}:
        return _between(field, _token(args[0]), _token(args[1]), negated=kind == "not_between")
    if kind in {"is_null", "is_not_null"}:
        negated = kind == "is_not_null"
        _check_operator(field, "is not null" if negated else "is null")
        return IsNull(field, negated=negated)
    return _like(field, _token(args[0]), _token(args[1]), negated=kind == "not_like")


def _token(child: Tree[Token] | Token) -> Token:
    if not isinstance(child, Token):  # pragma: no cover - the grammar never nests values
        raise BadRequest(f"{_PARSE_FAILED}invalid syntax")
    return child


# --------------------------------------------------------------------------------------------
# Field resolution

_SPEC_SEGMENT: Final = re.compile(r"[a-z0-9_]+")
_CONDITION_TYPE: Final = re.compile(r"[A-Z][a-zA-Z0-9]*")
_CONDITION_PREFIX_LEN: Final = 2  # "status", "conditions"


def _resolve_field(name: str) -> Field:
    """Map a dotted field name to its field, or raise "invalid field in search or order query"."""
    head, _, rest = name.partition(".")
    if not rest:
        if name in COLUMNS:
            return ColumnField(name, COLUMNS[name])
    elif head == "labels":
        problem = label_key_problem(rest)
        if problem is None:
            return LabelField(rest)
        raise BadRequest(
            INVALID_FIELD,
            violations=[Violation.with_value("search", problem, _echo(rest), "pattern")],
        )
    elif head == "spec":
        path = tuple(rest.split("."))
        if all(_SPEC_SEGMENT.fullmatch(segment) for segment in path):
            return SpecField(path)
    elif head == "status":
        if rest == "phase":
            return ColumnField("phase", ColumnType.TEXT)
        field = _condition_field(rest.split("."))
        if field is not None:
            return field
    raise BadRequest(INVALID_FIELD, violations=[_unknown_field("search", name)])


def _condition_field(parts: list[str]) -> ConditionField | ConditionSubField | None:
    if parts[0] != "conditions" or len(parts) not in {2, 3}:
        return None
    type_ = parts[1]
    if not _CONDITION_TYPE.fullmatch(type_):
        return None
    if len(parts) == _CONDITION_PREFIX_LEN:
        return ConditionField(type_)
    try:
        return ConditionSubField(type_, ConditionSub(parts[2]))
    except ValueError:
        return None


def _unknown_field(parameter: str, name: str) -> Violation:
    return Violation.with_value(parameter, f"unknown field '{_echo(name)}'", _echo(name))


# --------------------------------------------------------------------------------------------
# Operators per field

_COMPARISONS: Final = frozenset(op.value for op in Op)
_NULL_CHECKS: Final = frozenset({"is null", "is not null"})
_ORDERED_OPERATORS: Final = _COMPARISONS | _NULL_CHECKS | {"in", "not in", "between", "not between"}
_ALL_OPERATORS: Final = _ORDERED_OPERATORS | {"like", "not like", "ilike", "not ilike"}
_COLUMN_OPERATORS: Final = {
    ColumnType.TEXT: _ALL_OPERATORS,
    ColumnType.UUID: _ALL_OPERATORS,
    ColumnType.INTEGER: _ORDERED_OPERATORS,
    ColumnType.TIMESTAMP: _ORDERED_OPERATORS,
}


def _check_operator(field: Field, operator: str) -> None:
    if isinstance(field, ColumnField):
        allowed = _COLUMN_OPERATORS[field.type]
    elif isinstance(field, LabelField | SpecField):
        allowed = _ALL_OPERATORS
    elif isinstance(field, ConditionField):
        allowed = frozenset({"="})
    else:
        allowed = _COMPARISONS
    if operator not in allowed:
        raise BadRequest(f"operator '{operator}' is not supported for field '{field.name}'")


def _compare(field: Field, op: Op, token: Token) -> Compare:
    _check_operator(field, op.value)
    value = _value(field, token)
    if isinstance(value, bool) and op not in {Op.EQ, Op.NE}:
        raise BadRequest(f"operator '{op}' is not supported with boolean values")
    return Compare(field, op, value)


def _in_list(field: Field, tokens: list[Token], *, negated: bool) -> InList:
    _check_operator(field, "not in" if negated else "in")
    values = tuple(_value(field, t) for t in tokens)
    if any(isinstance(v, bool) for v in values):
        raise BadRequest("operator 'in' is not supported with boolean values")
    if len({_kind_of(v) for v in values}) > 1:
        raise BadRequest("values in an 'in' list must all be of the same type")
    return InList(field, values, negated=negated)


def _between(field: Field, low: Token, high: Token, *, negated: bool) -> Between:
    _check_operator(field, "not between" if negated else "between")
    lo, hi = _value(field, low), _value(field, high)
    if isinstance(lo, bool) or isinstance(hi, bool):
        raise BadRequest("operator 'between' is not supported with boolean values")
    if _kind_of(lo) != _kind_of(hi):
        raise BadRequest("the bounds of 'between' must be of the same type")
    return Between(field, lo, hi, negated=negated)


def _like(field: Field, keyword: Token, token: Token, *, negated: bool) -> Like:
    case_insensitive = str(keyword).lower() == "ilike"
    operator = ("not " if negated else "") + ("ilike" if case_insensitive else "like")
    _check_operator(field, operator)
    if token.type != "STRING":
        raise BadRequest(f"operator '{operator}' expects a string pattern")
    pattern = _unquote(token)
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise BadRequest(f"the pattern of '{operator}' must not end with a lone backslash")
    return Like(field, pattern, case_insensitive=case_insensitive, negated=negated)


def _kind_of(value: Scalar) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal):
        return "number"
    return "timestamp" if isinstance(value, datetime) else "string"


# --------------------------------------------------------------------------------------------
# Values per field

_CONDITION_STATUSES: Final = frozenset({"True", "False", "Unknown"})
_INTEGER: Final = re.compile(r"-?[0-9]+")


def _value(field: Field, token: Token) -> Scalar:
    if isinstance(field, SpecField):
        return _spec_value(token)
    if isinstance(field, ConditionField):
        if token.type == "STRING" and _unquote(token) in _CONDITION_STATUSES:
            return _unquote(token)
        raise BadRequest(f"field '{field.name}' expects 'True', 'False' or 'Unknown'")
    if isinstance(field, ConditionSubField):
        kind = (
            ColumnType.INTEGER
            if field.sub is ConditionSub.OBSERVED_GENERATION
            else ColumnType.TIMESTAMP
        )
    else:
        kind = field.type if isinstance(field, ColumnField) else ColumnType.TEXT
    if kind is ColumnType.INTEGER:
        return _int32(field, token)
    if kind is ColumnType.TIMESTAMP:
        # Condition times are RFC3339 only; the time columns also take a plain date.
        return _timestamp(field, token, allow_date=isinstance(field, ColumnField))
    return _string(field, token)


def _unquote(token: Token) -> str:
    return str(token)[1:-1].replace("''", "'")


def _string(field: Field, token: Token) -> str:
    if token.type != "STRING":
        raise BadRequest(f"field '{field.name}' expects a string")
    return _unquote(token)


def _int32(field: Field, token: Token) -> int:
    text = str(token)
    if token.type != "NUMBER" or not _INTEGER.fullmatch(text):
        raise BadRequest(f"field '{field.name}' expects an integer")
    value = int(text)  # at most MAX_QUERY_LENGTH digits, below Python's conversion limit
    if not INT32_MIN <= value <= INT32_MAX:
        raise BadRequest(f"value {_echo(text)} is out of range for field '{field.name}'")
    return value


def _spec_value(token: Token) -> str | int | Decimal | bool:
    if token.type == "STRING":
        return _unquote(token)
    if token.type in {"TRUE", "FALSE"}:
        return token.type == "TRUE"
    text = str(token)
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can even represent
        raise BadRequest(f"number {_echo(text)} is out of range") from None
    # Keep numbers well inside PostgreSQL's numeric range (scale and weight), zero included.
    exponent = number.adjusted() - len(number.as_tuple().digits) + 1
    if exponent < -_MAX_DECIMAL_EXPONENT or number.adjusted() > _MAX_DECIMAL_EXPONENT:
        raise BadRequest(f"number {_echo(text)} is out of range")
    return int(text) if _INTEGER.fullmatch(text) else number


_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_MAX_OFFSET_HOURS: Final = 23
_MAX_OFFSET_MINUTES: Final = 59


def _timestamp(field: Field, token: Token, *, allow_date: bool) -> datetime:
    expected = (
        "an RFC3339 timestamp or a date (YYYY-MM-DD)" if allow_date else "an RFC3339 timestamp"
    )
    problem = f"field '{field.name}' expects {expected}"
    if token.type != "STRING":
        raise BadRequest(problem)
    text = _unquote(token)
    try:
        value = _parse_rfc3339(text, allow_date=allow_date)
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise BadRequest(problem)
    return value


def _parse_rfc3339(text: str, *, allow_date: bool) -> datetime | None:
    """Parse an RFC3339 date-time (or a full-date) into an aware UTC datetime.

    Fractions beyond microseconds are truncated; a date means midnight UTC.
    """
    date = _DATE.fullmatch(text) if allow_date else None
    if date is not None:
        year, month, day = (int(g) for g in date.groups())
        return datetime(year, month, day, tzinfo=UTC)
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    offset = match.group(8)
    if offset in {"Z", "z"}:
        tz = UTC
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > _MAX_OFFSET_HOURS or minutes > _MAX_OFFSET_MINUTES:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-delta if offset[0] == "-" else delta)
    local = datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)
    return local.astimezone(UTC)
