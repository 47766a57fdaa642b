"""Licence orders: the partner's list with the Requested Orders filters, one order,
request (for a customer), assign, cancel. Every change is the services' own
(licences.services), so the rules, the audit log and the emails are the pages'."""

from datetime import UTC, date, datetime
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from ninja import Path, Query, Router, Status

from accounts.models import User
from api.auth import read_token, write_token
from api.cursors import CompiledPages, Ordering, page
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
from common.db import PUBLIC
from customers.models import Customer
from licences import services
from licences.filters import CUSTOMER_MANAGERS, RequestedOrderFilter, earliest_requested_at, latest_requested_at
from licences.models import LicenceOrder
from licences.services import partner_orders
from partners.models import Partner
from partners.services import customers_of, partner_managers

router = Router(tags=["Orders"])
NEWEST_FIRST = Ordering("requested_at", "id", descending=True, first_is_time=True)


def _filtered_orders(status, filters, partner, **values):
    """The partner's orders through the Requested Orders filters' own methods
    (``values``: a value for each of ``filters``, checked), as the list's rows."""
    orders = partner_orders(Partner(pk=partner))
    filterset = RequestedOrderFilter(None, orders, customers=Customer.objects.none(), managers=User.objects.none())
    orders = filterset.filters["status"].filter(orders, status)
    for name in filters:
        value = values[name]
        orders = filterset.filters[name].filter(orders, Customer(pk=value) if name == "customer" else value)
    return orders.values(*ORDER_VALUES)


def _choices_checked(status, filters, partner, **values):
    """What only the filter set can check without the form: a customer chosen is one
    of the partner's active ones, a requester one of its managers (or the
    customers')."""
    partner = Partner(pk=partner)
    checks = [customers_of(partner).filter(pk=values["customer"])] if "customer" in filters else []
    if "requester" in filters and values["requester"] != CUSTOMER_MANAGERS:
        checks.append(partner_managers(partner).filter(pk=values["requester"]))
    return checks


# The list's SQL, compiled once per shape (api.cursors): its parameters are the
# partner, the filters' values and, for the dates, the bounds the filters read the
# index with (licences.filters).
ORDER_PAGES = CompiledPages(
    _filtered_orders,
    NEWEST_FIRST,
    [
        *(lambda v, name=name: v[name] for name in ("partner", "customer", "quantity_min", "quantity_max")),
        lambda v: v["requested_from"],
        lambda v: earliest_requested_at(v["requested_from"]),
        lambda v: v["requested_to"],
        lambda v: latest_requested_at(v["requested_to"]),
        lambda v: int(v["requester"]),
    ],
    first_sample=datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
    tables={LicenceOrder: PUBLIC, Customer: PUBLIC, User: PUBLIC, Partner: PUBLIC},
    guards=_choices_checked,
)
_SAMPLES = {
    "partner": 2**62 + 101,
    "customer": 2**62 + 102,
    "quantity_min": 2_000_000_103,  # a PositiveIntegerField: below 2**31
    "quantity_max": 2_000_000_104,
    "requested_from": date(2987, 1, 2),
    "requested_to": date(2988, 3, 4),
    "requester": str(2**62 + 105),
}


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
    given = {
        name: value
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
    found = _checked_page(partner, status, given, cursor, limit)
    if found is None:  # refused: the filter set's own answer, with every field's error
        filterset = _filter_set(partner, status, given)
        if not filterset.is_valid():
            return validation_problem(field_errors_of_form(filterset.form.errors))
        found = page(filterset.qs.values(*ORDER_VALUES), NEWEST_FIRST, cursor, limit)  # a choice made since
    return list_response([order_dict(row, json_time) for row in found.rows], found.next_cursor)


def _query(status, given) -> QueryDict:
    data = QueryDict(mutable=True)
    data.update({"status": status, **{name: _text(value) for name, value in given.items()}})
    return data


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _filter_set(partner, status, given):
    return RequestedOrderFilter(
        _query(status, given),
        partner_orders(partner),
        customers=customers_of(partner),
        managers=partner_managers(partner),
    )


def _checked_page(partner, status, given, cursor, limit):
    """The page, or None if the filter set would refuse the filters: the values
    without a choice of the partner's are checked by the filter set's own form, the
    customer and the requester in the page's statement (ORDER_PAGES' guards)."""
    plain = {name: value for name, value in given.items() if name not in ("customer", "requester")}
    values = dict(given)
    if plain:
        form = RequestedOrderFilter.form_without_choices(_query(status, plain))
        if not form.is_valid():
            return None
        values.update({name: form.cleaned_data[name] for name in plain})
    fixed = {"status": status, "filters": tuple(sorted(given))}
    samples = _SAMPLES
    if given.get("requester") == CUSTOMER_MANAGERS:  # a filter of its own, without a value
        fixed["requester"] = values.pop("requester")
        samples = {name: sample for name, sample in _SAMPLES.items() if name != "requester"}
    return ORDER_PAGES.page((), fixed, {**values, "partner": partner.pk}, samples, cursor, limit)


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
