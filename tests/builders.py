"""What the tests build and the helpers they share, in one place: tests import these
from here, never from a conftest module (which holds fixtures only).

- the world's people: ``make_user`` (the fixtures in tests/conftest.py use it);
- licence orders through the real services: ``make_order`` and the shapes tests
  name (``order_for``, ``assigned_order``, ``assign``), moved in time with a queryset
  update where a test needs the past (the services always stamp "now");
- learners and seats written directly, for tests of what reads them;
- clients and pages: manage mode, sign-in, the SQL a block runs;
- the scheduler, its emails, fake email providers, and runs racing in threads."""

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
import requests
import time_machine
from anymail.exceptions import AnymailRequestsAPIError
from django.conf import settings
from django.core import mail
from django.core.cache import caches
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import User
from accounts.throttle import CACHE_ALIAS
from customers.middleware import MANAGED_CUSTOMER_SESSION_KEY
from customers.models import Customer
from customers.schemas import TEMPLATE_SCHEMA, migrations_on_disk
from learners.models import Allocation, Learner
from licences.models import LicenceOrder
from licences.services import assign_order, cancel_order, request_order
from notifications import planning
from notifications.models import EmailKind, OrderEmail
from notifications.schedule import reminder_leads
from notifications.tasks import send_due_expiry_notifications

PASSWORD = "correct-horse-battery"
REQUESTED_ORDERS = "/partner/licences/orders/"

# An order assigned at this moment expires at EXPIRES (same wall-clock time in
# London, 12 calendar months later), and its reminder falls due at REMINDER_DUE.
ASSIGNED = datetime(2025, 6, 10, 9, 30, tzinfo=UTC)
EXPIRES = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
REMINDER_DUE = EXPIRES - timedelta(hours=72)
REMINDER_SUBJECT = "reminder"
EXPIRY_SUBJECT = "expiry"


# --- People -----------------------------------------------------------------------------


def make_user(email, role, **fields):
    return User.objects.create_user(email, PASSWORD, full_name=email.split("@")[0].title(), role=role, **fields)


def make_customer(name, partner, schema, **fields):
    return Customer.objects.create(name=name, partner=partner, schema_name=schema, **fields)


# --- Licence orders -----------------------------------------------------------------------


def make_order(
    customer,
    requested_by,
    quantity=10,
    *,
    status="requested",
    assigned_at: datetime | None = None,
    expires_at: datetime | None = None,
    requested_at: datetime | None = None,
) -> LicenceOrder:
    """An order of ``customer`` made as people make one: requested by ``requested_by``
    (a partner manager of the customer's partner, in manage mode, or one of the
    customer's managers), then assigned or cancelled by a partner manager if
    ``status`` says so: on a travelled clock at ``assigned_at``, or moved afterwards so
    that it expires at ``expires_at`` (its learners' seats move with it)."""
    in_manage_mode = requested_by.is_partner_manager
    partner_manager = requested_by if in_manage_mode else customer.partner.managers.first()
    clock = time_machine.travel(assigned_at, tick=False) if assigned_at else None
    if clock:
        clock.start()
    outbox = list(mail.outbox)
    registered = len(connection.run_on_commit)
    try:
        order = request_order(customer, quantity, acting_user=requested_by, in_manage_mode=in_manage_mode)
        if status != "requested":
            action = assign_order if status == "assigned" else cancel_order
            action(order.pk, acting_user=partner_manager)
        # The one-off emails go out on commit, as in production: a test inside a
        # transaction never commits, so the callbacks the actions left are run here,
        # once, and taken off the list (a test that commits ran them already).
        callbacks = connection.run_on_commit[registered:]
        del connection.run_on_commit[registered:]
        for _savepoints, callback, _robust in callbacks:
            callback()
    finally:
        if clock:
            clock.stop()
        # Tests of the later emails count only those: the outbox is left as found.
        mail.outbox[:] = outbox
    if requested_at is not None:
        LicenceOrder.objects.filter(pk=order.pk).update(requested_at=requested_at)
    order.refresh_from_db()
    if expires_at is not None:
        move_expiry(customer, order, expires_at)
    return order


def order_for(customer, requested_by, quantity=10, *, requested_at: datetime | None = None, status="requested"):
    """An order as the licence-order tests name it: who requested it, and its status."""
    return make_order(customer, requested_by, quantity, status=status, requested_at=requested_at)


def assigned_order(customer, quantity, partner_manager, *, expires_at=None) -> LicenceOrder:
    """An order a partner manager requested and assigned now; with ``expires_at`` its
    timestamps are moved so that it expires then (its learners' seats move too)."""
    return make_order(customer, partner_manager, quantity, status="assigned", expires_at=expires_at)


def assign(customer, partner_manager, at=ASSIGNED, quantity=5) -> LicenceOrder:
    """An order requested and assigned by a partner manager on a travelled clock."""
    return make_order(customer, partner_manager, quantity, status="assigned", assigned_at=at)


def move_expiry(customer, order, expires_at) -> LicenceOrder:
    assigned_at = expires_at - timedelta(days=365)
    LicenceOrder.objects.filter(pk=order.pk).update(
        expires_at=expires_at, assigned_at=assigned_at, requested_at=assigned_at - timedelta(hours=1)
    )
    with customer:
        Allocation.objects.filter(order_id=order.pk).update(expires_at=expires_at)
    # An assigned order's expiry never changes in the product; moved here, its seats
    # may have expired before the customer's lapses were last recorded: forget that.
    type(customer).objects.filter(pk=customer.pk).update(lapses_recorded_at=None)
    customer.lapses_recorded_at = None
    order.refresh_from_db()
    # Its pending emails move with it, as seed_demo moves its orders.
    planning.plan_expiry_emails(order, reminder_leads(customer), timezone.now(), include_past=True)
    return order


def make_learners(customer, count, *, prefix="learner", domain=None) -> list[int]:
    """``count`` learners without a seat, in one statement; their ids."""
    domain = domain or f"{customer.schema_name}.test"
    with customer:
        learners = Learner.objects.bulk_create(
            [Learner(email=f"{prefix}{n:05d}@{domain}", name=f"{prefix.title()} {n}") for n in range(count)]
        )
    return [learner.pk for learner in learners]


def give_seats(customer, order, learner_ids, *, by=None):
    """Current allocations from ``order`` for these learners, counted on the order,
    written directly (the tests of the services themselves use the services)."""
    with customer:
        Allocation.objects.bulk_create(
            [
                Allocation(learner_id=i, order_id=order.pk, expires_at=order.expires_at, allocated_by=by)
                for i in learner_ids
            ]
        )
    LicenceOrder.objects.filter(pk=order.pk).update(allocated_count=len(learner_ids))
    order.refresh_from_db()


def expired_learners_of(customer, count, partner_manager, *, prefix="expired", ago=timedelta(days=1)):
    """``count`` learners whose seats (from one order) expired ``ago``."""
    ids = make_learners(customer, count, prefix=prefix)
    order = assigned_order(customer, max(count, 1), partner_manager)
    give_seats(customer, order, ids)
    move_expiry(customer, order, timezone.now() - ago)
    return ids, order


def expiring_learners_of(customer, count, partner_manager, *, prefix="expiring", within=timedelta(days=3)):
    """``count`` learners whose seats (from one order) expire ``within`` from now."""
    ids = make_learners(customer, count, prefix=prefix)
    order = assigned_order(customer, max(count, 1), partner_manager)
    give_seats(customer, order, ids)
    move_expiry(customer, order, timezone.now() + within)
    return ids, order


# --- Clients and pages --------------------------------------------------------------------


def enter_manage_mode(client, customer):
    """Put a logged-in partner manager's test client into manage mode."""
    session = client.session
    session[MANAGED_CUSTOMER_SESSION_KEY] = customer.pk
    session.save()


def sign_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


class CaptureStatements(CaptureQueriesContext):
    """Captures the SQL run inside the block, as ``statements``: what the code asked
    for, without django-tenants' ``SET search_path`` before each query."""

    def __init__(self):
        super().__init__(connection)

    @property
    def statements(self) -> list[str]:
        return [q["sql"] for q in self.captured_queries if not q["sql"].startswith("SET search_path")]


def listed_ids(response) -> list[int]:
    """The order numbers in a Requested Orders page, top to bottom."""
    return [int(n) for n in re.findall(r"<tr><td>#(\d+)</td>", response.content.decode())]


def next_url(response) -> str:
    """The query string of a page's Next link (keyset pages: common.pagination)."""
    return _link(response, "next")


def prev_url(response) -> str:
    return _link(response, "prev")


def _link(response, rel) -> str:
    import html
    import re

    found = re.search(rf'href="(\?[^"]*)" rel="{rel}"', response.content.decode())
    assert found, f"no {rel} link"
    return html.unescape(found[1])


def page_queries(client, url) -> list[str]:
    """The SQL a page runs, leaving out django-tenants' SET search_path (one per query)."""
    with CaptureStatements() as captured:
        response = client.get(url)
    assert response.status_code == 200
    return captured.statements


# --- The scheduler and its emails ---------------------------------------------------------


def run_scheduler(at):
    """One beat of the periodic task at the moment ``at``, through Celery (eager in tests)."""
    with time_machine.travel(at, tick=False):
        return send_due_expiry_notifications.delay().get()


def kind_of(message) -> str | None:
    """Which expiry email a message is, from its subject."""
    if "expired" in message.subject:
        return EXPIRY_SUBJECT
    if " on " in message.subject and " expire" in message.subject:
        return REMINDER_SUBJECT
    return None


def sent(kind, order=None):
    """The reminders (REMINDER_SUBJECT) or expiry notices (EXPIRY_SUBJECT) in the
    outbox, of one order if given."""
    messages = [m for m in mail.outbox if kind_of(m) == kind]
    if order is not None:
        messages = [m for m in messages if f"order #{order.pk})" in m.body]
    return messages


def notice(order, kind, lead_hours=None) -> OrderEmail | None:
    """The order's ledger row of ``kind`` (a reminder: the 72-hour one unless told)."""
    if lead_hours is None:
        lead_hours = 72 if kind == EmailKind.REMINDER else 0
    return OrderEmail.objects.filter(order=order, kind=kind, lead_hours=lead_hours).first()


def as_if_not_sent(order, kind):
    """Start again as if the order's one-off email of ``kind`` had not gone out."""
    OrderEmail.objects.filter(order=order, kind=kind).update(
        state="pending", attempts=0, sent_at=None, claimed_at=None, message_id="", error=""
    )


def email_due_at(order, kind, lead_hours=None):
    row = notice(order, kind, lead_hours)
    return row.due_at if row is not None else None


# --- Fake email providers -------------------------------------------------------------------


def api_error(status: int, reason: str) -> AnymailRequestsAPIError:
    """The error anymail raises when the provider's API answers ``status``."""
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response._content = b'{"Message": "provider says no"}'
    return AnymailRequestsAPIError("Sending a message to Postmark failed", response=response, esp_name="Postmark")


class FlakyProviderBackend(EmailBackend):
    """A fake of the email provider: raises the queued errors, one per send, then
    accepts messages and reports a message id, as anymail's backends do."""

    errors: list[Exception] = []
    accepted = 0

    def send_messages(self, messages):
        if FlakyProviderBackend.errors:
            raise FlakyProviderBackend.errors.pop(0)
        for message in messages:
            FlakyProviderBackend.accepted += 1
            message.anymail_status = SimpleNamespace(message_id=f"<msg-{FlakyProviderBackend.accepted}@provider>")
        return super().send_messages(messages)


class SlowProviderBackend(EmailBackend):
    """A provider that takes a while to accept each message, so racing runs overlap."""

    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


class CountingBackend(EmailBackend):
    """The in-memory backend, counting the connections made to it."""

    made = 0

    def __init__(self, *args, **kwargs):
        CountingBackend.made += 1
        super().__init__(*args, **kwargs)


# --- Races ----------------------------------------------------------------------------------


def race(runs: int, moment, body):
    """Run ``body`` in ``runs`` threads, each with its own database connection, all
    released at the same instant."""
    barrier = threading.Barrier(runs)
    errors = []

    def worker():
        try:
            barrier.wait()
            body()
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    with time_machine.travel(moment, tick=False):
        threads = [threading.Thread(target=worker) for _ in range(runs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []


# --- Sign-in protection and two-factor ------------------------------------------------------


OPERATOR_PASSWORD = "a-long-operator-password"


def forget_all_counts():
    """Delete the throttle's keys only (the same Redis holds Celery's queues)."""
    cache = caches[CACHE_ALIAS]
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES[CACHE_ALIAS]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def code_for(device, *, steps_ahead=0) -> str:
    """The code an authenticator app shows for the device now (or that many 30-second
    steps ahead: a code is accepted once, so a second sign-in in the same step needs
    the next one, which the device's tolerance of one step accepts)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, steps_ahead):06d}"


def set_up_authenticator(user) -> TOTPDevice:
    """What the set-up page does, through the same service functions."""
    device = two_factor.device_being_set_up(user)
    confirmed = two_factor.confirm_device(user, code_for(device))
    assert confirmed is not None
    return confirmed


def sign_in_with_code(client, user) -> TOTPDevice:
    """force_login, plus a session that has passed the code step (setting up an
    authenticator first if the user has none): what operators need for the admin."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or set_up_authenticator(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


# --- The partner API ------------------------------------------------------------------------


def make_token(partner_manager, scope="read_write", *, name="Test tool", expires_at=None) -> str:
    """A live API token made by ``partner_manager`` through the real service; the
    secret that authenticates it."""
    from api.tokens import create_token

    made = create_token(
        partner_manager.partner, name=name, scope=scope, expires_at=expires_at, acting_user=partner_manager
    )
    return made.secret


def bearer(token: str) -> dict:
    """Headers for Django's test client: the token as Authorization: Bearer."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def api_get(client, path, token, **params):
    return client.get(f"/api/v1{path}", params, **bearer(token))


def api_post(client, path, token, body=None, *, key=None):
    headers = bearer(token) | ({"HTTP_IDEMPOTENCY_KEY": key} if key else {})
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json", **headers)


# --- Webhooks: a real HTTP receiver on loopback --------------------------------------------


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records each request it gets (headers, body)
    and answers with the next of ``answers`` ((status, body, seconds to wait)),
    then 200. Use as a context manager; ``url`` is where to send."""

    def __init__(self, *answers):
        import http.server

        self.answers = list(answers)
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers.items()), "body": body, "path": self.path})
                status, text, wait = receiver.answers.pop(0) if receiver.answers else (200, "ok", 0)
                time.sleep(wait)
                payload = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (the timeout tests)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/licences"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        return [request["headers"]["webhook-id"] for request in self.requests]


def add_webhook_endpoint(partner_manager, url, *event_types):
    """An endpoint of the manager's partner, through the real service (the URL is checked)."""
    from api.webhooks import add_endpoint

    return add_endpoint(partner_manager.partner, url=url, event_types=list(event_types), acting_user=partner_manager)


# --- Customer schemas (tests/tenancy) -------------------------------------------------------


TEMPLATE = TEMPLATE_SCHEMA
LATEST = ("learners", "0007_learner_name_folded")  # adds learners_learner.name_folded

STRUCTURE = """
SELECT 'column', c.relname || '.' || a.attname,
       concat_ws(' ', format_type(a.atttypid, a.atttypmod), 'not null=' || a.attnotnull,
                 'identity=' || a.attidentity::text, 'generated=' || a.attgenerated::text,
                 'default=' || pg_get_expr(d.adbin, d.adrelid), 'storage=' || a.attstorage::text,
                 'collation=' || a.attcollation::regcollation::text, 'position=' || a.attnum)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'relation', relname, concat_ws(' ', relkind::text, relpersistence::text, reloptions::text)
  FROM pg_class WHERE relnamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'constraint', conname, concat_ws(' ', contype::text, conrelid::regclass::text, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'index', indexname, replace(indexdef, ' ON ' || %(schema)s || '.', ' ON ')
  FROM pg_indexes WHERE schemaname = %(schema)s
UNION ALL
SELECT 'sequence', c.relname, concat_ws(' ', s.seqtypid::regtype::text, s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
                                        s.seqcache, s.seqcycle)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = %(schema)s::regnamespace
ORDER BY 1, 2, 3
"""


class Statements(CaptureQueriesContext):
    """The SQL run inside the block: ``statements`` leaves out django-tenants' SET
    search_path before each query, ``search_paths`` is those alone."""

    def __init__(self):
        super().__init__(connection)

    @property
    def statements(self) -> list[str]:
        return [q["sql"] for q in self.captured_queries if not q["sql"].startswith("SET search_path")]

    @property
    def search_paths(self) -> set[str]:
        return {q["sql"] for q in self.captured_queries if q["sql"].startswith("SET search_path")}


def structure(schema: str) -> list[tuple[str, str, str]]:
    """Every column, relation, constraint, index and sequence of ``schema``, with the
    schema's own name taken out, so that two schemas can be compared."""
    with connection.cursor() as cursor:
        # With only public on the path, names in the schema come out qualified; the
        # qualification is taken out below.
        cursor.execute("SET search_path = public")
        cursor.execute(STRUCTURE, {"schema": schema})
        rows = cursor.fetchall()
    return [(kind, name, detail.replace(f"{schema}.", "")) for kind, name, detail in rows]


def applied(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def required() -> set[tuple[str, str]]:
    return set(migrations_on_disk().required)


def has_column(schema: str, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND column_name = %s)",
            [schema, table, column],
        )
        return cursor.fetchone()[0]


def migrate(*args, **options) -> tuple[str, str]:
    """call_command("migrate_schemas", ...): (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("migrate_schemas", *args, interactive=False, stdout=out, stderr=err, **options)
    finally:
        connection.set_schema_to_public()
    return out.getvalue(), err.getvalue()


def migrate_failing(*args, **options) -> tuple[str, str, CommandError]:
    """The same for a run expected to fail: (stdout, stderr, the error)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("migrate_schemas", *args, interactive=False, stdout=out, stderr=err, **options)
    connection.set_schema_to_public()
    return out.getvalue(), err.getvalue(), raised.value


def put_behind(schema: str) -> None:
    """Unapply the latest learners migration in ``schema`` with Django's own migrate."""
    migrate("learners", "0006", schema_name=schema, verbosity=0)
    assert LATEST not in applied(schema)
    assert not has_column(schema, "learners_learner", "name_folded")


# --- Many customers, public rows only (partner pages that never enter a schema) ----------


def customers_with_expiring_orders(partner, count, requested_by, expires_at, *, prefix="bulk", allocated=3):
    """``count`` customers of ``partner``, each with one assigned order of 10 licences
    expiring at ``expires_at`` (``allocated`` of them taken), written in two
    statements. Their schemas are NOT created (bulk_create skips the tenant's save):
    only for pages and reads that stay in the public schema."""
    customers = Customer.objects.bulk_create(
        [
            Customer(name=f"{prefix.title()} {n:05d}", partner=partner, schema_name=f"{prefix}_{n:05d}")
            for n in range(count)
        ]
    )
    LicenceOrder.objects.bulk_create(
        [
            LicenceOrder(
                customer=c,
                quantity=10,
                allocated_count=allocated,
                status="assigned",
                requested_by=requested_by,
                assigned_by=requested_by,
                assigned_at=expires_at - timedelta(days=365),
                expires_at=expires_at,
            )
            for c in customers
        ]
    )
    return customers
