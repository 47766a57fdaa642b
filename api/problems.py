"""Errors as ``application/problem+json`` (RFC 9457): one shape for every refusal,
with the stable ``code`` of the service error behind it and, for validation, the
field errors. Registered on the API as its exception handlers (api.v1)."""

import json
import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from api.error_codes import ApiError, ApiErrorCode
from common.errors import ServiceError
from learners.error_codes import LearnerErrorCode

CONTENT_TYPE = "application/problem+json"
# Service errors about the input itself; every other refusal is a conflict with the
# state of things (an order no longer requested, a learner already deactivated...).
UNPROCESSABLE_CODES = {LearnerErrorCode.INVALID_EMAIL, LearnerErrorCode.INVALID_COLUMN}


def problem(status: int, code: str, detail: str, *, errors=None, headers=None) -> HttpResponse:
    body = {
        "type": "about:blank" if code in GENERIC_CODES else f"urn:licences:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": str(code),
        "errors": errors or [],
    }
    response = HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


GENERIC_CODES = {
    ApiErrorCode.NOT_AUTHENTICATED,
    ApiErrorCode.NOT_FOUND,
    ApiErrorCode.FORBIDDEN,
    ApiErrorCode.RATE_LIMITED,
    ApiErrorCode.SERVER_ERROR,
}


def not_found(detail="Not found.") -> HttpResponse:
    # 404, never 403, for another partner's ids: whether they exist is not told.
    return problem(404, ApiErrorCode.NOT_FOUND, detail)


def validation_problem(errors: list[dict], detail="The request is not valid.") -> HttpResponse:
    return problem(422, ApiErrorCode.VALIDATION_FAILED, detail, errors=errors)


def field_errors_of_form(form_errors, prefix="query") -> list[dict]:
    """A Django form's errors, as field errors."""
    return [
        {
            "field": f"{prefix}.{name}" if name != "__all__" else prefix,
            "message": error["message"],
            "code": error["code"] or "invalid",
        }
        for name, errors in form_errors.get_json_data().items()
        for error in errors
    ]


class NotAuthenticated(Exception):
    pass


class InsufficientScope(Exception):
    pass


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: int):
        super().__init__(retry_after, limit)
        self.retry_after, self.limit = retry_after, limit


class ApiNotFound(Exception):
    """Raised by the endpoints for an id that is not the token's partner's."""


logger = logging.getLogger(__name__)


def _service_error(request, error: ServiceError):
    status = 422 if error.code in UNPROCESSABLE_CODES else 409
    errors = []
    if isinstance(error, ApiError) and error.field:
        status = 422
        errors = [{"field": f"body.{error.field}", "message": error.message, "code": error.code}]
    return problem(status, error.code, error.message, errors=errors)


def _message(error: ValidationError) -> str:
    # As Django's own ValidationError does: a message is a format only when it has params
    # (a message may quote the input, "%" and all).
    return str(error.message % error.params if error.params else error.message)


def _django_validation_error(request, error: ValidationError):
    if hasattr(error, "error_dict"):
        errors = [
            {"field": f"body.{name}", "message": _message(e), "code": e.code or "invalid"}
            for name, messages in error.error_dict.items()
            for e in messages
        ]
    else:
        errors = [{"field": "body", "message": _message(e), "code": e.code or "invalid"} for e in error.error_list]
    return validation_problem(errors, detail=errors[0]["message"] if errors else "The request is not valid.")


def _request_validation_error(request, error: RequestValidationError):
    errors = []
    for item in error.errors:
        parts = [str(part) for part in item.get("loc", ())]
        if parts[:2] == ["body", "body"]:  # ninja names the source, then the argument (always "body")
            del parts[1]
        location = ".".join(parts)
        errors.append(
            {"field": location, "message": item.get("msg", "Invalid value."), "code": item.get("type", "invalid")}
        )
    return validation_problem(errors)


def _http_error(request, error: HttpError):
    if error.status_code == 400:
        return problem(400, ApiErrorCode.MALFORMED_REQUEST, "The request body is not valid JSON.")
    return problem(error.status_code, "http_error", str(error))


def _unexpected(request, error: Exception):
    logger.exception("Unexpected error in the API", exc_info=error)
    return problem(
        500, ApiErrorCode.SERVER_ERROR, "Something went wrong on our side. Nothing may have changed; try again."
    )


HANDLERS = {
    NotAuthenticated: lambda request, error: problem(
        401,
        ApiErrorCode.NOT_AUTHENTICATED,
        "Send a live API token: Authorization: Bearer lic_....",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    ),
    AuthenticationError: lambda request, error: problem(
        401,
        ApiErrorCode.NOT_AUTHENTICATED,
        "Send a live API token: Authorization: Bearer lic_....",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    ),
    InsufficientScope: lambda request, error: problem(
        403, ApiErrorCode.INSUFFICIENT_SCOPE, "This token can only read. Make a read and write token to change things."
    ),
    RateLimited: lambda request, error: problem(
        429,
        ApiErrorCode.RATE_LIMITED,
        f"More than {error.limit} requests a minute with this token. Try again in {error.retry_after} s.",
        headers={"Retry-After": str(error.retry_after)},
    ),
    ApiNotFound: lambda request, error: not_found(str(error) or "Not found."),
    Http404: lambda request, error: not_found(),
    PermissionDenied: lambda request, error: problem(403, ApiErrorCode.FORBIDDEN, str(error) or "Not allowed."),
    RequestDataTooBig: lambda request, error: problem(
        413, ApiErrorCode.REQUEST_TOO_LARGE, "The request body is too large."
    ),
    ServiceError: _service_error,
    ValidationError: _django_validation_error,
    RequestValidationError: _request_validation_error,
    HttpError: _http_error,
    Exception: _unexpected,
}


def respond_to(request, error: Exception) -> HttpResponse:
    """The problem response for ``error``, as the API's exception handlers give it."""
    for cls in type(error).__mro__:
        if cls in HANDLERS:
            return HANDLERS[cls](request, error)
    raise error
