"""After an assignment commits, every active manager of that customer is emailed that N
licences are ready for allocation, when they expire, and where to allocate them."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from accounts.models import Role
from licences.models import OrderStatus
from licences.services import assign_order
from tests.builders import make_user, order_for


def ready(outbox):
    return [email for email in outbox if "ready for allocation" in email.subject]


@pytest.fixture
def acme_managers(world):
    """dana, and a second active manager; a deactivated one who must not be emailed."""
    acme = world["acme"]
    make_user("ann@acme.test", Role.CUSTOMER_MANAGER, customer=acme)
    gone = make_user("gone@acme.test", Role.CUSTOMER_MANAGER, customer=acme)
    gone.is_active = False
    gone.save()
    return ["ann@acme.test", "dana@acme.test"]


def test_sent_once_to_exactly_the_customers_active_managers(
    world, acme_managers, mailoutbox, django_capture_on_commit_callbacks
):
    order = order_for(world["acme"], world["alice"], 25)
    order_for(world["globex"], world["alice"], 3)  # another customer's order, not assigned
    assigned_at = datetime(2026, 5, 14, 9, 30, tzinfo=UTC)
    with (
        time_machine.travel(assigned_at, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        assign_order(order.pk, acting_user=world["alice"])
    assert len(callbacks) == 1

    [email] = ready(mailoutbox)
    assert sorted(email.to) == acme_managers  # not erin (globex), not the deactivated one, not the learner
    assert email.subject == "25 new licences ready for allocation at Acme Manufacturing"
    assert "25 new licences for Acme Manufacturing are now ready for allocation." in email.body
    # 12 months on, in acme's zone (London, BST in May).
    assert "valid until 14 May 2027, 10:30 (Europe/London)" in email.body
    assert "http://127.0.0.1:8000/licences/expired/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>14 May 2027, 10:30</strong>" in html
    assert ">Allocate Licences</a>" in html


def test_one_licence_is_singular(world, mailoutbox, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["alice"], 1)
    with django_capture_on_commit_callbacks(execute=True):
        assign_order(order.pk, acting_user=world["alice"])
    [email] = ready(mailoutbox)
    assert email.subject == "1 new licence ready for allocation at Acme Manufacturing"
    assert "1 new licence for Acme Manufacturing is now ready" in email.body


def test_each_assignment_sends_its_own(world, mailoutbox, django_capture_on_commit_callbacks):
    first = order_for(world["acme"], world["alice"], 5)
    second = order_for(world["acme"], world["bob"], 7)
    with django_capture_on_commit_callbacks(execute=True):
        assign_order(first.pk, acting_user=world["alice"])
        assign_order(second.pk, acting_user=world["bob"])
    assert [email.subject.split()[0] for email in ready(mailoutbox)] == ["5", "7"]


def test_not_sent_before_the_assignment_commits(world, mailoutbox, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["alice"], 5)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assign_order(order.pk, acting_user=world["alice"])
        assert ready(mailoutbox) == []  # deferred to the commit
    assert len(callbacks) == 1


def test_not_sent_when_the_transaction_rolls_back(world, mailoutbox, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["alice"], 5)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        assign_order(order.pk, acting_user=world["alice"])
        raise RuntimeError("something after the assignment failed")
    assert callbacks == []
    assert ready(mailoutbox) == []
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUESTED


def test_not_sent_when_the_assignment_is_refused(world, mailoutbox, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["alice"], 5, status="cancelled")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception, match="already cancelled"):
        assign_order(order.pk, acting_user=world["alice"])
    assert ready(mailoutbox) == []


def test_customer_without_active_managers_sends_nothing(world, mailoutbox, django_capture_on_commit_callbacks):
    dana = world["dana"]
    dana.is_active = False
    dana.save()
    order = order_for(world["acme"], world["alice"], 5)
    with django_capture_on_commit_callbacks(execute=True):
        assign_order(order.pk, acting_user=world["alice"])
    assert ready(mailoutbox) == []


def test_assign_page_sends_it(client, world, mailoutbox, django_capture_on_commit_callbacks):
    order = order_for(world["acme"], world["dana"], 8)
    client.force_login(world["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/partner/licences/orders/assign/", {"order": order.pk})
    [email] = ready(mailoutbox)
    assert email.to == ["dana@acme.test"]
