"""The charts' figures against hand-computed values: weeks and months on the
customer's clock (a week with the clock change included), an empty customer, the
partner's top customers and the rest, and renewals across time zones."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

from django.core.management import call_command

from learners import seat_history
from licences import charts, seat_use
from licences.models import SeatSnapshot
from tests.charts.helpers import NOW, order_of


def test_weeks_from_the_allocation_history_on_the_customers_clock(acme_history):
    assert seat_history.record_past_days(acme_history, now=NOW) == seat_history.DAYS

    weeks = charts.seats_in_use_by_week(acme_history, in_use_now=7, now=NOW)

    assert len(weeks) == 52
    assert weeks[0].start == date(2025, 4, 14) and weeks[-1].start == date(2026, 4, 6)
    assert all(week.start.weekday() == 0 for week in weeks)
    figures = {week.start: week.seats_in_use for week in weeks[-6:]}
    assert figures == {
        date(2026, 3, 2): 0,
        date(2026, 3, 9): 1,  # C
        date(2026, 3, 16): 1,  # C (D came and went on the Tuesday)
        date(2026, 3, 23): 2,  # A1 and A2 at 00:00 BST; on UTC's clock it would be B alone
        date(2026, 3, 30): 1,  # B
        date(2026, 4, 6): 7,  # this week: the live figure
    }
    assert {week.seats_in_use for week in weeks[:-6]} == {0}


def test_the_days_around_the_clock_change(acme_history):
    days = dict(seat_history.seats_in_use_by_day(acme_history, date(2026, 3, 28), date(2026, 3, 31)))
    assert days == {date(2026, 3, 28): 2, date(2026, 3, 29): 2, date(2026, 3, 30): 1, date(2026, 3, 31): 1}


def test_a_week_without_a_record_has_no_figure(world):
    acme = world["acme"]
    seat_use.store_days(acme, [(date(2026, 3, 24), 3), (date(2026, 3, 27), 5), (date(2026, 4, 1), 4)])

    weeks = {w.start: w.seats_in_use for w in charts.seats_in_use_by_week(acme, in_use_now=0, now=NOW)}

    # The week's last recorded day stands for it: Friday the 27th, not Tuesday.
    assert weeks[date(2026, 3, 23)] == 5
    assert weeks[date(2026, 3, 30)] == 4
    assert weeks[date(2026, 3, 16)] is None


def test_an_empty_customer(client, world):
    globex = world["globex"]
    assert seat_history.record_past_days(globex, now=NOW) == seat_history.DAYS
    weeks = charts.seats_in_use_by_week(globex, in_use_now=0, now=NOW)
    assert {w.seats_in_use for w in weeks} == {0}
    assert [m.orders for m in charts.expiry_timeline(globex, NOW)] == [[]] * 12

    client.force_login(world["erin"])
    page = client.get("/licences/").content.decode()
    assert "No seats have been in use in the last 12 months." in page
    assert "No valid licences expire in the next 12 months." in page


def test_today_is_recorded_for_every_customer_on_its_own_calendar(world):
    acme, globex, initech, alice = world["acme"], world["globex"], world["initech"], world["alice"]
    at = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)
    order_of(acme, alice, 10, expires_at=at + timedelta(days=30), allocated=4)
    order_of(acme, alice, 10, expires_at=at + timedelta(days=60), allocated=2)
    order_of(acme, alice, 10, expires_at=at - timedelta(days=1), allocated=9)  # expired: no longer in use
    order_of(globex, alice, 10, expires_at=at + timedelta(days=30), allocated=1, status="requested")

    assert seat_use.record_today(at) == 3
    seat_use.record_today(at)  # the next hour's run overwrites the day's row

    rows = set(SeatSnapshot.objects.values_list("customer__schema_name", "day", "seats_in_use"))
    assert rows == {
        ("acme", date(2026, 3, 30), 6),  # 00:30 BST
        ("globex", date(2026, 3, 30), 0),  # 01:30 in Berlin
        ("initech", date(2026, 3, 29), 0),  # 19:30 in New York
    }
    assert initech.is_active


def test_the_expiry_timeline_by_order_on_the_customers_clock(world):
    acme, alice = world["acme"], world["alice"]
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    january = order_of(acme, alice, 10, expires_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), allocated=4)
    # 23:30 UTC on 31 March is 00:30 BST on 1 April: April's.
    april = order_of(acme, alice, 5, expires_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC), allocated=5)
    april_too = order_of(acme, alice, 8, expires_at=datetime(2026, 4, 20, 9, 0, tzinfo=UTC), allocated=1)
    order_of(acme, alice, 9, expires_at=datetime(2027, 1, 1, 10, 0, tzinfo=UTC))  # the 13th month
    order_of(acme, alice, 9, expires_at=now - timedelta(hours=1), allocated=3)  # expired
    order_of(acme, alice, 9, expires_at=None, status="requested")

    months = charts.expiry_timeline(acme, now)

    assert [m.month for m in months] == [date(2026, n, 1) for n in range(1, 13)]
    busy = {m.month: [(o.pk, o.seats_in_use, o.free_seats) for o in m.orders] for m in months if m.orders}
    assert busy == {
        date(2026, 1, 1): [(january.pk, 4, 6)],
        date(2026, 4, 1): [(april.pk, 5, 0), (april_too.pk, 1, 7)],
    }
    assert (months[3].seats_in_use, months[3].free_seats) == (6, 7)


def test_the_partners_top_customers_and_the_rest(world, monkeypatch):
    acme, globex, initech, alice, charlie = (world[k] for k in ("acme", "globex", "initech", "alice", "charlie"))
    soon = datetime.now(UTC) + timedelta(days=30)
    order_of(acme, alice, 10, expires_at=soon, allocated=4)
    order_of(globex, alice, 20, expires_at=soon, allocated=5)
    order_of(globex, alice, 5, expires_at=datetime.now(UTC) - timedelta(days=1), allocated=5)  # expired
    order_of(initech, charlie, 50, expires_at=soon, allocated=50)  # another partner's

    assert [(c.name, c.seats_in_use, c.free_seats) for c in charts.seats_per_customer(alice.partner)] == [
        ("Globex Retail", 5, 15),
        ("Acme Manufacturing", 4, 6),
    ]
    monkeypatch.setattr(charts, "TOP_CUSTOMERS", 1)
    assert [(c.name, c.seats_in_use, c.free_seats) for c in charts.seats_per_customer(alice.partner)] == [
        ("Globex Retail", 5, 15),
        ("All other 1 customer", 4, 6),
    ]


def test_renewals_due_across_customers_each_on_its_clock(world):
    acme, globex, initech, alice, charlie = (world[k] for k in ("acme", "globex", "initech", "alice", "charlie"))
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    order_of(acme, alice, 10, expires_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), allocated=4)  # Jan in London
    # 23:30 UTC on 31 March: 1 April in Berlin and in London.
    order_of(globex, alice, 20, expires_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC), allocated=5)
    order_of(acme, alice, 5, expires_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC), allocated=5)
    order_of(initech, charlie, 50, expires_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC))  # another partner's
    order_of(acme, alice, 7, expires_at=datetime(2027, 1, 2, 9, 0, tzinfo=UTC))  # the 13th month

    months = charts.renewals_due(alice.partner, now)

    assert [m.month for m in months] == [date(2026, n, 1) for n in range(1, 13)]
    busy = {m.month: (m.orders, m.customers, m.seats_in_use, m.free_seats) for m in months if m.orders}
    assert busy == {date(2026, 1, 1): (1, 1, 4, 6), date(2026, 4, 1): (2, 2, 10, 15)}


def test_record_seat_history_command(acme_history):
    out = StringIO()
    call_command("record_seat_history", "--customer", "acme", "--days", "10", stdout=out)
    assert out.getvalue() == "acme: 10 days recorded.\n"
    assert SeatSnapshot.objects.filter(customer=acme_history).count() == 10


def test_beat_records_today_every_hour(world, settings):
    from licences.tasks import record_seats_in_use

    entry = settings.CELERY_BEAT_SCHEDULE["record-seats-in-use"]
    assert (entry["task"], entry["schedule"]) == ("licences.tasks.record_seats_in_use", timedelta(hours=1))
    assert record_seats_in_use.delay().get() == 3  # acme, globex, initech
    assert SeatSnapshot.objects.count() == 3
