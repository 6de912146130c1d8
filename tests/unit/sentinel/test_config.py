"""Sentinel settings: defaults, precedence (flags > env > YAML > defaults), key-path errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperfleet.sentinel.config import (
    DEFAULT_FIELDS,
    LabelSelector,
    SentinelConfigError,
    load_sentinel_settings,
    selector_search,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sentinel.yaml"
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path) -> None:
    s = load_sentinel_settings(_write(tmp_path, "resource_type: nodepools\n"), environ={})
    assert s.api_url == "http://127.0.0.1:8000"
    assert s.effective_topic == "hyperfleet-nodepools"
    assert s.poll_interval_seconds == 5
    assert s.page_size == 100
    assert s.max_age_ready_seconds == 1800
    assert s.max_age_not_ready_seconds == 10
    assert s.broker.url == "memory://"
    assert s.health.port == 8080
    assert s.stall_seconds == 15
    assert s.selector_label == "all"
    assert s.effective_fields == list(DEFAULT_FIELDS)


def test_precedence_flags_env_yaml(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "resource_type: clusters\napi_url: http://yaml:1\npoll_interval_seconds: 2\n"
        "broker: {url: 'amqp://yaml/'}\nhealth: {port: 1111}\n",
    )
    env = {
        "HYPERFLEET_API_URL": "http://env:2",
        "HYPERFLEET_BROKER_URL": "amqp://env/",
        "HYPERFLEET_SENTINEL_HEALTH_PORT": "2222",
        "HYPERFLEET_SENTINEL_POLL_INTERVAL_SECONDS": "0.5",
    }
    s = load_sentinel_settings(path, environ=env)
    assert (s.api_url, s.broker.url, s.health.port, s.poll_interval_seconds) == (
        "http://env:2",
        "amqp://env/",
        2222,
        0.5,
    )
    s = load_sentinel_settings(
        path, environ=env, overrides={"api_url": "http://flag:3", "broker": {"url": "memory://"}}
    )
    assert (s.api_url, s.broker.url, s.health.port) == ("http://flag:3", "memory://", 2222)


def test_config_file_from_env(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource_type: widgets\ntopic: my-topic\n")
    s = load_sentinel_settings(None, environ={"HYPERFLEET_CONFIG": str(path)})
    assert (s.resource_type, s.effective_topic) == ("widgets", "my-topic")


def test_unknown_keys_are_errors_with_paths(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "resource_type: clusters\npoll_intervall: 3\nhealth: {prot: 1}\n"
        "message_decision: {params: [{name: a, exp: 'true'}], result: a}\n"
        "resource_selector: [{label: 'app.kubernetes.io/name', value: x}]\n",
    )
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings(path, environ={})
    paths = {p for p, _ in info.value.errors}
    assert {
        "poll_intervall",
        "health.prot",
        "message_decision.params[0].exp",
        "message_decision.params[0].expr",
        "resource_selector[0].label",
    } <= paths


def test_resource_type_is_required_and_values_are_checked(tmp_path: Path) -> None:
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings(
            _write(tmp_path, "page_size: 500\npoll_interval_seconds: 0\n"), environ={}
        )
    assert {p for p, _ in info.value.errors} == {
        "resource_type",
        "page_size",
        "poll_interval_seconds",
    }


def test_bad_env_value_names_the_key() -> None:
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings(
            None,
            environ={
                "HYPERFLEET_SENTINEL_RESOURCE_TYPE": "clusters",
                "HYPERFLEET_SENTINEL_PAGE_SIZE": "many",
            },
        )
    assert info.value.errors[0][0] == "page_size"


def test_token_and_token_file_exclusive() -> None:
    with pytest.raises(SentinelConfigError, match="token or token_file"):
        load_sentinel_settings(
            None,
            environ={},
            overrides={"resource_type": "clusters", "token": "a", "token_file": "/f"},
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (": : :\n", "invalid YAML"),
        ("- a\n", "top level must be a mapping"),
    ],
)
def test_file_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SentinelConfigError, match=message):
        load_sentinel_settings(_write(tmp_path, text), environ={})


def test_missing_file() -> None:
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings("/nonexistent/sentinel.yaml", environ={})
    assert info.value.errors[0][0] == "(file)"


def test_selector_search_and_label() -> None:
    selector = [LabelSelector(label="shard", value="1"), LabelSelector(label="env", value="o'prod")]
    assert selector_search(selector) == "labels.env='o''prod' and labels.shard='1'"
    assert selector_search([]) is None
    s = load_sentinel_settings(
        None,
        environ={},
        overrides={
            "resource_type": "clusters",
            "resource_selector": [{"label": "shard", "value": "1"}, {"label": "env", "value": "p"}],
        },
    )
    assert s.selector_label == "env=p,shard=1"


def test_fields_follow_the_decision() -> None:
    base = {"resource_type": "clusters"}
    custom = load_sentinel_settings(
        None, environ={}, overrides={**base, "message_decision": {"result": "true"}}
    )
    assert custom.effective_fields is None
    data = load_sentinel_settings(
        None, environ={}, overrides={**base, "message_data": {"id": "resource.id"}}
    )
    assert data.effective_fields is None
    explicit = load_sentinel_settings(
        None,
        environ={},
        overrides={**base, "message_data": {"id": "resource.id"}, "fields": ["kind"]},
    )
    assert explicit.effective_fields == ["kind"]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({}, "message_data"),
        ({"id": ""}, "message_data"),
        ({"owner": {}}, "message_data"),
        ({"owner": {"id": 3}}, "message_data"),
        ({"bad key": "resource.id"}, "message_data"),
    ],
)
def test_message_data_leaves_are_checked(data: dict[str, object], path: str) -> None:
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings(
            None, environ={}, overrides={"resource_type": "clusters", "message_data": data}
        )
    assert info.value.errors[0][0] == path


def test_broker_section_env_and_flags() -> None:
    base = {"resource_type": "clusters", "broker": {"url": "amqp://yaml/", "parallelism": 3}}
    env = {"HYPERFLEET_BROKER_URL": "amqp://env/", "HYPERFLEET_BROKER_PARALLELISM": ""}
    s = load_sentinel_settings(None, environ=env, overrides=base)
    # Flags (overrides) beat the environment; an empty variable counts as unset.
    assert (s.broker.url, s.broker.parallelism) == ("amqp://yaml/", 3)
    s = load_sentinel_settings(None, environ=env, overrides={"resource_type": "clusters"})
    assert s.broker.url == "amqp://env/"


def test_broker_errors_carry_the_section_path() -> None:
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings(
            None,
            environ={"HYPERFLEET_BROKER_DLQ_ATTEMPTS": "0"},
            overrides={"resource_type": "clusters", "broker": {"parallelism": 0}, "page_size": 0},
        )
    paths = [p for p, _ in info.value.errors]
    assert sorted(paths) == ["broker.dlq_attempts", "broker.parallelism", "page_size"]


def test_api_headers_default_to_the_system_caller_header(tmp_path: Path) -> None:
    s = load_sentinel_settings(_write(tmp_path, "resource_type: clusters\n"), environ={})
    assert s.api_headers == {"X-HyperFleet-System": "true"}


def test_api_headers_from_yaml_replace_the_default(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource_type: clusters\napi_headers: {X-HyperFleet-Tenant: acme}\n")
    assert load_sentinel_settings(path, environ={}).api_headers == {"X-HyperFleet-Tenant": "acme"}
    path = _write(tmp_path, "resource_type: clusters\napi_headers: {}\n")
    assert load_sentinel_settings(path, environ={}).api_headers == {}


def test_api_headers_from_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource_type: clusters\napi_headers: {X-A: file}\n")
    env = {"HYPERFLEET_API_HEADERS": "X-HyperFleet-System: true, X-Source: sentinel"}
    s = load_sentinel_settings(path, environ=env)
    assert s.api_headers == {"X-HyperFleet-System": "true", "X-Source": "sentinel"}


def test_a_bad_api_header_names_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "resource_type: clusters\napi_headers: {Authorization: x}\n")
    with pytest.raises(SentinelConfigError) as info:
        load_sentinel_settings(path, environ={})
    assert info.value.errors == [
        ("api_headers", "Value error, header 'Authorization' is set by the client itself")
    ]


def test_the_client_carries_token_file_and_headers(tmp_path: Path) -> None:
    from hyperfleet.client import TokenFile
    from hyperfleet.sentinel.process import make_client

    token = tmp_path / "token"
    token.write_text("t1\n")
    path = _write(tmp_path, f"resource_type: clusters\ntoken_file: {token}\n")
    client = make_client(load_sentinel_settings(path, environ={}))
    assert client.headers == {"X-HyperFleet-System": "true"}
    assert isinstance(client._token, TokenFile)
    assert client._token() == "t1"
