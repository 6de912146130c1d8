"""`server.tenant` settings: defaults, YAML, environment overrides and validation paths."""

from __future__ import annotations

import json
import os

import pytest

from hyperfleet.config import ConfigError, load_settings, unknown_env_vars
from hyperfleet.rest.app import tenancy_policy

ORG = {"header": "X-Org", "key": "org", "required": True}


def tenant(**values: object) -> dict[str, object]:
    return {"server": {"tenant": values}}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment without any HYPERFLEET_ variable of the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("HYPERFLEET_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_off_by_default() -> None:
    settings = load_settings(use_env=False)
    assert settings.server.tenant.enabled is False
    assert settings.server.tenant.system_header == "X-HyperFleet-System"
    assert settings.server.tenant.dimensions == []
    assert tenancy_policy(settings) is None


def test_a_configured_policy() -> None:
    settings = load_settings(use_env=False, **tenant(enabled=True, dimensions=[ORG]))
    policy = tenancy_policy(settings)
    assert policy is not None
    assert policy.system_header == "X-HyperFleet-System"
    assert [(d.header, d.key, d.required) for d in policy.dimensions] == [("X-Org", "org", True)]


def test_environment_overrides(env: pytest.MonkeyPatch) -> None:
    env.setenv("HYPERFLEET_SERVER_TENANT_ENABLED", "true")
    env.setenv("HYPERFLEET_SERVER_TENANT_SYSTEM_HEADER", "X-Loop")
    env.setenv("HYPERFLEET_SERVER_TENANT_DIMENSIONS", json.dumps([ORG]))
    env.setenv("HYPERFLEET_SERVER_PORT", "8123")
    settings = load_settings()
    assert settings.server.tenant.enabled is True
    assert settings.server.tenant.system_header == "X-Loop"
    assert settings.server.tenant.dimensions[0].header == "X-Org"
    assert settings.server.port == 8123
    assert unknown_env_vars() == []


def test_environment_dimensions_that_are_not_json_name_the_key(env: pytest.MonkeyPatch) -> None:
    env.setenv("HYPERFLEET_SERVER_TENANT_DIMENSIONS", "X-Org")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert [p for p, _ in caught.value.errors] == ["server.tenant.dimensions"]


@pytest.mark.parametrize(
    ("values", "path", "says"),
    [
        ({"enabled": True}, "server.tenant", "at least one dimension"),
        (
            {"dimensions": [{"header": "X Org", "key": "org"}]},
            "server.tenant.dimensions.0.header",
            "not a valid HTTP header name",
        ),
        (
            {"dimensions": [{"header": "authorization", "key": "org"}]},
            "server.tenant.dimensions.0.header",
            "credentials",
        ),
        ({"system_header": "Cookie"}, "server.tenant.system_header", "credentials"),
        (
            {"dimensions": [{"header": "X-Org", "key": "o r g"}]},
            "server.tenant.dimensions.0.key",
            "pattern",
        ),
        (
            {"dimensions": [ORG, {"header": "x-org", "key": "org2"}]},
            "server.tenant",
            "dimensions[1].header",
        ),
        (
            {"dimensions": [{"header": "X-HyperFleet-System", "key": "s"}]},
            "server.tenant",
            "system_header",
        ),
        (
            {"dimensions": [ORG, {"header": "X-Team", "key": "org"}]},
            "server.tenant",
            "dimensions[1].key",
        ),
        ({"dimensions": [{"header": "X-Org"}]}, "server.tenant.dimensions.0.key", "required"),
        ({"dimension": []}, "server.tenant.dimension", "Extra inputs"),
    ],
)
def test_invalid_settings_name_their_key_path(
    values: dict[str, object], path: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(use_env=False, **tenant(**values))
    assert [p for p, _ in caught.value.errors] == [path]
    assert says in caught.value.errors[0][1]
