"""`--header` and a context's headers reach the server (a recording HTTP server stands in for a
gateway-less API: what matters is what the CLI puts on the wire)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from tests.integration.cli_support import Cli

LIST = json.dumps({"kind": "ClusterList", "items": [], "total": 0, "page": 1, "size": 0})


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        body = LIST.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    handler = type("Handler", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    finally:
        server.shutdown()
        server.server_close()


def test_header_option_is_sent(recorder, tmp_path: Path):
    url, seen = recorder
    hf = Cli(url, tmp_path / "profile.yaml")
    hf.ok("cluster", "list", "-H", "X-HyperFleet-Tenant: acme", "--header", "X-Team:  blue ")
    assert seen[-1]["x-hyperfleet-tenant"] == "acme"
    assert seen[-1]["x-team"] == "blue"


def test_context_headers_and_the_option_over_them(recorder, tmp_path: Path):
    url, seen = recorder
    hf = Cli(url, tmp_path / "profile.yaml")
    hf.ok(
        "config",
        "set-context",
        "acme",
        "--api-url",
        url,
        "-H",
        "X-HyperFleet-Tenant: acme",
        "-H",
        "X-Team: blue",
    )
    profile = yaml.safe_load((tmp_path / "profile.yaml").read_text())
    assert profile["contexts"]["acme"]["headers"] == {
        "X-HyperFleet-Tenant": "acme",
        "X-Team": "blue",
    }
    hf.ok("cluster", "list", env=hf.env())
    assert (seen[-1]["x-hyperfleet-tenant"], seen[-1]["x-team"]) == ("acme", "blue")
    hf.ok("cluster", "list", "-H", "x-hyperfleet-tenant: globex")
    assert seen[-1]["x-hyperfleet-tenant"] == "globex"
    # 'Name:' with no value removes a context header
    hf.ok("config", "set-context", "acme", "-H", "X-Team:")
    hf.ok("cluster", "list")
    assert "x-team" not in seen[-1]
    assert hf.json("config", "get-contexts")["contexts"]["acme"]["headers"] == {
        "X-HyperFleet-Tenant": "acme"
    }


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("cluster", "list", "-H", "no colon"), "--header: 'no colon' is not 'Name: value'"),
        (("cluster", "list", "-H", "Authorization: x"), "is set by the client itself"),
        (("config", "set-context", "c", "-H", "Bad Name: x"), "not a valid HTTP field name"),
    ],
)
def test_bad_headers_are_usage_errors(recorder, tmp_path: Path, args, fragment):
    url, seen = recorder
    result = Cli(url, tmp_path / "profile.yaml")(*args)
    assert result.returncode == 2, result.stderr
    assert fragment in " ".join(result.stderr.split())
    assert seen == []
