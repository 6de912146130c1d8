"""Input rules for resource bodies, labels, names and force-delete reasons.

Messages follow the reference implementation's wording, since clients match on it. Pure: the
functions take decoded JSON values and raise `ValidationFailed` / `MalformedRequest`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hyperfleet.domain.entities import name_limits
from hyperfleet.domain.label_keys import label_key_problem
from hyperfleet.domain.limits import INT64_MAX, INT64_MIN
from hyperfleet.domain.model import EntityDescriptor
from hyperfleet.errors import MalformedRequest, ValidationFailed, Violation

MAX_DEPTH = 64
FORCE_DELETE_REASON_MAX = 1024

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE_RE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?)?$")


_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def may_hold_invalid_values(raw: bytes) -> bool:
    """False when the JSON text `raw` cannot fail `check_body_values`.

    That is: no NUL (escaped or not), no run of 19 digits (the shortest integer outside
    int64), no more brackets than the depth limit. A cheap look at the bytes, so that typical
    bodies skip the walk; True only means "walk".
    """
    return (
        b"\\u0000" in raw
        or b"\x00" in raw
        or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH
        or _LONG_NUMBER.search(raw) is not None
    )


def check_body_values(value: Any, path: str = "") -> None:  # noqa: C901 - one flat type switch
    """Reject what JSONB or consumers cannot hold: NUL, integers outside int64, deep nesting.

    Raises ValidationFailed naming the field.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _invalid(where, f"nesting is deeper than {MAX_DEPTH} levels", "max")
        if isinstance(item, str):
            if "\x00" in item:
                raise _invalid(where, "must not contain NUL characters", "pattern")
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise _invalid(where, "integer is out of range (64-bit)", "max")
        elif isinstance(item, dict):
            for key, sub in item.items():
                if "\x00" in key:
                    raise _invalid(where or "(body)", "keys must not contain NUL characters")
                stack.append((sub, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(item, list):
            stack.extend((sub, f"{where}[{i}]", depth + 1) for i, sub in enumerate(item))


def _invalid(field: str, message: str, constraint: str | None = None) -> ValidationFailed:
    field = field or "(body)"
    return ValidationFailed(
        f"{field} {message}", violations=[Violation(field, message, constraint)]
    )


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedRequest("Request body must be a JSON object")
    return body


def validate_kind(desc: EntityDescriptor, kind: Any) -> None:
    if kind is None or kind == "":
        raise _field("kind", "kind is required", "required")
    if not isinstance(kind, str):
        raise _field("kind", "field 'kind' must be a string", "format")
    if kind != desc.kind:
        raise _field("kind", f"kind must be '{desc.kind}'", "enum", value=kind)


def validate_name(desc: EntityDescriptor, name: Any) -> str:
    if name is None or name == "":
        raise _field("name", "name is required", "required")
    if not isinstance(name, str):
        raise _field("name", "field 'name' must be a string", "format")
    low, high = name_limits(desc)
    if len(name) < low:
        raise _field("name", f"name must be at least {low} characters", "min_length", value=name)
    if len(name) > high:
        raise _field("name", f"name must be at most {high} characters", "max_length", value=name)
    if not NAME_RE.fullmatch(name):
        raise _field(
            "name",
            "name must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character",
            "pattern",
            value=name,
        )
    return name


def validate_spec(body: Mapping[str, Any], *, required: bool) -> dict[str, Any] | None:
    """The body's `spec`: None when absent and optional; present, it must be an object.

    An absent `spec` is "spec is required" on create; a present one that is not an object,
    JSON `null` included, is "spec field must be an object" (create and PATCH alike).
    """
    if "spec" not in body:
        if required:
            raise _field("spec", "spec is required", "required")
        return None
    spec = body["spec"]
    if not isinstance(spec, dict):
        raise _field("spec", "spec field must be an object", "format")
    return spec


def validate_labels(labels: Any) -> dict[str, str]:
    """Kubernetes-style label keys and values; all problems are reported at once."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise _field("labels", "field 'labels' must be an object", "format")
    problems: list[Violation] = []
    for key, value in labels.items():
        where = f"labels[{key}]"
        key_problem = label_key_problem(key)
        if key_problem:
            problems.append(Violation.with_value("labels", key_problem, key, "pattern"))
        if not isinstance(value, str):
            problems.append(Violation(where, "label values must be strings", "format"))
        elif len(value) > 63:  # noqa: PLR2004 - Kubernetes limit
            problems.append(
                Violation.with_value(
                    where, "label value must be at most 63 characters", value, "max_length"
                )
            )
        elif not LABEL_VALUE_RE.fullmatch(value):
            problems.append(
                Violation.with_value(
                    where,
                    "label value must be empty or consist of alphanumeric characters, '-', '_' "
                    "or '.', and must start and end with an alphanumeric character",
                    value,
                    "pattern",
                )
            )
    if problems:
        raise ValidationFailed("label validation failed", violations=problems)
    return {str(k): str(v) for k, v in labels.items()}


def validate_force_delete_reason(body: Any) -> str:
    reason = body.get("reason") if isinstance(body, dict) else None
    if reason is None or reason == "":
        raise _field("reason", "reason is required", "required")
    if not isinstance(reason, str):
        raise _field("reason", "field 'reason' must be a string", "format")
    if not reason.strip():
        raise _field("reason", "reason is required", "required")
    if len(reason) > FORCE_DELETE_REASON_MAX:
        raise _field(
            "reason",
            f"reason must be at most {FORCE_DELETE_REASON_MAX} characters",
            "max_length",
        )
    return reason


PATCHABLE_FIELDS = frozenset({"spec", "labels", "references"})


def validate_patch_fields(body: Mapping[str, Any]) -> None:
    """Strict PATCH decoding: unknown fields → VAL-006, no patchable field → VAL-005."""
    unknown = sorted(k for k in body if k not in PATCHABLE_FIELDS)
    if unknown:
        raise MalformedRequest(
            f"unknown field '{unknown[0]}' in request body",
            violations=[Violation(k, "unknown field") for k in unknown],
        )


def _field(
    field: str, message: str, constraint: str | None = None, *, value: Any = None
) -> ValidationFailed:
    violation = (
        Violation.with_value(field, message, value, constraint)
        if value is not None
        else Violation(field, message, constraint)
    )
    return ValidationFailed(message, violations=[violation])
