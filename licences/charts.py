# Raw SQL here interpolates only table names taken from the models; every value is a
# query parameter.
# ruff: noqa: S608
"""The figures behind the charts, and the charts themselves.

- Licences overview (a customer): seats in use per week over the last 12 months, and
  the expiry timeline of the next 12 months (seats expiring per month, by order, with
  the free seats beside them);
- Company (the partner dashboard): seats in use and free per customer (the top
  customers and the rest), and renewals due per month across all customers.

Weeks start on Monday and months on the 1st, at midnight on the customer's clock
(partner figures: each order on its own customer's clock). Every figure is read with
a fixed number of queries whatever the number of learners, orders or customers: the
weekly history from the daily record (licences.seat_use), the rest from the public
orders, never from a tenant schema."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from common.local_time import MONTHS, clock
from common.svg import Chart, Series, bar_chart
from common.text import plural
from customers.models import Customer
from licences.models import LicenceOrder, OrderStatus, SeatSnapshot
from licences.services import valid_pool, with_pool_figures
from partners.services import customers_of

WEEKS = 52
MONTHS_AHEAD = 12
TOP_CUSTOMERS = 8


def _month_label(month: date) -> str:
    return f"{MONTHS[month.month - 1]} {month.year}"


def _day_label(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _add_months(month: date, months: int) -> date:
    index = month.month - 1 + months
    return date(month.year + index // 12, index % 12 + 1, 1)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    """Midnight at the start of ``day`` on ``tz``'s clock (DST-aware)."""
    return datetime.combine(day, time(0), tzinfo=tz)


# --- The customer's Licences overview ------------------------------------------------


@dataclass(frozen=True)
class Week:
    start: date  # a Monday on the customer's calendar
    seats_in_use: int | None  # None: nothing recorded that week


SNAPSHOT = SeatSnapshot._meta.db_table
# Each week's last recorded day (weeks start on Monday, as date_trunc's do). Written
# out rather than built by the ORM: it is read on every view of the overview.
WEEK_ENDS = f"""
    SELECT DISTINCT ON (week) date_trunc('week', day)::date AS week, seats_in_use
    FROM {SNAPSHOT}
    WHERE customer_id = %(customer)s AND day >= %(first)s AND day < %(end)s
    ORDER BY week, day DESC
"""


def seats_in_use_by_week(customer, *, in_use_now: int, now: datetime | None = None) -> list[Week]:
    """The last 52 weeks, oldest first, the current one last. A past week's figure is
    its last recorded day's (its end); the current week's is ``in_use_now`` (the
    overview's live Allocated figure). One query."""
    now = now or timezone.now()
    today = now.astimezone(customer.tzinfo).date()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=WEEKS - 1)
    with connection.cursor() as cursor:
        cursor.execute(WEEK_ENDS, {"customer": customer.pk, "first": first_monday, "end": this_monday})
        recorded = dict(cursor.fetchall())
    weeks = [first_monday + timedelta(weeks=n) for n in range(WEEKS)]
    return [Week(start, in_use_now if start == this_monday else recorded.get(start)) for start in weeks]


@dataclass(frozen=True)
class ExpiringOrder:
    pk: int
    seats_in_use: int
    free_seats: int
    expires_at: datetime


@dataclass(frozen=True)
class ExpiryMonth:
    month: date
    orders: list[ExpiringOrder]

    @property
    def seats_in_use(self) -> int:
        return sum(order.seats_in_use for order in self.orders)

    @property
    def free_seats(self) -> int:
        return sum(order.free_seats for order in self.orders)


def expiry_timeline(customer, now: datetime | None = None, *, pool=None) -> list[ExpiryMonth]:
    """The next 12 months (this one first) and the valid orders expiring in each,
    soonest first: their seats in use (whose learners lose access then) and their
    free seats (which lapse unused). ``pool``: the customer's valid orders
    (``services.valid_pool``), read here when not given (one query)."""
    now = now or timezone.now()
    tz = customer.tzinfo
    local = now.astimezone(tz)
    first = date(local.year, local.month, 1)
    months = [_add_months(first, n) for n in range(MONTHS_AHEAD)]
    end = _midnight(_add_months(first, MONTHS_AHEAD), tz)
    by_month = {month: [] for month in months}
    for pk, quantity, allocated, expires_at in valid_pool(customer, now) if pool is None else pool:
        if expires_at >= end:
            continue
        moment = expires_at.astimezone(tz)
        by_month[date(moment.year, moment.month, 1)].append(
            ExpiringOrder(pk, allocated, quantity - allocated, expires_at)
        )
    return [ExpiryMonth(month, by_month[month]) for month in months]


def overview_charts(customer, *, in_use_now: int, now: datetime | None = None, pool=None) -> list[Chart]:
    """The overview's two charts; ``pool`` as for expiry_timeline."""
    now = now or timezone.now()
    tz = customer.tzinfo
    weeks = seats_in_use_by_week(customer, in_use_now=in_use_now, now=now)
    recorded = [w.seats_in_use for w in weeks if w.seats_in_use is not None]
    in_use = Series("Seats in use", "bar-in-use", [w.seats_in_use for w in weeks])
    if any(recorded):
        weekly_desc = (
            f"Seats in use at the end of each week, from the week of {_day_label(weeks[0].start)} to this week: "
            f"{recorded[0]:,} in the first week with a figure, {max(recorded):,} at the most, "
            f"{weeks[-1].seats_in_use:,} now."
        )
    else:
        weekly_desc = "No seats have been in use in the last 12 months."
    week_categories = [_day_label(w.start) for w in weeks]
    weekly = Chart(
        chart_id="chart-weekly-use",
        title="Seats in use per week, last 12 months",
        description=weekly_desc,
        series=[in_use],
        columns=["Week of", "Seats in use"],
        rows=[
            (label, "—" if w.seats_in_use is None else f"{w.seats_in_use:,}")
            for label, w in zip(week_categories, weeks, strict=True)
        ],
        svg=bar_chart(
            chart_id="chart-weekly-use",
            title="Seats in use per week, last 12 months",
            description=weekly_desc,
            categories=week_categories,
            series=[in_use],
            label_every=8,
        ),
    )

    months = expiry_timeline(customer, now, pool=pool)
    expiring = Series("Seats in use, expiring", "bar-expiring", [m.seats_in_use for m in months])
    free = Series("Free seats, expiring", "bar-free", [m.free_seats for m in months])
    busy = [m for m in months if m.orders]
    if busy:
        expiry_desc = (
            f"Seats expiring per month, the next 12 months: {sum(m.seats_in_use for m in busy):,} seats in use and "
            f"{sum(m.free_seats for m in busy):,} free seats, in "
            + "; ".join(f"{_month_label(m.month)} {m.seats_in_use:,} in use and {m.free_seats:,} free" for m in busy)
            + "."
        )
    else:
        expiry_desc = "No valid licences expire in the next 12 months."
    month_categories = [_month_label(m.month) for m in months]
    timeline = Chart(
        chart_id="chart-expiries",
        title="Expiry timeline, next 12 months",
        description=expiry_desc,
        series=[expiring, free],
        columns=["Month", "Orders expiring", "Seats in use", "Free seats"],
        rows=[
            (
                label,
                "; ".join(
                    f"#{o.pk} on {clock(o.expires_at, tz)}: {o.seats_in_use:,} in use, {o.free_seats:,} free"
                    for o in m.orders
                )
                or "—",
                f"{m.seats_in_use:,}",
                f"{m.free_seats:,}",
            )
            for label, m in zip(month_categories, months, strict=True)
        ],
        svg=bar_chart(
            chart_id="chart-expiries",
            title="Expiry timeline, next 12 months",
            description=expiry_desc,
            categories=[f"{MONTHS[m.month.month - 1]}" for m in months],
            series=[expiring, free],
        ),
    )
    return [weekly, timeline]


# --- The partner dashboard -------------------------------------------------------------


@dataclass(frozen=True)
class CustomerSeats:
    name: str
    seats_in_use: int
    free_seats: int
    customers: int = 1  # "All other customers" stands for more than one


def seats_per_customer(partner, now: datetime | None = None) -> list[CustomerSeats]:
    """The partner's customers with the most valid licences (at most 8), then one row
    for all the others together. Two queries: the top customers, and the sums over
    every customer to take them from."""
    now = now or timezone.now()
    top = list(
        with_pool_figures(customers_of(partner), now)
        .filter(seats_total__gt=0)
        .order_by("-seats_total", "name", "pk")
        .values_list("name", "seats_allocated", "seats_free")[:TOP_CUSTOMERS]
    )
    rows = [CustomerSeats(name, allocated, free) for name, allocated, free in top]
    totals = (
        LicenceOrder.objects.filter(customer__partner=partner, customer__is_active=True)
        .valid(now)
        .aggregate(
            quantity=Sum("quantity", default=0),
            allocated=Sum("allocated_count", default=0),
            customers=Count("customer", distinct=True),
        )
    )
    others = totals["customers"] - len(rows)
    if others > 0:
        allocated = totals["allocated"] - sum(r.seats_in_use for r in rows)
        free = totals["quantity"] - totals["allocated"] - sum(r.free_seats for r in rows)
        rows.append(CustomerSeats(f"All other {plural(others, 'customer')}", allocated, free, others))
    return rows


@dataclass(frozen=True)
class RenewalMonth:
    month: date
    orders: int
    customers: int
    seats_in_use: int
    free_seats: int


ORDER = LicenceOrder._meta.db_table
CUSTOMER = Customer._meta.db_table


def renewals_due(partner, now: datetime | None = None) -> list[RenewalMonth]:
    """The valid orders of the partner's customers expiring in each of the next 12
    months (this one first), each order in the month of its customer's clock. One
    query, grouped by month."""
    now = now or timezone.now()
    today = now.astimezone(partner.tzinfo)  # the months start on the partner's calendar
    first = date(today.year, today.month, 1)
    months = [_add_months(first, n) for n in range(MONTHS_AHEAD)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT date_trunc('month', o.expires_at AT TIME ZONE c.time_zone)::date AS month,
                   COUNT(*), COUNT(DISTINCT c.id), SUM(o.allocated_count), SUM(o.quantity - o.allocated_count)
            FROM {ORDER} o JOIN {CUSTOMER} c ON c.id = o.customer_id
            WHERE c.partner_id = %(partner)s AND c.is_active AND o.status = %(assigned)s
              AND o.expires_at > %(now)s
              AND o.expires_at AT TIME ZONE c.time_zone >= %(first)s
              AND o.expires_at AT TIME ZONE c.time_zone < %(end)s
            GROUP BY 1
            """,
            {
                "partner": partner.pk,
                "assigned": OrderStatus.ASSIGNED,
                "now": now,
                "first": datetime.combine(first, time(0)),
                "end": datetime.combine(_add_months(first, MONTHS_AHEAD), time(0)),
            },
        )
        found = {row[0]: row[1:] for row in cursor.fetchall()}
    return [RenewalMonth(month, *found.get(month, (0, 0, 0, 0))) for month in months]


def partner_charts(partner, now: datetime | None = None) -> list[Chart]:
    now = now or timezone.now()
    customers = seats_per_customer(partner, now)
    in_use = Series("Seats in use", "bar-in-use", [c.seats_in_use for c in customers])
    free = Series("Free seats", "bar-free", [c.free_seats for c in customers])
    if customers:
        seats_desc = "Valid licences per customer, seats in use and free: " + "; ".join(
            f"{c.name} {c.seats_in_use:,} in use and {c.free_seats:,} free" for c in customers
        )
        seats_desc += "."
    else:
        seats_desc = "None of your customers has valid licences."
    seats = Chart(
        chart_id="chart-customer-seats",
        title="Seats in use and free per customer",
        description=seats_desc,
        series=[in_use, free],
        columns=["Customer Company", "Seats in use", "Free seats"],
        rows=[(c.name, f"{c.seats_in_use:,}", f"{c.free_seats:,}") for c in customers],
        svg=bar_chart(
            chart_id="chart-customer-seats",
            title="Seats in use and free per customer",
            description=seats_desc,
            categories=[c.name for c in customers],
            series=[in_use, free],
            stacked=True,
        ),
    )

    months = renewals_due(partner, now)
    due_in_use = Series("Seats in use, expiring", "bar-expiring", [m.seats_in_use for m in months])
    due_free = Series("Free seats, expiring", "bar-free", [m.free_seats for m in months])
    busy = [m for m in months if m.orders]
    if busy:
        renewals_desc = "Orders due for renewal per month, the next 12 months: " + "; ".join(
            f"{_month_label(m.month)} {m.orders:,} orders of {m.customers:,} customers, "
            f"{m.seats_in_use:,} seats in use and {m.free_seats:,} free"
            for m in busy
        )
        renewals_desc += "."
    else:
        renewals_desc = "No customer's licences expire in the next 12 months."
    renewals = Chart(
        chart_id="chart-renewals",
        title="Renewals due per month, next 12 months",
        description=renewals_desc,
        series=[due_in_use, due_free],
        columns=["Month", "Orders", "Customers", "Seats in use", "Free seats"],
        rows=[
            (_month_label(m.month), f"{m.orders:,}", f"{m.customers:,}", f"{m.seats_in_use:,}", f"{m.free_seats:,}")
            for m in months
        ],
        svg=bar_chart(
            chart_id="chart-renewals",
            title="Renewals due per month, next 12 months",
            description=renewals_desc,
            categories=[MONTHS[m.month.month - 1] for m in months],
            series=[due_in_use, due_free],
            stacked=True,
        ),
    )
    return [seats, renewals]
