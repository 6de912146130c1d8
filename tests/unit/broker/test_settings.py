"""Broker settings: YAML `broker:` section, HYPERFLEET_BROKER_* over it, errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hyperfleet.broker.config import BrokerSettings, reference_table
from hyperfleet.broker.factory import connect, load_broker_settings
from hyperfleet.broker.memory import InProcessBroker
from hyperfleet.broker.rabbitmq import RabbitBroker
from hyperfleet.broker.topology import topology
from hyperfleet.config import ConfigError

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_defaults_without_section_or_env() -> None:
    assert load_broker_settings(None, {}) == BrokerSettings()


def test_yaml_section_is_read() -> None:
    settings = load_broker_settings(
        {"url": "amqp://rabbit:5672/", "parallelism": 3, "exchange": "ex"}, {}
    )
    assert settings.url == "amqp://rabbit:5672/"
    assert settings.parallelism == 3
    assert settings.exchange == "ex"


def test_env_overrides_yaml_for_every_key() -> None:
    section = {
        "url": "memory://",
        "exchange": "yaml-ex",
        "queue": "yaml-q",
        "parallelism": 2,
        "dlq_attempts": 2,
        "retry_delay_seconds": 2,
        "retry_max_delay_seconds": 20,
        "publisher_confirms": True,
        "connect_timeout_seconds": 5,
    }
    environ = {
        "HYPERFLEET_BROKER_URL": "amqps://u:p@mq:5671/vh",
        "HYPERFLEET_BROKER_EXCHANGE": "env-ex",
        "HYPERFLEET_BROKER_QUEUE": "env-q",
        "HYPERFLEET_BROKER_PARALLELISM": "7",
        "HYPERFLEET_BROKER_DLQ_ATTEMPTS": "9",
        "HYPERFLEET_BROKER_RETRY_DELAY_SECONDS": "0.5",
        "HYPERFLEET_BROKER_RETRY_MAX_DELAY_SECONDS": "4",
        "HYPERFLEET_BROKER_PUBLISHER_CONFIRMS": "false",
        "HYPERFLEET_BROKER_CONNECT_TIMEOUT_SECONDS": "60",
        "HYPERFLEET_OTHER": "ignored",
    }
    assert load_broker_settings(section, environ) == BrokerSettings(
        url="amqps://u:p@mq:5671/vh",
        exchange="env-ex",
        queue="env-q",
        parallelism=7,
        dlq_attempts=9,
        retry_delay_seconds=0.5,
        retry_max_delay_seconds=4,
        publisher_confirms=False,
        connect_timeout_seconds=60,
    )


def test_empty_env_variable_counts_as_unset() -> None:
    settings = load_broker_settings({"parallelism": 4}, {"HYPERFLEET_BROKER_PARALLELISM": ""})
    assert settings.parallelism == 4


def test_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERFLEET_BROKER_DLQ_ATTEMPTS", "3")
    assert load_broker_settings({}).dlq_attempts == 3


@pytest.mark.parametrize(
    ("section", "environ", "path", "detail"),
    [
        pytest.param({"parallelism": 0}, {}, "broker.parallelism", "greater than", id="yaml"),
        pytest.param(
            {},
            {"HYPERFLEET_BROKER_PARALLELISM": "many"},
            "broker.parallelism",
            "HYPERFLEET_BROKER_PARALLELISM",
            id="env-names-the-variable",
        ),
        pytest.param({"url": "kafka://x"}, {}, "broker.url", "amqp://", id="scheme"),
        pytest.param({"url": "localhost:5672"}, {}, "broker.url", "amqp://", id="no-scheme"),
        pytest.param({"dlq_attempts": 101}, {}, "broker.dlq_attempts", "less than", id="dlq"),
        pytest.param({"retry_delay_seconds": -1}, {}, "broker.retry_delay_seconds", "", id="neg"),
        pytest.param({"exchnage": "x"}, {}, "broker.exchnage", "Extra inputs", id="typo"),
        pytest.param(
            {},
            {"HYPERFLEET_BROKER_PUBLISHER_CONFIRMS": "maybe"},
            "broker.publisher_confirms",
            "boolean",
            id="bool",
        ),
        pytest.param(["url"], {}, "broker", "mapping", id="not-a-mapping"),
    ],
)
def test_invalid_values_name_the_key_path(
    section: object, environ: dict[str, str], path: str, detail: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_broker_settings(section, environ)  # type: ignore[arg-type]
    paths = [p for p, _ in info.value.errors]
    assert paths == [path]
    assert detail in info.value.errors[0][1]
    assert str(info.value).startswith(f"{path}: ")


def test_connect_picks_the_implementation_by_scheme() -> None:
    assert isinstance(connect(BrokerSettings()), InProcessBroker)
    assert isinstance(connect(BrokerSettings(url="amqp://guest:guest@h:5672/")), RabbitBroker)
    assert isinstance(connect(BrokerSettings(url="amqps://h/")), RabbitBroker)


def test_connect_rejects_an_unknown_scheme_naming_broker_url() -> None:
    bogus = BrokerSettings.model_construct(url="nats://x")  # skips validation, as a caller could
    with pytest.raises(ConfigError, match=r"^broker\.url: "):
        connect(bogus)


def test_topology_names() -> None:
    settings = BrokerSettings(dlq_attempts=5, retry_delay_seconds=1, retry_max_delay_seconds=4)
    topo = topology(settings, "hyperfleet-clusters", "dns")
    assert topo.exchange == "hyperfleet-clusters"
    assert topo.queue == "hyperfleet-clusters-dns"
    assert topo.dead_letter_exchange == "hyperfleet-clusters.dlx"
    assert topo.dead_letter_queue == "hyperfleet-clusters-dns.dlq"
    # backoffs of attempts 1-4: 1, 2, 4, 4 s -> three retry queues
    assert [name for _, name in topo.retry_queues] == [
        "hyperfleet-clusters-dns.retry.1000ms",
        "hyperfleet-clusters-dns.retry.2000ms",
        "hyperfleet-clusters-dns.retry.4000ms",
    ]
    assert topo.retry_queue(settings.backoff(4)) == "hyperfleet-clusters-dns.retry.4000ms"
    named = topology(settings.model_copy(update={"exchange": "ex", "queue": "q"}), "t", "dns")
    assert (named.exchange, named.queue) == ("ex", "q-dns")


def test_docs_settings_table_matches_the_settings() -> None:
    text = (DOCS / "broker.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- broker-settings:start -->\n(.*?)\n<!-- broker-settings:end -->", text, re.DOTALL
    )
    assert match, "markers broker-settings missing in docs/broker.md"
    assert match.group(1) == reference_table()


def test_broker_variables_are_not_unknown_to_the_api_server() -> None:
    from hyperfleet.config import unknown_env_vars

    environ = dict.fromkeys(
        ["HYPERFLEET_BROKER_URL", "HYPERFLEET_TEST_BROKER_URL", "HYPERFLEET_TEST_BROKER_RESTART"],
        "1",
    )
    assert unknown_env_vars(environ) == []
