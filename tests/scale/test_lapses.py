"""The lapses (learners.lapses): the Expired Licences list's own index. Read through
them once they are recorded, the list shows exactly the learners the allocations
say have expired, page for page; until an order that expired since is recorded, the
list reads the allocations; renewals take learners off at once, and their rows go
at the renewal's commit."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from customers.models import Customer
from learners import lapses, reads, roster, seats
from learners.models import Lapse, Learner
from licences.services import customer_orders
from tests.builders import (
    Statements,
    assigned_order,
    expired_learners_of,
    give_seats,
    make_learners,
    move_expiry,
    next_url,
)

EXPIRED = "/licences/expired/"


@pytest.fixture
def mixed(alice, dana, acme):
    """Acme with expired learners among many more valid ones, one expired learner
    deactivated, and its lapses recorded."""
    expired, _ = expired_learners_of(acme, 6, alice, prefix="gone")
    valid = make_learners(acme, 30, prefix="fine")
    give_seats(acme, assigned_order(acme, 40, alice), valid)
    roster.deactivate_learner(acme, expired[0], acting_user=dana)
    lapses.record(acme)
    return {"expired": expired, "valid": valid}


def _plain(search=""):
    return list(reads.expired_learners(search).values_list("pk", flat=True))


def _through_lapses(customer, search=""):
    listed, keys = reads.expired_list(customer, search)
    assert keys == reads.LAPSE_ORDER  # read through the lapses
    return list(listed.order_by(*keys).values_list("pk", flat=True))


@pytest.mark.parametrize("search", ["", "gone", "GONE0000", "fine", "Gone 3", "zzz"])
def test_the_recorded_lapses_list_what_the_allocations_say(acme, mixed, search):
    with acme:
        assert _through_lapses(acme, search) == _plain(search)
        assert _plain("gone") == mixed["expired"][1:]  # the deactivated learner is not listed


@override_settings(PAGE_SIZE=2)
def test_the_pages_through_the_lapses_show_every_expired_learner_once(client, dana, acme, mixed):
    client.force_login(dana)

    def shown(response):
        return [learner.pk for learner in response.context["page"]]

    response = client.get(EXPIRED)
    seen, statements = shown(response), set()
    while response.context["page"].has_next:
        with Statements() as captured:
            response = client.get(EXPIRED + next_url(response))
        seen += shown(response)
        statements.add(len(captured.statements))
    assert seen == mixed["expired"][1:]
    assert len(statements) == 1  # every page costs the same


def test_an_order_expired_since_the_recording_is_read_from_the_allocations(
    alice, charlie, acme, globex, initech, mixed
):
    expired_learners_of(globex, 2, alice)
    lapses.record(globex)  # its expired order is recorded: not due again
    expired_learners_of(initech, 1, charlie)  # never recorded: due
    soon = make_learners(acme, 3, prefix="soon")
    order = assigned_order(acme, 3, alice)
    give_seats(acme, order, soon)
    move_expiry(acme, order, timezone.now() + timedelta(hours=1))
    lapses.record(acme)  # before it expires
    with acme:
        assert reads.lapses_recorded(acme, customer_orders(acme).last_expired_at)
        assert _through_lapses(acme, "soon") == []
    later = timezone.now() + timedelta(hours=2)

    with time_machine.travel(later, tick=False), acme:
        # The order that expired last is the one asked about, not the older expired one.
        order.refresh_from_db()
        assert customer_orders(acme, later).last_expired_at == order.expires_at
        # Not recorded yet: the list reads the allocations, and shows them already.
        listed, keys = reads.expired_list(acme, "soon")
        assert keys == reads.LEARNER_ORDER and list(listed.values_list("pk", flat=True)) == soon
        # The beat records this customer, and only customers with such an order (or
        # never recorded, with an expired one).
        with Statements() as captured:
            assert sorted(c.schema_name for c in lapses.due(later)) == ["acme", "initech"]
        assert len(captured.statements) == 1
        assert lapses.record_due(later) == 2
        acme.refresh_from_db()
        assert _through_lapses(acme, "soon") == soon
        assert lapses.record_due(later) == 0


def test_renewed_learners_leave_the_list_at_once_and_their_lapses_at_commit(
    dana, acme, alice, mixed, django_capture_on_commit_callbacks
):
    assigned_order(acme, 10, alice)  # seats to renew them from
    with django_capture_on_commit_callbacks(execute=True):
        outcome = seats.renew_expired(acme, acting_user=dana, learner_ids=mixed["expired"][1:3])
    assert outcome.allocated == 2
    with acme:
        assert set(Lapse.objects.values_list("learner_id", flat=True)) == set(mixed["expired"][3:])


def test_a_lapse_outliving_its_lapse_is_never_listed(acme, alice, dana, mixed):
    """A renewal commits before its recording runs: its learners' rows are still
    there a moment, and the list checks the current seat."""
    assigned_order(acme, 10, alice)
    seats.renew_expired(acme, acting_user=dana, learner_ids=mixed["expired"][1:3])  # no commit: nothing recorded
    with acme:
        assert Lapse.objects.filter(learner_id__in=mixed["expired"][1:3]).count() == 2
        assert _through_lapses(acme) == mixed["expired"][3:] == _plain()


def test_a_customer_never_recorded_with_no_expired_order_has_nothing_to_read(alice, acme):
    give_seats(acme, assigned_order(acme, 3, alice), make_learners(acme, 3))
    with acme:
        assert acme.lapses_recorded_at is None and customer_orders(acme).last_expired_at is None
        assert reads.lapses_recorded(acme, None)
        assert _through_lapses(acme) == [] == _plain()


def test_recording_writes_only_expired_learners(acme, alice, mixed):
    with acme:
        Lapse.objects.create(learner_id=mixed["valid"][0], email="stale@acme.test")  # as if renewed since
        assert lapses.record(acme) == 5  # not the deactivated learner: their seat ended
        assert set(Lapse.objects.values_list("learner_id", flat=True)) == set(mixed["expired"][1:])
        copied = {pk: (email, name) for pk, email, name in Learner.objects.values_list("pk", "email", "name_folded")}
        assert all(copied[lapse.learner_id] == (lapse.email, lapse.name_folded) for lapse in Lapse.objects.all())
    assert Customer.objects.get(pk=acme.pk).lapses_recorded_at is not None


def test_a_new_customers_lapses_are_never_scanned_in_parallel(partner_a):
    from customers.services import create_customer

    customer = create_customer(name="Copied Ltd", partner=partner_a)  # copied from the template schema
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = 'learners_lapse'",
            [customer.schema_name],
        )
        assert cursor.fetchone() == (["parallel_workers=0"],)


def test_the_beat_records_lapses_as_often_as_it_scans_expiries():
    entry = settings.CELERY_BEAT_SCHEDULE["record-lapses"]
    assert entry["task"] == "learners.tasks.record_lapses"
    assert entry["schedule"] == timedelta(seconds=settings.EXPIRY_SCAN_INTERVAL_SECONDS)
