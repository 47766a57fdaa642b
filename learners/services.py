"""Learners and their seats: the only code that changes allocations."""

from accounts.models import normalise_email
from learners.models import Learner


def ensure_learner_for_user(user) -> Learner:
    """The Learner row (in the user's customer's schema) that a learner account signs in as."""
    with user.customer:
        learner, _ = Learner.objects.get_or_create(email=normalise_email(user.email), defaults={"name": user.full_name})
    return learner
