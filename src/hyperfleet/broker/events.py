"""Reconcile events on the wire: CloudEvents 1.0, structured JSON mode, anemic data.

The Sentinel publishes `com.redhat.hyperfleet.<kind>.reconcile` from `hyperfleet-sentinel` with
`data = {id, kind, href, generation}` (+ `owner_references {id, kind, href}` for a child kind).
Adapters accept any event whose data carries `id` and `kind`, whatever its type, source, id or
href: an event only says which resource to look at, never what state it is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import uuid_utils
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

SOURCE = "hyperfleet-sentinel"
CONTENT_TYPE = JSONFormat.CONTENT_TYPE
_FORMAT = JSONFormat()


class MalformedEvent(ValueError):
    """The bytes are not a CloudEvent, or its data does not name a resource."""


@dataclass(frozen=True, slots=True)
class OwnerReference:
    id: str
    kind: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceHint:
    """What an event says: look at resource `id` of `kind` (generation as the sender saw it)."""

    id: str
    kind: str
    href: str | None = None
    generation: int | None = None
    owner: OwnerReference | None = None


def reconcile_type(kind: str) -> str:
    return f"com.redhat.hyperfleet.{kind.lower()}.reconcile"


def reconcile_event(hint: ResourceHint) -> CloudEvent:
    """The Sentinel's event for one resource; the id is a fresh UUID v7."""
    data: dict[str, Any] = {"id": hint.id, "kind": hint.kind}
    if hint.href is not None:
        data["href"] = hint.href
    if hint.generation is not None:
        data["generation"] = hint.generation
    if hint.owner is not None:
        owner: dict[str, Any] = {"id": hint.owner.id, "kind": hint.owner.kind}
        if hint.owner.href is not None:
            owner["href"] = hint.owner.href
        data["owner_references"] = owner
    attributes = {
        "id": str(uuid_utils.uuid7()),
        "type": reconcile_type(hint.kind),
        "source": SOURCE,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, data)


def encode(event: BaseCloudEvent) -> bytes:
    return _FORMAT.write(event)


def decode(body: bytes) -> CloudEvent:
    """Parse a structured-mode CloudEvent; anything else is MalformedEvent."""
    try:
        event = _FORMAT.read(CloudEvent, body)
    except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MalformedEvent(f"not a CloudEvent: {exc}") from exc
    if not isinstance(event, CloudEvent):  # pragma: no cover - the factory is CloudEvent
        raise MalformedEvent("not a CloudEvents 1.0 event")
    return event


def hint_from(event: BaseCloudEvent) -> ResourceHint:
    """The resource an event points at; MalformedEvent when its data names none."""
    data = event.get_data()
    if not isinstance(data, dict):
        raise MalformedEvent("event data is not a JSON object")
    rid, kind = data.get("id"), data.get("kind")
    if not isinstance(rid, str) or not rid or not isinstance(kind, str) or not kind:
        raise MalformedEvent("event data must carry string 'id' and 'kind'")
    href = data.get("href")
    generation = data.get("generation")
    owner = data.get("owner_references")
    return ResourceHint(
        id=rid,
        kind=kind,
        href=href if isinstance(href, str) and href else None,
        generation=_int_or_none(generation),
        owner=_owner(owner),
    )


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)  # the superseded payload sent generation as a string
    return None


def _owner(value: Any) -> OwnerReference | None:
    if isinstance(value, list):  # some publishers send a list of references
        value = value[0] if value else None
    if not isinstance(value, dict):
        return None
    oid, kind = value.get("id"), value.get("kind")
    if not isinstance(oid, str) or not isinstance(kind, str):
        return None
    href = value.get("href")
    return OwnerReference(oid, kind, href if isinstance(href, str) else None)
