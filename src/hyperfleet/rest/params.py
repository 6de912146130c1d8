"""Query-string and body parsing shared by the routes: page/size, fields, JSON bodies."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request

from hyperfleet.domain.cursor import invalid_cursor
from hyperfleet.domain.validation import check_body_values, may_hold_invalid_values
from hyperfleet.errors import MalformedRequest, ValidationFailed, Violation

MAX_PAGE = 100_000
MAX_SIZE = 100
DEFAULT_SIZE = 20
MAX_BODY_BYTES = 1024 * 1024

RESOURCE_FIELDS = frozenset(
    {
        "id",
        "kind",
        "name",
        "href",
        "spec",
        "labels",
        "generation",
        "owner_references",
        "references",
        "created_time",
        "updated_time",
        "created_by",
        "updated_by",
        "deleted_time",
        "deleted_by",
        "status",
    }
)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValidationFailed(
            "Invalid query parameters",
            violations=[
                Violation.with_value(name, "must be a valid integer", raw, "format"),
            ],
        ) from None
    if value < low:
        raise ValidationFailed(
            "Invalid query parameters",
            violations=[
                Violation.with_value(name, f"{name} must be at least {low}", value, "min"),
            ],
        )
    if value > high:
        raise ValidationFailed(
            "Invalid query parameters",
            violations=[
                Violation.with_value(name, f"{name} must be at most {high}", value, "max"),
            ],
        )
    return value


def page_and_size(request: Request) -> tuple[int, int]:
    return (
        _int_param(request, "page", 1, 1, MAX_PAGE),
        _int_param(request, "size", DEFAULT_SIZE, 1, MAX_SIZE),
    )


def cursor_param(request: Request) -> str | None:
    """The `cursor` to continue a list from; None when absent or empty.

    A cursor names its own position, so combining it with `page` is a 400 naming `cursor`.
    """
    token = request.query_params.get("cursor")
    if not token:
        return None
    if request.query_params.get("page"):
        raise invalid_cursor("cursor cannot be combined with page")
    return token


def multi_values(request: Request, name: str) -> list[str]:
    """A comma list or repeated parameter, flattened, blanks dropped."""
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        out.extend(part.strip() for part in raw.split(",") if part.strip())
    return out


def fields_param(request: Request) -> list[str] | None:
    """The `fields` projection, validated; `id` is always included. None when absent."""
    if not request.scope.get("query_string") or "fields" not in request.query_params:
        return None
    fields = multi_values(request, "fields")
    unknown = [f for f in fields if f.split(".", 1)[0] not in RESOURCE_FIELDS or f.endswith(".")]
    if unknown:
        raise ValidationFailed(
            f"The following field(s) doesn't exist in `Resource`: {', '.join(unknown)}",
            violations=[Violation.with_value("fields", "unknown field", f) for f in unknown],
        )
    if "id" not in fields:
        fields.insert(0, "id")
    return fields


def project(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Keep only the listed (possibly dotted) paths of a rendered resource."""
    out: dict[str, Any] = {}
    for path in fields:
        parts = path.split(".")
        source: Any = item
        for part in parts:
            if not isinstance(source, dict) or part not in source:
                source = msgspec.UNSET
                break
            source = source[part]
        if source is msgspec.UNSET:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = source
    return out


async def json_body(request: Request, *, required: bool = True) -> Any:
    """Decode the request body; malformed JSON is VAL-006, NUL/huge ints are VAL-000."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationFailed(
            f"Request body is larger than {MAX_BODY_BYTES} bytes",
            violations=[Violation("(body)", "request body is too large", "max")],
        )
    if not raw.strip():
        if not required:
            return None
        raise MalformedRequest("Request body is empty")
    try:
        body = msgspec.json.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise MalformedRequest("Invalid JSON in request body") from None
    except RecursionError:
        raise ValidationFailed(
            "(body) nesting is too deep",
            violations=[Violation("(body)", "nesting is too deep", "max")],
        ) from None
    if may_hold_invalid_values(raw):
        check_body_values(body)
    return body


def object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedRequest("Request body must be a JSON object")
    return body
