"""The nine commands of `cluster` and `nodepool`, written once and built per noun.

A `Noun` brings the words (group help, each command's help and examples, the argument help),
the body's `kind` and whether it nests under a cluster. The commands are written with the
node pools' `--cluster` option; for a noun that does not nest it is taken out of the signature
typer reads, so `cluster get --cluster X` stays an unknown option rather than a hidden one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

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

COMMANDS = (
    "create",
    "get",
    "list",
    "patch",
    "delete",
    "force-delete",
    "statuses",
    "history",
    "watch",
)

ClusterOpt = Annotated[
    str | None,
    typer.Option("--cluster", help="The cluster id (nested route).", show_default=False),
]
# `create` needs to know where: a required option with a shorter help.
ParentOpt = Annotated[
    str | None, typer.Option("--cluster", help="The cluster id.", show_default=False)
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (required by the API).")]


class Doc:
    """A command's help line and the examples its help ends with."""

    def __init__(self, help_: str, *examples: str) -> None:
        self.help = help_
        self.epilog = "Example:  " + "  |  ".join(examples)


@dataclass(frozen=True)
class Noun:
    kind: str  # of a created body
    collection: str  # the flat route
    help: str  # the command group's
    name_help: str
    id_help: str
    docs: Mapping[str, Doc]  # one per name in COMMANDS
    in_cluster: bool = False  # takes `--cluster CID`, which selects the nested route

    def path(self, cluster: str | None) -> str:
        return f"clusters/{cluster}/{self.collection}" if cluster else self.collection


def build(noun: Noun) -> typer.Typer:
    """The typer app of `noun`'s commands, in the order of COMMANDS."""
    app = typer.Typer(no_args_is_help=True, help=noun.help)
    arguments = {
        "name": Annotated[str, typer.Argument(help=noun.name_help, show_default=False)],
        "id_": Annotated[str, typer.Argument(help=noun.id_help, show_default=False)],
    }
    commands = _commands(noun)
    for name in COMMANDS:
        doc = noun.docs[name]
        command = _as_typer_sees_it(commands[name], arguments, keep_cluster=noun.in_cluster)
        app.command(name, help=doc.help, epilog=doc.epilog)(command)
    return app


def _as_typer_sees_it(
    fn: Callable[..., None], arguments: Mapping[str, Any], *, keep_cluster: bool
) -> Callable[..., None]:
    """`fn` with the noun's argument annotations and, unless `keep_cluster`, no `cluster`.

    Typer reads `__signature__` and calls by keyword; a dropped `cluster` arrives as None.
    """
    signature = inspect.signature(fn, eval_str=True)
    parameters = [
        p.replace(annotation=arguments.get(p.name, p.annotation))
        for p in signature.parameters.values()
        if keep_cluster or p.name != "cluster"
    ]

    def command(**values: Any) -> None:
        fn(**{"cluster": None, **values})

    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__name__ = command.__qualname__ = fn.__name__
    return command


def _commands(noun: Noun) -> dict[str, Callable[..., None]]:  # noqa: C901 - nine small closures
    path = noun.path

    def create(  # noqa: PLR0917 - typer passes options by position
        name: str,
        cluster: ParentOpt,
        spec: SpecOpt = None,
        label: LabelOpt = None,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        body: dict[str, Any] = {"kind": noun.kind, "name": name, "spec": ops.parse_spec(spec) or {}}
        labels = ops.parse_labels(label)
        if labels is not None:
            body["labels"] = labels
        ops.create(api_url, output, path(cluster), body)

    def get(
        id_: str,
        cluster: ClusterOpt = None,
        watch: WatchOpt = False,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        if watch:
            watching.live_get(api_url, output, path(cluster), id_)
        else:
            ops.get(api_url, output, path(cluster), id_)

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
        expr = ops.label_search(search, ops.parse_labels(label))
        params = {"search": expr, "size": size, "page": page, "cursor": cursor, "order": order}
        if watch:
            watching.live_list(api_url, output, path(cluster), params)
        else:
            ops.list_(api_url, output, path(cluster), params)

    def patch(  # noqa: PLR0917 - typer passes options by position
        id_: str,
        cluster: ClusterOpt = None,
        spec: SpecOpt = None,
        label: LabelOpt = None,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        spec_, labels = ops.parse_spec(spec), ops.parse_labels(label)
        ops.patch(api_url, output, path(cluster), id_, spec=spec_, labels=labels)

    def delete(
        id_: str,
        cluster: ClusterOpt = None,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        ops.delete(api_url, output, path(cluster), id_)

    def force_delete(
        id_: str,
        reason: ReasonOpt,
        cluster: ClusterOpt = None,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        ops.force_delete(api_url, output, path(cluster), id_, reason)

    def statuses(
        id_: str,
        cluster: ClusterOpt = None,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        ops.statuses(api_url, output, path(cluster), id_)

    def history(
        id_: str,
        cluster: ClusterOpt = None,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        ops.history(api_url, output, path(cluster), id_)

    def watch(
        cluster: ClusterOpt = None,
        search: SearchOpt = None,
        label: LabelOpt = None,
        api_url: ApiUrlOpt = None,
        output: OutputOpt = Output.table,
    ) -> None:
        expr = ops.label_search(search, ops.parse_labels(label))
        watching.events(api_url, output, path(cluster), expr)

    return {
        "create": create,
        "get": get,
        "list": list_,
        "patch": patch,
        "delete": delete,
        "force-delete": force_delete,
        "statuses": statuses,
        "history": history,
        "watch": watch,
    }
