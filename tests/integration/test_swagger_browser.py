"""Swagger UI in a real headless Chromium, tried as a new user would (#7): the page loads with
no console error or failed request, the first server offered is the serving host, and "Try it
out" on `GET /clusters` is answered by that host.

Needs Debian's `chromium` and the `playwright` package (`.ci/run` installs both); skipped
without them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tests.conftest import ServerProcess, with_database

CHROMIUM = os.environ.get("HYPERFLEET_TEST_CHROMIUM", "/usr/bin/chromium")
API = "/api/hyperfleet/v1"
WAIT_MS = 60_000

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM}"),
]


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def server(pg_admin_url: str, tmp_path: Path) -> Any:
    name = f"hf_ui_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env["HYPERFLEET_DATABASE_URL"] = with_database(pg_admin_url, name)
    process = ServerProcess([], env, tmp_path / "serve.log")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()
        asyncio.run(_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_swagger_ui_try_it_out_calls_the_serving_host(server: ServerProcess) -> None:
    problems: list[str] = []
    responses: list[tuple[int, str]] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("response", lambda r: responses.append((r.status, r.url)))

            page.goto(f"{server.base}{API}/openapi.html", wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=WAIT_MS)
            offered = page.locator(".servers select option").all_inner_texts()
            assert offered, "no servers offered"
            assert offered[0].startswith("/ "), offered

            operation = page.locator("[id$='-getClusters']").first
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            operation.locator("button.execute").click()
            operation.locator(".live-responses-table").wait_for(timeout=WAIT_MS)
            page.wait_for_load_state("networkidle")
        finally:
            browser.close()

    assert problems == []
    assert [r for r in responses if r[0] >= 400] == []
    tried = [r for r in responses if r[1].startswith(f"{server.base}{API}/clusters")]
    assert tried, responses
    assert tried[0][0] == 200
    assert all(url.startswith(server.base) for _, url in responses), responses
