"""The in-memory search evaluator (watch filtering) agrees with the SQL compilation (lists).

The rows of `test_search_sql_pg` are rendered as the API renders resources; every hand-written
case and a few hundred generated queries must select the same rows in Python as PostgreSQL does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from tests.integration.test_search_sql_pg import (
    CASES,
    IDS,
    ROWS,
    queries,
    typed_queries,
)
from tests.integration.test_search_sql_pg import (
    conn as conn,  # noqa: PLC0414 - the module's database fixture, reused
)

from hyperfleet.domain.search import parse_search
from hyperfleet.domain.search_eval import decode_body, matches
from hyperfleet.errors import BadRequest
from hyperfleet.storage.search_sql import compile_search


def _body(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row as the API renders it (render.resource_to_dict), decoded like the feed does."""
    rid = str(IDS[name])
    owner = row.get("owner")
    created: datetime = row["created"]
    body: dict[str, Any] = {
        "id": rid,
        "kind": row["kind"],
        "name": name,
        "href": f"/api/hyperfleet/v1/{row['kind'].lower()}s/{rid}",
        "spec": row["spec"],
    }
    if row["labels"]:
        body["labels"] = row["labels"]
    body["generation"] = row["generation"]
    if owner:
        oid = str(IDS[owner])
        body["owner_references"] = {
            "id": oid,
            "kind": "Cluster",
            "href": f"/api/hyperfleet/v1/clusters/{oid}",
        }
    body["created_time"] = created
    body["updated_time"] = created
    body["created_by"] = f"{name}@example.com"
    body["updated_by"] = f"{name}@example.com"
    if row.get("deleted"):
        body["deleted_time"] = row["deleted"]
        body["deleted_by"] = "bob@example.com"
    body["status"] = {
        "conditions": [
            {
                "type": type_,
                "status": status,
                "observed_generation": observed,
                "created_time": updated,
                "last_updated_time": updated,
                "last_transition_time": transition,
            }
            for type_, (status, updated, transition, observed) in row["conditions"].items()
        ],
        "adapters": [],
    }
    return decode_body(msgspec.json.encode(body))


BODIES = {name: _body(name, row) for name, row in ROWS.items()}


def in_memory(query: str) -> set[str]:
    node = parse_search(query)
    return {name for name, body in BODIES.items() if matches(node, body)}


async def in_sql(conn: asyncpg.Connection, query: str) -> set[str]:
    node = parse_search(query)
    params: list[object] = []
    where = "TRUE" if node is None else compile_search(node, params)
    rows = await conn.fetch(f"SELECT r.name FROM resources r WHERE {where}", *params)  # noqa: S608
    return {r["name"] for r in rows}


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q[:70] for q, _ in CASES])
def test_every_listed_case_selects_the_same_rows_in_memory(query: str, expected: set[str]) -> None:
    assert in_memory(query) == expected


async def _agree(conn: asyncpg.Connection, query: str) -> None:
    try:
        expected = await in_sql(conn, query)
    except BadRequest:
        return
    assert in_memory(query) == expected, query


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries)
async def test_generated_queries_agree(conn: asyncpg.Connection, query: str) -> None:
    await _agree(conn, query)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=typed_queries)
async def test_well_typed_queries_agree(conn: asyncpg.Connection, query: str) -> None:
    await _agree(conn, query)
