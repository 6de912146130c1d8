"""Broker settings, shared by the Sentinel and adapter processes.

They live in the `broker:` section of a Sentinel or adapter config file, and every key can be
overridden by `HYPERFLEET_BROKER_<KEY>` (e.g. `HYPERFLEET_BROKER_URL`); see
`hyperfleet.broker.factory.load_broker_settings`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "HYPERFLEET_BROKER_"
SCHEMES = ("memory", "amqp", "amqps")


class BrokerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    url: str = "memory://"
    """`amqp://user:pass@host:port/vhost` or `amqps://…` for RabbitMQ; `memory://` in-process."""
    exchange: str | None = None
    """Exchange name; default: the topic (one durable topic exchange per topic)."""
    queue: str | None = None
    """Queue name prefix; default: the topic, so queues are `<topic>-<subscription>`."""
    parallelism: int = Field(default=10, ge=1, le=1000)
    """Handlers in flight per subscriber (RabbitMQ: the prefetch count)."""
    dlq_attempts: int = Field(default=5, ge=1, le=100)
    """Failed deliveries after which an event goes to the dead-letter queue."""
    retry_delay_seconds: float = Field(default=1.0, ge=0, le=3600)
    """Backoff before the first redelivery of a NACKed event; doubles per attempt."""
    retry_max_delay_seconds: float = Field(default=30.0, ge=0, le=86400)
    """Longest backoff between redeliveries."""
    publisher_confirms: bool = True
    """Wait for the broker's confirm on every publish (RabbitMQ)."""
    connect_timeout_seconds: float = Field(default=30.0, gt=0)
    """How long the first connection, or a publish in an outage, waits before BrokerUnavailable."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.partition("://")[0].lower() if "://" in value else ""
        if scheme not in SCHEMES:
            raise ValueError("must start with memory://, amqp:// or amqps://")
        return value

    def backoff(self, attempt: int) -> float:
        """Delay before redelivery number `attempt` (1 = the first retry)."""
        return float(
            min(self.retry_max_delay_seconds, self.retry_delay_seconds * 2 ** (attempt - 1))
        )


def reference_table() -> str:
    """Markdown table of every setting: YAML key, env name, default, meaning (docs/broker.md)."""
    rows = ["| Key | Environment | Default | Meaning |", "|---|---|---|---|"]
    for name, info in BrokerSettings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = "(topic)" if default is None else _shown(default)
        meaning = info.description or ""
        rows.append(f"| `broker.{name}` | `{ENV_PREFIX}{name.upper()}` | `{shown}` | {meaning} |")
    return "\n".join(rows)


def _shown(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
