"""What every endpoint shares: the customer named in the path, checked against the
token's partner; the acting user; the documented problem responses."""

from django.conf import settings

from api.models import ApiToken
from api.problems import ApiNotFound
from api.schemas import MAX_ID, Problem  # noqa: F401 (MAX_ID: the routes' import)
from api.tokens import active_customer

# Every operation may answer these (schemathesis holds the API to this list).
COMMON_PROBLEMS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}
# And every change these: a malformed body, one too large, a state that refuses it.
CHANGE_PROBLEMS = {**COMMON_PROBLEMS, 400: Problem, 409: Problem, 413: Problem}


def token_of(request) -> ApiToken:
    return request.auth


def acting_user(request):
    """Whom the services see acting: the partner manager who made the token."""
    return token_of(request).created_by


def partner_of(request):
    return token_of(request).partner


def partner_customer(request, customer_id: int):
    """The token's partner's active customer ``customer_id``, checked on every
    request (read with the token when the path names it: api.auth); any other id
    (another partner's, or none) is a 404, the same either way."""
    token = token_of(request)
    read_id, customer = getattr(token, "customer_read", (None, None))
    if read_id != customer_id:
        customer = active_customer(token.partner, customer_id)
    if customer is None:
        raise ApiNotFound("No such customer.")
    return customer


def limit_param():
    from ninja import Query

    return Query(25, ge=1, le=100, description="Rows per page, at most 100.")


def max_quantity() -> int:
    return settings.LICENCE_ORDER_MAX_QUANTITY
