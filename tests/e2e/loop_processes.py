"""The loop's real processes for end-to-end tests: `hyperfleet demo`, `hyperfleet sentinel`.

Each runs the installed console script as a subprocess with its output in a log file; helpers
poll the API (never sleep for a fixed time) until a resource reaches a phase.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import pytest

CONSOLE_SCRIPT = str(Path(sys.executable).with_name("hyperfleet"))
API = "/api/hyperfleet/v1"
_URL_LINE = re.compile(rb"HyperFleet demo: API (http://\S+)")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERFLEET_")}
    env.update(extra)
    return env


class LoopProcess:
    """One console-script subprocess; its combined output goes to `log_path`."""

    def __init__(
        self,
        args: list[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.args = args
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [CONSOLE_SCRIPT, *args],
            env=env if env is not None else clean_env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def fail(self, why: str) -> None:
        pytest.fail(f"{why}; {self.args[0]} log tail:\n{self.output()[-4000:]}")

    def signal(self, sig: signal.Signals) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 90) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"did not exit within {timeout} s")
        return int(code)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 90 s; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return int(self.proc.returncode)


class DemoProcess(LoopProcess):
    """`hyperfleet demo --port 0 …`; `base` is the API URL it prints."""

    def __init__(
        self,
        args: list[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self._offset = log_path.stat().st_size if log_path.exists() else 0
        super().__init__(["demo", "--port", "0", *args], log_path, env, cwd)
        self.base = ""

    def wait_ready(self, timeout: float = 120) -> DemoProcess:
        deadline = time.monotonic() + timeout
        while not self.base:
            match = _URL_LINE.search(self.log_path.read_bytes()[self._offset :])
            if match:
                self.base = match.group(1).decode()
                break
            if self.proc.poll() is not None:
                self.fail(f"demo exited with {self.proc.returncode} before printing its URL")
            if time.monotonic() > deadline:
                self.fail("demo did not print its API URL")
            time.sleep(0.2)
        if httpx.get(f"{self.base}/readyz", timeout=5).status_code != 200:
            self.fail("demo printed its URL but the API is not ready")
        return self

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.base}{API}", timeout=30)


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """PostgreSQL server processes running on `data_dir` (embedded mode)."""
    found = []
    target = str(data_dir)
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
        except psutil.Error:
            continue
        if "postgres" in (proc.info["name"] or "") and any(target in part for part in cmdline):
            found.append(proc)
    return found


def eventually(
    check: Callable[[], Any], *, timeout: float = 90, interval: float = 0.25, what: str = ""
) -> Any:
    """Call `check` until it returns a truthy value; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {timeout} s: {what} (last: {last!r})")
        time.sleep(interval)


def phase_of(api: httpx.Client, path: str) -> tuple[str | None, int]:
    """(status.phase, generation) of the resource at `path`, (None, 0) when it is gone."""
    response = api.get(path)
    if response.status_code == 404:
        return None, 0
    response.raise_for_status()
    body = response.json()
    return body.get("status", {}).get("phase"), int(body["generation"])


def wait_for_phase(
    api: httpx.Client, path: str, phase: str, *, generation: int | None = None, timeout: float = 90
) -> dict[str, Any]:
    """Poll `path` until its phase is `phase` (at `generation`, when given); returns the body."""

    def check() -> dict[str, Any] | None:
        response = api.get(path)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        at = body.get("status", {}).get("phase")
        if at == phase and (generation is None or body["generation"] == generation):
            return body
        return None

    return eventually(check, timeout=timeout, what=f"{path} phase {phase} (gen {generation})")


def wait_gone(api: httpx.Client, path: str, *, timeout: float = 90) -> None:
    eventually(lambda: api.get(path).status_code == 404, timeout=timeout, what=f"{path} 404")


class RabbitVhost:
    """A RabbitMQ virtual host of its own for one test module: its exchanges and queues
    (`hyperfleet-clusters`, …, the default names) cannot meet anyone else's; deleted after."""

    def __init__(self, base_url: str) -> None:
        self.name = f"hf-e2e-{uuid.uuid4().hex[:10]}"
        self.url = urlunsplit(urlsplit(base_url)._replace(path=f"/{self.name}"))

    def create(self) -> None:
        rabbitmqctl("add_vhost", self.name)
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")

    def delete(self) -> None:
        rabbitmqctl("delete_vhost", self.name, check=False)

    def queues(self) -> dict[str, int]:
        """Every queue of the vhost with the number of messages ready in it."""
        listing = rabbitmqctl("list_queues", "-q", "-p", self.name, "name", "messages_ready")
        out = {}
        for line in listing.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                out[parts[0]] = int(parts[1])
        return out


def rabbitmqctl(*args: str, check: bool = True) -> str:
    result = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(f"rabbitmqctl {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout


def restart_rabbitmq() -> None:
    """Stop the machine's RabbitMQ node and start it again; returns once it accepts clients."""
    rabbitmqctl("stop")
    subprocess.run(["rabbitmq-server", "-detached"], check=True, timeout=60)
    # `await_startup` fails at once while the new node has not registered with epmd yet.
    eventually(
        lambda: (
            subprocess.run(
                ["rabbitmqctl", "await_startup", "--timeout", "60"],
                capture_output=True,
                timeout=120,
                check=False,
            ).returncode
            == 0
        ),
        timeout=180,
        interval=1,
        what="RabbitMQ started again",
    )


def rabbit_available(url: str) -> str | None:
    """Why RabbitMQ cannot be used for these tests, or None when it can."""
    import shutil
    import socket

    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed (the loop tests manage a local RabbitMQ)"
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 5).close()
    except OSError as exc:
        return f"RabbitMQ unreachable at {parts.hostname}:{parts.port}: {exc}"
    return None
