"""TSL search parsing and `order` parsing (reference §6.2, §6.3): text in, resolved AST out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperfleet.domain.search import (
    COLUMNS,
    DEFAULT_ORDER,
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
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
    Not,
    Op,
    Or,
    OrderTerm,
    SpecField,
    parse_order,
    parse_search,
)
from hyperfleet.errors import BadRequest

NAME = ColumnField("name", ColumnType.TEXT)
ID = ColumnField("id", ColumnType.UUID)
KIND = ColumnField("kind", ColumnType.TEXT)
GENERATION = ColumnField("generation", ColumnType.INTEGER)
CREATED = ColumnField("created_time", ColumnType.TIMESTAMP)
DELETED = ColumnField("deleted_time", ColumnType.TIMESTAMP)
READY = ConditionField("Ready")
READY_UPDATED = ConditionSubField("Ready", ConditionSub.LAST_UPDATED_TIME)
READY_GEN = ConditionSubField("Ready", ConditionSub.OBSERVED_GENERATION)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


VALID: list[tuple[str, object]] = [
    # comparisons on columns
    ("name = 'prod'", Compare(NAME, Op.EQ, "prod")),
    ("name != 'prod'", Compare(NAME, Op.NE, "prod")),
    ("name < 'm'", Compare(NAME, Op.LT, "m")),
    ("name <= 'm'", Compare(NAME, Op.LE, "m")),
    ("name > 'm'", Compare(NAME, Op.GT, "m")),
    ("name >= 'm'", Compare(NAME, Op.GE, "m")),
    ("name='prod'", Compare(NAME, Op.EQ, "prod")),
    ("name = 'it''s'", Compare(NAME, Op.EQ, "it's")),
    ("name = ''", Compare(NAME, Op.EQ, "")),
    ("name = 'a and b or not c'", Compare(NAME, Op.EQ, "a and b or not c")),
    ("name = 'x'' OR 1=1 --'", Compare(NAME, Op.EQ, "x' OR 1=1 --")),
    ("name = 'naïve ☃'", Compare(NAME, Op.EQ, "naïve ☃")),
    ("id = '0190a4c2'", Compare(ID, Op.EQ, "0190a4c2")),
    ("kind = 'Cluster'", Compare(KIND, Op.EQ, "Cluster")),
    ("owner_href != ''", Compare(ColumnField("owner_href", ColumnType.TEXT), Op.NE, "")),
    ("generation = 3", Compare(GENERATION, Op.EQ, 3)),
    ("generation >= -1", Compare(GENERATION, Op.GE, -1)),
    ("generation>-1", Compare(GENERATION, Op.GT, -1)),
    ("generation < 2147483647", Compare(GENERATION, Op.LT, 2147483647)),
    ("generation > -2147483648", Compare(GENERATION, Op.GT, -2147483648)),
    # timestamps and dates on time columns
    (
        "created_time > '2024-05-01T10:00:00Z'",
        Compare(CREATED, Op.GT, datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ),
    (
        "created_time > '2024-05-01T10:00:00+02:00'",
        Compare(CREATED, Op.GT, datetime(2024, 5, 1, 8, tzinfo=UTC)),
    ),
    (
        "created_time > '2024-05-01t10:00:00.123456789-01:30'",
        Compare(CREATED, Op.GT, datetime(2024, 5, 1, 11, 30, 0, 123456, tzinfo=UTC)),
    ),
    (
        "created_time <= '2024-05-01 10:00:00.5z'",
        Compare(CREATED, Op.LE, datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ),
    ("created_time >= '2024-05-01'", Compare(CREATED, Op.GE, datetime(2024, 5, 1, tzinfo=UTC))),
    ("deleted_time is null", IsNull(DELETED)),
    ("deleted_time IS NOT NULL", IsNull(DELETED, negated=True)),
    (
        "updated_time between '2024-01-01' and '2024-12-31T23:59:59Z'",
        Between(
            ColumnField("updated_time", ColumnType.TIMESTAMP),
            datetime(2024, 1, 1, tzinfo=UTC),
            datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
        ),
    ),
    # lists, between, like
    ("name in ('a', 'b')", InList(NAME, ("a", "b"))),
    ("name in ['a','b']", InList(NAME, ("a", "b"))),
    ("name not in ('a')", InList(NAME, ("a",), negated=True)),
    ("generation in (1, 2, 3)", InList(GENERATION, (1, 2, 3))),
    ("generation between 1 and 5", Between(GENERATION, 1, 5)),
    ("generation not between 1 and 5", Between(GENERATION, 1, 5, negated=True)),
    ("name like 'prod-%'", Like(NAME, "prod-%")),
    ("name ilike 'PROD-%'", Like(NAME, "PROD-%", case_insensitive=True)),
    ("name not like '%x'", Like(NAME, "%x", negated=True)),
    ("name not ilike '%x'", Like(NAME, "%x", case_insensitive=True, negated=True)),
    ("id like '0190%'", Like(ID, "0190%")),
    ("name like 'a\\%b'", Like(NAME, "a\\%b")),
    ("name like 'a\\\\'", Like(NAME, "a\\\\")),
    # labels
    ("labels.env = 'prod'", Compare(LabelField("env"), Op.EQ, "prod")),
    ("labels.env != 'prod'", Compare(LabelField("env"), Op.NE, "prod")),
    ("labels.app.kubernetes.io = 'x'", Compare(LabelField("app.kubernetes.io"), Op.EQ, "x")),
    ("labels.my-team = 'x'", Compare(LabelField("my-team"), Op.EQ, "x")),
    ("labels.Tier in ('a', 'b')", InList(LabelField("Tier"), ("a", "b"))),
    ("labels.env is null", IsNull(LabelField("env"))),
    ("labels.env is not null", IsNull(LabelField("env"), negated=True)),
    ("labels.env like 'pr%'", Like(LabelField("env"), "pr%")),
    ("labels.env not in ('a')", InList(LabelField("env"), ("a",), negated=True)),
    # spec paths
    ("spec.region = 'us-east-1'", Compare(SpecField(("region",)), Op.EQ, "us-east-1")),
    ("spec.a.b.c_d = 'x'", Compare(SpecField(("a", "b", "c_d")), Op.EQ, "x")),
    ("spec.nodes.0.name = 'x'", Compare(SpecField(("nodes", "0", "name")), Op.EQ, "x")),
    ("spec.replicas >= 3", Compare(SpecField(("replicas",)), Op.GE, 3)),
    ("spec.ratio < 0.5", Compare(SpecField(("ratio",)), Op.LT, Decimal("0.5"))),
    ("spec.ratio < -1.5e3", Compare(SpecField(("ratio",)), Op.LT, Decimal("-1.5e3"))),
    ("spec.enabled = true", Compare(SpecField(("enabled",)), Op.EQ, value=True)),
    ("spec.enabled != FALSE", Compare(SpecField(("enabled",)), Op.NE, value=False)),
    ("spec.replicas in (1, 2)", InList(SpecField(("replicas",)), (1, 2))),
    ("spec.size between 1 and 2.5", Between(SpecField(("size",)), 1, Decimal("2.5"))),
    ("spec.zone between 'a' and 'c'", Between(SpecField(("zone",)), "a", "c")),
    ("spec.region is null", IsNull(SpecField(("region",)))),
    ("spec.region ilike 'US-%'", Like(SpecField(("region",)), "US-%", case_insensitive=True)),
    ("spec.when = '2024-01-01'", Compare(SpecField(("when",)), Op.EQ, "2024-01-01")),
    # conditions
    ("status.conditions.Ready = 'True'", Compare(READY, Op.EQ, "True")),
    ("status.conditions.Ready='False'", Compare(READY, Op.EQ, "False")),
    ("status.conditions.Ready = 'Unknown'", Compare(READY, Op.EQ, "Unknown")),
    (
        "status.conditions.DnsSuccessful2 = 'True'",
        Compare(ConditionField("DnsSuccessful2"), Op.EQ, "True"),
    ),
    (
        "status.conditions.Ready.last_updated_time < '2024-05-01T10:00:00Z'",
        Compare(READY_UPDATED, Op.LT, datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ),
    (
        "status.conditions.Ready.last_transition_time >= '2024-05-01T10:00:00+00:00'",
        Compare(
            ConditionSubField("Ready", ConditionSub.LAST_TRANSITION_TIME),
            Op.GE,
            datetime(2024, 5, 1, 10, tzinfo=UTC),
        ),
    ),
    ("status.conditions.Ready.observed_generation != 2", Compare(READY_GEN, Op.NE, 2)),
    # boolean structure and precedence
    (
        "name = 'a' and kind = 'b'",
        And((Compare(NAME, Op.EQ, "a"), Compare(KIND, Op.EQ, "b"))),
    ),
    (
        "name = 'a' AND kind = 'b' And generation = 1",
        And((Compare(NAME, Op.EQ, "a"), Compare(KIND, Op.EQ, "b"), Compare(GENERATION, Op.EQ, 1))),
    ),
    (
        "name = 'a' or name = 'b' and kind = 'c'",
        Or(
            (Compare(NAME, Op.EQ, "a"), And((Compare(NAME, Op.EQ, "b"), Compare(KIND, Op.EQ, "c"))))
        ),
    ),
    (
        "(name = 'a' or name = 'b') and kind = 'c'",
        And(
            (Or((Compare(NAME, Op.EQ, "a"), Compare(NAME, Op.EQ, "b"))), Compare(KIND, Op.EQ, "c"))
        ),
    ),
    (
        "not name = 'a' and kind = 'c'",
        And((Not(Compare(NAME, Op.EQ, "a")), Compare(KIND, Op.EQ, "c"))),
    ),
    (
        "NOT (name = 'a' OR kind = 'c')",
        Not(Or((Compare(NAME, Op.EQ, "a"), Compare(KIND, Op.EQ, "c")))),
    ),
    ("not not name = 'a'", Not(Not(Compare(NAME, Op.EQ, "a")))),
    ("((((name = 'a'))))", Compare(NAME, Op.EQ, "a")),
    ("  name\t=\n'a'  ", Compare(NAME, Op.EQ, "a")),
    (
        "generation between 1 and 2 and name = 'x'",
        And((Between(GENERATION, 1, 2), Compare(NAME, Op.EQ, "x"))),
    ),
    (
        "labels.env = 'p' and not name = 'x'",
        And((Compare(LabelField("env"), Op.EQ, "p"), Not(Compare(NAME, Op.EQ, "x")))),
    ),
    (
        (
            "status.conditions.Ready = 'True' and "
            "status.conditions.Ready.last_updated_time < '2024-05-01T10:00:00Z'"
        ),
        And(
            (
                Compare(READY, Op.EQ, "True"),
                Compare(READY_UPDATED, Op.LT, datetime(2024, 5, 1, 10, tzinfo=UTC)),
            )
        ),
    ),
    # keywords are case-insensitive and never swallow longer names
    ("spec.android = 'x'", Compare(SpecField(("android",)), Op.EQ, "x")),
    ("spec.notes IS NULL", IsNull(SpecField(("notes",)))),
    ("spec.in = 1", Compare(SpecField(("in",)), Op.EQ, 1)),
    ("labels.and = 'x'", Compare(LabelField("and"), Op.EQ, "x")),
    # Kubernetes label keys as written: DNS-subdomain prefix, '/', name (#7)
    ("labels.example.com/team = 'a'", Compare(LabelField("example.com/team"), Op.EQ, "a")),
    (
        "labels.app.kubernetes.io/name != 'web'",
        Compare(LabelField("app.kubernetes.io/name"), Op.NE, "web"),
    ),
    (
        "labels.app.kubernetes.io/name in ('a', 'b')",
        InList(LabelField("app.kubernetes.io/name"), ("a", "b")),
    ),
    (
        "labels.example.com/team not in ('a')",
        InList(LabelField("example.com/team"), ("a",), negated=True),
    ),
    ("labels.example.com/team is not null", IsNull(LabelField("example.com/team"), negated=True)),
    ("labels.example.com/team is null", IsNull(LabelField("example.com/team"))),
    ("labels.k8s.io/Name_1.x like 'a%'", Like(LabelField("k8s.io/Name_1.x"), "a%")),
    (
        "labels.example.com/team='a' and labels.b.io/c='d'",
        And(
            (
                Compare(LabelField("example.com/team"), Op.EQ, "a"),
                Compare(LabelField("b.io/c"), Op.EQ, "d"),
            )
        ),
    ),
    ("name NOT IN ('a')", InList(NAME, ("a",), negated=True)),
    ("name BETWEEN 'a' AND 'b'", Between(NAME, "a", "b")),
    ("name LiKe 'a%'", Like(NAME, "a%")),
]


@pytest.mark.parametrize(("query", "expected"), VALID, ids=[q for q, _ in VALID])
def test_valid_queries_parse_to_the_expected_ast(query: str, expected: object) -> None:
    assert parse_search(query) == expected


@pytest.mark.parametrize("query", ["", " ", "\t\n  "])
def test_blank_query_means_no_filter(query: str) -> None:
    assert parse_search(query) is None


PARSE = "failed to parse search query: "
INVALID_FIELD = "invalid field in search or order query"

INVALID: list[tuple[str, str]] = [
    # syntax
    ("name", PARSE + "unexpected end of query; expected one of 'between', 'in', 'is'"),
    ("name =", PARSE + "unexpected end of query; expected a value"),
    ("= 'a'", PARSE + "unexpected '=' at position 1; expected one of '(', 'not', a field name"),
    ("name = 'a", PARSE + "unterminated string at position 8"),
    ('name = "a"', PARSE + "unexpected character '\"' at position 8"),
    ("name = a", PARSE + "unexpected 'a' at position 8; expected a value"),
    ("name == 'a'", PARSE + "unexpected '=' at position 7; expected a value"),
    ("name = 'a' and", PARSE + "unexpected end of query; expected one of '(', 'not'"),
    ("name = 'a' or or name = 'b'", PARSE + "unexpected 'or' at position 15"),
    ("(name = 'a'", PARSE + "unexpected end of query; expected ')'"),
    ("name = 'a')", PARSE + "unexpected ')' at position 11"),
    ("()", PARSE + "unexpected ')' at position 2"),
    ("name in ()", PARSE + "unexpected ')' at position 10; expected a value"),
    ("name in ('a',)", PARSE + "unexpected ')' at position 14; expected a value"),
    ("name in 'a'", PARSE + "unexpected ''a'' at position 9"),
    ("name in ('a']", PARSE + "unexpected ']' at position 13"),
    ("name between 1", PARSE + "unexpected end of query; expected 'and'"),
    ("name is 'a'", PARSE + "unexpected ''a'' at position 9; expected one of 'not', 'null'"),
    ("name = null", PARSE + "unexpected 'null' at position 8; expected a value"),
    ("name is nul", PARSE + "unexpected 'nul' at position 9"),
    ("name = 'a' name = 'b'", PARSE + "unexpected 'name' at position 12"),
    ("name = 'a' && kind = 'b'", PARSE + "unexpected character '&' at position 12"),
    ("name = 'a' || kind = 'b'", PARSE + "unexpected character '|' at position 12"),
    ("name = 1.", PARSE + "unexpected character '.' at position 9"),
    ("name = .5", PARSE + "unexpected character '.' at position 8"),
    ("spec. = 'a'", PARSE + "unexpected character '.' at position 5"),
    ("name = 'a'\nand )", PARSE + "unexpected ')' at line 2, column 5"),
    ("not", PARSE + "unexpected end of query"),
    # SQL-injection-looking input never reaches SQL, and the message echoes no SQL of ours
    ("name = 'a'; DROP TABLE resources; --", PARSE + "unexpected character ';' at position 11"),
    ("name = 'a' -- comment", PARSE + "unexpected character '-' at position 12"),
    ("name = 'a' /* x */", PARSE + "unexpected character '/' at position 12"),
    ("name = 'a' OR 1=1", PARSE + "unexpected '1' at position 15; expected one of '(', 'not'"),
    ("1 = 1", PARSE + "unexpected '1' at position 1"),
    ("name = $1", PARSE + "unexpected character '$' at position 8"),
    ("name = 'a' union select 1", PARSE + "unexpected 'union' at position 12"),
    ("name = 'a' or exists(select 1)", PARSE + "unexpected '(' at position 21"),
    ("name = 'x\x00y'", PARSE + "query contains a NUL character"),
    ("\x00", PARSE + "query contains a NUL character"),
    ("name = 'x\ud800'", PARSE + "query is not valid UTF-8"),
    ("name = 'a' or " * 400 + "name = 'b'", PARSE + "query is longer than 4096 characters"),
    ("not " * (MAX_DEPTH + 1) + "name = 'a'", PARSE + "expression is nested more than 32 levels"),
    (
        "(name = 'a' and " * (MAX_DEPTH + 1) + "name = 'b'" + ")" * (MAX_DEPTH + 1),
        PARSE + "expression is nested more than 32 levels deep",
    ),
    # unknown fields
    ("foo = 'a'", INVALID_FIELD),
    ("Name = 'a'", INVALID_FIELD),
    ("NAME = 'a'", INVALID_FIELD),
    ("body = 'a'", INVALID_FIELD),
    ("spec = 'a'", INVALID_FIELD),
    ("labels = 'a'", INVALID_FIELD),
    ("conditions = 'a'", INVALID_FIELD),
    ("status = 'a'", INVALID_FIELD),
    ("status.phases = 'Ready'", INVALID_FIELD),
    ("status.conditions = 'a'", INVALID_FIELD),
    ("status.conditions.ready = 'True'", INVALID_FIELD),
    ("status.conditions.Ready_1 = 'True'", INVALID_FIELD),
    ("status.conditions.Ready.reason = 'x'", INVALID_FIELD),
    ("status.conditions.Ready.last_updated_time.x = 'x'", INVALID_FIELD),
    ("spec.camelCase = 'x'", INVALID_FIELD),
    ("spec.a-b = 'x'", INVALID_FIELD),
    ("properties.x = 'a'", INVALID_FIELD),
    ("label.x = 'a'", INVALID_FIELD),
    ("r.name = 'a'", INVALID_FIELD),
    ("resources.name = 'a'", INVALID_FIELD),
    ("name.x = 'a'", INVALID_FIELD),
    ("pg_sleep = 1", INVALID_FIELD),
    # label keys that Kubernetes (and our create validation) would refuse
    ("labels.Example.com/team = 'a'", INVALID_FIELD),
    ("labels.example.com/ = 'a'", INVALID_FIELD),
    ("labels.a/b/c = 'a'", INVALID_FIELD),
    ("labels.example.com/team- = 'a'", INVALID_FIELD),
    ("labels.a_b/c = 'a'", INVALID_FIELD),
    ("spec.a/b = 'x'", INVALID_FIELD),
    ("or = 1", PARSE + "unexpected 'or' at position 1; expected one of '(', 'not', a field"),
    ("not = 1", PARSE + "unexpected '=' at position 5"),
    ("null is null", PARSE + "unexpected 'null' at position 1"),
    # values of the wrong type
    ("generation = '1'", "field 'generation' expects an integer"),
    ("generation = 1.5", "field 'generation' expects an integer"),
    ("generation = 1e3", "field 'generation' expects an integer"),
    ("generation = true", "field 'generation' expects an integer"),
    ("generation in (1, 'a')", "field 'generation' expects an integer"),
    ("generation = 2147483648", "value 2147483648 is out of range for field 'generation'"),
    ("generation > -2147483649", "value -2147483649 is out of range for field 'generation'"),
    (
        "generation = " + "9" * 3000,
        "value " + "9" * 40 + "… is out of range for field 'generation'",
    ),
    ("name = 1", "field 'name' expects a string"),
    ("id = true", "field 'id' expects a string"),
    ("labels.env = 1", "field 'labels.env' expects a string"),
    (
        "created_time > 'yesterday'",
        "field 'created_time' expects an RFC3339 timestamp or a date (YYYY-MM-DD)",
    ),
    ("created_time > 1700000000", "field 'created_time' expects an RFC3339 timestamp"),
    ("created_time > '2024-13-01'", "field 'created_time' expects an RFC3339 timestamp"),
    ("created_time > '2024-02-30T00:00:00Z'", "field 'created_time' expects an RFC3339"),
    ("created_time > '2024-01-01T00:00:00'", "field 'created_time' expects an RFC3339"),
    ("created_time > '2024-01-01T25:00:00Z'", "field 'created_time' expects an RFC3339"),
    ("created_time > '2024-01-01T23:59:60Z'", "field 'created_time' expects an RFC3339"),
    ("created_time > '2024-01-01T00:00:00+24:00'", "field 'created_time' expects an RFC3339"),
    ("created_time > '0001-01-01T00:00:00+01:00'", "field 'created_time' expects an RFC3339"),
    ("created_time > '9999-12-31T23:00:00-05:00'", "field 'created_time' expects an RFC3339"),
    # full-width digits are digits to Python's \d, not to RFC3339
    ("created_time > '\uff12\uff10\uff12\uff14-01-01'", "field 'created_time' expects an RFC3339"),
    (
        "status.conditions.Ready.last_updated_time < '2024-01-01'",
        "field 'status.conditions.Ready.last_updated_time' expects an RFC3339 timestamp",
    ),
    (
        "status.conditions.Ready.last_transition_time < 5",
        "field 'status.conditions.Ready.last_transition_time' expects an RFC3339 timestamp",
    ),
    (
        "status.conditions.Ready.observed_generation = '1'",
        "field 'status.conditions.Ready.observed_generation' expects an integer",
    ),
    (
        "status.conditions.Ready.observed_generation > 4294967296",
        "value 4294967296 is out of range for field 'status.conditions.Ready.observed_generation'",
    ),
    (
        "status.conditions.Ready = 'true'",
        "field 'status.conditions.Ready' expects 'True', 'False' or 'Unknown'",
    ),
    (
        "status.conditions.Ready = true",
        "field 'status.conditions.Ready' expects 'True', 'False' or 'Unknown'",
    ),
    ("spec.x = 1e1001", "number 1e1001 is out of range"),
    ("spec.x = 1e-1001", "number 1e-1001 is out of range"),
    ("spec.x = 0e-99999", "number 0e-99999 is out of range"),
    ("spec.x = 1e99999999999999999999", "number 1e99999999999999999999 is out of range"),
    ("spec.x = " + "9" * 1002, "number " + "9" * 40 + "… is out of range"),
    ("spec.x = -" + "9" * 1002, "number -" + "9" * 39 + "… is out of range"),
    # operators a field does not support
    ("generation like '1%'", "operator 'like' is not supported for field 'generation'"),
    ("created_time ilike '2024%'", "operator 'ilike' is not supported for field 'created_time'"),
    ("status.conditions.Ready != 'True'", "operator '!=' is not supported for field"),
    ("status.conditions.Ready in ('True')", "operator 'in' is not supported for field"),
    ("status.conditions.Ready not in ('True')", "operator 'not in' is not supported for field"),
    ("status.conditions.Ready between 'A' and 'B'", "operator 'between' is not supported"),
    ("status.conditions.Ready like 'T%'", "operator 'like' is not supported for field"),
    ("status.conditions.Ready is null", "operator 'is null' is not supported for field"),
    (
        "status.conditions.Ready.observed_generation in (1)",
        "operator 'in' is not supported for field 'status.conditions.Ready.observed_generation'",
    ),
    (
        "status.conditions.Ready.last_updated_time is not null",
        "operator 'is not null' is not supported for field",
    ),
    ("spec.enabled > true", "operator '>' is not supported with boolean values"),
    ("spec.enabled in (true, false)", "operator 'in' is not supported with boolean values"),
    ("spec.x between true and false", "operator 'between' is not supported with boolean values"),
    ("spec.x in (1, 'a')", "values in an 'in' list must all be of the same type"),
    ("spec.x between 1 and 'z'", "the bounds of 'between' must be of the same type"),
    ("name like 5", "operator 'like' expects a string pattern"),
    ("spec.x not ilike 5", "operator 'not ilike' expects a string pattern"),
    ("name like 'abc\\'", "the pattern of 'like' must not end with a lone backslash"),
    ("labels.x like '\\\\\\'", "the pattern of 'like' must not end with a lone backslash"),
    # NOT around label and condition queries
    ("not labels.env = 'prod'", "NOT operator is not supported with label queries"),
    ("NOT (labels.env = 'p' or name = 'x')", "NOT operator is not supported with label queries"),
    ("not (name = 'x' and not labels.a is null)", "NOT operator is not supported with label"),
    ("not status.conditions.Ready = 'True'", "NOT operator is not supported with condition"),
    (
        "not (status.conditions.Ready.observed_generation = 1)",
        "NOT operator is not supported with condition queries",
    ),
]


@pytest.mark.parametrize(("query", "message"), INVALID, ids=[q[:60] for q, _ in INVALID])
def test_invalid_queries_raise_bad_request(query: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_search(query)
    error = caught.value
    assert error.status == 400
    assert error.code == "HYPERFLEET-VAL-005"
    assert error.detail.startswith(message), error.detail
    assert_no_sql(error.detail)


def assert_no_sql(detail: str) -> None:
    lowered = detail.lower()
    for fragment in ("r.", "$1", "::", "jsonb", "exists (", "resource_conditions", "select"):
        assert fragment not in lowered, detail


def test_unknown_field_names_the_field_in_a_violation() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_search("name = 'a' and colour = 'red'")
    assert caught.value.detail == INVALID_FIELD
    [violation] = caught.value.violations
    assert (violation.field, violation.value) == ("search", "colour")
    assert violation.message == "unknown field 'colour'"


def test_query_of_exactly_the_maximum_length_is_accepted() -> None:
    query = "name = '" + "x" * (MAX_QUERY_LENGTH - len("name = ''")) + "'"
    assert len(query) == MAX_QUERY_LENGTH
    assert parse_search(query) == Compare(NAME, Op.EQ, "x" * (MAX_QUERY_LENGTH - 9))


def test_5000_character_query_is_rejected() -> None:
    with pytest.raises(BadRequest, match="longer than 4096 characters"):
        parse_search("name = '" + "x" * 4990 + "'")


def test_deep_parentheses_alone_are_not_nesting() -> None:
    depth = 2000
    assert parse_search("(" * depth + "name = 'a'" + ")" * depth) == Compare(NAME, Op.EQ, "a")


def test_nesting_up_to_the_limit_is_accepted() -> None:
    node = parse_search("not " * MAX_DEPTH + "name = 'a'")
    for _ in range(MAX_DEPTH):
        assert isinstance(node, Not)
        node = node.operand
    assert node == Compare(NAME, Op.EQ, "a")


def test_unbalanced_deep_nesting_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(BadRequest, match=r"^failed to parse search query: "):
        parse_search("(" * 4000)


def test_long_flat_chains_are_one_node() -> None:
    node = parse_search(" or ".join(["name='a'"] * 300))
    assert isinstance(node, Or)
    assert len(node.operands) == 300


def test_long_strings_are_truncated_in_messages() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_search("name = 'a' '" + "y" * 200 + "'")
    assert "y" * 41 not in caught.value.detail
    assert "…" in caught.value.detail


# Garbage in: always a clean BadRequest or a valid AST, never another exception.
_TOKENS = st.sampled_from(
    [
        "name", "generation", "created_time", "labels.env", "spec.a.b", "status.conditions.Ready",
        "status.conditions.Ready.observed_generation", "=", "!=", "<", ">=", "in", "not", "and",
        "or", "between", "is", "null", "like", "ilike", "(", ")", "[", "]", ",", "'x'", "'True'",
        "'2024-01-01T00:00:00Z'", "1", "-2.5", "1e9", "true", "'", "''", ";", "\\", "%",
    ]
)  # fmt: skip


def rejection(query: str) -> str | None:
    """The BadRequest detail for `query`, or None when it parses."""
    try:
        parse_search(query)
    except BadRequest as exc:
        return exc.detail
    return None


@given(st.lists(_TOKENS, max_size=12).map(" ".join))
def test_token_soup_parses_or_raises_bad_request(query: str) -> None:
    detail = rejection(query)
    if detail is not None:
        assert detail
        assert_no_sql(detail)


@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_bad_request(query: str) -> None:
    detail = rejection(query)
    assert detail is None or detail.strip()


# --------------------------------------------------------------------------------------------
# order

VALID_ORDER: list[tuple[list[str], tuple[OrderTerm, ...]]] = [
    ([], DEFAULT_ORDER),
    ([""], DEFAULT_ORDER),
    ([" , ,"], DEFAULT_ORDER),
    (["name"], (OrderTerm("name"),)),
    (["name asc"], (OrderTerm("name"),)),
    (["name desc"], (OrderTerm("name", descending=True),)),
    (["name\tdesc"], (OrderTerm("name", descending=True),)),
    (["  name   desc  "], (OrderTerm("name", descending=True),)),
    (
        ["name desc,created_time"],
        (OrderTerm("name", descending=True), OrderTerm("created_time")),
    ),
    (
        ["generation desc", "updated_time asc", "id"],
        (OrderTerm("generation", descending=True), OrderTerm("updated_time"), OrderTerm("id")),
    ),
    (["name, name desc"], (OrderTerm("name"),)),
    (["deleted_time desc,"], (OrderTerm("deleted_time", descending=True),)),
]


@pytest.mark.parametrize(("values", "expected"), VALID_ORDER, ids=[repr(v) for v, _ in VALID_ORDER])
def test_valid_order(values: list[str], expected: tuple[OrderTerm, ...]) -> None:
    assert parse_order(values) == expected


def test_every_column_can_be_ordered_by() -> None:
    assert parse_order([",".join(COLUMNS)]) == tuple(OrderTerm(c) for c in COLUMNS)


INVALID_ORDER: list[tuple[list[str], str]] = [
    (["Name"], "invalid order format 'Name'"),
    (["name DESC"], "invalid order format 'name DESC'"),
    (["name descending"], "invalid order format 'name descending'"),
    (["name desc asc"], "invalid order format 'name desc asc'"),
    (["name-desc"], "invalid order format 'name-desc'"),
    (["1name"], "invalid order format '1name'"),
    (["labels.env"], "invalid order format 'labels.env'"),
    (["name; DROP TABLE resources"], "invalid order format 'name; DROP TABLE resources'"),
    (["name desc, (select 1)"], "invalid order format '(select 1)'"),
    (["name\x00"], "invalid order format 'name\x00'"),
    (["X" * 100], "invalid order format '" + "X" * 40 + "…'"),
    (["foo"], INVALID_FIELD),
    (["name", "spec desc"], INVALID_FIELD),
    (["labels"], INVALID_FIELD),
    (["body"], INVALID_FIELD),
    (["status"], INVALID_FIELD),
    (["pg_sleep"], INVALID_FIELD),
]


@pytest.mark.parametrize(
    ("values", "message"), INVALID_ORDER, ids=[v[-1] for v, _ in INVALID_ORDER]
)
def test_invalid_order(values: list[str], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_order(values)
    assert caught.value.code == "HYPERFLEET-VAL-005"
    assert caught.value.detail == message


def test_unknown_order_field_names_the_field_in_a_violation() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_order(["spec desc"])
    [violation] = caught.value.violations
    assert (violation.field, violation.value) == ("order", "spec")


def test_order_accepts_a_single_string() -> None:
    assert parse_order("name desc") == (OrderTerm("name", descending=True),)


def test_status_phase_is_a_text_column():
    node = parse_search("status.phase = 'Ready'")
    assert node == Compare(ColumnField("phase", ColumnType.TEXT), Op.EQ, "Ready")


def test_a_repeated_expression_is_parsed_once_and_a_bad_one_fails_every_time():
    text = "labels.env='dev' and generation > 1"
    assert parse_search(text) is parse_search(text)
    for _ in range(2):
        with pytest.raises(BadRequest):
            parse_search("labels.env = ")
