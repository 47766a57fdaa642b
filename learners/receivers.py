"""What the learners app does on its own signals (connected in LearnersConfig.ready)."""

from django.db import transaction
from django.dispatch import receiver

from learners.signals import learners_renewed
from learners.tasks import record_lapses_of


@receiver(learners_renewed, dispatch_uid="learners.record_lapses_after_renewal")
def record_lapses_after_renewal(sender, *, customer, early=False, **kwargs):
    """Once expired learners' renewal commits, a worker records the customer's lapses
    again (learners.lapses), so that the renewed learners' rows go. A renewal early
    renews valid seats only: nothing to record."""
    if early:
        return
    schema = customer.schema_name
    transaction.on_commit(lambda: record_lapses_of.delay(schema))
