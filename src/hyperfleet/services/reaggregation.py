"""Background re-aggregation after a configuration reload, or for rows without a phase.

It pages through the affected kinds by id and recomputes each resource in its own short
transaction, so requests are never blocked for long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from hyperfleet.services.ports import UnitOfWork
from hyperfleet.services.resources import ResourceService

log = structlog.get_logger(__name__)

BATCH_SIZE = 100


async def reaggregate_kinds(
    uow: UnitOfWork,
    resources: ResourceService,
    kinds: Sequence[str],
    *,
    only_missing_phase: bool = False,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Recompute every resource of `kinds`; returns how many were recomputed."""
    if not kinds:
        return 0
    after: str | None = None
    total = 0
    while True:
        async with uow.read() as tx:
            ids = await tx.resources.ids_to_reaggregate(
                kinds, after=after, limit=batch_size, only_missing_phase=only_missing_phase
            )
        if not ids:
            break
        total += await resources.reaggregate_ids(ids)
        after = ids[-1]
        await asyncio.sleep(0)  # let requests interleave between batches
    log.info("re-aggregation finished", kinds=list(kinds), resources=total)
    return total
