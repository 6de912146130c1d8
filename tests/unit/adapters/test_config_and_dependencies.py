"""The adapter process config (key paths, env overrides, defaults) and the dependency cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hyperfleet.adapters.config import build_adapter, load_adapter_config
from hyperfleet.adapters.dependencies import DependencyCache, blocked_by, dependents_not_finalized
from hyperfleet.adapters.simulated import SimulatedAdapter
from hyperfleet.config import ConfigError


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "adapter.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("data", "kind", "topic"),
    [
        ({"name": "dns", "kind": "Cluster"}, "Cluster", "hyperfleet-clusters"),
        ({"name": "dns", "kind": "NodePool"}, "NodePool", "hyperfleet-nodepools"),
        ({"name": "dns", "resource_type": "nodepools"}, "NodePool", "hyperfleet-nodepools"),
        ({"name": "dns", "kind": "Widget"}, "Widget", "hyperfleet-widgets"),
        ({"name": "dns", "kind": "Cluster", "topic": "t1"}, "Cluster", "t1"),
    ],
)
def test_kind_and_topic_defaults(tmp_path: Path, data: dict, kind: str, topic: str):
    config = load_adapter_config(write(tmp_path, data), environ={})
    assert (config.resolved_kind, config.resolved_topic) == (kind, topic)
    assert isinstance(build_adapter(config), SimulatedAdapter)


def test_env_overrides_api_and_broker(tmp_path: Path):
    path = write(tmp_path, {"name": "dns", "kind": "Cluster", "api_url": "http://file:1"})
    env = {"HYPERFLEET_API_URL": "http://env:2", "HYPERFLEET_BROKER_URL": "amqp://h/"}
    config = load_adapter_config(path, environ=env)
    assert config.api_url == "http://env:2"
    assert config.broker.url == "amqp://h/"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"name": "dns"}, "kind"),
        ({"name": "dns", "resource_type": "widgets"}, "kind"),
        ({"name": "dns", "kind": "Cluster", "token": "t", "token_file": "/x"}, "token_file"),
        ({"name": "dns", "kind": "Cluster", "simulated": {"delay": 1}}, "simulated.delay"),
        ({"name": "", "kind": "Cluster"}, "name"),
        ({"name": "dns", "kind": "Cluster", "adapter": "json"}, "adapter"),
        ({"name": "dns", "kind": "Cluster", "adapter": "json:JSONDecoder"}, "adapter"),
        ({"name": "dns", "kind": "Cluster", "broker": {"url": 3, "x": 1}}, "broker.x"),
    ],
)
def test_errors_name_the_key_path(tmp_path: Path, data: dict, path: str):
    with pytest.raises(ConfigError) as info:
        load_adapter_config(write(tmp_path, data), environ={})
    assert path in [p for p, _ in info.value.errors]


class Source:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.deps: dict = {"dns": ["validation"]}

    async def aggregation_config(self) -> dict:
        self.calls += 1
        if self.fail:
            raise ConnectionError("down")
        return {"entities": [{"kind": "Cluster", "adapter_dependencies": self.deps}]}


async def test_dependency_cache_refreshes_and_keeps_the_last_graph_on_failure():
    now = [0.0]
    source = Source()
    cache = DependencyCache(source, "cluster", refresh_seconds=10, clock=lambda: now[0])
    assert await cache.graph() == {"dns": ("validation",)}
    assert await cache.graph() == {"dns": ("validation",)}
    assert source.calls == 1
    now[0] = 11
    source.deps = {"dns": ["validation"], "hypershift": ["dns"]}
    assert (await cache.graph())["hypershift"] == ("dns",)
    now[0] = 22
    source.fail = True
    assert (await cache.graph())["hypershift"] == ("dns",)
    cold = DependencyCache(source, "Cluster")
    with pytest.raises(ConnectionError):
        await cold.graph()


def resource(adapters: list[dict], generation: int = 2) -> dict:
    return {
        "id": "r",
        "kind": "Cluster",
        "generation": generation,
        "status": {"adapters": adapters},
    }


def test_blocked_by_and_dependents_read_state_at_the_current_generation():
    graph = {"dns": ("validation",), "hypershift": ("validation", "dns")}
    stale_ready = {
        "adapter": "validation",
        "state": "Ready",
        "observed_generation": 1,
        "blocked_by": [],
    }
    fresh_ready = {**stale_ready, "observed_generation": 2}
    assert blocked_by(resource([stale_ready]), "dns", graph) == ["validation"]
    assert blocked_by(resource([fresh_ready]), "dns", graph) == []
    api_says = {
        "adapter": "dns",
        "state": "Pending",
        "observed_generation": 2,
        "blocked_by": ["extra"],
    }
    assert blocked_by(resource([fresh_ready, api_says]), "dns", graph) == ["extra"]
    finalized = {
        "adapter": "hypershift",
        "state": "Finalized",
        "observed_generation": 2,
        "blocked_by": [],
    }
    assert dependents_not_finalized(resource([]), "validation", graph) == ["dns", "hypershift"]
    assert dependents_not_finalized(resource([finalized]), "dns", graph) == []
    assert dependents_not_finalized(resource([finalized], generation=3), "dns", graph) == [
        "hypershift"
    ]


def test_identity_defaults_and_env(tmp_path: Path):
    path = write(tmp_path, {"name": "dns", "kind": "Cluster", "api_headers": {"X-A": "file"}})
    config = load_adapter_config(path, environ={})
    assert config.api_headers == {"X-A": "file"}
    assert config.token is None
    assert load_adapter_config(
        write(tmp_path, {"name": "dns", "kind": "Cluster"}), {}
    ).api_headers == {"X-HyperFleet-System": "true"}
    token = tmp_path / "token"
    env = {"HYPERFLEET_API_TOKEN_FILE": str(token), "HYPERFLEET_API_HEADERS": "X-B: env"}
    config = load_adapter_config(path, environ=env)
    assert config.token_file == token
    assert config.api_headers == {"X-B": "env"}


def test_bad_api_headers_name_the_key(tmp_path: Path):
    path = write(tmp_path, {"name": "dns", "kind": "Cluster", "api_headers": ["no colon"]})
    with pytest.raises(ConfigError) as info:
        load_adapter_config(path, environ={})
    assert info.value.errors == [("api_headers", "Value error, 'no colon' is not 'Name: value'")]
