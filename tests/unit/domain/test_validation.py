"""Input rules for resource bodies (reference §7.1-§7.2): body values JSONB can hold, kind,
name, spec, labels, PATCH fields and force-delete reasons. Every table row names the field and
message a client will see.
"""

from __future__ import annotations

from typing import Any

import pytest

from hyperfleet.domain.limits import INT64_MAX, INT64_MIN
from hyperfleet.domain.model import EntityDescriptor
from hyperfleet.domain.validation import (
    FORCE_DELETE_REASON_MAX,
    MAX_DEPTH,
    check_body_values,
    may_hold_invalid_values,
    require_object,
    validate_force_delete_reason,
    validate_kind,
    validate_labels,
    validate_name,
    validate_patch_fields,
    validate_spec,
)
from hyperfleet.errors import MalformedRequest, ValidationFailed

CLUSTER = EntityDescriptor(kind="Cluster", plural="clusters", name_min_len=3, name_max_len=53)
NODEPOOL = EntityDescriptor(
    kind="NodePool", plural="nodepools", parent_kind="Cluster", name_min_len=3, name_max_len=15
)
UNBOUNDED = EntityDescriptor(kind="Channel", plural="channels", name_min_len=0, name_max_len=0)

KEY_NAME_MESSAGE = (
    "label key name must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
VALUE_MESSAGE = (
    "label value must be empty or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
NAME_PATTERN_MESSAGE = (
    "name must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)


def nested(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def violations(error: ValidationFailed | MalformedRequest) -> list[tuple[str, str]]:
    return [(v.field, v.message) for v in error.violations]


# --- check_body_values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({}, id="empty"),
        pytest.param({"spec": {"n": INT64_MAX, "m": INT64_MIN}}, id="int64-bounds"),
        pytest.param({"f": 1e308, "g": -0.0}, id="floats"),
        pytest.param({"b": True, "c": None, "s": "text ✓"}, id="scalars"),
        pytest.param({"list": [[1, 2], {"x": [None]}]}, id="lists"),
        pytest.param(nested(MAX_DEPTH), id="max-depth"),
        pytest.param([1, "two"], id="top-level-list"),
        pytest.param("plain", id="top-level-string"),
    ],
)
def test_check_body_values_accepts(value: Any):
    check_body_values(value)


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        pytest.param(
            {"name": "a\x00b"}, "name", "must not contain NUL characters", id="nul-in-string"
        ),
        pytest.param(
            {"spec": {"list": ["ok", "b\x00d"]}},
            "spec.list[1]",
            "must not contain NUL characters",
            id="nul-in-list-item",
        ),
        pytest.param(
            {"spec": {"k\x00": 1}},
            "spec",
            "keys must not contain NUL characters",
            id="nul-in-nested-key",
        ),
        pytest.param(
            {"k\x00": 1}, "(body)", "keys must not contain NUL characters", id="nul-in-top-key"
        ),
        pytest.param(
            {"spec": {"n": INT64_MAX + 1}},
            "spec.n",
            "integer is out of range (64-bit)",
            id="int-above-int64",
        ),
        pytest.param(
            {"spec": {"n": [INT64_MIN - 1]}},
            "spec.n[0]",
            "integer is out of range (64-bit)",
            id="int-below-int64",
        ),
        pytest.param(
            nested(MAX_DEPTH + 1),
            ".".join(["a"] * (MAX_DEPTH + 1)),
            f"nesting is deeper than {MAX_DEPTH} levels",
            id="too-deep",
        ),
        pytest.param("\x00", "(body)", "must not contain NUL characters", id="top-level-nul"),
    ],
)
def test_check_body_values_rejects(value: Any, field: str, message: str):
    with pytest.raises(ValidationFailed) as caught:
        check_body_values(value)
    assert violations(caught.value) == [(field, message)]
    assert caught.value.code == "HYPERFLEET-VAL-000"


def test_check_body_values_prefixes_a_given_path():
    with pytest.raises(ValidationFailed) as caught:
        check_body_values({"x": "\x00"}, "spec")
    assert violations(caught.value) == [("spec.x", "must not contain NUL characters")]


def test_booleans_are_not_range_checked_as_integers():
    check_body_values({"flag": True, "other": False})


# --- require_object -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [[], "x", 1, None, True])
def test_require_object_rejects_non_objects(body: Any):
    with pytest.raises(MalformedRequest) as caught:
        require_object(body)
    assert caught.value.code == "HYPERFLEET-VAL-006"


def test_require_object_returns_the_dict():
    body = {"a": 1}
    assert require_object(body) is body


# --- kind -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (None, "kind is required"),
        ("", "kind is required"),
        (7, "field 'kind' must be a string"),
        ("NodePool", "kind must be 'Cluster'"),
        ("cluster", "kind must be 'Cluster'"),
    ],
)
def test_validate_kind_rejects(kind: Any, message: str):
    with pytest.raises(ValidationFailed) as caught:
        validate_kind(CLUSTER, kind)
    assert violations(caught.value) == [("kind", message)]
    assert caught.value.detail == message


def test_validate_kind_accepts_the_descriptor_kind():
    validate_kind(CLUSTER, "Cluster")


# --- name -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("desc", "name"),
    [
        (CLUSTER, "abc"),
        (CLUSTER, "a" * 53),
        (CLUSTER, "my-cluster-1"),
        (CLUSTER, "1a2"),
        (NODEPOOL, "a" * 15),
        (UNBOUNDED, "a"),
        (UNBOUNDED, "a" * 100),
    ],
)
def test_validate_name_accepts(desc: EntityDescriptor, name: str):
    assert validate_name(desc, name) == name


@pytest.mark.parametrize(
    ("desc", "name", "message"),
    [
        (CLUSTER, None, "name is required"),
        (CLUSTER, "", "name is required"),
        (CLUSTER, 12, "field 'name' must be a string"),
        (CLUSTER, "ab", "name must be at least 3 characters"),
        (CLUSTER, "a" * 54, "name must be at most 53 characters"),
        (NODEPOOL, "a" * 16, "name must be at most 15 characters"),
        (UNBOUNDED, "a" * 101, "name must be at most 100 characters"),
        (CLUSTER, "My-cluster", NAME_PATTERN_MESSAGE),
        (CLUSTER, "-abc", NAME_PATTERN_MESSAGE),
        (CLUSTER, "abc-", NAME_PATTERN_MESSAGE),
        (CLUSTER, "ab_c", NAME_PATTERN_MESSAGE),
        (CLUSTER, "ab.c", NAME_PATTERN_MESSAGE),
        (CLUSTER, "abc\n", NAME_PATTERN_MESSAGE),
    ],
)
def test_validate_name_rejects(desc: EntityDescriptor, name: Any, message: str):
    with pytest.raises(ValidationFailed) as caught:
        validate_name(desc, name)
    assert violations(caught.value) == [("name", message)]


def test_validate_name_checks_length_before_pattern():
    with pytest.raises(ValidationFailed) as caught:
        validate_name(CLUSTER, "A_")
    assert violations(caught.value) == [("name", "name must be at least 3 characters")]


def test_invalid_name_is_echoed_as_the_violation_value():
    with pytest.raises(ValidationFailed) as caught:
        validate_name(CLUSTER, "Bad_Name")
    (violation,) = caught.value.violations
    assert violation.has_value
    assert violation.value == "Bad_Name"
    assert violation.constraint == "pattern"


# --- spec -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "required", "expected"),
    [
        ({"spec": {}}, True, {}),
        ({"spec": {"a": 1}}, False, {"a": 1}),
        ({}, False, None),
    ],
)
def test_validate_spec_accepts(body: dict[str, Any], required: bool, expected: Any):
    assert validate_spec(body, required=required) == expected


@pytest.mark.parametrize(
    ("body", "required", "message"),
    [
        ({}, True, "spec is required"),
        # A present `null` is a spec of the wrong type, not a missing one (#7).
        ({"spec": None}, True, "spec field must be an object"),
        ({"spec": None}, False, "spec field must be an object"),
        ({"spec": []}, True, "spec field must be an object"),
        ({"spec": "x"}, False, "spec field must be an object"),
        ({"spec": 1}, False, "spec field must be an object"),
    ],
)
def test_validate_spec_rejects(body: dict[str, Any], required: bool, message: str):
    with pytest.raises(ValidationFailed) as caught:
        validate_spec(body, required=required)
    assert violations(caught.value) == [("spec", message)]


# --- labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"env": "prod"}, {"env": "prod"}),
        ({"env": ""}, {"env": ""}),
        ({"example.com/team": "a.b-c_d"}, {"example.com/team": "a.b-c_d"}),
        ({"a" * 63: "v" * 63}, {"a" * 63: "v" * 63}),
        ({"A.b_C-d": "X"}, {"A.b_C-d": "X"}),
    ],
)
def test_validate_labels_accepts(labels: Any, expected: dict[str, str]):
    assert validate_labels(labels) == expected


@pytest.mark.parametrize(
    ("labels", "field", "message"),
    [
        ({"": "v"}, "labels", "label key must not be empty"),
        ({"k" * 256: "v"}, "labels", "label key must be at most 255 characters"),
        ({"/name": "v"}, "labels", "label key prefix must not be empty"),
        (
            {"Example.com/name": "v"},
            "labels",
            "label key prefix must be a DNS subdomain (lower case, digits, '-', '.')",
        ),
        ({"example.com/": "v"}, "labels", "label key name must be 1 to 63 characters"),
        ({"a" * 64: "v"}, "labels", "label key name must be 1 to 63 characters"),
        (
            {"-bad": "v"},
            "labels",
            KEY_NAME_MESSAGE,
        ),
        (
            {"key\n": "v"},
            "labels",
            KEY_NAME_MESSAGE,
        ),
        (
            {"k": "v\n"},
            "labels[k]",
            VALUE_MESSAGE,
        ),
        ({"k": 1}, "labels[k]", "label values must be strings"),
        ({"k": "v" * 64}, "labels[k]", "label value must be at most 63 characters"),
        (
            {"k": "bad value"},
            "labels[k]",
            VALUE_MESSAGE,
        ),
    ],
)
def test_validate_labels_rejects(labels: dict[str, Any], field: str, message: str):
    with pytest.raises(ValidationFailed) as caught:
        validate_labels(labels)
    assert violations(caught.value) == [(field, message)]
    assert caught.value.detail == "label validation failed"


def test_validate_labels_reports_every_problem_at_once():
    with pytest.raises(ValidationFailed) as caught:
        validate_labels({"ok": "fine", "-bad": "v", "k": "bad value", "n": 5})
    assert [v.field for v in caught.value.violations] == ["labels", "labels[k]", "labels[n]"]


@pytest.mark.parametrize("labels", [[], "a=b", 3])
def test_validate_labels_must_be_an_object(labels: Any):
    with pytest.raises(ValidationFailed) as caught:
        validate_labels(labels)
    assert violations(caught.value) == [("labels", "field 'labels' must be an object")]


# --- PATCH fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [{}, {"spec": {}}, {"labels": {}}, {"references": {}, "spec": {"a": 1}}]
)
def test_validate_patch_fields_accepts_patchable_fields(body: dict[str, Any]):
    validate_patch_fields(body)


@pytest.mark.parametrize(
    ("body", "first", "fields"),
    [
        ({"name": "x"}, "name", ["name"]),
        ({"spec": {}, "status": {}, "id": "x"}, "id", ["id", "status"]),
    ],
)
def test_validate_patch_fields_rejects_unknown_fields(
    body: dict[str, Any], first: str, fields: list[str]
):
    with pytest.raises(MalformedRequest) as caught:
        validate_patch_fields(body)
    assert caught.value.detail == f"unknown field '{first}' in request body"
    assert [v.field for v in caught.value.violations] == fields
    assert caught.value.code == "HYPERFLEET-VAL-006"


# --- force-delete reason --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "reason is required"),
        ({}, "reason is required"),
        ({"reason": ""}, "reason is required"),
        ({"reason": "   "}, "reason is required"),
        ({"reason": 5}, "field 'reason' must be a string"),
        (
            {"reason": "x" * (FORCE_DELETE_REASON_MAX + 1)},
            f"reason must be at most {FORCE_DELETE_REASON_MAX} characters",
        ),
        (["reason"], "reason is required"),
    ],
)
def test_validate_force_delete_reason_rejects(body: Any, message: str):
    with pytest.raises(ValidationFailed) as caught:
        validate_force_delete_reason(body)
    assert violations(caught.value) == [("reason", message)]


@pytest.mark.parametrize("reason", ["stuck adapter", "x" * FORCE_DELETE_REASON_MAX])
def test_validate_force_delete_reason_accepts(reason: str):
    assert validate_force_delete_reason({"reason": reason}) == reason


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "x\\u0000y"}',
        b'{"a": 12345678901234567890}',
        b'{"a": -9223372036854775809}',
        b"[" * 65 + b"]" * 65,
        b'{"a": "\x00"}',
    ],
)
def test_bodies_that_may_fail_the_value_check_are_walked(raw):
    assert may_hold_invalid_values(raw)


@pytest.mark.parametrize(
    "raw", [b'{"a": 1, "b": [1, 2, {"c": "text"}]}', b'{"n": 922337203685477580}', b"[" * 64]
)
def test_ordinary_bodies_skip_the_walk(raw):
    assert not may_hold_invalid_values(raw)
