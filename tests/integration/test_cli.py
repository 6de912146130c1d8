"""The `hyperfleet` command line: config validate, and serve on an embedded PostgreSQL with a
clean SIGTERM shutdown (the README's first command)."""

from __future__ import annotations

import json
import os
import signal
import time

import httpx
import psutil
import pytest
from tests.conftest import ServerProcess, scratch_database
from typer.testing import CliRunner

from hyperfleet import __version__
from hyperfleet.cli.main import app

runner = CliRunner()


def test_config_validate_ok(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(
        "server:\n  port: 9000\nentities:\n  - kind: NodePool\n    required_adapters: [validation]\n"
    )
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_config_validate_lists_every_error_with_its_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "server:\n  prt: 1\n  port: nope\nfoo: 2\nentities:\n  - kind: Widget\n    parent_kind: Gadget\n"
    )
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "server.prt" in out
    assert "server.port" in out
    assert "foo" in out


def test_config_validate_registry_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "entities:\n  - kind: Widget\n    parent_kind: Gadget\n  - kind: Thing\n    plural: resources\n"
    )
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 1
    assert "entities[0].parent_kind" in result.output
    assert "entities[1].plural" in result.output


def test_config_validate_unreadable_file(tmp_path):
    result = runner.invoke(app, ["config", "validate", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


@pytest.mark.slow
def test_serve_on_embedded_postgres_prints_only_json_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    data_dir = tmp_path / "pg"
    server = ServerProcess(["--data-dir", str(data_dir)], env, tmp_path / "serve.log")
    try:
        server.wait_ready(timeout=90)
        created = httpx.post(
            f"{server.base}/api/hyperfleet/v1/clusters",
            json={"kind": "Cluster", "name": "embedded", "spec": {}},
        )
        assert created.status_code == 201
        assert (data_dir / "PG_VERSION").exists()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=60) == 0
    finally:
        server.stop()
    # #7: stdout (and stderr, merged here) carries our JSON lines only; the wheel's narration
    # of initdb/pg_ctl goes to a file beside the data directory.
    lines = server.log_path.read_text().splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"event", "level", "timestamp", "component", "version"} <= set(record), line
        assert record["version"] == __version__, line
    events = [json.loads(line)["event"] for line in lines]
    assert "starting embedded PostgreSQL" in events
    assert "Application startup complete." in events
    chatter = (tmp_path / "pg-embedded.log").read_text()
    for message in ("waiting for postmaster info", "Now asserting server is running", "exiting"):
        assert message in chatter
        assert message not in server.log_path.read_text()
    leftovers = [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres" and str(data_dir) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []


def _cluster_config(base: str, source: str) -> dict:
    body = httpx.get(f"{base}/api/hyperfleet/v1/aggregation-config").json()
    assert body["source"] == source
    return next(e for e in body["entities"] if e["kind"] == "Cluster")


@pytest.mark.slow
def test_sighup_reloads_the_aggregation_file(tmp_path, pg_admin_url):
    with scratch_database(pg_admin_url, "hf_hup") as database_url:
        agg = tmp_path / "agg.yaml"
        agg.write_text("entities:\n  - kind: Cluster\n    optional_adapters: [monitoring]\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
        env.update(
            HYPERFLEET_DATABASE_URL=database_url,
            HYPERFLEET_AGGREGATION_CONFIG=str(agg),
            HYPERFLEET_LOGGING_LEVEL="warning",
        )
        server = ServerProcess([], env, tmp_path / "serve.log")
        try:
            server.wait_ready()
            assert _cluster_config(server.base, str(agg))["optional_adapters"] == ["monitoring"]
            agg.write_text(
                "entities:\n  - kind: Cluster\n    optional_adapters: [monitoring, backup]\n"
            )
            server.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while _cluster_config(server.base, str(agg))["optional_adapters"] != [
                "monitoring",
                "backup",
            ]:
                assert time.monotonic() < deadline, "SIGHUP did not reload the file"
                time.sleep(0.2)
            # An invalid file is rejected and the running config stays.
            agg.write_text("entities:\n  - kind: Cluster\n    optional_adapters: [validation]\n")
            server.proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            assert _cluster_config(server.base, str(agg))["optional_adapters"] == [
                "monitoring",
                "backup",
            ]
            failures = next(
                ln
                for ln in httpx.get(f"{server.base}/metrics").text.splitlines()
                if ln.startswith("hyperfleet_api_config_reload_failures_total{")
            )
            assert failures.endswith(" 1.0")
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(timeout=30) == 0
        finally:
            server.stop()


CYCLE_AND_UNKNOWN = (
    "entities:\n"
    "  - plural: orphans\n"  # no kind: dropped, but it keeps its index in the messages
    "  - kind: Cluster\n"
    "    colour: blue\n"
    "    adapter_dependencies: {dns: [validation], validation: [dns]}\n"
)


def test_config_validate_reports_an_unknown_key_and_a_cycle_together(tmp_path):
    """#7: schema errors no longer stop the registry and dependency checks."""
    path = tmp_path / "bad.yaml"
    path.write_text("server:\n  prt: 1\n" + CYCLE_AND_UNKNOWN)
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any("server.prt" in ln for ln in lines), result.output
    assert any("entities.0.kind" in ln for ln in lines), result.output
    assert any("entities.1.colour" in ln for ln in lines), result.output
    cycle = [ln for ln in lines if "dependency cycle" in ln]
    assert cycle, result.output
    assert all(": entities[1].adapter_dependencies." in ln for ln in cycle), cycle


def test_config_validate_reports_both_in_the_named_aggregation_file(tmp_path):
    agg = tmp_path / "agg.yaml"
    agg.write_text(CYCLE_AND_UNKNOWN)
    path = tmp_path / "main.yaml"
    path.write_text(f"aggregation_config: {agg}\nfoo: 1\n")
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert f"{path}: foo:" in out
    assert f"{agg}: entities.1.colour" in out
    assert f"{agg}: entities[1].adapter_dependencies." in out
    assert "dependency cycle" in out


def test_config_validate_wrong_types_do_not_hide_registry_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "server:\n  port: nope\n"
        "entities:\n  - kind: Widget\n    name_max_len: many\n    parent_kind: Gadget\n"
    )
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 1
    assert "server.port" in result.output
    assert "entities.0.name_max_len" in result.output
    assert "entities[0].parent_kind" in result.output
