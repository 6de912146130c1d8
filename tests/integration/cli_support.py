"""Running the real `hyperfleet` console script against a real `hyperfleet serve` process."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from tests.conftest import ServerProcess, with_database

_SCRIPT = Path(sys.executable).with_name("hyperfleet")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hyperfleet"]
ANSI = "\x1b["


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without HYPERFLEET_*, NO_COLOR or FORCE_COLOR, plus `extra`."""
    drop = ("HYPERFLEET_", "NO_COLOR", "FORCE_COLOR", "COLUMNS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return env | extra


class Cli:
    """`hyperfleet …` as a subprocess with its own profile file and default API URL."""

    def __init__(self, api_url: str, profile: Path) -> None:
        self.api_url = api_url
        self.profile = profile

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(
            HYPERFLEET_API_URL=self.api_url, HYPERFLEET_CLI_CONFIG=str(self.profile), **extra
        )

    def __call__(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, *args],
            env=dict(env) if env is not None else self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run, assert exit 0, return stdout."""
        result = self(*args, env=env)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "-o", "json"))

    def on_tty(self, *args: str, env: Mapping[str, str]) -> str:
        """Run with stdout and stderr on a pseudo-terminal; return what it printed."""
        leader, follower = pty.openpty()
        try:
            proc = subprocess.run(
                [*COMMAND, *args],
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=follower,
                stderr=follower,
                timeout=60,
                check=False,
            )
            os.close(follower)
            follower = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the terminal's other side is closed and drained
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            assert proc.returncode == 0, b"".join(chunks)
            return b"".join(chunks).decode("utf-8", "replace")
        finally:
            if follower >= 0:
                os.close(follower)
            os.close(leader)


@contextmanager
def running_server(
    pg_admin_url: str, log_dir: Path, env_extra: Mapping[str, str] | None = None
) -> Iterator[ServerProcess]:
    """A `hyperfleet serve` process on a fresh database of its own (dropped afterwards)."""
    name = f"hf_cli_{secrets.token_hex(6)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    env = clean_env(
        HYPERFLEET_DATABASE_URL=with_database(pg_admin_url, name),
        HYPERFLEET_LOGGING_LEVEL="warning",
        **(env_extra or {}),
    )
    proc = ServerProcess([], env, log_dir / "serve.log")
    try:
        proc.wait_ready(timeout=90)
        yield proc
    finally:
        proc.stop()
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Streaming:
    """A long-running `hyperfleet …` (a watch): its stdout lines, read as they come."""

    def __init__(self, cli: Cli, *args: str) -> None:
        import queue
        import threading

        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [*COMMAND, *args],
            env=cli.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self._queue.put(line.rstrip("\n"))
            self._queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, predicate: Any, timeout: float = 60) -> str:
        """The first new line for which `predicate(line)` holds (fails after `timeout`)."""
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = None
                if time.monotonic() >= deadline:
                    raise AssertionError(f"no matching line in {timeout}s: {self.lines}") from None
                continue
            if line is None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"the command ended: {self.lines} {err}")
            self.lines.append(line)
            if predicate(line):
                return line

    def poll_line(self, timeout: float) -> str | None:
        """The next line, or None when none came within `timeout` (no assertion on time)."""
        import queue

        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is not None:
            self.lines.append(line)
        return line

    def interrupt(self) -> int:
        """SIGINT (Ctrl-C), and the exit code."""
        import signal

        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
