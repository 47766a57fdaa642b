"""A slow provider no longer stalls the customer's allocations: the one-off emails
are sent with no lock held on the order (allocations update the order's row)."""

import threading

from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from learners import seats
from licences.services import assign_order, request_order
from notifications.models import EmailKind, EmailState
from tests.builders import make_learners, notice

allocated = threading.Event()
sending = threading.Event()
seen_while_sending = []


class WaitingProviderBackend(EmailBackend):
    """Takes as long as an allocation in another thread: it answers once that
    allocation is done, or after 10 s (the allocation was stuck behind the send)."""

    def send_messages(self, messages):
        sending.set()
        seen_while_sending.append(allocated.wait(timeout=10))
        return super().send_messages(messages)


def test_an_allocation_does_not_wait_for_the_licences_ready_email(tenant_transactional_db, acme, alice, dana, settings):
    settings.EMAIL_BACKEND = f"{__name__}.WaitingProviderBackend"
    allocated.clear(), sending.clear(), seen_while_sending.clear()
    learner_ids = make_learners(acme, 3)
    outcome = {}

    def allocate_while_sending():
        try:
            assert sending.wait(timeout=20), "the email was never sent"
            outcome["result"] = seats.allocate(acme, learner_ids, acting_user=dana)
            allocated.set()
        finally:
            connection.close()

    thread = threading.Thread(target=allocate_while_sending)
    thread.start()
    # The assignment commits, then its task sends the email in this thread, while the
    # other thread allocates the new seats (which updates the order's row).
    order = assign_order(request_order(acme, 5, acting_user=alice, in_manage_mode=True).pk, acting_user=alice)
    thread.join(timeout=30)

    assert seen_while_sending == [True], "the allocation waited for the provider"
    assert outcome["result"].allocated == 3
    order.refresh_from_db()
    assert order.allocated_count == 3
    assert notice(order, EmailKind.LICENCES_READY).state == EmailState.SENT
