"""Settings loading (interfaces.md "Configuration", house style §5.4): precedence flags > env >
YAML > defaults, unknown keys as errors with dotted key paths, and the unknown-env-var check.

Most tests pass `use_env=False` and explicit overrides. The few that exercise the environment
set it with monkeypatch inside the test body, after every import, from a cleaned environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperfleet.config import (
    ConfigError,
    DatabaseSettings,
    ServerSettings,
    Settings,
    load_settings,
    read_yaml,
    unknown_env_vars,
)
from hyperfleet.domain.model import OnParentDelete


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("HYPERFLEET_"):
            monkeypatch.delenv(name)
    return monkeypatch


def write_yaml(tmp_path: Path, data: Any, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, "utf-8")
    return path


# --- defaults ------------------------------------------------------------------------------------


def test_defaults():
    settings = load_settings(None, use_env=False)
    assert settings.server == ServerSettings()
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8000)
    assert settings.database.url is None
    assert settings.database == DatabaseSettings()
    assert settings.auth.enabled is False
    assert settings.logging.level == "info"
    assert settings.entities == []
    assert settings.aggregation_config is None


def test_settings_are_frozen():
    settings = load_settings(None, use_env=False)
    with pytest.raises(ValueError, match="frozen"):
        settings.server.port = 1  # type: ignore[misc]


# --- precedence ----------------------------------------------------------------------------------

YAML_CONFIG = {
    "server": {"host": "0.0.0.0", "port": 9000},
    "database": {"url": "postgresql://yaml@db/yaml", "pool_max_size": 7},
    "logging": {"level": "debug"},
}


@pytest.mark.parametrize(
    ("use_yaml", "env", "flags", "expected_port"),
    [
        pytest.param(False, {}, {}, 8000, id="defaults"),
        pytest.param(True, {}, {}, 9000, id="yaml-over-defaults"),
        pytest.param(True, {"HYPERFLEET_SERVER_PORT": "9100"}, {}, 9100, id="env-over-yaml"),
        pytest.param(False, {"HYPERFLEET_SERVER_PORT": "9100"}, {}, 9100, id="env-over-defaults"),
        pytest.param(
            True,
            {"HYPERFLEET_SERVER_PORT": "9100"},
            {"server": {"port": 9200}},
            9200,
            id="flags-over-env",
        ),
        pytest.param(True, {}, {"server": {"port": 9200}}, 9200, id="flags-over-yaml"),
    ],
)
def test_precedence(  # noqa: PLR0917 - pytest parameters
    tmp_path: Path,
    clean_env: pytest.MonkeyPatch,
    use_yaml: bool,
    env: dict[str, str],
    flags: dict[str, Any],
    expected_port: int,
):
    path = write_yaml(tmp_path, YAML_CONFIG) if use_yaml else None
    for name, value in env.items():
        clean_env.setenv(name, value)
    settings = load_settings(path, **flags)
    assert settings.server.port == expected_port


def test_precedence_is_per_key_not_per_section(tmp_path: Path, clean_env: pytest.MonkeyPatch):
    """A flag for server.port must not drop server.host from the file, nor database keys."""
    path = write_yaml(tmp_path, YAML_CONFIG)
    clean_env.setenv("HYPERFLEET_DATABASE_URL", "postgresql://env@db/env")
    settings = load_settings(path, server={"port": 9200})
    assert settings.server.host == "0.0.0.0"
    assert settings.server.port == 9200  # flag
    assert settings.database.url == "postgresql://env@db/env"  # env over file
    assert settings.database.pool_max_size == 7  # file, same section as an env override
    assert settings.logging.level == "debug"  # file
    assert settings.auth.enabled is False  # default


def test_use_env_false_ignores_the_environment(tmp_path: Path, clean_env: pytest.MonkeyPatch):
    clean_env.setenv("HYPERFLEET_SERVER_PORT", "9100")
    clean_env.setenv("HYPERFLEET_CONFIG", str(write_yaml(tmp_path, {"server": {"port": 9300}})))
    settings = load_settings(None, use_env=False)
    assert settings.server.port == 8000


def test_config_file_from_env(tmp_path: Path, clean_env: pytest.MonkeyPatch):
    clean_env.setenv("HYPERFLEET_CONFIG", str(write_yaml(tmp_path, {"server": {"port": 9300}})))
    assert load_settings().server.port == 9300


def test_explicit_config_file_wins_over_env_file(tmp_path: Path, clean_env: pytest.MonkeyPatch):
    env_file = write_yaml(tmp_path, {"server": {"port": 9300}}, "env.yaml")
    explicit = write_yaml(tmp_path, {"server": {"port": 9400}}, "explicit.yaml")
    clean_env.setenv("HYPERFLEET_CONFIG", str(env_file))
    assert load_settings(explicit).server.port == 9400


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("HYPERFLEET_DATABASE_URL", "postgresql://u@h:5/d", lambda s: s.database.url),
        ("HYPERFLEET_DATABASE_POOL_MAX_SIZE", "3", lambda s: s.database.pool_max_size),
        ("HYPERFLEET_AUTH_ENABLED", "true", lambda s: s.auth.enabled),
        ("HYPERFLEET_SERVER_HOST", "::1", lambda s: s.server.host),
        ("HYPERFLEET_AGGREGATION_CONFIG", "/etc/agg.yaml", lambda s: s.aggregation_config),
        ("HYPERFLEET_LOGGING_LEVEL", "warning", lambda s: s.logging.level),
    ],
)
def test_documented_env_names(clean_env: pytest.MonkeyPatch, name: str, value: str, read: Any):
    clean_env.setenv(name, value)
    expected: Any = {"true": True, "3": 3}.get(value, value)
    assert read(load_settings()) == expected


def test_overrides_accept_entities():
    settings = load_settings(
        None,
        use_env=False,
        entities=[{"kind": "NodePool", "required_adapters": ["validation"]}],
    )
    (entry,) = settings.entities
    assert entry.kind == "NodePool"
    assert entry.required_adapters == ["validation"]
    assert entry.model_dump(exclude_unset=True) == {
        "kind": "NodePool",
        "required_adapters": ["validation"],
    }


def test_entities_from_yaml(tmp_path: Path):
    path = write_yaml(
        tmp_path,
        {
            "entities": [
                {"kind": "Channel"},
                {"kind": "Version", "parent_kind": "Channel", "on_parent_delete": "restrict"},
            ]
        },
    )
    settings = load_settings(path, use_env=False)
    assert [e.kind for e in settings.entities] == ["Channel", "Version"]
    assert settings.entities[1].on_parent_delete is OnParentDelete.RESTRICT


# --- errors --------------------------------------------------------------------------------------

ERRORS = [
    # (id, yaml content, expected key paths)
    ("unknown-top-level-key", {"bogus": 1}, ["bogus"]),
    ("unknown-section-key", {"server": {"prot": 8080}}, ["server.prot"]),
    ("unknown-database-key", {"database": {"uri": "x"}}, ["database.uri"]),
    (
        "unknown-entity-key",
        {"entities": [{"kind": "Cluster", "colour": "red"}]},
        ["entities.0.colour"],
    ),
    ("port-out-of-range", {"server": {"port": 70000}}, ["server.port"]),
    ("port-not-a-number", {"server": {"port": "eighty"}}, ["server.port"]),
    ("bad-log-level", {"logging": {"level": "loud"}}, ["logging.level"]),
    ("pool-size-zero", {"database": {"pool_max_size": 0}}, ["database.pool_max_size"]),
    ("entity-without-kind", {"entities": [{"plural": "things"}]}, ["entities.0.kind"]),
    (
        "bad-on-parent-delete",
        {"entities": [{"kind": "NodePool", "on_parent_delete": "orphan"}]},
        ["entities.0.on_parent_delete"],
    ),
    (
        "duplicate-adapters",
        {"entities": [{"kind": "Cluster", "required_adapters": ["dns", "dns"]}]},
        ["entities.0.required_adapters"],
    ),
    (
        "empty-adapter-name",
        {"entities": [{"kind": "Cluster", "required_adapters": ["dns", " "]}]},
        ["entities.0.required_adapters"],
    ),
    (
        "every-error-listed",
        {"server": {"prot": 1, "port": -1}, "extra": True},
        ["extra", "server.port", "server.prot"],
    ),
]


@pytest.mark.parametrize(
    ("content", "paths"),
    [pytest.param(c, p, id=i) for i, c, p in ERRORS],
)
def test_invalid_files_name_every_key_path(tmp_path: Path, content: Any, paths: list[str]):
    with pytest.raises(ConfigError) as caught:
        load_settings(write_yaml(tmp_path, content), use_env=False)
    assert sorted(path for path, _ in caught.value.errors) == paths
    for path in paths:
        assert f"{path}: " in str(caught.value)


def test_unknown_keys_in_flags_are_errors_too():
    with pytest.raises(ConfigError) as caught:
        load_settings(None, use_env=False, server={"hots": "x"})
    assert [path for path, _ in caught.value.errors] == ["server.hots"]


def test_unknown_key_message_says_extra():
    with pytest.raises(ConfigError) as caught:
        load_settings(None, use_env=False, database={"uri": "x"})
    ((path, message),) = caught.value.errors
    assert path == "database.uri"
    assert "not permitted" in message.lower()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("", {}, id="empty-file"),
        pytest.param("# only a comment\n", {}, id="comment-only"),
        pytest.param("server:\n  port: 1\n", {"server": {"port": 1}}, id="mapping"),
    ],
)
def test_read_yaml(tmp_path: Path, content: str, expected: dict[str, Any]):
    assert read_yaml(write_yaml(tmp_path, content)) == expected


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param("- a\n- b\n", "the top level must be a mapping", id="list"),
        pytest.param("just a string\n", "the top level must be a mapping", id="scalar"),
        pytest.param("server: [unclosed\n", "invalid YAML", id="syntax"),
    ],
)
def test_read_yaml_errors(tmp_path: Path, content: str, fragment: str):
    with pytest.raises(ConfigError) as caught:
        read_yaml(write_yaml(tmp_path, content))
    ((path, message),) = caught.value.errors
    assert path == "(file)"
    assert fragment in message


def test_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "absent.yaml", use_env=False)
    ((path, message),) = caught.value.errors
    assert path == "(file)"
    assert "cannot read" in message


# --- unknown_env_vars ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "unknown"),
    [
        pytest.param({}, [], id="empty"),
        pytest.param(
            {
                "HYPERFLEET_CONFIG": "/etc/hf.yaml",
                "HYPERFLEET_TEST_DATABASE_URL": "postgresql://x",
                "HYPERFLEET_SERVER_PORT": "1",
                "HYPERFLEET_SERVER_HOST": "h",
                "HYPERFLEET_DATABASE_URL": "postgresql://x",
                "HYPERFLEET_DATABASE_STATEMENT_TIMEOUT_MS": "5",
                "HYPERFLEET_AUTH_ENABLED": "true",
                "HYPERFLEET_AUTH_JWKS_URL": "https://x",
                "HYPERFLEET_LOGGING_FORMAT": "text",
                "HYPERFLEET_METRICS_RECONCILIATION_STUCK_THRESHOLD_SECONDS": "5",
                "HYPERFLEET_AGGREGATION_CONFIG": "/x",
                "PATH": "/bin",
            },
            [],
            id="all-known",
        ),
        pytest.param(
            {
                "HYPERFLEET_SERVR_PORT": "1",
                "HYPERFLEET_DATABASE_URI": "x",
                "HYPERFLEET_PORT": "1",
                "HYPERFLEET_SERVER_PORT": "1",
                "OTHER_SERVER_PORT": "1",
                "hyperfleet_server_port": "1",
            },
            ["HYPERFLEET_DATABASE_URI", "HYPERFLEET_PORT", "HYPERFLEET_SERVR_PORT"],
            id="typos-sorted",
        ),
        pytest.param(
            {
                "HYPERFLEET_API_TOKEN_FILE": "/run/token",
                "HYPERFLEET_API_HEADERS": "{}",
                "HYPERFLEET_API_URL": "http://x",
                "HYPERFLEET_SENTINEL_NAME": "s",
                "HYPERFLEET_BROKER_URL": "amqp://x",
                "HYPERFLEET_TOKEN_FILE": "/t",
                "HYPERFLEET_TOKEN": "t",
                "HYPERFLEET_CLI_CONFIG": "/c",
                "HYPERFLEET_TOKENS": "t",
            },
            ["HYPERFLEET_TOKENS"],
            id="the-loops-and-the-clis-own",  # regression: serve warned about them
        ),
    ],
)
def test_unknown_env_vars(environ: dict[str, str], unknown: list[str]):
    assert unknown_env_vars(environ) == unknown


def test_unknown_env_vars_reads_the_process_environment(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("HYPERFLEET_NOT_A_SETTING", "1")
    clean_env.setenv("HYPERFLEET_SERVER_PORT", "1")
    assert unknown_env_vars() == ["HYPERFLEET_NOT_A_SETTING"]


def test_every_settings_field_has_a_known_env_name():
    names = {
        f"HYPERFLEET_{section.upper()}_{key.upper()}"
        for section, info in Settings.model_fields.items()
        if hasattr(info.annotation, "model_fields")
        for key in info.annotation.model_fields  # type: ignore[union-attr]
    }
    assert names
    assert unknown_env_vars(dict.fromkeys(names, "x")) == []
