"""Licence orders: the partner's list with the Requested Orders filters, one order,
request (for a customer), assign, cancel. Every change is the services' own
(licences.services), so the rules, the audit log and the emails are the pages'."""

from datetime import date
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import QueryDict
from ninja import Path, Query, Router, Status

from accounts.models import Role, User
from api.auth import read_token, write_token
from api.cursors import Ordering, page, page_of
from api.problems import ApiNotFound, field_errors_of_form, validation_problem
from api.routes._common import (
    CHANGE_PROBLEMS,
    COMMON_PROBLEMS,
    MAX_ID,
    acting_user,
    partner_customer,
    partner_of,
)
from api.schemas import ORDER_VALUES, OrderIn, OrderList, OrderOut, json_time, list_response, order_dict
from api.tokens import active_customer
from common.db import public_table, schema_qualified_cursor
from customers.models import Customer
from licences import services
from licences.filters import ANY_STATUS, CUSTOMER_MANAGERS, RequestedOrderFilter, requested_by
from licences.models import LicenceOrder
from licences.services import partner_orders
from partners.services import customers_of, partner_managers

router = Router(tags=["Orders"])
NEWEST_FIRST = Ordering("requested_at", "id", descending=True, first_is_time=True)


def _column(alias, model, name):
    return f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)}"


# partner_managers(partner).filter(pk=user_id).exists(), written out (no SET search_path).
_IS_PARTNER_MANAGER_SQL = "SELECT 1 FROM {} u WHERE u.id = %s AND {} = %s AND {} = %s".format(  # noqa: S608
    public_table(User), _column("u", User, "partner"), _column("u", User, "role")
)


def _is_partner_manager(partner, user_id: int) -> bool:
    with schema_qualified_cursor() as cursor:
        cursor.execute(_IS_PARTNER_MANAGER_SQL, [user_id, partner.pk, Role.PARTNER_MANAGER.value])
        return cursor.fetchone() is not None


# The list with no filter but its status (and a customer), written out as the token's
# query is (api.tokens): the API's most common call, whose building and compiling by
# the ORM took four times the CPU of reading its rows, and, its tables named with
# their schema, without SET search_path (common.db). The rows of
# partner_orders(partner) with the Status filter's rule ("any": every status) as
# .values(*ORDER_VALUES), in NEWEST_FIRST: tests/api/test_orders.py holds it to the
# filter set's own answer, page for page.
_ORDER_COLUMNS = ", ".join(
    _column("c", Customer, "name")
    if name == "customer__name"
    else _column("u", User, name.removeprefix("requested_by__"))
    if name.startswith("requested_by__")
    else _column("o", LicenceOrder, name)
    for name in ORDER_VALUES
)
_ORDERS_FROM = (
    f"{public_table(LicenceOrder)} o JOIN {public_table(Customer)} c ON c.id = o.customer_id "
    f"JOIN {public_table(User)} u ON u.id = o.requested_by_id"
)
_REQUESTED_AT, _ID = _column("o", LicenceOrder, "requested_at"), _column("o", LicenceOrder, "id")


def _orders_of_status(partner, status: str, cursor: str | None, limit: int, *, customer=None):
    """A page of the partner's orders in ``status`` ("any": all), of one of its
    customers if given, newest first."""
    where, params = [f"{_column('c', Customer, 'partner')} = %s"], [partner.pk]
    if customer is not None:
        where.append(f"{_column('o', LicenceOrder, 'customer')} = %s")
        params.append(customer.pk)
    if status != ANY_STATUS:
        where.append(f"{_column('o', LicenceOrder, 'status')} = %s")
        params.append(status)
    if cursor:
        where.append(NEWEST_FIRST.sql_after(_REQUESTED_AT, _ID))
        params += NEWEST_FIRST.sql_params(cursor)
    sql = (
        f"SELECT {_ORDER_COLUMNS} FROM {_ORDERS_FROM} WHERE {' AND '.join(where)} "  # noqa: S608 (names from the models)
        f"ORDER BY {NEWEST_FIRST.sql_order_by(_REQUESTED_AT, _ID)} LIMIT %s"
    )
    with schema_qualified_cursor() as cursor_:
        cursor_.execute(sql, [*params, limit + 1])
        rows = [dict(zip(ORDER_VALUES, row, strict=True)) for row in cursor_.fetchall()]
    return page_of(rows, NEWEST_FIRST, limit)


def _one(partner, order_id) -> dict:
    values = partner_orders(partner).filter(pk=order_id).values(*ORDER_VALUES).first()
    if values is None:
        raise ApiNotFound("No such order.")
    return order_dict(values)


@router.get("/orders", response={200: OrderList, **COMMON_PROBLEMS}, auth=read_token)
def list_orders(
    request,
    customer: int | None = Query(None, ge=1, le=MAX_ID, description="One of your customers' ids."),
    status: Literal["requested", "assigned", "cancelled", "any"] = Query(
        "requested", description="Requested Orders shows requested orders unless told otherwise."
    ),
    requested_from: date | None = Query(None, description="On the customer's calendar, from 2000-01-01."),
    requested_to: date | None = Query(None, description="On the customer's calendar, until 2999-12-31."),
    quantity_min: int | None = Query(None, ge=1, le=settings.LICENCE_ORDER_MAX_QUANTITY),
    quantity_max: int | None = Query(None, ge=1, le=settings.LICENCE_ORDER_MAX_QUANTITY),
    requester: str | None = Query(
        None,
        pattern=r"^(customers|[1-9][0-9]{0,17})$",
        description="`customers` (their managers) or a partner manager's id.",
    ),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(25, ge=1, le=100),
):
    """The partner's orders across its customers, newest first, with the same filters as Requested Orders."""
    partner = partner_of(request)
    filters = {
        name: value.isoformat() if isinstance(value, date) else str(value)
        for name, value in (
            ("customer", customer),
            ("requested_from", requested_from),
            ("requested_to", requested_to),
            ("quantity_min", quantity_min),
            ("quantity_max", quantity_max),
            ("requester", requester),
        )
        if value is not None
    }
    # A customer or requester the form would accept is applied here, checked without
    # the query the form's check costs; any other is left to the form, for its error.
    chosen = active_customer(partner, customer) if customer is not None else None
    if chosen is not None:
        del filters["customer"]
    requester_chosen = requester is not None and (
        requester == CUSTOMER_MANAGERS or _is_partner_manager(partner, int(requester))
    )
    if requester_chosen:
        del filters["requester"]
    if not filters and not requester_chosen:  # nothing for the form to check (the schema checked the status)
        found = _orders_of_status(partner, status, cursor, limit, customer=chosen)
    else:
        orders = partner_orders(partner)
        if chosen is not None:
            orders = orders.filter(customer=chosen)
        if requester_chosen:
            orders = requested_by(orders, requester)
        data = QueryDict(mutable=True)
        data.update({"status": status, **filters})
        filterset = RequestedOrderFilter(
            data, orders, customers=customers_of(partner), managers=partner_managers(partner)
        )
        if not filterset.is_valid():
            return validation_problem(field_errors_of_form(filterset.form.errors))
        found = page(filterset.qs.values(*ORDER_VALUES), NEWEST_FIRST, cursor, limit)
    return list_response([order_dict(row, json_time) for row in found.rows], found.next_cursor)


@router.get("/orders/{order_id}", response={200: OrderOut, **COMMON_PROBLEMS}, auth=read_token)
def get_order(request, order_id: int = Path(..., ge=1, le=MAX_ID)):
    return _one(partner_of(request), order_id)


@router.post("/customers/{customer_id}/orders", response={201: OrderOut, **CHANGE_PROBLEMS}, auth=write_token)
def request_order(request, body: OrderIn, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    """Request Licences for a customer: a new order in state requested, to assign when ready."""
    customer = partner_customer(request, customer_id)
    try:
        order = services.request_order(customer, body.quantity, acting_user=acting_user(request))
    except ValidationError as error:
        raise ValidationError({"quantity": error.error_list}) from None
    return Status(201, _one(partner_of(request), order.pk))


def _act(request, action, order_id):
    partner = partner_of(request)
    try:
        order = action(order_id, acting_user=acting_user(request), partner=partner)
    except LicenceOrder.DoesNotExist:
        raise ApiNotFound("No such order.") from None
    return _one(partner, order.pk)


@router.post("/orders/{order_id}/assign", response={200: OrderOut, **CHANGE_PROBLEMS}, auth=write_token)
def assign_order(request, order_id: int = Path(..., ge=1, le=MAX_ID)):
    """Assign a requested order: its licences are valid for 12 calendar months from now, and the customer's
    managers are emailed. `order_not_requested` (409) if it is no longer requested."""
    return _act(request, services.assign_order, order_id)


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, **CHANGE_PROBLEMS}, auth=write_token)
def cancel_order(request, order_id: int = Path(..., ge=1, le=MAX_ID)):
    """Cancel a requested order. `order_not_requested` (409) if it is no longer requested."""
    return _act(request, services.cancel_order, order_id)
