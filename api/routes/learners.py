"""A customer's learners (list with search, licence state and expiry window; one;
add; deactivate) and its Expired Licences list. Tenant rows: read inside the
customer's schema (``with customer:``, or, for the list, its tables named with the
schema), after the customer was checked against the token's partner; the services
enter it themselves."""

from datetime import UTC, datetime, timedelta
from typing import Literal

from django.db import connection
from django.utils import timezone
from ninja import Path, Query, Router, Status

from api.auth import read_token, write_token
from api.cursors import CompiledPages, Ordering, page
from api.problems import ApiNotFound
from api.routes._common import CHANGE_PROBLEMS, COMMON_PROBLEMS, MAX_ID, acting_user, partner_customer
from api.schemas import (
    LEARNER_VALUES,
    NO_NUL,
    ExpiredLearnerList,
    LearnerAddedOut,
    LearnerDeactivatedOut,
    LearnerIn,
    LearnerList,
    LearnerOut,
    json_time,
    learner_dict,
    list_response,
)
from common.search import TRIGRAM, covering_trigrams
from learners import reads, roster
from learners.models import Allocation, Learner

router = Router(tags=["Learners"])
BY_EMAIL = Ordering("email", "id")


def _learners_with_licence(search, licence, now, days):
    """The Learners list (learners.reads), of the learners expiring within ``days``
    days if given, as its rows."""
    learners = reads.learners_with_licence(search, licence, now)
    if days is not None:
        learners = learners.filter(reads.expiring_within(days, now))
    return learners.values(*LEARNER_VALUES)


# The list's SQL, compiled once per shape (api.cursors): what its parameters are made
# of, as learners.reads makes them: the moment, the end of the expiry window, and the
# search as matching() compares it (a LIKE pattern, its three-letter pieces).
LEARNER_PAGES = CompiledPages(
    _learners_with_licence,
    BY_EMAIL,
    [
        lambda v: v["now"],
        lambda v: v["now"] + timedelta(days=v["days"]),
        lambda v: f"%{connection.ops.prep_for_like_query(v['search'])}%",
        lambda v: covering_trigrams(v["search"]),
    ],
    first_sample="zz-cursor@sample.invalid",
    tables={Learner: None, Allocation: None},
)
_SAMPLE_NOW = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_SAMPLE_DAYS = 1234
_SAMPLE_SEARCHES = ("qj", "qjxwvkqzy")  # shorter than a trigram, or not


def _learner(customer, learner_id) -> dict:
    """One learner with their licence, read in the customer's schema."""
    with customer:
        learner = reads.learners_with_licence().filter(pk=learner_id).values(*LEARNER_VALUES).first()
    if learner is None:
        raise ApiNotFound("No such learner.")
    return learner_dict(learner)


@router.get("/customers/{customer_id}/learners", response={200: LearnerList, **COMMON_PROBLEMS}, auth=read_token)
def list_learners(
    request,
    customer_id: int = Path(..., ge=1, le=MAX_ID),
    search: str = Query("", max_length=100, pattern=NO_NUL, description="Part of the email or name."),
    licence: Literal["valid", "expired", "none", "deactivated"] | None = Query(None),
    expires_within_days: int | None = Query(
        None, ge=1, le=3650, description="Only learners whose valid seat expires within this many days."
    ),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(25, ge=1, le=100),
):
    """The customer's learners by email, each with their licence state and expiry (the Learners section)."""
    customer = partner_customer(request, customer_id)
    folded = search.strip().lower()
    sample = _SAMPLE_SEARCHES[len(folded) >= TRIGRAM] if folded else ""
    found = LEARNER_PAGES.page(
        (bool(folded), len(folded) >= TRIGRAM, expires_within_days is not None),
        {"licence": licence or ""},
        {"search": folded, "now": timezone.now(), "days": expires_within_days},
        {"search": sample, "now": _SAMPLE_NOW, "days": _SAMPLE_DAYS if expires_within_days else None},
        cursor,
        limit,
        schema=customer.schema_name,
    )
    return list_response([learner_dict(row, json_time) for row in found.rows], found.next_cursor)


@router.get(
    "/customers/{customer_id}/learners/expired", response={200: ExpiredLearnerList, **COMMON_PROBLEMS}, auth=read_token
)
def list_expired_learners(
    request,
    customer_id: int = Path(..., ge=1, le=MAX_ID),
    search: str = Query("", max_length=100, pattern=NO_NUL),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(25, ge=1, le=100),
):
    """The Expired Licences list: active learners whose licence expired, with that expiry, by email."""
    customer = partner_customer(request, customer_id)
    with customer:
        learners = reads.expired_learners(search.strip()).only("email", "name")
        found = page(learners, BY_EMAIL, cursor, limit)
    items = [{"id": x.pk, "email": x.email, "name": x.name, "last_expiry": x.last_expiry} for x in found.rows]
    return {"items": items, "next_cursor": found.next_cursor}


@router.get(
    "/customers/{customer_id}/learners/{learner_id}", response={200: LearnerOut, **COMMON_PROBLEMS}, auth=read_token
)
def get_learner(request, customer_id: int = Path(..., ge=1, le=MAX_ID), learner_id: int = Path(..., ge=1, le=MAX_ID)):
    return _learner(partner_customer(request, customer_id), learner_id)


@router.post("/customers/{customer_id}/learners", response={201: LearnerAddedOut, **CHANGE_PROBLEMS}, auth=write_token)
def add_learner(request, body: LearnerIn, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    """Add Learner: a new learner gets a free seat automatically when there is one.
    `already_learner` (409) for an email the customer has already."""
    customer = partner_customer(request, customer_id)
    added = roster.add_learner(customer, body.email, body.name, acting_user=acting_user(request))
    return Status(201, {"learner": _learner(customer, added.learner.pk), "got_licence": added.got_licence})


@router.post(
    "/customers/{customer_id}/learners/{learner_id}/deactivate",
    response={200: LearnerDeactivatedOut, **CHANGE_PROBLEMS},
    auth=write_token,
)
def deactivate_learner(
    request, customer_id: int = Path(..., ge=1, le=MAX_ID), learner_id: int = Path(..., ge=1, le=MAX_ID)
):
    """Deactivate a learner: they lose access at once, and a still-valid seat goes back to its order.
    `already_deactivated` (409) if they are."""
    customer = partner_customer(request, customer_id)
    try:
        done = roster.deactivate_learner(customer, learner_id, acting_user=acting_user(request))
    except Learner.DoesNotExist:
        raise ApiNotFound("No such learner.") from None
    return {"learner": _learner(customer, learner_id), "freed_seat_of_order": done.freed_seat_of_order}
