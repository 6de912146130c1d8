"""Retry policy: which calls may be repeated, and how long to wait between attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Repeating these cannot duplicate an effect; POST and PATCH are never retried.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` tries in all (1 = no retry); exponential backoff with full jitter.

    The wait before retry n (n = 1, 2, …) is uniform in [0, min(max_delay, base_delay·2ⁿ⁻¹)].
    """

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        return rng.uniform(0.0, backoff_cap(self, retry))


def backoff_cap(policy: RetryPolicy, retry: int) -> float:
    """The upper bound of the jittered wait before retry number `retry` (1-based)."""
    exponent = min(max(retry - 1, 0), 62)  # 2**62 already exceeds any sane max_delay
    return min(policy.max_delay, policy.base_delay * 2.0**exponent)


def may_retry(method: str) -> bool:
    """Whether a call with this HTTP method may be sent again."""
    return method.upper() in IDEMPOTENT_METHODS


DEFAULT_RETRY = RetryPolicy()
