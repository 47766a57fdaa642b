"""Customers: list (search), read with pool figures, create (its schema made)."""

from django.db import transaction
from ninja import Path, Query, Router, Status

from api import events
from api.auth import read_token, write_token
from api.cursors import Ordering, page
from api.routes._common import (
    CHANGE_PROBLEMS,
    COMMON_PROBLEMS,
    MAX_ID,
    acting_user,
    partner_customer,
    partner_of,
    token_of,
)
from api.schemas import NO_NUL, CustomerIn, CustomerList, CustomerOut, customer_dict, pool_dict
from customers.services import create_customer
from licences.services import pool_summary, with_pool_figures
from partners.services import customers_of

router = Router(tags=["Customers"])
BY_NAME = Ordering("name", "id")


@router.get("/customers", response={200: CustomerList, **COMMON_PROBLEMS}, auth=read_token)
def list_customers(
    request,
    search: str = Query("", max_length=100, pattern=NO_NUL, description="Part of the company name."),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(25, ge=1, le=100),
):
    """The partner's active customer companies, by name, with their pool figures."""
    customers = customers_of(partner_of(request))
    if search.strip():
        customers = customers.filter(name__icontains=search.strip())
    found = page(with_pool_figures(customers), BY_NAME, cursor, limit)
    items = [customer_dict(c, pool_dict(c.seats_total, c.seats_allocated, c.next_expiry)) for c in found.rows]
    return {"items": items, "next_cursor": found.next_cursor}


@router.get("/customers/{customer_id}", response={200: CustomerOut, **COMMON_PROBLEMS}, auth=read_token)
def get_customer(request, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    """One customer with its pool: total, allocated and free seats of its valid orders, and the next expiry."""
    customer = partner_customer(request, customer_id)
    summary = pool_summary(customer)
    return customer_dict(customer, pool_dict(summary["total"], summary["allocated"], summary["next_expiry"]))


@router.post("/customers", response={201: CustomerOut, **CHANGE_PROBLEMS}, auth=write_token)
def add_customer(request, body: CustomerIn):
    """A new customer company of the partner, with its own schema, migrated (this takes a second or two)."""
    with transaction.atomic(durable=True):
        customer = create_customer(name=body.name.strip(), partner=partner_of(request), time_zone=body.time_zone)
        events.customer_created(customer, actor=acting_user(request), token=token_of(request))
    return Status(201, customer_dict(customer, pool_dict(0, 0, None)))
