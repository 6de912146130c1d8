"""The aggregation configuration loader (post-MVP §5): `GET /aggregation-config`, hot reload
(valid → applied and resources re-aggregated in the background; invalid or structural → rejected,
old config kept, failure metric), load-time validation through `hyperfleet config validate`,
`create_app` and `hyperfleet serve`.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import make_settings
from tests.factories import (
    API,
    RFC3339_RE,
    assert_json,
    assert_problem,
    create_cluster,
    create_nodepool,
    now_rfc3339,
)
from typer.testing import CliRunner

from hyperfleet.cli.main import app as cli
from hyperfleet.config import Settings
from hyperfleet.rest.app import create_app

CONFIG_URL = f"{API}/aggregation-config"
UNUSED_DB = "postgresql://nobody@127.0.0.1:1/unused"

# post-mvp.md §5, verbatim.
SECTION5 = """\
entities:
  - kind: Cluster
    required_adapters: [validation, dns, pullsecret, hypershift]
    optional_adapters: [monitoring]
    validation_adapters: [validation]
    adapter_dependencies: {dns: [validation], hypershift: [validation, dns, pullsecret]}
    generation_policy: strict
    strict_adapters: false
    adapters:
      validation:
        reasons: {Available: [ValidationSucceeded, ValidationFailed, Progressing]}
        progressing_reasons: [Progressing]
        data_schema: {type: object, properties: {checks: {type: integer}}, required: [checks]}
    conditions:
      - type: ControlPlaneReady
        status: 'statuses.exists(s, s.adapter == "hypershift" && s.state == "Ready")'
        reason: '"HypershiftReady"'
        message: '"control plane is up"'
"""

# The same with one more optional adapter and the lenient policy.
SECTION5_V2 = SECTION5.replace(
    "optional_adapters: [monitoring]", "optional_adapters: [monitoring, logging]"
).replace("generation_policy: strict", "generation_policy: lenient")

# Each is invalid for one reason; `path` is the key path the error must name.
INVALID: dict[str, tuple[str, str]] = {
    "yaml_syntax": ("entities: [\n  - kind: Cluster\n", "(file)"),
    "unknown_key": (
        "entities:\n  - kind: Cluster\n    required_adaptors: [dns]\n",
        "entities.0.required_adaptors",
    ),
    "unknown_top_level_key": ("entities: []\nkinds: []\n", "kinds"),
    "bad_policy": (
        "entities:\n  - kind: Cluster\n    generation_policy: sometimes\n",
        "entities.0.generation_policy",
    ),
    "dependency_cycle": (
        (
            "entities:\n  - kind: Cluster\n"
            "    adapter_dependencies: {dns: [validation], validation: [dns]}\n"
        ),
        "entities[0].adapter_dependencies",
    ),
    "undeclared_dependency": (
        "entities:\n  - kind: Cluster\n    adapter_dependencies: {dns: [ghost]}\n",
        "entities[0].adapter_dependencies.dns",
    ),
    "undeclared_validation_adapter": (
        "entities:\n  - kind: Cluster\n    validation_adapters: [nobody]\n",
        "entities[0].validation_adapters",
    ),
    "cel_does_not_compile": (
        (
            "entities:\n  - kind: Cluster\n    conditions:\n"
            "      - type: Custom\n        status: 'statuses.exists(s, '\n"
        ),
        "entities[0].conditions[0].status",
    ),
    "cel_unknown_variable": (
        (
            "entities:\n  - kind: Cluster\n    conditions:\n"
            "      - type: Custom\n        status: 'cluster.ready == true'\n"
        ),
        "entities[0].conditions[0].status",
    ),
    "reserved_condition_type": (
        (
            "entities:\n  - kind: Cluster\n    conditions:\n"
            "      - type: AllAdaptersReady\n        status: 'true'\n"
        ),
        "entities[0].conditions[0].type",
    ),
    "reserved_successful_type": (
        (
            "entities:\n  - kind: Cluster\n    conditions:\n"
            "      - type: DnsSuccessful\n        status: 'true'\n"
        ),
        "entities[0].conditions[0].type",
    ),
    "invalid_json_schema": (
        "entities:\n  - kind: Cluster\n    adapters:\n      dns:\n        data_schema: {type: 12}\n",
        "entities[0].adapters.dns.data_schema",
    ),
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def entity(config: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [e for e in config["entities"] if e["kind"] == kind]
    assert len(found) == 1, config
    return found[0]


async def get_config(client: httpx.AsyncClient) -> dict[str, Any]:
    return assert_json(await client.get(CONFIG_URL), 200)


async def metric(client: httpx.AsyncClient, name: str) -> float:
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    total = 0.0
    for line in r.text.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)$", line)
        if m:
            total += float(m.group(2))
    return total


async def background_done(client: httpx.AsyncClient) -> None:
    """Wait for every background job the app spawned (re-aggregation after a reload)."""
    for _ in range(200):
        tasks = list(client.hf_state.tasks)
        if not tasks:
            return
        await asyncio.gather(*tasks, return_exceptions=True)
    pytest.fail("background jobs did not finish")


def report(adapter: str, generation: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": now_rfc3339(),
        "conditions": [
            {"type": "Available", "status": "True", "reason": "Done"},
            {"type": "Applied", "status": "True", "reason": "Applied"},
            {"type": "Health", "status": "True", "reason": "Healthy"},
        ],
    }
    body.update(extra)
    return body


def condition(resource: dict[str, Any], type_: str) -> dict[str, Any]:
    found = [c for c in resource["status"]["conditions"] if c["type"] == type_]
    assert len(found) == 1, resource["status"]["conditions"]
    return found[0]


# == GET /aggregation-config ==================================================================


async def test_config_endpoint_with_defaults(client):
    config = await get_config(client)
    assert RFC3339_RE.match(config["loaded_time"])
    assert config.get("source") is None
    cluster = entity(config, "Cluster")
    assert cluster["required_adapters"] == ["validation", "dns", "pullsecret", "hypershift"]
    assert cluster["optional_adapters"] == []
    assert cluster["validation_adapters"] == ["validation"]
    assert cluster["adapter_dependencies"] == {}
    assert cluster["generation_policy"] == "strict"
    assert cluster["strict_adapters"] is False
    assert cluster["reason_format"] == "camel_case"
    assert cluster["conditions"] == []
    nodepool = entity(config, "NodePool")
    assert nodepool["required_adapters"] == ["validation", "hypershift"]
    assert nodepool["parent_kind"] == "Cluster"
    # Reading twice does not reload.
    assert (await get_config(client))["loaded_time"] == config["loaded_time"]


@pytest.fixture
def agg_file(tmp_path: Path) -> Path:
    return write(tmp_path / "aggregation.yaml", SECTION5)


class TestWithFile:
    @pytest.fixture
    def settings(self, agg_file: Path) -> Settings:
        return make_settings(aggregation_config=str(agg_file))

    async def test_config_endpoint_shows_the_file(self, client, agg_file):
        config = await get_config(client)
        assert config["source"] == str(agg_file)
        assert RFC3339_RE.match(config["loaded_time"])
        cluster = entity(config, "Cluster")
        assert cluster["required_adapters"] == ["validation", "dns", "pullsecret", "hypershift"]
        assert cluster["optional_adapters"] == ["monitoring"]
        assert cluster["validation_adapters"] == ["validation"]
        assert cluster["adapter_dependencies"] == {
            "dns": ["validation"],
            "hypershift": ["validation", "dns", "pullsecret"],
        }
        assert cluster["generation_policy"] == "strict"
        assert cluster["strict_adapters"] is False
        validation = cluster["adapters"]["validation"]
        assert validation["reasons"] == {
            "Available": ["ValidationSucceeded", "ValidationFailed", "Progressing"]
        }
        assert validation["progressing_reasons"] == ["Progressing"]
        assert validation["data_schema"] == {
            "type": "object",
            "properties": {"checks": {"type": "integer"}},
            "required": ["checks"],
        }
        assert cluster["conditions"] == [
            {
                "type": "ControlPlaneReady",
                "status": 'statuses.exists(s, s.adapter == "hypershift" && s.state == "Ready")',
                "reason": '"HypershiftReady"',
                "message": '"control plane is up"',
            }
        ]
        # NodePool is not in the file: built-in defaults.
        assert entity(config, "NodePool")["required_adapters"] == ["validation", "hypershift"]

    async def test_the_file_is_in_force(self, client):
        c = await create_cluster(client)
        assert [x["type"] for x in c["status"]["conditions"]][-1] == "ControlPlaneReady"
        r = await client.put(f"{API}/clusters/{c['id']}/statuses", json=report("dns", 1))
        assert_problem(r, 409, "HYPERFLEET-CNF-005")

    async def test_valid_reload_applies_and_reaggregates(self, client, agg_file):
        c = await create_cluster(client)
        np = await create_nodepool(client, c["id"])
        before = await get_config(client)
        aar = condition(c, "AllAdaptersReady")
        assert "monitoring" in aar["message"]
        assert "logging" not in aar["message"]

        write(agg_file, SECTION5_V2)
        await asyncio.sleep(0.002)
        assert await client.hf_state.reload() is True

        after = await get_config(client)
        assert after["source"] == str(agg_file)
        assert datetime.fromisoformat(after["loaded_time"]) > datetime.fromisoformat(
            before["loaded_time"]
        )
        cluster = entity(after, "Cluster")
        assert cluster["optional_adapters"] == ["monitoring", "logging"]
        assert cluster["generation_policy"] == "lenient"

        await background_done(client)
        got = assert_json(await client.get(f"{API}/clusters/{c['id']}"), 200)
        aar = condition(got, "AllAdaptersReady")
        assert aar["status"] == "False"
        assert "logging" in aar["message"], aar
        logging = [a for a in got["status"]["adapters"] if a["adapter"] == "logging"]
        assert len(logging) == 1, got["status"]["adapters"]
        assert (logging[0]["required"], logging[0]["state"]) == (False, "Pending")
        # Re-aggregation changes no generation.
        assert got["generation"] == c["generation"]
        pool = assert_json(await client.get(f"{API}/nodepools/{np['id']}"), 200)
        assert pool["status"]["conditions"] == np["status"]["conditions"]

        # New requests see the new policy at once: lenient stores a future-generation report.
        r = await client.put(f"{API}/clusters/{c['id']}/statuses", json=report("monitoring", 5))
        assert r.status_code == 201, r.text

    async def test_reaggregation_reaches_every_resource_of_the_kind(self, client, agg_file):
        ids = [(await create_cluster(client))["id"] for _ in range(5)]
        write(agg_file, SECTION5_V2)
        assert await client.hf_state.reload() is True
        await background_done(client)
        listed = assert_json(await client.get(f"{API}/clusters", params={"size": 100}), 200)
        assert {i["id"] for i in listed["items"]} == set(ids)
        for item in listed["items"]:
            assert "logging" in condition(item, "AllAdaptersReady")["message"]

    async def test_reload_with_unchanged_file_is_accepted(self, client):
        before = await get_config(client)
        await asyncio.sleep(0.002)
        assert await client.hf_state.reload() is True
        after = await get_config(client)
        assert after["entities"] == before["entities"]

    @pytest.mark.parametrize("case", list(INVALID))
    async def test_invalid_reload_is_rejected_and_old_config_kept(self, client, agg_file, case):
        text, _ = INVALID[case]
        c = await create_cluster(client)
        before = await get_config(client)
        failures = await metric(client, "hyperfleet_api_config_reload_failures_total")

        write(agg_file, text)
        assert await client.hf_state.reload() is False

        after = await get_config(client)
        assert after == before
        assert await metric(client, "hyperfleet_api_config_reload_failures_total") == failures + 1
        # The old rules still apply: dns depends on validation.
        r = await client.put(f"{API}/clusters/{c['id']}/statuses", json=report("dns", 1))
        assert_problem(r, 409, "HYPERFLEET-CNF-005")
        assert not client.hf_state.tasks or all(
            t.get_name() != "reaggregate" for t in client.hf_state.tasks
        )

    async def test_missing_file_on_reload_is_rejected(self, client, agg_file):
        before = await get_config(client)
        failures = await metric(client, "hyperfleet_api_config_reload_failures_total")
        agg_file.unlink()
        assert await client.hf_state.reload() is False
        assert await get_config(client) == before
        assert await metric(client, "hyperfleet_api_config_reload_failures_total") == failures + 1

    @pytest.mark.parametrize(
        "addition",
        [
            "  - kind: NodePool\n    plural: pools\n",
            "  - kind: NodePool\n    on_parent_delete: restrict\n",
            "  - kind: NodePool\n    name_max_len: 20\n",
            "  - kind: Widget\n    required_adapters: [a]\n",
        ],
    )
    async def test_structural_change_is_rejected(self, client, agg_file, addition):
        before = await get_config(client)
        failures = await metric(client, "hyperfleet_api_config_reload_failures_total")
        write(agg_file, SECTION5 + addition)
        assert await client.hf_state.reload() is False
        assert await get_config(client) == before
        assert await metric(client, "hyperfleet_api_config_reload_failures_total") == failures + 1


class TestStructuralParentKind:
    """A kind of the main config whose parent the aggregation file tries to change."""

    @pytest.fixture
    def settings(self, agg_file: Path) -> Settings:
        write(agg_file, "entities:\n  - kind: Widget\n    required_adapters: [a]\n")
        return make_settings(
            entities=[{"kind": "Widget", "required_adapters": ["a"]}, {"kind": "Gadget"}],
            aggregation_config=str(agg_file),
        )

    async def test_parent_kind_change_is_rejected(self, client, agg_file):
        before = await get_config(client)
        assert entity(before, "Widget")["parent_kind"] is None
        failures = await metric(client, "hyperfleet_api_config_reload_failures_total")
        write(
            agg_file,
            "entities:\n  - kind: Widget\n    parent_kind: Gadget\n    required_adapters: [a]\n",
        )
        assert await client.hf_state.reload() is False
        after = await get_config(client)
        assert after == before
        assert await metric(client, "hyperfleet_api_config_reload_failures_total") == failures + 1
        # A status-engine change of the same kind is fine.
        write(agg_file, "entities:\n  - kind: Widget\n    required_adapters: [a, b]\n")
        assert await client.hf_state.reload() is True
        assert entity(await get_config(client), "Widget")["required_adapters"] == ["a", "b"]


# == Load-time validation: config validate, create_app, serve ==================================

runner = CliRunner()


def main_config(tmp_path: Path, aggregation: Path) -> Path:
    return write(
        tmp_path / "main.yaml",
        f"database:\n  url: {UNUSED_DB}\naggregation_config: {aggregation}\n",
    )


@pytest.mark.parametrize("case", list(INVALID))
def test_config_validate_reports_invalid_aggregation_file(tmp_path, case):
    text, key_path = INVALID[case]
    bad = write(tmp_path / "agg.yaml", text)
    result = runner.invoke(cli, ["config", "validate", str(main_config(tmp_path, bad))])
    assert result.exit_code == 1, result.output
    assert key_path in result.output, result.output
    assert str(bad) in result.output, "errors name the aggregation file"


@pytest.mark.parametrize("case", [c for c in INVALID if not c.startswith("unknown_top")])
def test_config_validate_aggregation_file_directly(tmp_path, case):
    text, key_path = INVALID[case]
    bad = write(tmp_path / "agg.yaml", text)
    result = runner.invoke(cli, ["config", "validate", str(bad)])
    assert result.exit_code == 1, result.output
    assert key_path in result.output, result.output


def test_config_validate_prints_every_error(tmp_path):
    bad = write(
        tmp_path / "agg.yaml",
        textwrap.dedent(
            """\
            entities:
              - kind: Cluster
                adapter_dependencies: {dns: [validation, ghost], validation: [dns]}
                validation_adapters: [nobody]
                adapters:
                  dns: {data_schema: {type: 12}}
                conditions:
                  - type: Reconciled
                    status: 'statuses.exists(s, '
            """
        ),
    )
    for target in (bad, main_config(tmp_path, bad)):
        result = runner.invoke(cli, ["config", "validate", str(target)])
        assert result.exit_code == 1, result.output
        out = result.output
        for key_path in (
            "entities[0].adapter_dependencies.dns",
            "entities[0].adapter_dependencies",
            "entities[0].validation_adapters",
            "entities[0].adapters.dns.data_schema",
            "entities[0].conditions[0].type",
            "entities[0].conditions[0].status",
        ):
            assert key_path in out, (key_path, out)
        assert "ghost" in out
        assert "cycle" in out
        assert "nobody" in out
        assert "reserved" in out


def test_config_validate_prints_every_unknown_key(tmp_path):
    bad = write(
        tmp_path / "agg.yaml",
        "entities:\n  - kind: Cluster\n    required_adaptors: [a]\n    policy: strict\n",
    )
    result = runner.invoke(cli, ["config", "validate", str(main_config(tmp_path, bad))])
    assert result.exit_code == 1, result.output
    assert "entities.0.required_adaptors" in result.output
    assert "entities.0.policy" in result.output


def test_config_validate_rejects_unknown_kind_in_aggregation_file(tmp_path):
    """§5 lists "unknown kinds" among load-time errors: the aggregation file tunes the status
    engine of existing kinds; a misspelt kind must not silently become a new kind (with routes)."""
    bad = write(
        tmp_path / "agg.yaml", "entities:\n  - kind: Clustr\n    required_adapters: [dns]\n"
    )
    result = runner.invoke(cli, ["config", "validate", str(main_config(tmp_path, bad))])
    assert result.exit_code == 1, result.output
    assert "entities[0]" in result.output
    assert "Clustr" in result.output


def test_config_validate_accepts_section5_example(tmp_path):
    good = write(tmp_path / "agg.yaml", SECTION5)
    for target in (good, main_config(tmp_path, good)):
        result = runner.invoke(cli, ["config", "validate", str(target)])
        assert result.exit_code == 0, result.output
        assert "OK" in result.output


@pytest.mark.parametrize("case", list(INVALID))
def test_create_app_refuses_invalid_aggregation_file(tmp_path, case):
    text, key_path = INVALID[case]
    bad = write(tmp_path / "agg.yaml", text)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - ConfigError or RegistryError
        create_app(make_settings(aggregation_config=str(bad)), database_url=UNUSED_DB)
    assert key_path in str(caught.value), str(caught.value)


def test_create_app_refuses_unknown_kind_in_aggregation_file(tmp_path):
    bad = write(
        tmp_path / "agg.yaml", "entities:\n  - kind: Clustr\n    required_adapters: [dns]\n"
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - any load error
        create_app(make_settings(aggregation_config=str(bad)), database_url=UNUSED_DB)


def test_create_app_accepts_section5_example(tmp_path):
    good = write(tmp_path / "agg.yaml", SECTION5)
    app = create_app(make_settings(aggregation_config=str(good)), database_url=UNUSED_DB)
    assert app.state.hf.store.active.source == str(good)


@pytest.mark.parametrize("case", ["dependency_cycle", "cel_does_not_compile", "unknown_key"])
def test_serve_exits_2_before_connecting(tmp_path, case):
    text, key_path = INVALID[case]
    bad = write(tmp_path / "agg.yaml", text)
    result = runner.invoke(cli, ["serve", "--config", str(main_config(tmp_path, bad))])
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert key_path in result.output, result.output
    assert "database not reachable" not in result.output


def test_serve_exits_2_for_aggregation_file_from_environment(tmp_path, monkeypatch):
    bad = write(tmp_path / "agg.yaml", INVALID["reserved_condition_type"][0])
    main = write(tmp_path / "main.yaml", f"database:\n  url: {UNUSED_DB}\n")
    monkeypatch.setenv("HYPERFLEET_AGGREGATION_CONFIG", str(bad))
    result = runner.invoke(cli, ["serve", "--config", str(main)])
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "entities[0].conditions[0].type" in result.output
