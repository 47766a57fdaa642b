"""The partner's and the customer's Activity pages: sentences, filters in the URL,
keyset pages, links where the thing still exists, and who sees what."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import audit
from accounts.models import AuditEvent
from api.models import WebhookEndpoint
from learners.models import Learner
from tests.builders import enter_manage_mode

Action = AuditEvent.Action
PARTNER_PAGE, CUSTOMER_PAGE = "/partner/activity/", "/activity/"


def event(action, *, actor, customer=None, partner=None, at=None, in_manage_mode=False, **details):
    row = audit.record(
        action, actor=actor, customer=customer, partner=partner, in_manage_mode=in_manage_mode, details=details
    )
    if at is not None:
        AuditEvent.objects.filter(pk=row.pk).update(at=at)
    return row


@pytest.fixture
def log(world):
    """Events of both partners and of each customer."""
    w = world
    return {
        "acme_order": event(Action.ORDER_REQUESTED, actor=w["dana"], customer=w["acme"], order_id=8, quantity=25),
        "acme_renewed": event(
            Action.LICENCES_RENEWED,
            actor=w["alice"],
            customer=w["acme"],
            in_manage_mode=True,
            selection="one_by_one",
            renewed=24,
            not_renewed=0,
            orders={"8": 24},
        ),
        "globex_order": event(Action.ORDER_CANCELLED, actor=w["erin"], customer=w["globex"], order_id=9, quantity=40),
        "partner_rule": event(
            Action.TWO_FACTOR_REQUIREMENT_CHANGED, actor=w["bob"], partner=w["alice"].partner, required=True
        ),
        "initech_order": event(
            Action.ORDER_REQUESTED, actor=w["frank"], customer=w["initech"], order_id=10, quantity=15
        ),
        "bluefin_rule": event(
            Action.TWO_FACTOR_REQUIREMENT_CHANGED, actor=w["charlie"], partner=w["charlie"].partner, required=False
        ),
    }


def text_of(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_partner_activity_lists_the_partner_and_all_its_customers(client, world, log):
    client.force_login(world["alice"])
    response = client.get(PARTNER_PAGE)
    assert response.status_code == 200
    page = text_of(response)
    assert ">Activity</a>" in page and "<h1>Activity</h1>" in page and "Export CSV" in page and "Apply filters" in page
    assert "Alice (Northwind Security, manage mode) renewed 24 learners from order #8" in page
    assert "Dana (Acme Manufacturing) requested 25 licences (order #8)" in page
    assert "Erin (Globex Retail) cancelled order #9 for 40 licences" in page
    assert "Bob (Northwind Security) required two-factor sign-in" in page
    # Another partner's, and its customers', never.
    assert "Frank" not in page and "Charlie" not in page and "Initech" not in page
    # Links to what each event concerns.
    assert f'href="/partner/licences/orders/?status=any&amp;customer={world["acme"].pk}"' in page
    assert 'href="/partner/security/"' in page


def test_customer_activity_shows_only_its_own_events(client, world, log):
    client.force_login(world["dana"])
    response = client.get(CUSTOMER_PAGE)
    assert response.status_code == 200
    page = text_of(response)
    assert ">Activity</a>" in page and "Export CSV" in page
    assert "Dana (Acme Manufacturing) requested 25 licences (order #8)" in page
    assert "Alice (Northwind Security, manage mode) renewed 24 learners" in page
    assert "Erin" not in page and "Globex" not in page and "Frank" not in page
    assert "Bob (Northwind Security) required" not in page  # the partner's own business
    assert 'href="/licences/orders/"' in page


def test_customer_activity_in_manage_mode(client, world, log):
    client.force_login(world["alice"])
    enter_manage_mode(client, world["globex"])
    page = text_of(client.get(CUSTOMER_PAGE))
    assert "Erin (Globex Retail) cancelled order #9" in page
    assert "Dana" not in page and "Acme" not in page


def test_who_may_see_which_activity(client, world, log):
    client.force_login(world["dana"])
    assert client.get(PARTNER_PAGE).status_code == 403
    client.force_login(world["lena"])
    assert client.get(CUSTOMER_PAGE).status_code == 403
    assert client.get(PARTNER_PAGE).status_code == 403
    client.force_login(world["alice"])
    assert client.get(CUSTOMER_PAGE).status_code == 403  # not in manage mode
    client.logout()
    assert client.get(CUSTOMER_PAGE).status_code == 302


def test_a_forged_filter_never_shows_another_partners_events(client, world, log):
    client.force_login(world["alice"])
    response = client.get(PARTNER_PAGE, {"who": world["frank"].pk})
    assert "Choose one of the people in the list." in text_of(response)
    assert "Frank" not in text_of(response)
    page = text_of(client.get(PARTNER_PAGE, {"customer": "Initech"}))
    assert "No events match these filters." in page


def test_filters(client, world, log):
    client.force_login(world["alice"])
    by_kind = text_of(client.get(PARTNER_PAGE, {"kind": Action.ORDER_CANCELLED}))
    assert "Erin (Globex Retail) cancelled" in by_kind and "requested 25" not in by_kind
    by_who = text_of(client.get(PARTNER_PAGE, {"who": world["bob"].pk}))
    assert "Bob (Northwind Security) required" in by_who and "Dana" not in by_who
    customers = text_of(client.get(PARTNER_PAGE, {"who": "customers"}))
    assert "Dana (" in customers and "Erin (" in customers and "Bob (" not in customers
    by_customer = text_of(client.get(PARTNER_PAGE, {"customer": "glob"}))
    assert "Erin (Globex Retail)" in by_customer and "Dana" not in by_customer
    several = text_of(client.get(PARTNER_PAGE, {"customer": "E"}))  # Acme and Globex, not the partner's own
    assert "Dana (" in several and "Erin (" in several and "required two-factor" not in several


def test_date_range_is_on_the_customers_clock_and_validated(client, world):
    acme = world["acme"]  # Europe/London: 23:30 UTC on 30 June is 00:30 on 1 July
    event(
        Action.ORDER_REQUESTED,
        actor=world["dana"],
        customer=acme,
        order_id=1,
        quantity=1,
        at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
    )
    event(
        Action.ORDER_REQUESTED,
        actor=world["dana"],
        customer=acme,
        order_id=2,
        quantity=2,
        at=datetime(2026, 6, 30, 22, 30, tzinfo=UTC),
    )
    # The partner's own events are on UTC: 23:30 on 30 June.
    event(
        Action.TWO_FACTOR_REQUIREMENT_CHANGED,
        actor=world["alice"],
        partner=acme.partner,
        required=True,
        at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
    )
    client.force_login(world["alice"])
    june_30 = text_of(client.get(PARTNER_PAGE, {"date_from": "2026-06-30", "date_to": "2026-06-30"}))
    assert "required two-factor sign-in" in june_30 and "(order #2)" in june_30 and "(order #1)" not in june_30
    for user, url in ((world["dana"], CUSTOMER_PAGE), (world["alice"], PARTNER_PAGE)):
        client.force_login(user)
        july = text_of(client.get(url, {"date_from": "2026-07-01", "date_to": "2026-07-01"}))
        assert "(order #1)" in july and "(order #2)" not in july, url
        june = text_of(client.get(url, {"date_to": "2026-06-30"}))
        assert "(order #2)" in june and "(order #1)" not in june, url
    backwards = text_of(client.get(PARTNER_PAGE, {"date_from": "2026-07-02", "date_to": "2026-07-01"}))
    assert "The start date must not be after the end date." in backwards
    far = client.get(PARTNER_PAGE, {"date_from": "1800-01-01", "date_to": "not a date"})
    assert far.status_code == 200 and "Enter a date between" in text_of(far)


def test_keyset_pages_without_count_or_offset(client, world):
    acme, dana = world["acme"], world["dana"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=Action.ORDER_REQUESTED,
            actor=dana,
            customer=acme,
            partner=acme.partner,
            at=start + timedelta(minutes=n // 2),  # pairs share a moment: the id breaks the tie
            details={"order_id": n, "quantity": 1},
        )
        for n in range(60)
    )
    client.force_login(dana)
    seen, url, pages = [], CUSTOMER_PAGE + "?kind=order.requested", 0
    while url:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        sql = " ".join(q["sql"] for q in queries.captured_queries if "accounts_auditevent" in q["sql"]).upper()
        assert "COUNT(" not in sql and "OFFSET" not in sql
        page = text_of(response)
        seen += [int(n) for n in re.findall(r"\(order #(\d+)\)", page)]
        older = re.search(r'href="(\?[^"]*before=[^"]*)" rel="next"', page)
        url = (CUSTOMER_PAGE + older[1].replace("&amp;", "&")) if older else None
        pages += 1
        assert url is None or "kind=order.requested" in url  # the filter is kept
    assert pages == 3
    assert seen == list(range(59, -1, -1))
    # Newer goes back up from the last page.
    last = client.get(CUSTOMER_PAGE + older_link(client, dana))
    newer = re.search(r'href="(\?[^"]*after=[^"]*)" rel="prev"', text_of(last))
    assert newer
    back = [
        int(n)
        for n in re.findall(r"\(order #(\d+)\)", text_of(client.get(CUSTOMER_PAGE + newer[1].replace("&amp;", "&"))))
    ]
    assert back == list(range(59, 34, -1))


def older_link(client, user):
    page = text_of(client.get(CUSTOMER_PAGE))
    return re.search(r'href="(\?[^"]*before=[^"]*)" rel="next"', page)[1].replace("&amp;", "&")


def test_malformed_cursors_show_the_newest_page(client, world, log):
    client.force_login(world["dana"])
    for cursor in ("x", "1.2.3", "99999999999999999.1", "-1.5", "1." + "9" * 18):
        assert client.get(CUSTOMER_PAGE, {"before": cursor, "after": cursor}).status_code == 200


def test_a_fixed_number_of_queries_whatever_the_page(client, world):
    acme, alice = world["acme"], world["alice"]
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=Action.MANAGE_MODE_ENTERED, actor=alice, customer=acme, partner=acme.partner, in_manage_mode=True
        )
        for _ in range(80)
    )
    client.force_login(alice)
    counts = set()
    for url in (
        PARTNER_PAGE,
        PARTNER_PAGE + "?kind=manage_mode.entered",
        PARTNER_PAGE + "?" + older_link_partner(client),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.add(len(queries.captured_queries))
    assert len(counts) == 1


def older_link_partner(client):
    page = text_of(client.get(PARTNER_PAGE))
    return re.search(r'href="\?([^"]*before=[^"]*)" rel="next"', page)[1].replace("&amp;", "&")


def test_links_only_where_the_thing_still_exists(client, world):
    alice, acme, dana = world["alice"], world["acme"], world["dana"]
    endpoint = WebhookEndpoint.objects.create(
        partner=alice.partner, url="https://hooks.example/a", event_types=["order.assigned"], created_by=alice
    )
    event(
        Action.WEBHOOK_ENDPOINT_ADDED,
        actor=alice,
        partner=alice.partner,
        endpoint_id=endpoint.pk,
        url=endpoint.url,
        events=[],
    )
    event(
        Action.WEBHOOK_ENDPOINT_ADDED,
        actor=alice,
        partner=alice.partner,
        endpoint_id=endpoint.pk + 100,
        url="https://gone.example/",
        events=[],
    )
    with acme:
        learner = Learner.objects.create(email="ava@acme.test", name="Ava")
    event(
        Action.LEARNERS_ADDED,
        actor=dana,
        customer=acme,
        source="form",
        added=1,
        allocated=1,
        learner_id=learner.pk,
        email=learner.email,
    )
    event(
        Action.LEARNER_DEACTIVATED,
        actor=dana,
        customer=acme,
        learner_id=learner.pk + 100,
        email="gone@acme.test",
        freed_seat_of_order=None,
    )
    client.force_login(alice)
    page = text_of(client.get(PARTNER_PAGE))
    assert f'href="/partner/api/webhooks/{endpoint.pk}/"' in page
    assert f"/partner/api/webhooks/{endpoint.pk + 100}/" not in page
    client.force_login(dana)
    page = text_of(client.get(CUSTOMER_PAGE))
    assert 'href="/learners/?q=ava%40acme.test"' in page
    assert "gone%40acme.test" not in page


def test_times_on_the_viewers_clock(client, world):
    globex = world["globex"]  # Europe/Berlin
    event(
        Action.ORDER_REQUESTED,
        actor=world["erin"],
        customer=globex,
        order_id=3,
        quantity=3,
        at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
    )
    client.force_login(world["erin"])
    assert "15 Jan 2026, 13:00" in text_of(client.get(CUSTOMER_PAGE))
    client.force_login(world["alice"])
    assert "15 Jan 2026, 13:00" in text_of(client.get(PARTNER_PAGE))


def test_companies_of_people_from_elsewhere_are_read_once_for_the_page(client, world):
    """Who's company is taken from the page's partner and the event's customer, not
    joined; a customer moved to another partner keeps its old partner's managers'
    events, whose company is then read in one query for the whole page."""
    acme, alice, dana, charlie = world["acme"], world["alice"], world["dana"], world["charlie"]
    for n in range(3):
        event(Action.MANAGE_MODE_ENTERED, actor=alice, customer=acme, in_manage_mode=True)
        event(Action.ORDER_REQUESTED, actor=dana, customer=acme, order_id=n + 1, quantity=1)
    client.force_login(dana)
    with CaptureQueriesContext(connection) as before:
        page = text_of(client.get(CUSTOMER_PAGE))
    assert page.count("Alice (Northwind Security, manage mode) entered") == 3
    assert page.count("Dana (Acme Manufacturing) requested") == 3
    acme.partner = charlie.partner  # Bluefin IT now
    acme.save()
    with CaptureQueriesContext(connection) as after:
        page = text_of(client.get(CUSTOMER_PAGE))
    assert page.count("Alice (Northwind Security, manage mode) entered") == 3
    assert page.count("Dana (Acme Manufacturing) requested") == 3
    assert queries(after) == queries(before) + 1


def test_the_export_reads_companies_from_elsewhere_once_not_per_event(client, world):
    """The Activity export, like its page: after the customer moved to another partner,
    its old partner's managers' companies are read in one query, whatever the number
    of their events."""
    acme, alice, dana, charlie = world["acme"], world["alice"], world["dana"], world["charlie"]
    acme.partner = charlie.partner  # Bluefin IT now
    acme.save()
    client.force_login(dana)

    def export():
        with CaptureQueriesContext(connection) as captured:
            body = b"".join(client.get(CUSTOMER_PAGE + "export.csv").streaming_content).decode("utf-8-sig")
        return body.count("alice@northwind.test"), queries(captured)

    for _ in range(2):
        event(Action.MANAGE_MODE_ENTERED, actor=alice, customer=acme, in_manage_mode=True)
    (few, few_queries) = export()
    for _ in range(18):
        event(Action.MANAGE_MODE_ENTERED, actor=alice, customer=acme, in_manage_mode=True)
    (many, many_queries) = export()
    assert (few, many) == (2, 20)
    assert many_queries == few_queries


def queries(captured):
    return sum(not q["sql"].startswith("SET search_path") for q in captured.captured_queries)


def _reads(captured):
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET search_path")]


def test_a_customer_page_takes_its_actors_from_the_who_list(client, world):
    """The customer's log is read without joining who did it: its managers and its
    partner's come from the Who list's query, anyone else (a learner) from one more
    query for the page, with their company."""
    acme, alice, dana, lena = world["acme"], world["alice"], world["dana"], world["lena"]
    client.force_login(dana)
    client.get(CUSTOMER_PAGE)  # warm: the session row
    counts = []
    for n in (1, 40):
        for _ in range(n):
            event(Action.MANAGE_MODE_ENTERED, actor=alice, customer=acme, in_manage_mode=True)
            event(Action.ORDER_REQUESTED, actor=dana, customer=acme, order_id=n, quantity=1)
        with CaptureQueriesContext(connection) as captured:
            page = text_of(client.get(CUSTOMER_PAGE))
        assert (
            "Alice (Northwind Security, manage mode) entered" in page and "Dana (Acme Manufacturing) requested" in page
        )
        events_read = [sql for sql in _reads(captured) if '"accounts_auditevent"' in sql]
        assert len(events_read) == 1 and "JOIN" not in events_read[0]
        counts.append(len(_reads(captured)))
    assert counts == [5, 5]  # session, user, the guard's orders, Who's people, the events
    event(Action.TWO_FACTOR_CODE_FAILED, actor=lena, customer=acme, address="203.0.113.9")
    with CaptureQueriesContext(connection) as captured:
        page = text_of(client.get(CUSTOMER_PAGE))
    assert "Lena (Acme Manufacturing)" in page
    assert len(_reads(captured)) == 6


def test_the_filters_are_built_once_and_hold_nothing_of_a_request(world):
    """One set of filters and one form class per kind of log, shared by every request;
    each request still gets its own form, data, people and results."""
    from insight import activity
    from insight.filters import ActivityFilter

    acme, globex, alice = world["acme"], world["globex"], world["alice"]
    event(Action.ORDER_REQUESTED, actor=world["dana"], customer=acme, order_id=1, quantity=1)
    event(Action.ORDER_CANCELLED, actor=world["erin"], customer=globex, order_id=2, quantity=1)
    partner = alice.partner

    def partner_filter(data):
        return ActivityFilter(data, activity.partner_events(partner), partner=partner)

    def customer_filter(customer, data):
        return ActivityFilter(data, activity.customer_events(customer), customer=customer)

    first, second = partner_filter({"kind": Action.ORDER_CANCELLED}), partner_filter({})
    assert first.filters is second.filters and type(first.form) is type(second.form)
    assert first.form is not second.form and first.form.fields is not second.form.fields
    assert [e.action for e in first.qs] == [Action.ORDER_CANCELLED]
    assert {e.action for e in second.qs} == {Action.ORDER_REQUESTED, Action.ORDER_CANCELLED}
    assert "customer" in first.form.fields

    at_acme, at_globex = customer_filter(acme, {}), customer_filter(globex, {"kind": Action.ORDER_REQUESTED})
    assert at_acme.filters is at_globex.filters and at_acme.filters is not first.filters
    assert "customer" not in at_acme.form.fields and "customer" not in at_acme.filters
    assert [e.customer_id for e in at_acme.qs] == [acme.pk]
    assert list(at_globex.qs) == []
    who = dict(at_acme.form.fields["who"].choices)
    assert "Dana" in who.values() and "Erin" not in who.values()
    assert "Erin" in dict(customer_filter(globex, {}).form.fields["who"].choices).values()
    assert "customer" in partner_filter({}).form.fields  # the customer's log took nothing away


def test_a_customer_name_search_takes_the_text_as_typed(client, world, log):
    client.force_login(world["alice"])
    assert "No events match these filters." in text_of(client.get(PARTNER_PAGE, {"customer": "_"}))
    assert "No events match these filters." in text_of(client.get(PARTNER_PAGE, {"customer": "%"}))
    assert "Erin (Globex Retail)" in text_of(client.get(PARTNER_PAGE, {"customer": "gLoBeX rEt"}))


def test_every_kind_is_offered_and_only_a_kind_is_accepted(client, world, log):
    """The kinds' choices are built once per process (filters.FixedChoices): each page
    still lists them all, marks the one chosen, and refuses anything else."""
    client.force_login(world["alice"])
    page = client.get(PARTNER_PAGE, {"kind": Action.ORDER_CANCELLED}).content.decode()
    for value, _ in AuditEvent.Action.choices:
        assert f'<option value="{value}"' in page
    assert f'<option value="{Action.ORDER_CANCELLED}" selected>' in page
    assert '<option value="" selected>Any event</option>' not in page
    refused = text_of(client.get(PARTNER_PAGE, {"kind": "order.stolen"}))
    assert "Choose an event from the list." in refused and "Erin" not in refused
    again = client.get(PARTNER_PAGE).content.decode()
    assert f'<option value="{Action.ORDER_CANCELLED}">' in again
    assert '<option value="" selected>Any event</option>' in again


def test_a_name_search_reads_its_customers_once(client, world, log):
    """The customers a search finds are read with what the rows show of them (name,
    clock, state), so the events' query does not join them again."""
    globex = world["globex"]
    client.force_login(world["alice"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(PARTNER_PAGE, {"customer": "globex"})
    page = text_of(response)
    assert "Erin (Globex Retail) cancelled order #9" in page
    assert "<td>Globex Retail</td>" in page
    assert f'href="{reverse("licences:partner_orders")}?status=any&amp;customer={globex.pk}"' in page
    events_read = [sql for sql in _reads(captured) if '"accounts_auditevent"' in sql]
    assert len(events_read) == 1 and '"customers_customer"' not in events_read[0]
    assert len(_reads(captured)) == 5  # session, user, Who's people, the customers named, the events


def test_dates_are_read_in_iso_first_and_still_in_the_locales_format(world):
    from datetime import date

    from insight import activity
    from insight.filters import ActivityFilter

    acme = world["acme"]
    for typed, day in (
        ("2026-01-02", date(2026, 1, 2)),
        ("02/01/2026", date(2026, 1, 2)),
        ("03/04/26", date(2026, 4, 3)),
    ):
        filterset = ActivityFilter({"date_from": typed}, activity.customer_events(acme), customer=acme)
        assert filterset.is_valid() and filterset.form.cleaned_data["date_from"] == day
    refused = ActivityFilter({"date_from": "2026-13-02"}, activity.customer_events(acme), customer=acme)
    assert not refused.is_valid()
