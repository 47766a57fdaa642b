"""What the API reads and returns, as typed schemas (the OpenAPI document is built
from them), and the one place that turns rows into those shapes: the responses and
the webhook payloads use the same functions, so an order looks the same in both.

Request bodies are strict (a number is a JSON number, unknown fields are refused)
and every string is bounded and free of NUL characters, which PostgreSQL cannot
store: what the schema allows is what the services accept."""

import json
from datetime import datetime
from typing import Annotated, Literal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from learners.csv_files import EMAIL_PATTERN

NO_NUL = r"^[^\x00]*$"
# The learner services' own test of an address (learners.csv_files), less control characters.
EMAIL = EMAIL_PATTERN.pattern.replace(r"[^@\s", r"[^@\s\x00-\x1f\x7f")

Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL)]
MAX_IDS = 1_000
# The largest id a path or a body may name: PostgreSQL's bigint.
MAX_ID = 2**63 - 1
MAX_EMAILS = 10_000


def text(max_length: int, *, min_length: int = 0):
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)]


class Schema(BaseModel):
    """Plain pydantic models (not ninja.Schema, whose per-object resolver is most of
    the cost of a list's 25 rows): the endpoints build plain dicts."""


def _same(value):
    return value


# A moment as the API's JSON gives it (ninja's encoder is Django's): ISO 8601, to the
# millisecond, "Z" for UTC.
_encoded_time = DjangoJSONEncoder().default


def json_time(value: datetime | None) -> str | None:
    return None if value is None else _encoded_time(value)


def list_response(items: list[dict], next_cursor: str | None) -> HttpResponse:
    """A list's page as ninja would render it, from items already in their JSON
    shape (times through ``json_time``): the big lists skip pydantic's check and
    dump of rows the SQL already typed, and the JSON encoder's call per moment,
    which cost as much as the list's query. The endpoint keeps its declared schema
    for the OpenAPI document; tests/api hold the responses to it."""
    body = json.dumps({"items": items, "next_cursor": next_cursor})
    return HttpResponse(body, content_type="application/json; charset=utf-8")


class Body(Schema):
    model_config = ConfigDict(strict=True, extra="forbid")


# --- Problems (RFC 9457) ------------------------------------------------------------------


class FieldError(Schema):
    field: str = Field(description="Where: the body field, query or header parameter.")
    message: str
    code: str


class Problem(Schema):
    type: str = Field(description="A URI naming the problem: `about:blank`, or `urn:licences:problem:<code>`.")
    title: str
    status: int
    detail: str
    code: str = Field(description="A stable code: the service error codes, or the API's own.")
    errors: list[FieldError] = Field(default_factory=list, description="Field errors, for validation problems.")


# --- Customers ---------------------------------------------------------------------------


class Pool(Schema):
    total: int = Field(description="Licences of the customer's valid (assigned, unexpired) orders.")
    allocated: int
    free: int
    next_expiry: datetime | None


class CustomerOut(Schema):
    id: int
    name: str
    time_zone: str
    created_at: datetime
    pool: Pool


class CustomerList(Schema):
    items: list[CustomerOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class CustomerIn(Body):
    name: text(200, min_length=1)
    time_zone: text(64) | None = Field(None, description="An IANA time zone, e.g. Europe/London (the default).")


def pool_dict(total, allocated, next_expiry) -> dict:
    total, allocated = total or 0, allocated or 0
    return {"total": total, "allocated": allocated, "free": total - allocated, "next_expiry": next_expiry}


def customer_dict(customer, pool: dict) -> dict:
    return {
        "id": customer.pk,
        "name": customer.name,
        "time_zone": customer.time_zone,
        "created_at": customer.created_at,
        "pool": pool,
    }


# --- Orders ------------------------------------------------------------------------------


OrderStatusName = Literal["requested", "assigned", "cancelled"]


class CustomerRef(Schema):
    id: int
    name: str


class PersonRef(Schema):
    id: int
    name: str
    email: str


class OrderOut(Schema):
    id: int
    customer: CustomerRef
    quantity: int
    status: OrderStatusName
    allocated: int = Field(description="Seats allocated from this order.")
    free: int
    requested_at: datetime
    requested_by: PersonRef
    assigned_at: datetime | None
    expires_at: datetime | None = Field(description="Assigned orders: 12 calendar months after assignment.")
    cancelled_at: datetime | None


class OrderList(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class OrderIn(Body):
    quantity: int = Field(ge=1, le=settings.LICENCE_ORDER_MAX_QUANTITY, description="Number of licences.")


ORDER_VALUES = (
    "id",
    "quantity",
    "status",
    "allocated_count",
    "requested_at",
    "assigned_at",
    "expires_at",
    "cancelled_at",
    "customer_id",
    "customer__name",
    "requested_by_id",
    "requested_by__full_name",
    "requested_by__email",
)


def order_dict(values: dict, time=_same) -> dict:
    """An order from a ``.values(*ORDER_VALUES)`` row; ``time=json_time`` for a
    list_response item."""
    return {
        "id": values["id"],
        "customer": {"id": values["customer_id"], "name": values["customer__name"]},
        "quantity": values["quantity"],
        "status": values["status"],
        "allocated": values["allocated_count"],
        "free": values["quantity"] - values["allocated_count"],
        "requested_at": time(values["requested_at"]),
        "requested_by": {
            "id": values["requested_by_id"],
            "name": values["requested_by__full_name"] or values["requested_by__email"],
            "email": values["requested_by__email"],
        },
        "assigned_at": time(values["assigned_at"]),
        "expires_at": time(values["expires_at"]),
        "cancelled_at": time(values["cancelled_at"]),
    }


def order_dict_of(order) -> dict:
    """An order from a model instance (its customer and requester loaded or loadable)."""
    requester = order.requested_by
    return order_dict(
        {
            **{name: getattr(order, name) for name in ORDER_VALUES if "__" not in name},
            "customer__name": order.customer.name,
            "requested_by__full_name": requester.full_name,
            "requested_by__email": requester.email,
        }
    )


# --- Learners and seats ---------------------------------------------------------------------

LicenceState = Literal["valid", "expired", "none", "deactivated"]


class Licence(Schema):
    state: LicenceState = Field(description="valid, expired, none (never licensed) or deactivated (the learner).")
    expires_at: datetime | None = Field(description="When the learner's current seat expires (or expired).")


class LearnerOut(Schema):
    id: int
    email: str
    name: str
    status: Literal["active", "deactivated"]
    created_at: datetime
    deactivated_at: datetime | None
    licence: Licence


class LearnerList(Schema):
    items: list[LearnerOut]
    next_cursor: str | None


class LearnerIn(Body):
    email: Email
    name: text(150) = ""


class LearnerAddedOut(Schema):
    learner: LearnerOut
    got_licence: bool = Field(description="Whether a free seat was given automatically.")


class LearnerDeactivatedOut(Schema):
    learner: LearnerOut
    freed_seat_of_order: int | None = Field(description="The order a still-valid seat went back to, if any.")


class ExpiredLearnerOut(Schema):
    id: int
    email: str
    name: str
    last_expiry: datetime


class ExpiredLearnerList(Schema):
    items: list[ExpiredLearnerOut]
    next_cursor: str | None


# What a learner's row holds, from learners.reads.learners_with_licence.
LEARNER_VALUES = (
    "id",
    "email",
    "name",
    "status",
    "created_at",
    "deactivated_at",
    "licence_state",
    "licence_expires_at",
)


def learner_dict(values: dict, time=_same) -> dict:
    """A learner from a ``.values(*LEARNER_VALUES)`` row; ``time=json_time`` for a
    list_response item."""
    return {
        "id": values["id"],
        "email": values["email"],
        "name": values["name"],
        "status": values["status"],
        "created_at": time(values["created_at"]),
        "deactivated_at": time(values["deactivated_at"]),
        "licence": {"state": values["licence_state"], "expires_at": time(values["licence_expires_at"])},
    }


class SeatSelection(Body):
    """Who: learner ids, or emails (each looked up among the customer's learners)."""

    learner_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(None, max_length=MAX_IDS)
    emails: list[Email] | None = Field(None, max_length=MAX_EMAILS)
    order_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Take the seats from this order only (a valid one with free seats)."
    )


class RenewSelection(SeatSelection):
    select_all: bool = Field(False, description="Every expired learner matching `search`, on every page.")
    search: text(100) = ""


class RenewEarlySelection(SeatSelection):
    select_all: bool = Field(
        False, description="Every learner expiring within `days` days matching `search`, on every page."
    )
    search: text(100) = ""
    days: Literal[7, 30, 60, 90] = Field(30, description="The Expiring Soon window, in days.")


class AllocationOut(Schema):
    requested: int = Field(description="Learners named (or, with select_all, expired learners matched).")
    eligible: int = Field(description="Of those, the ones who could get a seat (active, without a valid one).")
    allocated: int = Field(description="Seats given (renewed, for a renewal).")
    not_allocated: dict[str, int] = Field(
        description="Why the others got none: not_enough_licences (for a renewal early: in later orders), "
        "not_eligible (already valid or deactivated), not_expiring (renew early: not expiring in the window), "
        "unknown_email, duplicate."
    )
    orders: dict[str, int] = Field(description="Seats taken per order id.")


# --- Expiries, the notification ledger, the audit log -----------------------------------------


class NoticeOut(Schema):
    kind: Literal["licence_request", "licences_ready", "reminder", "expiry"]
    lead_hours: int = Field(description="Reminders: how many hours before expiry; 0 for the other kinds.")
    state: Literal["pending", "claimed", "retrying", "sent", "skipped", "failed"]
    due_at: datetime
    claimed_at: datetime | None
    sent_at: datetime | None
    attempts: int
    recipient_count: int
    error: str


class ExpiringOrderOut(Schema):
    order_id: int
    customer: CustomerRef
    quantity: int
    allocated: int
    expires_at: datetime
    expired: bool
    notices: list[NoticeOut]


class ExpiringOrderList(Schema):
    items: list[ExpiringOrderOut]
    next_cursor: str | None


class LedgerEntryOut(NoticeOut):
    id: int
    order_id: int


class LedgerList(Schema):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class AuditEventOut(Schema):
    id: int
    at: datetime
    action: str
    actor: str | None = Field(description="The acting person's email; null for the platform itself.")
    customer_id: int | None
    in_manage_mode: bool
    details: dict


class AuditEventList(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None


def notice_dict(notice) -> dict:
    return {
        "kind": notice.kind,
        "lead_hours": notice.lead_hours,
        "state": notice.state,
        "due_at": notice.due_at,
        "claimed_at": notice.claimed_at,
        "sent_at": notice.sent_at,
        "attempts": notice.attempts,
        "recipient_count": notice.recipient_count,
        "error": notice.error,
    }
