"""The change feed of one API process: committed changes, in commit order, fanned out in memory.

One feed per process follows the database's change table (`storage/change_feed.py` implements
the port below) and hands every change to the local watchers' bounded buffers. A watcher that
falls `buffer_size` events behind is cut off (it must re-list); nobody else waits for it. Live
delivery costs no database work per watcher; only a resume reads the table, once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import structlog

from hyperfleet.domain.search_eval import decode_body

log = structlog.get_logger(__name__)

_PENDING_RECHECK_SECONDS = 0.02
"""How soon to look again while transactions that may hold a change number are still open."""
_RECONNECT_MAX_SECONDS = 5.0
_IDLE_GAP_SECONDS = 0.25
"""With no watcher, the horizon is read at most this often, however many writes notify."""
_FETCH_BATCH = 1000


@dataclass(frozen=True)
class Change:
    """One committed change to a resource; bodies are the stored rendered JSON bytes."""

    seq: int
    op: str
    kind: str
    resource_id: str
    owner_id: str | None
    old_body: bytes | None
    new_body: bytes | None

    # Decoded once per change, however many watchers filter it.
    @cached_property
    def old_value(self) -> dict[str, Any] | None:
        return decode_body(self.old_body) if self.old_body is not None else None

    @cached_property
    def new_value(self) -> dict[str, Any] | None:
        return decode_body(self.new_body) if self.new_body is not None else None


@dataclass(frozen=True, slots=True)
class Horizon:
    """A change number and the transactions that may still hold a number at or below it."""

    seq: int
    open_transactions: tuple[int, ...]


class ChangeSource(Protocol):
    """The change table as the feed reads it."""

    async def connect(self, on_notify: Callable[[], None]) -> None:
        """Open the dedicated connection and listen for change notifications."""

    async def close(self) -> None: ...

    def is_connected(self) -> bool: ...

    async def horizon(self) -> Horizon:
        """The newest change number handed out, with the transactions still open now."""

    async def any_open(self, transactions: Sequence[int]) -> bool:
        """Whether any of these transactions is still in progress."""

    async def changes(self, after: int, through: int, limit: int) -> list[Change]:
        """Changes with `after < seq <= through`, oldest first, at most `limit`."""


class ChangeHistory(Protocol):
    """Reads and pruning of the change table through the pool (resumes, retention)."""

    async def changes(self, after: int, through: int, limit: int) -> list[Change]: ...

    async def pruned_through(self) -> int:
        """Changes at or below this number may have been deleted."""

    async def newest(self) -> int:
        """The newest change number ever handed out (0 for none)."""

    async def prune(self, older_than_seconds: float, through: int) -> int:
        """Delete changes older than the window (never past `through`); the new marker."""


Classify = Callable[[Change], tuple[str, bytes] | None]
"""What one watcher makes of a change: (event type, object), or None when it is not its concern."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A change as one watcher sees it."""

    seq: int
    type: str
    object: bytes


def _everything(change: Change) -> tuple[str, bytes] | None:
    return change.op, change.new_body or change.old_body or b""


@dataclass(eq=False)
class Subscription:
    """One watcher's bounded buffer, filled by the feed, drained by its stream.

    The feed classifies each change for the watcher before queueing it, once per distinct
    `key` (watchers with the same scope and search share one evaluation), so a watcher whose
    filter rejects a change is not even woken.
    """

    limit: int
    start: int
    """The feed position when it subscribed: every later change reaches this buffer."""
    classify: Classify = _everything
    key: object = None
    items: deque[Delivery] = field(default_factory=deque)
    overflowed: bool = False
    closed: bool = False
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, change: Delivery) -> bool:
        """Queue a change; False (and the subscription is cut off) when the buffer is full."""
        if len(self.items) >= self.limit:
            self.overflowed = True
            self.items.clear()
            self._ready.set()
            return False
        self.items.append(change)
        self._ready.set()
        return True

    async def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for something to drain; False when nothing came."""
        if self.items or self.overflowed or self.closed:
            return True
        self._ready.clear()
        try:
            async with asyncio.timeout(seconds):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    def drain(self) -> list[Delivery]:
        out = list(self.items)
        self.items.clear()
        return out


class ChangeFeed:
    """Follows the change table and fans changes out to this process's subscriptions."""

    def __init__(self, *, buffer_size: int, poll_seconds: float) -> None:
        self.buffer_size = buffer_size
        self.poll_seconds = poll_seconds
        self.position = 0
        """Every change at or below this number is committed and has been fanned out."""
        self.ready = asyncio.Event()
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._demand = asyncio.Event()
        """Set when a watcher arrives: an idle feed stops resting at once."""
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def watchers(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, classify: Classify = _everything, key: object = None) -> Subscription:
        """A buffer for every change after the current position, as `classify` sees it."""
        sub = Subscription(limit=self.buffer_size, start=self.position, classify=classify, key=key)
        self._subscriptions.add(sub)
        return sub

    async def refresh(self) -> None:
        """Wait for a horizon read that starts after this call.

        An idle feed (no subscription) reads the horizon only every `_IDLE_GAP_SECONDS`, so
        its position may lag; a watcher calls this before subscribing, so that it starts at
        the position of its own arrival and not earlier.
        """
        if self._subscriptions:
            return  # live: the position follows every notification
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._demand.set()
        self._wake.set()
        await waiter

    def unsubscribe(self, sub: Subscription) -> None:
        sub.closed = True
        sub._ready.set()  # noqa: SLF001 - wake a stream waiting on it
        self._subscriptions.discard(sub)

    def close_all(self) -> None:
        """End every watcher's stream (shutdown: clients resume elsewhere with their ids)."""
        for sub in list(self._subscriptions):
            self.unsubscribe(sub)

    def wake(self) -> None:
        self._wake.set()

    def publish(self, changes: Sequence[Change], through: int) -> None:
        """Hand committed changes (seq order, all at or below `through`) to every watcher."""
        for change in changes:
            seen: dict[object, tuple[str, bytes] | None] = {}
            for sub in list(self._subscriptions):
                if sub.key is not None and sub.key in seen:
                    found = seen[sub.key]
                else:
                    found = seen[sub.key] = sub.classify(change)
                if found is not None and not sub.offer(Delivery(change.seq, *found)):
                    self._subscriptions.discard(sub)
        self.position = max(self.position, through)

    async def run(self, source: ChangeSource) -> None:
        """Follow the source until cancelled, reconnecting after connection loss."""
        delay = 0.1
        while True:
            try:
                if not source.is_connected():
                    await source.connect(self.wake)
                    delay = 0.1
                await self._follow(source)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect and carry on
                log.warning("change feed interrupted; reconnecting", error=str(exc))
                with contextlib.suppress(Exception):
                    await source.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RECONNECT_MAX_SECONDS)

    async def _follow(self, source: ChangeSource) -> None:
        first = not self.ready.is_set()
        while True:
            self._wake.clear()
            claimed, self._waiters = self._waiters, []
            try:
                await self._cycle(source, first=first)
            except BaseException:
                self._waiters.extend(w for w in claimed if not w.done())
                raise
            first = False
            for waiter in claimed:
                if not waiter.done():
                    waiter.set_result(None)
            if not self._subscriptions and not self._waiters:
                await self._rest()
            if not self._wake.is_set():
                await self._sleep(self.poll_seconds)

    async def _cycle(self, source: ChangeSource, *, first: bool) -> None:
        """Read the horizon, wait out the transactions below it, fan out what it settles."""
        horizon = await source.horizon()
        while horizon.open_transactions and await source.any_open(horizon.open_transactions):
            await self._sleep(_PENDING_RECHECK_SECONDS)
        if first:
            # Watching starts from now: what was committed before start is in the lists.
            self.position = max(self.position, horizon.seq)
            self.ready.set()
        while horizon.seq > self.position:
            if not self._subscriptions:
                # Nobody to hand them to: the changes are not read (every write would cost
                # a read of both its bodies). A later watcher starts after this position,
                # or back-fills from the table.
                self.position = horizon.seq
                break
            batch = await source.changes(self.position, horizon.seq, _FETCH_BATCH)
            through = batch[-1].seq if len(batch) == _FETCH_BATCH else horizon.seq
            self.publish(batch, through)

    async def _rest(self) -> None:
        """Idle: the position then only labels list responses, so it may lag a little.

        Under a write load every commit notifies; reading the horizon for each (three or more
        statements) cost an idle process more round trips than the writes themselves. A
        watcher arriving ends the rest (`refresh`): it starts from a position read after it
        arrived and gets every later change, as always.
        """
        self._demand.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_IDLE_GAP_SECONDS):
                await self._demand.wait()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()


async def prune_forever(
    history: ChangeHistory, feed: ChangeFeed, *, retention_seconds: float, interval: float
) -> None:
    """Delete changes past the retention window every `interval` seconds (idempotent)."""
    while True:
        try:
            if feed.ready.is_set():
                await history.prune(retention_seconds, feed.position)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - pruning retries on its next round
            log.warning("change feed pruning failed", error=str(exc))
        await asyncio.sleep(interval)
