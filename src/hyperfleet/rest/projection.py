"""`fields` projection of stored resource JSON, without decoding what is not kept.

For a field list (dotted paths), `projector` builds once a msgspec Struct type whose leaves are
`msgspec.Raw`: decoding a stored body into it skips every other key and keeps each selected
value as the stored bytes, which are written out as they are. A body whose shape the type does
not fit (a path through a string, an array or null) falls back to the general dict walk of
`params.project`, so both give the same result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import msgspec

from hyperfleet.domain.render import encode
from hyperfleet.rest import params

# A selection tree: key -> None for a kept value, or the tree of its kept sub-keys.
_Tree = dict[str, "_Tree | None"]


def projector(fields: list[str]) -> Callable[[bytes], bytes]:
    """A function mapping a stored body to the JSON of its selected paths."""
    return _build(tuple(fields))


@functools.lru_cache(maxsize=256)
def _build(fields: tuple[str, ...]) -> Callable[[bytes], bytes]:
    tree = _tree(fields)
    decoder = msgspec.json.Decoder(_struct(tree, "Projection"))
    field_list = list(fields)

    def project(body: bytes) -> bytes:
        try:
            lean = decoder.decode(body)
        except msgspec.ValidationError:
            return encode(params.project(msgspec.json.decode(body), field_list))
        return encode(_kept(lean, tree))

    return project


def _tree(fields: tuple[str, ...]) -> _Tree:
    tree: _Tree = {}
    for path in fields:
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if child is None:  # a shorter path already keeps the whole value
                break
            node = child
        else:
            node[parts[-1]] = None
    return tree


def _struct(tree: _Tree, name: str) -> type[msgspec.Struct]:
    attrs = [
        (f"f{i}", msgspec.Raw if sub is None else _struct(sub, f"{name}_{i}"), msgspec.UNSET)
        for i, sub in enumerate(tree.values())
    ]
    rename = {f"f{i}": key for i, key in enumerate(tree)}
    return msgspec.defstruct(name, attrs, rename=rename)


def _kept(lean: msgspec.Struct, tree: _Tree) -> dict[str, Any]:
    """The decoded selection as a dict, without the paths the body did not have."""
    out: dict[str, Any] = {}
    for i, (key, sub) in enumerate(tree.items()):
        value = getattr(lean, f"f{i}")
        if value is msgspec.UNSET:
            continue
        if sub is None:
            out[key] = value
        elif kept := _kept(value, sub):
            out[key] = kept
    return out
