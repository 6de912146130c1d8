"""docs/sentinel.md states facts: the settings table, the default decision, the example."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hyperfleet.sentinel.config import load_sentinel_settings, reference_table
from hyperfleet.sentinel.decision import Decision, default_decision
from hyperfleet.sentinel.metrics import SentinelMetrics

DOC = Path(__file__).resolve().parents[3] / "docs" / "sentinel.md"


def _between(marker: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", text, re.DOTALL)
    assert match, f"markers {marker} missing"
    return match.group(1)


def _yaml_block(marker: str) -> dict:
    return yaml.safe_load(_between(marker).removeprefix("```yaml\n").removesuffix("\n```"))


def test_settings_table_matches_the_code():
    assert _between("sentinel-settings") == reference_table()


def test_documented_default_decision_is_the_code_default():
    documented = _yaml_block("default-decision")["message_decision"]
    assert documented == default_decision(1800, 10).model_dump()


def test_documented_example_loads_and_compiles(tmp_path):
    path = tmp_path / "sentinel.yaml"
    path.write_text(_between("sentinel-example").removeprefix("```yaml\n").removesuffix("\n```"))
    settings = load_sentinel_settings(path, environ={})
    assert settings.resource_type == "nodepools"
    assert settings.selector_label == "shard=1"
    Decision.from_settings(settings)


def test_every_metric_is_documented():
    text = DOC.read_text(encoding="utf-8")
    names = {m.name for m in SentinelMetrics().registry.collect()}
    assert names
    for name in names:
        base = name.removesuffix("_total")
        assert f"`{base}" in text, name
