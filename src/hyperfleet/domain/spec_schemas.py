"""Optional per-kind validation of `spec` against schemas from an OpenAPI document.

A kind with `spec_schema_name: ClusterSpec` has its spec validated against
`components.schemas.ClusterSpec` of the document given by `server.spec_schema_path`. Loading the
file is the caller's job; this module only compiles and applies the schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hyperfleet.domain.model import EntityDescriptor
from hyperfleet.errors import ValidationFailed, Violation

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


class SpecSchemas:
    """Compiled spec validators by kind. An empty instance validates nothing."""

    def __init__(self, validators: Mapping[str, tuple[str, Draft202012Validator]]) -> None:
        self._validators = dict(validators)

    @classmethod
    def empty(cls) -> SpecSchemas:
        return cls({})

    @classmethod
    def from_openapi(
        cls, document: Mapping[str, Any], kinds: Iterable[EntityDescriptor]
    ) -> SpecSchemas:
        """Compile every kind's `spec_schema_name`; a missing or invalid schema is a ValueError."""
        # Imported here: jsonschema costs ~11 MB resident and most deployments set no schema.
        from jsonschema import Draft202012Validator  # noqa: PLC0415
        from jsonschema.exceptions import SchemaError  # noqa: PLC0415

        schemas = document.get("components", {}).get("schemas", {})
        validators: dict[str, tuple[str, Draft202012Validator]] = {}
        for desc in kinds:
            name = desc.spec_schema_name
            if not name:
                continue
            if name not in schemas:
                msg = f"entities({desc.kind}).spec_schema_name: no schema {name!r} in the document"
                raise ValueError(msg)
            root = {**document, "$ref": f"#/components/schemas/{name}"}
            try:
                Draft202012Validator.check_schema(schemas[name])
            except SchemaError as exc:
                raise ValueError(
                    f"entities({desc.kind}).spec_schema_name: schema {name!r} is invalid: "
                    f"{exc.message}"
                ) from exc
            validators[desc.kind] = (name, Draft202012Validator(root))
        return cls(validators)

    def validate(self, kind: str, spec: Mapping[str, Any]) -> None:
        entry = self._validators.get(kind)
        if entry is None:
            return
        name, validator = entry
        problems = sorted(validator.iter_errors(dict(spec)), key=lambda e: list(e.absolute_path))
        if problems:
            violations = [
                Violation(
                    "spec" + "".join(f".{p}" for p in err.absolute_path), err.message, "format"
                )
                for err in problems
            ]
            raise ValidationFailed(f"Invalid {name}", violations=violations)
