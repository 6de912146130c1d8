"""The active entity configuration, swappable at run time (aggregation config reload).

Routes are built once from the kinds at start-up, so a reload may change only the status
engine's keys; structural keys (kinds, plurals, parents, delete policy) need a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hyperfleet.domain.entities import EntityRegistry
from hyperfleet.domain.model import EntityDescriptor

STRUCTURAL_KEYS = ("plural", "parent_kind", "on_parent_delete", "name_min_len", "name_max_len")


@dataclass(frozen=True, slots=True)
class ActiveConfig:
    registry: EntityRegistry
    loaded_time: datetime
    source: str | None
    """The aggregation file the engine settings came from (None: main config only)."""


class ConfigStore:
    def __init__(self, active: ActiveConfig) -> None:
        self._active = active

    @property
    def active(self) -> ActiveConfig:
        return self._active

    @property
    def registry(self) -> EntityRegistry:
        return self._active.registry

    def descriptor(self, kind: str) -> EntityDescriptor | None:
        return self._active.registry.get(kind)

    def structural_changes(self, new: EntityRegistry) -> list[tuple[str, str]]:
        """(key path, message) for every change a reload cannot apply."""
        old = self._active.registry
        problems: list[tuple[str, str]] = []
        old_kinds = {d.kind for d in old.kinds}
        new_kinds = {d.kind for d in new.kinds}
        problems.extend(
            (f"entities({kind})", "adding or removing a kind needs a restart")
            for kind in sorted(old_kinds ^ new_kinds)
        )
        for desc in new.kinds:
            before = old.get(desc.kind)
            if before is None:
                continue
            problems.extend(
                (f"entities({desc.kind}).{key}", f"changing {key} needs a restart")
                for key in STRUCTURAL_KEYS
                if getattr(before, key) != getattr(desc, key)
            )
        return problems

    def swap(self, active: ActiveConfig) -> list[str]:
        """Install `active`; returns the kinds whose descriptor changed."""
        old = self._active.registry
        self._active = active
        return [d.kind for d in active.registry.kinds if old.get(d.kind) != d]
