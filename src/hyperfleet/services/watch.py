"""Watch use case: one watcher's events, resumed from an event id, filtered like its list.

A watcher first subscribes to the live feed (so nothing committed from then on can be missed),
then back-fills what it missed from the change table up to the position it subscribed at, then
drains its live buffer, skipping what the back-fill already covered. Ids only ever increase.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final

from hyperfleet.domain.search import Node
from hyperfleet.domain.search_eval import matches
from hyperfleet.errors import Unavailable, WatchExpired
from hyperfleet.services.change_feed import Change, ChangeFeed, ChangeHistory, Subscription

_BACKFILL_BATCH: Final = 500
_READY_WAIT_SECONDS: Final = 10.0

ADDED: Final = "ADDED"
MODIFIED: Final = "MODIFIED"
DELETED: Final = "DELETED"


@dataclass(frozen=True, slots=True)
class WatchFilter:
    """What one watcher sees: a kind (None: any), a parent (None: any), a search, a tenant.

    `tenant` is the tenancy map as sorted items (None: every tenant); hashable, as watchers
    with equal filters share one evaluation per change.
    """

    kind: str | None
    owner_id: str | None
    search: Node | None
    tenant: tuple[tuple[str, str], ...] | None = None

    def event_for(self, change: Change) -> tuple[str, bytes] | None:
        """(type, object) this watcher gets for `change`, or None.

        An object that starts matching is ADDED, one that stops matching is DELETED (with the
        new body; the old one on a hard delete), one that matches before and after MODIFIED.
        """
        if not self._in_scope(change):
            return None
        if self.search is None:
            was, now = change.old_body is not None, change.new_body is not None
        else:
            old, new = change.old_value, change.new_value
            was = old is not None and matches(self.search, old)
            now = new is not None and matches(self.search, new)
        if was and now:
            return MODIFIED, change.new_body or b""
        if now:
            return ADDED, change.new_body or b""
        if was:
            return DELETED, change.new_body or change.old_body or b""
        return None

    def _in_scope(self, change: Change) -> bool:
        if self.kind is not None and change.kind != self.kind:
            return False
        if self.owner_id is not None and change.owner_id != self.owner_id:
            return False
        # A resource never changes tenant: either body tells whose it is.
        return self.tenant is None or _owned_by(change.new_value or change.old_value, self.tenant)


def _owned_by(value: dict[str, Any] | None, tenant: tuple[tuple[str, str], ...]) -> bool:
    # Bodies in the change table from before migration 0007 have no `tenancy`: they had none.
    tenancy = (value or {}).get("tenancy") or {}
    return isinstance(tenancy, dict) and tenancy == dict(tenant)


@dataclass(frozen=True, slots=True)
class WatchEvent:
    seq: int
    type: str
    object: bytes


HEARTBEAT: Final = None
"""Yielded when the stream has been idle for a heartbeat interval."""


class WatchService:
    def __init__(
        self, feed: ChangeFeed, history: Callable[[], ChangeHistory | None], *, heartbeat: float
    ) -> None:
        self.feed = feed
        self._history = history
        self.heartbeat = heartbeat

    def position(self) -> int | None:
        """The feed position (every change at or below it is in any list read afterwards)."""
        return self.feed.position if self.feed.ready.is_set() else None

    def history(self) -> ChangeHistory:
        history = self._history()
        if history is None:
            raise Unavailable("the change feed is not started")
        return history

    async def events(
        self, watch: WatchFilter, *, last_event_id: int | None
    ) -> AsyncIterator[WatchEvent | None]:
        """Events for `watch` after `last_event_id` (None: from now); None is a heartbeat.

        Raises WatchExpired when the stream cannot continue: the id is older than the
        retention window or unknown, or this watcher fell a whole buffer behind.
        """
        if not self.feed.ready.is_set():
            try:
                async with asyncio.timeout(_READY_WAIT_SECONDS):
                    await self.feed.ready.wait()
            except TimeoutError:
                raise Unavailable("the change feed is not ready yet") from None
        try:
            async with asyncio.timeout(_READY_WAIT_SECONDS):
                await self.feed.refresh()  # an idle feed's position may lag this arrival
        except TimeoutError:
            raise Unavailable("the change feed is not answering") from None
        sub = self.feed.subscribe(watch.event_for, key=watch)
        try:
            sent = sub.start
            if last_event_id is not None:
                async for missed in self._backfill(watch, last_event_id, sub.start):
                    yield missed
                sent = max(sub.start, last_event_id)
            async for event in self._live(sub, sent):
                yield event
        finally:
            self.feed.unsubscribe(sub)

    async def _live(self, sub: Subscription, sent: int) -> AsyncIterator[WatchEvent | None]:
        while True:
            if sub.overflowed:
                raise WatchExpired(
                    "the watcher fell too far behind; list again and watch from there",
                    extensions={"reason": "buffer_overflow"},
                )
            if not await sub.wait(self.heartbeat):
                yield HEARTBEAT
                continue
            if sub.closed:
                return
            for item in sub.drain():
                if item.seq <= sent:
                    continue
                sent = item.seq
                yield WatchEvent(item.seq, item.type, item.object)

    async def _backfill(
        self, watch: WatchFilter, after: int, through: int
    ) -> AsyncIterator[WatchEvent]:
        history = self.history()
        if after > through and after > await history.newest():
            raise WatchExpired(
                f"event id {after} was never issued by this server; list again",
                extensions={"reason": "unknown_id"},
            )
        while after < through:
            batch = await history.changes(after, through, _BACKFILL_BATCH)
            # Read after the rows: if pruning got past `after`, the rows may be incomplete.
            if await history.pruned_through() > after:
                raise WatchExpired(
                    "the changes after this event id are past the retention window; list again",
                    extensions={"reason": "expired"},
                )
            for change in batch:
                found = watch.event_for(change)
                if found is not None:
                    yield WatchEvent(change.seq, *found)
            after = batch[-1].seq if len(batch) == _BACKFILL_BATCH else through
