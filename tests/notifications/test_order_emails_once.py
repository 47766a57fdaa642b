"""The one-off order emails (licences ready, licence request) go out once however
often Redis delivers their task, even when two deliveries run at the same moment."""

from django.core import mail
from django.utils import timezone

from licences.services import assign_order, request_order
from notifications.models import EmailKind, EmailState
from notifications.tasks import send_licence_request_email, send_licences_ready_email
from tests.builders import SlowProviderBackend, api_error, as_if_not_sent, notice, race


def test_a_second_delivery_of_the_ready_task_sends_nothing(ready_order, mailoutbox):
    order = ready_order
    mailoutbox.clear()  # the email the assignment sent: start again as if it had not gone out
    as_if_not_sent(order, EmailKind.LICENCES_READY)
    assert send_licences_ready_email.apply(args=[order.pk]).get() == EmailState.SENT
    assert send_licences_ready_email.apply(args=[order.pk]).get() is None

    assert [m.to for m in mailoutbox] == [["dana@acme.test"]]
    assert notice(order, EmailKind.LICENCES_READY).state == EmailState.SENT


def test_a_second_delivery_of_the_request_task_sends_nothing(dana, alice, acme, mailoutbox):
    order = request_order(acme, 3, acting_user=dana)
    assert send_licence_request_email.apply(args=[order.pk]).get() == EmailState.SENT
    assert send_licence_request_email.apply(args=[order.pk]).get() is None

    assert len(mailoutbox) == 1 and "alice@northwind.test" in mailoutbox[0].to
    assert notice(order, EmailKind.LICENCE_REQUEST).state == EmailState.SENT
    assert notice(order, EmailKind.LICENCES_READY) is None


def test_a_failed_send_is_recorded_as_failed_and_sent_by_no_later_delivery(ready_order, provider, mailoutbox):
    order = ready_order
    mailoutbox.clear()
    as_if_not_sent(order, EmailKind.LICENCES_READY)
    provider.errors = [api_error(422, "Unprocessable Entity")]

    assert send_licences_ready_email.apply(args=[order.pk]).get() == EmailState.FAILED
    row = notice(order, EmailKind.LICENCES_READY)
    assert (row.state, row.sent_at) == (EmailState.FAILED, None) and "422" in row.error
    # A second delivery of the task finds it settled: a permanent error is not retried.
    assert send_licences_ready_email.apply(args=[order.pk]).get() is None
    assert provider.accepted == 0 and mailoutbox == []


def test_two_deliveries_at_the_same_moment_send_one_email(tenant_transactional_db, alice, acme, dana, settings):
    order = assign_order(request_order(acme, 5, acting_user=alice, in_manage_mode=True).pk, acting_user=alice)
    # The assignment sent the email on commit; start again as if it had not gone out.
    as_if_not_sent(order, EmailKind.LICENCES_READY)
    mail.outbox.clear()
    settings.EMAIL_BACKEND = f"{SlowProviderBackend.__module__}.SlowProviderBackend"

    race(2, timezone.now(), lambda: send_licences_ready_email.apply(args=[order.pk]).get())

    assert [m.subject for m in mail.outbox] == ["5 new licences ready for allocation at Acme Manufacturing"]
