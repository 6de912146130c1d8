"""Statement labels for the query-duration metric and the locking BEGIN."""

from __future__ import annotations

import pytest

from hyperfleet.storage.timing import statement_labels
from hyperfleet.storage.uow import _begin_sql


@pytest.mark.parametrize(
    ("sql", "labels"),
    [
        ("SELECT body FROM resources WHERE id = $1", ("select", "resources")),
        ("  insert INTO adapter_statuses (a) VALUES ($1)", ("insert", "adapter_statuses")),
        ("UPDATE resources SET x = 1", ("update", "resources")),
        (
            "DELETE FROM resource_conditions WHERE resource_id = $1",
            ("delete", "resource_conditions"),
        ),
        (
            "WITH saved AS (UPDATE resources SET a = 1 RETURNING id) SELECT 1 FROM saved",
            ("update", "resources"),
        ),
        (
            "WITH RECURSIVE tree(id) AS (SELECT id FROM resources) SELECT id FROM tree",
            ("select", "resources"),
        ),
        ("SELECT 1", ("select", "none")),
        ("VACUUM", ("other", "none")),
    ],
)
def test_statement_labels(sql, labels):
    assert statement_labels(sql) == labels
    assert statement_labels(sql) == labels  # the cached answer is the same


def test_begin_locks_a_canonical_uuid_in_the_same_round_trip():
    assert _begin_sql("01a23c42-9294-7126-9e8e-C878F62C6F10") == (
        "BEGIN; SELECT 1 FROM resources WHERE id = '01a23c42-9294-7126-9e8e-C878F62C6F10'"
        " FOR UPDATE"
    )


@pytest.mark.parametrize(
    "value", [None, "", "not-a-uuid", "x'; DROP TABLE resources; --", "01a23c4292947126" * 2]
)
def test_begin_inlines_nothing_but_a_canonical_uuid(value):
    assert _begin_sql(value) == "BEGIN"
