"""One adapter running in-process: its reconciler subscribed to one topic of a broker.

`hyperfleet adapter` runs one of these per process; `hyperfleet demo` runs several side by
side on one in-process broker and one API client.
"""

from __future__ import annotations

from hyperfleet.adapters.dependencies import DependencyCache
from hyperfleet.adapters.metrics import AdapterMetrics
from hyperfleet.adapters.reconciler import ApiPort, Reconciler
from hyperfleet.adapters.sdk import Adapter
from hyperfleet.broker.ports import Subscriber


class AdapterRunner:
    """`adapter` named `name` for `kind`, fed by `subscriber` on `topic`.

    The subscriber's subscription id should be `name`, so its queue is `<topic>-<name>`.
    """

    def __init__(
        self,
        adapter: Adapter,
        *,
        name: str,
        kind: str,
        client: ApiPort,
        subscriber: Subscriber,
        topic: str,
        metrics: AdapterMetrics | None = None,
        dependency_refresh_seconds: float = 30.0,
    ) -> None:
        self.name = name
        self.kind = kind
        self.topic = topic
        self.subscriber = subscriber
        self.reconciler = Reconciler(
            adapter,
            name=name,
            kind=kind,
            client=client,
            metrics=metrics,
            dependencies=DependencyCache(client, kind, refresh_seconds=dependency_refresh_seconds),
        )
        self.started = False

    async def start(self) -> None:
        """Returns once the subscription exists (events published after it are not lost)."""
        await self.subscriber.subscribe(self.topic, self.reconciler)
        self.started = True

    async def stop(self) -> None:
        """Stop consuming; an event in flight is delivered again later."""
        await self.subscriber.close()
        self.started = False
