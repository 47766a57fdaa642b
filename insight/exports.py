"""What each CSV export holds: its header and its rows, read from a server-side
cursor (``.iterator(chunk_size=…)``) as plain values, with the moments already put
on the company's clock by PostgreSQL, so Python only writes text (common.downloads
escapes every cell and streams them); the learners, who may be a hundred thousand,
as lines PostgreSQL has written whole.

Each function takes what its page takes: the customer (whose schema the stream
enters for tenant rows), or the partner's filtered orders, and never more."""

from django.db.models import Case, CharField, F, Func, Value, When
from django.db.models.functions import Coalesce, NullIf

from common.downloads import FETCH_ROWS
from common.spreadsheet import CsvCell, CsvLine
from learners import reads
from learners.models import Allocation
from licences.models import LicenceOrder

MOMENT = "YYYY-MM-DD HH24:MI"


class LocalText(Func):
    """A moment as text on ``tz``'s clock: to_char(timezone(tz, at), 'YYYY-MM-DD HH24:MI')."""

    template = f"to_char(timezone(%(expressions)s), '{MOMENT}')"
    output_field = CharField()

    def __init__(self, tz, moment):
        tz = tz if hasattr(tz, "resolve_expression") else Value(str(tz))
        super().__init__(tz, F(moment) if isinstance(moment, str) else moment)


def _name_or_email(prefix):
    return Coalesce(NullIf(F(f"{prefix}__full_name"), Value("")), F(f"{prefix}__email"), output_field=CharField())


# --- Learners, with their licence state (the Learners section, with its search) --------

LEARNER_HEADER = ("Email", "Name", "Status", "Licence", "Licence expires ({tz})", "Added ({tz})")
LICENCE_STATES = {"valid": "Valid", "expired": "Expired", "none": "No licence", "deactivated": "Deactivated"}


def _learner_rows(customer, search, licence):
    tz = customer.time_zone
    labels = [When(licence_state=state, then=Value(label)) for state, label in LICENCE_STATES.items()]
    return reads.learners_with_licence(search, licence).annotate(
        status_label=Func(F("status"), function="initcap", output_field=CharField()),
        licence_label=Case(*labels, output_field=CharField()),
        expires_text=Coalesce(LocalText(tz, "licence_expires_at"), Value("")),
        added_text=LocalText(tz, "created_at"),
    )


LEARNER_COLUMNS = ("email", "name", "status_label", "licence_label", "expires_text", "added_text")


def learners(customer, search="", licence=""):
    """The lines of the Learners section's list, as its search and licence filter show
    it, each written by PostgreSQL (common.spreadsheet.CsvLine: a hundred thousand
    learners are one string each, not six); run inside the customer's schema. The
    email and the name are people's text; the other four are our own words and
    dates (LICENCE_STATES, initcap of LearnerStatus, MOMENT), never quoted or escaped."""
    line = CsvLine(CsvCell("email"), CsvCell("name"), *LEARNER_COLUMNS[2:])
    rows = _learner_rows(customer, search, licence).annotate(line=line)
    return rows.values_list("line", flat=True).iterator(chunk_size=FETCH_ROWS)


def learners_sql(customer, search="", licence="") -> tuple[str, tuple]:
    """The SQL of the learners export's rows, with its parameters (the benchmark COPYs
    the same rows)."""
    return _learner_rows(customer, search, licence).values_list(*LEARNER_COLUMNS).query.sql_with_params()


# --- A customer's orders ------------------------------------------------------------

ORDER_HEADER = (
    "Order",
    "Licences",
    "Allocated",
    "Status",
    "Requested ({tz})",
    "Requested by",
    "Assigned ({tz})",
    "Expires ({tz})",
)


def customer_orders(customer):
    tz = customer.time_zone
    rows = (
        LicenceOrder.objects.filter(customer=customer)
        .order_by("-requested_at", "-id")
        .annotate(
            requested=LocalText(tz, "requested_at"),
            assigned=LocalText(tz, "assigned_at"),
            expires=LocalText(tz, "expires_at"),
            requester=_name_or_email("requested_by"),
        )
        .values_list("id", "quantity", "allocated_count", "status", "requested", "requester", "assigned", "expires")
    )
    for order_id, quantity, allocated, status, requested, requester, assigned, expires in rows.iterator(
        chunk_size=FETCH_ROWS
    ):
        yield f"#{order_id}", quantity, allocated, status.title(), requested, requester, assigned or "", expires or ""


# --- The allocation history (every seat ever held, renewals' history rows too) ---------

ALLOCATION_HEADER = (
    "Learner",
    "Name",
    "Order",
    "Allocated ({tz})",
    "Allocated by",
    "Expires ({tz})",
    "Ended ({tz})",
    "Ended because",
)
END_REASONS = dict(Allocation.EndReason.choices)


def allocation_history(customer):
    """Run inside the customer's schema; allocated_by joins the public users (the
    tenant's search_path holds public too)."""
    tz = customer.time_zone
    rows = (
        Allocation.objects.order_by("pk")
        .annotate(
            allocated=LocalText(tz, "allocated_at"),
            expires=LocalText(tz, "expires_at"),
            ended=LocalText(tz, "ended_at"),
            by=_name_or_email("allocated_by"),
        )
        .values_list("learner__email", "learner__name", "order_id", "allocated", "by", "expires", "ended", "end_reason")
    )
    for email, name, order_id, allocated, by, expires, ended, reason in rows.iterator(chunk_size=FETCH_ROWS):
        yield email, name, f"#{order_id}", allocated, by or "", expires, ended or "", END_REASONS.get(reason, "")


# --- The partner's orders across customers (Requested Orders, with its filters) -------

PARTNER_ORDER_HEADER = (
    "Order",
    "Customer",
    "Licences",
    "Allocated",
    "Status",
    "Requested",
    "Requested by",
    "Expires",
    "Time zone",
)


def partner_orders(orders):
    """``orders``: the Requested Orders filter set's queryset (the partner's only)."""
    tz = F("customer__time_zone")
    rows = (
        orders.order_by("-requested_at", "-id")
        .annotate(
            requested=LocalText(tz, "requested_at"),
            expires=LocalText(tz, "expires_at"),
            requester=_name_or_email("requested_by"),
        )
        .values_list(
            "id",
            "customer__name",
            "quantity",
            "allocated_count",
            "status",
            "requested",
            "requester",
            "expires",
            "customer__time_zone",
        )
    )
    for order_id, customer, quantity, allocated, status, requested, requester, expires, zone in rows.iterator(
        chunk_size=FETCH_ROWS
    ):
        yield f"#{order_id}", customer, quantity, allocated, status.title(), requested, requester, expires or "", zone
