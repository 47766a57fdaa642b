"""seed_demo plans its orders' emails in the ledger as if assigned when they say:
the scheduler catches up on the due reminder and expiry notice, and an order that
has already expired gets no "licences ready" email."""

from io import StringIO

import pytest
from django.core.management import call_command

from licences.models import LicenceOrder
from notifications.models import EmailKind, EmailState, OrderEmail
from notifications.services import send_due_emails
from tests.builders import EXPIRY_SUBJECT, REMINDER_SUBJECT, sent


@pytest.mark.django_db
def test_the_demo_sends_the_due_emails_and_no_licences_ready_for_an_expired_order(mailoutbox):
    call_command("seed_demo", stdout=StringIO())
    expired = list(LicenceOrder.objects.expired())
    # Acme's is last year's order, the history behind its seats (no email planned for it).
    assert {o.customer.name for o in expired} == {"Acme Manufacturing", "Globex Retail", "Umbrella Health"}
    ready = OrderEmail.objects.filter(kind=EmailKind.LICENCES_READY)
    assert set(ready.filter(order__in=expired).values_list("state", flat=True)) == {EmailState.SKIPPED}

    send_due_emails()
    send_due_emails()
    subjects = [m.subject for m in mailoutbox]
    for order in expired:
        assert f"{order.quantity} new licences ready for allocation at {order.customer.name}" not in subjects
    umbrella_expired = next(o for o in expired if o.customer.name == "Umbrella Health")
    assert len(sent(EXPIRY_SUBJECT, umbrella_expired)) == 1
    acme_ending = LicenceOrder.objects.get(customer__name="Acme Manufacturing", quantity=10)
    assert len(sent(REMINDER_SUBJECT, acme_ending)) == 1
    # The valid orders' licences-ready emails went out, once each.
    valid = LicenceOrder.objects.valid()
    assert set(ready.filter(order__in=valid).values_list("state", flat=True)) == {EmailState.SENT}
    assert len([s for s in subjects if "ready for allocation" in s]) == valid.count()


@pytest.mark.django_db
def test_the_demo_has_a_seat_alert_for_initech(mailoutbox):
    from notifications.models import SeatAlert, SeatAlertKind

    call_command("seed_demo", stdout=StringIO())
    alerts = SeatAlert.objects.filter(customer__name="Initech Finance", ended_at__isnull=True)
    assert set(alerts.values_list("kind", flat=True)) == {SeatAlertKind.EXHAUSTED, SeatAlertKind.NEARLY_FULL}
    send_due_emails()
    subjects = [m.subject for m in mailoutbox]
    assert any(s.startswith("No free licences at Initech Finance: ") and "waiting" in s for s in subjects)
    assert "100 % of Initech Finance's licences are in use" in subjects


@pytest.mark.django_db
def test_the_demo_shows_acmes_learners_losing_access_and_the_free_licences_to_renew_them_early(client):
    from accounts.models import User
    from customers.models import Customer
    from learners import reads

    call_command("seed_demo", stdout=StringIO())
    acme = Customer.objects.get(name="Acme Manufacturing")
    ending = LicenceOrder.objects.get(customer=acme, quantity=10)
    client.force_login(User.objects.get(email="dana@acme.example"))
    overview = client.get("/licences/")
    losing = overview.context["losing"]
    assert (losing["order"], losing["losing"], losing["free_later"]) == (ending, 8, 30)
    assert b"8 learners lose access on" in overview.content and b"30 free licences in later orders" in overview.content
    tab = client.get("/licences/expiring/", {"days": 7})
    assert len(tab.context["page"].object_list) == 8 and tab.context["later_free"] == 30
    response = client.post("/licences/expiring/renew-early/", {"select_all": "on", "days": "7"}, follow=True)
    assert "Renewed 8 learners early" in str(list(response.context["messages"])[0])
    with acme:
        assert reads.expiring_learners("", 7).count() == 0
