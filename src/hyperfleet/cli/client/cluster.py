"""`hyperfleet cluster …`: create, get, list, patch, delete, force-delete, statuses, history.

And `watch`: every change as it happens.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hyperfleet.cli.client import resources as ops
from hyperfleet.cli.client import watching
from hyperfleet.cli.client.render import Output
from hyperfleet.cli.client.resources import (
    CursorOpt,
    LabelOpt,
    OrderOpt,
    PageOpt,
    SearchOpt,
    SizeOpt,
    SpecOpt,
    WatchOpt,
)
from hyperfleet.cli.client.session import ApiUrlOpt, OutputOpt

app = typer.Typer(no_args_is_help=True, help="Clusters: create, inspect, change, delete, watch.")

COLLECTION = "clusters"
IdArg = Annotated[str, typer.Argument(help="Cluster id.", show_default=False)]


def _example(*lines: str) -> str:
    return "Example:  " + "  |  ".join(lines)


@app.command(
    epilog=_example('hyperfleet cluster create prod-1 --spec \'{"region": "eu"}\' -l env=prod')
)
def create(
    name: Annotated[str, typer.Argument(help="Cluster name.", show_default=False)],
    spec: SpecOpt = None,
    label: LabelOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Create a cluster."""
    body = {"kind": "Cluster", "name": name, "spec": ops.parse_spec(spec) or {}}
    labels = ops.parse_labels(label)
    if labels is not None:
        body["labels"] = labels
    ops.create(api_url, output, COLLECTION, body)


@app.command(epilog=_example("hyperfleet cluster get ID", "hyperfleet cluster get ID -o yaml"))
def get(
    id_: IdArg,
    watch: WatchOpt = False,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show a cluster: phase, conditions, adapters."""
    if watch:
        watching.live_get(api_url, output, COLLECTION, id_)
    else:
        ops.get(api_url, output, COLLECTION, id_)


@app.command(
    "list",
    epilog=_example("hyperfleet cluster list -l env=prod --search \"status.phase = 'Ready'\""),
)
def list_(  # noqa: PLR0917 - typer passes options by position
    search: SearchOpt = None,
    label: LabelOpt = None,
    size: SizeOpt = None,
    page: PageOpt = None,
    cursor: CursorOpt = None,
    order: OrderOpt = None,
    watch: WatchOpt = False,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """List clusters (one page)."""
    expr = ops.label_search(search, ops.parse_labels(label))
    params = {"search": expr, "size": size, "page": page, "cursor": cursor, "order": order}
    if watch:
        watching.live_list(api_url, output, COLLECTION, params)
    else:
        ops.list_(api_url, output, COLLECTION, params)


@app.command(epilog=_example("hyperfleet cluster patch ID --spec '{\"replicas\": 3}'"))
def patch(
    id_: IdArg,
    spec: SpecOpt = None,
    label: LabelOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Replace a cluster's spec and/or labels."""
    ops.patch(
        api_url, output, COLLECTION, id_, spec=ops.parse_spec(spec), labels=ops.parse_labels(label)
    )


@app.command(epilog=_example("hyperfleet cluster delete ID"))
def delete(id_: IdArg, api_url: ApiUrlOpt = None, output: OutputOpt = Output.table) -> None:
    """Delete a cluster (and its node pools) once the adapters have finalized."""
    ops.delete(api_url, output, COLLECTION, id_)


@app.command("force-delete", epilog=_example("hyperfleet cluster force-delete ID --reason 'stuck'"))
def force_delete(
    id_: IdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (required by the API).")],
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Remove a cluster being deleted, and its node pools, at once."""
    ops.force_delete(api_url, output, COLLECTION, id_, reason)


@app.command(epilog=_example("hyperfleet cluster statuses ID"))
def statuses(id_: IdArg, api_url: ApiUrlOpt = None, output: OutputOpt = Output.table) -> None:
    """Show each adapter's report: state, conditions, data."""
    ops.statuses(api_url, output, COLLECTION, id_)


@app.command(epilog=_example("hyperfleet cluster history ID"))
def history(id_: IdArg, api_url: ApiUrlOpt = None, output: OutputOpt = Output.table) -> None:
    """Show a cluster's phase history, newest first."""
    ops.history(api_url, output, COLLECTION, id_)


@app.command(
    epilog=_example(
        "hyperfleet cluster watch -o json",
        "hyperfleet cluster watch --search \"labels.env = 'prod'\"",
    )
)
def watch(
    search: SearchOpt = None,
    label: LabelOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Print every change to clusters as it happens, until interrupted."""
    expr = ops.label_search(search, ops.parse_labels(label))
    watching.events(api_url, output, COLLECTION, expr)
