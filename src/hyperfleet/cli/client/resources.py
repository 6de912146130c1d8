"""What the cluster and node-pool commands do, for any collection path.

`cluster` and `nodepool` (the typer commands) only add their own arguments and call these.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from hyperfleet.cli.client import tables
from hyperfleet.cli.client.render import Output, make_console
from hyperfleet.cli.client.session import run, show, usage_error
from hyperfleet.client import HyperFleetClient
from hyperfleet.client.wire import item_path

SpecOpt = Annotated[
    str | None, typer.Option("--spec", help="The spec as a JSON object.", show_default=False)
]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", "-l", help="A label k=v (repeat for more).", show_default=False),
]
SearchOpt = Annotated[
    str | None,
    typer.Option("--search", help="Search expression (docs/search.md).", show_default=False),
]
WatchOpt = Annotated[
    bool, typer.Option("--watch", "-w", help="Keep the table up to date from the watch stream.")
]
SizeOpt = Annotated[int | None, typer.Option("--size", help="Items per page.", show_default=False)]
PageOpt = Annotated[int | None, typer.Option("--page", help="Page number.", show_default=False)]
CursorOpt = Annotated[
    str | None,
    typer.Option("--cursor", help="Cursor from a previous page's next_cursor.", show_default=False),
]
OrderOpt = Annotated[
    str | None, typer.Option("--order", help="e.g. 'name asc'.", show_default=False)
]


def parse_spec(raw: str | None, option: str = "--spec") -> dict[str, Any] | None:
    """`--spec` (or `option`) as a JSON object; anything else is a usage error."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        usage_error(f"{option}: not valid JSON: {exc}")
    if not isinstance(value, dict):
        usage_error(f"{option}: must be a JSON object")
    return value


def parse_labels(raw: Sequence[str] | None) -> dict[str, str] | None:
    """`--label k=v` options as a mapping; a missing `=` or key is a usage error."""
    if not raw:
        return None
    labels: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key:
            usage_error(f"--label: expected k=v, got {item!r}")
        labels[key] = value
    return labels


def label_search(search: str | None, labels: dict[str, str] | None) -> str | None:
    """`--search` and `--label k=v` as one search expression (every term must hold)."""
    terms = [f"({search})"] if search and labels else ([search] if search else [])
    for key, value in (labels or {}).items():
        quoted = value.replace("'", "''")
        terms.append(f"labels.{key} = '{quoted}'")
    return " and ".join(terms) or None


def create(
    api_url: str | None,
    output: Output,
    collection: str,
    body: dict[str, Any],
) -> None:
    """POST a new resource and show it."""
    response = run(api_url, lambda hf: hf.request("POST", collection, json=body))
    show(response, output, tables.resource_detail)


def get(api_url: str | None, output: Output, collection: str, id_: str) -> None:
    """Show one resource."""
    response = run(api_url, lambda hf: hf.request("GET", item_path(collection, id_)))
    show(response, output, tables.resource_detail)


def list_(
    api_url: str | None,
    output: Output,
    collection: str,
    params: dict[str, Any],
) -> None:
    """Show one page of a collection."""
    response = run(api_url, lambda hf: hf.request("GET", collection, params=params))
    show(response, output, tables.resource_list)


def patch(
    api_url: str | None,
    output: Output,
    collection: str,
    id_: str,
    *,
    spec: dict[str, Any] | None,
    labels: dict[str, str] | None,
) -> None:
    """PATCH spec and/or labels (each replaces what was there)."""
    body: dict[str, Any] = {}
    if spec is not None:
        body["spec"] = spec
    if labels is not None:
        body["labels"] = labels
    if not body:
        usage_error("nothing to change: give --spec and/or --label")
    response = run(api_url, lambda hf: hf.request("PATCH", item_path(collection, id_), json=body))
    show(response, output, tables.resource_detail)


def delete(api_url: str | None, output: Output, collection: str, id_: str) -> None:
    """Soft-delete: the resource is Deleting until its adapters finalize."""
    response = run(api_url, lambda hf: hf.request("DELETE", item_path(collection, id_)))
    show(response, output, tables.resource_detail)


def force_delete(
    api_url: str | None, output: Output, collection: str, id_: str, reason: str
) -> None:
    """Remove a resource being deleted at once (the API answers 204, no body)."""

    async def call(hf: HyperFleetClient) -> None:
        await hf.force_delete(collection, id_, reason)

    run(api_url, call)
    if output is Output.table:
        make_console().print(f"{id_} force-deleted")


def statuses(api_url: str | None, output: Output, collection: str, id_: str) -> None:
    """Every adapter's report: conditions and data."""
    path = f"{item_path(collection, id_)}/statuses"
    response = run(api_url, lambda hf: hf.request("GET", path))
    show(response, output, tables.statuses)


def history(api_url: str | None, output: Output, collection: str, id_: str) -> None:
    """The resource's phase transitions, newest first."""
    path = f"{item_path(collection, id_)}/phase-history"
    response = run(api_url, lambda hf: hf.request("GET", path))
    show(response, output, tables.history)
