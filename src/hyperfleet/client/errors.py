"""Typed errors for API answers (problem+json) and for transport failures.

ApiError                      any error status (4xx/5xx)
├── BadRequestError           400
├── UnauthorizedError         401
├── ForbiddenError            403
├── NotFoundError             404
├── ConflictError             409
├── PreconditionFailedError   412
├── UnprocessableError        422
└── ServerError               5xx
    └── ServiceUnavailableError  503
ClientConnectionError         no HTTP answer (after retries)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

_PROBLEM_MEMBERS = frozenset({"code", "title", "detail", "errors"})
_MAX_TEXT_DETAIL = 500


@dataclass(frozen=True, slots=True)
class FieldError:
    """One item of a problem's `errors[]`: which field is wrong and why."""

    field: str
    message: str
    constraint: str | None = None


class ApiError(Exception):
    """The API answered with an error status.

    `code`, `title`, `detail` and `errors` come from the problem+json body; every other member
    of the body (e.g. `current_generation`, `observed_generation`, `blocked_by`, `trace_id`) is
    in `extensions`. `body` is the response body exactly as received.
    """

    def __init__(
        self,
        status: int,
        *,
        code: str | None = None,
        title: str | None = None,
        detail: str = "",
        errors: Sequence[FieldError] = (),
        extensions: Mapping[str, Any] | None = None,
        body: bytes = b"",
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors: list[FieldError] = list(errors)
        self.extensions: dict[str, Any] = dict(extensions or {})
        self.body = body
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        head = f"{self.code or f'HTTP {self.status}'}: {self.detail}"
        if not self.errors:
            return head
        fields = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{head} [{fields}]"

    def __str__(self) -> str:
        return self._one_line()


class BadRequestError(ApiError):
    """400: the request's body or query is invalid (see `errors`)."""


class UnauthorizedError(ApiError):
    """401: missing, invalid or expired token."""


class ForbiddenError(ApiError):
    """403: the token is valid but not allowed to do this."""


class NotFoundError(ApiError):
    """404: no such resource (or route)."""


class ConflictError(ApiError):
    """409: duplicate name, resource being deleted, generation or dependency conflict."""


class PreconditionFailedError(ApiError):
    """412: the `If-Match` ETag no longer matches the resource."""


class UnprocessableError(ApiError):
    """422: well-formed but not acceptable here (e.g. a child kind on a flat route)."""


class ServerError(ApiError):
    """5xx: the server failed."""


class ServiceUnavailableError(ServerError):
    """503: the server (or its database) is unavailable for now."""


class UnexpectedResponseError(ApiError):
    """A success status whose body is not what the API sends.

    Not JSON, not a list envelope, a repeated cursor: usually something other than HyperFleet
    (a proxy, a wrong base URL) answered.
    """


class ClientConnectionError(Exception):
    """No HTTP answer: connection refused, reset, timed out (after the retries allowed)."""

    def __init__(self, url: str, message: str, *, attempts: int = 1) -> None:
        self.url = url
        self.attempts = attempts
        super().__init__(f"{message} ({url}, {attempts} attempt{'s' if attempts != 1 else ''})")


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    422: UnprocessableError,
    503: ServiceUnavailableError,
}


def error_class(status: int) -> type[ApiError]:
    """The most specific error class for an HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:  # noqa: PLR2004 - the 5xx class
        return ServerError
    return ApiError


def _field_errors(raw: Any) -> list[FieldError]:
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw:
        if isinstance(item, dict):
            constraint = item.get("constraint")
            out.append(
                FieldError(
                    field=str(item.get("field", "")),
                    message=str(item.get("message", "")),
                    constraint=constraint if isinstance(constraint, str) else None,
                )
            )
    return out


def _text_detail(body: bytes, reason: str) -> str:
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return reason
    return " ".join(text.split())[:_MAX_TEXT_DETAIL]


def error_from_response(status: int, body: bytes, *, reason: str = "") -> ApiError:
    """Map an error response to a typed error; a non-JSON body still gives status and detail."""
    cls = error_class(status)
    try:
        data = msgspec.json.decode(body) if body else None
    except msgspec.DecodeError:
        data = None
    if not isinstance(data, dict):
        return cls(status, detail=_text_detail(body, reason), body=body)
    code, title, detail = data.get("code"), data.get("title"), data.get("detail")
    return cls(
        status,
        code=code if isinstance(code, str) else None,
        title=title if isinstance(title, str) else None,
        detail=detail if isinstance(detail, str) else (title or reason),
        errors=_field_errors(data.get("errors")),
        extensions={k: v for k, v in data.items() if k not in _PROBLEM_MEMBERS},
        body=body,
    )
