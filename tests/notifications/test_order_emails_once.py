"""The one-off order emails (licences ready, licence request) go out once however
often Redis delivers their task, even when two deliveries run at the same moment."""

from django.core import mail
from django.utils import timezone

from licences.models import LicenceOrder
from licences.services import assign_order, request_order
from notifications.tasks import send_licence_request_email, send_licences_ready_email
from tests.builders import SlowProviderBackend, api_error, race


def test_a_second_delivery_of_the_ready_task_sends_nothing(ready_order, mailoutbox):
    order = ready_order
    assert send_licences_ready_email.apply(args=[order.pk]).get() == 1
    assert send_licences_ready_email.apply(args=[order.pk]).get() == 0

    assert [m.to for m in mailoutbox] == [["dana@acme.test"]]
    order.refresh_from_db()
    assert order.ready_email_sent_at is not None


def test_a_second_delivery_of_the_request_task_sends_nothing(dana, alice, acme, mailoutbox):
    order = request_order(acme, 3, acting_user=dana)

    assert send_licence_request_email.apply(args=[order.pk]).get() == 1
    assert send_licence_request_email.apply(args=[order.pk]).get() == 0

    assert len(mailoutbox) == 1 and "alice@northwind.test" in mailoutbox[0].to
    order.refresh_from_db()
    assert order.request_email_sent_at is not None and order.ready_email_sent_at is None


def test_a_failed_send_records_nothing(ready_order, provider, mailoutbox, eager_retries_run_in_place):
    order = ready_order
    provider.errors = [api_error(422, "Unprocessable Entity")]

    assert send_licences_ready_email.apply(args=[order.pk]).failed()

    order.refresh_from_db()
    assert order.ready_email_sent_at is None
    # Sent by the next delivery, once the provider takes it.
    assert send_licences_ready_email.apply(args=[order.pk]).get() == 1
    assert provider.accepted == 1


def test_two_deliveries_at_the_same_moment_send_one_email(tenant_transactional_db, alice, acme, dana, settings):
    order = assign_order(request_order(acme, 5, acting_user=alice, in_manage_mode=True).pk, acting_user=alice)
    # The assignment sent the email on commit; start again as if it had not gone out.
    LicenceOrder.objects.filter(pk=order.pk).update(ready_email_sent_at=None)
    mail.outbox.clear()
    settings.EMAIL_BACKEND = f"{SlowProviderBackend.__module__}.SlowProviderBackend"

    race(2, timezone.now(), lambda: send_licences_ready_email.apply(args=[order.pk]).get())

    assert [m.subject for m in mail.outbox] == ["5 new licences ready for allocation at Acme Manufacturing"]
