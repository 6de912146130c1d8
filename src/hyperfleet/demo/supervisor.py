"""Start parts in order, run until asked to stop, stop them in reverse order.

A part is anything with a `name` and async `start()`/`stop()`. `stop()` is called on every part
whose `start()` was entered, even if it failed half-way, so a half-started embedded PostgreSQL
is still shut down. SIGINT/SIGTERM during start-up let start-up finish, then stop at once (a
cancelled start could leave a server running that nobody stops).
"""

from __future__ import annotations

import asyncio
import signal
from typing import Protocol

import structlog

log = structlog.get_logger("hyperfleet.demo")


class Part(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Supervisor:
    """Owns the parts' life cycle and the process's SIGINT/SIGTERM."""

    def __init__(self) -> None:
        self._started: list[Part] = []
        self._stop = asyncio.Event()
        self.failure: str | None = None
        """Why the demo stopped on its own (a part failed), or None after a signal."""

    def request_stop(self, reason: str = "signal") -> None:
        if not self._stop.is_set():
            log.info("stopping the demo", reason=reason)
        self._stop.set()

    def part_failed(self, name: str, error: BaseException) -> None:
        """A running part died: stop everything, exit non-zero."""
        log.error("demo part failed", part=name, error=repr(error))
        if self.failure is None:
            self.failure = f"{name}: {error!r}"
        self.request_stop(f"{name} failed")

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop, sig.name)

    async def start(self, part: Part) -> None:
        self._started.append(part)
        log.info("starting demo part", part=part.name)
        await part.start()

    async def wait(self) -> None:
        """Until a signal or a failed part asks to stop."""
        await self._stop.wait()

    async def stop_all(self) -> None:
        """Stop every started part, last started first; a failing stop does not skip the rest."""
        while self._started:
            part = self._started.pop()
            log.info("stopping demo part", part=part.name)
            try:
                await part.stop()
            except Exception as exc:  # keep stopping the other parts
                log.exception("demo part did not stop cleanly", part=part.name, error=repr(exc))
                if self.failure is None:
                    self.failure = f"{part.name} stop: {exc!r}"
