"""The client commands without a server: help texts, usage errors (exit 2), option parsing,
the status report's body, and where the API URL and token come from."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hyperfleet.cli.client.profile import DEFAULT_API_URL, Profile, ProfileError, resolve
from hyperfleet.cli.client.resources import label_search
from hyperfleet.cli.client.status import ConditionStatus, build_report
from hyperfleet.cli.main import app
from hyperfleet.client import TokenFile

runner = CliRunner()

COMMANDS = [
    ["cluster", "create"], ["cluster", "get"], ["cluster", "list"], ["cluster", "patch"],
    ["cluster", "delete"], ["cluster", "force-delete"], ["cluster", "statuses"],
    ["cluster", "history"], ["cluster", "watch"],
    ["nodepool", "create"], ["nodepool", "get"], ["nodepool", "list"], ["nodepool", "patch"],
    ["nodepool", "delete"], ["nodepool", "force-delete"], ["nodepool", "statuses"],
    ["nodepool", "history"], ["nodepool", "watch"],
    ["status", "report"],
    ["config", "set-context"], ["config", "use-context"], ["config", "get-contexts"],
    ["config", "current-context"], ["config", "delete-context"],
    ["completion"],
]  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HYPERFLEET_API_URL", "HYPERFLEET_TOKEN", "HYPERFLEET_TOKEN_FILE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HYPERFLEET_CLI_CONFIG", str(tmp_path / "profile.yaml"))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example(command: list[str]):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Example:  hyperfleet {' '.join(command)}" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["cluster", "create", "ok-name", "--spec", "{not json"],
        ["cluster", "create", "ok-name", "--spec", "[1]"],
        ["cluster", "create", "ok-name", "-l", "novalue"],
        ["cluster", "create", "ok-name", "-l", "=v"],
        ["cluster", "patch", "some-id"],
        ["cluster", "get"],
        ["cluster", "list", "-o", "xml"],
        ["cluster", "frobnicate"],
        ["cluster", "force-delete", "some-id"],
        ["nodepool", "create", "pool"],
        ["status", "report", "cluster", "x", "--adapter", "a", "--generation", "1",
         "--available", "maybe"],
        ["status", "report", "cluster", "x", "--adapter", "a", "--generation", "1"],
        ["status", "report", "widget", "x", "--adapter", "a", "--generation", "1",
         "--available", "True"],
        ["status", "report", "cluster", "x", "--adapter", "a", "--generation", "1",
         "--available", "True", "--data", "[]"],
        ["config", "use-context", "missing"],
        ["config", "delete-context", "missing"],
        ["completion", "tcsh"],
    ],
)  # fmt: skip
def test_usage_errors_exit_2(args: list[str]):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip()


def test_label_search_joins_terms_and_doubles_quotes():
    assert label_search(None, None) is None
    assert label_search("name = 'a'", None) == "name = 'a'"
    assert label_search(None, {"env": "prod"}) == "labels.env = 'prod'"
    assert (
        label_search("name = 'a' or name = 'b'", {"env": "o'k", "tier": "1"})
        == "(name = 'a' or name = 'b') and labels.env = 'o''k' and labels.tier = '1'"
    )


def test_status_report_body_has_reasons_and_defaults():
    now = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
    body = build_report(
        "dns",
        3,
        available=ConditionStatus.false,
        applied=ConditionStatus.true,
        health=ConditionStatus.unknown,
        reason=None,
        message=None,
        data={"zone": "eu"},
        now=now,
    )
    assert body == {
        "adapter": "dns",
        "observed_generation": 3,
        "observed_time": "2026-01-02T03:04:05.600000Z",
        "conditions": [
            {"type": "Available", "status": "False", "reason": "ManualReport",
             "message": "reported with the hyperfleet CLI"},
            {"type": "Applied", "status": "True", "reason": "ManualReport",
             "message": "reported with the hyperfleet CLI"},
            {"type": "Health", "status": "Unknown", "reason": "ManualReport",
             "message": "reported with the hyperfleet CLI"},
        ],
        "data": {"zone": "eu"},
    }  # fmt: skip
    custom = build_report(
        "dns",
        1,
        available=ConditionStatus.true,
        applied=ConditionStatus.true,
        health=ConditionStatus.true,
        reason="Done",
        message="all good",
        data=None,
    )
    assert "data" not in custom
    assert {(c["reason"], c["message"]) for c in custom["conditions"]} == {("Done", "all good")}


def test_api_url_precedence(monkeypatch: pytest.MonkeyPatch):
    assert resolve(None).api_url == DEFAULT_API_URL
    Profile({"a": {"api_url": "http://context:1"}}, current="a").save()
    assert resolve(None).api_url == "http://context:1"
    monkeypatch.setenv("HYPERFLEET_API_URL", "http://env:2")
    assert resolve(None).api_url == "http://env:2"
    assert resolve("http://flag:3").api_url == "http://flag:3"


def test_token_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    assert resolve(None).token is None
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    Profile({"a": {"token_file": str(token_file)}}, current="a").save()
    source = resolve(None).token
    assert isinstance(source, TokenFile)
    assert source() == "from-file"
    Profile({"a": {"token": "inline", "token_file": str(token_file)}}, current="a").save()
    assert resolve(None).token == "inline"
    monkeypatch.setenv("HYPERFLEET_TOKEN_FILE", str(token_file))
    assert isinstance(resolve(None).token, TokenFile)
    monkeypatch.setenv("HYPERFLEET_TOKEN", "from-env")
    assert resolve(None).token == "from-env"


def test_profile_round_trip_and_errors(tmp_path: Path):
    path = tmp_path / "p.yaml"
    assert Profile.load(path) == Profile({})
    Profile({"x": {"api_url": "http://x", "token_file": "/t"}}, current="x").save(path)
    assert Profile.load(path) == Profile({"x": {"api_url": "http://x", "token_file": "/t"}}, "x")
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text("- not a mapping\n")
    with pytest.raises(ProfileError, match="expected a mapping"):
        Profile.load(path)
    path.write_text("current-context: gone\ncontexts: {}\n")
    with pytest.raises(ProfileError, match="'gone' is not in"):
        Profile.load(path).active()


def test_context_commands_in_process():
    set_ = runner.invoke(
        app, ["config", "set-context", "a", "--api-url", "http://a", "--token", "t"]
    )
    assert set_.exit_code == 0, set_.output
    runner.invoke(app, ["config", "set-context", "b", "--api-url", "http://b", "--use"])
    assert runner.invoke(app, ["config", "current-context"]).output.strip() == "b"
    listed = runner.invoke(app, ["config", "get-contexts", "-o", "yaml"]).output
    assert "current-context: b" in listed
    assert "token: t" in listed
    table = runner.invoke(app, ["config", "get-contexts"]).output
    assert "(set)" in table
    assert "t\n" not in table.replace("(set)", "")


def test_docs_show_every_command_with_an_example():
    docs = (Path(__file__).resolve().parents[3] / "docs" / "cli.md").read_text(encoding="utf-8")
    examples = [ln for ln in docs.splitlines() if ln.startswith("$ hyperfleet ")]
    for command in COMMANDS:
        name = f"hyperfleet {' '.join(command)}"
        assert any(ln.startswith(f"$ {name}") for ln in examples), name


def test_the_header_option_keeps_every_other_option_of_a_command():
    from typer.testing import CliRunner

    from hyperfleet.cli.main import app

    out = " ".join(CliRunner().invoke(app, ["cluster", "create", "--help"]).output.split())
    for fragment in (
        "Cluster name.",
        "-l",
        "The spec as a JSON object.",
        "-o",
        "-H",
        "'NAME: VALUE'",
    ):
        assert fragment in out, fragment
