"""The reconcile event for one resource.

By default the event's data is exactly the wire contract (interfaces.md): `{id, kind, href,
generation}` plus `owner_references {id, kind, href}` for a child kind, built by the broker
package's `reconcile_event`. A configured `message_data` replaces only the data: each leaf is
a CEL expression over `resource`, `now` and `condition(name)`; a leaf whose path does not
exist on the resource is left out, as in the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import cel
from cloudevents.core.v1.event import CloudEvent

from hyperfleet.broker.events import OwnerReference, ResourceHint, reconcile_event
from hyperfleet.sentinel.cel_env import (
    SAMPLE_NOW,
    SAMPLE_RESOURCES,
    CelCompileError,
    compile_program,
    context_for,
    resource_keys,
    undefined_name,
)
from hyperfleet.sentinel.config import SentinelConfigError


class PayloadError(RuntimeError):
    """The event for one resource could not be built (it is skipped this pass)."""

    def __init__(self, message: str, path: str = "message_data") -> None:
        super().__init__(message)
        self.path = path


# A compiled `message_data` tree: leaves are programs, inner nodes maps.
DataTemplate = dict[str, "cel.Program | DataTemplate"]


def hint_for(resource: Mapping[str, Any]) -> ResourceHint:
    """The wire-contract hint for a listed resource (its `id` and `kind` must be present)."""
    rid, kind = resource.get("id"), resource.get("kind")
    if not isinstance(rid, str) or not rid or not isinstance(kind, str) or not kind:
        raise PayloadError("resource has no string id and kind")
    href = resource.get("href")
    generation = resource.get("generation")
    return ResourceHint(
        id=rid,
        kind=kind,
        href=href if isinstance(href, str) else None,
        generation=generation if isinstance(generation, int) else None,
        owner=_owner(resource.get("owner_references")),
    )


def _owner(value: Any) -> OwnerReference | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, Mapping):
        return None
    oid, kind, href = value.get("id"), value.get("kind"), value.get("href")
    if not isinstance(oid, str) or not isinstance(kind, str):
        return None
    return OwnerReference(oid, kind, href if isinstance(href, str) else None)


@dataclass(frozen=True, slots=True)
class EventBuilder:
    template: DataTemplate | None = None
    keys: frozenset[str] | None = None
    """The resource keys the template reads (None = all)."""

    @classmethod
    def compile(cls, message_data: Mapping[str, Any] | None) -> EventBuilder:
        """Compile a `message_data` tree (None = the wire-contract default)."""
        if message_data is None:
            return cls()
        errors: list[tuple[str, str]] = []
        template = _compile_tree(message_data, "message_data", errors)
        if errors:
            raise SentinelConfigError(errors)
        keys = resource_keys(_leaves(message_data))
        for sample in SAMPLE_RESOURCES:  # unknown functions fail at start-up, not per event
            try:
                _render(template, context_for(sample, SAMPLE_NOW, keys), "message_data")
            except PayloadError as exc:
                message = undefined_name(exc.__cause__ or exc)
                if message is not None:
                    raise SentinelConfigError([(exc.path, message)]) from exc
        return cls(template, keys)

    def build(self, resource: Mapping[str, Any], now: datetime) -> CloudEvent:
        hint = hint_for(resource)
        event = reconcile_event(hint)
        if self.template is None:
            return event
        data = _render(self.template, context_for(resource, now, self.keys), "message_data")
        return CloudEvent(event.get_attributes(), data)


def _leaves(tree: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for value in tree.values():
        out.extend(_leaves(value) if isinstance(value, Mapping) else [str(value)])
    return out


def _compile_tree(
    tree: Mapping[str, Any], path: str, errors: list[tuple[str, str]]
) -> DataTemplate:
    out: DataTemplate = {}
    for key, value in tree.items():
        here = f"{path}.{key}"
        if isinstance(value, Mapping):
            out[key] = _compile_tree(value, here, errors)
            continue
        try:
            out[key] = compile_program(str(value), known=())
        except CelCompileError as exc:
            errors.append((here, str(exc)))
    return out


def _render(template: DataTemplate, ctx: cel.Context, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, node in template.items():
        here = f"{path}.{key}"
        if isinstance(node, dict):
            out[key] = _render(node, ctx, here)
            continue
        try:
            value = node.execute(ctx)
        except KeyError:
            continue  # the path does not exist on this resource: leave the key out
        except Exception as exc:
            raise PayloadError(f"{here}: {str(exc).splitlines()[0]}", here) from exc
        out[key] = _jsonable(value)
    return out


def _jsonable(value: Any) -> Any:
    """CEL timestamps and durations as JSON: RFC 3339 text and seconds."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
