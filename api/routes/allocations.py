"""Seats: allocate, and renew expired learners, by learner ids or by emails, with the
outcome counts and reasons the pages show. The seat engine (learners.seats) does the
work, under the customer's pool lock; these endpoints only say whom. Renew early
moves learners expiring within a window onto seats of later orders, as the Expiring
Soon tab does."""

from django.core.exceptions import ValidationError
from ninja import Path, Router

from accounts.models import normalise_email
from api.auth import write_token
from api.routes._common import CHANGE_PROBLEMS, MAX_ID, acting_user, partner_customer
from api.schemas import AllocationOut, RenewEarlySelection, RenewSelection, SeatSelection
from learners import reads, seats
from learners.models import Learner

router = Router(tags=["Allocations"])


def _check_order(customer, order_id):
    if order_id is not None and not reads.seat_sources(customer, order_id=order_id):
        raise ValidationError({"order_id": ["Choose one of the customer's valid orders with free licences."]})


def _whom(customer, selection) -> tuple[list[int], int, dict[str, int]]:
    """(learner ids, how many were named, reasons counted for names that are no learner)."""
    if (selection.learner_ids is None) == (selection.emails is None):
        raise ValidationError({"learner_ids": ["Give either learner_ids or emails."]})
    if selection.learner_ids is not None:
        ids = sorted(set(selection.learner_ids))
        reasons = {"duplicate": len(selection.learner_ids) - len(ids)}
        return ids, len(selection.learner_ids), reasons
    emails, seen, duplicates = [], set(), 0
    for email in selection.emails:
        email = normalise_email(email)
        if email in seen:
            duplicates += 1
        else:
            seen.add(email)
            emails.append(email)
    with customer:
        found = dict(Learner.objects.filter(email__in=emails).values_list("email", "pk"))
    return (
        list(found.values()),
        len(selection.emails),
        {"duplicate": duplicates, "unknown_email": len(emails) - len(found)},
    )


def _outcome(outcome, requested: int, named: int, reasons: dict[str, int], skipped="not_eligible") -> dict:
    not_allocated = {
        **reasons,
        skipped: named - outcome.eligible,
        "not_enough_licences": outcome.not_allocated,
    }
    return {
        "requested": requested,
        "eligible": outcome.eligible,
        "allocated": outcome.allocated,
        "not_allocated": {reason: n for reason, n in not_allocated.items() if n > 0},
        "orders": outcome.order_counts,
    }


@router.post(
    "/customers/{customer_id}/allocations/allocate", response={200: AllocationOut, **CHANGE_PROBLEMS}, auth=write_token
)
def allocate(request, body: SeatSelection, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    """Give a seat to each named learner who holds no valid one (never licensed, or expired), while seats last;
    seats come from the valid order that expires last unless `order_id` says which."""
    customer = partner_customer(request, customer_id)
    _check_order(customer, body.order_id)
    ids, requested, reasons = _whom(customer, body)
    outcome = seats.allocate(customer, ids, acting_user=acting_user(request), order_id=body.order_id)
    return _outcome(outcome, requested, len(ids), reasons)


@router.post(
    "/customers/{customer_id}/allocations/renew-expired",
    response={200: AllocationOut, **CHANGE_PROBLEMS},
    auth=write_token,
)
def renew_expired(request, body: RenewSelection, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    """Expired Licences → Allocate Licences: renew the named expired learners, or with `select_all` every
    expired learner matching `search`. Learners no longer expired are skipped (`not_eligible`)."""
    customer = partner_customer(request, customer_id)
    _check_order(customer, body.order_id)
    user = acting_user(request)
    if body.select_all:
        if body.learner_ids is not None or body.emails is not None:
            raise ValidationError({"select_all": ["Give select_all, or learner ids or emails, not both."]})
        outcome = seats.renew_expired(
            customer, acting_user=user, select_all=True, search=body.search.strip(), order_id=body.order_id
        )
        return _outcome(outcome, outcome.eligible, outcome.eligible, {})
    ids, requested, reasons = _whom(customer, body)
    outcome = seats.renew_expired(customer, acting_user=user, learner_ids=ids, order_id=body.order_id)
    return _outcome(outcome, requested, len(ids), reasons)


@router.post(
    "/customers/{customer_id}/allocations/renew-early",
    response={200: AllocationOut, **CHANGE_PROBLEMS},
    auth=write_token,
)
def renew_early(request, body: RenewEarlySelection, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    """Expiring Soon → Renew Early: move the named learners whose seat expires within `days` days (or, with
    `select_all`, every such learner matching `search`) onto seats of orders that expire after every selected
    learner's seat, before they lose access; their current seats go back to their orders. Learners not expiring
    in the window are skipped (`not_expiring`); an `order_id` that does not expire later is a 409."""
    customer = partner_customer(request, customer_id)
    _check_order(customer, body.order_id)
    user = acting_user(request)
    if body.select_all:
        if body.learner_ids is not None or body.emails is not None:
            raise ValidationError({"select_all": ["Give select_all, or learner ids or emails, not both."]})
        outcome = seats.renew_early(
            customer,
            acting_user=user,
            select_all=True,
            search=body.search.strip(),
            days=body.days,
            order_id=body.order_id,
        )
        return _outcome(outcome, outcome.eligible, outcome.eligible, {}, skipped="not_expiring")
    ids, requested, reasons = _whom(customer, body)
    outcome = seats.renew_early(customer, acting_user=user, learner_ids=ids, days=body.days, order_id=body.order_id)
    return _outcome(outcome, requested, len(ids), reasons, skipped="not_expiring")
