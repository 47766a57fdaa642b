"""Demo data that shows every part of the product. Safe to run again: it finds what
it made before instead of making it twice.

Every customer is in a different state, so a newcomer sees every page with content:

- Acme: a valid pool with free seats, and a small order expiring within 72 hours
  (its reminder is due);
- Globex: its only order expired yesterday, so its learners are on the Expired
  Licences tab and its managers land on the renewal page; its request for new
  licences waits on the partner's Requested Orders (assign it, then renew the
  learners: the guide's whole walk);
- Umbrella: a mix: an order that expired within the last hour (its expiry notice is
  due), a newer assigned order with free seats waiting to renew the learners still
  expired, some learners renewed onto it, one deactivated, two without a licence;
- Initech (the other partner's): a valid pool.

Northwind's Upcoming expiries page shows the renewals to work (Acme's 8 learners
losing access with free seats in a later order, Globex's request waiting, Umbrella's
expired order); Northwind copies its managers on expiry notices, and its weekly digest
of the same is sent once at seeding (the outbox shows it).

Each customer's seats have a year of history (learners joined through the year;
Acme's renewed from last year's order), and the daily record of seats in use is
filled from it, so the Licences overview's weekly chart has shape.

Orders go through the real services (request, assign, allocate, renew, deactivate).
The services stamp "now" and nothing may assign an order in the past, so orders
that belong in the past are moved afterwards with a queryset update of their
timestamps (and their learners' seats, which expire with them), exactly as if they
had been assigned then: their pending emails in the ledger move with them (each
reminder its lead time before the new expiry, the expiry notice at it), so the
scheduler catches up on them like after downtime; an order that has already expired
gets no "licences ready" email (it is recorded as skipped).
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from api.error_codes import ApiError
from api.models import WebhookEndpoint, WebhookEventType
from api.webhooks import add_endpoint
from customers.models import Customer
from customers.services import create_customer
from learners import lapses, seat_history, seats
from learners.models import Allocation, Learner
from learners.roster import add_learner, deactivate_learner, ensure_learner_for_user
from licences import seat_use
from licences.models import LicenceOrder, OrderStatus
from licences.services import add_calendar_months, assign_order, licence_expiry, request_order
from notifications import digest, planning, seat_alerts
from partners.models import Partner
from partners.services import enter_manage_mode, exit_manage_mode

DEMO_PASSWORD = "demo-licences-2026"
OPERATOR = ("olive@operators.example", "Olive Ortiz")

PARTNERS = {
    "Northwind Security": [("alice@northwind.example", "Alice Archer"), ("bob@northwind.example", "Bob Baker")],
    "Bluefin IT": [("charlie@bluefin.example", "Charlie Chen")],
}
# name, partner, schema, time zone, manager, learner who signs in
CUSTOMERS = [
    (
        "Acme Manufacturing",
        "Northwind Security",
        "acme",
        "Europe/London",
        ("dana@acme.example", "Dana Doyle"),
        ("lena@acme.example", "Lena Lund"),
    ),
    (
        "Globex Retail",
        "Northwind Security",
        "globex",
        "Europe/Berlin",
        ("erin@globex.example", "Erin Evans"),
        ("liam@globex.example", "Liam Lowe"),
    ),
    (
        "Umbrella Health",
        "Northwind Security",
        "umbrella",
        "America/New_York",
        ("grace@umbrella.example", "Grace Green"),
        ("lucy@umbrella.example", "Lucy Lane"),
    ),
    (
        "Initech Finance",
        "Bluefin IT",
        "initech",
        "Europe/Dublin",
        ("frank@initech.example", "Frank Fox"),
        ("leo@initech.example", "Leo Long"),
    ),
]
LEARNERS_PER_CUSTOMER = 24
FIRST_NAMES = ["Ava", "Ben", "Cara", "Dev", "Ella", "Finn", "Gia", "Hugo", "Isla", "Jack", "Kai", "Lola"]
LAST_NAMES = ["Adams", "Brown", "Clarke", "Davies", "Evans", "Foster"]


class Command(BaseCommand):
    help = "Create the demo partners, customers, managers and learners (idempotent) and print the sign-ins."

    def handle(self, **options):
        with transaction.atomic():
            partners = {name: Partner.objects.get_or_create(name=name)[0] for name in PARTNERS}
            for partner_name, managers in PARTNERS.items():
                for email, full_name in managers:
                    _user(email, full_name, Role.PARTNER_MANAGER, partner=partners[partner_name])
            # An operator, for the local outbox (operators only) and the admin.
            _user(*OPERATOR, Role.OPERATOR, is_staff=True, is_superuser=True)
        self._webhook_endpoint(partners["Northwind Security"])
        for name, partner_name, schema, tz, manager, learner in CUSTOMERS:
            customer = Customer.objects.filter(schema_name=schema).first() or create_customer(
                name=name, partner=partners[partner_name], time_zone=tz, schema_name=schema
            )
            with transaction.atomic():
                manager_user = _user(*manager, Role.CUSTOMER_MANAGER, customer=customer)
                learner_user = _user(*learner, Role.LEARNER, customer=customer)
                ensure_learner_for_user(learner_user)
                with customer:
                    _learners(schema)
            if not LicenceOrder.objects.filter(customer=customer).exists():
                # Each step is a service action with its own (durable) transaction.
                partner_manager = User.objects.filter(partner=customer.partner, role=Role.PARTNER_MANAGER).first()
                LICENCE_STORIES[schema](customer, partner_manager, manager_user)
            # The Licences overview's weekly chart: the daily record, from the history.
            seat_history.record_past_days(customer)
            # Orders were moved into the past behind the beat's back: record who lapsed.
            lapses.record(customer)
        seat_use.record_today()
        self._partner_notifications(partners["Northwind Security"])
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write("Make an API token on the partner dashboard's API page (see README.md, The partner API).")
        self.stdout.write(demo_sign_ins())

    def _partner_notifications(self, partner):
        """Northwind copies its managers on expiry notices, and this week's digest goes
        out now (the Upcoming expiries renewals: Acme's 8 learners, Globex's waiting
        order, Umbrella's expired order): in the outbox at once; once a week only."""
        alice = User.objects.get(email=PARTNERS[partner.name][0][0])
        digest.set_notice_copies(partner, True, acting_user=alice)
        digest.send_digest_now(partner)

    def _webhook_endpoint(self, partner):
        """Northwind's webhook endpoint, made before the licence stories so their
        events are delivered to it: the local receiver (/api/local-webhook-receiver/),
        which verifies each signature. The worker delivers them once it runs; the
        first tries may fail while the web server starts, and are retried."""
        url = f"{settings.SITE_URL}/api/local-webhook-receiver/"
        if WebhookEndpoint.objects.filter(partner=partner).exists():
            return
        manager = User.objects.filter(partner=partner, role=Role.PARTNER_MANAGER).order_by("email").first()
        try:
            add_endpoint(
                partner,
                url=url,
                event_types=WebhookEventType.values,
                description="Local receiver (demo): verifies each signature",
                acting_user=manager,
            )
        except ApiError as refused:  # loopback is refused outside local development
            self.stdout.write(f"No demo webhook endpoint: {refused}")


def _user(email, full_name, role, **company):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name, role=role, **company)
    return user


def _learners(schema):
    existing = set(Learner.objects.values_list("email", flat=True))
    new = []
    for n in range(1, LEARNERS_PER_CUSTOMER + 1):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[n % len(LAST_NAMES)]
        email = f"{first}.{last}{n}@{schema}.example".lower()
        if email not in existing:
            new.append(Learner(email=email, name=f"{first} {last}"))
    Learner.objects.bulk_create(new)


# --- Licences: one story per customer ------------------------------------------------


def _order(customer, quantity, partner_manager, *, expires_at=None, assigned_ago=None):
    """A requested and assigned order; moved in time when it belongs in the past."""
    order = request_order(customer, quantity, acting_user=partner_manager, in_manage_mode=True)
    order = assign_order(order.pk, acting_user=partner_manager)
    now = timezone.now()
    if assigned_ago is not None:
        assigned_at = now - assigned_ago
        expires_at = licence_expiry(assigned_at, customer.tzinfo)
    elif expires_at is not None:
        assigned_at = add_calendar_months(expires_at, -12, customer.tzinfo)
    else:
        return order
    return _backdate(order, assigned_at, expires_at)


def _backdate(order, assigned_at, expires_at):
    """The order as if assigned at ``assigned_at``; its emails are planned again for
    ``expires_at``, so the scheduler catches up on them like after downtime."""
    LicenceOrder.objects.filter(pk=order.pk).update(
        requested_at=assigned_at - timedelta(hours=2), assigned_at=assigned_at, expires_at=expires_at
    )
    order.refresh_from_db()
    planning.replan_moved_order(order, timezone.now())
    return order


def _move_seats(customer, order, allocated_at):
    """Seats of ``order`` given when the order was young, expiring with it."""
    with customer:
        Allocation.objects.filter(order_id=order.pk).update(expires_at=order.expires_at, allocated_at=allocated_at)


def _ids(customer, count=None, *, also=()):
    with customer:
        ids = list(Learner.objects.exclude(email__in=also).order_by("email").values_list("pk", flat=True))
        extra = list(Learner.objects.filter(email__in=also).values_list("pk", flat=True))
    return ids[:count] if count is not None else ids, extra


def _acme(customer, partner_manager, manager):
    ids, signing_in = _ids(customer, also=_signing_in(customer))
    # The partner manager orders in manage mode, as the guide's Step 1 does: the
    # Activity pages show the visit (a session of its own, not a browser's).
    visit = {}
    enter_manage_mode(visit, customer, acting_user=partner_manager)
    # 8 learners on order #2 lose access in 60 hours; the main order keeps 30 free
    # licences that outlast it: the overview says so, Expiring Soon lists them and
    # Renew Early can move them all now.
    main = _order(customer, 47, partner_manager, assigned_ago=timedelta(days=30))
    ending = _order(customer, 10, partner_manager, expires_at=timezone.now() + timedelta(hours=60))
    exit_manage_mode(visit, customer, acting_user=partner_manager)
    seats.allocate(customer, ids[:8], acting_user=manager, order_id=ending.pk)
    seats.allocate(customer, ids[8:] + signing_in, acting_user=manager, order_id=main.pk)
    _move_seats(customer, ending, ending.assigned_at + timedelta(days=3))
    _move_seats(customer, main, main.assigned_at + timedelta(days=1))
    _last_years_seats(customer, main, partner_manager)


def _globex(customer, partner_manager, manager):
    ids, signing_in = _ids(customer, also=_signing_in(customer))
    old = _order(customer, 30, partner_manager)
    seats.allocate(customer, ids + signing_in, acting_user=manager, order_id=old.pk)
    old = _order_expired(customer, old, timezone.now() - timedelta(days=1))
    _spread_seats(customer, old, over_days=150)
    request_order(customer, 30, acting_user=manager)


def _umbrella(customer, partner_manager, manager):
    ids, signing_in = _ids(customer, also=_signing_in(customer))
    old = _order(customer, 20, partner_manager)
    seats.allocate(customer, ids[:18], acting_user=manager, order_id=old.pk)
    old = _order_expired(customer, old, timezone.now() - timedelta(minutes=40))
    _spread_seats(customer, old, over_days=240)
    new = _order(customer, 30, partner_manager, assigned_ago=timedelta(days=2))
    seats.renew_expired(customer, acting_user=manager, learner_ids=ids[:6], order_id=new.pk)
    seats.allocate(customer, ids[18:22] + signing_in, acting_user=manager, order_id=new.pk)
    deactivate_learner(customer, ids[0], acting_user=manager)
    # ids[22:] are left without a licence: the pool was empty when they were added.


def _initech(customer, partner_manager, manager):
    ids, signing_in = _ids(customer, also=_signing_in(customer))
    order = _order(customer, 15, partner_manager, assigned_ago=timedelta(days=100))
    seats.allocate(customer, ids[:12] + signing_in, acting_user=manager, order_id=order.pk)
    _move_seats(customer, order, order.assigned_at)
    # Seat alerts: Bluefin turned on Initech's 90 % alert; three starters join, the
    # last finds no free seat and waits, so its managers get both alerts (the
    # scheduler sends them; see the outbox).
    seat_alerts.set_alert_at_90_percent(customer, True, acting_user=partner_manager)
    for n in (1, 2, 3):
        add_learner(customer, f"new.starter{n}@initech.example", f"New Starter {n}", acting_user=manager)


def _spread_seats(customer, order, *, over_days):
    """The order's seats (current and history rows) given one after another over its
    first ``over_days`` days rather than all at once: learners joined through the
    year, so the weekly chart climbs."""
    with customer:
        rows = list(Allocation.objects.filter(order_id=order.pk).order_by("learner_id", "pk"))
        for n, allocation in enumerate(rows):
            allocation.allocated_at = order.assigned_at + timedelta(days=1 + over_days * n / max(len(rows), 1))
        Allocation.objects.bulk_update(rows, ["allocated_at"])


def _last_years_seats(customer, order, partner_manager):
    """The seats ``order``'s learners held before it: last year's order, expired when
    ``order`` was assigned, its seats given over its first seven months and renewed
    onto ``order`` a day later (history rows, as a renewal leaves them).

    Last year's order is written directly: nothing was sent about it then, and the
    email ledger must not send its notices now."""
    started = add_calendar_months(order.assigned_at, -12, customer.tzinfo)
    with customer:
        current = list(Allocation.objects.filter(order_id=order.pk, ended_at__isnull=True).order_by("learner_id"))
    last_year = LicenceOrder.objects.create(
        customer=customer,
        quantity=len(current) + 5,
        status=OrderStatus.ASSIGNED,
        allocated_count=len(current),
        requested_by=partner_manager,
        requested_at=started - timedelta(hours=2),
        assigned_at=started,
        assigned_by=partner_manager,
        expires_at=order.assigned_at,
    )
    with customer:
        Allocation.objects.bulk_create(
            Allocation(
                learner_id=seat.learner_id,
                order_id=last_year.pk,
                expires_at=last_year.expires_at,
                allocated_at=started + timedelta(days=1 + 210 * n / max(len(current), 1)),
                allocated_by_id=seat.allocated_by_id,
                ended_at=seat.allocated_at,
                end_reason=Allocation.EndReason.RENEWED,
            )
            for n, seat in enumerate(current)
        )


def _order_expired(customer, order, expires_at):
    assigned_at = add_calendar_months(expires_at, -12, customer.tzinfo)
    order = _backdate(order, assigned_at, expires_at)
    _move_seats(customer, order, assigned_at + timedelta(days=1))
    return order


def _signing_in(customer):
    return [learner for name, *_, learner in CUSTOMERS if name == customer.name][0][:1]


LICENCE_STORIES = {"acme": _acme, "globex": _globex, "umbrella": _umbrella, "initech": _initech}


def demo_sign_ins() -> str:
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    for partner_name, managers in PARTNERS.items():
        for email, _ in managers:
            lines.append(f"  partner manager  {email:<28} {partner_name}")
    lines.append(f"  operator         {OPERATOR[0]:<28} outbox and admin")
    for name, _, _, _, manager, learner in CUSTOMERS:
        lines.append(f"  customer manager {manager[0]:<28} {name}")
        lines.append(f"  learner          {learner[0]:<28} {name}")
    return "\n".join(lines)
