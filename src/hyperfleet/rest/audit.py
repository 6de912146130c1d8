"""The audit fields of a write's access line: who, in which tenant, as what role, on what.

Reads keep the plain access line; only POST, PATCH, PUT and DELETE pay for these fields.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.types import Scope

from hyperfleet.rest.authorization import ROLE_KEY

WRITE_METHODS: Final = frozenset({"POST", "PATCH", "PUT", "DELETE"})

RESOURCE_ID_KEY: Final = "resource_id"
"""`scope["state"]` key: the id a create assigned (a create's path names no id)."""


def audit_fields(scope: Scope, state: dict[str, Any], *, default_actor: str) -> dict[str, str]:
    """`actor`, `tenant`, `role` and `resource_id` of a write; `""` where there is none.

    `default_actor` is the actor of a request without an identity: the system actor when auth
    is off, `""` when the request was refused before it was authenticated.
    """
    tenancy = state.get("tenancy")
    role = state.get(ROLE_KEY)
    path_params = scope.get("path_params") or {}
    return {
        "actor": state.get("identity") or default_actor,
        # `CallerTenancy.label` (domain.tenancy); None when tenancy is off.
        "tenant": getattr(tenancy, "label", "") if tenancy is not None else "",
        "role": str(role) if role is not None else "",
        "resource_id": state.get(RESOURCE_ID_KEY) or path_params.get("id", ""),
    }
