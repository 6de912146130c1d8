"""`hyperfleet demo` with the API's auth on: the loop needs a token file, and with one (the
`adapter` role, made by `hyperfleet dev`) a cluster an editor creates reaches Ready."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from tests.e2e.loop_processes import CONSOLE_SCRIPT, DemoProcess, clean_env, wait_for_phase

from hyperfleet.cli.dev import mint_token, write_jwks


def _auth_config(tmp_path: Path) -> Path:
    jwks = write_jwks(tmp_path / "keys")
    config = tmp_path / "api.yaml"
    config.write_text(yaml.safe_dump({"auth": {"enabled": True, "jwks_file": str(jwks)}}))
    return config


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONSOLE_SCRIPT, "demo", "--port", "0", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_auth_without_a_token_file_exits_2_before_starting(tmp_path: Path):
    config = _auth_config(tmp_path)
    done = _demo("--config", str(config))
    assert done.returncode == 2, done.stderr
    assert "the demo's Sentinels and adapters need a token" in done.stderr
    assert "--token-file" in done.stderr
    missing = _demo("--config", str(config), "--token-file", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert f"--token-file: cannot read {tmp_path / 'nope'}" in missing.stderr


def test_with_a_loop_token_a_cluster_becomes_ready(fresh_database_url: str, tmp_path: Path):
    config = _auth_config(tmp_path)
    loop_token = tmp_path / "loop.token"
    loop_token.write_text(mint_token(tmp_path / "keys", sub="hyperfleet-loop", roles=["adapter"]))
    editor = mint_token(tmp_path / "keys", sub="alice", email="alice@example.com", roles=["editor"])
    demo = DemoProcess(
        ["--config", str(config), "--database-url", fresh_database_url],
        tmp_path / "demo.log",
        clean_env(HYPERFLEET_API_TOKEN_FILE=str(loop_token)),
    )
    try:
        demo.wait_ready()
        with demo.api() as api:
            assert api.get("/clusters").status_code == 401
            api.headers["Authorization"] = f"Bearer {editor}"
            created = api.post(
                "/clusters", json={"kind": "Cluster", "name": "auth-one", "spec": {}}
            )
            assert created.status_code == 201, created.text
            body = wait_for_phase(api, f"/clusters/{created.json()['id']}", "Ready")
        assert body["created_by"] == "alice@example.com"
        reporters = {a["adapter"] for a in body["status"]["adapters"]}
        assert reporters == {"validation", "dns", "pullsecret", "hypershift"}
    finally:
        assert demo.stop() == 0, demo.output()[-3000:]
