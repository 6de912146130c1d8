"""docs/client.md states facts: its example runs against the real app, its error table and
retry defaults match the code."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from hyperfleet.client import HyperFleetClient, RetryPolicy
from hyperfleet.client.errors import error_class
from hyperfleet.config import Settings
from hyperfleet.rest.app import create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def section(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(f"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.DOTALL)
    assert match, name
    return match.group(1)


@pytest.fixture
async def hf(settings: Settings, database_url: str) -> AsyncIterator[HyperFleetClient]:
    app = create_app(settings, database_url=database_url)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with HyperFleetClient("http://hyperfleet", transport=transport) as client:
            yield client


async def test_example_runs(hf: HyperFleetClient, capsys: pytest.CaptureFixture[str]):
    code = section("client-example").strip().removeprefix("```python").removesuffix("```")
    namespace: dict[str, Any] = {"__name__": "docs_client_example"}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    names = await namespace["demo"](hf)
    assert names == ["demo-1"]
    printed = capsys.readouterr().out.splitlines()  # the app's log lines share stdout
    assert "HYPERFLEET-CNF-001: This Cluster already exists" in printed
    [cluster] = (await hf.list("clusters")).items
    assert cluster["spec"] == {"replicas": 3}
    assert (await hf.list(f"clusters/{cluster['id']}/nodepools")).total == 1


def test_error_table_matches_the_classes():
    rows = re.findall(r"^\| (\d{3}) \| `(\w+)`", section("client-errors"), re.MULTILINE)
    assert len(rows) == 8
    for status, name in rows:
        assert error_class(int(status)).__name__ == name
    assert error_class(502).__name__ == "ServerError"
    assert error_class(405).__name__ == "ApiError"


def test_retry_defaults_match_the_docs():
    text = DOC.read_text(encoding="utf-8")
    policy = RetryPolicy()
    assert (
        f"RetryPolicy(attempts={policy.attempts}, base_delay={policy.base_delay}, max_delay={policy.max_delay})"
        in text
    )
