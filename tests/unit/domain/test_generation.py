"""Which PATCHes bump the generation (reference §3): semantic JSON equality of the spec and an
order-independent comparison of the label set.
"""

from __future__ import annotations

from typing import Any

import pytest

from hyperfleet.domain.generation import is_effective_change, json_equal

EQUAL = [
    # (id, a, b)
    ("ints", 1, 1),
    ("int-float", 1, 1.0),
    ("float-int", 2.0, 2),
    ("zero-negative-zero", 0, -0.0),
    ("strings", "a", "a"),
    ("null", None, None),
    ("true", True, True),
    ("false", False, False),
    ("empty-objects", {}, {}),
    ("empty-lists", [], []),
    ("key-order", {"a": 1, "b": 2}, {"b": 2, "a": 1}),
    (
        "nested-key-order",
        {"x": {"a": [1, {"p": 1, "q": 2}]}},
        {"x": {"a": [1.0, {"q": 2, "p": 1}]}},
    ),
    ("unicode", {"name": "ü"}, {"name": "ü"}),
]

NOT_EQUAL = [
    ("different-ints", 1, 2),
    ("bool-vs-int", True, 1),
    ("int-vs-bool", 0, False),
    ("false-vs-null", False, None),
    ("zero-vs-null", 0, None),
    ("number-vs-string", 1, "1"),
    ("empty-string-vs-null", "", None),
    ("list-order", [1, 2], [2, 1]),
    ("list-length", [1], [1, 1]),
    ("object-vs-list", {}, []),
    ("missing-key", {"a": 1}, {"a": 1, "b": None}),
    ("different-key", {"a": 1}, {"b": 1}),
    ("nested-value", {"a": {"b": [1, 2]}}, {"a": {"b": [1, 3]}}),
    ("nested-bool", {"a": [True]}, {"a": [1]}),
    ("case", "a", "A"),
    ("float-precision", 0.1 + 0.2, 0.3),
]


@pytest.mark.parametrize(("a", "b"), [pytest.param(a, b, id=i) for i, a, b in EQUAL])
def test_json_equal(a: Any, b: Any):
    assert json_equal(a, b)
    assert json_equal(b, a)


@pytest.mark.parametrize(("a", "b"), [pytest.param(a, b, id=i) for i, a, b in NOT_EQUAL])
def test_json_not_equal(a: Any, b: Any):
    assert not json_equal(a, b)
    assert not json_equal(b, a)


SPEC = {"region": "us-east-1", "nodes": {"count": 3, "types": ["m5", "c5"]}}
LABELS = {"env": "prod", "team": "a"}

CHANGES = [
    # (id, new spec, new labels, bumps)
    ("nothing-sent", None, None, False),
    (
        "same-spec",
        {"region": "us-east-1", "nodes": {"count": 3, "types": ["m5", "c5"]}},
        None,
        False,
    ),
    (
        "same-spec-reordered-and-float",
        {"nodes": {"types": ["m5", "c5"], "count": 3.0}, "region": "us-east-1"},
        None,
        False,
    ),
    ("same-labels", None, {"team": "a", "env": "prod"}, False),
    ("same-both", dict(SPEC), dict(LABELS), False),
    ("spec-value", {**SPEC, "region": "eu-west-1"}, None, True),
    ("spec-key-added", {**SPEC, "extra": None}, None, True),
    ("spec-emptied", {}, None, True),
    ("spec-list-reordered", {**SPEC, "nodes": {"count": 3, "types": ["c5", "m5"]}}, None, True),
    ("spec-bool-for-number", {**SPEC, "nodes": {"count": True, "types": ["m5", "c5"]}}, None, True),
    ("label-value", None, {"env": "dev", "team": "a"}, True),
    ("label-added", None, {**LABELS, "new": ""}, True),
    ("label-removed", None, {"env": "prod"}, True),
    ("labels-cleared", None, {}, True),
    ("only-labels-change", dict(SPEC), {"env": "prod"}, True),
    ("only-spec-changes", {}, dict(LABELS), True),
]


@pytest.mark.parametrize(
    ("new_spec", "new_labels", "bumps"),
    [pytest.param(s, lbl, b, id=i) for i, s, lbl, b in CHANGES],
)
def test_is_effective_change(
    new_spec: dict[str, Any] | None, new_labels: dict[str, str] | None, bumps: bool
):
    assert (
        is_effective_change(
            old_spec=SPEC, new_spec=new_spec, old_labels=LABELS, new_labels=new_labels
        )
        is bumps
    )


def test_empty_labels_to_empty_labels_is_no_change():
    assert not is_effective_change(old_spec={}, new_spec={}, old_labels={}, new_labels={})
