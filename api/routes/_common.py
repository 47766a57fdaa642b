"""What every endpoint shares: the customer named in the path, checked against the
token's partner; the acting user; the documented problem responses."""

from django.conf import settings
from django.db import connection

from api.models import ApiToken
from api.problems import ApiNotFound
from api.schemas import Problem
from common.db import PUBLIC, schema_qualified_cursor
from customers.models import Customer

MAX_ID = 2**63 - 1
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


CUSTOMER_FIELDS = [field.attname for field in Customer._meta.concrete_fields]
# customers_of(partner) (partners.services: the partner's active customers) for one id,
# written out as the token's query is (api.tokens): every customer endpoint runs it
# first, the ORM's compiling cost more than the query, and a table named with its
# schema needs no SET search_path (common.db).
_CUSTOMER_SQL = "SELECT {} FROM {}.{} WHERE id = %s AND partner_id = %s AND is_active".format(  # noqa: S608 (names from the model)
    ", ".join(connection.ops.quote_name(name) for name in CUSTOMER_FIELDS),
    PUBLIC,
    connection.ops.quote_name(Customer._meta.db_table),
)


def active_customer(partner, customer_id: int):
    """customers_of(partner).filter(pk=customer_id).first(), in one query without SET
    search_path; its partner is ``partner``."""
    with schema_qualified_cursor() as cursor:
        cursor.execute(_CUSTOMER_SQL, [customer_id, partner.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    customer = Customer.from_db(connection.alias, CUSTOMER_FIELDS, row)
    customer.partner = partner
    return customer


def partner_customer(request, customer_id: int):
    """The token's partner's active customer ``customer_id``, checked on every
    request; any other id (another partner's, or none) is a 404, the same either way."""
    customer = active_customer(partner_of(request), customer_id)
    if customer is None:
        raise ApiNotFound("No such customer.")
    return customer


def limit_param():
    from ninja import Query

    return Query(25, ge=1, le=100, description="Rows per page, at most 100.")


def max_quantity() -> int:
    return settings.LICENCE_ORDER_MAX_QUANTITY
