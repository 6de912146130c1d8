"""The entity registry: which kinds exist, their routes, parents and required adapters.

Cluster and NodePool are built in. Configuration may add kinds or override keys of the built-in
ones; only the keys an entry sets are overridden. The registry is validated once at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hyperfleet.domain import engine_config
from hyperfleet.domain.model import EntityDescriptor, OnParentDelete

DB_NAME_CAP = 100
RESERVED_PLURALS = frozenset({"resources", "openapi", "openapi.html"})

BUILTIN_KINDS: tuple[EntityDescriptor, ...] = (
    EntityDescriptor(
        kind="Cluster",
        plural="clusters",
        required_adapters=("validation", "dns", "pullsecret", "hypershift"),
        name_min_len=3,
        name_max_len=53,
    ),
    EntityDescriptor(
        kind="NodePool",
        plural="nodepools",
        parent_kind="Cluster",
        on_parent_delete=OnParentDelete.CASCADE,
        required_adapters=("validation", "hypershift"),
        name_min_len=3,
        name_max_len=15,
    ),
)


class RegistryError(ValueError):
    """The configured set of kinds is inconsistent; `errors` holds (key path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))


@dataclass(frozen=True, slots=True)
class EntityRegistry:
    kinds: tuple[EntityDescriptor, ...]

    def get(self, kind: str) -> EntityDescriptor | None:
        return next((d for d in self.kinds if d.kind == kind), None)

    def require(self, kind: str) -> EntityDescriptor:
        desc = self.get(kind)
        if desc is None:
            raise KeyError(kind)
        return desc

    def children_of(self, kind: str) -> tuple[EntityDescriptor, ...]:
        return tuple(d for d in self.kinds if d.parent_kind == kind)

    def descendants_of(self, kind: str) -> tuple[EntityDescriptor, ...]:
        """Every kind below `kind`, parents before children."""
        out: list[EntityDescriptor] = []
        frontier = [kind]
        while frontier:
            current = frontier.pop(0)
            for child in self.children_of(current):
                out.append(child)
                frontier.append(child.kind)
        return tuple(out)


def _plural_of(kind: str) -> str:
    return kind.lower() + "s"


def build_registry(
    entries: Iterable[Mapping[str, Any]],
    *,
    overlays: Iterable[tuple[str, Iterable[Mapping[str, Any]]]] = (),
) -> EntityRegistry:
    """Merge config entries (dicts of the keys they set) over the built-in kinds, then validate.

    `entries` are the main config's `entities`; each overlay is `(path prefix, entries)`, e.g.
    the aggregation file's entities, applied after them with the same override rule. Raises
    RegistryError naming `entities[i].<key>` (prefixed for overlays) for every problem.
    """
    kinds: dict[str, EntityDescriptor] = {d.kind: d for d in BUILTIN_KINDS}
    errors: list[tuple[str, str]] = []
    origin: dict[str, str] = {}
    for prefix, source in [("", entries), *overlays]:
        seen: set[str] = set()
        for index, entry in enumerate(source):
            path = f"{prefix}entities[{index}]"
            kind = str(entry["kind"])
            if kind in seen:
                errors.append((f"{path}.kind", f"kind {kind!r} is declared twice"))
                continue
            seen.add(kind)
            if prefix and kind not in kinds:
                # An overlay (the aggregation file) configures kinds; it cannot invent one, so
                # a typo such as `Cluter` is an error instead of a new route set.
                errors.append((f"{path}.kind", f"unknown kind {kind!r}"))
                continue
            origin[kind] = path
            base = kinds.get(kind) or EntityDescriptor(kind=kind, plural=_plural_of(kind))
            changes = {
                key: engine_config.convert(key, value, path, errors)
                for key, value in entry.items()
                if key != "kind" and value is not None
            }
            kinds[kind] = replace(base, **changes)
    registry = EntityRegistry(tuple(kinds.values()))
    errors.extend(_validate(registry, origin))
    for desc in registry.kinds:
        errors.extend(
            engine_config.check_descriptor(desc, origin.get(desc.kind, f"entities({desc.kind})"))
        )
    if errors:
        raise RegistryError(errors)
    return registry


def _validate(registry: EntityRegistry, origin: Mapping[str, str]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    plurals: dict[str, str] = {}
    for desc in registry.kinds:
        path = origin.get(desc.kind, f"entities({desc.kind})")
        if not desc.plural or not desc.plural.replace("-", "").isalnum():
            errors.append((f"{path}.plural", "plural must be non-empty letters, digits or '-'"))
        elif desc.plural in RESERVED_PLURALS:
            errors.append((f"{path}.plural", f"plural {desc.plural!r} is reserved"))
        elif desc.plural in plurals:
            errors.append((f"{path}.plural", f"plural {desc.plural!r} is already used"))
        plurals[desc.plural] = desc.kind
        if desc.parent_kind is not None and registry.get(desc.parent_kind) is None:
            errors.append((f"{path}.parent_kind", f"unknown parent kind {desc.parent_kind!r}"))
        if desc.name_max_len and desc.name_min_len > desc.name_max_len:
            errors.append((f"{path}.name_min_len", "name_min_len is greater than name_max_len"))
    errors.extend(_ownership_cycles(registry, origin))
    return errors


def _ownership_cycles(registry: EntityRegistry, origin: Mapping[str, str]) -> list[tuple[str, str]]:
    errors = []
    for desc in registry.kinds:
        seen = {desc.kind}
        parent = desc.parent_kind
        while parent is not None:
            if parent in seen:
                path = origin.get(desc.kind, f"entities({desc.kind})")
                errors.append((f"{path}.parent_kind", f"ownership cycle through {parent!r}"))
                break
            seen.add(parent)
            parent_desc = registry.get(parent)
            parent = parent_desc.parent_kind if parent_desc else None
    return errors


def name_limits(desc: EntityDescriptor) -> tuple[int, int]:
    """Effective (min, max) name length; a max of 0 means the storage cap."""
    return max(desc.name_min_len, 1), desc.name_max_len or DB_NAME_CAP
