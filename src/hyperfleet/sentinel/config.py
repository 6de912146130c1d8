"""Sentinel settings: one YAML file, `HYPERFLEET_*` environment overrides, command-line flags.

Precedence: flags > environment > YAML > defaults. Unknown keys are errors, reported with their
key path (`message_decision.params[2].expr`). The environment name of every scalar key is in
`ENV_NAMES` (and the table in docs/sentinel.md); the `broker:` section reads
`HYPERFLEET_BROKER_<KEY>`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hyperfleet.broker.config import ENV_PREFIX as BROKER_ENV_PREFIX
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.broker.factory import load_broker_settings
from hyperfleet.client.headers import LOOP_HEADERS, header_setting
from hyperfleet.settings_loader import ConfigError, load_layered, read_yaml

DEFAULT_API_URL = "http://127.0.0.1:8000"

# The fields the default decision and the default event data read; `id` is always sent.
DEFAULT_FIELDS = ("id", "kind", "href", "generation", "owner_references", "status.conditions")

_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
# One search-field segment (docs/search.md): label keys with dots or slashes cannot be searched.
_LABEL_KEY = r"^[A-Za-z0-9_-]+$"
_RESERVED_NAMES = frozenset({"resource", "now", "condition"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class LabelSelector(_Section):
    label: str = Field(pattern=_LABEL_KEY)
    """Label key (letters, digits, `_`, `-`)."""
    value: str
    """Required label value."""


class DecisionParam(_Section):
    name: str = Field(pattern=_IDENTIFIER)
    """Name later params and `result` use to refer to this value."""
    expr: str = Field(min_length=1)
    """CEL expression over `resource`, `now`, `condition(name)` and earlier params."""


class MessageDecision(_Section):
    params: list[DecisionParam] = Field(default_factory=list)
    """Named CEL values, evaluated in the order written."""
    result: str = Field(min_length=1)
    """CEL boolean: publish an event for this resource."""

    @field_validator("params")
    @classmethod
    def _names_unique(cls, params: list[DecisionParam]) -> list[DecisionParam]:
        seen: set[str] = set()
        for param in params:
            if param.name in _RESERVED_NAMES:
                raise ValueError(f"param name '{param.name}' is reserved")
            if param.name in seen:
                raise ValueError(f"param name '{param.name}' is used twice")
            seen.add(param.name)
        return params


class HealthSettings(_Section):
    enabled: bool = True
    """Serve `/healthz`, `/readyz` and `/metrics`."""
    host: str = "127.0.0.1"
    """Address the health server binds to."""
    port: int = Field(default=8080, ge=0, le=65535)
    """Port of the health server (0 = any free port)."""
    stall_seconds: float | None = Field(default=None, gt=0)
    """`/healthz` fails after this long without progress; default max(3 * poll interval, 10 s)."""


class LogSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    """Lowest level written."""
    format: Literal["json", "text"] = "json"
    """JSON lines or human-readable text."""


class SentinelSettings(_Section):
    name: str = Field(default="hyperfleet-sentinel", min_length=1)
    """Instance name, in logs and the User-Agent."""
    api_url: str = DEFAULT_API_URL
    """API server root; the client adds `/api/hyperfleet/v1`."""
    token: str | None = None
    """Bearer token for the API."""
    token_file: str | None = None
    """File holding the bearer token, re-read when it changes."""
    api_headers: dict[str, str] = Field(default_factory=lambda: dict(LOOP_HEADERS))
    """Headers sent with every API request (a mapping; env: `Name: value` items separated by
    commas); the default marks the Sentinel as tenancy's system caller. Replaces, not merges."""
    api_timeout_seconds: float = Field(default=10.0, gt=0)
    """Timeout of one API request."""
    resource_type: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    """Collection to poll: `clusters`, `nodepools` or any configured plural (required)."""
    topic: str | None = Field(default=None, min_length=1)
    """Broker topic; default `hyperfleet-<resource_type>`."""
    poll_interval_seconds: float = Field(default=5.0, gt=0)
    """Time between the starts of two passes."""
    watch: bool = False
    """Also follow the API's watch stream of `resource_type` and decide on each change at once;
    the periodic poll stays as the safety net."""
    error_backoff_max_seconds: float = Field(default=60.0, gt=0)
    """Longest wait after consecutive failed passes (the wait doubles from the poll interval)."""
    page_size: int = Field(default=100, ge=1, le=100)
    """Items per list request (the API caps `size` at 100)."""
    resource_selector: list[LabelSelector] = Field(default_factory=list)
    """Only resources carrying all these labels (sharding); empty = all."""
    max_age_ready_seconds: float = Field(default=1800.0, gt=0)
    """Default decision: re-publish a reconciled resource after this long (liveness refresh)."""
    max_age_not_ready_seconds: float = Field(default=10.0, ge=0)
    """Default decision: re-publish a not-reconciled resource after this debounce."""
    message_decision: MessageDecision | None = None
    """Replaces the default decision (the thresholds above then play no part)."""
    message_data: dict[str, Any] | None = None
    """Replaces the event data: output key → CEL expression (nested maps nest)."""
    fields: list[str] | None = None
    """List projection (`[]` = whole resource); default: what the default decision and data
    need, or the whole resource when either is replaced."""
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    """Broker connection (`HYPERFLEET_BROKER_<KEY>`)."""
    health: HealthSettings = Field(default_factory=HealthSettings)
    """Health and metrics server."""
    logging: LogSettings = Field(default_factory=LogSettings)
    """Log output."""

    @field_validator("message_data")
    @classmethod
    def _data_leaves(cls, data: dict[str, Any] | None) -> dict[str, Any] | None:
        if data is not None:
            if not data:
                raise ValueError("message_data must have at least one key")
            _check_leaves(data, "")
        return data

    @field_validator("api_headers", mode="before")
    @classmethod
    def _headers(cls, value: object) -> dict[str, str]:
        return header_setting(value)

    @field_validator("fields")
    @classmethod
    def _fields_clean(cls, fields: list[str] | None) -> list[str] | None:
        if fields is not None and any(not f.strip() for f in fields):
            raise ValueError("field names must not be empty")
        return fields

    @model_validator(mode="after")
    def _one_token_source(self) -> SentinelSettings:
        if self.token and self.token_file:
            raise ValueError("set token or token_file, not both")
        return self

    @property
    def effective_topic(self) -> str:
        return self.topic or f"hyperfleet-{self.resource_type}"

    @property
    def effective_fields(self) -> list[str] | None:
        """The `fields` sent with every list request (None = the whole resource)."""
        if self.fields is not None:
            return list(self.fields) or None  # [] asks for the whole resource
        if self.message_decision is None and self.message_data is None:
            return list(DEFAULT_FIELDS)
        return None

    @property
    def stall_seconds(self) -> float:
        if self.health.stall_seconds is not None:
            return self.health.stall_seconds
        return max(3 * self.poll_interval_seconds, 10.0)

    @property
    def selector_label(self) -> str:
        """The selector as a metrics label: `k1=v1,k2=v2`, or `all`."""
        pairs = sorted((s.label, s.value) for s in self.resource_selector)
        return ",".join(f"{k}={v}" for k, v in pairs) or "all"


def _check_leaves(data: Mapping[str, Any], prefix: str) -> None:
    for key, value in data.items():
        path = f"{prefix}{key}"
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", str(key)):
            raise ValueError(f"{path}: output keys are identifiers")
        if isinstance(value, Mapping):
            if not value:
                raise ValueError(f"{path}: a nested map must not be empty")
            _check_leaves(value, f"{path}.")
        elif not isinstance(value, str) or not value.strip():
            raise ValueError(f"{path}: must be a non-empty CEL expression string")


def selector_search(selector: list[LabelSelector]) -> str | None:
    """The TSL search for a label selector: `labels.a='x' and labels.b='y'` (keys sorted)."""
    if not selector:
        return None
    pairs = sorted((s.label, s.value) for s in selector)
    return " and ".join(f"labels.{key}={_quote(value)}" for key, value in pairs)


def _quote(value: str) -> str:
    doubled = value.replace("'", "''")
    return f"'{doubled}'"


# YAML key path → environment variable. Broker keys come from BrokerSettings' fields.
ENV_NAMES: dict[tuple[str, ...], str] = {
    ("name",): "HYPERFLEET_SENTINEL_NAME",
    ("api_url",): "HYPERFLEET_API_URL",
    ("token",): "HYPERFLEET_API_TOKEN",
    ("token_file",): "HYPERFLEET_API_TOKEN_FILE",
    ("api_headers",): "HYPERFLEET_API_HEADERS",
    ("api_timeout_seconds",): "HYPERFLEET_API_TIMEOUT_SECONDS",
    ("resource_type",): "HYPERFLEET_SENTINEL_RESOURCE_TYPE",
    ("topic",): "HYPERFLEET_SENTINEL_TOPIC",
    ("poll_interval_seconds",): "HYPERFLEET_SENTINEL_POLL_INTERVAL_SECONDS",
    ("watch",): "HYPERFLEET_SENTINEL_WATCH",
    ("error_backoff_max_seconds",): "HYPERFLEET_SENTINEL_ERROR_BACKOFF_MAX_SECONDS",
    ("page_size",): "HYPERFLEET_SENTINEL_PAGE_SIZE",
    ("max_age_ready_seconds",): "HYPERFLEET_SENTINEL_MAX_AGE_READY_SECONDS",
    ("max_age_not_ready_seconds",): "HYPERFLEET_SENTINEL_MAX_AGE_NOT_READY_SECONDS",
    ("health", "enabled"): "HYPERFLEET_SENTINEL_HEALTH_ENABLED",
    ("health", "host"): "HYPERFLEET_SENTINEL_HEALTH_HOST",
    ("health", "port"): "HYPERFLEET_SENTINEL_HEALTH_PORT",
    ("health", "stall_seconds"): "HYPERFLEET_SENTINEL_HEALTH_STALL_SECONDS",
    ("logging", "level"): "HYPERFLEET_LOGGING_LEVEL",
    ("logging", "format"): "HYPERFLEET_LOGGING_FORMAT",
    **{("broker", key): f"{BROKER_ENV_PREFIX}{key.upper()}" for key in BrokerSettings.model_fields},
}


class SentinelConfigError(ConfigError):
    """The configuration is invalid; `errors` lists `(key path, message)` pairs."""


def read_config_file(path: str | Path) -> dict[str, Any]:
    return read_yaml(path, SentinelConfigError)


def load_sentinel_settings(
    config_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SentinelSettings:
    """Build the settings from flags (`overrides`, nested dicts), env, the file and defaults.

    The file is `config_file`, else `$HYPERFLEET_CONFIG`. `environ` defaults to `os.environ`;
    pass `{}` to ignore the environment. Raises SentinelConfigError with every invalid key.
    """
    env = os.environ if environ is None else environ
    path = config_file or env.get("HYPERFLEET_CONFIG")
    return load_layered(
        SentinelSettings,
        read_config_file(path) if path else {},
        env_names=ENV_NAMES,
        environ=env,
        flags=overrides,
        sections={"broker": load_broker_settings},
        indexed=True,
        error=SentinelConfigError,
    )


def reference_rows() -> list[tuple[str, str, str, str]]:
    """(YAML key, env name, default, meaning) of every setting, for docs/sentinel.md."""
    rows: list[tuple[str, str, str, str]] = []
    for name, info in SentinelSettings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub, sub_info in annotation.model_fields.items():
                default = sub_info.get_default(call_default_factory=True)
                rows.append(
                    (
                        f"{name}.{sub}",
                        ENV_NAMES.get((name, sub), "—"),
                        _show(default),
                        " ".join((sub_info.description or "").split()),
                    )
                )
            continue
        default = (
            "required" if info.is_required() else _show(info.get_default(call_default_factory=True))
        )
        meaning = " ".join((info.description or "").split())
        rows.append((name, ENV_NAMES.get((name,), "—"), default, meaning))
    return rows


def _show(default: Any) -> str:
    if default is None:
        return "unset"
    if default == []:
        return "`[]`"
    return f"`{default}`"


def reference_table() -> str:
    lines = ["| YAML key | env | default | meaning |", "|---|---|---|---|"]
    lines.extend(
        f"| `{k}` | {f'`{e}`' if e != '—' else e} | {d} | {m} |" for k, e, d, m in reference_rows()
    )
    return "\n".join(lines)
