"""Reconcile events as interfaces.md fixes them, and the variants adapters must tolerate."""

from __future__ import annotations

import json

import pytest

from hyperfleet.broker.events import (
    MalformedEvent,
    OwnerReference,
    ResourceHint,
    decode,
    encode,
    hint_from,
    reconcile_event,
)


def test_cluster_event_wire_shape() -> None:
    hint = ResourceHint(
        id="abc", kind="Cluster", href="/api/hyperfleet/v1/clusters/abc", generation=3
    )
    wire = json.loads(encode(reconcile_event(hint)))
    assert wire["specversion"] == "1.0"
    assert wire["type"] == "com.redhat.hyperfleet.cluster.reconcile"
    assert wire["source"] == "hyperfleet-sentinel"
    assert wire["datacontenttype"] == "application/json"
    assert len(wire["id"]) == 36
    assert wire["id"][14] == "7"  # UUID v7
    assert wire["data"] == {
        "id": "abc",
        "kind": "Cluster",
        "href": "/api/hyperfleet/v1/clusters/abc",
        "generation": 3,
    }


def test_nodepool_event_carries_owner_references() -> None:
    owner = OwnerReference("c1", "Cluster", "/api/hyperfleet/v1/clusters/c1")
    hint = ResourceHint(id="np1", kind="NodePool", generation=1, owner=owner)
    event = decode(encode(reconcile_event(hint)))
    assert event.get_type() == "com.redhat.hyperfleet.nodepool.reconcile"
    assert event.get_data()["owner_references"] == {
        "id": "c1",
        "kind": "Cluster",
        "href": "/api/hyperfleet/v1/clusters/c1",
    }
    assert hint_from(event) == hint


@pytest.mark.parametrize(
    "variant",
    [
        {
            "type": "com.redhat.hyperfleet.cluster.reconcile.v1",
            "source": "/hyperfleet/service/sentinel",
        },
        {"type": "io.hyperfleet.cluster.updated", "source": "hf-script"},
    ],
)
def test_any_type_and_source_with_absolute_href_and_string_generation(variant: dict) -> None:
    body = {
        "specversion": "1.0",
        "id": "same-id-every-time",
        **variant,
        "data": {
            "id": "c9",
            "kind": "Cluster",
            "href": "http://api:8000/api/hyperfleet/v1/clusters/c9",
            "generation": "4",
        },
    }
    hint = hint_from(decode(json.dumps(body).encode()))
    assert hint.id == "c9"
    assert hint.href == "http://api:8000/api/hyperfleet/v1/clusters/c9"
    assert hint.generation == 4


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b'{"specversion": "1.0"}'],
)
def test_undecodable_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        decode(body)


@pytest.mark.parametrize(
    "data", [None, "text", {"id": "x"}, {"kind": "Cluster"}, {"id": 3, "kind": "Cluster"}]
)
def test_data_without_id_and_kind_is_malformed(data: object) -> None:
    body = {"specversion": "1.0", "id": "1", "type": "t", "source": "s", "data": data}
    event = decode(json.dumps(body).encode())
    with pytest.raises(MalformedEvent):
        hint_from(event)
