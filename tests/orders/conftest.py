"""Helpers for the licence-order tests: orders made through the real services, then,
where a test needs it, moved in time with a queryset update (the services stamp
"now")."""

from datetime import datetime

from licences.models import LicenceOrder
from licences.services import assign_order, cancel_order, request_order
from tests.conftest import CaptureStatements

REQUESTED_ORDERS = "/partner/licences/orders/"


def order_for(customer, requested_by, quantity=10, *, requested_at: datetime | None = None, status="requested"):
    """An order of ``customer`` requested by ``requested_by`` (a partner manager of the
    customer's partner or one of its managers), then assigned or cancelled by a partner
    manager if ``status`` says so."""
    in_manage_mode = requested_by.is_partner_manager
    order = request_order(customer, quantity, acting_user=requested_by, in_manage_mode=in_manage_mode)
    if status != "requested":
        partner_manager = requested_by if requested_by.is_partner_manager else customer.partner.managers.first()
        action = assign_order if status == "assigned" else cancel_order
        action(order.pk, acting_user=partner_manager)
    if requested_at is not None:
        LicenceOrder.objects.filter(pk=order.pk).update(requested_at=requested_at)
    order.refresh_from_db()
    return order


def listed_ids(response) -> list[int]:
    """The order numbers in a Requested Orders page, top to bottom."""
    import re

    return [int(n) for n in re.findall(r"<tr><td>#(\d+)</td>", response.content.decode())]


def page_queries(client, url) -> list[str]:
    """The SQL a page runs, leaving out django-tenants' SET search_path (one per query)."""
    with CaptureStatements() as captured:
        response = client.get(url)
    assert response.status_code == 200
    return captured.statements
