"""Typed HyperFleet API client (async, with a thin sync wrapper).

The Sentinel, the adapter SDK and the CLI talk to the API only through this package.
See docs/client.md.
"""

from hyperfleet.client.api import API_PREFIX, DEFAULT_USER_AGENT, HyperFleetClient
from hyperfleet.client.errors import (
    ApiError,
    BadRequestError,
    ClientConnectionError,
    ConflictError,
    FieldError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ServerError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnexpectedResponseError,
    UnprocessableError,
)
from hyperfleet.client.retry import RetryPolicy
from hyperfleet.client.sync import SyncHyperFleetClient
from hyperfleet.client.tokens import TokenFile
from hyperfleet.client.types import (
    AdapterCondition,
    AdapterStatus,
    AdapterSummary,
    Condition,
    OwnerReference,
    Page,
    PhaseTransition,
    Resource,
    ResourceStatus,
)
from hyperfleet.client.watch import WatchEvent, WatchExpiredError

__all__ = [
    "API_PREFIX",
    "DEFAULT_USER_AGENT",
    "AdapterCondition",
    "AdapterStatus",
    "AdapterSummary",
    "ApiError",
    "BadRequestError",
    "ClientConnectionError",
    "Condition",
    "ConflictError",
    "FieldError",
    "ForbiddenError",
    "HyperFleetClient",
    "NotFoundError",
    "OwnerReference",
    "Page",
    "PhaseTransition",
    "PreconditionFailedError",
    "Resource",
    "ResourceStatus",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "SyncHyperFleetClient",
    "TokenFile",
    "UnauthorizedError",
    "UnexpectedResponseError",
    "UnprocessableError",
    "WatchEvent",
    "WatchExpiredError",
]
