"""Roles, the permissions they grant, and how a token's claim becomes roles.

Every API operation needs one permission (`rest/authorization.py` holds the table); a caller
holds the union of its roles' permissions. Pure: no HTTP, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Final, Literal

__all__ = [
    "ALL_ROLES",
    "GRANTS",
    "NO_ROLES",
    "Permission",
    "Role",
    "RoleName",
    "granting_role",
    "granting_roles",
    "interned",
    "needed_role",
    "roles_from_claim",
]


class Role(StrEnum):
    # Declared from the least to the most privileged: `granting_role` picks the first match.
    VIEWER = "viewer"
    ADAPTER = "adapter"
    EDITOR = "editor"
    ADMIN = "admin"


RoleName = Literal["viewer", "editor", "admin", "adapter"]
"""The role names as the settings spell them (a test keeps it equal to `Role`)."""


class Permission(StrEnum):
    READ = "read"
    """GET/HEAD of resources, statuses, phase history, the watch stream, the active config."""
    WRITE = "write"
    """Create, patch and delete of resources."""
    STATUS = "status"
    """PUT of an adapter status report."""
    ADMIN = "admin"
    """Force-delete and any operations endpoint that changes state."""


GRANTS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.ADAPTER: frozenset({Permission.READ, Permission.STATUS}),
    Role.EDITOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.ADMIN: frozenset(Permission),
}

ALL_ROLES: Final = frozenset(Role)
NO_ROLES: Final[frozenset[Role]] = frozenset()

_NEEDED: Final = {
    Permission.READ: Role.VIEWER,
    Permission.WRITE: Role.EDITOR,
    Permission.STATUS: Role.ADAPTER,
    Permission.ADMIN: Role.ADMIN,
}


def needed_role(permission: Permission) -> Role:
    """The least privileged role granting `permission` (what a 403 detail names)."""
    return _NEEDED[permission]


def granting_role(roles: frozenset[Role], permission: Permission) -> Role | None:
    """The least privileged of `roles` that grants `permission`, or None if none does."""
    for role in Role:
        if role in roles and permission in GRANTS[role]:
            return role
    return None


def _every_role_set() -> dict[frozenset[Role], frozenset[Role]]:
    members = list(Role)
    sets = (
        frozenset(m for i, m in enumerate(members) if mask >> i & 1)
        for mask in range(1 << len(members))
    )
    interned = {s: s for s in sets}
    interned[ALL_ROLES] = ALL_ROLES
    interned[NO_ROLES] = NO_ROLES
    return interned


_INTERNED: Final = _every_role_set()


def interned(roles: frozenset[Role]) -> frozenset[Role]:
    """The one shared instance equal to `roles`.

    The check of every request looks the caller's set up in `granting_roles`: with the same
    instance as the key, the lookup stops at identity instead of comparing the sets member by
    member (each member's hash is Python code: `Enum.__hash__`).
    """
    return _INTERNED[roles]


@cache
def granting_roles(permission: Permission) -> Mapping[frozenset[Role], Role]:
    """`granting_role(roles, permission)` for every set of roles that has one."""
    table: dict[frozenset[Role], Role] = {}
    for roles in _INTERNED.values():
        role = granting_role(roles, permission)
        if role is not None:
            table[roles] = role
    return table


def roles_from_claim(
    value: object,
    *,
    present: bool,
    mapping: Mapping[str, Role],
    default: frozenset[Role],
) -> frozenset[Role]:
    """The roles a token's claim names.

    No claim (`present` false) → `default`. A claim that is a string counts as a one-item list;
    a list contributes each string item. With an empty `mapping` each role name maps to itself;
    with a mapping only its keys count (so an identity provider's arbitrary group called
    `admin` grants nothing unless the operator mapped it). Anything else (unknown names,
    non-strings, other types) grants nothing: such a token is authenticated but forbidden.
    """
    if not present:
        return interned(default)
    items: list[object] = (
        [value] if isinstance(value, str) else (list(value) if isinstance(value, list) else [])
    )
    roles: set[Role] = set()
    for item in items:
        if not isinstance(item, str):
            continue
        role = mapping.get(item) if mapping else _BY_NAME.get(item)
        if role is not None:
            roles.add(role)
    return interned(frozenset(roles))


_BY_NAME: Final = {role.value: role for role in Role}
