"""The demo's entity configuration and adapter set."""

from hyperfleet.config import EntityConfig
from hyperfleet.demo.configuration import (
    DEMO_DEPENDENCIES,
    adapters_by_kind,
    demo_entities,
    unknown_parts,
)
from hyperfleet.domain.entities import build_registry


def _registry(entities: list[EntityConfig]):
    return build_registry(e.model_dump(exclude_unset=True) for e in entities)


def test_demo_entities_add_the_documented_dependencies_and_keep_the_defaults():
    registry = _registry(demo_entities())
    cluster = registry.require("Cluster")
    nodepool = registry.require("NodePool")
    assert cluster.required_adapters == ("validation", "dns", "pullsecret", "hypershift")
    assert nodepool.required_adapters == ("validation", "hypershift")
    assert dict(cluster.adapter_dependencies) == {
        "dns": ("validation",),
        "hypershift": ("validation", "dns"),
    }
    assert dict(nodepool.adapter_dependencies) == {"hypershift": ("validation",)}
    assert set(DEMO_DEPENDENCIES) == {"Cluster", "NodePool"}


def test_adapters_are_the_required_then_optional_ones_of_each_kind():
    registry = _registry(
        [
            EntityConfig(
                kind="Cluster", required_adapters=["validation"], optional_adapters=["audit"]
            ),
            EntityConfig(kind="Widget", required_adapters=[]),
        ]
    )
    plan = adapters_by_kind(registry)
    assert plan["Cluster"] == ("validation", "audit")
    assert plan["NodePool"] == ("validation", "hypershift")
    assert "Widget" not in plan  # a kind without adapters needs no Sentinel either


def test_unknown_without_names_are_reported():
    registry = _registry(demo_entities())
    assert unknown_parts(["sentinel", "dns", "hypershift"], registry) == []
    assert unknown_parts(["dsn", "sentinel"], registry) == ["dsn"]
