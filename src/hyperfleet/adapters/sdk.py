"""What an adapter author writes: a subclass of `Adapter` with `reconcile` and `finalize`.

The SDK (`hyperfleet.adapters.reconciler`) calls `reconcile(resource, ctx)` for a live resource
and `finalize(resource, ctx)` for one being deleted, with the resource fresh from the API, and
turns the returned `Outcome` into a status report. It never calls them when the adapter already
finished this generation, or while its dependencies (or, when deleting, its dependents) are not
done.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hyperfleet.adapters.outcome import Outcome
from hyperfleet.client.types import AdapterStatus, Resource


@dataclass(frozen=True, slots=True)
class Context:
    """What one call knows besides the resource."""

    adapter: str
    """The adapter's name (its subscription id and the `adapter` of its reports)."""
    generation: int
    """The resource's generation this call acts on."""
    deleting: bool
    previous: AdapterStatus | None
    """This adapter's stored report for the resource, if any (its `data` is yours)."""
    log: Any
    """A structlog logger bound to adapter, kind and resource id."""
    _progress: Callable[[Outcome], Awaitable[None]]

    async def report_progress(self, outcome: Outcome) -> None:
        """Send an intermediate report now (e.g. Applied=True, Available=Unknown)."""
        await self._progress(outcome)


class Adapter(ABC):
    """Base class of SDK adapters.

    Raise `TransientError` to be retried, `TerminalError` to report `Health=False`; any other
    exception is terminal too (and logged with a traceback).
    """

    @abstractmethod
    async def reconcile(self, resource: Resource, ctx: Context) -> Outcome:
        """Bring the world in line with `resource` at `ctx.generation`; say how it went."""

    async def finalize(self, resource: Resource, ctx: Context) -> Outcome:
        """Clean up for a resource being deleted; the default owns nothing and is done at once."""
        return Outcome.cleaned_up(
            f"{ctx.adapter} owns nothing for {resource['kind']} {resource['id']}"
        )
