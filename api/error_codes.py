"""Stable codes of the errors the API's own services raise (tokens, webhooks), and of
the API's refusals that are not any domain's (the problem+json ``code``)."""

from enum import StrEnum

from common.errors import ServiceError


class ApiErrorCode(StrEnum):
    # Tokens
    INVALID_TOKEN_NAME = "invalid_token_name"
    INVALID_TOKEN_EXPIRY = "invalid_token_expiry"
    TOKEN_ALREADY_REVOKED = "token_already_revoked"
    # Webhooks
    INVALID_WEBHOOK_URL = "invalid_webhook_url"
    WEBHOOK_URL_REFUSED = "webhook_url_refused"
    NO_WEBHOOK_EVENTS = "no_webhook_events"
    ENDPOINT_DISABLED = "endpoint_disabled"
    # Requests
    NOT_AUTHENTICATED = "not_authenticated"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    VALIDATION_FAILED = "validation_failed"
    MALFORMED_REQUEST = "malformed_request"
    REQUEST_TOO_LARGE = "request_too_large"
    INVALID_CURSOR = "invalid_cursor"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    SERVER_ERROR = "server_error"


class ApiError(ServiceError):
    """A request about API tokens or webhooks that the rules refuse; nothing changed.
    ``field`` names the form or body field it is about, when there is one."""

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message, code=code)
        self.field = field
