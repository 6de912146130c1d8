"""Bearer tokens read from a file that may be rotated while the process runs."""

from __future__ import annotations

import os
from pathlib import Path


class TokenFile:
    """A callable for `token=`: the file's content (stripped), re-read when its mtime changes.

    A rotated file (e.g. a projected service-account token) is picked up on the next request.
    If the file cannot be read after a first successful read, the last token is kept.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._token: str | None = None

    def __call__(self) -> str | None:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                self._token = self.path.read_text(encoding="utf-8").strip() or None
                self._stamp = stamp
        except OSError:
            if self._stamp is None:
                raise
        return self._token

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"
