"""Licence orders: the only code that changes an order's state.

Views, management commands, tasks and tests all call these functions. Each takes the
acting user, runs in its own transaction (durable: never inside a caller's), writes
the audit log (licences.events) and sends a signal (licences.signals) that the apps
above subscribe to: notifications schedules and sends its emails from them, on
commit. Licences know nothing of emails.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone

from accounts.models import Role
from licences import events, signals
from licences.error_codes import OrderStateError
from licences.models import LicenceOrder, OrderStatus


def add_calendar_months(moment: datetime, months: int, tz: ZoneInfo) -> datetime:
    """``moment`` plus whole calendar months on the customer's wall clock.

    The day is clamped to the month's length (29 February + 12 months is 28
    February), and the local time of day is kept across DST changes."""
    local = moment.astimezone(tz)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(ZoneInfo("UTC"))


def licence_expiry(assigned_at: datetime, tz: ZoneInfo) -> datetime:
    return add_calendar_months(assigned_at, settings.LICENCE_VALIDITY_MONTHS, tz)


def validate_quantity(quantity) -> int:
    max_quantity = settings.LICENCE_ORDER_MAX_QUANTITY
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError("Enter a whole number of licences.", code="invalid")
    if not 1 <= quantity <= max_quantity:
        raise ValidationError(f"Enter a number of licences from 1 to {max_quantity:,}.", code="out_of_range")
    return quantity


def _is_operator(user) -> bool:
    return user.is_active and (user.role == Role.OPERATOR or user.is_superuser)


def _check_may_request(customer, acting_user):
    """Rule 1: a customer manager orders for their own company, a partner manager for
    their own partner's customers, an operator for anyone."""
    if not customer.is_active:
        raise PermissionDenied(f"{customer.name} is deactivated.")
    if acting_user.is_partner_manager and acting_user.partner_id == customer.partner_id:
        return
    if acting_user.is_customer_manager and acting_user.customer_id == customer.pk:
        return
    if _is_operator(acting_user):
        return
    raise PermissionDenied("You cannot order licences for this company.")


def _acting_partner(acting_user, partner):
    """The partner whose orders ``acting_user`` may assign or cancel: a partner
    manager's own; an operator names one explicitly."""
    if acting_user.is_partner_manager:
        if partner is not None and partner.pk != acting_user.partner_id:
            raise PermissionDenied("You can only act on your own customers' orders.")
        return acting_user.partner
    if _is_operator(acting_user) and partner is not None:
        return partner
    raise PermissionDenied("Only the partner's managers or an operator can assign or cancel orders.")


@transaction.atomic(durable=True)
def request_order(customer, quantity: int, *, acting_user, in_manage_mode=False) -> LicenceOrder:
    """A new order of ``quantity`` licences for ``customer``, in state requested.

    When a customer manager asks, the partner's managers are emailed (notifications
    subscribes to ``order_requested``); when a partner manager orders, in manage
    mode, they are the ones who will assign it."""
    validate_quantity(quantity)
    _check_may_request(customer, acting_user)
    return _create_requested(customer, quantity, acting_user, in_manage_mode)


def _create_requested(customer, quantity, acting_user, in_manage_mode) -> LicenceOrder:
    order = LicenceOrder.objects.create(customer=customer, quantity=quantity, requested_by=acting_user)
    events.order_requested(order, actor=acting_user, in_manage_mode=in_manage_mode)
    signals.order_requested.send(LicenceOrder, order=order, acting_user=acting_user)
    return order


@transaction.atomic(durable=True)
def request_orders(quantities, *, acting_user, in_manage_mode=False) -> list[LicenceOrder]:
    """Several requested orders at once, one per customer (``quantities``: pairs of
    customer and quantity), in one transaction: every quantity and every customer is
    checked before the first order is made, so either all are made or none."""
    quantities = list(quantities)
    for customer, quantity in quantities:
        validate_quantity(quantity)
        _check_may_request(customer, acting_user)
    return [_create_requested(customer, quantity, acting_user, in_manage_mode) for customer, quantity in quantities]


def _lock_requested(order, partner) -> LicenceOrder:
    """The requested order ``order`` (an order or its id) of ``partner``'s customer,
    locked until the transaction ends.

    The row lock makes two managers, two tabs or a double click give one change:
    the second caller waits for the first to commit, then finds the order no longer
    requested. Raises LicenceOrder.DoesNotExist for another partner's order."""
    order_id = getattr(order, "pk", order)
    order = (
        LicenceOrder.objects.select_for_update(of=("self",))
        .select_related("customer__partner")
        .filter(customer__partner=partner)
        .get(pk=order_id)
    )
    if order.status != OrderStatus.REQUESTED:
        raise OrderStateError(f"Order #{order.pk} is already {order.get_status_display().lower()}.")
    return order


@transaction.atomic(durable=True)
def assign_order(order, *, acting_user, partner=None, in_manage_mode=False) -> LicenceOrder:
    """Make a requested order live: valid for 12 calendar months from now, on the
    customer's calendar. Then, once committed, the customer's managers are emailed
    (notifications subscribes to ``order_assigned``).

    ``order`` is an order or its id. Raises LicenceOrder.DoesNotExist when it is not
    one of ``partner``'s customers' (``partner`` defaults to the acting manager's;
    operators pass it), OrderStateError when it is no longer requested."""
    partner = _acting_partner(acting_user, partner)
    order = _lock_requested(order, partner)
    now = timezone.now()
    order.status = OrderStatus.ASSIGNED
    order.assigned_at = now
    order.assigned_by = acting_user
    order.expires_at = licence_expiry(now, order.customer.tzinfo)
    order.save(update_fields=["status", "assigned_at", "assigned_by", "expires_at"])
    events.order_assigned(order, actor=acting_user, in_manage_mode=in_manage_mode)
    signals.order_assigned.send(LicenceOrder, order=order, acting_user=acting_user)
    return order


@transaction.atomic(durable=True)
def cancel_order(order, *, acting_user, partner=None, in_manage_mode=False) -> LicenceOrder:
    """Cancel a requested order; same rules and errors as assign_order."""
    partner = _acting_partner(acting_user, partner)
    order = _lock_requested(order, partner)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancelled_by = acting_user
    order.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    events.order_cancelled(order, actor=acting_user, in_manage_mode=in_manage_mode)
    signals.order_cancelled.send(LicenceOrder, order=order, acting_user=acting_user)
    return order


def valid_pool(customer, now=None) -> list[tuple]:
    """The customer's valid orders as ``(id, quantity, allocated_count, expires_at)``,
    soonest expiry first: what the pool figures and the expiry timeline are made of,
    in one query (a customer holds a handful of valid orders, never many: each lives
    12 months)."""
    return list(
        LicenceOrder.objects.filter(customer=customer)
        .valid(now or timezone.now())
        .order_by("expires_at", "pk")
        .values_list("pk", "quantity", "allocated_count", "expires_at")
    )


def pool_summary(customer, now=None, *, pool=None) -> dict:
    """Seat figures of a customer's valid orders: total, allocated, free, next expiry.
    ``pool``: the customer's ``valid_pool`` when the caller has it already."""
    pool = valid_pool(customer, now) if pool is None else pool
    total, allocated = sum(row[1] for row in pool), sum(row[2] for row in pool)
    next_expiry = pool[0][3] if pool else None
    return {"total": total, "allocated": allocated, "free": total - allocated, "next_expiry": next_expiry}


def free_seats_after(order, now=None) -> int:
    """Free seats of the customer's valid orders that outlast ``order``: where the
    learners losing ``order``'s seats could move now."""
    later = LicenceOrder.objects.valid(now).filter(customer_id=order.customer_id, expires_at__gt=order.expires_at)
    return later.aggregate(free=Sum(F("quantity") - F("allocated_count")))["free"] or 0


# The Expiring Soon tab's windows, in days, and the one shown first.
EXPIRING_WINDOWS = (7, 30, 60, 90)
EXPIRING_SOON_DAYS = 30


def smallest_window(until: datetime, now: datetime) -> int:
    """The narrowest Expiring Soon window that holds ``until`` (the widest if none)."""
    return next((d for d in EXPIRING_WINDOWS if until <= now + timedelta(days=d)), EXPIRING_WINDOWS[-1])


def next_loss_of_access(customer, now=None, days=EXPIRING_SOON_DAYS, *, pool=None) -> dict | None:
    """For the Licences overview: the next valid order expiring within ``days`` days
    whose seats learners hold (each seat held is one learner: seats left go back to
    their order), how many lose access then, and the free seats of later orders.
    None when nobody loses access in that time. Read from ``valid_pool`` (one query,
    none when the caller passes it)."""
    now = now or timezone.now()
    pool = valid_pool(customer, now) if pool is None else pool
    horizon = now + timedelta(days=days)
    ending = next((row for row in pool if row[2] > 0 and row[3] <= horizon), None)
    if ending is None:
        return None
    pk, _quantity, allocated, expires_at = ending
    return {
        "order": LicenceOrder(pk=pk, customer=customer, allocated_count=allocated, expires_at=expires_at),
        "losing": allocated,
        "expires_at": expires_at,
        "free_later": sum(row[1] - row[2] for row in pool if row[3] > expires_at),
        "days": smallest_window(expires_at, now),
    }


@dataclass(frozen=True)
class AssignedOrder:
    """A row of the Licences overview's orders."""

    pk: int
    quantity: int
    allocated_count: int
    assigned_at: datetime
    expires_at: datetime
    expired: bool

    @property
    def free_seats(self) -> int:
        return self.quantity - self.allocated_count


@dataclass(frozen=True)
class AssignedOrders:
    """What the Licences overview reads of a customer's orders, in one query."""

    rows: list[AssignedOrder]  # a page of the assigned orders
    pool: list[tuple]  # the valid orders, as ``valid_pool``
    assigned: int  # every assigned order, valid or expired

    @property
    def all_expired(self) -> bool:
        """Rule 5, as ``valid_orders_and_expired``: assigned orders, and none valid."""
        return self.assigned > 0 and not self.pool


ORDER = LicenceOrder._meta.db_table
ASSIGNED_ORDERS = f"""
    SELECT id, quantity, allocated_count, assigned_at, expires_at, expired, position, assigned
    FROM (
        SELECT id, quantity, allocated_count, assigned_at, expires_at, expires_at <= %(now)s AS expired,
               ROW_NUMBER() OVER (
                   ORDER BY expires_at <= %(now)s, CASE WHEN expires_at > %(now)s THEN expires_at END,
                            expires_at DESC, id DESC
               ) AS position,
               COUNT(*) OVER () AS assigned
        FROM {ORDER}
        WHERE customer_id = %(customer)s AND status = %(status)s
    ) numbered
    WHERE NOT expired OR position = 1 OR position > %(offset)s AND position <= %(end)s
    ORDER BY position
"""  # noqa: S608 - the table name comes from the model


def assigned_orders(customer, now, *, offset: int, limit: int) -> AssignedOrders:
    """The customer's assigned orders in the overview's order, valid ones first
    (soonest expiry first) then the expired ones (latest first): ``limit`` of them
    from ``offset`` on, with every valid order (the pool) and the count of them all.
    One query, written out rather than built by the ORM (whose window expressions
    cost more to compile than the query takes to run): the rows are numbered in that
    order, and those of the page, the valid ones and the first (which carries the
    count when the page is past the end) come back. A customer holds a handful of
    valid orders: each lives 12 months."""
    with connection.cursor() as cursor:
        cursor.execute(
            ASSIGNED_ORDERS,
            {
                "now": now,
                "customer": customer.pk,
                "status": OrderStatus.ASSIGNED,
                "offset": offset,
                "end": offset + limit,
            },
        )
        found = cursor.fetchall()
    rows = [AssignedOrder(*row[:6]) for row in found if offset < row[6] <= offset + limit]
    pool = sorted(
        (
            (pk, quantity, allocated, expires_at)
            for pk, quantity, allocated, _, expires_at, expired, *_ in found
            if not expired
        ),
        key=lambda row: (row[3], row[0]),  # as valid_pool: soonest expiry, then the oldest order
    )
    return AssignedOrders(rows=rows, pool=pool, assigned=found[0][7] if found else 0)


def with_pool_figures(customers, now=None):
    """The same figures annotated on a Customer queryset, for lists of customers."""
    now = now or timezone.now()
    valid = Q(orders__status=OrderStatus.ASSIGNED, orders__expires_at__gt=now)
    return customers.annotate(
        seats_total=Sum("orders__quantity", filter=valid, default=0),
        seats_allocated=Sum("orders__allocated_count", filter=valid, default=0),
        next_expiry=Min("orders__expires_at", filter=valid),
    ).annotate(seats_free=F("seats_total") - F("seats_allocated"))


def partner_orders(partner):
    """Every order of the partner's customers (Requested Orders, its export, the API)."""
    return LicenceOrder.objects.filter(customer__partner=partner)


# The guard's query written out: every customer page runs it, and the ORM spent on
# compiling it (a subquery, the ordering twice) three times what the database spends
# on running it. Both halves are ranges of order_valid_pool_idx; ordered as the model.
_VALID_AND_LAST_EXPIRED = """
    SELECT * FROM {table} WHERE customer_id = %s AND status = %s AND (expires_at > %s OR id = (
        SELECT id FROM {table} WHERE customer_id = %s AND status = %s AND expires_at <= %s
        ORDER BY expires_at DESC LIMIT 1
    ))
    ORDER BY requested_at DESC, id DESC
"""


@dataclass(frozen=True)
class CustomerOrders:
    """A customer's valid orders, and the expiry of the order that expired last (None
    when none has): what the guard and the Expired Licences tab ask, in one query."""

    valid: list[LicenceOrder]
    last_expired_at: datetime | None

    @property
    def all_expired(self) -> bool:
        """Rule 5: it has had assigned orders, and none is valid."""
        return self.last_expired_at is not None and not self.valid


def customer_orders(customer, now=None) -> CustomerOrders:
    now = now or timezone.now()
    sql = _VALID_AND_LAST_EXPIRED.format(table=connection.ops.quote_name(LicenceOrder._meta.db_table))
    found = list(LicenceOrder.objects.raw(sql, [customer.pk, OrderStatus.ASSIGNED, now] * 2))
    valid = [order for order in found if order.expires_at > now]
    expired = [order.expires_at for order in found if order.expires_at <= now]
    return CustomerOrders(valid, expired[0] if expired else None)


def valid_orders_and_expired(customer, now=None) -> tuple[list[LicenceOrder], bool]:
    """The customer's valid orders, and rule 5 (the guard of every customer page)."""
    orders = customer_orders(customer, now)
    return orders.valid, orders.all_expired
