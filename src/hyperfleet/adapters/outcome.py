"""What one reconcile or finalize decided: the adapter's answer, before it becomes a report.

`applied` and `available` are tri-state (`None` is `Unknown`); `healthy` is about the adapter's
own execution, not the business result. `reason` (UpperCamelCase) and `message` are required and
never empty: every condition the SDK reports carries them (interfaces.md, "The loop").
`finalized` only matters while the resource is being deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REASON_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
MAX_REASON = 128
MAX_MESSAGE = 2048

WAITING_FOR_DEPENDENCIES = "WaitingForDependencies"
WAITING_FOR_DEPENDENTS = "WaitingForDependents"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One adapter decision; build it with the class methods below or directly."""

    applied: bool | None
    available: bool | None
    reason: str
    message: str
    healthy: bool = True
    data: Mapping[str, Any] = field(default_factory=dict)
    finalized: bool | None = None

    def __post_init__(self) -> None:
        if not REASON_RE.match(self.reason) or len(self.reason) > MAX_REASON:
            raise ValueError(f"reason {self.reason!r} must be UpperCamelCase, at most 128 chars")
        if not self.message.strip():
            raise ValueError("message must not be empty")

    @classmethod
    def ready(
        cls, message: str, *, reason: str = "Available", data: Mapping[str, Any] | None = None
    ) -> Outcome:
        """Applied and available: the adapter's work for this generation is done."""
        return cls(applied=True, available=True, reason=reason, message=message, data=data or {})

    @classmethod
    def progressing(
        cls, message: str, *, reason: str = "Provisioning", data: Mapping[str, Any] | None = None
    ) -> Outcome:
        """Applied, not available yet (state Provisioning)."""
        return cls(applied=True, available=None, reason=reason, message=message, data=data or {})

    @classmethod
    def failed(cls, reason: str, message: str, *, data: Mapping[str, Any] | None = None) -> Outcome:
        """Applied but the result is not available, for a reason that will not pass by itself."""
        return cls(applied=True, available=False, reason=reason, message=message, data=data or {})

    @classmethod
    def unhealthy(
        cls, reason: str, message: str, *, data: Mapping[str, Any] | None = None
    ) -> Outcome:
        """Applied and available, but the adapter itself is not healthy (phase Degraded)."""
        return cls(
            applied=True,
            available=True,
            reason=reason,
            message=message,
            healthy=False,
            data=data or {},
        )

    @classmethod
    def waiting_for(cls, blocked_by: Sequence[str]) -> Outcome:
        """Not applied: dependencies are not Ready at the resource's generation."""
        names = ", ".join(blocked_by)
        return cls(
            applied=False,
            available=None,
            reason=WAITING_FOR_DEPENDENCIES,
            message=f"waiting for dependencies: {names}",
        )

    @classmethod
    def cleaned_up(cls, message: str, *, data: Mapping[str, Any] | None = None) -> Outcome:
        """Deleting: everything this adapter owns for the resource is gone."""
        return cls(
            applied=False,
            available=False,
            reason="Finalized",
            message=message,
            data=data or {},
            finalized=True,
        )

    @classmethod
    def cleaning_up(
        cls, message: str, *, reason: str = "Finalizing", data: Mapping[str, Any] | None = None
    ) -> Outcome:
        """Deleting: cleanup has not finished yet (the resource stays Finalizing)."""
        return cls(
            applied=True,
            available=None,
            reason=reason,
            message=message,
            data=data or {},
            finalized=False,
        )

    @classmethod
    def waiting_for_dependents(cls, dependents: Sequence[str]) -> Outcome:
        """Deleting: adapters that depend on this one have not finalized yet."""
        names = ", ".join(dependents)
        return cls(
            applied=True,
            available=None,
            reason=WAITING_FOR_DEPENDENTS,
            message=f"waiting for dependents to finalize: {names}",
            finalized=False,
        )

    @classmethod
    def error(cls, reason: str, message: str) -> Outcome:
        """A terminal error: nothing applied, `Health=False` with the reason."""
        return cls(
            applied=False,
            available=False,
            reason=reason,
            message=message,
            healthy=False,
            finalized=False,
        )
