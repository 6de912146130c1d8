"""Search AST → SQL: the exact text and bound parameters for representative queries."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hyperfleet.domain.search import (
    ConditionField,
    IsNull,
    OrderTerm,
    parse_order,
    parse_search,
)
from hyperfleet.storage.search_sql import (
    compile_keyset,
    compile_order,
    compile_search,
    key_columns,
)

T0 = datetime(2024, 5, 1, 10, tzinfo=UTC)
NUM = "(CASE WHEN jsonb_typeof(r.spec #> $1::text[]) = 'number' THEN (r.spec #>> $1::text[])::numeric END)"
EXISTS = "EXISTS (SELECT 1 FROM resource_conditions rc WHERE rc.resource_id = r.id AND rc.type = "

CASES: list[tuple[str, str, list[object]]] = [
    # plain columns
    ("name = 'a'", "r.name = $1::text", ["a"]),
    ("name != 'a'", "r.name <> $1::text", ["a"]),
    ("kind >= 'M'", "r.kind >= $1::text", ["M"]),
    ("id = 'abc'", "r.id::text = $1::text", ["abc"]),
    ("owner_id is null", "r.owner_id::text IS NULL", []),
    ("generation < 5", "r.generation < $1::integer", [5]),
    ("created_time > '2024-05-01T12:00:00+02:00'", "r.created_time > $1::timestamptz", [T0]),
    ("deleted_time is not null", "r.deleted_time IS NOT NULL", []),
    ("name in ('a', 'b')", "r.name = ANY($1::text[])", [["a", "b"]]),
    ("name not in ['a']", "r.name <> ALL($1::text[])", [["a"]]),
    ("generation in (1, 2)", "r.generation = ANY($1::integer[])", [[1, 2]]),
    (
        "updated_time in ('2024-05-01T10:00:00Z')",
        "r.updated_time = ANY($1::timestamptz[])",
        [[T0]],
    ),
    ("generation between 1 and 3", "r.generation BETWEEN $1::integer AND $2::integer", [1, 3]),
    ("name not between 'a' and 'b'", "r.name NOT BETWEEN $1::text AND $2::text", ["a", "b"]),
    ("name like 'a%'", "r.name LIKE $1::text", ["a%"]),
    ("name not ilike 'A%'", "r.name NOT ILIKE $1::text", ["A%"]),
    ("owner_id like '0190%'", "r.owner_id::text LIKE $1::text", ["0190%"]),
    # labels
    ("labels.env = 'prod'", "r.labels @> $1::jsonb", [{"env": "prod"}]),
    ("labels.env != 'prod'", "(r.labels ->> $1::text) <> $2::text", ["env", "prod"]),
    ("labels.env < 'p'", "(r.labels ->> $1::text) < $2::text", ["env", "p"]),
    ("labels.env in ('a')", "(r.labels ->> $1::text) = ANY($2::text[])", ["env", ["a"]]),
    ("labels.env like 'p%'", "(r.labels ->> $1::text) LIKE $2::text", ["env", "p%"]),
    ("labels.env is null", "NOT (r.labels ? $1::text)", ["env"]),
    ("labels.env is not null", "r.labels ? $1::text", ["env"]),
    ("labels.a.b-c = 'x'", "r.labels @> $1::jsonb", [{"a.b-c": "x"}]),
    # spec
    ("spec.region = 'eu'", "(r.spec #>> $1::text[]) = $2::text", [["region"], "eu"]),
    ("spec.a.b like 'x%'", "(r.spec #>> $1::text[]) LIKE $2::text", [["a", "b"], "x%"]),
    ("spec.a is null", "(r.spec #>> $1::text[]) IS NULL", [["a"]]),
    ("spec.a is not null", "(r.spec #>> $1::text[]) IS NOT NULL", [["a"]]),
    ("spec.n > 2", f"{NUM} > $2::numeric", [["n"], 2]),
    ("spec.n <= 2.5", f"{NUM} <= $2::numeric", [["n"], Decimal("2.5")]),
    ("spec.n in (1, 2)", f"{NUM} = ANY($2::numeric[])", [["n"], [1, 2]]),
    ("spec.n between 1 and 2", f"{NUM} BETWEEN $2::numeric AND $3::numeric", [["n"], 1, 2]),
    ("spec.s in ('x')", "(r.spec #>> $1::text[]) = ANY($2::text[])", [["s"], ["x"]]),
    ("spec.f = true", "(r.spec #> $1::text[]) = to_jsonb($2::boolean)", [["f"], True]),
    ("spec.f != false", "(r.spec #> $1::text[]) <> to_jsonb($2::boolean)", [["f"], False]),
    # conditions
    (
        "status.conditions.Ready = 'True'",
        EXISTS + "$1::text AND rc.status = $2::text)",
        ["Ready", "True"],
    ),
    (
        "status.conditions.Ready.last_updated_time < '2024-05-01T10:00:00Z'",
        EXISTS + "$1::text AND rc.last_updated_time < $2::timestamptz)",
        ["Ready", T0],
    ),
    (
        "status.conditions.Available.last_transition_time >= '2024-05-01T10:00:00Z'",
        EXISTS + "$1::text AND rc.last_transition_time >= $2::timestamptz)",
        ["Available", T0],
    ),
    (
        "status.conditions.Ready.observed_generation != 3",
        EXISTS + "$1::text AND rc.observed_generation <> $2::integer)",
        ["Ready", 3],
    ),
    # structure
    (
        "name = 'a' and kind = 'b' and generation = 1",
        "(r.name = $1::text AND r.kind = $2::text AND r.generation = $3::integer)",
        ["a", "b", 1],
    ),
    (
        "name = 'a' or not (kind = 'b' and generation = 1)",
        "(r.name = $1::text OR NOT ((r.kind = $2::text AND r.generation = $3::integer)))",
        ["a", "b", 1],
    ),
    (
        "labels.env = 'p' and status.conditions.Ready = 'False'",
        "(r.labels @> $1::jsonb AND " + EXISTS + "$2::text AND rc.status = $3::text))",
        [{"env": "p"}, "Ready", "False"],
    ),
    # hostile text stays a value
    ("name = 'x'' OR ''1''=''1'", "r.name = $1::text", ["x' OR '1'='1"]),
    ("name = '$1; DROP TABLE resources'", "r.name = $1::text", ["$1; DROP TABLE resources"]),
    ("spec.a = 'b'')--'", "(r.spec #>> $1::text[]) = $2::text", [["a"], "b')--"]),
]


@pytest.mark.parametrize(("query", "sql", "params"), CASES, ids=[c[0][:60] for c in CASES])
def test_compile_search(query: str, sql: str, params: list[object]) -> None:
    node = parse_search(query)
    assert node is not None
    bound: list[object] = []
    assert compile_search(node, bound) == sql
    assert bound == params
    assert [type(v) for v in bound] == [type(v) for v in params]


def test_placeholders_continue_after_the_callers_parameters() -> None:
    node = parse_search("name = 'a' or labels.env = 'b'")
    assert node is not None
    params: list[object] = ["Cluster", "owner"]
    sql = compile_search(node, params)
    assert sql == "(r.name = $3::text OR r.labels @> $4::jsonb)"
    assert params == ["Cluster", "owner", "a", {"env": "b"}]


def test_no_value_is_ever_interpolated() -> None:
    query = (
        "name = 'zz''9' or labels.kk = 'zz''9' or spec.a like 'zz''9'"
        " or status.conditions.Ready.observed_generation = 12345"
    )
    node = parse_search(query)
    assert node is not None
    params: list[object] = []
    sql = compile_search(node, params)
    for value in ("zz", "kk", "12345", "Ready"):
        assert value not in sql
    assert params == ["zz'9", {"kk": "zz'9"}, ["a"], "zz'9", "Ready", 12345]


def test_condition_presence_compiles_to_exists() -> None:
    # Not reachable from the query language today; the compiler still gives it a meaning.
    params: list[object] = []
    sql = compile_search(IsNull(ConditionField("Ready")), params)
    assert sql == "NOT " + EXISTS + "$1::text)"
    sql = compile_search(IsNull(ConditionField("Ready"), negated=True), params)
    assert sql == EXISTS + "$2::text)"
    assert params == ["Ready", "Ready"]


ORDER_CASES: list[tuple[list[str], str]] = [
    ([], "ORDER BY r.created_time DESC, r.id DESC"),
    (["name"], "ORDER BY r.name ASC, r.id ASC"),
    (["name desc"], "ORDER BY r.name DESC, r.id DESC"),
    (["generation desc, name"], "ORDER BY r.generation DESC, r.name ASC, r.id DESC"),
    (["id desc"], "ORDER BY r.id DESC"),
    (["name, id desc"], "ORDER BY r.name ASC, r.id DESC"),
    (["owner_id", "deleted_time desc"], "ORDER BY r.owner_id ASC, r.deleted_time DESC, r.id ASC"),
]


@pytest.mark.parametrize(("values", "sql"), ORDER_CASES, ids=[repr(v) for v, _ in ORDER_CASES])
def test_compile_order(values: list[str], sql: str) -> None:
    assert compile_order(parse_order(values)) == sql


@pytest.mark.parametrize(
    "terms",
    [(), (OrderTerm("name; DROP TABLE resources"),), (OrderTerm("spec"),)],
    ids=["empty", "injection", "not-allowlisted"],
)
def test_compile_order_rejects_terms_outside_the_allowlist(terms: tuple[OrderTerm, ...]) -> None:
    with pytest.raises(ValueError, match=r"order"):
        compile_order(terms)


def test_canonical_ids_compare_as_uuid_to_use_the_primary_key():
    params: list[object] = []
    one = "0190a0a0-0000-7000-8000-000000000001"
    assert compile_search(parse_search(f"id = '{one}'"), params) == "r.id = $1::uuid"
    params = []
    sql = compile_search(parse_search(f"owner_id in ('{one}', '{one}')"), params)
    assert sql == "r.owner_id = ANY($1::uuid[])"
    params = []
    assert compile_search(parse_search("id = 'not-a-uuid'"), params) == "r.id::text = $1::text"
    params = []
    assert compile_search(parse_search("id like '0190%'"), params) == "r.id::text LIKE $1::text"


def test_status_phase_compiles_to_the_phase_column():
    params: list[object] = []
    assert compile_search(parse_search("status.phase = 'Ready'"), params) == "r.phase = $1::text"
    assert params == ["Ready"]


AT = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ONE = "0190a0a0-0000-7000-8000-000000000001"


def test_keyset_on_not_null_columns_in_one_direction_is_a_row_comparison() -> None:
    params: list[object] = ["Cluster"]
    sql = compile_keyset(parse_order([]), (AT, ONE), params)
    assert sql == "(r.created_time, r.id) < ($2::timestamptz, $3::uuid)"
    assert params == ["Cluster", AT, ONE]
    assert compile_keyset(parse_order(["name"]), ("a", ONE), []) == (
        "(r.name, r.id) > ($1::text, $2::uuid)"
    )
    assert key_columns(parse_order([])) == ["r.created_time", "r.id"]


def test_keyset_with_mixed_directions_expands_term_by_term() -> None:
    params: list[object] = []
    sql = compile_keyset(parse_order(["generation desc", "name"]), (2, "b", ONE), params)
    assert sql == (
        "((r.generation < $1::integer)"
        " OR (r.generation = $2::integer AND r.name > $3::text)"
        " OR (r.generation = $2::integer AND r.name = $4::text AND r.id < $5::uuid))"
    )
    assert params == [2, 2, "b", "b", ONE]


def test_keyset_on_nullable_columns_sorts_nulls_after_every_value() -> None:
    asc_value = compile_keyset(parse_order(["deleted_time"]), (AT, ONE), [])
    assert asc_value == (
        "(((r.deleted_time > $1::timestamptz OR r.deleted_time IS NULL))"
        " OR (r.deleted_time = $2::timestamptz AND r.id > $3::uuid))"
    )
    asc_null = compile_keyset(parse_order(["deleted_time"]), (None, ONE), [])
    assert asc_null == "((r.deleted_time IS NULL AND r.id > $1::uuid))"
    desc_null = compile_keyset(parse_order(["deleted_time desc"]), (None, ONE), [])
    assert desc_null == (
        "((r.deleted_time IS NOT NULL) OR (r.deleted_time IS NULL AND r.id < $1::uuid))"
    )


def test_keyset_length_must_match_the_order() -> None:
    with pytest.raises(ValueError, match="order"):
        compile_keyset(parse_order([]), (AT,), [])
