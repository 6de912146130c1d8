"""A small SSE reader for watch tests: a background task collecting frames from one stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import asyncpg
import httpx
from tests.conftest import ServerProcess, with_database

from hyperfleet.storage.migrations import migrate_url

API = "/api/hyperfleet/v1"
DEADLINE = 60.0


@dataclass
class Frame:
    id: int | None
    event: str | None
    data: Any


@dataclass
class Watcher:
    """Reads one watch stream in the background; `frames` grows as events arrive."""

    base: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    ended: bool = False
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        await until(lambda: self.status is not None or self.ended)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        params = {"watch": "true", **self.params}
        try:
            async with (
                httpx.AsyncClient(
                    base_url=self.base, timeout=httpx.Timeout(30, read=None)
                ) as client,
                client.stream("GET", self.path, params=params, headers=self.headers) as response,
            ):
                self.status = response.status_code
                self.response_headers = dict(response.headers)
                current: dict[str, str] = {}
                async for line in response.aiter_lines():
                    if line.startswith(":"):
                        self.comments.append(line[1:].strip())
                    elif not line:
                        if "data" in current:
                            self.frames.append(
                                Frame(
                                    int(current["id"]) if "id" in current else None,
                                    current.get("event"),
                                    json.loads(current["data"]),
                                )
                            )
                        current = {}
                    else:
                        name, _, value = line.partition(": ")
                        current[name] = value
        finally:
            self.ended = True

    @property
    def events(self) -> list[Frame]:
        return [f for f in self.frames if f.event != "error"]

    def of(self, resource_id: str) -> list[tuple[str, Any]]:
        return [
            (f.data["type"], f.data["object"])
            for f in self.events
            if f.data["object"]["id"] == resource_id
        ]

    async def wait_for(self, count: int) -> list[Frame]:
        await until(lambda: len(self.frames) >= count or self.ended)
        return self.frames


async def until(condition: Any, deadline: float = DEADLINE) -> None:
    """Poll `condition` until it holds; fail after a generous deadline."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)


async def fresh_database(admin_url: str) -> str:
    name = f"hf_watch_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(admin_url, name)
    await migrate_url(url)
    return url


async def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?", maxsplit=1)[0]
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def start_server(url: str, log: Path, **watch: object) -> ServerProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env["HYPERFLEET_DATABASE_URL"] = url
    for key, value in watch.items():
        env[f"HYPERFLEET_WATCH_{key.upper()}"] = str(value)
    server = ServerProcess(["--no-migrate"], env, log)
    server.wait_ready()
    return server


async def create_cluster(
    client: httpx.AsyncClient, name: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"kind": "Cluster", "name": name or f"c-{secrets.token_hex(4)}", "spec": {}, **extra}
    r = await client.post(f"{API}/clusters", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def patch(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.patch(f"{API}{path}", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())
