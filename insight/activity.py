"""The Activity log: the partner's (its own events and all its customers') and one
customer's, newest first, a keyset page at a time, each event as a sentence with
who, which company, when on the viewer's clock and a link to what it concerns.

Isolation (rule 1): a partner's log is the events whose ``partner`` is that partner
(``accounts.audit.record`` sets it from the customer for every customer event); a
customer's log is the events whose ``customer`` is that customer. Nothing else is
ever read.

Pagination walks (at, id) downwards with a row comparison, ``(at, id) < (…, …)``,
which PostgreSQL runs as a range of the indexes on (partner | customer | actor,
[action,] at, id): no COUNT and no OFFSET, so page 1,000 costs what page 1 costs."""

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from urllib.parse import quote_plus, urlencode
from zoneinfo import ZoneInfo

from django.db import DEFAULT_DB_ALIAS
from django.db.models import BooleanField, DateTimeField, F, Func, IntegerField, Value, prefetch_related_objects
from django.http import QueryDict
from django.urls import reverse

from accounts.models import AuditEvent, User
from api.models import WebhookEndpoint
from common import local_time
from common.db import compiled_timestamps
from common.downloads import FETCH_ROWS
from insight.sentences import Line, sentence, who
from learners.models import Learner

Action = AuditEvent.Action
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR = re.compile(r"^(\d{1,17})\.(\d{1,18})$")
UTC_ZONE = ZoneInfo("UTC")
# What a row shows, and no column more (every row is read on every page): the event,
# who did it, and the customer's name, clock and state. Who's company is not joined:
# see with_companies.
EVENT_FIELDS = ("at", "action", "details", "in_manage_mode", "partner_id", "customer_id")
ACTOR_FIELDS = ("actor__full_name", "actor__email", "actor__role", "actor__partner", "actor__customer")
CUSTOMER_FIELDS = ("customer__name", "customer__time_zone", "customer__is_active")
# An actor's columns, as the Who list reads them too (filters.ActivityFilter.managers),
# and a customer's, as the name search reads them (filters.ActivityFilter.filter_customer).
ACTOR_COLUMNS = ("id", "full_name", "email", "role", "partner_id", "customer_id")
CUSTOMER_COLUMNS = ("id", "name", "time_zone", "is_active")
_OTHERS_FIELDS = ("full_name", "email", "role", "partner__name", "customer__name")


@functools.cache
def _model_order(model, columns):
    return [columns.index(f.attname) for f in model._meta.concrete_fields if f.attname in columns]


def from_row(model, columns, row):
    """A ``model`` instance of a row of ``columns`` read by hand (Model.from_db takes
    the values in the model's order of fields, not in the columns')."""
    return model.from_db(DEFAULT_DB_ALIAS, columns, [row[i] for i in _model_order(model, columns)])


def partner_events(partner):
    return AuditEvent.objects.filter(partner=partner)


def customer_events(customer):
    return AuditEvent.objects.filter(customer=customer)


def newest_first(events, *, customer=None, actors=True, customers=True):
    """``events`` newest first, with what their rows show. A customer's log is all
    ``customer``'s own: its row is not joined again (``with_companies`` puts it back).
    Without ``actors``, a customer's page's: who did it is not joined either, but
    taken from the Who list's people (``with_actors``). Without ``customers``, a
    partner's page's name search: its customers were read by the search, not joined
    (``with_companies`` puts them back)."""
    if customer is not None:
        if not actors:
            return events.only(*EVENT_FIELDS, "actor").order_by("-at", "-id")
        return events.select_related("actor").only(*EVENT_FIELDS, *ACTOR_FIELDS).order_by("-at", "-id")
    if not customers:
        return events.select_related("actor").only(*EVENT_FIELDS, *ACTOR_FIELDS).order_by("-at", "-id")
    fields = (*EVENT_FIELDS, *ACTOR_FIELDS, *CUSTOMER_FIELDS)
    return events.select_related("actor", "customer").only(*fields).order_by("-at", "-id")


def with_actors(events, people: dict[int, tuple]):
    """``events`` (from newest_first without actors) with their actors: from
    ``people`` (id: a row of ACTOR_COLUMNS, the Who list's managers, read anyway),
    one User for each, and anyone else (a learner, an operator) read in one query for
    all of them. A customer page's actors are nearly always its managers and its
    partner's, so its log is read without a join and 25 copies of the same few people.
    Anyone else's company is read with them (a query fewer for with_companies)."""
    actors = {}
    others = {event.actor_id for event in events if event.actor_id is not None and event.actor_id not in people}
    if others:  # with their companies, which with_companies would read next
        found = User.objects.filter(pk__in=others).select_related("partner", "customer")
        actors = {user.pk: user for user in found.only(*_OTHERS_FIELDS)}
    for event in events:
        if event.actor_id is None:
            continue
        actor = actors.get(event.actor_id)
        if actor is None:
            actor = actors[event.actor_id] = from_row(User, ACTOR_COLUMNS, people[event.actor_id])
        event.actor = actor
    return events


def with_companies(events, *, partner, customer=None, customers=None):
    """``events`` (from newest_first) with their customer and their actors' companies
    set from what the page has loaded, not joined again: the customer (its own log), or
    the ``customers`` (id: Customer) a name search found; people act only for their own
    company, so an actor's partner is the log's partner (``partner``, the customer's on
    its page) and a customer's person's is the event's customer. Anyone else's (a
    customer since moved to another partner) is read in one query for all of them."""
    elsewhere = []
    for event in events:
        if customer is not None:
            event.customer = customer  # its own log
        elif customers is not None and event.customer_id in customers:
            event.customer = customers[event.customer_id]
        actor = event.actor
        if actor is None:
            continue
        if actor.partner_id is not None:
            if actor.partner_id == partner.pk:
                actor.partner = partner
            else:
                elsewhere.append(actor)
        if actor.customer_id is not None:
            if actor.customer_id == event.customer_id:
                actor.customer = event.customer
            else:
                elsewhere.append(actor)
    if elsewhere:
        prefetch_related_objects(elsewhere, "partner", "customer")
    return events


# --- Keyset pagination ---------------------------------------------------------------


class _RowCompare(Func):
    """``(at, id) < (moment, id)`` (or ``>``): one row comparison, an index range."""

    conditional = True
    output_field = BooleanField()
    operator = "<"

    def __init__(self, at, pk):
        super().__init__(
            F("at"), F("id"), Value(at, output_field=DateTimeField()), Value(pk, output_field=IntegerField())
        )

    def as_sql(self, compiler, connection, **extra):
        parts, params = [], []
        for expression in self.source_expressions:
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        return f"({parts[0]}, {parts[1]}) {self.operator} ({parts[2]}, {parts[3]})", params


class Before(_RowCompare):
    operator = "<"


class After(_RowCompare):
    operator = ">"


def encode_cursor(event) -> str:
    return f"{(event.at - EPOCH) // timedelta(microseconds=1)}.{event.pk}"


def decode_cursor(text) -> tuple[datetime, int] | None:
    """(at, id) from a page link; None for anything else (the newest page)."""
    match = CURSOR.match(text or "")
    if not match:
        return None
    micros, pk = int(match[1]), int(match[2])
    if pk >= 2**63:
        return None
    try:
        return EPOCH + timedelta(microseconds=micros), pk
    except OverflowError:
        return None


@dataclass
class KeysetPage:
    object_list: list
    has_older: bool
    has_newer: bool
    query: QueryDict  # the filters, without before/after
    older_cursor: str = ""
    newer_cursor: str = ""

    def _url(self, **cursor) -> str:
        query = self.query.copy()
        for key in ("before", "after"):
            query.pop(key, None)
        query.update(cursor)
        return "?" + query.urlencode()

    @property
    def older_url(self) -> str:
        return self._url(before=self.older_cursor)

    @property
    def newer_url(self) -> str:
        return self._url(after=self.newer_cursor)

    @property
    def newest_url(self) -> str:
        return self._url()

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def keyset_page(events, request_query: QueryDict, per_page: int, *, query: QueryDict) -> KeysetPage:
    """One page of ``events`` (unordered), newest first: after ``?before=`` (older
    than that event), or before ``?after=`` (newer, for Newer); the newest without.
    ``query``: the filters the page's links keep."""
    after = decode_cursor(request_query.get("after"))
    before = decode_cursor(request_query.get("before"))
    if after is not None:
        with compiled_timestamps():  # a row's ``at`` for a fifth of what Django's loader costs
            rows = list(events.filter(After(*after)).order_by("at", "id")[: per_page + 1])
        has_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        has_older = bool(rows)
    else:
        if before is not None:
            events = events.filter(Before(*before))
        with compiled_timestamps():
            rows = list(events.order_by("-at", "-id")[: per_page + 1])
        has_older = len(rows) > per_page
        rows = rows[:per_page]
        has_newer = before is not None and bool(rows)
    page = KeysetPage(rows, has_older=has_older, has_newer=has_newer, query=query)
    if rows:
        page.newer_cursor, page.older_cursor = encode_cursor(rows[0]), encode_cursor(rows[-1])
    return page


# --- Entries: what a row of the page shows ---------------------------------------------


@dataclass
class Link:
    label: str
    url: str
    # What must still exist for the link to be shown: ("endpoint" | "learner", id).
    needs: tuple | None = None


@dataclass
class Entry:
    event: AuditEvent
    sentence: str
    who: str
    customer: str
    tz: ZoneInfo
    link: Link | None = field(default=None)

    @property
    def when(self) -> str:
        return local_time.time_element(self.event.at, self.tz)

    @property
    def kind(self) -> str:
        return self.event.get_action_display()


def _id(event, key):
    value = (event.details or {}).get(key) if isinstance(event.details, dict) else None
    return value if isinstance(value, int) and 0 < value < 2**63 else None


def _partner_link(event, path) -> Link | None:
    """Where a partner manager can see what the event concerns (``path``: reverse)."""
    customer, action = event.customer, event.action
    live_customer = customer is not None and customer.is_active
    if action in (Action.ORDER_REQUESTED, Action.ORDER_ASSIGNED, Action.ORDER_CANCELLED) and live_customer:
        return Link("Requested Orders", f"{path('licences:partner_orders')}?status=any&customer={customer.pk}")
    if action == Action.REMINDER_SCHEDULE_CHANGED:
        if customer is None:
            return Link("Notification settings", path("notifications:partner_settings"))
        if live_customer:
            return Link("Notification settings", path("notifications:customer_settings", customer.pk))
        return None
    if action == Action.TWO_FACTOR_REQUIREMENT_CHANGED:
        return Link("Security", path("partners:two_factor_requirement"))
    if action in (Action.API_TOKEN_CREATED, Action.API_TOKEN_REVOKED):
        return Link("API", path("api_page:index"))
    if action.startswith("webhook") and action != Action.WEBHOOK_ENDPOINT_REMOVED:
        endpoint_id = _id(event, "endpoint_id")
        if endpoint_id:
            return Link("Webhook endpoint", path("api_page:endpoint", endpoint_id), ("endpoint", endpoint_id))
        return None
    if live_customer and action not in (Action.SIGN_IN_FAILED, Action.SIGN_IN_LOCKED_OUT):
        return Link("Company", f"{path('licences:companies')}?q={quote_plus(customer.name)}")  # as urlencode
    return None


def _customer_link(event, path) -> Link | None:
    """Where the customer's managers can see what the event concerns (``path``: reverse)."""
    action = event.action
    if action in (Action.ORDER_REQUESTED, Action.ORDER_ASSIGNED, Action.ORDER_CANCELLED):
        return Link("Orders", path("licences:orders"))
    if action in (Action.LEARNERS_ADDED, Action.LEARNER_DEACTIVATED):
        learner_id, email = _id(event, "learner_id"), (event.details or {}).get("email")
        if learner_id and isinstance(email, str):
            query = urlencode({"q": email[:100]})
            return Link("Learner", f"{path('learners:list')}?{query}", ("learner", learner_id))
        return Link("Learners", path("learners:list"))
    if action in (Action.LICENCES_ALLOCATED, Action.LICENCES_RENEWED):
        return Link("Learners", path("learners:list"))
    return None


def _still_there(kind: str, ids: set[int], *, partner=None) -> set[int]:
    if not ids:
        return set()
    if kind == "endpoint":
        return set(WebhookEndpoint.objects.filter(partner=partner, pk__in=ids).values_list("pk", flat=True))
    return set(Learner.objects.filter(pk__in=ids).values_list("pk", flat=True))  # the current tenant's


def _clock(event, *, customer=None, partner=None):
    """Whose clock an event is read on: the customer's page uses its own; the
    partner's page each event's customer's, and its own for its own events."""
    if customer is not None:
        return customer.tzinfo
    if event.customer is not None:
        return event.customer.tzinfo
    return partner.tzinfo if partner is not None else UTC_ZONE


def entries(events, *, partner=None, customer=None, people=None, customers=None) -> list[Entry]:
    """The page's rows: a partner's (``partner``) or a customer's (``customer``, in
    its schema) view of ``events``; at most one query per kind of link checked, one
    for people from elsewhere (with_companies), and, given ``people`` (with_actors,
    for events read without their actors), one for actors not among them.
    ``customers``: those of events read without theirs (newest_first)."""
    rows = []
    # Each link's path reversed once a page, not once a row.
    path = functools.cache(lambda name, *args: reverse(name, args=args))
    events = list(events) if people is None else with_actors(list(events), people)
    log_partner = customer.partner if customer else partner
    for event in with_companies(events, partner=log_partner, customer=customer, customers=customers):
        tz = _clock(event, customer=customer, partner=partner)
        line = Line(event=event, who=who(event), customer=event.customer.name if event.customer else "", tz=tz)
        link = _customer_link(event, path) if customer is not None else _partner_link(event, path)
        rows.append(Entry(event, sentence(line), line.who, line.customer, tz, link))
    needed: dict[str, set[int]] = {}
    for row in rows:
        if row.link is not None and row.link.needs:
            needed.setdefault(row.link.needs[0], set()).add(row.link.needs[1])
    present = {kind: _still_there(kind, ids, partner=partner) for kind, ids in needed.items()}
    for row in rows:
        if row.link is not None and row.link.needs and row.link.needs[1] not in present[row.link.needs[0]]:
            row.link = None
    return rows


def export_rows(events, *, customer=None, partner=None):
    """The Activity export's rows, from a server-side cursor (see common.downloads)."""
    log_partner = customer.partner if customer is not None else partner
    rows = newest_first(events, customer=customer).iterator(chunk_size=FETCH_ROWS)
    # A batch at a time, as the cursor fetches them: the companies of people from
    # elsewhere (a customer since moved to another partner) in one query a batch, not
    # one an event; memory stays flat.
    while batch := list(islice(rows, FETCH_ROWS)):
        with_companies(batch, partner=log_partner, customer=customer)
        for event in batch:
            tz = _clock(event, customer=customer, partner=partner)
            line = Line(event=event, who=who(event), customer=event.customer.name if event.customer else "", tz=tz)
            actor = event.actor
            yield (
                event.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                str(tz),
                actor.get_full_name() if actor else line.who,
                actor.email if actor else "",
                line.customer,
                "yes" if event.in_manage_mode else "no",
                event.get_action_display(),
                sentence(line),
            )


EXPORT_HEADER = ("When", "Time zone", "Who", "Email", "Customer", "Manage mode", "Event", "What happened")
