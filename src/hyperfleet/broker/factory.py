"""How a Sentinel or adapter process gets its broker: settings from YAML + env, then a client.

`load_broker_settings(config["broker"])` applies `HYPERFLEET_BROKER_<KEY>` over the YAML
section (an empty variable counts as unset); `connect(settings)` picks the implementation by
URL scheme. `connect` does no I/O: the RabbitMQ connection is made on first use (and
`await broker.healthy()` makes it at once).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from hyperfleet.broker.config import ENV_PREFIX, BrokerSettings
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.broker.ports import Broker
from hyperfleet.broker.rabbitmq import RabbitBroker
from hyperfleet.settings_loader import ConfigError

SECTION = "broker"


def load_broker_settings(
    section: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
) -> BrokerSettings:
    """Settings from the YAML `broker:` section with env overrides (default: `os.environ`).

    Raises ConfigError naming each invalid key as `broker.<key>` (and the variable it came
    from, when the environment set it).
    """
    env = os.environ if environ is None else environ
    if section is None:
        data: dict[str, Any] = {}
    elif isinstance(section, Mapping):
        data = dict(section)
    else:
        raise ConfigError([(SECTION, "must be a mapping")])
    from_env: dict[str, str] = {}
    for key in BrokerSettings.model_fields:
        name = ENV_PREFIX + key.upper()
        value = env.get(name)
        if value:
            data[key] = value
            from_env[key] = name
    try:
        return BrokerSettings.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            origin = f" (from {from_env[key]})" if key in from_env else ""
            errors.append((f"{SECTION}.{key}" if key else SECTION, err["msg"] + origin))
        raise ConfigError(errors) from exc


def connect(settings: BrokerSettings) -> Broker:
    """The broker client for `settings.url`: RabbitMQ for `amqp(s)://`, in-process for `memory://`.

    Every call returns a new client; an in-process broker connects only the publishers and
    subscribers obtained from the same instance, so share it within a process.
    """
    scheme = settings.url.partition("://")[0].lower() if "://" in settings.url else ""
    if scheme == "memory":
        return InProcessBroker(settings)
    if scheme in {"amqp", "amqps"}:
        return RabbitBroker(settings)
    raise ConfigError([(f"{SECTION}.url", "must start with memory://, amqp:// or amqps://")])
