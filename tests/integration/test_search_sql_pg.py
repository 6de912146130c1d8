"""Compiled searches and orders against real PostgreSQL: the right rows, and never a DB error.

A throwaway database (`hf_search_<random>`) is created on the server of
`$HYPERFLEET_TEST_DATABASE_URL` (default: local `postgres`), migrated with 0001_initial.sql,
filled with a handful of rows, and dropped at the end of the module.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperfleet.domain.search import parse_order, parse_search
from hyperfleet.errors import BadRequest
from hyperfleet.storage.pool import init_connection
from hyperfleet.storage.search_sql import compile_order, compile_search

ADMIN_URL = os.environ.get(
    "HYPERFLEET_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


def at(month: int, day: int = 1) -> datetime:
    return datetime(2024, month, day, tzinfo=UTC)


# name → (kind, owner, generation, labels, spec, created, deleted, conditions)
# conditions: type → (status, last_updated_time, last_transition_time, observed_generation)
ROWS: dict[str, dict[str, Any]] = {
    "alpha": {
        "kind": "Cluster",
        "generation": 1,
        "labels": {"env": "prod", "team": "a"},
        "spec": {
            "region": "us-east-1",
            "replicas": 3,
            "enabled": True,
            "nested": {"zone": "a"},
            "nodes": [{"name": "n1"}],
        },
        "created": at(1),
        "conditions": {
            "Ready": ("True", at(6), at(1), 1),
            "Available": ("True", at(6), at(1), 1),
        },
    },
    "beta": {
        "kind": "Cluster",
        "generation": 2,
        "labels": {"env": "staging"},
        "spec": {"region": "eu-west-1", "replicas": "3", "enabled": False, "ratio": 0.5},
        "created": at(2),
        "conditions": {"Ready": ("False", at(3), at(2), 1)},
    },
    "gamma": {
        "kind": "Cluster",
        "generation": 5,
        "labels": {},
        "spec": {"region": None, "replicas": 10, "tags": ["x", "y"], "enabled": "true"},
        "created": at(3),
        "deleted": at(7),
        "conditions": {},
    },
    "delta": {
        "kind": "NodePool",
        "owner": "alpha",
        "generation": 1,
        "labels": {"env": "prod", "app.kubernetes.io": "web"},
        "spec": {"region": "O'Brien", "replicas": 2.5},
        "created": at(4),
        "conditions": {"Ready": ("True", at(1, 15), at(1, 15), 1)},
    },
    "50%_off": {
        "kind": "Cluster",
        "generation": 3,
        "labels": {"env": "Prod"},
        "spec": {"replicas": 1e30, "region": "ap-south-1"},
        "created": at(5),
        "conditions": {"Ready": ("False", at(5), at(5), 3)},
    },
}
IDS = {name: uuid.uuid5(uuid.NAMESPACE_URL, f"hf-search/{name}") for name in ROWS}
ALL = frozenset(ROWS)

INSERT_RESOURCE = """
INSERT INTO resources (id, kind, name, href, owner_id, owner_kind, owner_href, spec, labels,
    generation, created_time, updated_time, created_by, updated_by, deleted_time, deleted_by, body)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $11, $12, $12, $13, $14,
    '\\x'::bytea)
"""
INSERT_CONDITION = """
INSERT INTO resource_conditions (resource_id, type, status, observed_generation, created_time,
    last_updated_time, last_transition_time)
VALUES ($1, $2, $3, $4, $5, $5, $6)
"""


async def insert_rows(conn: asyncpg.Connection) -> None:
    for name, row in ROWS.items():
        owner = row.get("owner")
        owner_id = IDS[owner] if owner else None
        deleted = row.get("deleted")
        await conn.execute(
            INSERT_RESOURCE,
            IDS[name],
            row["kind"],
            name,
            f"/api/hyperfleet/v1/{row['kind'].lower()}s/{IDS[name]}",
            owner_id,
            "Cluster" if owner else None,
            f"/api/hyperfleet/v1/clusters/{owner_id}" if owner else None,
            json.dumps(row["spec"]),
            json.dumps(row["labels"]),
            row["generation"],
            row["created"],
            f"{name}@example.com",
            deleted,
            "bob@example.com" if deleted else None,
        )
        for type_, (status, updated, transition, observed) in row["conditions"].items():
            await conn.execute(
                INSERT_CONDITION, IDS[name], type_, status, observed, updated, transition
            )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def conn() -> AsyncIterator[asyncpg.Connection]:
    name = f"hf_search_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        # C collation: text comparisons and name order do not depend on the server's locale.
        await admin.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"
            " LC_COLLATE 'C' LC_CTYPE 'C'"
        )
        connection = await asyncpg.connect(with_database(ADMIN_URL, name))
        try:
            migration = files("hyperfleet.storage") / "migrations" / "0001_initial.sql"
            await connection.execute(migration.read_text(encoding="utf-8"))
            await insert_rows(connection)
            await init_connection(connection)  # the server's codecs: jsonb parameters from dicts
            yield connection
        finally:
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def search(conn: asyncpg.Connection, query: str) -> set[str]:
    node = parse_search(query)
    params: list[object] = []
    where = "TRUE" if node is None else compile_search(node, params)
    rows = await conn.fetch(f"SELECT r.name FROM resources r WHERE {where}", *params)  # noqa: S608
    return {r["name"] for r in rows}


def names(*items: str) -> set[str]:
    return set(items)


CASES: list[tuple[str, set[str]]] = [
    ("", set(ALL)),
    # columns
    ("name = 'alpha'", names("alpha")),
    ("name != 'alpha'", set(ALL - {"alpha"})),
    ("name > 'c'", names("delta", "gamma")),
    ("name in ('alpha', 'beta', 'nope')", names("alpha", "beta")),
    ("name not in ['alpha', 'beta']", names("gamma", "delta", "50%_off")),
    ("name between 'b' and 'd'", names("beta")),
    ("name like 'a%'", names("alpha")),
    ("name like '50\\%%'", names("50%_off")),
    ("name like '_e%'", names("beta", "delta")),
    ("name not like '%a'", names("50%_off")),
    ("name ilike 'ALPHA'", names("alpha")),
    ("kind = 'NodePool'", names("delta")),
    ("kind = 'nodepool'", set()),
    (f"id = '{IDS['beta']}'", names("beta")),
    (f"id = '{str(IDS['beta']).upper()}'", set()),
    (f"id in ('{IDS['beta']}', 'not-a-uuid')", names("beta")),
    (f"id like '{str(IDS['gamma'])[:8]}%'", names("gamma")),
    ("id = 'not-a-uuid'", set()),
    (f"owner_id = '{IDS['alpha']}'", names("delta")),
    ("owner_id is null", set(ALL - {"delta"})),
    ("owner_kind = 'Cluster'", names("delta")),
    ("href like '/api/hyperfleet/v1/nodepools/%'", names("delta")),
    ("created_by = 'beta@example.com'", names("beta")),
    ("deleted_by = 'bob@example.com'", names("gamma")),
    ("generation = 1", names("alpha", "delta")),
    ("generation >= 3", names("gamma", "50%_off")),
    ("generation in (2, 5)", names("beta", "gamma")),
    ("generation not between 2 and 4", names("alpha", "delta", "gamma")),
    ("generation = 2147483647", set()),
    ("generation > -2147483648", set(ALL)),
    ("created_time >= '2024-03-01'", names("gamma", "delta", "50%_off")),
    ("created_time < '2024-02-01T00:00:00Z'", names("alpha")),
    ("created_time <= '2024-02-01T01:00:00+01:00'", names("alpha", "beta")),
    ("created_time = '2024-02-01'", names("beta")),
    ("created_time between '2024-02-01' and '2024-04-01'", names("beta", "gamma", "delta")),
    ("created_time in ('2024-01-01', '2024-05-01T00:00:00Z')", names("alpha", "50%_off")),
    ("updated_time > '0001-01-01'", set(ALL)),
    ("updated_time < '9999-12-31T23:59:59.999999Z'", set(ALL)),
    ("deleted_time is null", set(ALL - {"gamma"})),
    ("deleted_time is not null", names("gamma")),
    ("deleted_time > '2024-06-30'", names("gamma")),
    # labels
    ("labels.env = 'prod'", names("alpha", "delta")),
    ("labels.env = 'PROD'", set()),
    ("labels.env ilike 'prod'", names("alpha", "delta", "50%_off")),
    ("labels.env != 'prod'", names("beta", "50%_off")),
    ("labels.env in ('staging', 'Prod')", names("beta", "50%_off")),
    ("labels.env not in ('staging')", names("alpha", "delta", "50%_off")),
    ("labels.env > 'p'", names("alpha", "delta", "beta")),
    ("labels.env between 'a' and 'q'", names("alpha", "delta")),
    ("labels.env like 'st%'", names("beta")),
    ("labels.env is null", names("gamma")),
    ("labels.env is not null", set(ALL - {"gamma"})),
    ("labels.team = 'a' and labels.env = 'prod'", names("alpha")),
    ("labels.app.kubernetes.io = 'web'", names("delta")),
    ("labels.missing = 'x'", set()),
    ("labels.env = 'prod'' OR ''1''=''1'", set()),
    # spec
    ("spec.region = 'us-east-1'", names("alpha")),
    ("spec.region = 'O''Brien'", names("delta")),
    ("spec.region like '%-1'", names("alpha", "beta", "50%_off")),
    ("spec.region is null", names("gamma")),
    ("spec.region is not null", set(ALL - {"gamma"})),
    ("spec.nested.zone = 'a'", names("alpha")),
    ("spec.nodes.0.name = 'n1'", names("alpha")),
    ("spec.nodes.1.name = 'n1'", set()),
    ("spec.nodes.99999999999999999999.name = 'n1'", set()),
    ("spec.tags.0 = 'x'", names("gamma")),
    ("spec.tags.abc = 'x'", set()),
    ("spec.replicas = 3", names("alpha")),
    ("spec.replicas = '3'", names("alpha", "beta")),
    ("spec.replicas > 2", names("alpha", "gamma", "delta", "50%_off")),
    ("spec.replicas < 3", names("delta")),
    ("spec.replicas between 2.5 and 3", names("alpha", "delta")),
    ("spec.replicas in (1, 10, 1e30)", names("gamma", "50%_off")),
    ("spec.replicas not in (3)", names("gamma", "delta", "50%_off")),
    ("spec.replicas >= 1e1000", set()),
    ("spec.replicas > -1e-1000", names("alpha", "gamma", "delta", "50%_off")),
    ("spec.region > 5", set()),
    ("spec.ratio = 0.50", names("beta")),
    ("spec.enabled = true", names("alpha")),
    ("spec.enabled = false", names("beta")),
    ("spec.enabled != true", names("beta", "gamma")),
    ("spec.enabled = 'true'", names("alpha", "gamma")),
    ("spec.nested = 'a'", set()),
    # conditions
    ("status.conditions.Ready = 'True'", names("alpha", "delta")),
    ("status.conditions.Ready = 'False'", names("beta", "50%_off")),
    ("status.conditions.Ready = 'Unknown'", set()),
    ("status.conditions.Available = 'True'", names("alpha")),
    ("status.conditions.Missing = 'True'", set()),
    (
        "status.conditions.Ready.last_updated_time < '2024-05-01T00:00:00Z'",
        names("beta", "delta"),
    ),
    (
        (
            "status.conditions.Ready = 'True' and "
            "status.conditions.Ready.last_updated_time < '2024-02-01T00:00:00Z'"
        ),
        names("delta"),
    ),
    (
        "status.conditions.Ready.last_transition_time >= '2024-02-01T00:00:00Z'",
        names("beta", "50%_off"),
    ),
    ("status.conditions.Ready.observed_generation = 3", names("50%_off")),
    ("status.conditions.Ready.observed_generation < 3", names("alpha", "beta", "delta")),
    # structure
    ("kind = 'Cluster' and (generation = 1 or labels.env = 'staging')", names("alpha", "beta")),
    ("kind = 'Cluster' and generation = 1 or labels.env = 'staging'", names("alpha", "beta")),
    (
        "not (kind = 'Cluster' and generation = 1) and owner_id is null",
        set(ALL - {"alpha", "delta"}),
    ),
    ("not generation = 1", set(ALL - {"alpha", "delta"})),
    ("not not generation = 1", names("alpha", "delta")),
    # hostile values are just values
    ("name = 'alpha'' OR ''1''=''1'", set()),
    ("name = 'alpha''; DROP TABLE resources; --'", set()),
    ("name = '\\'", set()),
    ("name like '\\\\'", set()),
    ("name = 'ünïcødé ☃ 𝄞'", set()),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q[:70] for q, _ in CASES])
async def test_search_returns_the_expected_rows(
    conn: asyncpg.Connection, query: str, expected: set[str]
) -> None:
    assert await search(conn, query) == expected


async def test_resources_table_survives_hostile_queries(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval("SELECT count(*) FROM resources") == len(ROWS)


async def test_search_composes_with_the_callers_parameters(conn: asyncpg.Connection) -> None:
    node = parse_search("generation = 1 or labels.env = 'staging'")
    assert node is not None
    params: list[object] = ["Cluster"]
    where = f"r.kind = $1 AND ({compile_search(node, params)})"
    order = compile_order(parse_order(["name desc"]))
    rows = await conn.fetch(
        f"SELECT r.name FROM resources r WHERE {where} {order}",  # noqa: S608
        *params,
    )
    assert [r["name"] for r in rows] == ["beta", "alpha"]


ORDER_CASES: list[tuple[list[str], list[str]]] = [
    ([], ["50%_off", "delta", "gamma", "beta", "alpha"]),
    (["name"], ["50%_off", "alpha", "beta", "delta", "gamma"]),
    (["generation desc, name"], ["gamma", "50%_off", "beta", "alpha", "delta"]),
    (["generation", "created_time desc"], ["delta", "alpha", "beta", "50%_off", "gamma"]),
    # PostgreSQL sorts NULL as larger than any value: last ascending, first descending.
    (["deleted_time desc", "name asc"], ["50%_off", "alpha", "beta", "delta", "gamma"]),
    (["deleted_time", "name desc"], ["gamma", "delta", "beta", "alpha", "50%_off"]),
]


@pytest.mark.parametrize(("values", "expected"), ORDER_CASES, ids=[repr(v) for v, _ in ORDER_CASES])
async def test_order(conn: asyncpg.Connection, values: list[str], expected: list[str]) -> None:
    order = compile_order(parse_order(values))
    rows = await conn.fetch(f"SELECT r.name FROM resources r {order}")  # noqa: S608
    assert [r["name"] for r in rows] == expected


@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_ties_break_by_id_in_the_first_terms_direction(
    conn: asyncpg.Connection, direction: str
) -> None:
    order = compile_order(parse_order([f"kind {direction}"]))
    rows = await conn.fetch(f"SELECT r.name FROM resources r {order}")  # noqa: S608
    clusters = [r["name"] for r in rows if r["name"] != "delta"]
    by_id = sorted(clusters, key=lambda n: str(IDS[n]), reverse=direction == "desc")
    assert clusters == by_id
    assert len(clusters) == 4


# Garbage in: either a BadRequest before any SQL exists, or SQL that runs without a DB error.
_FIELDS = [
    "name", "id", "owner_id", "generation", "created_time", "deleted_time", "labels.env",
    "labels.a.b", "spec.replicas", "spec.nodes.0.name", "spec.tags.9999999999999999999999",
    "status.conditions.Ready", "status.conditions.Ready.last_updated_time",
    "status.conditions.Ready.observed_generation", "spec.region",
]  # fmt: skip
_VALUES = [
    "'x'", "''", "'True'", "'2024-01-01'", "'2024-01-01T00:00:00Z'", "'0001-01-01'",
    "'9999-12-31T23:59:59Z'", "0", "-1", "2147483647", "2147483648", "1e1000", "-1e-1000",
    "0.5", "true", "false", "'%'", "'\\\\'", "'\\'", "'a''b'", "'☃'",
]  # fmt: skip
_OPS = ["=", "!=", "<", "<=", ">", ">=", "like", "not like", "ilike"]


@st.composite
def predicates(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(_FIELDS))
    value = st.sampled_from(_VALUES)
    form = draw(st.integers(0, 3))
    if form == 0:
        return f"{field} {draw(st.sampled_from(_OPS))} {draw(value)}"
    if form == 1:
        items = draw(st.lists(value, min_size=1, max_size=3))
        return f"{field} {draw(st.sampled_from(['in', 'not in']))} ({', '.join(items)})"
    if form == 2:
        return f"{field} between {draw(value)} and {draw(value)}"
    return f"{field} is {draw(st.sampled_from(['', 'not ']))}null"


queries = st.recursive(
    predicates(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(" ".join),
        inner.map(lambda q: f"not ({q})"),
        inner.map(lambda q: f"({q})"),
    ),
    max_leaves=6,
)
# Well-typed predicates with extreme values: these parse, so they exercise the SQL itself.
_strings = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20)
_string_literals = _strings.map(lambda s: "'" + s.replace("'", "''") + "'")
_ints = st.integers(-(2**31), 2**31 - 1).map(str)
_numbers = st.one_of(
    _ints,
    st.integers().map(str),
    # str(Decimal) gives forms such as "-1.5", "1E+5" and "0E-10", all valid number literals
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
_offsets = st.sampled_from(["Z", "+00:00", "-05:30", "+14:00", "z"])
_timestamps = st.builds(
    lambda moment, offset: f"'{moment.isoformat(timespec='microseconds')}{offset}'",
    st.datetimes(),  # naive, years 1..9999: offsets can push them out of range, a clean 400
    _offsets,
)
_dates = st.dates().map(lambda day: f"'{day.isoformat()}'")
_TYPED = [
    (["name", "id", "owner_id", "labels.env", "labels.a.b", "spec.region", "spec.x.y"],
     _string_literals, ["=", "!=", "<", ">=", "like", "not ilike"]),
    (["generation", "status.conditions.Ready.observed_generation"], _ints, ["=", "<", ">="]),
    (["spec.replicas", "spec.tags.0", "spec.region"], _numbers, ["=", "!=", "<", ">="]),
    (["spec.enabled", "spec.region"], st.sampled_from(["true", "false"]), ["=", "!="]),
    (["created_time", "deleted_time", "status.conditions.Ready.last_updated_time"],
     _timestamps, ["=", "<", ">="]),
    (["created_time", "updated_time"], _dates, ["<=", ">"]),
]  # fmt: skip


@st.composite
def typed_predicates(draw: st.DrawFn) -> str:
    fields, values, ops = draw(st.sampled_from(_TYPED))
    return f"{draw(st.sampled_from(fields))} {draw(st.sampled_from(ops))} {draw(values)}"


typed_queries = st.lists(typed_predicates(), min_size=1, max_size=4).map(" and ".join)

_SOUP = st.sampled_from([*_FIELDS, *_VALUES, *_OPS, "and", "or", "not", "(", ")", "in", "is"])


async def run_or_reject(conn: asyncpg.Connection, query: str) -> None:
    try:
        node = parse_search(query)
    except BadRequest:
        return  # the unit tests check the messages; here only "no other exception" matters
    params: list[object] = []
    where = "TRUE" if node is None else compile_search(node, params)
    # Any asyncpg error here (cast, range, encoding) fails the test.
    await conn.fetch(f"SELECT r.id FROM resources r WHERE {where}", *params)  # noqa: S608


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries)
async def test_generated_queries_run_or_are_rejected(conn: asyncpg.Connection, query: str) -> None:
    await run_or_reject(conn, query)


@settings(max_examples=300, deadline=None)
@given(query=typed_queries)
async def test_well_typed_queries_run(conn: asyncpg.Connection, query: str) -> None:
    await run_or_reject(conn, query)


@settings(max_examples=200, deadline=None)
@given(query=st.one_of(st.lists(_SOUP, max_size=10).map(" ".join), st.text(max_size=80)))
async def test_garbage_runs_or_is_rejected(conn: asyncpg.Connection, query: str) -> None:
    await run_or_reject(conn, query)
