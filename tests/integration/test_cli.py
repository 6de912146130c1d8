"""The `hyperfleet` command line: config validate, and serve on an embedded PostgreSQL with a
clean SIGTERM shutdown (the README's first command)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest
from typer.testing import CliRunner

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_on_embedded_postgres_and_stop_cleanly(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    data_dir = tmp_path / "pg"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hyperfleet",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.3)
        created = httpx.post(
            f"{base}/api/hyperfleet/v1/clusters",
            json={"kind": "Cluster", "name": "embedded", "spec": {}},
        )
        assert created.status_code == 201
        assert (data_dir / "PG_VERSION").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    leftovers = [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres" and str(data_dir) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []
