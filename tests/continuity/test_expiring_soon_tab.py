"""The Expiring Soon tab: the list (window, search, pagination), Renew Early One by
One and with Select All across pages, the history row and the freed seat, where the
seats come from, bad input, and who may see it."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEvent
from learners import reads, seats
from learners.error_codes import LearnerError
from learners.models import Allocation, Learner
from licences.models import LicenceOrder
from tests.builders import (
    assigned_order,
    enter_manage_mode,
    expiring_learners_of,
    give_seats,
    make_learners,
)


def shown(client, **query):
    """Every email the tab lists, page after page."""
    emails, page = [], 1
    while True:
        response = client.get("/licences/expiring/", {**query, "page": page})
        assert response.status_code == 200
        emails += [learner.email for learner in response.context["page"]]
        if not response.context["page"].has_next:
            return emails
        page += 1


@pytest.fixture
def acme_expiring(alice, acme):
    """Acme: 25 sales learners expiring in 3 days (order soon), 5 ops expiring in 45
    days (order mid), 3 learners holding a seat for a year, 2 expired, and one
    deactivated learner on the soon order."""
    sales, soon = expiring_learners_of(acme, 25, alice, prefix="sales")
    ops, mid = expiring_learners_of(acme, 5, alice, prefix="ops", within=timedelta(days=45))
    year = assigned_order(acme, 3, alice)
    give_seats(acme, year, make_learners(acme, 3, prefix="salesyear"))
    with acme:
        Learner.objects.filter(pk=sales[-1]).update(status="deactivated")
    return {"sales": sales[:-1], "deactivated": sales[-1], "ops": ops, "soon": soon, "mid": mid, "year": year}


@override_settings(PAGE_SIZE=10)
def test_the_tab_lists_learners_expiring_in_the_window_searchable_and_paginated(client, dana, acme_expiring):
    client.force_login(dana)
    assert len(shown(client)) == 24  # 30 days by default: sales only, not the deactivated one
    assert len(shown(client, days=60)) == 29
    assert len(shown(client, days=7, q="OPS")) == 0
    listed = shown(client, days=90, q="sales")
    assert len(listed) == 24 and listed == sorted(listed)
    response = client.get("/licences/expiring/", {"q": "sales00003"})
    row = response.context["page"].object_list[0]
    assert row.seat_order_id == acme_expiring["soon"].pk
    assert b"sales00003@acme.test" in response.content and f"#{acme_expiring['soon'].pk}".encode() in response.content


def test_the_tabs_are_in_order(client, dana, acme_expiring):
    client.force_login(dana)
    html = client.get("/licences/expiring/").content.decode()
    assert html.index(">Orders<") < html.index(">Expiring Soon<") < html.index(">Expired Licences<")


@override_settings(PAGE_SIZE=10)
def test_select_all_renews_early_every_match_across_pages_until_the_seats_run_out(
    client, alice, dana, acme, acme_expiring
):
    later = assigned_order(acme, 20, alice, expires_at=timezone.now() + timedelta(days=400))
    soon = acme_expiring["soon"]
    client.force_login(dana)
    listed = shown(client, q="sales", days=30)

    response = client.post(
        "/licences/expiring/renew-early/", {"select_all": "on", "q": "sales", "days": "30"}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Renewed 20 learners early: they keep access on a later order. 4 not renewed: not enough free licences "
        "in later orders. Request more licences on the Orders tab."
    ]
    later.refresh_from_db()
    soon.refresh_from_db()
    assert later.allocated_count == 20
    assert soon.allocated_count == 25 - 20  # the seats left go back to their order
    with acme:
        moved = set(
            Allocation.objects.filter(order_id=later.pk, ended_at__isnull=True).values_list("learner__email", flat=True)
        )
        history = Allocation.objects.filter(order_id=soon.pk, ended_at__isnull=False)
        assert history.count() == 20
        assert set(history.values_list("end_reason", flat=True)) == {Allocation.EndReason.RENEWED_EARLY}
        assert history.first().get_end_reason_display() == "Renewed early"
    assert moved == set(listed[:20])  # in the list's order
    event = AuditEvent.objects.get(action=AuditEvent.Action.LICENCES_RENEWED_EARLY)
    assert (event.actor, event.customer, event.in_manage_mode) == (dana, acme, False)
    assert event.details["selection"] == "select_all" and event.details["search"] == "sales"
    assert (event.details["renewed"], event.details["not_renewed"]) == (20, 4)
    assert event.details["freed"] == {str(soon.pk): 20}


def test_one_by_one_in_manage_mode_and_the_freed_seat_serves_the_rest_of_its_validity(
    client, alice, acme, acme_expiring
):
    later = assigned_order(acme, 5, alice, expires_at=timezone.now() + timedelta(days=400))
    soon, (first, second) = acme_expiring["soon"], acme_expiring["sales"][:2]
    client.force_login(alice)
    enter_manage_mode(client, acme)

    response = client.post("/licences/expiring/renew-early/", {"learner": [first], "days": "7"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Renewed 1 learner early: they keep access on a later order."
    ]
    with acme:
        current = Allocation.objects.get(learner_id=first, ended_at__isnull=True)
        assert (current.order_id, current.expires_at, current.allocated_by_id) == (later.pk, later.expires_at, alice.pk)
        ended = Allocation.objects.get(learner_id=first, ended_at__isnull=False)
        assert (ended.order_id, ended.end_reason) == (soon.pk, "renewed_early")
    soon.refresh_from_db()
    assert soon.free_seats == 1
    assert AuditEvent.objects.get(action=AuditEvent.Action.LICENCES_RENEWED_EARLY).in_manage_mode
    # The freed seat of the soon order can be given again (until the order expires).
    (newcomer,) = make_learners(acme, 1, prefix="newcomer")
    outcome = seats.allocate(acme, [newcomer], acting_user=alice, order_id=soon.pk)
    assert outcome.by_order == {soon.pk: 1}
    with acme:  # the learner left unticked keeps the seat they had
        assert Allocation.objects.get(learner_id=second).order_id == soon.pk


def test_seats_come_only_from_orders_expiring_after_every_selected_learner(alice, dana, acme, acme_expiring):
    # mid expires in 45 days: later than sales' seats, but not than ops'.
    mid = acme_expiring["mid"]
    LicenceOrder.objects.filter(pk=mid.pk).update(quantity=mid.quantity + 10)
    outcome = seats.renew_early(acme, acting_user=dana, select_all=True, days=90)
    assert (outcome.eligible, outcome.allocated, outcome.by_order) == (29, 0, {})  # the year order is full
    outcome = seats.renew_early(acme, acting_user=dana, select_all=True, search="sales", days=30)
    assert outcome.by_order == {mid.pk: 10}
    with pytest.raises(LearnerError, match="expires after"):
        seats.renew_early(acme, acting_user=dana, select_all=True, days=90, order_id=mid.pk)


@pytest.mark.parametrize(
    "data, error",
    [
        ({"days": "30"}, "Tick the learners to renew early, or Select All."),
        ({"select_all": "on", "days": "14"}, "Choose a window of 7, 30, 60 or 90 days."),
        ({"select_all": "on"}, "Choose a window of 7, 30, 60 or 90 days."),
        ({"learner": ["abc"], "days": "30"}, "Choose learners from the list."),
        ({"select_all": "on", "days": "30", "order": "999999"}, "Select a valid choice."),
    ],
)
def test_bad_selections_are_refused_and_change_nothing(client, alice, dana, acme, acme_expiring, data, error):
    assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=400))
    client.force_login(dana)
    response = client.post("/licences/expiring/renew-early/", data, follow=True)
    assert error in str(list(response.context["messages"])[0])
    with acme:
        assert Allocation.objects.filter(ended_at__isnull=False).count() == 0


def test_an_order_that_does_not_expire_later_and_forged_ids_change_nothing(
    client, alice, dana, acme, globex, acme_expiring
):
    # Two orders with free seats, so the page offers the choice; "soon" itself is picked.
    assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=400))
    soon = acme_expiring["soon"]
    LicenceOrder.objects.filter(pk=soon.pk).update(quantity=soon.quantity + 5)
    client.force_login(dana)
    response = client.post(
        "/licences/expiring/renew-early/", {"select_all": "on", "days": "30", "order": str(soon.pk)}, follow=True
    )
    assert "Choose an order that expires after the selected learners' licences" in str(
        list(response.context["messages"])[0]
    )
    # Another customer's order is no choice; another customer's learners are not found here.
    foreign = assigned_order(globex, 5, alice, expires_at=timezone.now() + timedelta(days=400))
    (foreign_learner,) = make_learners(globex, 1, prefix="foreign")
    response = client.post(
        "/licences/expiring/renew-early/", {"select_all": "on", "days": "30", "order": str(foreign.pk)}, follow=True
    )
    assert "Select a valid choice." in str(list(response.context["messages"])[0])
    response = client.post("/licences/expiring/renew-early/", {"learner": [foreign_learner], "days": "30"}, follow=True)
    assert "nothing changed" in str(list(response.context["messages"])[0])
    with acme:
        assert Allocation.objects.filter(ended_at__isnull=False).count() == 0
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LICENCES_RENEWED_EARLY, details__renewed__gt=0)


def test_a_window_outside_the_list_is_said_and_the_default_shown(client, dana, acme_expiring):
    client.force_login(dana)
    response = client.get("/licences/expiring/", {"days": "1000"})
    assert response.status_code == 200 and response.context["days"] == 30
    assert "Choose a window of 7, 30, 60 or 90 days." in str(list(response.context["messages"])[0])


def test_learners_list_filters_expiring_within_30_days(client, dana, acme_expiring):
    client.force_login(dana)
    response = client.get("/learners/", {"licence": "expiring"})
    emails = {learner.email for learner in response.context["page"]}
    assert len(emails) == 24 and all(email.startswith("sales0") for email in emails)


def test_only_the_customers_managers_see_it(client, erin, lena, alice, acme_expiring):
    client.force_login(erin)  # Globex's manager sees Globex's learners, never Acme's
    response = client.get("/licences/expiring/", {"days": "90"})
    assert response.status_code == 200 and not response.context["page"].object_list
    response = client.post("/licences/expiring/renew-early/", {"learner": acme_expiring["sales"][:3], "days": "30"})
    with acme_expiring["soon"].customer:
        assert Allocation.objects.filter(ended_at__isnull=False).count() == 0
    for user in (lena, alice):  # a learner; a partner manager outside manage mode
        client.force_login(user)
        response = client.get("/licences/expiring/")
        assert response.status_code in (302, 403, 404)
        if response.status_code == 302:
            assert "/licences/expiring/" not in response["Location"]


def test_reads_expiring_learners_is_what_select_all_renews(acme, acme_expiring):
    with acme:
        assert reads.expiring_learners("", 60).count() == 29


def test_the_tab_costs_the_same_for_5_or_300_learners(client, alice, dana, acme):
    from tests.builders import CaptureStatements

    assigned_order(acme, 10, alice, expires_at=timezone.now() + timedelta(days=400))
    client.force_login(dana)
    expiring_learners_of(acme, 5, alice, prefix="few")

    def statements(**query):
        with CaptureStatements() as captured:
            assert client.get("/licences/expiring/", query).status_code == 200
        return captured.statements

    few = statements()
    expiring_learners_of(acme, 295, alice, prefix="many", within=timedelta(days=50))
    many = statements(q="many", page=3, days=60)
    # session, user, the customer's valid orders (whether it is expired, and the seat
    # sources), the page of learners; carry-over is read from the customer, loaded
    # with the user
    assert len(few) == len(many) == 4
