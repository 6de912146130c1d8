"""A complete SDK adapter: is the cluster's `spec.region` one we serve?"""

from __future__ import annotations

from hyperfleet.adapters import Adapter, Context, Outcome, TerminalError
from hyperfleet.client.types import Resource

SERVED_REGIONS = frozenset({"eu-west-1", "us-east-1"})


class RegionCheck(Adapter):
    """Ready when `spec.region` is served, Failed when it is not, unhealthy when it is missing."""

    async def reconcile(self, resource: Resource, ctx: Context) -> Outcome:
        region = resource["spec"].get("region")
        if not isinstance(region, str):
            # Retrying cannot help: reported as Health=False, the event is ACKed.
            raise TerminalError("RegionMissing", "spec.region must be a string")
        if region not in SERVED_REGIONS:
            return Outcome.failed("RegionUnsupported", f"region {region} is not served")
        ctx.log.info("region checked", region=region)
        return Outcome.ready(
            f"region {region} is served", reason="RegionSupported", data={"region": region}
        )

    async def finalize(self, resource: Resource, ctx: Context) -> Outcome:
        # Nothing was created, so nothing is left to delete.
        return Outcome.cleaned_up(f"{ctx.adapter} holds nothing for {resource['id']}")
