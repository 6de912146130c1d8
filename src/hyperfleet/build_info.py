"""When this copy of HyperFleet was built, for `GET /api/hyperfleet` (`build_time`).

Python has no link step to stamp a time into, so the time is read from what the installer
wrote: the modification time of the distribution's `METADATA` file, which pip (or
`pip install -e`) writes when it builds and installs the package. A source tree run without an
install falls back to this module's own file time. Either way the value is the same on every
call and every restart of the same installation, and never empty.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "hyperfleet"


def _metadata_mtime() -> float | None:
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == "METADATA":
            try:
                return Path(str(file.locate())).stat().st_mtime
            except OSError:
                return None
    return None


@functools.cache
def build_time() -> str:
    """RFC 3339 UTC time (seconds) of the installation; see the module docstring."""
    stamp = _metadata_mtime()
    if stamp is None:
        stamp = Path(__file__).stat().st_mtime
    return datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
