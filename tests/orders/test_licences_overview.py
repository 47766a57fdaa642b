"""The customer's Licences overview: total, allocated, free and next expiry, per assigned
order and in sum over the valid ones; expired orders shown as expired."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.utils import timezone

from licences.models import LicenceOrder
from tests.builders import enter_manage_mode, order_for


def assigned(world, quantity, *, allocated=0, expires_at):
    order = order_for(world["acme"], world["alice"], quantity, status="assigned")
    LicenceOrder.objects.filter(pk=order.pk).update(
        allocated_count=allocated, expires_at=expires_at, assigned_at=expires_at - timedelta(days=365)
    )
    return LicenceOrder.objects.get(pk=order.pk)


def test_figures_in_sum_and_per_order(client, world):
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    soon = assigned(world, 10, allocated=4, expires_at=now + timedelta(days=30))
    later = assigned(world, 25, allocated=5, expires_at=now + timedelta(days=200))
    gone = assigned(world, 7, allocated=7, expires_at=now - timedelta(days=3))
    order_for(world["acme"], world["dana"], 99)  # requested: not in the pool
    order_for(world["acme"], world["dana"], 98, status="cancelled")
    order_for(world["globex"], world["alice"], 50, status="assigned")  # another customer

    client.force_login(world["dana"])
    with time_machine.travel(now, tick=False):
        response = client.get("/licences/")
    page = response.content.decode()
    summary = response.context["summary"]
    assert (summary["total"], summary["allocated"], summary["free"]) == (35, 9, 26)
    assert summary["next_expiry"] == soon.expires_at
    assert 'data-testid="pool-total">35<' in page and 'data-testid="pool-free">26<' in page
    assert "1 Jul 2026, 13:00" in page  # next expiry, in London time (BST)

    rows = list(response.context["page"])
    assert [o.pk for o in rows] == [soon.pk, later.pk, gone.pk]  # valid soonest first, then expired
    assert [o.expired for o in rows] == [False, False, True]
    assert page.count('<span class="badge badge-expired">Expired</span>') == 1
    assert page.count('<span class="badge badge-ok">Valid</span>') == 2
    assert '<tr class="row-expired">' in page
    assert "Valid orders in sum" in page


def test_no_orders_yet(client, world):
    client.force_login(world["dana"])
    response = client.get("/licences/")
    assert response.context["summary"] == {"total": 0, "allocated": 0, "free": 0, "next_expiry": None}
    assert "No licences have been assigned yet." in response.content.decode()


def test_everything_expired_in_manage_mode(client, world):
    """(The customer's own managers are sent to the renewal page then: rule 5.)"""
    order = assigned(world, 5, allocated=2, expires_at=timezone.now() - timedelta(hours=1))
    client.force_login(world["alice"])
    enter_manage_mode(client, world["acme"])
    response = client.get("/licences/")
    assert response.context["summary"]["total"] == 0
    assert [(o.pk, o.expired) for o in response.context["page"]] == [(order.pk, True)]
    assert '<span class="badge badge-expired">Expired</span>' in response.content.decode()


def test_partner_manager_sees_it_in_manage_mode(client, world):
    assigned(world, 12, expires_at=timezone.now() + timedelta(days=10))
    client.force_login(world["alice"])
    enter_manage_mode(client, world["acme"])
    assert client.get("/licences/").context["summary"]["total"] == 12


def test_overview_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    for n in range(12):
        assigned(world, n + 1, expires_at=timezone.now() + timedelta(days=n + 1))
    client.force_login(world["dana"])
    client.get("/licences/")
    # session, user, the assigned orders (one page, the valid ones for the summary,
    # the loss-of-access line and the expiry timeline, and rule 5's check), the weekly
    # record; each with its SET search_path
    with django_assert_max_num_queries(8):
        client.get("/licences/")


def test_learners_losing_access_with_free_licences_later_or_none(client, world):
    """The overview says who loses access next, and what to do: Renew Early while
    later orders have free licences, Request Licences when none do."""
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    soon = assigned(world, 10, allocated=4, expires_at=now + timedelta(days=5))
    client.force_login(world["dana"])
    with time_machine.travel(now, tick=False):
        page = client.get("/licences/").content.decode()
    assert "4 learners lose access on" in page and f"(order #{soon.pk})" in page
    assert "No free licences" in page and "Request Licences</a>" in page and "Renew Early</a>" not in page

    assigned(world, 25, allocated=5, expires_at=now + timedelta(days=200))
    with time_machine.travel(now, tick=False):
        page = client.get("/licences/").content.decode()
    assert "20 free licences in later orders" in page and "?days=7" in page and "Renew Early</a>" in page


def test_every_page_keeps_the_figures_of_every_valid_order(client, world, settings):
    """The orders, the pool and the loss-of-access line are read in one query: on a
    later page, and past the last, the figures still count every valid order. Two
    valid orders expiring together are listed newest first; the older one's learners
    are named first, as the pool orders them."""
    settings.PAGE_SIZE = 2
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    first = assigned(world, 10, allocated=1, expires_at=now + timedelta(days=5))
    tied = assigned(world, 20, allocated=2, expires_at=now + timedelta(days=5))
    later = assigned(world, 30, allocated=3, expires_at=now + timedelta(days=100))
    gone = assigned(world, 7, allocated=7, expires_at=now - timedelta(days=3))
    older = assigned(world, 8, allocated=8, expires_at=now - timedelta(days=30))
    client.force_login(world["dana"])

    pages = {}
    with time_machine.travel(now, tick=False):
        for number in (1, 2, 3, 9):
            response = client.get(f"/licences/?page={number}")
            assert response.status_code == 200
            summary, losing = response.context["summary"], response.context["losing"]
            assert (summary["total"], summary["allocated"], summary["free"]) == (60, 6, 54), number
            assert summary["next_expiry"] == first.expires_at
            assert (losing["order"].pk, losing["losing"], losing["free_later"]) == (first.pk, 1, 27)
            page = response.context["page"]
            pages[number] = ([(o.pk, o.expired) for o in page], page.has_next)
    assert pages == {
        1: ([(tied.pk, False), (first.pk, False)], True),
        2: ([(later.pk, False), (gone.pk, True)], True),
        3: ([(older.pk, True)], False),
        9: ([], False),
    }


def test_an_expired_customer_is_sent_to_renewal_from_any_page(client, world, settings):
    settings.PAGE_SIZE = 2
    assigned(world, 5, allocated=2, expires_at=timezone.now() - timedelta(hours=1))
    client.force_login(world["dana"])
    for url in ("/licences/", "/licences/?page=9"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/licences/renewal/"), url
