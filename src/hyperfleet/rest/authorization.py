"""The authorization table: every API route and method → the permission it needs.

Handlers are wrapped when the routes are built (`guarded`), so the check costs no lookup on a
request: the permission is bound to the handler, and the caller's roles are in
`scope["state"]["roles"]` (set by the middleware). A handler the table does not name cannot be
registered, so a new route fails at start-up instead of being open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from hyperfleet.domain.roles import NO_ROLES, Permission, Role, granting_roles, needed_role
from hyperfleet.errors import Forbidden

Handler = Callable[[Request], Awaitable[Response]]

READ, WRITE, STATUS, ADMIN = Permission.READ, Permission.WRITE, Permission.STATUS, Permission.ADMIN

ENTITY_ROUTES: Final[Mapping[str, Mapping[str, Permission]]] = {
    # Relative to each collection: /{plural}, /{parent_plural}/{parent_id}/{plural}, /resources.
    "": {"GET": READ, "POST": WRITE},  # GET includes ?watch=true
    "/{id}": {"GET": READ, "PATCH": WRITE, "DELETE": WRITE},
    "/{id}/force-delete": {"POST": ADMIN},
    "/{id}/statuses": {"GET": READ, "PUT": STATUS},
    "/{id}/phase-history": {"GET": READ},
}
"""Routes of every entity kind. HEAD follows GET."""

OPERATION_ROUTES: Final[Mapping[str, Mapping[str, Permission]]] = {
    "/aggregation-config": {"GET": READ},
}
"""Operations routes below the API base that need a role. The OpenAPI document, its HTML page
and the Swagger UI assets need none; health, metrics and the console are outside the API."""

ROLE_KEY: Final = "role"
"""`scope["state"]` key: the role that allowed the request (the audit field `role`)."""


def authorize(state: dict[str, Any], permission: Permission) -> None:
    """Raise `Forbidden` unless the caller's roles grant `permission`; record the granting role.

    No roles in the state (a request that bypassed the middleware) means no permission.
    """
    _check(state, granting_roles(permission), permission)


def _check(
    state: dict[str, Any], granting: Mapping[frozenset[Role], Role], permission: Permission
) -> None:
    role = granting.get(state.get("roles", NO_ROLES))
    if role is None:
        message = f"this operation needs the {needed_role(permission)} role"
        raise Forbidden(message)
    state[ROLE_KEY] = role


def guarded(shape: Mapping[str, Permission], handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """`handlers` by method, each checking its permission from `shape` first.

    Raises:
        ValueError: a method has a handler but no permission, or a permission but no handler.
    """
    if set(shape) != set(handlers):
        msg = f"authorization table {dict(shape)} does not match the handlers {sorted(handlers)}"
        raise ValueError(msg)
    return {method: _guard(shape[method], handler) for method, handler in handlers.items()}


def _guard(permission: Permission, handler: Handler) -> Handler:
    granting = granting_roles(permission)

    async def checked(request: Request) -> Response:
        _check(request.scope.setdefault("state", {}), granting, permission)
        return await handler(request)

    return checked
