"""Tables, ages and colours of the client commands, rendered without a server."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console, RenderableType

from hyperfleet.cli.client import tables
from hyperfleet.cli.client.render import age, make_console

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ANSI = "\x1b["
GREEN, RED, YELLOW = "\x1b[32m", "\x1b[31m", "\x1b[33m"


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat().replace("+00:00", "Z")


def cluster(**status: Any) -> dict[str, Any]:
    return {
        "id": "c-1",
        "kind": "Cluster",
        "name": "prod-1",
        "generation": 2,
        "labels": {"env": "prod"},
        "created_time": ago(minutes=3),
        "updated_time": ago(seconds=30),
        "created_by": "alice",
        "updated_by": "bob",
        "status": {
            "phase": "Ready",
            "conditions": [
                {"type": "Reconciled", "status": "True", "observed_generation": 2,
                 "reason": "AllReady", "message": "[dns] ok",
                 "last_transition_time": ago(hours=2)},
                {"type": "Available", "status": "False", "observed_generation": 2,
                 "last_transition_time": ago(days=5)},
                {"type": "Degraded", "status": "Unknown", "observed_generation": 2,
                 "last_transition_time": ago(seconds=4)},
            ],
            "adapters": [
                {"adapter": "validation", "state": "Ready", "required": True,
                 "observed_generation": 2, "last_report_time": ago(minutes=1), "blocked_by": []},
                {"adapter": "dns", "state": "Pending", "required": True,
                 "blocked_by": ["validation", "pullsecret"]},
            ],
            **status,
        },
    }  # fmt: skip


def render(renderable: RenderableType, *, colour: bool) -> str:
    out = io.StringIO()
    console = Console(
        file=out,
        width=200,
        force_terminal=colour,
        color_system="standard" if colour else None,
        markup=False,
    )
    console.print(renderable)
    return out.getvalue()


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=0), "0s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(seconds=60), "1m"),
        (timedelta(minutes=3, seconds=50), "3m"),
        (timedelta(hours=2, minutes=59), "2h"),
        (timedelta(days=5, hours=23), "5d"),
        (timedelta(days=400), "400d"),
        (timedelta(seconds=-30), "0s"),  # a server clock slightly ahead
    ],
)
def test_age_uses_the_largest_whole_unit(delta: timedelta, expected: str):
    assert age((NOW - delta).isoformat(), NOW) == expected


def test_age_of_missing_or_bad_timestamps():
    assert age(None, NOW) == "-"
    assert age("", NOW) == "-"
    assert age("yesterday", NOW) == "-"
    assert age("2026-03-01T11:59:00", NOW) == "1m"  # no offset: taken as UTC


def test_resource_detail_shows_conditions_adapters_and_blocked_by():
    text = render(tables.resource_detail(cluster(), NOW), colour=False)
    assert "prod-1" in text
    assert "Created     3m ago by alice" in text
    assert "Updated     30s ago by bob" in text
    assert "env=prod" in text
    assert "[dns] ok" in text
    for cond_age in ("2h", "5d", "4s"):
        assert cond_age in text
    dns_row = next(line for line in text.splitlines() if line.strip().startswith("dns"))
    assert "Pending" in dns_row
    assert "validation,pullsecret" in dns_row
    assert ANSI not in text


def test_phase_conditions_and_states_are_coloured_on_a_terminal():
    text = render(tables.resource_detail(cluster(), NOW), colour=True)
    assert f"{GREEN}Ready" in text or "\x1b[1;32mReady" in text
    assert f"{GREEN}●" in text  # Reconciled=True
    assert f"{RED}●" in text  # Available=False
    assert f"{YELLOW}●" in text  # Degraded=Unknown
    assert f"{YELLOW}Pending" in text  # the dns adapter


def test_resource_list_rows_dots_and_footer():
    body = {"items": [cluster(), cluster(phase="Failed")], "total": 7, "next_cursor": "abc"}
    plain = render(tables.resource_list(body, NOW), colour=False)
    assert "● Reconciled  ● Available  ● Degraded" in plain
    assert "validation ● dns ●" in plain
    assert "3m" in plain
    assert "2 of 7 (more: --cursor)" in plain
    assert "CLUSTER" not in plain
    coloured = render(tables.resource_list(body, NOW), colour=True)
    assert "\x1b[1;31mFailed" in coloured


def test_nested_list_shows_the_owner():
    pool = cluster() | {"owner_references": {"id": "c-9", "kind": "Cluster", "href": "/x"}}
    text = render(tables.resource_list({"items": [pool], "total": 1}, NOW), colour=False)
    assert "CLUSTER" in text
    assert "c-9" in text


def test_statuses_history_and_empty_states():
    report = {
        "adapter": "dns",
        "state": "Failed",
        "observed_generation": 4,
        "last_report_time": ago(minutes=2),
        "conditions": [{"type": "Available", "status": "False", "reason": "NoZone",
                        "message": "m", "last_transition_time": ago(minutes=2)}],
        "data": {"zone": "eu", "ok": False},
    }  # fmt: skip
    text = render(tables.statuses({"items": [report]}, NOW), colour=False)
    assert "dns  Failed  generation 4  reported 2m ago" in text
    assert "NoZone" in text
    assert "data: zone=eu, ok=false" in text
    assert "no adapter has reported yet" in render(tables.statuses({"items": []}), colour=False)

    rows = {"items": [{"from_phase": None, "to_phase": "Pending", "generation": 1,
                       "reason": "Created", "message": "new", "time": ago(hours=1)}]}  # fmt: skip
    history = render(tables.history(rows, NOW), colour=False)
    line = next(ln for ln in history.splitlines() if "Pending" in ln)
    assert line.split()[:4] == ["1h", "-", "Pending", "1"]


def test_console_colours_only_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = make_console()
    assert not piped.is_terminal
    assert piped.width == 250  # piped tables are not wrapped at 80 columns
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert make_console().color_system is not None
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_console().color_system is None
