"""Transient vs terminal failures (ADR-0017: selective ACK/NACK; unknown means terminal).

A transient failure NACKs the event: the broker delivers it again after a backoff and, after
its attempt limit, dead-letters it. A terminal failure is reported (`Health=False` with the
reason) and the event is ACKed: delivering it again would fail the same way.
"""

from __future__ import annotations

import httpx

from hyperfleet.adapters.outcome import REASON_RE
from hyperfleet.client.errors import ApiError, ClientConnectionError, ServerError

_TRANSIENT_STATUSES = frozenset({408, 425, 429})


class TransientError(Exception):
    """Raise from an adapter when trying again later may succeed (NACK, redelivery)."""


class TerminalError(Exception):
    """Raise from an adapter when retrying cannot help; reported as `Health=False` and ACKed."""

    def __init__(self, reason: str, message: str) -> None:
        if not REASON_RE.match(reason):
            raise ValueError(f"reason {reason!r} must be UpperCamelCase")
        super().__init__(message)
        self.reason = reason
        self.message = message or reason


def is_transient(exc: BaseException) -> bool:
    """Connection errors, timeouts, 5xx and 429 from the API are worth a redelivery."""
    if isinstance(
        exc, TransientError | ClientConnectionError | httpx.TransportError | TimeoutError
    ):
        return True
    if isinstance(exc, ServerError):
        return True
    return isinstance(exc, ApiError) and exc.status in _TRANSIENT_STATUSES
