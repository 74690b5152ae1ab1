"""One error hierarchy for the whole product.

The API maps each class to an HTTP status in one table (`fluxops.api.errors`); the CLI prints
``message`` on one line. ``details`` carries machine-readable context (offending ids, field names).
"""

from __future__ import annotations

from typing import Any


class FluxOpsError(Exception):
    """Base of every error the product raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class NotFoundError(FluxOpsError):
    """Raised when a requested id (asset, outage, job, ...) does not exist."""

    code = "not_found"


class InvalidInputError(FluxOpsError):
    """Raised when a caller's input is malformed or out of range; ``details['field']`` names it."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None):
        merged = dict(details or {})
        if field is not None:
            merged.setdefault("field", field)
        super().__init__(message, details=merged)
        self.field = field


class TopologyError(FluxOpsError):
    """Raised when a grid violates a structural rule; ``details['ids']`` lists offending element ids."""

    code = "topology_error"

    def __init__(self, message: str, *, ids: list[str] | None = None, details: dict[str, Any] | None = None):
        merged = dict(details or {})
        if ids is not None:
            merged["ids"] = list(ids)[:100]
            merged["count"] = len(ids)
        super().__init__(message, details=merged)
        self.ids = list(ids or [])


class ImportDataError(FluxOpsError):
    """Raised when an external network (pandapower, SimBench) cannot be converted; names element and field."""

    code = "import_error"


class PayloadTooLargeError(FluxOpsError):
    """Raised when a request body exceeds the configured size limit; ``details['limit_bytes']`` names it."""

    code = "payload_too_large"


class ConflictError(FluxOpsError):
    """Raised when a request conflicts with the current state (illegal state transition, duplicate id)."""

    code = "conflict"


class CapabilityError(FluxOpsError):
    """Raised when an optional capability (extra not installed, backend not configured) is missing."""

    code = "not_available"


class AuthError(FluxOpsError):
    """Raised when a caller is not authenticated (no or invalid credentials)."""

    code = "unauthenticated"


class PermissionDeniedError(FluxOpsError):
    """Raised when an authenticated caller lacks the role a route requires."""

    code = "forbidden"


class StorageError(FluxOpsError):
    """Raised when the store fails in a way the caller cannot fix (connection lost, corrupt file)."""

    code = "storage_error"
