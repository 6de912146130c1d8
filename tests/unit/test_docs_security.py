"""docs/security.md states what the code does: the roles, the route table, the role settings."""

from __future__ import annotations

import re
from pathlib import Path

from hyperfleet.config import AuthSettings
from hyperfleet.domain.roles import GRANTS, Permission, Role
from hyperfleet.rest.authorization import ENTITY_ROUTES, OPERATION_ROUTES

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text(encoding="utf-8")


def _rows(marker: str) -> list[list[str]]:
    match = re.search(rf"<!-- {marker}:start -->\n(.*?)\n<!-- {marker}:end -->", TEXT, re.DOTALL)
    assert match, marker
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in match.group(1).splitlines()
    ]


def test_roles_table_matches_the_grants():
    documented = {
        Role(role.strip("`")): {Permission(p.strip()) for p in permissions.split(",")}
        for role, permissions, _ in _rows("roles-table")
    }
    assert documented == GRANTS


def test_routes_table_matches_the_authorization_table():
    documented: dict[tuple[str, str], Permission] = {}
    for route, method, permission in _rows("routes-table"):
        path = route.strip("`").removeprefix("/{plural}")
        documented[path, method.split()[0]] = Permission(permission)
    expected = {
        (shape, method): permission
        for table in (ENTITY_ROUTES, OPERATION_ROUTES)
        for shape, methods in table.items()
        for method, permission in methods.items()
    }
    assert documented == expected


def test_role_settings_and_defaults_are_documented():
    defaults = AuthSettings()
    for key, default in [
        ("roles_claim", f"`{defaults.roles_claim}`"),
        ("default_roles", f"`[{', '.join(defaults.default_roles)}]`"),
        ("role_mapping", "`{}`"),
    ]:
        assert f"| `auth.{key}` | {default} |" in TEXT, key
    assert "## Tenancy" in TEXT
