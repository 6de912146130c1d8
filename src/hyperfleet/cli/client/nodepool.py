"""`hyperfleet nodepool …`: the cluster commands for node pools, under `--cluster CID`.

With `--cluster` the nested routes (`/clusters/CID/nodepools/…`) are used; without it (every
command but `create`) the flat ones (`/nodepools/…`), which list or find pools of any cluster.
The commands are `resource_commands`; here are their words.
"""

from __future__ import annotations

from hyperfleet.cli.client.resource_commands import Doc, Noun, build

app = build(
    Noun(
        kind="NodePool",
        collection="nodepools",
        help="Node pools of a cluster (--cluster CID).",
        name_help="Node pool name.",
        id_help="Node pool id.",
        in_cluster=True,
        docs={
            "create": Doc(
                "Create a node pool in a cluster.",
                "hyperfleet nodepool create pool-1 --cluster CID --spec '{\"replicas\": 2}'",
            ),
            "get": Doc(
                "Show a node pool: phase, conditions, adapters.",
                "hyperfleet nodepool get ID --cluster CID -o json",
            ),
            "list": Doc(
                "List node pools (of one cluster with --cluster; one page).",
                "hyperfleet nodepool list --cluster CID -l tier=gpu",
            ),
            "patch": Doc(
                "Replace a node pool's spec and/or labels.",
                "hyperfleet nodepool patch ID --cluster CID --spec '{\"replicas\": 5}'",
            ),
            "delete": Doc(
                "Delete a node pool once its adapters have finalized.",
                "hyperfleet nodepool delete ID --cluster CID",
            ),
            "force-delete": Doc(
                "Remove a node pool being deleted at once.",
                "hyperfleet nodepool force-delete ID --cluster CID --reason stuck",
            ),
            "statuses": Doc(
                "Show each adapter's report: state, conditions, data.",
                "hyperfleet nodepool statuses ID --cluster CID",
            ),
            "history": Doc(
                "Show a node pool's phase history, newest first.",
                "hyperfleet nodepool history ID --cluster CID",
            ),
            "watch": Doc(
                "Print every change to node pools as it happens, until interrupted.",
                "hyperfleet nodepool watch --cluster CID -o json",
            ),
        },
    )
)
