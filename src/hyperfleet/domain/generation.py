"""Which changes bump a resource's generation.

Spec changes are compared semantically (key order and number spelling do not matter, but a
boolean is never equal to a number); label sets are compared as maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def json_equal(a: Any, b: Any) -> bool:
    """Semantic JSON equality: 1 == 1.0, True != 1, dict key order ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def is_effective_change(
    *,
    old_spec: Mapping[str, Any],
    new_spec: Mapping[str, Any] | None,
    old_labels: Mapping[str, str],
    new_labels: Mapping[str, str] | None,
) -> bool:
    """True when a PATCH changes the spec or the label set (either may be absent: no change)."""
    spec_changed = new_spec is not None and not json_equal(dict(old_spec), dict(new_spec))
    labels_changed = new_labels is not None and dict(old_labels) != dict(new_labels)
    return spec_changed or labels_changed
