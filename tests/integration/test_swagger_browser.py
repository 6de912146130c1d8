"""Swagger UI in a real headless Chromium, tried as a new user would (#7): the page loads with
no console error or failed request, the first server offered is the serving host, and "Try it
out" on `GET /clusters` is answered by that host.

Needs Debian's `chromium` and the `playwright` package (`.ci/run` installs both): skipped
without Chromium locally, failed under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tests.browser import chromium, console_errors, require_chromium
from tests.conftest import ServerProcess, scratch_database

API = "/api/hyperfleet/v1"
WAIT_MS = 60_000

pytestmark = pytest.mark.slow
require_chromium()


@pytest.fixture
def server(pg_admin_url: str, tmp_path: Path) -> Any:
    with scratch_database(pg_admin_url, "hf_ui") as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
        env["HYPERFLEET_DATABASE_URL"] = database_url
        process = ServerProcess([], env, tmp_path / "serve.log")
        try:
            process.wait_ready()
            yield process
        finally:
            process.stop()


def test_swagger_ui_try_it_out_calls_the_serving_host(server: ServerProcess) -> None:
    responses: list[tuple[int, str]] = []
    with chromium() as browser:
        page = browser.new_page()
        problems = console_errors(page, warnings=False)
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

    assert problems == []
    assert [r for r in responses if r[0] >= 400] == []
    tried = [r for r in responses if r[1].startswith(f"{server.base}{API}/clusters")]
    assert tried, responses
    assert tried[0][0] == 200
    assert all(url.startswith(server.base) for _, url in responses), responses
