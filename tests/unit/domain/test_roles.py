"""Roles: what each grants, the role a 403 names, and how a claim becomes roles."""

from __future__ import annotations

from typing import get_args

import pytest

from hyperfleet.domain.roles import (
    ALL_ROLES,
    GRANTS,
    NO_ROLES,
    Permission,
    Role,
    RoleName,
    granting_role,
    granting_roles,
    interned,
    needed_role,
    roles_from_claim,
)

R, W, S, A = Permission.READ, Permission.WRITE, Permission.STATUS, Permission.ADMIN


def test_setting_names_are_the_roles():
    assert set(get_args(RoleName)) == {r.value for r in Role}


def test_grants_as_documented():
    expected = {
        Role.VIEWER: {R},
        Role.EDITOR: {R, W},
        Role.ADAPTER: {R, S},
        Role.ADMIN: {R, W, S, A},
    }
    assert expected == GRANTS


@pytest.mark.parametrize(
    ("permission", "role"),
    [(R, Role.VIEWER), (W, Role.EDITOR), (S, Role.ADAPTER), (A, Role.ADMIN)],
)
def test_needed_role_is_the_least_privileged_granting_one(permission, role):
    assert needed_role(permission) is role
    assert permission in GRANTS[role]


def test_granting_role_unions_and_prefers_the_least_privileged():
    assert granting_role(frozenset({Role.VIEWER, Role.ADAPTER}), S) is Role.ADAPTER
    assert granting_role(frozenset({Role.VIEWER, Role.ADAPTER}), W) is None
    assert granting_role(frozenset({Role.ADMIN, Role.EDITOR}), W) is Role.EDITOR
    assert granting_role(ALL_ROLES, R) is Role.VIEWER
    assert granting_role(ALL_ROLES, A) is Role.ADMIN
    for permission in Permission:
        assert granting_role(NO_ROLES, permission) is None


DEFAULT = frozenset({Role.ADMIN})


@pytest.mark.parametrize(
    ("value", "present", "mapping", "expected"),
    [
        pytest.param(None, False, {}, DEFAULT, id="no-claim-gets-the-default"),
        pytest.param([], True, {}, NO_ROLES, id="empty-list-is-no-roles-not-the-default"),
        pytest.param(["viewer", "adapter"], True, {}, {Role.VIEWER, Role.ADAPTER}, id="names"),
        pytest.param("editor", True, {}, {Role.EDITOR}, id="a-string-is-one-item"),
        pytest.param(["Admin", "root", 3, None], True, {}, NO_ROLES, id="unknown-names"),
        pytest.param({"admin": True}, True, {}, NO_ROLES, id="an-object-grants-nothing"),
        pytest.param(None, True, {}, NO_ROLES, id="null-claim-grants-nothing"),
        pytest.param(
            ["fleet-admins", "ops"],
            True,
            {"fleet-admins": Role.ADMIN, "ops": Role.ADAPTER},
            {Role.ADMIN, Role.ADAPTER},
            id="mapped",
        ),
        pytest.param(
            ["admin", "readers"],
            True,
            {"readers": Role.VIEWER},
            {Role.VIEWER},
            id="with-a-mapping-role-names-are-not-roles-by-themselves",
        ),
    ],
)
def test_roles_from_claim(value, present, mapping, expected):
    assert roles_from_claim(value, present=present, mapping=mapping, default=DEFAULT) == expected


def test_claimed_role_sets_are_the_shared_instances_the_check_looks_up():
    claimed = roles_from_claim(["viewer", "editor"], present=True, mapping={}, default=DEFAULT)
    same = frozenset({Role.EDITOR, Role.VIEWER})
    assert claimed == same
    assert claimed is interned(same)
    assert any(key is claimed for key in granting_roles(Permission.WRITE))
    assert interned(frozenset(Role)) is ALL_ROLES


@pytest.mark.parametrize("permission", list(Permission))
def test_granting_roles_is_granting_role_for_every_set(permission):
    table = granting_roles(permission)
    for roles in {interned(k) for k in table} | {NO_ROLES, ALL_ROLES}:
        assert table.get(roles) == granting_role(roles, permission)
