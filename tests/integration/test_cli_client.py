"""The `hyperfleet` client commands, run as the real console script against one real
`hyperfleet serve` process: every command, every output format, and the error paths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.integration.cli_support import ANSI, Cli, Streaming, running_server

from hyperfleet.client import HyperFleetClient, WatchExpiredError

API = "/api/hyperfleet/v1"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(pg_admin_url, tmp_path_factory.mktemp("cli-server")) as proc:
        yield proc.base


@pytest.fixture
def hf(server: str, tmp_path: Path) -> Cli:
    return Cli(server, tmp_path / "profile.yaml")


def api(server: str, path: str) -> httpx.Response:
    """What the API itself answers (the reference the CLI output is compared with)."""
    response = httpx.get(f"{server}{API}/{path}")
    assert response.status_code == 200, response.text
    return response


def new_cluster(hf: Cli, name: str, *extra: str) -> dict[str, Any]:
    created: dict[str, Any] = hf.json("cluster", "create", name, *extra)
    return created


# -- clusters ---------------------------------------------------------------------------------


def test_cluster_create_shows_the_resource_table(hf: Cli):
    out = hf.ok("cluster", "create", "tbl-create", "--spec", '{"region": "eu"}', "-l", "env=dev")
    assert "tbl-create" in out
    assert "Pending" in out
    assert "env=dev" in out
    for column in ("CONDITION", "ADAPTER", "BLOCKED_BY"):
        assert column in out
    # API text in brackets is printed as it is, not taken for markup
    assert "Currently reporting: []" in out
    assert ANSI not in out


def test_cluster_get_json_is_exactly_the_api_body(hf: Cli, server: str):
    created = new_cluster(hf, "json-get", "--spec", '{"a": [1, 2]}')
    assert created["spec"] == {"a": [1, 2]}
    out = hf.ok("cluster", "get", created["id"], "-o", "json")
    assert out == api(server, f"clusters/{created['id']}").text + "\n"


def test_cluster_get_yaml_parses_to_the_api_body(hf: Cli, server: str):
    created = new_cluster(hf, "yaml-get", "-l", "team=a")
    out = hf.ok("cluster", "get", created["id"], "-o", "yaml")
    assert yaml.safe_load(out) == api(server, f"clusters/{created['id']}").json()


def test_cluster_get_table(hf: Cli):
    created = new_cluster(hf, "tbl-get")
    out = hf.ok("cluster", "get", created["id"])
    assert created["id"] in out
    assert re.search(r"Created\s+\d+s ago by ", out)
    for adapter in ("validation", "dns", "pullsecret", "hypershift"):
        assert adapter in out


def test_cluster_list_formats_and_filters(hf: Cli, server: str):
    prod = new_cluster(hf, "list-prod", "-l", "env=prod", "-l", "tier=gold")
    new_cluster(hf, "list-dev", "-l", "env=dev")
    body = hf.ok("cluster", "list", "-l", "env=prod", "-o", "json")
    expected = httpx.get(f"{server}{API}/clusters", params={"search": "labels.env = 'prod'"})
    assert body == expected.text + "\n"
    assert [c["id"] for c in json.loads(body)["items"]] == [prod["id"]]

    quoted = hf.json("cluster", "list", "-l", "tier=gold", "--search", "name = 'list-prod'")
    assert [c["id"] for c in quoted["items"]] == [prod["id"]]

    listed = yaml.safe_load(
        hf.ok("cluster", "list", "--search", "name in ('list-dev')", "-o", "yaml")
    )
    assert [c["name"] for c in listed["items"]] == ["list-dev"]

    table = hf.ok("cluster", "list", "--search", "labels.env is not null", "--order", "name asc")
    assert table.index("list-dev") < table.index("list-prod")
    assert "PHASE" in table
    assert "CONDITIONS" in table
    assert re.search(r"\d+ of \d+", table)


def test_cluster_list_pages_by_size(hf: Cli):
    for i in range(3):
        new_cluster(hf, f"page-{i}", "-l", "paged=yes")
    first = hf.json("cluster", "list", "-l", "paged=yes", "--size", "2")
    assert len(first["items"]) == 2
    assert first["total"] == 3
    second = hf.json("cluster", "list", "-l", "paged=yes", "--size", "2", "--page", "2")
    assert len(second["items"]) == 1


def test_cluster_patch_spec_and_labels(hf: Cli):
    created = new_cluster(hf, "patch-me")
    patched = hf.json("cluster", "patch", created["id"], "--spec", '{"replicas": 3}')
    assert patched["generation"] == 2
    assert patched["spec"] == {"replicas": 3}
    relabelled = hf.json("cluster", "patch", created["id"], "-l", "env=qa")
    assert relabelled["labels"] == {"env": "qa"}
    table = hf.ok("cluster", "patch", created["id"], "--spec", '{"replicas": 4}')
    generation = hf.json("cluster", "get", created["id"])["generation"]
    assert re.search(rf"Generation\s+{generation}\s", table)


def test_cluster_status_report_statuses_and_history(hf: Cli, server: str):
    cid = new_cluster(hf, "reported")["id"]
    stored = hf.json(
        "status", "report", "cluster", cid, "--adapter", "validation", "--generation", "1",
        "--available", "True",
    )  # fmt: skip
    assert stored["adapter"] == "validation"
    conditions = {c["type"]: c for c in stored["conditions"]}
    assert conditions["Applied"]["status"] == "True"
    assert conditions["Health"]["status"] == "True"
    assert all(c["reason"] == "ManualReport" and c["message"] for c in stored["conditions"])

    out = hf.ok(
        "status", "report", "cluster", cid, "--adapter", "dns", "--generation", "1",
        "--available", "false", "--applied", "True", "--health", "Unknown",
        "--reason", "ZoneMissing", "--message", "no zone [eu]", "--data", '{"zone": "eu"}',
    )  # fmt: skip
    assert "dns" in out
    assert "ZoneMissing" in out
    assert "no zone [eu]" in out

    statuses = hf.ok("cluster", "statuses", cid)
    assert statuses.index("dns") < statuses.index("validation")
    assert "zone=eu" in statuses
    assert "ZoneMissing" in statuses
    as_json = hf.ok("cluster", "statuses", cid, "-o", "json")
    assert as_json == api(server, f"clusters/{cid}/statuses").text + "\n"
    as_yaml = yaml.safe_load(hf.ok("cluster", "statuses", cid, "-o", "yaml"))
    assert as_yaml == api(server, f"clusters/{cid}/statuses").json()

    history = hf.ok("cluster", "history", cid)
    assert "Pending" in history
    assert "Provisioning" in history
    assert "Failed" in history
    assert hf.ok("cluster", "history", cid, "-o", "json") == (
        api(server, f"clusters/{cid}/phase-history").text + "\n"
    )
    rows = yaml.safe_load(hf.ok("cluster", "history", cid, "-o", "yaml"))["items"]
    assert rows[0]["to_phase"] == "Failed"

    adapters = hf.ok("cluster", "get", cid)
    assert "Failed" in adapters


def test_status_report_not_stored_says_so(hf: Cli):
    cid = new_cluster(hf, "discard")["id"]
    hf.ok("cluster", "patch", cid, "--spec", '{"v": 2}')
    report = ("status", "report", "cluster", cid, "--adapter", "dns", "--available", "True")
    hf.ok(*report, "--generation", "2")
    # a generation older than the adapter's stored one is discarded by the API (204)
    result = hf(*report, "--generation", "1")
    assert result.returncode == 0, result.stderr
    assert "not stored (204)" in result.stdout
    silent = hf(*report, "--generation", "1", "-o", "json")
    assert silent.returncode == 0
    assert silent.stdout == ""


def test_cluster_delete_and_force_delete(hf: Cli, server: str):
    cid = new_cluster(hf, "doomed")["id"]
    deleted = hf.json("cluster", "delete", cid)
    assert deleted["deleted_time"]
    assert re.search(r"Deleted\s+\d+s ago", hf.ok("cluster", "get", cid))
    out = hf.ok("cluster", "force-delete", cid, "--reason", "test cleanup")
    assert f"{cid} force-deleted" in out
    assert httpx.get(f"{server}{API}/clusters/{cid}").status_code == 404

    other = new_cluster(hf, "doomed-2")["id"]
    hf.ok("cluster", "delete", other, "-o", "yaml")
    assert hf.ok("cluster", "force-delete", other, "--reason", "r", "-o", "json") == ""


# -- node pools -------------------------------------------------------------------------------


def test_nodepool_commands_under_a_cluster(hf: Cli, server: str):
    cid = new_cluster(hf, "with-pools")["id"]
    pool = hf.json("nodepool", "create", "pool-a", "--cluster", cid, "--spec", '{"n": 2}')
    assert pool["owner_references"]["id"] == cid
    hf.ok("nodepool", "create", "pool-b", "--cluster", cid, "-l", "gpu=yes")
    pid = pool["id"]

    assert hf.ok("nodepool", "get", pid, "--cluster", cid, "-o", "json") == (
        api(server, f"clusters/{cid}/nodepools/{pid}").text + "\n"
    )
    assert "pool-a" in hf.ok("nodepool", "get", pid)  # the flat route needs no cluster

    listed = hf.json("nodepool", "list", "--cluster", cid)
    assert sorted(p["name"] for p in listed["items"]) == ["pool-a", "pool-b"]
    gpu = hf.json("nodepool", "list", "--cluster", cid, "-l", "gpu=yes")
    assert [p["name"] for p in gpu["items"]] == ["pool-b"]
    table = hf.ok("nodepool", "list", "--cluster", cid)
    assert "CLUSTER" in table
    assert cid in table

    patched = hf.json("nodepool", "patch", pid, "--cluster", cid, "--spec", '{"n": 3}')
    assert patched["generation"] == 2
    hf.ok(
        "status", "report", "nodepool", pid, "--cluster", cid, "--adapter", "validation",
        "--generation", "2", "--available", "True",
    )  # fmt: skip
    assert "validation" in hf.ok("nodepool", "statuses", pid, "--cluster", cid)
    assert "Pending" in hf.ok("nodepool", "history", pid, "--cluster", cid)
    assert (
        yaml.safe_load(hf.ok("nodepool", "statuses", pid, "--cluster", cid, "-o", "yaml"))["items"][
            0
        ]["adapter"]
        == "validation"
    )

    assert hf.json("nodepool", "delete", pid, "--cluster", cid)["deleted_time"]
    hf.ok("nodepool", "force-delete", pid, "--cluster", cid, "--reason", "cleanup")
    missing = hf("nodepool", "get", pid, "--cluster", cid)
    assert missing.returncode == 1
    assert "HYPERFLEET-NTF-001" in missing.stderr


def test_nodepool_create_needs_a_cluster(hf: Cli):
    result = hf("nodepool", "create", "orphan")
    assert result.returncode == 2
    assert "--cluster" in result.stderr


# -- errors -----------------------------------------------------------------------------------


def test_not_found_is_one_line_and_exit_1(hf: Cli):
    result = hf("cluster", "get", "no-such-id")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: HYPERFLEET-NTF-001: Cluster with id='no-such-id' not found"]


def test_bad_request_names_the_fields(hf: Cli):
    result = hf("cluster", "create", "x")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "HYPERFLEET-VAL-000" in result.stderr
    assert "[name: name must be at least 3 characters]" in result.stderr

    bad_search = hf("cluster", "list", "--search", "nonsense ===")
    assert bad_search.returncode == 1
    assert "search" in bad_search.stderr


def test_conflict_is_exit_1(hf: Cli):
    new_cluster(hf, "twice")
    result = hf("cluster", "create", "twice")
    assert result.returncode == 1
    assert "HYPERFLEET-CNF-001" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["cluster", "create", "ok-name", "--spec", "{not json"],
        ["cluster", "frobnicate"],
        ["status", "report", "cluster", "x", "--adapter", "a", "--generation", "1",
         "--available", "maybe"],
    ],
)  # fmt: skip
def test_usage_errors_exit_2(hf: Cli, args: list[str]):
    # every usage error is checked in-process in tests/unit/cli; these run the real script
    result = hf(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip()


def test_connection_refused_names_the_url(hf: Cli):
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    result = hf("cluster", "list", "--api-url", url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: cannot reach the API at {url} (tried {url}{API}/")
    assert len(result.stderr.strip().splitlines()) == 1


# -- colour -----------------------------------------------------------------------------------


def test_no_colour_when_piped_or_no_color(hf: Cli):
    cid = new_cluster(hf, "plain")["id"]
    assert ANSI not in hf.ok("cluster", "get", cid)
    assert ANSI not in hf.ok("cluster", "list", env=hf.env(NO_COLOR="1", FORCE_COLOR="1"))


def test_colour_on_a_terminal_unless_no_color(hf: Cli):
    cid = new_cluster(hf, "tty")["id"]
    coloured = hf.on_tty("cluster", "get", cid, env=hf.env(TERM="xterm-256color"))
    assert ANSI in coloured
    assert "tty" in coloured
    plain = hf.on_tty("cluster", "get", cid, env=hf.env(TERM="xterm-256color", NO_COLOR="1"))
    assert ANSI not in plain
    assert "tty" in plain


# -- contexts and precedence ------------------------------------------------------------------


def test_contexts_set_use_get_current_delete(hf: Cli, server: str):
    env = hf.env()
    del env["HYPERFLEET_API_URL"]
    unused = "http://127.0.0.1:9"
    assert "saved" in hf.ok("config", "set-context", "dead", "--api-url", unused, env=env)
    hf.ok("config", "set-context", "live", "--api-url", server, env=env)
    assert hf.ok("config", "current-context", env=env).strip() == "dead"  # the first one saved
    assert hf("cluster", "list", env=env).returncode == 1

    assert "live" in hf.ok("config", "use-context", "live", env=env)
    assert hf.ok("config", "current-context", env=env).strip() == "live"
    hf.ok("cluster", "list", env=env)
    table = hf.ok("config", "get-contexts", env=env)
    assert re.search(r"\*\s+live\s+" + re.escape(server), table)
    listed = json.loads(hf.ok("config", "get-contexts", "-o", "json", env=env))
    assert listed["current-context"] == "live"
    assert listed["contexts"]["dead"] == {"api_url": unused}

    # precedence: --api-url > HYPERFLEET_API_URL > the current context
    hf.ok("config", "use-context", "dead", env=env)
    hf.ok("cluster", "list", "--api-url", server, env=env)
    hf.ok("cluster", "list", env=env | {"HYPERFLEET_API_URL": server})
    wrong_env = env | {"HYPERFLEET_API_URL": unused}
    assert hf("cluster", "list", env=wrong_env).returncode == 1
    hf.ok("cluster", "list", "--api-url", server, env=wrong_env)

    unknown = hf("config", "use-context", "nope", env=env)
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr
    hf.ok("config", "delete-context", "dead", env=env)
    none = hf("config", "current-context", env=env)
    assert none.returncode == 1
    assert "no current context" in none.stderr
    assert "config validate" not in none.stderr
    assert oct(hf.profile.stat().st_mode & 0o777) == "0o600"


def test_a_broken_profile_is_a_usage_error(hf: Cli):
    hf.profile.write_text("contexts: [1, 2]\n")
    result = hf("cluster", "list")
    assert result.returncode == 2
    assert str(hf.profile) in result.stderr


# -- help and completion ----------------------------------------------------------------------


def test_help_has_an_example(hf: Cli):
    # every command's help is checked in-process in tests/unit/cli; this runs the real script
    out = hf.ok("cluster", "get", "--help", env=hf.env(COLUMNS="200"))
    assert "Example:  hyperfleet cluster get ID" in out


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o default -F _hyperfleet_completion hyperfleet"),
     ("zsh", "#compdef hyperfleet"),
     ("fish", "complete --command hyperfleet")],
)  # fmt: skip
def test_completion_script_for_each_shell(hf: Cli, shell: str, marker: str):
    out = hf.ok("completion", shell)
    assert marker in out
    assert "_HYPERFLEET_COMPLETE" in out


def test_completion_answers_from_the_program(hf: Cli):
    env = hf.env(_HYPERFLEET_COMPLETE="complete_bash", COMP_WORDS="hyperfleet cluster forc",
                 COMP_CWORD="2")  # fmt: skip
    assert hf.ok(env=env).split() == ["force-delete"]


# -- watch ------------------------------------------------------------------------------------


@pytest.fixture
def streams() -> Iterator[list[Streaming]]:
    started: list[Streaming] = []
    yield started
    for stream in started:
        stream.close()


def event_of(line: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(line)
    return event


def first_event_for(hf: Cli, stream: Streaming, create: Any) -> dict[str, Any]:
    """Create resources until the watch (which starts "from now") shows one: polling, since
    nothing tells the test when the stream is connected."""
    for _ in range(60):
        created = create()
        while (line := stream.poll_line(timeout=1)) is not None:
            event = event_of(line)
            if event["object"]["id"] == created["id"]:
                assert event["type"] == "ADDED"
                return created
    raise AssertionError(f"the watch never showed a new resource: {stream.lines}")


def test_cluster_watch_json_one_event_per_line(hf: Cli, streams: list[Streaming]):
    stream = Streaming(hf, "cluster", "watch", "-o", "json", "-l", "watched=yes")
    streams.append(stream)
    names = iter(f"watched-{i}" for i in range(100))
    created = first_event_for(hf, stream, lambda: new_cluster(hf, next(names), "-l", "watched=yes"))
    new_cluster(hf, "not-watched")  # filtered out by the label search
    cid = created["id"]
    hf.ok("cluster", "patch", cid, "--spec", '{"v": 2}', "-l", "watched=yes")
    modified = event_of(stream.wait_for(lambda line: event_of(line)["type"] == "MODIFIED"))
    assert modified["object"]["id"] == cid
    assert modified["object"]["generation"] == 2
    hf.ok("cluster", "delete", cid)
    hf.ok("cluster", "force-delete", cid, "--reason", "watch test")
    deleted = event_of(stream.wait_for(lambda line: event_of(line)["type"] == "DELETED"))
    assert deleted["object"]["id"] == cid
    assert all(event_of(line)["object"]["name"] != "not-watched" for line in stream.lines)
    assert set(event_of(stream.lines[-1])) == {"type", "object"}
    assert stream.interrupt() == 0


def test_cluster_watch_table_lines(hf: Cli, streams: list[Streaming]):
    stream = Streaming(hf, "cluster", "watch", "--search", "labels.tw = 'yes'")
    streams.append(stream)
    for i in range(60):
        name = f"tw-{i}"
        new_cluster(hf, name, "-l", "tw=yes")
        line = stream.poll_line(timeout=1)
        if line is not None:
            assert "ADDED" in line
            assert "Cluster tw-" in line
            assert "Pending" in line
            break
    else:
        raise AssertionError("no event line")
    assert ANSI not in line
    assert stream.interrupt() == 0


def test_cluster_list_watch_redraws_with_new_clusters(hf: Cli, streams: list[Streaming]):
    new_cluster(hf, "lw-before", "-l", "lw=yes")
    stream = Streaming(hf, "cluster", "list", "--watch", "-l", "lw=yes")
    streams.append(stream)
    stream.wait_for(lambda line: "1 of 1" in line)
    # the watch resumes from the list's position: a change right after the list is not missed
    new_cluster(hf, "lw-after", "-l", "lw=yes")
    stream.wait_for(lambda line: "2 of 2" in line)
    assert any("lw-after" in line for line in stream.lines)
    assert stream.interrupt() == 0


def test_cluster_get_watch_json_follows_one_cluster(hf: Cli, server: str, streams: list[Streaming]):
    cid = new_cluster(hf, "gw-one")["id"]
    other = new_cluster(hf, "gw-other")["id"]
    stream = Streaming(hf, "cluster", "get", cid, "--watch", "-o", "json")
    streams.append(stream)
    first = stream.wait_for(lambda line: line.startswith("{"))
    assert json.loads(first)["id"] == cid
    hf.ok("cluster", "patch", other, "--spec", '{"n": 1}')
    hf.ok("cluster", "patch", cid, "--spec", '{"n": 2}')
    event = event_of(stream.wait_for(lambda line: "MODIFIED" in line))
    assert event["object"]["id"] == cid
    assert event["object"]["spec"] == {"n": 2}
    assert event["object"] == api(server, f"clusters/{cid}").json()
    assert stream.interrupt() == 0


def test_nodepool_watch_under_a_cluster(hf: Cli, streams: list[Streaming]):
    cid = new_cluster(hf, "np-watched")["id"]
    other = new_cluster(hf, "np-other")["id"]
    stream = Streaming(hf, "nodepool", "watch", "--cluster", cid, "-o", "json")
    streams.append(stream)
    names = iter(f"npw-{i}" for i in range(100))

    def create() -> dict[str, Any]:
        hf.ok("nodepool", "create", f"x{next(names)}", "--cluster", other)
        return hf.json("nodepool", "create", next(names), "--cluster", cid)

    pool = first_event_for(hf, stream, create)
    assert pool["owner_references"]["id"] == cid
    assert all(event_of(line)["object"]["owner_references"]["id"] == cid for line in stream.lines)
    assert stream.interrupt() == 0


def test_watch_yaml_prints_one_document_per_event(hf: Cli, streams: list[Streaming]):
    cid = new_cluster(hf, "yw-one")["id"]
    stream = Streaming(hf, "cluster", "get", cid, "--watch", "-o", "yaml")
    streams.append(stream)
    stream.wait_for(lambda line: line == "---")
    stream.wait_for(lambda line: line == "name: yw-one")
    hf.ok("cluster", "patch", cid, "--spec", '{"n": 2}')
    stream.wait_for(lambda line: line == "type: MODIFIED")
    assert stream.interrupt() == 0
    docs = list(yaml.safe_load_all("\n".join(stream.lines)))
    assert docs[0]["id"] == cid


async def test_client_watch_raises_expired_for_an_id_never_issued(server: str):
    async with HyperFleetClient(server) as client:
        with pytest.raises(WatchExpiredError) as info:
            async for _ in client.watch("clusters", last_event_id="999999999999"):
                pass
    assert info.value.status == 410
    assert info.value.code == "HYPERFLEET-WCH-001"


def test_watch_of_a_bad_search_is_exit_1(hf: Cli):
    result = hf("cluster", "watch", "--search", "nonsense ===")
    assert result.returncode == 1
    assert "HYPERFLEET-VAL" in result.stderr
