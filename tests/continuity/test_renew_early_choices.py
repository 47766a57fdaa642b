"""Renew Early into the order the manager picks, and carry-over set by a partner
manager in manage mode (audited as the partner's act on the customer)."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import AuditEvent
from learners import carry_over
from learners.models import Allocation
from tests.builders import assigned_order, enter_manage_mode, expiring_learners_of


def test_renew_early_takes_seats_from_the_order_the_manager_picks(client, alice, dana, acme):
    ids, soon = expiring_learners_of(acme, 4, alice, prefix="pick")
    latest = assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=400))
    picked = assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=200))
    client.force_login(dana)

    response = client.post(
        "/licences/expiring/renew-early/",
        {"learner": ids[:3], "days": "7", "order": str(picked.pk)},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Renewed 3 learners early: they keep access on a later order."
    ]
    with acme:
        current = dict(
            Allocation.objects.filter(learner_id__in=ids, ended_at__isnull=True).values_list("learner_id", "order_id")
        )
    # Without a choice the latest-expiring order would serve them; the picked one did.
    assert current == {ids[0]: picked.pk, ids[1]: picked.pk, ids[2]: picked.pk, ids[3]: soon.pk}
    for order, count in ((picked, 3), (latest, 0), (soon, 1)):
        order.refresh_from_db()
        assert order.allocated_count == count
    event = AuditEvent.objects.get(action=AuditEvent.Action.LICENCES_RENEWED_EARLY)
    assert event.details["renewed"] == 3 and event.details["freed"] == {str(soon.pk): 3}


def test_a_partner_manager_in_manage_mode_turns_carry_over_on(client, alice, acme):
    client.force_login(alice)
    enter_manage_mode(client, acme)

    response = client.post("/licences/expiring/carry-over/", {"on": "on"}, follow=True)

    assert "Carry-over is on" in str(list(response.context["messages"])[0])
    with acme:
        assert carry_over.is_on()
    event = AuditEvent.objects.get(action=AuditEvent.Action.CARRY_OVER_CHANGED)
    assert (event.actor, event.customer, event.in_manage_mode, event.details["on"]) == (alice, acme, True, True)


def test_a_partner_manager_outside_manage_mode_cannot_change_it(client, alice, acme):
    client.force_login(alice)
    response = client.post("/licences/expiring/carry-over/", {"on": "on"})
    assert response.status_code == 403
    with acme:
        assert not carry_over.is_on()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CARRY_OVER_CHANGED).exists()
