"""`hyperfleet nodepool …`: the cluster commands for node pools, under `--cluster CID`.

With `--cluster` the nested routes (`/clusters/CID/nodepools/…`) are used; without it (every
command but `create`) the flat ones (`/nodepools/…`), which list or find pools of any cluster.
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

app = typer.Typer(no_args_is_help=True, help="Node pools of a cluster (--cluster CID).")

IdArg = Annotated[str, typer.Argument(help="Node pool id.", show_default=False)]
ClusterOpt = Annotated[
    str | None,
    typer.Option("--cluster", help="The cluster id (nested route).", show_default=False),
]


def _collection(cluster: str | None) -> str:
    return f"clusters/{cluster}/nodepools" if cluster else "nodepools"


def _example(*lines: str) -> str:
    return "Example:  " + "  |  ".join(lines)


@app.command(
    epilog=_example("hyperfleet nodepool create pool-1 --cluster CID --spec '{\"replicas\": 2}'")
)
def create(  # noqa: PLR0917 - typer passes options by position
    name: Annotated[str, typer.Argument(help="Node pool name.", show_default=False)],
    cluster: Annotated[str, typer.Option("--cluster", help="The cluster id.", show_default=False)],
    spec: SpecOpt = None,
    label: LabelOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Create a node pool in a cluster."""
    body = {"kind": "NodePool", "name": name, "spec": ops.parse_spec(spec) or {}}
    labels = ops.parse_labels(label)
    if labels is not None:
        body["labels"] = labels
    ops.create(api_url, output, _collection(cluster), body)


@app.command(epilog=_example("hyperfleet nodepool get ID --cluster CID -o json"))
def get(
    id_: IdArg,
    cluster: ClusterOpt = None,
    watch: WatchOpt = False,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show a node pool: phase, conditions, adapters."""
    if watch:
        watching.live_get(api_url, output, _collection(cluster), id_)
    else:
        ops.get(api_url, output, _collection(cluster), id_)


@app.command("list", epilog=_example("hyperfleet nodepool list --cluster CID -l tier=gpu"))
def list_(  # noqa: PLR0917 - typer passes options by position
    cluster: ClusterOpt = None,
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
    """List node pools (of one cluster with --cluster; one page)."""
    expr = ops.label_search(search, ops.parse_labels(label))
    params = {"search": expr, "size": size, "page": page, "cursor": cursor, "order": order}
    if watch:
        watching.live_list(api_url, output, _collection(cluster), params)
    else:
        ops.list_(api_url, output, _collection(cluster), params)


@app.command(
    epilog=_example("hyperfleet nodepool patch ID --cluster CID --spec '{\"replicas\": 5}'")
)
def patch(  # noqa: PLR0917 - typer passes options by position
    id_: IdArg,
    cluster: ClusterOpt = None,
    spec: SpecOpt = None,
    label: LabelOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Replace a node pool's spec and/or labels."""
    ops.patch(
        api_url,
        output,
        _collection(cluster),
        id_,
        spec=ops.parse_spec(spec),
        labels=ops.parse_labels(label),
    )


@app.command(epilog=_example("hyperfleet nodepool delete ID --cluster CID"))
def delete(
    id_: IdArg,
    cluster: ClusterOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Delete a node pool once its adapters have finalized."""
    ops.delete(api_url, output, _collection(cluster), id_)


@app.command(
    "force-delete",
    epilog=_example("hyperfleet nodepool force-delete ID --cluster CID --reason stuck"),
)
def force_delete(
    id_: IdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (required by the API).")],
    cluster: ClusterOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Remove a node pool being deleted at once."""
    ops.force_delete(api_url, output, _collection(cluster), id_, reason)


@app.command(epilog=_example("hyperfleet nodepool statuses ID --cluster CID"))
def statuses(
    id_: IdArg,
    cluster: ClusterOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show each adapter's report: state, conditions, data."""
    ops.statuses(api_url, output, _collection(cluster), id_)


@app.command(epilog=_example("hyperfleet nodepool history ID --cluster CID"))
def history(
    id_: IdArg,
    cluster: ClusterOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show a node pool's phase history, newest first."""
    ops.history(api_url, output, _collection(cluster), id_)


@app.command(epilog=_example("hyperfleet nodepool watch --cluster CID -o json"))
def watch(
    cluster: ClusterOpt = None,
    search: SearchOpt = None,
    label: LabelOpt = None,
    api_url: ApiUrlOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Print every change to node pools as it happens, until interrupted."""
    expr = ops.label_search(search, ops.parse_labels(label))
    watching.events(api_url, output, _collection(cluster), expr)
