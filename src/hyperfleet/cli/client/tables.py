"""Readable tables of API bodies: resources, lists, adapter statuses and phase history.

Each function takes the decoded JSON and returns something rich can print; colours come from
`render` and are dropped by the console when it must not colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from hyperfleet.cli.client.render import (
    PHASE_STYLES,
    STATE_STYLES,
    STATUS_STYLES,
    age,
    dot,
    styled,
)

JSON = Mapping[str, Any]


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _labels(resource: JSON) -> str:
    labels = resource.get("labels") or {}
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "-"


def condition_dots(conditions: Sequence[JSON]) -> Text:
    """`● Reconciled ● Available`, each dot coloured by the condition's status."""
    text = Text()
    for i, cond in enumerate(conditions):
        if i:
            text.append("  ")
        text.append_text(dot(cond.get("status")))
        text.append(f" {cond.get('type', '?')}")
    return text or Text("-")


def adapters_summary(adapters: Sequence[JSON]) -> Text:
    """`validation ● dns ●` with each dot coloured by the adapter's state."""
    text = Text()
    for i, adapter in enumerate(adapters):
        if i:
            text.append(" ")
        text.append(f"{adapter.get('adapter', '?')} ")
        text.append("●", style=STATE_STYLES.get(adapter.get("state", ""), "dim"))
    return text or Text("-")


def resource_list(body: JSON, now: datetime | None = None) -> RenderableType:
    """One row per resource of a list envelope, then the envelope's counts."""
    items: Sequence[JSON] = body.get("items") or []
    nested = any(item.get("owner_references") for item in items)
    columns = ["ID", "NAME", *(["CLUSTER"] if nested else []), "PHASE", "GEN"]
    table = _table(*columns, "CONDITIONS", "ADAPTERS", "LABELS", "AGE")
    for item in items:
        status = item.get("status") or {}
        owner = [(item.get("owner_references") or {}).get("id", "-")] if nested else []
        table.add_row(
            item.get("id", "-"),
            item.get("name", "-"),
            *owner,
            styled(_phase(item), PHASE_STYLES),
            str(item.get("generation", "-")),
            condition_dots(status.get("conditions") or []),
            adapters_summary(status.get("adapters") or []),
            _labels(item),
            age(item.get("created_time"), now),
        )
    shown, total = len(items), body.get("total", len(items))
    footer = f"{shown} of {total}" + (" (more: --cursor)" if body.get("next_cursor") else "")
    return Group(table, Text(footer, style="dim"))


def _phase(resource: JSON) -> str | None:
    return (resource.get("status") or {}).get("phase")


def resource_detail(resource: JSON, now: datetime | None = None) -> RenderableType:
    """A resource: its fields, its conditions and its adapters with state and `blocked_by`."""
    status = resource.get("status") or {}
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    phase = styled(_phase(resource), PHASE_STYLES)
    if status.get("phase_reason"):
        phase.append(f"  {status['phase_reason']}", style="dim")
    owner = resource.get("owner_references")
    rows: list[tuple[str, str | Text]] = [
        ("Kind", resource.get("kind", "-")),
        ("Name", resource.get("name", "-")),
        ("ID", resource.get("id", "-")),
        *([("Owner", f"{owner.get('kind')} {owner.get('id')}")] if owner else []),
        ("Phase", phase),
        ("Generation", str(resource.get("generation", "-"))),
        ("Labels", _labels(resource)),
        (
            "Created",
            f"{age(resource.get('created_time'), now)} ago by {resource.get('created_by')}",
        ),
        (
            "Updated",
            f"{age(resource.get('updated_time'), now)} ago by {resource.get('updated_by')}",
        ),
    ]
    if resource.get("deleted_time"):
        rows.append(("Deleted", f"{age(resource['deleted_time'], now)} ago"))
    for key, value in rows:
        fields.add_row(key, value)
    return Group(
        fields,
        conditions_table(status.get("conditions") or [], now),
        adapters_table(status.get("adapters") or [], now),
    )


def conditions_table(conditions: Sequence[JSON], now: datetime | None = None) -> Table:
    """A resource's conditions: a coloured dot, type, status, generation, reason, message."""
    table = _table("", "CONDITION", "STATUS", "GEN", "REASON", "MESSAGE", "CHANGED")
    for cond in conditions:
        table.add_row(
            dot(cond.get("status")),
            cond.get("type", "-"),
            styled(cond.get("status"), STATUS_STYLES),
            str(cond.get("observed_generation", "-")),
            cond.get("reason") or "-",
            cond.get("message") or "-",
            age(cond.get("last_transition_time"), now),
        )
    return table


def adapters_table(adapters: Sequence[JSON], now: datetime | None = None) -> Table:
    """A resource's adapters: state, required, observed generation, last report, blocked_by."""
    table = _table("ADAPTER", "STATE", "REQUIRED", "GEN", "REPORTED", "BLOCKED_BY")
    for adapter in adapters:
        table.add_row(
            adapter.get("adapter", "-"),
            styled(adapter.get("state"), STATE_STYLES),
            "yes" if adapter.get("required") else "no",
            str(adapter.get("observed_generation", "-")),
            age(adapter.get("last_report_time"), now),
            ",".join(adapter.get("blocked_by") or []) or "-",
        )
    return table


def status_report(report: JSON, now: datetime | None = None) -> RenderableType:
    """One adapter's stored report: state, conditions and data."""
    head = Text()
    head.append(report.get("adapter", "?"), style="bold")
    head.append("  ")
    head.append_text(styled(report.get("state"), STATE_STYLES))
    head.append(
        f"  generation {report.get('observed_generation', '-')}"
        f"  reported {age(report.get('last_report_time'), now)} ago"
    )
    conds = _table("", "CONDITION", "STATUS", "REASON", "MESSAGE", "CHANGED")
    for cond in report.get("conditions") or []:
        conds.add_row(
            dot(cond.get("status")),
            cond.get("type", "-"),
            styled(cond.get("status"), STATUS_STYLES),
            cond.get("reason") or "-",
            cond.get("message") or "-",
            age(cond.get("last_transition_time"), now),
        )
    data = report.get("data") or {}
    data_text = Text(
        "data: " + (", ".join(f"{k}={_scalar(v)}" for k, v in data.items()) or "{}"),
        style="dim",
    )
    return Group(head, conds, data_text)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def statuses(body: JSON, now: datetime | None = None) -> RenderableType:
    """Every adapter's report of a statuses envelope."""
    items: Sequence[JSON] = body.get("items") or []
    if not items:
        return Text("no adapter has reported yet", style="dim")
    return Group(*(status_report(item, now) for item in items))


def history(body: JSON, now: datetime | None = None) -> RenderableType:
    """A phase-history envelope, newest first."""
    table = _table("WHEN", "FROM", "TO", "GEN", "REASON", "MESSAGE")
    for row in body.get("items") or []:
        table.add_row(
            age(row.get("time"), now),
            styled(row.get("from_phase"), PHASE_STYLES),
            styled(row.get("to_phase"), PHASE_STYLES),
            str(row.get("generation", "-")),
            row.get("reason") or "-",
            row.get("message") or "-",
        )
    return table
