"""`auth.roles_claim`, `auth.default_roles`, `auth.role_mapping`: defaults, env, errors."""

from __future__ import annotations

import os

import pytest

from hyperfleet.config import ConfigError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("HYPERFLEET_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_keep_todays_behaviour():
    auth = load_settings(None, use_env=False).auth
    assert auth.roles_claim == "roles"
    assert auth.default_roles == ["admin"]
    assert auth.role_mapping == {}


def test_env_overrides_take_json_for_lists_and_maps(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("HYPERFLEET_AUTH_ROLES_CLAIM", "realm_access.roles")
    clean_env.setenv("HYPERFLEET_AUTH_DEFAULT_ROLES", '["viewer"]')
    clean_env.setenv("HYPERFLEET_AUTH_ROLE_MAPPING", '{"fleet-admins": "admin"}')
    auth = load_settings().auth
    assert auth.roles_claim == "realm_access.roles"
    assert auth.default_roles == ["viewer"]
    assert auth.role_mapping == {"fleet-admins": "admin"}


def test_an_empty_default_is_allowed():
    assert load_settings(None, use_env=False, auth={"default_roles": []}).auth.default_roles == []


@pytest.mark.parametrize(
    ("auth", "path"),
    [
        ({"default_roles": ["viewer", "root"]}, "auth.default_roles.1"),
        ({"default_roles": "admin"}, "auth.default_roles"),
        ({"role_mapping": {"fleet-admins": "superuser"}}, "auth.role_mapping.fleet-admins"),
        ({"role_mapping": {" ": "admin"}}, "auth.role_mapping"),
        ({"role_mapping": ["admin"]}, "auth.role_mapping"),
        ({"roles_claim": ""}, "auth.roles_claim"),
    ],
)
def test_invalid_values_name_the_key_path(auth, path):
    with pytest.raises(ConfigError) as caught:
        load_settings(None, use_env=False, auth=auth)
    assert [p for p, _ in caught.value.errors] == [path]


def test_a_list_env_value_that_is_not_json_names_the_key(clean_env: pytest.MonkeyPatch):
    clean_env.setenv("HYPERFLEET_AUTH_DEFAULT_ROLES", "viewer")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.errors == [
        ("auth.default_roles", """HYPERFLEET_AUTH_DEFAULT_ROLES must be JSON, e.g. '["a", "b"]'""")
    ]
