"""What the partner reads: the orders expiring soon (and just expired) with their
notices, a customer's notification ledger, and the audit log."""

from typing import Literal

from django.utils import timezone
from ninja import Path, Query, Router

from accounts.models import AuditEvent
from api.auth import read_token
from api.cursors import Ordering, page
from api.routes._common import COMMON_PROBLEMS, MAX_ID, partner_customer, partner_of
from api.schemas import AuditEventList, ExpiringOrderList, LedgerList, notice_dict
from notifications import services as notices
from notifications.models import EmailKind, EmailState

router = Router(tags=["Expiries and history"])
SOONEST_FIRST = Ordering("expires_at", "id", first_is_time=True)
NEWEST_DUE_FIRST = Ordering("due_at", "id", descending=True, first_is_time=True)
NEWEST_FIRST = Ordering("at", "id", descending=True, first_is_time=True)


@router.get("/expiring", response={200: ExpiringOrderList, **COMMON_PROBLEMS}, auth=read_token)
def list_expiring(
    request,
    customer_id: int | None = Query(None, ge=1, le=MAX_ID),
    days: int = Query(notices.UPCOMING_DAYS, ge=1, le=366, description="Expiring within this many days."),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(25, ge=1, le=100),
):
    """Upcoming expiries: the partner's assigned orders expiring within `days` (and those expired in the last
    week), soonest first, with the state of their reminders and expiry notice."""
    partner = partner_of(request)
    customer = partner_customer(request, customer_id) if customer_id is not None else None
    now = timezone.now()
    found = page(notices.upcoming_expiries(partner, now, days=days, customer=customer), SOONEST_FIRST, cursor, limit)
    items = [
        {
            "order_id": order.pk,
            "customer": {"id": order.customer_id, "name": order.customer.name},
            "quantity": order.quantity,
            "allocated": order.allocated_count,
            "expires_at": order.expires_at,
            "expired": order.expires_at <= now,
            "notices": [notice_dict(notice) for notice in order.expiry_emails],
        }
        for order in found.rows
    ]
    return {"items": items, "next_cursor": found.next_cursor}


@router.get("/customers/{customer_id}/notifications", response={200: LedgerList, **COMMON_PROBLEMS}, auth=read_token)
def list_notifications(
    request,
    customer_id: int = Path(..., ge=1, le=MAX_ID),
    kind: Literal[tuple(EmailKind.values)] | None = Query(None),
    state: Literal[tuple(EmailState.values)] | None = Query(None),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(25, ge=1, le=100),
):
    """The customer's email ledger, latest due first: every email about its orders (licence request, licences
    ready, each reminder, the expiry notice) with its state."""
    customer = partner_customer(request, customer_id)
    ledger = notices.ledger(kind=kind, state=state).filter(order__customer=customer)
    found = page(ledger, NEWEST_DUE_FIRST, cursor, limit)
    items = [{"id": n.pk, "order_id": n.order_id, **notice_dict(n)} for n in found.rows]
    return {"items": items, "next_cursor": found.next_cursor}


@router.get("/audit-events", response={200: AuditEventList, **COMMON_PROBLEMS}, auth=read_token)
def list_audit_events(
    request,
    customer_id: int | None = Query(None, ge=1, le=MAX_ID),
    action: Literal[tuple(AuditEvent.Action.values)] | None = Query(None),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(25, ge=1, le=100),
):
    """The partner's audit log, newest first: who did what, when, in which customer (API calls included)."""
    events = AuditEvent.objects.filter(partner=partner_of(request))
    if customer_id is not None:
        events = events.filter(customer=partner_customer(request, customer_id))
    if action:
        events = events.filter(action=action)
    rows = events.values("id", "at", "action", "actor__email", "customer_id", "in_manage_mode", "details")
    found = page(rows, NEWEST_FIRST, cursor, limit)
    items = [{"actor": row.pop("actor__email"), **row} for row in found.rows]
    return {"items": items, "next_cursor": found.next_cursor}
