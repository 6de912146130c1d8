"""The client commands of `hyperfleet`: cluster, nodepool, status, contexts, completion.

They talk to a running API through `hyperfleet.client` only. See docs/cli.md.
"""

from __future__ import annotations

import typer

from hyperfleet.cli.client import cluster, completion, contexts, nodepool, status
from hyperfleet.cli.client.header_option import add_header_option


def register(app: typer.Typer, config_app: typer.Typer) -> None:
    """Add the client commands to the root app and the context commands to `config`."""
    for group in (cluster.app, nodepool.app, status.app):
        add_header_option(group)
    app.add_typer(cluster.app, name="cluster")
    app.add_typer(nodepool.app, name="nodepool")
    app.add_typer(status.app, name="status")
    app.command("completion", epilog=completion.EPILOG)(completion.completion)
    contexts.register(config_app)
