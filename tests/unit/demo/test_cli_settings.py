"""`hyperfleet demo`'s settings: the demo's entities and logging unless the config sets them;
flags over environment for the broker."""

import pytest
import typer

from hyperfleet.cli.demo import _broker_settings, _demo_settings


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for name in ("HYPERFLEET_CONFIG", "HYPERFLEET_LOGGING_LEVEL", "HYPERFLEET_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)


def test_without_a_config_the_demo_entities_and_quiet_logging_apply(tmp_path):
    settings = _demo_settings(None, port=0, data_dir=tmp_path / "pg", database_url=None)
    cluster = next(e for e in settings.entities if e.kind == "Cluster")
    assert cluster.adapter_dependencies == {
        "dns": ["validation"],
        "hypershift": ["validation", "dns"],
    }
    assert settings.logging.level == "warning"
    assert settings.server.port == 0
    assert settings.database.data_dir == str(tmp_path / "pg")


def test_a_config_with_entities_and_logging_is_used_as_it_is(tmp_path):
    config = tmp_path / "demo.yaml"
    config.write_text(
        "logging: {level: debug}\n"
        "entities:\n  - kind: Cluster\n    required_adapters: [validation, dns]\n"
    )
    settings = _demo_settings(config, port=None, data_dir=None, database_url="postgresql://x/y")
    assert [e.kind for e in settings.entities] == ["Cluster"]
    assert settings.entities[0].adapter_dependencies is None
    assert settings.logging.level == "debug"
    assert settings.database.url == "postgresql://x/y"


def test_logging_from_the_environment_wins_over_the_demo_default(monkeypatch):
    monkeypatch.setenv("HYPERFLEET_LOGGING_LEVEL", "info")
    assert _demo_settings(None, port=None, data_dir=None, database_url=None).logging.level == "info"


def test_broker_url_flag_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("HYPERFLEET_BROKER_URL", "amqp://env-host/")
    monkeypatch.setenv("HYPERFLEET_BROKER_PARALLELISM", "3")
    assert _broker_settings(None).url == "amqp://env-host/"
    flagged = _broker_settings("amqp://flag-host/")
    assert flagged.url == "amqp://flag-host/"
    assert flagged.parallelism == 3
    monkeypatch.delenv("HYPERFLEET_BROKER_URL")
    assert _broker_settings(None).url == "memory://"


def test_bad_broker_settings_exit_2(monkeypatch):
    with pytest.raises(typer.Exit) as exc:
        _broker_settings("kafka://x")
    assert exc.value.exit_code == 2
    monkeypatch.setenv("HYPERFLEET_BROKER_PARALLELISM", "0")
    with pytest.raises(typer.Exit) as exc:
        _broker_settings(None)
    assert exc.value.exit_code == 2
