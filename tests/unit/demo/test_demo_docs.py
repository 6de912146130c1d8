"""docs/demo.md states the demo's dependencies and thresholds; these tests keep them true."""

import re
from pathlib import Path

from hyperfleet.adapters.simulated import SimulatedSettings
from hyperfleet.broker.config import BrokerSettings
from hyperfleet.demo.configuration import DemoThresholds, demo_entities
from hyperfleet.demo.loop import sentinel_settings
from hyperfleet.domain.entities import build_registry
from hyperfleet.sentinel.config import SentinelSettings

DOC = Path(__file__).resolve().parents[3] / "docs" / "demo.md"


def _table(marker: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", text, re.DOTALL)
    assert match, f"markers {marker} missing"
    rows = match.group(1).splitlines()[2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _number(text: str) -> float:
    return float(text)


def test_dependency_table_matches_the_demo_entities():
    registry = build_registry(e.model_dump(exclude_unset=True) for e in demo_entities())
    expected = []
    for kind in ("Cluster", "NodePool"):
        desc = registry.require(kind)
        deps = "; ".join(
            f"{name} → [{', '.join(on)}]" for name, on in desc.adapter_dependencies.items()
        )
        expected.append([kind, ", ".join(desc.required_adapters), deps])
    assert _table("demo-dependencies") == expected


def test_threshold_table_matches_what_the_demo_configures():
    demo = sentinel_settings("clusters", "http://x", BrokerSettings(), DemoThresholds())
    default = SentinelSettings(resource_type="clusters")
    rows = {row[0]: (_number(row[1]), _number(row[2])) for row in _table("demo-thresholds")}
    for key in ("poll_interval_seconds", "max_age_not_ready_seconds", "max_age_ready_seconds"):
        label = next(k for k in rows if f"`{key}`" in k)
        assert rows[label] == (getattr(demo, key), getattr(default, key)), key
    label = next(k for k in rows if "`delay_seconds`" in k)
    assert rows[label] == (
        DemoThresholds().adapter_delay_seconds,
        SimulatedSettings().delay_seconds,
    )
    assert demo.health.enabled is False


def _yaml_blocks() -> dict[str, str]:
    """The doc's YAML examples by the file name in their first comment line."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n# (\S+)[^\n]*\n(.*?)```", text, re.DOTALL)
    return dict(blocks)


def test_the_separate_process_examples_are_valid_configs(tmp_path):
    from hyperfleet.adapters.config import load_adapter_config
    from hyperfleet.sentinel.config import load_sentinel_settings

    blocks = _yaml_blocks()
    assert set(blocks) == {"sentinel-clusters.yaml", "dns.yaml"}
    sentinel_file = tmp_path / "sentinel.yaml"
    sentinel_file.write_text(blocks["sentinel-clusters.yaml"])
    sentinel = load_sentinel_settings(sentinel_file, environ={})
    assert sentinel.resource_type == "clusters"
    assert sentinel.effective_topic == "hyperfleet-clusters"
    assert sentinel.poll_interval_seconds == DemoThresholds().poll_seconds
    assert sentinel.max_age_not_ready_seconds == DemoThresholds().not_ready_debounce_seconds
    adapter_file = tmp_path / "dns.yaml"
    adapter_file.write_text(blocks["dns.yaml"])
    adapter = load_adapter_config(adapter_file, environ={})
    assert (adapter.name, adapter.resolved_kind, adapter.resolved_topic) == (
        "dns",
        "Cluster",
        "hyperfleet-clusters",
    )
    assert adapter.broker.url == sentinel.broker.url
