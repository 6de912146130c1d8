"""OpenAPI additions for the post-MVP status engine: new schema fields, endpoints, responses.

Applied by `hyperfleet.rest.openapi.build_document` to the served copy of the contract.
"""

from __future__ import annotations

from typing import Any

_PREFIX = "/api/hyperfleet/v1"
_REF = "#/components/schemas/"

_ADAPTER_STATES = ["Finalized", "Unhealthy", "Ready", "Failed", "Provisioning", "Pending"]
_PHASES = ["Deleting", "Degraded", "Failed", "Ready", "Provisioning", "Pending"]


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": _REF + "ProblemDetails"}}},
    }


SCHEMAS: dict[str, Any] = {
    "AdapterState": {
        "type": "string",
        "enum": _ADAPTER_STATES,
        "description": "Derived from an adapter report's conditions; first matching row wins: "
        "Finalized (Finalized=True), Unhealthy (Health=False), Ready (Available=True), Failed "
        "(Available=False, Applied=True, reason not progressing), Provisioning (Applied=True), "
        "Pending.",
    },
    "ResourcePhase": {"type": "string", "enum": _PHASES},
    "AdapterSummary": {
        "type": "object",
        "required": ["adapter", "state", "required", "blocked_by"],
        "properties": {
            "adapter": {"type": "string"},
            "state": {"$ref": _REF + "AdapterState"},
            "required": {"type": "boolean"},
            "observed_generation": {"type": "integer", "format": "int32"},
            "last_report_time": {"type": "string", "format": "date-time"},
            "blocked_by": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Dependencies not Ready at the current generation.",
            },
        },
    },
    "PhaseTransition": {
        "type": "object",
        "required": ["to_phase", "generation", "reason", "message", "time"],
        "properties": {
            "from_phase": {"allOf": [{"$ref": _REF + "ResourcePhase"}], "nullable": True},
            "to_phase": {"$ref": _REF + "ResourcePhase"},
            "generation": {"type": "integer", "format": "int32"},
            "reason": {"type": "string"},
            "message": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
        },
    },
    "PhaseHistoryList": {
        "type": "object",
        "required": ["page", "size", "total", "items"],
        "properties": {
            "page": {"type": "integer", "format": "int32"},
            "size": {"type": "integer", "format": "int32"},
            "total": {"type": "integer", "format": "int32"},
            "items": {"type": "array", "items": {"$ref": _REF + "PhaseTransition"}},
        },
        "description": "Phase changes, newest first.",
    },
    "AggregationConfig": {
        "type": "object",
        "required": ["loaded_time", "entities"],
        "properties": {
            "loaded_time": {"type": "string", "format": "date-time"},
            "source": {"type": "string", "nullable": True},
            "entities": {"type": "array", "items": {"type": "object"}},
        },
        "description": "The active status-engine configuration per kind.",
    },
}

_STATUS_FIELDS: dict[str, Any] = {
    "phase": {"$ref": _REF + "ResourcePhase"},
    "phase_reason": {"type": "string"},
    "phase_message": {"type": "string"},
    "last_phase_transition_time": {"type": "string", "format": "date-time"},
    "adapters": {"type": "array", "items": {"$ref": _REF + "AdapterSummary"}},
}

_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Apply only if the resource's current ETag is listed (or `*`); else 412.",
    "schema": {"type": "string"},
}

_ETAG_HEADER = {
    "ETag": {
        "description": 'Strong validator "<generation>-<updated_time as epoch micros>".',
        "schema": {"type": "string"},
    }
}


_SINGLE_RESOURCE = frozenset({"Cluster", "NodePool", "NodePoolCreateResponse", "Resource"})


def _phase_history_operation(op_id: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": "List phase transitions, newest first",
            "parameters": [
                *params,
                {"$ref": "#/components/parameters/QueryParams.page"},
                {"$ref": "#/components/parameters/QueryParams.size"},
            ],
            "responses": {
                "200": {
                    "description": "Phase history.",
                    "content": {
                        "application/json": {"schema": {"$ref": _REF + "PhaseHistoryList"}}
                    },
                },
                "400": _problem("Invalid page or size."),
                "404": _problem("No such resource."),
                "default": _problem("An unexpected error response."),
            },
            "tags": ["Resources"],
        }
    }


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def apply(doc: dict[str, Any]) -> None:
    """Add the status engine's fields, endpoints and responses to `doc` in place."""
    schemas = doc["components"]["schemas"]
    schemas.update(SCHEMAS)
    for name in ("ClusterStatus", "NodePoolStatus", "ResourceStatus"):
        schemas[name].setdefault("properties", {}).update(_STATUS_FIELDS)
    schemas["AdapterStatus"]["properties"]["state"] = {"$ref": _REF + "AdapterState"}
    request = schemas["AdapterStatusCreateRequest"]["properties"]
    request["state"] = {
        "$ref": _REF + "AdapterState",
        "description": "Optional; must agree with the conditions.",
    }
    request["ready"] = {
        "type": "boolean",
        "description": "Optional; must equal (Available == True).",
    }

    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if method in {"patch", "delete"} and "{" in path and not path.endswith("statuses"):
                op.setdefault("parameters", []).append(_IF_MATCH)
                responses["412"] = _problem("If-Match did not match the current ETag.")
            if path.endswith("/statuses") and method == "put":
                responses["409"] = _problem(
                    "HYPERFLEET-CNF-004: observed_generation does not match (strict policy); "
                    "HYPERFLEET-CNF-005: a dependency is not Ready (blocked_by)."
                )
            for code in ("200", "201", "202"):
                response = responses.get(code, {})
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                if schema.get("$ref", "").removeprefix(_REF) in _SINGLE_RESOURCE:
                    response.setdefault("headers", {}).update(_ETAG_HEADER)

    histories = {
        f"{_PREFIX}/clusters/{{cluster_id}}/phase-history": (
            "getClusterPhaseHistory",
            [_path_param("cluster_id")],
        ),
        f"{_PREFIX}/clusters/{{cluster_id}}/nodepools/{{nodepool_id}}/phase-history": (
            "getNodePoolPhaseHistory",
            [_path_param("cluster_id"), _path_param("nodepool_id")],
        ),
        f"{_PREFIX}/nodepools/{{nodepool_id}}/phase-history": (
            "getNodePoolPhaseHistoryFlat",
            [_path_param("nodepool_id")],
        ),
        f"{_PREFIX}/resources/{{resource_id}}/phase-history": (
            "getResourcePhaseHistory",
            [_path_param("resource_id")],
        ),
    }
    for path, (op_id, params) in histories.items():
        doc["paths"][path] = _phase_history_operation(op_id, params)
    doc["paths"][f"{_PREFIX}/aggregation-config"] = {
        "get": {
            "operationId": "getAggregationConfig",
            "summary": "The active aggregation configuration and its load time",
            "responses": {
                "200": {
                    "description": "Active configuration.",
                    "content": {
                        "application/json": {"schema": {"$ref": _REF + "AggregationConfig"}}
                    },
                },
                "default": _problem("An unexpected error response."),
            },
            "tags": ["Resources"],
        }
    }
