"""`build_time`: read from the installed distribution's METADATA, else this module's file."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pytest

from hyperfleet import build_info


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def test_build_time_is_the_install_time_of_the_distribution_metadata():
    dist = metadata.distribution("hyperfleet")
    (meta,) = [f for f in dist.files or () if f.name == "METADATA"]
    expected = datetime.fromtimestamp(int(Path(str(meta.locate())).stat().st_mtime), UTC)
    assert _parse(build_info.build_time()) == expected


def test_without_an_installed_distribution_the_module_file_time_is_used(
    monkeypatch: pytest.MonkeyPatch,
):
    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    build_info.build_time.cache_clear()
    try:
        value = build_info.build_time()
    finally:
        build_info.build_time.cache_clear()
    expected = datetime.fromtimestamp(int(Path(build_info.__file__).stat().st_mtime), UTC)
    assert _parse(value) == expected
