"""The Expired Licences tab: the list, Select users Manually (One by One and Select
All across pages with a search), seats running out midway, where seats come from,
the audit row, and who may do it."""

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEvent
from learners import reads, seats
from learners.models import Allocation, Learner
from tests.builders import assigned_order, enter_manage_mode, expired_learners_of, give_seats, make_learners


def expired_emails_shown(client, **query):
    """Every email the tab lists for a search, page after page."""
    emails, page = [], 1
    while True:
        response = client.get("/licences/expired/", {**query, "page": page})
        rows = [learner.email for learner in response.context["page"]]
        emails += rows
        if not response.context["page"].has_next:
            return emails
        page += 1


@pytest.fixture
def acme_with_expired(alice, acme):
    """60 expired learners: 45 in sales, 15 in ops; and 3 learners who are not expired."""
    sales, _ = expired_learners_of(acme, 45, alice, prefix="sales")
    ops, _ = expired_learners_of(acme, 15, alice, prefix="ops")
    valid_order = assigned_order(acme, 3, alice)
    give_seats(acme, valid_order, make_learners(acme, 3, prefix="salesvalid"))
    return sales, ops


@override_settings(PAGE_SIZE=10)
def test_the_tab_lists_expired_learners_with_their_last_expiry_searchable_and_paginated(
    client, dana, acme_with_expired
):
    client.force_login(dana)
    assert len(expired_emails_shown(client)) == 60
    shown = expired_emails_shown(client, q="SALES")
    assert len(shown) == 45 and shown == sorted(shown)
    assert not any(email.startswith("salesvalid") for email in shown)
    response = client.get("/licences/expired/", {"q": "ops00003"})
    assert b"ops00003@acme.test" in response.content
    assert response.context["page"].object_list[0].last_expiry < timezone.now()


@override_settings(PAGE_SIZE=10)
def test_select_all_renews_every_match_across_pages_until_the_seats_run_out(
    client, alice, dana, acme, acme_with_expired
):
    sales, ops = acme_with_expired
    newer = assigned_order(acme, 30, alice)
    client.force_login(dana)
    shown = expired_emails_shown(client, q="sales")

    response = client.post("/licences/expired/renew/", {"select_all": "on", "q": "sales"}, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Renewed 30 learners. 15 not renewed: not enough free licences. "
        "Request more licences on the Orders tab, then allocate them here."
    ]
    newer.refresh_from_db()
    assert newer.allocated_count == 30
    with acme:
        renewed = set(
            Allocation.objects.filter(order_id=newer.pk, ended_at__isnull=True).values_list("learner__email", flat=True)
        )
        still_expired = set(reads.expired_learners().values_list("email", flat=True))
    # The first 30 in the list's order got the seats; ops, outside the search, none.
    assert renewed == set(shown[:30])
    assert set(shown[30:]) <= still_expired
    assert len(still_expired) == 15 + 15
    event = AuditEvent.objects.get(action=AuditEvent.Action.LICENCES_RENEWED)
    assert event.actor == dana and event.customer == acme and not event.in_manage_mode
    assert event.details["selection"] == "select_all"
    assert event.details["search"] == "sales"
    assert (event.details["renewed"], event.details["not_renewed"]) == (30, 15)


def test_one_by_one_renews_the_ticked_learners(client, alice, dana, acme, acme_with_expired):
    sales, ops = acme_with_expired
    assigned_order(acme, 10, alice)
    client.force_login(dana)

    response = client.post("/licences/expired/renew/", {"learner": [sales[0], ops[1]]}, follow=True)

    assert [str(m) for m in response.context["messages"]] == ["Renewed 2 learners."]
    with acme:
        assert not reads.expired_learners().filter(pk__in=[sales[0], ops[1]]).exists()
        assert reads.expired_learners().count() == 58


def test_ticked_ids_that_are_not_expired_learners_change_nothing(client, alice, dana, acme, acme_with_expired):
    assigned_order(acme, 10, alice)
    client.force_login(dana)
    with acme:
        valid_id = Learner.objects.get(email="salesvalid00000@acme.test").pk
    response = client.post("/licences/expired/renew/", {"learner": [valid_id, 987654]}, follow=True)
    assert "nothing was renewed" in str(list(response.context["messages"])[0])
    with acme:
        assert Allocation.objects.filter(learner_id=valid_id).count() == 1


@pytest.mark.parametrize(
    "data, error",
    [
        ({}, "Tick the learners to renew, or Select All."),
        ({"learner": ["abc"]}, "Choose learners from the list."),
        ({"learner": ["-4"]}, "Choose learners from the list."),
        ({"select_all": "on", "order": "999999"}, "Select a valid choice."),
    ],
)
def test_bad_selections_are_refused_and_change_nothing(client, alice, dana, acme, acme_with_expired, data, error):
    assigned_order(acme, 10, alice)
    client.force_login(dana)
    response = client.post("/licences/expired/renew/", data, follow=True)
    assert error in str(list(response.context["messages"])[0])
    with acme:
        assert reads.expired_learners().count() == 60


def test_seats_come_from_the_latest_expiring_order_then_the_next(alice, dana, acme):
    ids, _ = expired_learners_of(acme, 12, alice)
    earlier = assigned_order(acme, 10, alice, expires_at=timezone.now() + timezone.timedelta(days=100))
    later = assigned_order(acme, 5, alice, expires_at=timezone.now() + timezone.timedelta(days=200))

    outcome = seats.renew_expired(acme, acting_user=dana, select_all=True)

    assert outcome.by_order == {later.pk: 5, earlier.pk: 7}
    with acme:
        later_holders = Allocation.objects.filter(order_id=later.pk).order_by("learner__email")
        assert [a.expires_at for a in later_holders] == [later.expires_at] * 5
        # The first five learners in the list's order hold the longest-lasting seats.
        assert (
            list(later_holders.values_list("learner__email", flat=True))
            == sorted(Learner.objects.filter(pk__in=ids).values_list("email", flat=True))[:5]
        )


def test_the_manager_can_pick_the_order(client, alice, dana, acme):
    expired_learners_of(acme, 4, alice)
    earlier = assigned_order(acme, 10, alice, expires_at=timezone.now() + timezone.timedelta(days=100))
    assigned_order(acme, 10, alice)
    client.force_login(dana)
    client.post("/licences/expired/renew/", {"select_all": "on", "order": earlier.pk})
    earlier.refresh_from_db()
    assert earlier.allocated_count == 4


def test_no_free_seats_renews_nobody(client, alice, dana, acme):
    expired_learners_of(acme, 4, alice)
    full = assigned_order(acme, 1, alice)
    give_seats(acme, full, make_learners(acme, 1, prefix="holder"))
    client.force_login(dana)
    response = client.get("/licences/expired/")
    assert b"There are no free licences to allocate" in response.content
    response = client.post("/licences/expired/renew/", {"select_all": "on"}, follow=True)
    assert "Renewed 0 learners. 4 not renewed: not enough free licences." in str(list(response.context["messages"])[0])


def test_partner_manager_in_manage_mode_renews_and_the_audit_says_so(client, alice, acme):
    expired_learners_of(acme, 3, alice)
    assigned_order(acme, 5, alice)
    client.force_login(alice)
    enter_manage_mode(client, acme)
    client.post("/licences/expired/renew/", {"select_all": "on"})
    event = AuditEvent.objects.get(action=AuditEvent.Action.LICENCES_RENEWED)
    assert event.actor == alice and event.in_manage_mode and event.details["renewed"] == 3


def test_a_customer_manager_sees_only_their_own_expired_learners(client, alice, erin, acme, globex):
    expired_learners_of(acme, 3, alice, prefix="acmeonly")
    assigned_order(globex, 5, alice)
    client.force_login(erin)
    assert b"acmeonly" not in client.get("/licences/expired/").content
    client.post("/licences/expired/renew/", {"select_all": "on"})
    with acme:
        assert reads.expired_learners().count() == 3


def test_other_partners_and_learners_cannot_renew(client, charlie, lena, acme, alice):
    expired_learners_of(acme, 3, alice)
    assigned_order(acme, 5, alice)
    for user in (charlie, lena):
        client.force_login(user)
        assert client.post("/licences/expired/renew/", {"select_all": "on"}).status_code == 403
    with acme:
        assert reads.expired_learners().count() == 3
