"""Broker settings, shared by the Sentinel and adapter processes.

They live in the `broker:` section of a Sentinel or adapter config file, and every key can be
overridden by `HYPERFLEET_BROKER_<KEY>` (e.g. `HYPERFLEET_BROKER_URL`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BrokerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    url: str = "memory://"
    """`amqp://user:pass@host:port/vhost` for RabbitMQ; `memory://` for the in-process broker."""
    exchange: str | None = None
    """Exchange name; default: the topic (one durable topic exchange per topic)."""
    queue: str | None = None
    """Queue name prefix; default: the topic, so queues are `<topic>-<subscription>`."""
    parallelism: int = Field(default=10, ge=1, le=1000)
    """Handlers in flight per subscriber (RabbitMQ: the prefetch count)."""
    dlq_attempts: int = Field(default=5, ge=1, le=100)
    """Failed deliveries after which an event goes to the dead-letter queue."""
    retry_delay_seconds: float = Field(default=1.0, ge=0)
    """Backoff before the first redelivery of a NACKed event; doubles per attempt."""
    retry_max_delay_seconds: float = Field(default=30.0, ge=0)
    """Longest backoff between redeliveries."""
    publisher_confirms: bool = True
    """Wait for the broker's confirm on every publish (RabbitMQ)."""

    def backoff(self, attempt: int) -> float:
        """Delay before redelivery number `attempt` (1 = the first retry)."""
        return float(
            min(self.retry_max_delay_seconds, self.retry_delay_seconds * 2 ** (attempt - 1))
        )
