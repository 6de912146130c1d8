"""Create-body validation (kind → name → spec → labels, first error wins), body decoding limits,
name uniqueness, and configured entity kinds.

Contract: spec/reference-api.md §1.2, §2.5, §7.1-7.4.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.factories import (
    API,
    assert_json,
    assert_problem,
    cluster_body,
    create_cluster,
    create_kind,
    create_nodepool,
    delete,
    nodepool_body,
    unique_name,
)

from hyperfleet.config import load_settings

NAME_PATTERN_FRAGMENT = "lower case alphanumeric"


async def post_cluster(client, body):
    return await client.post(f"{API}/clusters", json=body)


# -- kind -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        (None, "kind is required"),
        ("", "kind is required"),
        ("cluster", "kind must be 'Cluster'"),
        ("CLUSTER", "kind must be 'Cluster'"),
        ("NodePool", "kind must be 'Cluster'"),
        ("Cluster ", "kind must be 'Cluster'"),
        ("Clusters", "kind must be 'Cluster'"),
    ],
)
async def test_cluster_kind(client, kind, detail):
    body = cluster_body()
    if kind is None:
        del body["kind"]
    else:
        body["kind"] = kind
    r = await post_cluster(client, body)
    problem = assert_problem(r, 400, "HYPERFLEET-VAL-000", detail, fields=["kind"])
    assert problem["errors"][0]["message"] == detail


@pytest.mark.parametrize("kind", [123, True, ["Cluster"], {"kind": "Cluster"}])
async def test_cluster_kind_of_wrong_json_type(client, kind):
    r = await post_cluster(client, cluster_body(kind=kind))
    assert_problem(r, 400, "HYPERFLEET-VAL-000", fields=["kind"])


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        (None, "kind is required"),
        ("Cluster", "kind must be 'NodePool'"),
        ("nodepool", "kind must be 'NodePool'"),
    ],
)
async def test_nodepool_kind(client, kind, detail):
    cluster = await create_cluster(client)
    body = nodepool_body()
    if kind is None:
        del body["kind"]
    else:
        body["kind"] = kind
    r = await client.post(f"{API}/clusters/{cluster['id']}/nodepools", json=body)
    assert_problem(r, 400, "HYPERFLEET-VAL-000", detail, fields=["kind"])


# -- name -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "a" * 53, "a-b", "0ab", "ab0", "my-cluster-01", "123"])
async def test_cluster_name_accepted(client, name):
    r = await post_cluster(client, cluster_body(name=name))
    assert assert_json(r, 201)["name"] == name


@pytest.mark.parametrize(
    ("name", "constraint", "fragment"),
    [
        ("ab", "min_length", "at least 3"),
        ("a", "min_length", "at least 3"),
        ("a" * 54, "max_length", "at most 53"),
        ("a" * 101, "max_length", "at most 53"),
        ("My-cluster", "pattern", NAME_PATTERN_FRAGMENT),
        ("-abc", "pattern", NAME_PATTERN_FRAGMENT),
        ("abc-", "pattern", NAME_PATTERN_FRAGMENT),
        ("ab_c", "pattern", NAME_PATTERN_FRAGMENT),
        ("ab.c", "pattern", NAME_PATTERN_FRAGMENT),
        ("ab c", "pattern", NAME_PATTERN_FRAGMENT),
        ("abc\n", "pattern", NAME_PATTERN_FRAGMENT),
        ("abc\r\n", "pattern", NAME_PATTERN_FRAGMENT),
        ("\nabc", "pattern", NAME_PATTERN_FRAGMENT),
        ("<script>", "pattern", NAME_PATTERN_FRAGMENT),
        ("ab/c", "pattern", NAME_PATTERN_FRAGMENT),
        ("ǎbc", "pattern", NAME_PATTERN_FRAGMENT),
    ],
)
async def test_cluster_name_rejected(client, name, constraint, fragment):
    r = await post_cluster(client, cluster_body(name=name))
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", detail_contains=[fragment], fields=["name"])
    assert body["errors"][0]["constraint"] == constraint
    assert body["errors"][0]["value"] == name
    assert assert_json(await client.get(f"{API}/clusters"), 200)["total"] == 0


@pytest.mark.parametrize("name", [None, ""])
async def test_cluster_name_required(client, name):
    body = cluster_body()
    if name is None:
        del body["name"]
    else:
        body["name"] = name
    r = await post_cluster(client, body)
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "name is required", fields=["name"])


@pytest.mark.parametrize("name", [123, ["abc"], {"n": "abc"}, True])
async def test_cluster_name_of_wrong_json_type(client, name):
    r = await post_cluster(client, cluster_body(name=name))
    assert_problem(r, 400, "HYPERFLEET-VAL-000", fields=["name"])


@pytest.mark.parametrize(
    ("name", "status", "fragment"),
    [
        ("abc", 201, None),
        ("a" * 15, 201, None),
        ("ab", 400, "at least 3"),
        ("a" * 16, 400, "at most 15"),
        ("Pool-1", 400, NAME_PATTERN_FRAGMENT),
        ("pool_1", 400, NAME_PATTERN_FRAGMENT),
    ],
)
async def test_nodepool_name_limits(client, name, status, fragment):
    cluster = await create_cluster(client)
    r = await client.post(
        f"{API}/clusters/{cluster['id']}/nodepools", json=nodepool_body(name=name)
    )
    if status == 201:
        assert assert_json(r, 201)["name"] == name
    else:
        assert_problem(r, 400, "HYPERFLEET-VAL-000", detail_contains=[fragment], fields=["name"])


# -- spec -------------------------------------------------------------------------------------


async def test_spec_missing(client):
    body = cluster_body()
    del body["spec"]
    r = await post_cluster(client, body)
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "spec is required", fields=["spec"])


async def test_spec_null(client):
    # #7: a present `null` is a spec of the wrong type; only an absent spec is "required".
    r = await post_cluster(client, cluster_body(spec=None))
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "spec field must be an object", fields=["spec"])


@pytest.mark.parametrize(
    ("spec", "detail"),
    [(None, "spec field must be an object"), (..., "spec is required")],
    ids=["null", "missing"],
)
async def test_nodepool_spec_null_or_missing(client, spec, detail):
    cluster = await create_cluster(client)
    body = nodepool_body()
    if spec is ...:
        del body["spec"]
    else:
        body["spec"] = spec
    r = await client.post(f"{API}/clusters/{cluster['id']}/nodepools", json=body)
    assert_problem(r, 400, "HYPERFLEET-VAL-000", detail, fields=["spec"])


@pytest.mark.parametrize("spec", ["a string", "", [], [{"a": 1}], 42, 1.5, True])
async def test_spec_not_an_object(client, spec):
    r = await post_cluster(client, cluster_body(spec=spec))
    assert_problem(r, 400, "HYPERFLEET-VAL-000", "spec field must be an object", fields=["spec"])


async def test_spec_any_object_is_accepted_and_round_trips(client):
    spec = {
        "provider": "gcp",
        "nested": {"list": [1, "two", None, True, {"x": 1.25}], "empty": {}},
        "camelCase": "ok",
        "unicode": "ünïcödé ✓",
        "big": 9223372036854775807,
        "small": -9223372036854775808,
    }
    created = await create_cluster(client, spec=spec)
    assert created["spec"] == spec
    got = assert_json(await client.get(f"{API}/clusters/{created['id']}"), 200)
    assert got["spec"] == spec


# -- first error wins: kind → name → spec → labels -----------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "Nope", "name": "X", "spec": "s", "labels": {"-": "-"}}, "kind"),
        ({"kind": "Cluster", "name": "X", "spec": "s", "labels": {"-": "-"}}, "name"),
        ({"kind": "Cluster", "name": "abc", "spec": "s", "labels": {"-": "-"}}, "spec"),
        ({"kind": "Cluster", "name": "abc", "labels": {"-": "-"}}, "spec"),
        ({"kind": "Cluster", "name": "abc", "spec": {}, "labels": {"-": "-"}}, "labels"),
        ({"name": "X"}, "kind"),
        ({"kind": "Cluster"}, "name"),
    ],
)
async def test_validation_order(client, body, field):
    r = await post_cluster(client, body)
    problem = assert_problem(r, 400, "HYPERFLEET-VAL-000")
    assert problem["errors"][0]["field"] == field
    assert all(e["field"].startswith(field) for e in problem["errors"])


# -- labels -----------------------------------------------------------------------------------

VALID_LABELS = [
    {"env": "prod"},
    {"a": ""},
    {"Env": "Prod"},
    {"k.with_dots-and_under": "v.with-all_3"},
    {"app.kubernetes.io/name": "hyperfleet"},
    {"example.com/x": "y"},
    {"a-b.c-d.e/Name_1": "1"},
    {"k" * 63: "v" * 63},
    {("p" * 63 + "." + "q" * 63 + "." + "r" * 63 + "." + "s" * 61) + "/n": "x"},  # 255 total
    {("p" * 63 + "." + "q" * 63 + "." + "r" * 63) + "/" + "n" * 63: "x"},
    {"1": "2"},
    {"a": "b", "c": "d", "e": "f"},
]


@pytest.mark.parametrize("labels", VALID_LABELS)
async def test_labels_accepted(client, labels):
    created = await create_cluster(client, labels=labels)
    assert created["labels"] == labels
    got = assert_json(await client.get(f"{API}/clusters/{created['id']}"), 200)
    assert got["labels"] == labels


INVALID_KEYS = [
    "-leading",
    "trailing-",
    ".dot",
    "has space",
    "<script>",
    "a;b",
    "k" * 64,
    "Upper.Case/name",
    "/name",
    "prefix/",
    "a/b/c",
    "-bad.example/name",
    "bad-.example/name",
    "ex_ample.com/name",
    ("p" * 64) + "/name",
    ("p" * 63 + ".") * 4 + "p/name",
    "example.com/-name",
    ("p" * 63 + "." + "q" * 63 + "." + "r" * 63 + "." + "s" * 61) + "/nn",  # 256 total
    "env\n",
    "example.com/env\n",
    "ключ",
    "",
]


@pytest.mark.parametrize("key", INVALID_KEYS)
async def test_label_key_rejected(client, key):
    r = await post_cluster(client, cluster_body(labels={key: "v"}))
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", "label validation failed")
    assert len(body["errors"]) == 1
    item = body["errors"][0]
    assert item["field"] in {"labels", f"labels[{key}]"}
    assert item["value"] == key
    assert item["message"]


INVALID_VALUES = [
    "v" * 64,
    "-leading",
    "trailing.",
    "has space",
    "<script>alert(1)</script>",
    "a;b",
    "a/b",
    'quote"s',
    "ünï",
    "a\tb",
    "prod\n",
    "\n",
]


@pytest.mark.parametrize("value", INVALID_VALUES)
async def test_label_value_rejected(client, value):
    r = await post_cluster(client, cluster_body(labels={"env": value}))
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", "label validation failed")
    assert [e["field"] for e in body["errors"]] == ["labels[env]"]
    assert body["errors"][0]["value"] == value
    assert body["errors"][0]["message"]
    if len(value) <= 63:
        assert body["errors"][0]["constraint"] == "pattern"


async def test_label_errors_report_every_bad_label(client):
    r = await post_cluster(client, cluster_body(labels={"ok": "fine", "-k": "v", "k2": "<b>"}))
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", "label validation failed")
    assert sorted((e["field"], e["value"]) for e in body["errors"]) == sorted(
        [("labels", "-k"), ("labels[k2]", "<b>")]
    )


@pytest.mark.parametrize(
    "labels",
    [["a", "b"], "env=prod", 5, {"env": 5}, {"env": ["a"]}, {"env": {"x": "y"}}, {"env": True}],
)
async def test_labels_of_wrong_json_type(client, labels):
    r = await post_cluster(client, cluster_body(labels=labels))
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000")
    assert all(e["field"].startswith("labels") for e in body["errors"]), body
    assert assert_json(await client.get(f"{API}/clusters"), 200)["total"] == 0


async def test_nodepool_labels_validated_too(client):
    cluster = await create_cluster(client)
    r = await client.post(
        f"{API}/clusters/{cluster['id']}/nodepools", json=nodepool_body(labels={"x": "<y>"})
    )
    body = assert_problem(r, 400, "HYPERFLEET-VAL-000", "label validation failed")
    assert [e["field"] for e in body["errors"]] == ["labels[x]"]


# -- body decoding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"not json",
        b'{"kind": "Cluster",}',
        b"{'kind': 'Cluster'}",
        b'{"a": NaN}',
        b"\xff\xfe",
        b'{"kind":"Cluster"} trailing',
    ],
)
async def test_malformed_json_is_val_006(client, raw):
    r = await client.post(
        f"{API}/clusters", content=raw, headers={"content-type": "application/json"}
    )
    assert_problem(r, 400, "HYPERFLEET-VAL-006", "Invalid JSON in request body")


@pytest.mark.parametrize("raw", [b"", b"   ", b"\n"])
async def test_empty_body_is_val_006(client, raw):
    r = await client.post(
        f"{API}/clusters", content=raw, headers={"content-type": "application/json"}
    )
    assert_problem(r, 400, "HYPERFLEET-VAL-006")


@pytest.mark.parametrize(
    "raw",
    [b"[]", b'[{"kind":"Cluster","name":"abc","spec":{}}]', b"null", b"42", b'"Cluster"', b"true"],
)
@pytest.mark.parametrize("path", ["/clusters", "/resources"])
async def test_non_object_body_is_400(client, raw, path):
    r = await client.post(f"{API}{path}", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert_problem(r, 400, r.json()["code"])
    assert r.json()["code"] in {"HYPERFLEET-VAL-006", "HYPERFLEET-VAL-000"}


async def test_non_object_body_on_nodepool_create_is_400(client):
    cluster = await create_cluster(client)
    r = await client.post(
        f"{API}/clusters/{cluster['id']}/nodepools",
        content=b"[1, 2]",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] in {"HYPERFLEET-VAL-006", "HYPERFLEET-VAL-000"}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.update(name="ab\u0000c"), "name"),
        (lambda b: b.update(spec={"a": "x\u0000y"}), "spec.a"),
        (lambda b: b.update(spec={"a": {"b": ["ok", "bad\u0000"]}}), "spec.a.b[1]"),
        (lambda b: b.update(spec={"a\u0000b": 1}), "spec"),
        (lambda b: b.update(labels={"env": "pr\u0000od"}), "labels"),
        (lambda b: b.update(labels={"e\u0000nv": "prod"}), "labels"),
        (lambda b: b.update(kind="Clus\u0000ter"), "kind"),
    ],
    ids=["name", "spec-value", "spec-nested", "spec-key", "label-value", "label-key", "kind"],
)
async def test_nul_character_anywhere_is_400_naming_the_field(client, mutate, field):
    body = cluster_body()
    mutate(body)
    r = await post_cluster(client, body)
    problem = assert_problem(r, 400, "HYPERFLEET-VAL-000")
    assert problem["errors"][0]["field"].startswith(field), problem
    assert field in problem["detail"] or problem["errors"][0]["field"] in problem["detail"]
    assert assert_json(await client.get(f"{API}/clusters"), 200)["total"] == 0


@pytest.mark.parametrize(
    ("number", "field"),
    [
        ("9223372036854775808", "spec.n"),
        ("-9223372036854775809", "spec.n"),
        ("18446744073709551616", "spec.n"),
        ("123456789012345678901234567890", "spec.n"),
    ],
)
async def test_integer_beyond_int64_is_400(client, number, field):
    raw = '{"kind":"Cluster","name":"%s","spec":{"n":%s}}' % (unique_name(), number)  # noqa: UP031
    r = await client.post(
        f"{API}/clusters", content=raw.encode(), headers={"content-type": "application/json"}
    )
    problem = assert_problem(r, 400, "HYPERFLEET-VAL-000", fields=[field])
    assert "spec.n" in problem["detail"]


async def test_integer_beyond_int64_in_labels_or_nested_spec_is_400(client):
    raw = '{"kind":"Cluster","name":"%s","spec":{"a":[{"b":99999999999999999999}]}}' % (  # noqa: UP031
        unique_name()
    )
    r = await client.post(
        f"{API}/clusters", content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert_problem(r, 400, "HYPERFLEET-VAL-000", fields=["spec.a[0].b"])


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.7976931348623157e309"])
async def test_float_out_of_range_is_400(client, number):
    raw = '{"kind":"Cluster","name":"%s","spec":{"n":%s}}' % (unique_name(), number)  # noqa: UP031
    r = await client.post(
        f"{API}/clusters", content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] in {"HYPERFLEET-VAL-000", "HYPERFLEET-VAL-006"}
    assert assert_json(await client.get(f"{API}/clusters"), 200)["total"] == 0


def _nested_json(depth: int) -> str:
    """`depth` alternating array/object levels around a string, as raw JSON text."""
    opens = "".join('{"k":' if i % 2 else "[" for i in range(depth))
    closes = "".join("}" if i % 2 else "]" for i in reversed(range(depth)))
    return opens + '"leaf"' + closes


@pytest.mark.parametrize("depth", [100, 200, 1000, 5000, 100_000])
async def test_deep_nesting_is_400(client, depth):
    raw = '{"kind":"Cluster","name":"%s","spec":{"deep":%s}}' % (  # noqa: UP031
        unique_name(),
        _nested_json(depth),
    )
    r = await client.post(
        f"{API}/clusters", content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 400, r.text[:300]
    problem = r.json()
    assert problem["code"] in {"HYPERFLEET-VAL-000", "HYPERFLEET-VAL-006"}
    assert_problem(r, 400, problem["code"])
    assert assert_json(await client.get(f"{API}/clusters"), 200)["total"] == 0


async def test_moderate_nesting_is_accepted(client):
    spec = {"deep": json.loads(_nested_json(20))}
    created = await create_cluster(client, spec=spec)
    assert created["spec"] == spec


# -- uniqueness -------------------------------------------------------------------------------


async def test_duplicate_cluster_name_is_409(client):
    first = await create_cluster(client)
    r = await post_cluster(client, cluster_body(name=first["name"], spec={"other": True}))
    assert_problem(r, 409, "HYPERFLEET-CNF-001", "This Cluster already exists")
    listed = assert_json(await client.get(f"{API}/clusters"), 200)
    assert [i["id"] for i in listed["items"]] == [first["id"]]


async def test_duplicate_cluster_name_via_resources_is_409(client):
    first = await create_cluster(client)
    r = await client.post(f"{API}/resources", json=cluster_body(name=first["name"]))
    assert_problem(r, 409, "HYPERFLEET-CNF-001", "This Cluster already exists")


async def test_duplicate_nodepool_name_in_same_cluster_is_409(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])
    r = await client.post(
        f"{API}/clusters/{cluster['id']}/nodepools", json=nodepool_body(name=np["name"])
    )
    assert_problem(r, 409, "HYPERFLEET-CNF-001", "This NodePool already exists")


async def test_same_nodepool_name_in_two_clusters(client):
    c1 = await create_cluster(client)
    c2 = await create_cluster(client)
    a = await create_nodepool(client, c1["id"], name="pool-a")
    b = await create_nodepool(client, c2["id"], name="pool-a")
    assert a["id"] != b["id"]
    assert a["name"] == b["name"] == "pool-a"


async def test_cluster_and_nodepool_may_share_a_name(client):
    cluster = await create_cluster(client, name="shared-name")
    np = await create_nodepool(client, cluster["id"], name="shared-name")
    assert np["name"] == cluster["name"]


async def test_cluster_name_reusable_after_soft_delete(client):
    first = await create_cluster(client)
    deleted = await delete(client, f"/clusters/{first['id']}")
    assert "deleted_time" in deleted
    second = await create_cluster(client, name=first["name"])
    assert second["id"] != first["id"]
    # the soft-deleted one is still there
    old = assert_json(await client.get(f"{API}/clusters/{first['id']}"), 200)
    assert old["name"] == first["name"]
    assert "deleted_time" in old
    # but only one live one may hold the name
    r = await post_cluster(client, cluster_body(name=first["name"]))
    assert_problem(r, 409, "HYPERFLEET-CNF-001", "This Cluster already exists")


async def test_nodepool_name_reusable_after_soft_delete(client):
    cluster = await create_cluster(client)
    np = await create_nodepool(client, cluster["id"])
    await delete(client, f"/nodepools/{np['id']}")
    again = await create_nodepool(client, cluster["id"], name=np["name"])
    assert again["id"] != np["id"]


# -- configured entity kinds ------------------------------------------------------------------

WIDGET_ENTITIES = [
    {
        "kind": "Widget",
        "plural": "widgets",
        "required_adapters": ["builder"],
        "name_min_len": 4,
        "name_max_len": 8,
    },
    {
        "kind": "Gadget",
        "plural": "gadgets",
        "parent_kind": "Widget",
        "on_parent_delete": "restrict",
        "required_adapters": [],
    },
    {"kind": "NodePool", "name_max_len": 20},
]


class TestConfiguredKinds:
    @pytest.fixture
    def settings(self):
        return load_settings(None, use_env=False, entities=WIDGET_ENTITIES)

    @pytest.mark.parametrize(
        ("name", "status", "fragment"),
        [
            ("abcd", 201, None),
            ("abcdefgh", 201, None),
            ("abc", 400, "at least 4"),
            ("abcdefghi", 400, "at most 8"),
            ("Abcd", 400, NAME_PATTERN_FRAGMENT),
        ],
    )
    async def test_widget_name_limits(self, client, name, status, fragment):
        r = await client.post(f"{API}/widgets", json={"kind": "Widget", "name": name, "spec": {}})
        if status == 201:
            body = assert_json(r, 201)
            assert body["name"] == name
            assert body["kind"] == "Widget"
            assert body["href"] == f"{API}/widgets/{body['id']}"
            rec = next(c for c in body["status"]["conditions"] if c["type"] == "Reconciled")
            assert rec["message"] == (
                "Required adapters not reporting Available=True: [builder]. Currently reporting: []"
            )
        else:
            assert_problem(
                r, 400, "HYPERFLEET-VAL-000", detail_contains=[fragment], fields=["name"]
            )

    async def test_widget_kind_must_match(self, client):
        r = await client.post(
            f"{API}/widgets", json={"kind": "Cluster", "name": "abcd", "spec": {}}
        )
        assert_problem(r, 400, "HYPERFLEET-VAL-000", "kind must be 'Widget'", fields=["kind"])

    async def test_widget_routes(self, client):
        w = await create_kind(client, "/widgets", "Widget", name="wid-1")
        assert assert_json(await client.get(f"{API}/widgets/{w['id']}"), 200) == w
        listed = assert_json(await client.get(f"{API}/widgets"), 200)
        assert [i["id"] for i in listed["items"]] == [w["id"]]
        patched = assert_json(
            await client.patch(f"{API}/widgets/{w['id']}", json={"spec": {"v": 2}}), 200
        )
        assert patched["generation"] == 2
        # a Widget is not a Cluster
        r = await client.get(f"{API}/clusters/{w['id']}")
        assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Cluster with id='{w['id']}' not found")
        r = await client.get(f"{API}/widgets/{w['id']}/statuses")
        assert assert_json(r, 200)["total"] == 0

    async def test_gadget_nested_routes(self, client):
        w = await create_kind(client, "/widgets", "Widget", name="wid-2")
        g = await create_kind(client, f"/widgets/{w['id']}/gadgets", "Gadget", name="g")
        assert g["href"] == f"{API}/widgets/{w['id']}/gadgets/{g['id']}"
        assert g["owner_references"] == {"id": w["id"], "kind": "Widget", "href": w["href"]}
        assert assert_json(await client.get(f"{API}/gadgets/{g['id']}"), 200) == g
        nested = assert_json(await client.get(f"{API}/widgets/{w['id']}/gadgets/{g['id']}"), 200)
        assert nested == g
        listed = assert_json(await client.get(f"{API}/widgets/{w['id']}/gadgets"), 200)
        assert [i["id"] for i in listed["items"]] == [g["id"]]
        flat = assert_json(await client.get(f"{API}/gadgets"), 200)
        assert flat["total"] == 1

    async def test_gadget_name_defaults_to_1_to_100(self, client):
        w = await create_kind(client, "/widgets", "Widget", name="wid-3")
        path = f"{API}/widgets/{w['id']}/gadgets"
        ok = await client.post(path, json={"kind": "Gadget", "name": "g" * 100, "spec": {}})
        assert assert_json(ok, 201)["name"] == "g" * 100
        long = await client.post(path, json={"kind": "Gadget", "name": "g" * 101, "spec": {}})
        assert_problem(
            long, 400, "HYPERFLEET-VAL-000", detail_contains=["at most 100"], fields=["name"]
        )

    async def test_gadget_flat_and_root_post_is_422(self, client):
        await create_kind(client, "/widgets", "Widget", name="wid-4")
        body = {"kind": "Gadget", "name": "gad", "spec": {}}
        r = await client.post(f"{API}/gadgets", json=body)
        assert_problem(r, 422, "HYPERFLEET-VAL-000", detail_contains=["Gadget"])
        r = await client.post(f"{API}/resources", json=body)
        assert_problem(r, 422, "HYPERFLEET-VAL-000", detail_contains=["Gadget"])

    async def test_resources_routes_know_configured_kinds(self, client):
        r = await client.post(
            f"{API}/resources", json={"kind": "Widget", "name": "wid-5", "spec": {}}
        )
        w = assert_json(r, 201)
        assert w["href"] == f"{API}/widgets/{w['id']}"
        await create_cluster(client)
        only = assert_json(await client.get(f"{API}/resources", params={"kind": "Widget"}), 200)
        assert [i["id"] for i in only["items"]] == [w["id"]]
        assert assert_json(await client.get(f"{API}/resources"), 200)["total"] == 2

    async def test_gadget_under_missing_widget_is_404(self, client):
        missing = "019466a0-8f8e-7abc-9def-0123456789ab"
        r = await client.post(
            f"{API}/widgets/{missing}/gadgets", json={"kind": "Gadget", "name": "gad", "spec": {}}
        )
        assert_problem(r, 404, "HYPERFLEET-NTF-001", f"Widget with id='{missing}' not found")

    async def test_override_of_builtin_nodepool_name_limit(self, client):
        cluster = await create_cluster(client)
        path = f"{API}/clusters/{cluster['id']}/nodepools"
        ok = await client.post(path, json=nodepool_body(name="p" * 20))
        assert assert_json(ok, 201)["name"] == "p" * 20
        r = await client.post(path, json=nodepool_body(name="p" * 21))
        assert_problem(
            r, 400, "HYPERFLEET-VAL-000", detail_contains=["at most 20"], fields=["name"]
        )

    async def test_cluster_routes_still_present(self, client):
        cluster = await create_cluster(client)
        assert cluster["kind"] == "Cluster"
        assert json.loads((await client.get(f"{API}/clusters")).text)["total"] == 1

    async def test_unknown_plural_is_endpoint_not_found(self, client):
        r = await client.get(f"{API}/gizmos")
        assert_problem(
            r, 404, "HYPERFLEET-NTF-000", f"The requested endpoint '{API}/gizmos' does not exist"
        )


async def test_concurrent_creates_with_one_name_yield_one_winner(client):
    name = unique_name()
    results = await asyncio.gather(
        *(client.post(f"{API}/clusters", json=cluster_body(name=name)) for _ in range(6))
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 5, [r.text for r in results]
    for r in results:
        if r.status_code == 409:
            assert_problem(r, 409, "HYPERFLEET-CNF-001", "This Cluster already exists")
    assert assert_json(await client.get(f"{API}/clusters"), 200)["total"] == 1
