"""The whole-file check behind `hyperfleet config validate`: every independent error at once.

`hyperfleet serve` stops at the first failing stage (schema, then kinds and the status-engine
rules, then spec schemas). Here each stage runs on what the earlier ones could salvage (see
`config.salvage`), so an unknown key and a dependency cycle in one file are both reported, each
with its key path. The stages are the ones `rest.app.registry_from` and `spec_schemas_from`
run at start-up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hyperfleet.config import (
    AggregationFile,
    ConfigError,
    EntityConfig,
    Settings,
    read_yaml,
    salvage,
    settings_from_data,
)
from hyperfleet.domain.entities import EntityRegistry, RegistryError, build_registry

Errors = list[tuple[str, str]]
_ENTRY = re.compile(r"entities\[(\d+)\]")


def check_config_file(path: str | Path) -> Errors:
    """Every problem of the config file at `path` (and of the aggregation file it names)."""
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        return list(exc.errors)
    main = salvage(settings_from_data, data)
    errors = list(main.errors)
    settings = main.value
    if settings is None:
        return errors
    sources: list[tuple[str, list[EntityConfig], tuple[int, ...]]] = [
        ("", settings.entities, main.entity_indices)
    ]
    if settings.aggregation_config:
        prefix = f"{settings.aggregation_config}: "
        overlay = _aggregation_entities(settings.aggregation_config, prefix, errors)
        if overlay is not None:
            sources.append((prefix, *overlay))
    registry = _registry(sources, errors)
    if registry is not None:
        errors.extend(_spec_schema_errors(settings, registry))
    return errors


def _aggregation_entities(
    path: str, prefix: str, errors: Errors
) -> tuple[list[EntityConfig], tuple[int, ...]] | None:
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        errors.extend((prefix + p, m) for p, m in exc.errors)
        return None
    parsed = salvage(AggregationFile.model_validate, data)
    errors.extend((prefix + p, m) for p, m in parsed.errors)
    if parsed.value is None:
        return None
    return parsed.value.entities, parsed.entity_indices


def _registry(
    sources: list[tuple[str, list[EntityConfig], tuple[int, ...]]], errors: Errors
) -> EntityRegistry | None:
    def dumped(entries: list[EntityConfig]) -> list[dict[str, Any]]:
        return [e.model_dump(exclude_unset=True) for e in entries]

    (_, main_entries, _), *overlays = sources
    try:
        return build_registry(
            dumped(main_entries), overlays=[(p, dumped(entries)) for p, entries, _ in overlays]
        )
    except RegistryError as exc:
        errors.extend((_original_path(p, sources), m) for p, m in exc.errors)
        return None


def _original_path(
    path: str, sources: list[tuple[str, list[EntityConfig], tuple[int, ...]]]
) -> str:
    """`entities[i]` of the salvaged list back to the entry's index in the file."""
    for prefix, _, indices in sorted(sources, key=lambda s: -len(s[0])):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        match = _ENTRY.match(rest)
        if match and int(match.group(1)) < len(indices):
            return f"{prefix}entities[{indices[int(match.group(1))]}]{rest[match.end() :]}"
        return path
    return path


def _spec_schema_errors(settings: Settings, registry: EntityRegistry) -> Errors:
    from hyperfleet.rest.app import spec_schemas_from  # noqa: PLC0415 - the start-up check

    try:
        spec_schemas_from(settings, registry)
    except ConfigError as exc:
        return list(exc.errors)
    except (ValueError, OSError) as exc:
        return [("server.spec_schema_path", str(exc))]
    return []
