"""What every long-running command shares; a module below `main` so commands do not import it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import typer

from hyperfleet.config import ConfigError, Settings, load_settings


def run_async(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (uvicorn[standard] brings it), else asyncio.

    In bench/api_bench.py it cut server CPU per GET from 288 to 252 µs.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        asyncio.run(main)
        return
    uvloop.run(main)


GC_GEN0_THRESHOLD = 10_000
"""Net new container objects between young-generation collections (CPython's default: 700)."""


def settle_heap() -> None:
    """Once a server has started: stop the cyclic GC from re-scanning what start-up built.

    The modules, settings, registry and pool built at start-up live as long as the process,
    so they are collected once and frozen (`gc.freeze`), and later collections scan only what
    requests create. A request's objects nearly all die by reference counting; at CPython's
    default threshold the young generation was still collected every few requests (about a
    tenth of a GET's CPU in bench/api_bench.py), so the threshold is raised.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, older, oldest)


def api_settings(config: Path | None, **overrides: Any) -> Settings:
    """The API's settings from flags, env and the file; a config error exits 2 naming the key."""
    try:
        return load_settings(config, **overrides)
    except ConfigError as exc:
        for path, message in exc.errors:
            typer.echo(f"config error: {path}: {message}", err=True)
        raise typer.Exit(2) from exc


def check_app_config(settings: Settings) -> None:
    """Registry and spec-schema problems surface before anything starts."""
    from hyperfleet.domain.entities import RegistryError
    from hyperfleet.rest.app import registry_from, spec_schemas_from

    try:
        spec_schemas_from(settings, registry_from(settings))
    except (RegistryError, ConfigError) as exc:
        for path, message in exc.errors:
            typer.echo(f"config error: {path}: {message}", err=True)
        raise typer.Exit(2) from exc
    except (ValueError, OSError) as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(2) from exc
