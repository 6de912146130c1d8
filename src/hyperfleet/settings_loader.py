"""The one way HyperFleet processes read their settings: YAML file < environment < flags.

The API (`hyperfleet.config`), the Sentinel and the adapter processes all read a YAML file with
`read_yaml`, report problems as `ConfigError` `(key path, message)` pairs, and layer the
environment and the command-line flags over the file. The loop's processes name each
variable explicitly (`load_layered`); the API lets pydantic-settings derive the names. This
module imports nothing else of HyperFleet, so every part may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# A section with its own loader (the broker's): the raw YAML value and the environment in,
# validated settings out, or a ConfigError naming `<section>.<key>`.
SectionLoader = Callable[[Any, Mapping[str, str]], BaseModel]


class ConfigError(Exception):
    """A configuration file or value is invalid; `errors` lists `(key path, message)` pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in errors))


def read_yaml(path: str | Path, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """Read a YAML mapping; a missing file or non-mapping top level is an `error`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error([("(file)", f"cannot read {path}: {exc.strerror}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error([("(file)", f"invalid YAML: {exc}")]) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error([("(file)", "the top level must be a mapping")])
    return data


def error_path(loc: tuple[int | str, ...], *, indexed: bool = False) -> str:
    """A pydantic error location as a key path: `a.2.b`, or `a[2].b` when `indexed`."""
    if not indexed:
        return ".".join(str(p) for p in loc) or "(root)"
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def errors_from(exc: ValidationError, *, indexed: bool = False) -> list[tuple[str, str]]:
    """Every error of `exc` as `(key path, message)`."""
    return [(error_path(tuple(err["loc"]), indexed=indexed), err["msg"]) for err in exc.errors()]


def set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set `data[path[0]][path[1]]…`, creating (or replacing non-mapping) parents."""
    target = data
    for part in path[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    target[path[-1]] = value


def merge(base: dict[str, Any], top: Mapping[str, Any]) -> None:
    """Deep-merge `top` into `base`: mappings merge key by key, anything else replaces."""
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


def load_layered(
    model: type[M],
    data: dict[str, Any],
    *,
    env_names: Mapping[tuple[str, ...], str],
    environ: Mapping[str, str],
    flags: Mapping[str, Any] | None = None,
    sections: Mapping[str, SectionLoader] | None = None,
    indexed: bool = False,
    error: type[ConfigError] = ConfigError,
) -> M:
    """Validate `model` from the file's `data`, the environment and the flags, in that order.

    `env_names` maps key paths to variables; an empty variable counts as unset. A key of
    `sections` is handed to its own loader with the environment, after the flags for that
    section were put over its YAML (their variables then do not apply). Every problem is
    collected into one `error`; paths are `a[2].b` when `indexed`, else `a.2.b`.
    """
    for key_path, name in env_names.items():
        if key_path[0] not in (sections or {}) and environ.get(name):
            set_path(data, key_path, environ[name])
    rest = dict(flags or {})
    errors: list[tuple[str, str]] = []
    for section, loader in (sections or {}).items():
        raw = data.pop(section, None)
        section_flags = rest.pop(section, None)
        env = environ
        if section_flags:
            if raw is None or isinstance(raw, Mapping):
                raw = {**(raw or {}), **section_flags}
            masked = {env_names.get((section, key)) for key in section_flags}
            env = {k: v for k, v in environ.items() if k not in masked}
        try:
            data[section] = loader(raw, env)
        except ConfigError as exc:
            errors.extend(exc.errors)
    merge(data, rest)
    try:
        value = model.model_validate(data)
    except ValidationError as exc:
        raise error([*errors, *errors_from(exc, indexed=indexed)]) from exc
    if errors:
        raise error(errors)
    return value
