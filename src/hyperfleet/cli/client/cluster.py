"""`hyperfleet cluster …`: create, get, list, patch, delete, force-delete, statuses, history.

And `watch`: every change as it happens. The commands are `resource_commands`; here are their
words.
"""

from __future__ import annotations

from hyperfleet.cli.client.resource_commands import Doc, Noun, build

app = build(
    Noun(
        kind="Cluster",
        collection="clusters",
        help="Clusters: create, inspect, change, delete, watch.",
        name_help="Cluster name.",
        id_help="Cluster id.",
        docs={
            "create": Doc(
                "Create a cluster.",
                'hyperfleet cluster create prod-1 --spec \'{"region": "eu"}\' -l env=prod',
            ),
            "get": Doc(
                "Show a cluster: phase, conditions, adapters.",
                "hyperfleet cluster get ID",
                "hyperfleet cluster get ID -o yaml",
            ),
            "list": Doc(
                "List clusters (one page).",
                "hyperfleet cluster list -l env=prod --search \"status.phase = 'Ready'\"",
            ),
            "patch": Doc(
                "Replace a cluster's spec and/or labels.",
                "hyperfleet cluster patch ID --spec '{\"replicas\": 3}'",
            ),
            "delete": Doc(
                "Delete a cluster (and its node pools) once the adapters have finalized.",
                "hyperfleet cluster delete ID",
            ),
            "force-delete": Doc(
                "Remove a cluster being deleted, and its node pools, at once.",
                "hyperfleet cluster force-delete ID --reason 'stuck'",
            ),
            "statuses": Doc(
                "Show each adapter's report: state, conditions, data.",
                "hyperfleet cluster statuses ID",
            ),
            "history": Doc(
                "Show a cluster's phase history, newest first.",
                "hyperfleet cluster history ID",
            ),
            "watch": Doc(
                "Print every change to clusters as it happens, until interrupted.",
                "hyperfleet cluster watch -o json",
                "hyperfleet cluster watch --search \"labels.env = 'prod'\"",
            ),
        },
    )
)
