"""docs/local-auth.md end to end: auth and tenancy on, `hyperfleet demo` with a loop token signed
by a local JWKS (`hyperfleet dev`), two tenants' clusters created with curl and with the CLI.
Both reach Ready; neither tenant sees the other's (GET 404, list and total)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.loop_processes import API, DemoProcess, wait_for_phase
from tests.local_auth_doc import block, demo_args, env, run_sh

TENANT = "X-HyperFleet-Tenant"

pytestmark = pytest.mark.slow


def _documents(text: str) -> list[Any]:
    """The JSON documents curl printed one after another."""
    decoder = json.JSONDecoder()
    out, at = [], 0
    while at < len(text.rstrip()):
        value, end = decoder.raw_decode(text, at)
        out.append(value)
        at = end
        while at < len(text) and text[at].isspace():
            at += 1
    return out


def _caller(base: str, token_file: Path, tenant: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
    if tenant is not None:
        headers[TENANT] = tenant
    return httpx.Client(base_url=f"{base}{API}", headers=headers, timeout=30)


def test_the_local_auth_walkthrough(fresh_database_url: str, tmp_path: Path):
    run_sh("tokens", tmp_path)
    (tmp_path / "api.yaml").write_text(block("config") + "\n")
    demo = DemoProcess(
        [*demo_args(), "--database-url", fresh_database_url],
        tmp_path / "demo.log",
        env(),
        cwd=tmp_path,
    )
    try:
        demo.wait_ready()
        created, listed = _documents(run_sh("curl", tmp_path, api=demo.base))
        assert created["name"] == "acme-1", created
        assert created["tenancy"] == {"tenant": "acme"}
        assert [c["name"] for c in listed["items"]] == ["acme-1"]
        cli_out = run_sh(
            "cli", tmp_path, api=demo.base, HYPERFLEET_CLI_CONFIG=str(tmp_path / "p.yaml")
        )
        assert "globex-1" in cli_out

        with (
            _caller(demo.base, tmp_path / "alice.token", "acme") as alice,
            _caller(demo.base, tmp_path / "bob.token", "globex") as bob,
        ):
            mine = alice.get("/clusters").json()
            theirs = bob.get("/clusters").json()
            assert (mine["total"], [c["name"] for c in mine["items"]]) == (1, ["acme-1"])
            assert (theirs["total"], [c["name"] for c in theirs["items"]]) == (1, ["globex-1"])
            acme_id, globex_id = mine["items"][0]["id"], theirs["items"][0]["id"]

            acme = wait_for_phase(alice, f"/clusters/{acme_id}", "Ready")
            globex = wait_for_phase(bob, f"/clusters/{globex_id}", "Ready")
            assert (acme["tenancy"], acme["created_by"]) == (
                {"tenant": "acme"},
                "alice@acme.example",
            )
            assert (globex["tenancy"], globex["created_by"]) == (
                {"tenant": "globex"},
                "bob@globex.example",
            )

            assert alice.get(f"/clusters/{globex_id}").status_code == 404
            assert bob.get(f"/clusters/{acme_id}").status_code == 404
            assert bob.get(f"/clusters/{acme_id}/statuses").status_code == 404
            search = alice.get("/clusters", params={"search": "name = 'globex-1'"}).json()
            assert search["total"] == 0

        with _caller(demo.base, tmp_path / "alice.token", None) as no_tenant:
            refused = no_tenant.get("/clusters")
            assert refused.status_code == 403, refused.text
            assert refused.json()["code"] == "HYPERFLEET-AUZ-001"
        assert httpx.get(f"{demo.base}{API}/clusters", timeout=30).status_code == 401
    finally:
        assert demo.stop() == 0, demo.output()[-3000:]
