"""The entity registry (reference §2.5, interfaces.md "entities"): built-in defaults, per-key
overrides of built-in kinds, new kinds, and start-up errors naming their key paths.
"""

from __future__ import annotations

from typing import Any

import pytest

from hyperfleet.domain.entities import (
    BUILTIN_KINDS,
    DB_NAME_CAP,
    EntityRegistry,
    RegistryError,
    build_registry,
    name_limits,
)
from hyperfleet.domain.model import EntityDescriptor, OnParentDelete

CASCADE = OnParentDelete.CASCADE
RESTRICT = OnParentDelete.RESTRICT

CLUSTER = EntityDescriptor(
    kind="Cluster",
    plural="clusters",
    parent_kind=None,
    required_adapters=("validation", "dns", "pullsecret", "hypershift"),
    name_min_len=3,
    name_max_len=53,
)
NODEPOOL = EntityDescriptor(
    kind="NodePool",
    plural="nodepools",
    parent_kind="Cluster",
    on_parent_delete=CASCADE,
    required_adapters=("validation", "hypershift"),
    name_min_len=3,
    name_max_len=15,
)


def test_defaults_are_cluster_and_nodepool():
    registry = build_registry([])
    assert registry.kinds == (CLUSTER, NODEPOOL)
    assert registry.kinds == BUILTIN_KINDS
    assert not registry.require("Cluster").is_child
    assert registry.require("NodePool").is_child


OVERRIDES = [
    # (id, entries, expected Cluster, expected NodePool)
    (
        "nodepool-adapters-only",
        [{"kind": "NodePool", "required_adapters": ["validation"]}],
        CLUSTER,
        EntityDescriptor(
            kind="NodePool",
            plural="nodepools",
            parent_kind="Cluster",
            on_parent_delete=CASCADE,
            required_adapters=("validation",),
            name_min_len=3,
            name_max_len=15,
        ),
    ),
    (
        "cluster-adapters-only",
        [{"kind": "Cluster", "required_adapters": ["validation", "dns"]}],
        EntityDescriptor(
            kind="Cluster",
            plural="clusters",
            required_adapters=("validation", "dns"),
            name_min_len=3,
            name_max_len=53,
        ),
        NODEPOOL,
    ),
    (
        "cluster-no-adapters",
        [{"kind": "Cluster", "required_adapters": []}],
        EntityDescriptor(
            kind="Cluster", plural="clusters", required_adapters=(), name_min_len=3, name_max_len=53
        ),
        NODEPOOL,
    ),
    (
        "name-lengths-only",
        [{"kind": "NodePool", "name_min_len": 1, "name_max_len": 40}],
        CLUSTER,
        EntityDescriptor(
            kind="NodePool",
            plural="nodepools",
            parent_kind="Cluster",
            on_parent_delete=CASCADE,
            required_adapters=("validation", "hypershift"),
            name_min_len=1,
            name_max_len=40,
        ),
    ),
    (
        "restrict-instead-of-cascade",
        [{"kind": "NodePool", "on_parent_delete": RESTRICT}],
        CLUSTER,
        EntityDescriptor(
            kind="NodePool",
            plural="nodepools",
            parent_kind="Cluster",
            on_parent_delete=RESTRICT,
            required_adapters=("validation", "hypershift"),
            name_min_len=3,
            name_max_len=15,
        ),
    ),
    (
        "unset-keys-given-as-none-are-ignored",
        [{"kind": "NodePool", "plural": None, "parent_kind": None, "required_adapters": None}],
        CLUSTER,
        NODEPOOL,
    ),
]


@pytest.mark.parametrize(
    ("entries", "cluster", "nodepool"),
    [pytest.param(e, c, n, id=i) for i, e, c, n in OVERRIDES],
)
def test_overrides_change_only_the_keys_they_set(
    entries: list[dict[str, Any]], cluster: EntityDescriptor, nodepool: EntityDescriptor
):
    registry = build_registry(entries)
    assert registry.require("Cluster") == cluster
    assert registry.require("NodePool") == nodepool
    assert [d.kind for d in registry.kinds] == ["Cluster", "NodePool"]


def test_required_adapters_keep_configuration_order():
    registry = build_registry([{"kind": "Cluster", "required_adapters": ["dns", "a", "b"]}])
    assert registry.require("Cluster").required_adapters == ("dns", "a", "b")


def test_new_kinds_get_defaults_and_keep_builtins():
    registry = build_registry(
        [
            {"kind": "Channel", "name_max_len": 0},
            {"kind": "Version", "parent_kind": "Channel", "on_parent_delete": RESTRICT},
            {"kind": "WifConfig"},
        ]
    )
    assert [d.kind for d in registry.kinds] == [
        "Cluster",
        "NodePool",
        "Channel",
        "Version",
        "WifConfig",
    ]
    assert registry.require("Channel") == EntityDescriptor(
        kind="Channel", plural="channels", name_max_len=0
    )
    version = registry.require("Version")
    assert (version.plural, version.parent_kind, version.on_parent_delete) == (
        "versions",
        "Channel",
        RESTRICT,
    )
    assert version.required_adapters == ()
    assert registry.require("WifConfig").plural == "wifconfigs"
    assert registry.require("Cluster") == CLUSTER
    assert registry.require("NodePool") == NODEPOOL


def test_new_kind_with_explicit_plural_and_adapters():
    registry = build_registry(
        [{"kind": "Widget", "plural": "widgetz", "required_adapters": ["builder"]}]
    )
    widget = registry.require("Widget")
    assert (widget.plural, widget.required_adapters) == ("widgetz", ("builder",))


def test_children_and_descendants():
    registry = build_registry(
        [
            {"kind": "Machine", "parent_kind": "NodePool"},
            {"kind": "Channel"},
            {"kind": "Version", "parent_kind": "Channel"},
        ]
    )
    assert [d.kind for d in registry.children_of("Cluster")] == ["NodePool"]
    assert [d.kind for d in registry.descendants_of("Cluster")] == ["NodePool", "Machine"]
    assert [d.kind for d in registry.descendants_of("Channel")] == ["Version"]
    assert registry.descendants_of("Machine") == ()


def test_lookup():
    registry = build_registry([])
    assert registry.get("Nope") is None
    with pytest.raises(KeyError):
        registry.require("Nope")


ERRORS = [
    # (id, entries, expected (key path, message) pairs)
    (
        "unknown-parent",
        [{"kind": "Version", "parent_kind": "Channel"}],
        [("entities[0].parent_kind", "unknown parent kind 'Channel'")],
    ),
    (
        "unknown-parent-on-builtin",
        [{"kind": "NodePool", "parent_kind": "Fleet"}],
        [("entities[0].parent_kind", "unknown parent kind 'Fleet'")],
    ),
    (
        "duplicate-plural-with-builtin",
        [{"kind": "Channel", "plural": "clusters"}],
        [("entities[0].plural", "plural 'clusters' is already used")],
    ),
    (
        "duplicate-plural-between-new-kinds",
        [{"kind": "Channel"}, {"kind": "Feed", "plural": "channels"}],
        [("entities[1].plural", "plural 'channels' is already used")],
    ),
    (
        "reserved-plural-resources",
        [{"kind": "Thing", "plural": "resources"}],
        [("entities[0].plural", "plural 'resources' is reserved")],
    ),
    (
        "reserved-plural-derived-from-kind",
        [{"kind": "Resource"}],
        [("entities[0].plural", "plural 'resources' is reserved")],
    ),
    (
        "invalid-plural",
        [{"kind": "Thing", "plural": "th ings"}],
        [("entities[0].plural", "plural must be non-empty letters, digits or '-'")],
    ),
    (
        "empty-plural",
        [{"kind": "Thing", "plural": ""}],
        [("entities[0].plural", "plural must be non-empty letters, digits or '-'")],
    ),
    (
        "self-parent",
        [{"kind": "Thing", "parent_kind": "Thing"}],
        [("entities[0].parent_kind", "ownership cycle through 'Thing'")],
    ),
    (
        "two-kind-cycle",
        [{"kind": "A", "parent_kind": "B"}, {"kind": "B", "parent_kind": "A"}],
        [
            ("entities[0].parent_kind", "ownership cycle through 'A'"),
            ("entities[1].parent_kind", "ownership cycle through 'B'"),
        ],
    ),
    (
        "cycle-through-builtins",
        [{"kind": "Cluster", "parent_kind": "NodePool"}],
        [
            ("entities[0].parent_kind", "ownership cycle through 'Cluster'"),
            ("entities(NodePool).parent_kind", "ownership cycle through 'NodePool'"),
        ],
    ),
    (
        "min-greater-than-max",
        [{"kind": "Cluster", "name_min_len": 10, "name_max_len": 5}],
        [("entities[0].name_min_len", "name_min_len is greater than name_max_len")],
    ),
    (
        "min-greater-than-builtin-max",
        [{"kind": "NodePool", "name_min_len": 16}],
        [("entities[0].name_min_len", "name_min_len is greater than name_max_len")],
    ),
    (
        "kind-declared-twice",
        [{"kind": "Thing"}, {"kind": "Thing", "plural": "others"}],
        [("entities[1].kind", "kind 'Thing' is declared twice")],
    ),
    (
        "every-problem-is-listed",
        [
            {"kind": "Thing", "plural": "resources"},
            {"kind": "Other", "parent_kind": "Ghost", "name_min_len": 9, "name_max_len": 2},
        ],
        [
            ("entities[0].plural", "plural 'resources' is reserved"),
            ("entities[1].parent_kind", "unknown parent kind 'Ghost'"),
            ("entities[1].name_min_len", "name_min_len is greater than name_max_len"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [pytest.param(e, x, id=i) for i, e, x in ERRORS],
)
def test_registry_errors_name_their_key_paths(
    entries: list[dict[str, Any]], expected: list[tuple[str, str]]
):
    with pytest.raises(RegistryError) as caught:
        build_registry(entries)
    assert caught.value.errors == expected
    assert isinstance(caught.value, ValueError)
    for path, message in expected:
        assert f"{path}: {message}" in str(caught.value)


def test_max_len_zero_means_no_min_max_conflict():
    registry = build_registry([{"kind": "Channel", "name_min_len": 90, "name_max_len": 0}])
    assert name_limits(registry.require("Channel")) == (90, DB_NAME_CAP)


@pytest.mark.parametrize(
    ("min_len", "max_len", "expected"),
    [(3, 53, (3, 53)), (0, 0, (1, DB_NAME_CAP)), (1, 100, (1, 100)), (0, 15, (1, 15))],
)
def test_name_limits(min_len: int, max_len: int, expected: tuple[int, int]):
    desc = EntityDescriptor(kind="K", plural="ks", name_min_len=min_len, name_max_len=max_len)
    assert name_limits(desc) == expected


def test_registry_is_immutable_value():
    registry = build_registry([])
    assert registry == EntityRegistry(BUILTIN_KINDS)
    with pytest.raises(AttributeError):
        registry.kinds = ()  # type: ignore[misc]
