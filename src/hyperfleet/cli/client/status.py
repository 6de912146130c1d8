"""`hyperfleet status report …`: post an adapter's status report by hand.

The report carries `Available`, `Applied` and `Health` (Applied and Health default to `True`),
`observed_time` now, and a non-empty reason and message on every condition (the API's contract
requires them): `--reason` / `--message`, else `ManualReport` and "reported with the hyperfleet
CLI".
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from hyperfleet.cli.client import tables
from hyperfleet.cli.client.render import Output
from hyperfleet.cli.client.resources import parse_spec
from hyperfleet.cli.client.session import ApiUrlOpt, OutputOpt, run, show
from hyperfleet.client.wire import item_path

app = typer.Typer(no_args_is_help=True, help="Adapter status reports.")

DEFAULT_REASON = "ManualReport"
DEFAULT_MESSAGE = "reported with the hyperfleet CLI"


class Kind(StrEnum):
    """What the report is about."""

    cluster = "cluster"
    nodepool = "nodepool"


class ConditionStatus(StrEnum):
    """A condition's status."""

    true = "True"
    false = "False"
    unknown = "Unknown"


def _status_opt(name: str, help_: str) -> Any:
    return typer.Option(name, help=help_, case_sensitive=False)


def build_report(
    adapter: str,
    generation: int,
    *,
    available: ConditionStatus,
    applied: ConditionStatus,
    health: ConditionStatus,
    reason: str | None,
    message: str | None,
    data: dict[str, Any] | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The PUT body: three conditions with reason and message, observed now."""
    observed = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conditions = [
        {
            "type": type_,
            "status": str(status),
            "reason": reason or DEFAULT_REASON,
            "message": message or DEFAULT_MESSAGE,
        }
        for type_, status in (("Available", available), ("Applied", applied), ("Health", health))
    ]
    report: dict[str, Any] = {
        "adapter": adapter,
        "observed_generation": generation,
        "observed_time": observed,
        "conditions": conditions,
    }
    if data is not None:
        report["data"] = data
    return report


@app.command(
    epilog="Example:  hyperfleet status report cluster ID --adapter dns --generation 1 "
    "--available True --reason Resolved --message 'records in place'"
)
def report(  # noqa: PLR0917 - typer passes options by position
    kind: Annotated[Kind, typer.Argument(help="cluster or nodepool.")],
    id_: Annotated[str, typer.Argument(help="Resource id.", show_default=False)],
    adapter: Annotated[str, typer.Option("--adapter", help="Adapter name.", show_default=False)],
    generation: Annotated[
        int, typer.Option("--generation", help="The generation observed.", show_default=False)
    ],
    available: Annotated[
        ConditionStatus, _status_opt("--available", "Available: True, False or Unknown.")
    ],
    applied: Annotated[ConditionStatus, _status_opt("--applied", "Applied.")] = (
        ConditionStatus.true
    ),
    health: Annotated[ConditionStatus, _status_opt("--health", "Health.")] = ConditionStatus.true,
    reason: Annotated[
        str | None, typer.Option("--reason", help=f"Every condition's reason [{DEFAULT_REASON}].")
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", help="Every condition's message.")
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", help="The report's data, a JSON object.")
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster", help="The node pool's cluster (nested route).", show_default=False
        ),
    ] = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """PUT an adapter's status report for a cluster or node pool."""
    body = build_report(
        adapter,
        generation,
        available=available,
        applied=applied,
        health=health,
        reason=reason,
        message=message,
        data=parse_spec(data, "--data"),
    )
    if kind is Kind.cluster:
        collection = "clusters"
    else:
        collection = f"clusters/{cluster}/nodepools" if cluster else "nodepools"
    path = f"{item_path(collection, id_)}/statuses"
    response = run(api_url, lambda hf: hf.request("PUT", path, json=body))
    show(
        response,
        output,
        tables.status_report,
        empty="report not stored (204): the API discarded it (see docs/api.md, Status reports)",
    )
