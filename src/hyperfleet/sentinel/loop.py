"""The Sentinel: poll one kind, decide per resource, publish one event per decision.

One pass reads every page of the collection (the client follows cursors when the API sends
them), evaluates the decision on each resource and publishes its event. A failed list request
ends the pass (logged, counted); the next pass starts after a backoff that doubles from the
poll interval up to `error_backoff_max_seconds`. A failed publish or evaluation is logged,
counted and skipped, and the pass goes on, except `BrokerUnavailable` (the broker did not take
the event within its bound): every further publish would wait as long, so it ends the pass.
Nothing an API or a broker does stops the loop; only `stop()` does.

With `watch: true` the Sentinel also follows the API's watch stream of its collection and
decides on each changed resource as it arrives (within a second of the commit), one decision at
a time with the poll's; the poll stays as the safety net for anything the stream missed.

Usable in-process: `Sentinel(settings, client, publisher)`, `await sentinel.run()` until
`sentinel.stop()`. The process wiring (config → client → broker → health server → signals) is
in `hyperfleet.sentinel.process`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from hyperfleet.broker.ports import BrokerUnavailable, Publisher
from hyperfleet.client import (
    ApiError,
    ClientConnectionError,
    ForbiddenError,
    HyperFleetClient,
    UnauthorizedError,
    WatchExpiredError,
)
from hyperfleet.sentinel.config import SentinelSettings, selector_search
from hyperfleet.sentinel.decision import Decision, DecisionError
from hyperfleet.sentinel.health import Probe
from hyperfleet.sentinel.metrics import SentinelMetrics
from hyperfleet.sentinel.payload import EventBuilder, PayloadError

log = structlog.get_logger("hyperfleet.sentinel")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass did. `ok` is False when a list request failed or the pass was stopped."""

    ok: bool
    seen: int
    published: int
    skipped: int
    failed: int
    seconds: float


class Sentinel:
    def __init__(
        self,
        settings: SentinelSettings,
        client: HyperFleetClient,
        publisher: Publisher,
        *,
        metrics: SentinelMetrics | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """Compile the decision and event data; SentinelConfigError when they are invalid."""
        self.settings = settings
        self.topic = settings.effective_topic
        self.decision = Decision.from_settings(settings)
        self.events = EventBuilder.compile(settings.message_data)
        self.metrics = metrics or SentinelMetrics()
        self._m = self.metrics.bind(settings.resource_type, settings.selector_label)
        self._client = client
        self._publisher = publisher
        self._clock = clock
        self._search = selector_search(settings.resource_selector)
        self._fields = settings.effective_fields
        self._stop = asyncio.Event()
        self._log = log.bind(resource_type=settings.resource_type, topic=self.topic)
        self._last_progress = time.monotonic()
        # The poll and the watch stream decide one resource at a time, never both at once.
        self._deciding = asyncio.Lock()
        self.watch_events = 0
        self.consecutive_failures = 0
        self.successful_passes = 0
        self.last_pass: PassResult | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Pass after pass until `stop()`; the first pass starts at once."""
        self._stop.clear()
        self._last_progress = time.monotonic()
        self._log.info(
            "sentinel started",
            poll_interval=self.settings.poll_interval_seconds,
            search=self._search,
        )
        follower = asyncio.create_task(self._follow()) if self.settings.watch else None
        try:
            await self._poll_loop()
        finally:
            if follower is not None:
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)
        self._log.info("sentinel stopped")

    async def _poll_loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                result = await self.run_pass()
            except Exception:  # noqa: BLE001 - a bug must not kill the loop; logged with its traceback
                self._log.exception("pass failed unexpectedly")
                self._m.polls_failed.inc()
                self.consecutive_failures += 1
                result = None
            await self._sleep(self._next_wait(result, time.monotonic() - started))

    async def _follow(self) -> None:
        """Decide on every change the watch stream brings; on any failure watch again.

        The stream starts "from now" after every failure: what happened in between is the
        poll's to find, as it is for a Sentinel without `watch`.
        """
        failures = 0
        while not self._stop.is_set():
            try:
                async for event in self._client.watch(
                    self.settings.resource_type, search=self._search
                ):
                    failures = 0
                    if self._stop.is_set():
                        return
                    if event.type == "DELETED":
                        continue
                    self.watch_events += 1
                    await self._handle(event.object)
            except WatchExpiredError as exc:
                self._log.info("watch stream expired; watching from now", detail=exc.detail)
            except BrokerUnavailable as exc:
                self._m.broker_errors.inc()
                self._log.error("broker unavailable; watch paused", error=str(exc))
                failures += 1
            except (ApiError, ClientConnectionError) as exc:
                self._m.fetch_errors.inc()
                self._log.warning("watch stream failed", error=str(exc))
                failures += 1
            except Exception:  # noqa: BLE001 - a bug must not end the watch; the poll goes on
                self._log.exception("watch stream failed unexpectedly")
                failures += 1
            backoff = 0.5 * 2 ** max(0, failures - 1) if failures else 0.0
            await self._sleep(min(backoff, self.settings.error_backoff_max_seconds))

    def stop(self) -> None:
        """Ask `run()` to return: the resource in hand is finished, the rest of the pass is not."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _next_wait(self, result: PassResult | None, elapsed: float) -> float:
        interval = self.settings.poll_interval_seconds
        if result is not None and result.ok:
            return max(0.0, interval - elapsed)
        backoff = interval * 2 ** max(0, self.consecutive_failures - 1)
        return float(min(backoff, self.settings.error_backoff_max_seconds))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    # -- one pass --------------------------------------------------------------------------

    async def run_pass(self) -> PassResult:
        """Read every page, decide, publish. API errors end the pass; nothing is raised."""
        started = time.perf_counter()
        seen = published = skipped = failed = due = 0
        ok = False
        try:
            async for resource in self._client.iterate(
                self.settings.resource_type,
                search=self._search,
                size=self.settings.page_size,
                fields=self._fields,
            ):
                self._last_progress = time.monotonic()
                if self._stop.is_set():
                    break
                seen += 1
                outcome = await self._handle(resource)
                published += outcome == "published"
                skipped += outcome == "skipped"
                failed += outcome in {"publish_failed", "evaluation_failed"}
                due += outcome in {"published", "publish_failed"}
            else:
                ok = True
        except (UnauthorizedError, ForbiddenError) as exc:
            self._m.auth_errors.inc()
            self._log.error("API refused the list request", error=str(exc), status=exc.status)
        except (ApiError, ClientConnectionError) as exc:
            self._m.fetch_errors.inc()
            self._log.error("list request failed", error=str(exc))
        except BrokerUnavailable as exc:
            # Every further publish would wait out the same bound: end the pass, back off.
            self._m.broker_errors.inc()
            self._log.error("broker unavailable; pass ended", error=str(exc))
        seconds = time.perf_counter() - started
        self._m.resources_seen.inc(seen)
        self._m.pass_duration.observe(seconds)
        result = PassResult(ok, seen, published, skipped, failed, seconds)
        self.last_pass = result
        if ok:
            self._m.polls_ok.inc()
            self._m.pending.set(due)
            self._m.last_success.set(time.time())
            self._last_progress = time.monotonic()
            self.successful_passes += 1
            self.consecutive_failures = 0
            self._log.info(
                "pass complete",
                seen=seen,
                published=published,
                skipped=skipped,
                failed=failed,
                seconds=round(seconds, 3),
            )
        else:
            self._m.polls_failed.inc()
            if not self._stop.is_set():
                self.consecutive_failures += 1
        return result

    async def _handle(self, resource: Mapping[str, Any]) -> str:
        """`published`, `skipped`, `publish_failed` or `evaluation_failed` for one resource."""
        async with self._deciding:
            return await self._decide(resource)

    async def _decide(self, resource: Mapping[str, Any]) -> str:
        now = self._clock()
        rid = resource.get("id")
        try:
            if not self.decision.evaluate(resource, now):
                self._m.skipped.inc()
                return "skipped"
            event = self.events.build(resource, now)
        except (DecisionError, PayloadError) as exc:
            self._m.evaluation_errors.inc()
            self._log.warning("resource not evaluated", id=rid, error=str(exc))
            return "evaluation_failed"
        try:
            await self._publisher.publish(self.topic, event)
        except BrokerUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any other failure skips this one event
            self._m.broker_errors.inc()
            self._log.warning("publish failed", id=rid, error=repr(exc))
            return "publish_failed"
        self._m.published.inc()
        self._log.debug("event published", id=rid, event_id=event.get_id())
        return "published"

    # -- health ----------------------------------------------------------------------------

    def liveness(self) -> Probe:
        """Failing when neither a page nor a pass completed for `stall_seconds`."""
        idle = time.monotonic() - self._last_progress
        limit = self.settings.stall_seconds
        if idle > limit:
            return Probe(
                ok=False, detail=f"poll loop stalled: no progress for {idle:.1f}s (limit {limit}s)"
            )
        return Probe(ok=True, detail="ok")

    def readiness(self) -> Probe:
        if self._stop.is_set():
            return Probe(ok=False, detail="stopping")
        if self.successful_passes == 0:
            return Probe(ok=False, detail="no successful poll yet")
        return Probe(ok=True, detail="ok")
