"""The partner API, version 1: django-ninja builds the OpenAPI document from the
typed endpoints (api.routes) and serves it with an HTML reference, every asset from
the project's own static files.

Every operation needs a bearer token (api.auth); every error is problem+json
(api.problems); every POST honours Idempotency-Key (api.idempotency)."""

from ninja import NinjaAPI, Swagger

from api import problems
from api.cursors import BadCursor
from api.idempotency import HEADER, KEY_PATTERN, idempotent
from api.routes import allocations, customers, learners, orders, reports

DESCRIPTION = """
Everything the partner dashboard does, for the partner's own tools.

**Tokens.** Make one on the dashboard's API page and send it as `Authorization: Bearer lic_...`.
A read token can only read; a read and write token can change things. A token acts as the partner,
through the manager who made it.

**Customers in the path.** Every customer id is checked against the token's partner on every request.
Another partner's ids get 404, exactly as ids that do not exist.

**Lists** are paged with a cursor: pass `next_cursor` back as `cursor` until it is null.

**Errors** are `application/problem+json` (RFC 9457) with a stable `code` and, for validation, `errors`.

**Retries.** Send an `Idempotency-Key` with a POST: a retry with the same key acts once and gets the
first response again (kept for 24 hours).

**Rate limit.** Each token may make a set number of requests a minute (600 by default); past it the
answer is 429 with `Retry-After`.
"""


class PartnerAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """The document, with what ninja does not say itself: errors as problem+json,
        the Idempotency-Key header on every POST, Retry-After on 429."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema["paths"].values():
            for method, operation in methods.items():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {problems.CONTENT_TYPE: content["application/json"]}
                    if str(status) == "429":
                        response["headers"] = {
                            "Retry-After": {
                                "description": "Seconds until the limit resets.",
                                "schema": {"type": "integer"},
                            }
                        }
                if method == "post":
                    operation.setdefault("parameters", []).append(
                        {
                            "in": "header",
                            "name": HEADER,
                            "required": False,
                            "description": "Makes a retried POST act once; the first response is replayed.",
                            "schema": {"type": "string", "pattern": KEY_PATTERN, "maxLength": 255},
                        }
                    )
        return schema


api = PartnerAPI(
    title="Licences partner API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    openapi_url="/v1/openapi.json",
    docs_url="/docs",
    # No validator badge: Swagger UI would fetch it from swagger.io. No deep links:
    # they put a link inside each operation's button (axe: nested-interactive).
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False, "deepLinking": False}),
)
for exception, handler in problems.HANDLERS.items():
    api.add_exception_handler(exception, handler)
api.add_exception_handler(BadCursor, lambda request, error: error.response())
api.add_decorator(idempotent, mode="view")
for module in (customers, orders, learners, allocations, reports):
    api.add_router("/v1", module.router)
