"""The roster: adding and deactivating learners, and the learner row behind a
learner's sign-in. Seats are the seat engine's (learners.seats); these functions
call it for a new learner's automatic seat and a leaver's freed one."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import normalise_email
from learners import events, seats, signals
from learners.csv_files import looks_like_email
from learners.error_codes import LearnerError, LearnerErrorCode
from learners.models import Learner, LearnerStatus


@dataclass(frozen=True)
class LearnerAdded:
    learner: Learner
    got_licence: bool


@dataclass(frozen=True)
class LearnerDeactivated:
    learner: Learner
    freed_seat_of_order: int | None

    @property
    def freed_seat(self) -> bool:
        return self.freed_seat_of_order is not None


def add_learner(customer, email: str, name: str = "", *, acting_user, in_manage_mode=False, now=None) -> LearnerAdded:
    """One new learner, who gets a free seat automatically if there is one."""
    now = now or timezone.now()
    email = normalise_email(email)
    if not looks_like_email(email):
        raise LearnerError("Enter a valid email address.", code=LearnerErrorCode.INVALID_EMAIL)
    with customer, transaction.atomic(durable=True):
        seats.lock_pool(customer)
        if Learner.objects.filter(email=email).exists():
            raise LearnerError(f"{email} is already a learner.", code=LearnerErrorCode.ALREADY_LEARNER)
        learner = Learner.objects.create(email=email, name=(name or "").strip()[:150], created_at=now)
        outcome = seats.give_new_learners_seats(customer, [learner.pk], acting_user=acting_user, now=now)
        events.learner_added(
            customer, learner, actor=acting_user, in_manage_mode=in_manage_mode, allocated=outcome.allocated
        )
    return LearnerAdded(learner=learner, got_licence=outcome.allocated == 1)


def deactivate_learner(customer, learner_id: int, *, acting_user, in_manage_mode=False, now=None) -> LearnerDeactivated:
    """Deactivate a learner: they lose access, their seat goes back to the order for
    the rest of its validity, and their history stays.

    Raises Learner.DoesNotExist for an id not in this customer's schema."""
    now = now or timezone.now()
    with customer, transaction.atomic(durable=True):
        seats.lock_pool(customer)
        learner = Learner.objects.select_for_update().get(pk=learner_id)
        if learner.status == LearnerStatus.DEACTIVATED:
            raise LearnerError(f"{learner.email} is already deactivated.", code=LearnerErrorCode.ALREADY_DEACTIVATED)
        freed_order_id = seats.release_seat(customer, learner, now=now)
        if freed_order_id is not None:
            signals.seats_changed.send(Learner, customer=customer, now=now)
        learner.status, learner.deactivated_at = LearnerStatus.DEACTIVATED, now
        learner.save(update_fields=["status", "deactivated_at"])
        events.learner_deactivated(
            customer, learner, actor=acting_user, in_manage_mode=in_manage_mode, freed_seat_of_order=freed_order_id
        )
    return LearnerDeactivated(learner=learner, freed_seat_of_order=freed_order_id)


def ensure_learner_for_user(user) -> Learner:
    """The Learner row (in the user's customer's schema) that a learner account signs in as."""
    with user.customer:
        learner, _ = Learner.objects.get_or_create(email=normalise_email(user.email), defaults={"name": user.full_name})
    return learner
