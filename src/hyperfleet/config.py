"""Settings: typed, validated once at start-up, passed down explicitly.

Precedence (HyperFleet standard): command-line flags > `HYPERFLEET_*` environment > YAML file >
defaults. Unknown keys in the file are an error. `load_settings()` is called once by the CLI;
nothing here keeps a module-level instance.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from hyperfleet.domain.model import GenerationPolicy, OnParentDelete, ReasonFormat
from hyperfleet.domain.roles import RoleName

# Re-exported: the API's modules know these two as `hyperfleet.config`'s.
from hyperfleet.settings_loader import ConfigError as ConfigError  # noqa: PLC0414
from hyperfleet.settings_loader import errors_from
from hyperfleet.settings_loader import read_yaml as read_yaml  # noqa: PLC0414

ENV_PREFIX = "HYPERFLEET_"

_yaml_data: ContextVar[dict[str, Any] | None] = ContextVar("_yaml_data", default=None)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# RFC 9110 token characters; credentials headers cannot carry a tenant (a proxy may log them).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "set-cookie",
        "proxy-authorization",
        "x-api-key",
        "x-auth-token",
        "x-forwarded-authorization",
    }
)


def _header_name(value: str) -> str:
    if not _HEADER_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid HTTP header name")
    if value.lower() in _RESERVED_HEADERS:
        raise ValueError(f"{value!r} carries credentials and cannot name a tenant")
    return value


class TenantDimension(_Section):
    """`server.tenant.dimensions[]`: a request header whose value becomes `tenancy[key]`."""

    header: str
    key: str = Field(pattern=r"^[A-Za-z0-9._-]{1,63}$")
    required: bool = False

    _check_header = field_validator("header")(_header_name)


class TenantSettings(_Section):
    enabled: bool = False
    """Scope resources by the caller's tenant headers (docs/security.md#tenancy)."""
    system_header: str = "X-HyperFleet-System"
    """Header whose value `true` marks an unscoped system caller (the Sentinel, adapters)."""
    dimensions: list[TenantDimension] = Field(default_factory=list)
    """`{header, key, required}` entries (JSON in the env); a header's value is `tenancy[key]`."""

    _check_system_header = field_validator("system_header")(_header_name)

    @model_validator(mode="after")
    def _consistent(self) -> TenantSettings:
        if self.enabled and not self.dimensions:
            raise ValueError("dimensions: at least one dimension is needed when enabled")
        headers = {self.system_header.lower(): "system_header"}
        keys: set[str] = set()
        for index, dim in enumerate(self.dimensions):
            seen = headers.get(dim.header.lower())
            if seen is not None:
                message = f"header {dim.header!r} is already used by {seen}"
                raise ValueError(f"dimensions[{index}].header: {message}")
            headers[dim.header.lower()] = f"dimensions[{index}]"
            if dim.key in keys:
                raise ValueError(f"dimensions[{index}].key: key {dim.key!r} is used twice")
            keys.add(dim.key)
        return self


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    """Address the API binds to."""
    port: int = Field(default=8000, ge=0, le=65535)
    """Port of the API, health and metrics endpoints."""
    shutdown_timeout_seconds: float = Field(default=20.0, ge=0)
    """How long in-flight requests may drain after SIGTERM."""
    spec_schema_path: str | None = None
    """OpenAPI file whose `components.schemas` hold per-kind spec schemas (`spec_schema_name`)."""
    tenant: TenantSettings = TenantSettings()

    @model_validator(mode="before")
    @classmethod
    def _tenant_from_env(cls, data: Any) -> Any:
        """Fold `HYPERFLEET_SERVER_TENANT_<KEY>` (seen here as `tenant_<key>`) into `tenant`.

        The environment splits a name once (`server` + the rest), so a third level arrives
        flat; `dimensions` comes as JSON.
        """
        if not isinstance(data, dict) or not any(k.startswith("tenant_") for k in data):
            return data
        data = dict(data)
        tenant = dict(data.get("tenant") or {})
        for key in [k for k in data if k.startswith("tenant_")]:
            value = data.pop(key)
            sub = key.removeprefix("tenant_")
            if sub == "dimensions" and isinstance(value, str):
                with contextlib.suppress(ValueError):  # else validation names the key
                    value = json.loads(value)
            tenant[sub] = value
        data["tenant"] = tenant
        return data


class DatabaseSettings(_Section):
    url: str | None = None
    """libpq-style URL; unset → an embedded PostgreSQL in `data_dir`."""
    data_dir: str | None = None
    """Embedded PostgreSQL data directory (default: the user data dir)."""
    pool_min_size: int = Field(default=2, ge=0)
    """Connections opened at start."""
    pool_max_size: int = Field(default=20, ge=1)
    """Most connections the pool holds."""
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    """PostgreSQL statement_timeout per connection (0 = none); a timeout answers 504."""
    ping_timeout_seconds: float = Field(default=2.0, gt=0)
    """Readiness probe's database ping timeout."""


class AuthSettings(_Section):
    enabled: bool = False
    """Require RS256 bearer tokens on API routes."""
    jwks_file: str | None = None
    """JWKS JSON file with the signing keys."""
    jwks_url: str | None = None
    """JWKS URL (https, or http on loopback) with the signing keys."""
    issuer: str | None = None
    """Required `iss` claim, when set."""
    audience: str | None = None
    """Required `aud` claim, when set."""
    identity_claim: str = "email"
    """Claim naming the caller (falls back to `sub`); fills created_by/updated_by/deleted_by."""
    leeway_seconds: int = Field(default=30, ge=0)
    """Clock skew tolerated on `exp`/`nbf`."""
    jwks_refresh_seconds: int = Field(default=300, ge=1)
    """How often the key set is re-read."""
    roles_claim: str = Field(default="roles", min_length=1)
    """Claim (a list of strings; a dotted path reaches a nested one) naming the caller's roles."""
    default_roles: list[RoleName] = Field(default_factory=lambda: list[RoleName](["admin"]))
    """Roles of a token without the `roles_claim` claim (`[]`: such tokens may do nothing)."""
    role_mapping: dict[str, RoleName] = Field(default_factory=dict)
    """Claim value → role, e.g. `{fleet-admins: admin}`; when set, only its keys count."""

    @field_validator("role_mapping")
    @classmethod
    def _claim_values_not_blank(cls, value: dict[str, RoleName]) -> dict[str, RoleName]:
        if any(not key.strip() for key in value):
            msg = "claim values must not be empty"
            raise ValueError(msg)
        return value


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    """Lowest level written."""
    format: Literal["json", "text"] = "json"
    """JSON lines or human-readable text."""


class MetricsSettings(_Section):
    reconciliation_stuck_threshold_seconds: float = Field(default=600.0, gt=0)
    """Age after which a Reconciled=False resource counts as stuck."""


class WatchSettings(_Section):
    retention_seconds: float = Field(default=900.0, gt=0)
    """How long changes stay resumable with Last-Event-ID; older ones need a re-list."""
    heartbeat_seconds: float = Field(default=15.0, gt=0)
    """A comment line on an idle watch stream this often, to keep proxies from closing it."""
    buffer_size: int = Field(default=1000, ge=1)
    """Events one watcher may have queued; a watcher that falls further behind must re-list."""
    poll_seconds: float = Field(default=1.0, gt=0)
    """The change feed also looks for changes this often without a notification."""
    prune_interval_seconds: float = Field(default=60.0, gt=0)
    """How often each process deletes changes older than the retention window."""


class ConsoleSettings(_Section):
    enabled: bool = True
    """Serve the fleet console (a browser UI over this API) at `/console`."""


class AdapterConfig(_Section):
    """`adapters.<name>`: the adapter's contract."""

    reasons: dict[str, list[str]] | None = None
    """Allowed reasons per condition type, e.g. {Available: [Ready, Progressing]}."""
    progressing_reasons: list[str] | None = None
    """Available=False reasons that mean "still working" (AdapterState Provisioning)."""
    data_schema: dict[str, Any] | None = None
    """JSON Schema (2020-12) the report's `data` must satisfy."""


class ConditionConfig(_Section):
    """`conditions[]`: a resource condition computed by CEL over `resource` and `statuses`."""

    type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Z][A-Za-z0-9]*$")
    status: str = Field(min_length=1)
    reason: str | None = None
    message: str | None = None


class EntityConfig(_Section):
    """One `entities[]` entry; for a built-in kind only the keys it sets override."""

    kind: str = Field(min_length=1, max_length=100)
    plural: str | None = None
    parent_kind: str | None = None
    on_parent_delete: OnParentDelete | None = None
    required_adapters: list[str] | None = None
    name_min_len: int | None = Field(default=None, ge=0, le=100)
    name_max_len: int | None = Field(default=None, ge=0, le=100)
    spec_schema_name: str | None = None
    optional_adapters: list[str] | None = None
    validation_adapters: list[str] | None = None
    adapter_dependencies: dict[str, list[str]] | None = None
    generation_policy: GenerationPolicy | None = None
    strict_adapters: bool | None = None
    reason_format: ReasonFormat | None = None
    adapters: dict[str, AdapterConfig] | None = None
    conditions: list[ConditionConfig] | None = None

    @field_validator("required_adapters", "optional_adapters", "validation_adapters")
    @classmethod
    def _adapters_unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if any(not a.strip() for a in value):
                raise ValueError("adapter names must not be empty")
            if len(set(value)) != len(value):
                raise ValueError("adapter names must be unique")
        return value


class AggregationFile(_Section):
    """The aggregation configuration file: per-kind status-engine settings."""

    entities: list[EntityConfig] = Field(default_factory=list)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    auth: AuthSettings = AuthSettings()
    logging: LoggingSettings = LoggingSettings()
    metrics: MetricsSettings = MetricsSettings()
    watch: WatchSettings = WatchSettings()
    console: ConsoleSettings = ConsoleSettings()
    entities: list[EntityConfig] = Field(default_factory=list)
    """Entity kinds: entries for Cluster/NodePool override only the keys they set."""
    aggregation_config: str | None = None
    """Path of the aggregation configuration file (post-MVP status engine); reloaded on SIGHUP."""
    aggregation_watch_seconds: float = Field(default=0.0, ge=0)
    """Poll the aggregation file for changes every N seconds and reload it (0 = off)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - part of the hook signature
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """The YAML file's content, read by `load_settings` and handed over through a ContextVar."""

    def get_field_value(
        self,
        field: FieldInfo,  # noqa: ARG002 - part of the hook signature
        field_name: str,
    ) -> tuple[Any, str, bool]:
        data = _yaml_data.get() or {}
        return data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_yaml_data.get() or {})


def load_settings(
    config_file: str | Path | None = None,
    *,
    use_env: bool = True,
    **overrides: Any,
) -> Settings:
    """Build Settings from flags (`overrides`, nested dicts), env, the YAML file and defaults.

    The file is `config_file`, else `$HYPERFLEET_CONFIG`. Raises ConfigError listing every
    invalid key with its dotted path.
    """
    path = config_file or (os.environ.get("HYPERFLEET_CONFIG") if use_env else None)
    data = read_yaml(path) if path else {}
    token = _yaml_data.set(data)
    try:
        if use_env:
            return Settings(**overrides)
        return _NoEnvSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(errors_from(exc)) from exc
    except SettingsError as exc:
        raise ConfigError(_env_json_errors(os.environ) or [("(environment)", str(exc))]) from exc
    finally:
        _yaml_data.reset(token)


def _env_json_errors(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The list and map settings whose environment variable is not JSON.

    pydantic-settings says only which section failed.
    """
    errors: list[tuple[str, str]] = []
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            continue
        for sub, sub_info in annotation.model_fields.items():
            if get_origin(sub_info.annotation) not in {list, dict}:
                continue
            env = f"{ENV_PREFIX}{name.upper()}_{sub.upper()}"
            if env not in environ:
                continue
            try:
                json.loads(environ[env])
            except ValueError:
                errors.append((f"{name}.{sub}", f'{env} must be JSON, e.g. \'["a", "b"]\''))
    return errors


class _NoEnvSettings(Settings):
    """Settings that ignore the environment (tests and `config validate`)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _YamlSource(settings_cls))


def unknown_env_vars(environ: dict[str, str] | None = None) -> list[str]:
    """`HYPERFLEET_*` variables that match no setting (pydantic ignores them silently)."""
    env = os.environ if environ is None else environ
    known = {
        "HYPERFLEET_CONFIG",
        "HYPERFLEET_TEST_DATABASE_URL",
        "HYPERFLEET_TEST_BROKER_URL",
        "HYPERFLEET_TEST_BROKER_RESTART",
    }
    known.update(ENV_PREFIX + name.upper() for name in Settings.model_fields)
    known.update(env for _, env, _, _ in reference_rows())
    known.add(ENV_PREFIX + "SERVER_TENANT")  # the whole section as JSON
    known.update(ENV_PREFIX + name for name in _OTHER_COMPONENTS_VARS)
    return sorted(
        k
        for k in env
        if k.startswith(ENV_PREFIX)
        and k not in known
        and not k.startswith(tuple(ENV_PREFIX + p for p in _OTHER_COMPONENTS_PREFIXES))
    )


# Read by the loop's parts and the CLI, which often share an environment with the API (one
# shell, one pod template): warning about them in `serve` would send people chasing typos.
_OTHER_COMPONENTS_PREFIXES = (
    "BROKER_",  # Sentinel and adapters (hyperfleet.broker.config)
    "API_",  # their API client: URL, token, token file, headers, timeout
    "SENTINEL_",  # hyperfleet.sentinel.config
)
_OTHER_COMPONENTS_VARS = ("TOKEN", "TOKEN_FILE", "CLI_CONFIG", "COMPLETE")  # the CLI client


def _section_rows(
    prefix: str, model: type[BaseModel], rows: list[tuple[str, str, str, str]]
) -> None:
    for sub, info in model.model_fields.items():
        key = f"{prefix}.{sub}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _section_rows(key, annotation, rows)
            continue
        default = info.get_default(call_default_factory=True)
        rows.append(
            (
                key,
                ENV_PREFIX + key.replace(".", "_").upper(),
                "unset" if default in (None, []) else f"`{default}`",
                info.description or "",
            )
        )


def reference_rows() -> list[tuple[str, str, str, str]]:
    """(YAML key, env name, default, meaning) of every scalar setting (docs/configuration.md)."""
    rows: list[tuple[str, str, str, str]] = []
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _section_rows(name, annotation, rows)
        else:
            default = info.get_default(call_default_factory=True)
            env = "—" if name == "entities" else f"{ENV_PREFIX}{name.upper()}"
            rows.append(
                (
                    name,
                    env,
                    "unset" if default in (None, []) else f"`{default}`",
                    info.description or "",
                )
            )
    return rows


def reference_table() -> str:
    lines = ["| YAML key | Environment | Default | Meaning |", "|---|---|---|---|"]
    lines += [f"| `{k}` | `{e}` | {d} | {m} |" for k, e, d, m in reference_rows()]
    return "\n".join(lines)


def load_aggregation_file(path: str | Path) -> AggregationFile:
    """Read and validate an aggregation file; ConfigError paths are prefixed with the file."""
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        raise ConfigError([(f"{path}: {p}", m) for p, m in exc.errors]) from exc
    try:
        return AggregationFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([(f"{path}: {p}", m) for p, m in errors_from(exc)]) from exc


def settings_from_data(data: dict[str, Any]) -> Settings:
    """Settings from an already-read YAML mapping, without the environment."""
    token = _yaml_data.set(data)
    try:
        return _NoEnvSettings()
    finally:
        _yaml_data.reset(token)


M = TypeVar("M")
_SALVAGE_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Salvaged(Generic[M]):
    """A model validated after the invalid parts of its input were left out (see `salvage`)."""

    value: M | None
    """None when no valid remainder was found."""
    errors: list[tuple[str, str]]
    """Every error of the original input, with its key path."""
    entity_indices: tuple[int, ...]
    """The original index of each `entities` entry kept in `value`."""


def salvage(validate: Callable[[dict[str, Any]], M], data: dict[str, Any]) -> Salvaged[M]:
    """Validate `data`; on errors, record them and validate again without the invalid keys.

    `config validate` uses the remainder to run the checks that come after the schema (kinds,
    adapters, dependency cycles, CEL), so an unknown key does not hide a cycle. An invalid key
    of an `entities` entry is left out with its whole top-level key; an entry without a valid
    `kind` is left out altogether (`entity_indices` maps the kept entries back).
    """
    errors: list[tuple[str, str]] = []
    entries = data.get("entities")
    indices = list(range(len(entries))) if isinstance(entries, list) else []
    current = data
    for round_ in range(_SALVAGE_ROUNDS):
        try:
            return Salvaged(validate(current), errors, tuple(indices))
        except ValidationError as exc:
            if round_ == 0:
                errors = errors_from(exc)
            locs = [tuple(err["loc"]) for err in exc.errors()]
        current, kept = _without(current, locs)
        indices = [indices[i] for i in kept] if kept is not None else indices
    return Salvaged(None, errors, ())


def _without(
    data: dict[str, Any], locs: Sequence[tuple[int | str, ...]]
) -> tuple[dict[str, Any], list[int] | None]:
    """A copy of `data` without what `locs` point at.

    Also returns the kept `entities` indices when an entry was dropped, else None.
    """
    data = copy.deepcopy(data)
    entries = data.get("entities")
    dropped: set[int] = set()
    for loc in locs:
        if isinstance(entries, list) and len(loc) >= 2 and loc[0] == "entities":  # noqa: PLR2004
            index = loc[1]
            if not isinstance(index, int) or not 0 <= index < len(entries):
                continue
            entry = entries[index]
            key = loc[2] if len(loc) > 2 else None  # noqa: PLR2004
            if isinstance(entry, dict) and key in entry and key != "kind":
                del entry[key]
            else:
                dropped.add(index)
            continue
        _delete_deepest(data, loc)
    if not dropped or not isinstance(entries, list):
        return data, None
    kept = [i for i in range(len(entries)) if i not in dropped]
    data["entities"] = [entries[i] for i in kept]
    return data, kept


def _delete_deepest(data: dict[str, Any], loc: Sequence[int | str]) -> None:
    """Delete the deepest part of `loc` that exists in `data` (the bad value or unknown key)."""
    node: Any = data
    parent: Any = None
    key: Any = None
    for step in loc:
        in_dict = isinstance(node, dict) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if not (in_dict or in_list):
            break
        parent, key, node = node, step, node[step]
    if isinstance(parent, dict):
        del parent[key]
    elif isinstance(parent, list):
        parent.pop(key)
