"""Simulated adapters: SDK adapters that touch nothing and obey `spec.simulate`.

Stateless like real adapters: what they remember lives in their own stored report (the SDK's
`reconciled_generation` / `reconcile_count`). `delay_seconds` makes a reconcile report
Provisioning (Applied=True, Available=Unknown) first and the result after the delay;
`failure_rate` is the probability that one handling raises a `TransientError` (the event is
NACKed and redelivered), to exercise redelivery.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from hyperfleet.adapters.errors import TransientError
from hyperfleet.adapters.metrics import AdapterMetrics
from hyperfleet.adapters.outcome import Outcome
from hyperfleet.adapters.reconciler import ApiPort
from hyperfleet.adapters.runner import AdapterRunner
from hyperfleet.adapters.sdk import Adapter, Context
from hyperfleet.adapters.simulate import (
    finalize_outcome,
    mode_for,
    provisioning_outcome,
    reconcile_outcome,
)
from hyperfleet.broker.ports import Broker
from hyperfleet.client.types import Resource

CLUSTERS_TOPIC = "hyperfleet-clusters"
NODEPOOLS_TOPIC = "hyperfleet-nodepools"


class SimulatedSettings(BaseModel):
    """The `simulated:` section of an adapter config."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    delay_seconds: float = Field(default=0.0, ge=0, le=3600)
    """Time between the Provisioning report and the result of a reconcile."""
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    """Probability that one handling fails transiently (NACK, redelivery, at last the DLQ)."""
    seed: int | None = None
    """Seed of the failure RNG, for reproducible runs."""


class SimulatedAdapter(Adapter):
    def __init__(self, settings: SimulatedSettings | None = None) -> None:
        self.settings = settings or SimulatedSettings()
        self._rngs: dict[str, random.Random] = {}

    def _maybe_fail(self, ctx: Context) -> None:
        if not self.settings.failure_rate:
            return
        rng = self._rngs.get(ctx.adapter)
        if rng is None:
            # One sequence per adapter name, so adapters sharing a seed do not fail in lockstep.
            seed = None if self.settings.seed is None else f"{self.settings.seed}/{ctx.adapter}"
            rng = self._rngs[ctx.adapter] = random.Random(seed)  # noqa: S311 - not crypto
        if rng.random() < self.settings.failure_rate:
            raise TransientError(f"{ctx.adapter}: simulated transient failure")

    async def reconcile(self, resource: Resource, ctx: Context) -> Outcome:
        self._maybe_fail(ctx)
        mode = mode_for(resource.get("spec"), ctx.adapter, deleting=False)
        delay = self.settings.delay_seconds
        if delay > 0:
            await ctx.report_progress(provisioning_outcome(ctx.adapter, ctx.generation, delay))
            await asyncio.sleep(delay)
        return reconcile_outcome(ctx.adapter, ctx.generation, mode)

    async def finalize(self, resource: Resource, ctx: Context) -> Outcome:
        self._maybe_fail(ctx)
        mode = mode_for(resource.get("spec"), ctx.adapter, deleting=True)
        return finalize_outcome(ctx.adapter, ctx.generation, mode)


@dataclass(frozen=True, slots=True)
class AdapterSpec:
    """Which adapter listens where: `name` is also its subscription id."""

    name: str
    kind: str
    topic: str


DEFAULT_SIMULATED: tuple[AdapterSpec, ...] = (
    AdapterSpec("validation", "Cluster", CLUSTERS_TOPIC),
    AdapterSpec("dns", "Cluster", CLUSTERS_TOPIC),
    AdapterSpec("pullsecret", "Cluster", CLUSTERS_TOPIC),
    AdapterSpec("hypershift", "Cluster", CLUSTERS_TOPIC),
    AdapterSpec("validation", "NodePool", NODEPOOLS_TOPIC),
    AdapterSpec("hypershift", "NodePool", NODEPOOLS_TOPIC),
)
"""interfaces.md's default set: four cluster adapters, two node pool adapters."""


def simulated_runners(
    broker: Broker,
    client: ApiPort,
    *,
    settings: SimulatedSettings | None = None,
    specs: Sequence[AdapterSpec] = DEFAULT_SIMULATED,
    metrics: AdapterMetrics | None = None,
    dependency_refresh_seconds: float = 30.0,
) -> list[AdapterRunner]:
    """One runner per spec, all sharing `client` and `metrics`; call `start()` on each."""
    shared = metrics or AdapterMetrics()
    return [
        AdapterRunner(
            SimulatedAdapter(settings),
            name=spec.name,
            kind=spec.kind,
            client=client,
            subscriber=broker.subscriber(spec.name),
            topic=spec.topic,
            metrics=shared,
            dependency_refresh_seconds=dependency_refresh_seconds,
        )
        for spec in specs
    ]
