"""What the operational routes read from the running process, as a port below `rest.app`.

`rest.app.AppState` satisfies it structurally; the routes depend on this module, never on the
composition root, so `rest` stays a DAG (app -> routes -> process_state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hyperfleet.rest.metrics import Metrics
    from hyperfleet.services.config_store import ConfigStore


class ProcessState(Protocol):
    """Readiness flags, the served OpenAPI document, metrics and the active config."""

    @property
    def openapi(self) -> dict[str, Any]: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def store(self) -> ConfigStore: ...

    @property
    def started(self) -> bool: ...

    @property
    def shutting_down(self) -> bool: ...

    async def ping(self) -> bool:
        """True when the database answers within the configured timeout."""
        ...

    async def refresh_metrics(self) -> None:
        """Update the gauges read on scrape (pool usage, reconciliation)."""
        ...
