"""Watch filtering, per-watcher buffers and the feed's fan-out, with a fake change source."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

import msgspec
import pytest

from hyperfleet.domain.search import parse_search
from hyperfleet.errors import WatchExpired
from hyperfleet.services.change_feed import (
    Change,
    ChangeFeed,
    Delivery,
    Horizon,
    Subscription,
)
from hyperfleet.services.watch import WatchFilter, WatchService


def body(env: str, kind: str = "Cluster") -> bytes:
    return msgspec.json.encode({"id": "r1", "kind": kind, "labels": {"env": env}})


def change(seq: int, op: str, old: bytes | None, new: bytes | None, **kw: str) -> Change:
    return Change(seq, op, kw.get("kind", "Cluster"), "r1", kw.get("owner"), old, new)


PROD = WatchFilter("Cluster", None, parse_search("labels.env = 'prod'"))


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (change(1, "ADDED", None, body("prod")), ("ADDED", body("prod"))),
        (change(1, "ADDED", None, body("dev")), None),
        (change(1, "MODIFIED", body("prod"), body("prod")), ("MODIFIED", body("prod"))),
        (change(1, "MODIFIED", body("dev"), body("prod")), ("ADDED", body("prod"))),
        (change(1, "MODIFIED", body("prod"), body("dev")), ("DELETED", body("dev"))),
        (change(1, "MODIFIED", body("dev"), body("dev")), None),
        (change(1, "DELETED", body("prod"), None), ("DELETED", body("prod"))),
        (change(1, "DELETED", body("dev"), None), None),
        (change(1, "ADDED", None, body("prod"), kind="NodePool"), None),
    ],
)
def test_events_follow_the_search_before_and_after(
    item: Change, expected: tuple[str, bytes] | None
) -> None:
    assert PROD.event_for(item) == expected


def test_parent_scope() -> None:
    nested = WatchFilter("NodePool", "p1", None)
    assert nested.event_for(change(1, "ADDED", None, b"{}", kind="NodePool", owner="p1"))
    assert nested.event_for(change(1, "ADDED", None, b"{}", kind="NodePool", owner="p2")) is None
    assert WatchFilter(None, None, None).event_for(change(1, "ADDED", None, b"{}", kind="X"))


def test_a_full_buffer_cuts_the_subscription_off() -> None:
    sub = Subscription(limit=2, start=0)
    assert sub.offer(Delivery(1, "ADDED", b"{}"))
    assert sub.offer(Delivery(2, "ADDED", b"{}"))
    assert not sub.offer(Delivery(3, "ADDED", b"{}"))
    assert sub.overflowed
    assert sub.drain() == []


def test_overflow_removes_only_that_watcher_from_the_feed() -> None:
    feed = ChangeFeed(buffer_size=1, poll_seconds=1)
    slow, fast = feed.subscribe(), feed.subscribe()
    feed.publish([change(1, "ADDED", None, b"{}")], 1)
    fast.drain()
    feed.publish([change(2, "ADDED", None, b"{}")], 2)
    assert slow.overflowed
    assert not fast.overflowed
    assert feed.watchers == 1
    assert feed.position == 2


def test_watchers_are_woken_only_for_changes_they_see() -> None:
    feed = ChangeFeed(buffer_size=10, poll_seconds=1)
    calls: list[int] = []

    def prod_only(item: Change) -> tuple[str, bytes] | None:
        calls.append(item.seq)
        return PROD.event_for(item)

    subs = [feed.subscribe(prod_only, key=PROD) for _ in range(100)]
    feed.publish([change(1, "ADDED", None, body("dev"))], 1)
    feed.publish([change(2, "ADDED", None, body("prod"))], 2)
    assert calls == [1, 2]  # one evaluation per change for all 100 watchers with one filter
    assert all(s.drain() == [Delivery(2, "ADDED", body("prod"))] for s in subs)


class FakeSource:
    """Changes appear when `add` is called; one open transaction can be held."""

    def __init__(self) -> None:
        self.rows: list[Change] = []
        self.open: set[int] = set()
        self.notify: Callable[[], None] = lambda: None
        self.connected = False
        self.reads = 0
        self.horizons = 0

    async def connect(self, on_notify: Callable[[], None]) -> None:
        self.notify = on_notify
        self.connected = True

    async def close(self) -> None:
        self.connected = False

    def is_connected(self) -> bool:
        return self.connected

    async def horizon(self) -> Horizon:
        self.horizons += 1
        return Horizon(max((c.seq for c in self.rows), default=0), tuple(self.open))

    async def any_open(self, transactions: Sequence[int]) -> bool:
        return bool(self.open & set(transactions))

    async def changes(self, after: int, through: int, limit: int) -> list[Change]:
        self.reads += 1
        return [c for c in self.rows if after < c.seq <= through][:limit]

    def add(self, item: Change) -> None:
        self.rows.append(item)
        self.notify()


class FakeHistory(FakeSource):
    pruned = 0

    async def pruned_through(self) -> int:
        return self.pruned

    async def newest(self) -> int:
        return max((c.seq for c in self.rows), default=0)

    async def prune(self, older_than_seconds: float, through: int) -> int:
        if older_than_seconds <= 0:
            self.pruned = max(self.pruned, through)
        return self.pruned


async def next_event(events: object) -> object:
    return await asyncio.wait_for(events.__anext__(), 30)  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def running_feed(source: FakeSource) -> AsyncIterator[ChangeFeed]:
    """A feed following `source` in a task, ready; the task is cancelled on exit."""
    feed = ChangeFeed(buffer_size=10, poll_seconds=0.05)
    task = asyncio.create_task(feed.run(source))
    try:
        await asyncio.wait_for(feed.ready.wait(), 30)
        yield feed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_feed_waits_for_open_transactions_and_resumes_from_history() -> None:
    source = FakeHistory()
    async with running_feed(source) as feed:
        service = WatchService(feed, lambda: source, heartbeat=30)
        live = service.events(WatchFilter(None, None, None), last_event_id=None)
        pending = asyncio.ensure_future(next_event(live))
        await until(lambda: feed.watchers == 1)  # subscribed: what follows reaches it
        source.open = {7}
        source.add(change(1, "ADDED", None, b'{"n":1}'))
        await asyncio.sleep(0.2)
        assert not pending.done()  # transaction 7 may still hold a number below 1
        source.open = set()
        source.notify()
        first = await pending
        assert first.seq == 1  # type: ignore[attr-defined]
        source.add(change(2, "MODIFIED", b'{"n":1}', b'{"n":2}'))
        assert (await next_event(live)).seq == 2  # type: ignore[attr-defined]
        await live.aclose()  # type: ignore[attr-defined]
        assert feed.watchers == 0

        resumed = service.events(WatchFilter(None, None, None), last_event_id=1)
        assert (await next_event(resumed)).seq == 2  # type: ignore[attr-defined]
        await resumed.aclose()  # type: ignore[attr-defined]

        source.pruned = 2
        expired = service.events(WatchFilter(None, None, None), last_event_id=1)
        with pytest.raises(WatchExpired):
            await next_event(expired)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):  # a safety net, not a speed check
        while not condition():  # the feed task moves on its own
            await asyncio.sleep(0.01)


async def test_feed_without_watchers_advances_without_reading_changes() -> None:
    source = FakeSource()
    async with running_feed(source) as feed:
        source.add(change(1, "ADDED", None, b'{"n":1}'))
        source.add(change(2, "MODIFIED", b'{"n":1}', b'{"n":2}'))
        await until(lambda: feed.position == 2)
        assert source.reads == 0  # a write's bodies are read only for someone

        sub = feed.subscribe()
        assert sub.start == 2
        source.add(change(3, "MODIFIED", b'{"n":2}', b'{"n":3}'))
        await until(lambda: bool(sub.items))
        assert [d.seq for d in sub.drain()] == [3]
        assert source.reads == 1


async def test_an_idle_feed_reads_the_horizon_once_for_a_burst_of_notifications() -> None:
    """Regression: with no watcher, every commit's notification cost a horizon read (#7)."""
    source = FakeSource()
    async with running_feed(source) as feed:
        await until(lambda: source.horizons >= 2)  # resting between reads
        before = source.horizons
        for seq in range(1, 51):
            source.add(change(seq, "ADDED", None, b"{}"))
            await asyncio.sleep(0)  # the feed task could run between notifications
        await until(lambda: feed.position == 50)
        assert source.horizons - before <= 3  # one read after the rest, not fifty

        await asyncio.wait_for(feed.refresh(), 30)  # a watcher arriving ends the rest
        assert feed.position == 50
        sub = feed.subscribe()
        source.add(change(51, "ADDED", None, b"{}"))
        await until(lambda: bool(sub.items))
        assert [d.seq for d in sub.drain()] == [51]
