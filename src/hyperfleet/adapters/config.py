"""The config file of one adapter process (`hyperfleet adapter --config FILE`).

Unknown keys are errors; every error names its key path. The environment overrides the file:
`HYPERFLEET_API_URL`, `HYPERFLEET_API_TOKEN`, `HYPERFLEET_API_TOKEN_FILE` and
`HYPERFLEET_API_HEADERS` (see `ENV_NAMES`), and `HYPERFLEET_BROKER_<KEY>` for `broker.<key>`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hyperfleet.adapters.sdk import Adapter
from hyperfleet.adapters.simulated import SimulatedAdapter, SimulatedSettings
from hyperfleet.broker.config import ENV_PREFIX as BROKER_ENV_PREFIX
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.factory import load_broker_settings
from hyperfleet.client.headers import LOOP_HEADERS, header_setting
from hyperfleet.config import LoggingSettings
from hyperfleet.settings_loader import ConfigError, load_layered, read_yaml

API_URL_ENV = "HYPERFLEET_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:8000"
SIMULATED = "simulated"
_PLURALS = {"clusters": "Cluster", "nodepools": "NodePool"}


class AdapterProcessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """The adapter's name: the `adapter` of its reports and its subscription id."""
    kind: str | None = Field(default=None, min_length=1)
    """The entity kind it reconciles (`Cluster`, `NodePool`, …)."""
    resource_type: str | None = Field(default=None, min_length=1)
    """Instead of `kind`: the collection (`clusters`, `nodepools`)."""
    topic: str | None = Field(default=None, min_length=1)
    """Broker topic; default `hyperfleet-<resource_type>` (`hyperfleet-clusters`, …)."""
    adapter: str = SIMULATED
    """`simulated`, or the import path `package.module:ClassName` of an SDK adapter."""
    simulated: SimulatedSettings = SimulatedSettings()
    api_url: str = DEFAULT_API_URL
    """API server root (env `HYPERFLEET_API_URL`)."""
    token: str | None = None
    """Bearer token for the API."""
    token_file: Path | None = None
    """File holding the bearer token, re-read when it changes."""
    api_headers: dict[str, str] = Field(default_factory=lambda: dict(LOOP_HEADERS))
    """Headers sent with every API request; the default marks the adapter as tenancy's system
    caller. Replaces, not merges (env: `Name: value` items separated by commas)."""
    api_timeout_seconds: float = Field(default=10.0, gt=0)
    dependency_refresh_seconds: float = Field(default=30.0, gt=0)
    """How often `GET /aggregation-config` is read again for `adapter_dependencies`."""
    health_host: str = "127.0.0.1"
    health_port: int | None = Field(default=None, ge=0, le=65535)
    """Serve `/healthz`, `/readyz` and `/metrics` on this port (none by default)."""
    broker: BrokerSettings = BrokerSettings()
    logging: LoggingSettings = LoggingSettings()

    @field_validator("api_headers", mode="before")
    @classmethod
    def _headers(cls, value: object) -> dict[str, str]:
        return header_setting(value)

    def problems(self) -> list[tuple[str, str]]:
        """Rules across keys, each as (key path, message)."""
        out: list[tuple[str, str]] = []
        if self.kind is None and self.resource_type is None:
            out.append(("kind", "one of 'kind' or 'resource_type' is required"))
        elif self.kind is None and self.resource_type not in _PLURALS:
            out.append(("kind", f"required for resource_type {self.resource_type!r}"))
        if self.token is not None and self.token_file is not None:
            out.append(("token_file", "give 'token' or 'token_file', not both"))
        return out

    @property
    def resolved_kind(self) -> str:
        return self.kind or _PLURALS[str(self.resource_type)]

    @property
    def resolved_topic(self) -> str:
        if self.topic:
            return self.topic
        plural = self.resource_type or next(
            (p for p, k in _PLURALS.items() if k.lower() == self.resolved_kind.lower()),
            f"{self.resolved_kind.lower()}s",
        )
        return f"hyperfleet-{plural}"


# YAML key path → environment variable.
ENV_NAMES: dict[tuple[str, ...], str] = {
    ("api_url",): API_URL_ENV,
    ("token",): "HYPERFLEET_API_TOKEN",
    ("token_file",): "HYPERFLEET_API_TOKEN_FILE",
    ("api_headers",): "HYPERFLEET_API_HEADERS",
    **{("broker", key): f"{BROKER_ENV_PREFIX}{key.upper()}" for key in BrokerSettings.model_fields},
}


def load_adapter_config(
    path: str | Path, environ: Mapping[str, str] | None = None
) -> AdapterProcessConfig:
    """Read and validate the file; ConfigError lists every problem as (key path, message)."""
    config = load_layered(
        AdapterProcessConfig,
        read_yaml(path),
        env_names=ENV_NAMES,
        environ=os.environ if environ is None else environ,
        sections={"broker": load_broker_settings},
    )
    errors = config.problems()
    if errors:
        raise ConfigError(errors)
    build_adapter(config)  # an import path that does not load is a config error too
    return config


def build_adapter(config: AdapterProcessConfig) -> Adapter:
    """The adapter object the config names; ConfigError at `adapter` when it cannot be built."""
    if config.adapter == SIMULATED:
        return SimulatedAdapter(config.simulated)
    module_name, sep, attr = config.adapter.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError([("adapter", "must be 'simulated' or 'package.module:ClassName'")])
    try:
        target: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError([("adapter", f"cannot import {config.adapter}: {exc}")]) from exc
    if not (isinstance(target, type) and issubclass(target, Adapter)):
        raise ConfigError([("adapter", f"{config.adapter} is not an Adapter subclass")])
    try:
        instance: Adapter = target()
    except TypeError as exc:
        raise ConfigError([("adapter", f"{config.adapter}() failed: {exc}")]) from exc
    return instance
