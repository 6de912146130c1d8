"""A running `hyperfleet sentinel` process re-reads its token file: with a bad token its list
requests are 401s (auth_error), and once a valid token is written to the same file its passes
succeed, without a restart. The API is a real `hyperfleet serve` with JWT auth on a JWKS made
by `hyperfleet dev`."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from tests.conftest import free_port
from tests.integration.cli_support import clean_env, running_server

from hyperfleet.cli.dev import mint_token, write_jwks

pytestmark = pytest.mark.slow

AUTH_ERRORS = re.compile(
    r'^hyperfleet_sentinel_api_errors_total\{error_type="auth_error",[^}]*\} ([0-9.]+)$',
    re.MULTILINE,
)
SUCCESSES = re.compile(
    r'^hyperfleet_sentinel_polls_total\{outcome="success",[^}]*\} ([0-9.]+)$', re.MULTILINE
)


def _count(pattern: re.Pattern[str], metrics: str) -> float:
    match = pattern.search(metrics)
    return float(match.group(1)) if match else 0.0


def _wait_for(
    port: int, pattern: re.Pattern[str], proc: subprocess.Popen[bytes], log: Path
) -> float:
    """The metric's value once it is above zero (the process must keep running)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            value = _count(pattern, httpx.get(f"http://127.0.0.1:{port}/metrics").text)
        except httpx.TransportError:
            value = 0.0
        if value > 0:
            return value
        time.sleep(0.1)
    pytest.fail(f"{pattern.pattern} never counted: {log.read_text()[-2000:]}")


def test_a_rotated_token_file_is_used_without_a_restart(pg_admin_url: str, tmp_path: Path):
    jwks = write_jwks(tmp_path / "keys")
    auth = {"HYPERFLEET_AUTH_ENABLED": "true", "HYPERFLEET_AUTH_JWKS_FILE": str(jwks)}
    token_file = tmp_path / "loop.token"
    token_file.write_text("not-a-jwt\n")
    health = free_port()
    config = tmp_path / "sentinel.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "resource_type": "clusters",
                "token_file": str(token_file),
                "poll_interval_seconds": 0.2,
                "error_backoff_max_seconds": 0.5,
                "health": {"port": health},
                "logging": {"format": "text", "level": "warning"},
            }
        )
    )
    log = tmp_path / "sentinel.log"
    with running_server(pg_admin_url, tmp_path, auth) as api, log.open("wb") as out:
        sentinel = subprocess.Popen(
            [sys.executable, "-m", "hyperfleet", "sentinel", "--config", str(config)],
            env=clean_env(HYPERFLEET_API_URL=api.base),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(health, AUTH_ERRORS, sentinel, log)
            metrics = httpx.get(f"http://127.0.0.1:{health}/metrics").text
            assert _count(SUCCESSES, metrics) == 0

            fresh = mint_token(tmp_path / "keys", sub="hyperfleet-loop", roles=["adapter"])
            token_file.write_text(fresh + "\n")
            _wait_for(health, SUCCESSES, sentinel, log)
        finally:
            sentinel.terminate()
            assert sentinel.wait(30) == 0, log.read_text()
