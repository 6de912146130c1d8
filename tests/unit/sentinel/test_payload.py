"""Reconcile events: the wire contract by default, `message_data` when configured."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hyperfleet.broker.events import decode, encode
from hyperfleet.sentinel.config import SentinelConfigError
from hyperfleet.sentinel.payload import EventBuilder, PayloadError

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
CLUSTER = {
    "id": "c1",
    "kind": "Cluster",
    "href": "/api/hyperfleet/v1/clusters/c1",
    "generation": 4,
    "labels": {"env": "prod"},
    "status": {"conditions": [{"type": "Reconciled", "status": "False"}]},
}
NODEPOOL = {
    "id": "n1",
    "kind": "NodePool",
    "href": "/api/hyperfleet/v1/clusters/c1/nodepools/n1",
    "generation": 1,
    "owner_references": {"id": "c1", "kind": "Cluster", "href": "/api/hyperfleet/v1/clusters/c1"},
}


def test_default_cluster_event_is_the_wire_contract() -> None:
    event = decode(encode(EventBuilder.compile(None).build(CLUSTER, NOW)))
    assert event.get_type() == "com.redhat.hyperfleet.cluster.reconcile"
    assert event.get_source() == "hyperfleet-sentinel"
    assert event.get_datacontenttype() == "application/json"
    assert event.get_data() == {
        "id": "c1",
        "kind": "Cluster",
        "href": "/api/hyperfleet/v1/clusters/c1",
        "generation": 4,
    }


def test_default_nodepool_event_carries_its_owner() -> None:
    event = EventBuilder.compile(None).build(NODEPOOL, NOW)
    assert event.get_type() == "com.redhat.hyperfleet.nodepool.reconcile"
    assert event.get_data() == {
        "id": "n1",
        "kind": "NodePool",
        "href": "/api/hyperfleet/v1/clusters/c1/nodepools/n1",
        "generation": 1,
        "owner_references": {
            "id": "c1",
            "kind": "Cluster",
            "href": "/api/hyperfleet/v1/clusters/c1",
        },
    }


def test_event_ids_are_fresh() -> None:
    builder = EventBuilder.compile(None)
    assert builder.build(CLUSTER, NOW).get_id() != builder.build(CLUSTER, NOW).get_id()


def test_resource_without_id_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        EventBuilder.compile(None).build({"kind": "Cluster"}, NOW)


def test_custom_message_data_nests_and_omits_missing_paths() -> None:
    builder = EventBuilder.compile(
        {
            "id": "resource.id",
            "env": "resource.labels.env",
            "owner": {"id": "resource.owner_references.id"},
            "reconciled": 'condition("Reconciled").status',
            "at": "now",
        }
    )
    event = builder.build(CLUSTER, NOW)
    assert event.get_type() == "com.redhat.hyperfleet.cluster.reconcile"
    assert event.get_data() == {
        "id": "c1",
        "env": "prod",
        "owner": {},
        "reconciled": "False",
        "at": "2026-06-01T12:00:00Z",
    }
    assert decode(encode(event)).get_data() == event.get_data()


def test_custom_message_data_compile_errors_have_paths() -> None:
    with pytest.raises(SentinelConfigError) as info:
        EventBuilder.compile({"id": "resource.id", "owner": {"id": "resource.", "x": "nosuch"}})
    assert [p for p, _ in info.value.errors] == ["message_data.owner.id", "message_data.owner.x"]


def test_custom_message_data_unknown_function_fails_at_start() -> None:
    with pytest.raises(SentinelConfigError) as info:
        EventBuilder.compile({"id": "resource.id", "x": {"y": "lower(resource.kind)"}})
    assert info.value.errors[0][0] == "message_data.x.y"


def test_runtime_failure_is_a_payload_error() -> None:
    builder = EventBuilder.compile({"n": "resource.generation + resource.kind"})
    with pytest.raises(PayloadError, match=r"message_data\.n"):
        builder.build(CLUSTER, NOW)
