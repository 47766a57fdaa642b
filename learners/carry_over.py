"""Carry-over at expiry, on purpose only: a customer may choose that, when one of its
orders expires, the expiry job moves the order's active learners to free seats of
later orders (learners.seats, the same engine as every renewal).

- Off by default; turning it on or off is audited. ``on_since`` is when it was last
  turned on: an order that had already expired by then is never carried over (its
  learners had lost access before anyone chose this), and deactivated learners never
  are (the engine gives seats to active learners only).
- It runs at most once per order, at or after the order's ``expires_at``, from the
  expiry notice's sending (notifications.services), before the notice is rendered;
  the ``CarryOver`` row (one per order) records what it did, so a retried notice
  says the same thing and moves nobody twice.
- When free seats run short, learners are moved in email order (the order of the
  Expired Licences list); the rest are listed in the notice and wait on Expired
  Licences."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from learners import events, reads, seats, signals
from learners.models import Allocation, CarryOver, CarryOverSetting, Learner, LearnerStatus

# How many names the expiry notice lists of each kind; the counts are always whole.
LISTED = 200


def setting() -> CarryOverSetting | None:
    """The current customer's setting (in its schema), or None: off."""
    return CarryOverSetting.objects.order_by("pk").first()


def is_on() -> bool:
    row = setting()
    return row is not None and row.on_since is not None


def set_carry_over(customer, on: bool, *, acting_user, in_manage_mode=False, now=None) -> bool:
    """Turn carry-over on or off; False when it already was so (nothing written)."""
    now = now or timezone.now()
    with customer, transaction.atomic(durable=True):
        seats.lock_pool(customer)  # one change at a time, and never mid carry-over
        row = CarryOverSetting.objects.select_for_update().order_by("pk").first()
        if (row is not None and row.on_since is not None) == on:
            return False
        if row is None:
            row = CarryOverSetting()
        row.on_since = now if on else None
        row.changed_at, row.changed_by = now, acting_user
        row.save()
        type(customer).objects.filter(pk=customer.pk).update(carry_over_since=row.on_since)
        customer.carry_over_since = row.on_since
        events.carry_over_changed(customer, actor=acting_user, in_manage_mode=in_manage_mode, on=on)
    return True


def at_expiry(order, now=None) -> CarryOver | None:
    """Carry the expired ``order``'s active learners over to free seats of later
    orders, once, if the customer chose it before the order expired. Returns what
    was done (the earlier run's record on a retry), or None when carry-over does not
    apply (off, turned on after the expiry, or the order has not expired yet)."""
    now = now or timezone.now()
    customer = order.customer
    since = customer.carry_over_since
    if since is None or since > order.expires_at or now < order.expires_at:
        # Off, turned on after this expiry, or too early: read in the public schema, so
        # the expiry notices of the many customers who never chose it cost nothing here.
        return None
    with customer:
        done = CarryOver.objects.filter(order_id=order.pk).first()
        if done is not None:
            return done
        try:
            with transaction.atomic(durable=True):
                seats.lock_pool(customer)  # set_carry_over takes it too: no turn-off slips past
                done = CarryOver.objects.filter(order_id=order.pk).first()
                if done is not None:
                    return done
                row = setting()
                if row is None or row.on_since is None or row.on_since > order.expires_at:
                    return None
                on_order = (
                    reads.with_current_allocation(Learner.objects.filter(status=LearnerStatus.ACTIVE))
                    .filter(current__order_id=order.pk, current__expires_at__lte=now)
                    .order_by("email", "pk")
                )
                before = list(on_order.values_list("email", flat=True))
                outcome = seats.give_seats(
                    customer,
                    seats.Candidates.learners(on_order, position="email", at_most=len(before)),
                    acting_user=None,
                    now=now,
                    expiring_after=now,
                )
                left = set(on_order.values_list("email", flat=True))
                moved = [email for email in before if email not in left]
                not_moved = [email for email in before if email in left]
                events.licences_carried_over(
                    customer, order_id=order.pk, moved=len(moved), not_moved=len(not_moved), outcome=outcome
                )
                if outcome.allocated:
                    signals.learners_renewed.send(
                        Allocation, customer=customer, outcome=outcome, selection="carry_over", acting_user=None
                    )
                return CarryOver.objects.create(
                    order_id=order.pk,
                    ran_at=now,
                    moved=moved[:LISTED],
                    not_moved=not_moved[:LISTED],
                    moved_count=len(moved),
                    not_moved_count=len(not_moved),
                )
        except IntegrityError:  # another run recorded it first; its moves stand, ours rolled back
            return CarryOver.objects.get(order_id=order.pk)
