"""The partner's renewals: per customer with licences expiring soon, what is at stake
(the learners holding seats of the expiring orders, free seats in later orders, orders
already requested and waiting) and the state of each notice; and the partner's act of
requesting renewal orders for several customers at once.

Everything is read from the public schema: an order's ``allocated_count`` is kept with
its allocations (learners.seats), so no customer schema is visited and the page costs
the same number of queries at 20 or 2,000 customers. The Upcoming expiries page and the
weekly digest (notifications.digest) both read it from here."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum
from django.utils import timezone

from customers.models import Customer
from licences.models import LicenceOrder, OrderStatus
from licences.services import request_orders
from notifications import services
from notifications.services import RECENTLY_EXPIRED_DAYS, UPCOMING_DAYS
from partners.services import customers_of

# A partner renews at most this many customers in one go (a page of the table is fewer).
MAX_RENEWALS_AT_ONCE = 100


def _window(now: datetime, days: int, recent_days: int) -> tuple[datetime, datetime]:
    return now - timedelta(days=recent_days), now + timedelta(days=days)


def customers_to_renew(
    partner, now: datetime | None = None, *, customer=None, days: int = UPCOMING_DAYS, recent_days=RECENTLY_EXPIRED_DAYS
):
    """The partner's active customers with an assigned order expiring in the next
    ``days`` (or expired in the last ``recent_days``), soonest first, each annotated:

    - ``learners_affected``: seats allocated from the orders still to expire in the
      window (the learners who lose access unless moved or renewed);
    - ``first_expiry``: the soonest expiry in the window;
    - ``free_later``: free seats of orders valid beyond the window;
    - ``waiting_orders`` / ``waiting_licences``: requested orders not yet assigned.

    One query, grouped over the customers' orders in the public schema."""
    now = now or timezone.now()
    since, until = _window(now, days, recent_days)
    assigned = Q(orders__status=OrderStatus.ASSIGNED)
    in_window = assigned & Q(orders__expires_at__gt=since, orders__expires_at__lte=until)
    expiring = assigned & Q(orders__expires_at__gt=now, orders__expires_at__lte=until)
    later = assigned & Q(orders__expires_at__gt=until)
    waiting = Q(orders__status=OrderStatus.REQUESTED)
    has_expiring = LicenceOrder.objects.filter(
        customer=OuterRef("pk"), status=OrderStatus.ASSIGNED, expires_at__gt=since, expires_at__lte=until
    )
    customers = customers_of(partner).filter(Exists(has_expiring))
    if customer is not None:
        customers = customers.filter(pk=customer.pk)
    # Only the orders that count (waiting, or assigned and not expired before the
    # window) are joined: a customer's history of expired orders costs nothing. A
    # filter before annotate() constrains the rows the aggregates run over.
    relevant = Q(orders__status=OrderStatus.REQUESTED) | (assigned & Q(orders__expires_at__gt=since))
    return (
        customers.filter(relevant)
        .annotate(
            learners_affected=Sum("orders__allocated_count", filter=expiring, default=0),
            first_expiry=Min("orders__expires_at", filter=in_window),
            free_later=Sum(F("orders__quantity") - F("orders__allocated_count"), filter=later, default=0),
            waiting_orders=Count("orders", filter=waiting),
            waiting_licences=Sum("orders__quantity", filter=waiting, default=0),
        )
        .order_by("first_expiry", "name", "pk")
    )


@dataclass
class Renewal:
    """One customer's row: its figures and its orders in the window, each with its
    reminders and expiry notice."""

    customer: Customer
    orders: list = field(default_factory=list)
    # What the manager ticked and typed before a refused Request renewal (a draft).
    ticked: bool = False
    entered: str | None = None

    @property
    def suggested_quantity(self) -> int | None:
        return self.customer.learners_affected or None

    @property
    def quantity_shown(self):
        return self.entered if self.entered is not None else self.suggested_quantity


@dataclass
class OrderNotices:
    order: LicenceOrder
    expired: bool
    reminders: list
    expiry: object


def with_orders(customers, partner, now: datetime | None = None) -> list[Renewal]:
    """``customers`` (a page of ``customers_to_renew``) with their orders in the
    window and the orders' notices: two queries, whatever the number of rows."""
    now = now or timezone.now()
    customers = list(customers)
    rows = {c.pk: Renewal(customer=c) for c in customers}
    if rows:
        orders = services.upcoming_expiries(partner, now).filter(customer__in=list(rows))
        for order in orders:
            reminders, expiry = services.reminders_and_notice(order)
            expired = order.expires_at <= now
            rows[order.customer_id].orders.append(OrderNotices(order, expired, reminders, expiry))
    return list(rows.values())


def request_renewals(partner, quantities: dict[int, int], *, acting_user) -> list[LicenceOrder]:
    """Requested orders, one per customer (``quantities``: customer id → licences),
    made by a partner manager from the dashboard (not in manage mode), all in one
    transaction or none. Any id that is not one of the partner's active customers
    raises Customer.DoesNotExist before anything is made; quantities are bounded as
    any order's (licences.services.validate_quantity)."""
    if not quantities or len(quantities) > MAX_RENEWALS_AT_ONCE:
        raise ValueError(f"Tick from 1 to {MAX_RENEWALS_AT_ONCE} companies.")
    customers = customers_of(partner).in_bulk(list(quantities))
    if len(customers) != len(quantities):
        raise Customer.DoesNotExist("Not one of your companies.")
    pairs = [(customers[pk], quantity) for pk, quantity in quantities.items()]
    return request_orders(pairs, acting_user=acting_user, in_manage_mode=False)


def draft_of(ticked_ids: list[str], fields: dict[str, str]) -> dict:
    """A refused Request renewal's ticks and typed quantities (``quantity-<id>``
    fields), bounded, to show again: nothing typed is lost."""
    ticked = [raw for raw in ticked_ids[: MAX_RENEWALS_AT_ONCE * 2] if raw.isdigit() and len(raw) <= 12]
    typed = {}
    for key, value in fields.items():
        pk = key.removeprefix("quantity-")
        if key.startswith("quantity-") and pk.isdigit() and len(pk) <= 12 and len(typed) < MAX_RENEWALS_AT_ONCE * 2:
            typed[pk] = value[:12]
    return {"ticked": ticked, "typed": typed}


def apply_draft(rows: list[Renewal], draft: dict | None) -> list[Renewal]:
    if draft:
        ticked, typed = set(draft.get("ticked", ())), draft.get("typed", {})
        for row in rows:
            key = str(row.customer.pk)
            row.ticked = key in ticked
            row.entered = typed.get(key)
    return rows
