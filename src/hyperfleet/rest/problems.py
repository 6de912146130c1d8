"""The one place that renders errors as RFC 9457 `application/problem+json`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from hyperfleet.errors import TYPE_BASE, HyperFleetError, MethodNotAllowed

PROBLEM_JSON = "application/problem+json"

_encoder = msgspec.json.Encoder()


def problem_body(error: HyperFleetError, *, instance: str, trace_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + error.slug,
        "title": error.title,
        "status": error.http_status,
        "detail": error.detail,
        "instance": instance,
        "code": error.code,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "trace_id": trace_id,
    }
    if error.violations:
        items = []
        for v in error.violations:
            item: dict[str, Any] = {"field": v.field}
            if v.has_value:
                item["value"] = v.value
            if v.constraint is not None:
                item["constraint"] = v.constraint
            item["message"] = v.message
            items.append(item)
        body["errors"] = items
    for key, value in error.extensions.items():
        body.setdefault(key, value)
    return body


def render_problem(
    error: HyperFleetError, *, instance: str, trace_id: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers, body) for an error."""
    payload = _encoder.encode(problem_body(error, instance=instance, trace_id=trace_id))
    headers = [(b"content-type", PROBLEM_JSON.encode())]
    if isinstance(error, MethodNotAllowed):
        headers.append((b"allow", ", ".join(error.allow).encode()))
    return error.http_status, headers, payload
