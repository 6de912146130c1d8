"""Errors HyperFleet raises on purpose.

    HyperFleetError                     500  HYPERFLEET-INT-001
    ├── ValidationFailed                400  HYPERFLEET-VAL-000  (violations: field-level details)
    │   └── UnprocessableEntity         422  HYPERFLEET-VAL-000  (child kind on a flat route)
    ├── BadRequest                      400  HYPERFLEET-VAL-005  (search, order, empty PATCH)
    ├── MalformedRequest                400  HYPERFLEET-VAL-006  (bad JSON, unknown PATCH field)
    ├── Unauthenticated                 401  HYPERFLEET-AUT-001  (no credentials)
    │   ├── InvalidCredentials          401  HYPERFLEET-AUT-002  (bad scheme, signature, issuer…)
    │   └── InvalidToken                401  HYPERFLEET-AUT-003  (expired token)
    ├── Forbidden                       403  HYPERFLEET-AUZ-001
    ├── EndpointNotFound                404  HYPERFLEET-NTF-000  (no such route)
    ├── NotFound                        404  HYPERFLEET-NTF-001  (no such resource)
    ├── MethodNotAllowed                405  HYPERFLEET-MTH-001  (carries the Allow list)
    ├── Conflict                        409  HYPERFLEET-CNF-001  (duplicate name)
    │   ├── StateConflict               409  HYPERFLEET-CNF-003  (being deleted, not finalizing…)
    │   ├── GenerationConflict          409  HYPERFLEET-CNF-004  (post-MVP strict policy)
    │   └── DependencyConflict          409  HYPERFLEET-CNF-005  (post-MVP adapter dependencies)
    ├── WatchExpired                    410  HYPERFLEET-WCH-001  (watch cannot resume: re-list)
    ├── PreconditionFailed              412  HYPERFLEET-CNF-006  (If-Match mismatch)
    ├── Unavailable                     503  HYPERFLEET-SVC-001  (database unreachable)
    └── Timeout                         504  HYPERFLEET-SVC-002  (statement timeout)

Services and storage raise these; `hyperfleet.rest.problems` is the only place that renders them.
This module imports no framework. `docs/errors.md` lists the same table; a unit test keeps the
two in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar

TYPE_BASE = "https://api.hyperfleet.io/errors/"


@dataclass(frozen=True, slots=True)
class Violation:
    """One field-level problem, rendered as an item of `errors[]`."""

    field: str
    message: str
    constraint: str | None = None
    value: Any = None
    has_value: bool = dataclass_field(default=False, compare=False)

    @classmethod
    def with_value(
        cls, field_: str, message: str, value: Any, constraint: str | None = None
    ) -> Violation:
        return cls(field_, message, constraint, value, has_value=True)


class HyperFleetError(Exception):
    """Root of every error HyperFleet raises on purpose."""

    code: ClassVar[str] = "HYPERFLEET-INT-001"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    slug: ClassVar[str] = "internal-error"

    def __init__(
        self,
        detail: str,
        *,
        violations: Sequence[Violation] = (),
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.violations = tuple(violations)
        self.extensions: dict[str, Any] = dict(extensions or {})

    @property
    def http_status(self) -> int:
        return self.status


class ValidationFailed(HyperFleetError):
    code = "HYPERFLEET-VAL-000"
    status = 400
    title = "Validation Failed"
    slug = "validation-error"


class UnprocessableEntity(ValidationFailed):
    status = 422


class BadRequest(HyperFleetError):
    code = "HYPERFLEET-VAL-005"
    status = 400
    title = "Bad Request"
    slug = "bad-request"


class MalformedRequest(HyperFleetError):
    code = "HYPERFLEET-VAL-006"
    status = 400
    title = "Malformed Request"
    slug = "malformed-request"


class Unauthenticated(HyperFleetError):
    code = "HYPERFLEET-AUT-001"
    status = 401
    title = "Authentication Required"
    slug = "authentication-error"


class InvalidCredentials(Unauthenticated):
    code = "HYPERFLEET-AUT-002"
    title = "Invalid Credentials"


class InvalidToken(Unauthenticated):
    code = "HYPERFLEET-AUT-003"
    title = "Invalid Token"


class Forbidden(HyperFleetError):
    code = "HYPERFLEET-AUZ-001"
    status = 403
    title = "Permission Denied"
    slug = "permission-denied"


class EndpointNotFound(HyperFleetError):
    code = "HYPERFLEET-NTF-000"
    status = 404
    title = "Endpoint Not Found"
    slug = "not-found"


class NotFound(HyperFleetError):
    code = "HYPERFLEET-NTF-001"
    status = 404
    title = "Resource Not Found"
    slug = "not-found"


class MethodNotAllowed(HyperFleetError):
    code = "HYPERFLEET-MTH-001"
    status = 405
    title = "Method Not Allowed"
    slug = "method-not-allowed"

    def __init__(self, detail: str, *, allow: Sequence[str]) -> None:
        super().__init__(detail)
        self.allow = tuple(allow)


class Conflict(HyperFleetError):
    code = "HYPERFLEET-CNF-001"
    status = 409
    title = "Resource Conflict"
    slug = "conflict"


class StateConflict(Conflict):
    code = "HYPERFLEET-CNF-003"
    title = "State Conflict"


class GenerationConflict(Conflict):
    code = "HYPERFLEET-CNF-004"
    title = "Generation Conflict"


class DependencyConflict(Conflict):
    code = "HYPERFLEET-CNF-005"
    title = "Dependency Conflict"


class WatchExpired(HyperFleetError):
    """Sent as the last event of a watch stream (never as a response): list, then watch again."""

    code = "HYPERFLEET-WCH-001"
    status = 410
    title = "Gone"
    slug = "watch-expired"


class PreconditionFailed(HyperFleetError):
    code = "HYPERFLEET-CNF-006"
    status = 412
    title = "Precondition Failed"
    slug = "precondition-failed"


class Unavailable(HyperFleetError):
    code = "HYPERFLEET-SVC-001"
    status = 503
    title = "Service Unavailable"
    slug = "service-unavailable"


class Timeout(HyperFleetError):
    code = "HYPERFLEET-SVC-002"
    status = 504
    title = "Timeout"
    slug = "service-unavailable"


ALL_ERRORS: tuple[type[HyperFleetError], ...] = (
    HyperFleetError,
    ValidationFailed,
    UnprocessableEntity,
    BadRequest,
    MalformedRequest,
    Unauthenticated,
    InvalidCredentials,
    InvalidToken,
    Forbidden,
    EndpointNotFound,
    NotFound,
    MethodNotAllowed,
    Conflict,
    StateConflict,
    GenerationConflict,
    DependencyConflict,
    WatchExpired,
    PreconditionFailed,
    Unavailable,
    Timeout,
)
