"""The domain error hierarchy every service raises; runtime.grpc_server maps it to status codes
in one place and the gateway maps those codes to HTTP statuses in one place."""


class DomainError(Exception):
    """Base of every error a use case raises on purpose. The message is shown to the caller."""


class InvalidArgument(DomainError):
    """The request is malformed or names something impossible (INVALID_ARGUMENT, 422)."""


class NotFound(DomainError):
    """The named thing does not exist (NOT_FOUND, 404)."""


class Conflict(DomainError):
    """The request is valid but the current state forbids it (FAILED_PRECONDITION, 409)."""


class Unauthenticated(DomainError):
    """No valid identity (UNAUTHENTICATED, 401)."""


class PermissionDenied(DomainError):
    """An identity without the right (PERMISSION_DENIED, 403)."""


class ResourceExhausted(DomainError):
    """A limit of the server is reached; retry later, or elsewhere (RESOURCE_EXHAUSTED, 429)."""


class Unavailable(DomainError):
    """A dependency is down; retry later (UNAVAILABLE, 503)."""


class DataLoss(DomainError):
    """Stored bytes no longer match what was recorded of them (DATA_LOSS, a 5xx)."""
