"""The API's cheaper reads (common.db): a statement naming its tables' schema runs
without SET search_path and reads the public rows whatever schema the connection
was left in; timestamps read by psycopg's compiled loader are the ones Django reads."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.db import PUBLIC, compiled_timestamps, schema_qualified_cursor
from learners.models import Learner
from licences.models import LicenceOrder
from tests.builders import make_learners, order_for


def test_a_schema_qualified_statement_reads_public_rows_from_inside_a_customer(acme, globex):
    make_learners(acme, 2)
    with acme:
        assert Learner.objects.count() == 2  # the connection's search path is now Acme's
        with CaptureQueriesContext(connection) as captured, schema_qualified_cursor() as cursor:
            cursor.execute(f"SELECT name FROM {PUBLIC}.customers_customer WHERE id = %s", [globex.pk])
            assert cursor.fetchone() == ("Globex Retail",)
        assert [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET")] == []
        assert Learner.objects.count() == 2  # and the next ordinary query is still in Acme
    with globex:
        assert Learner.objects.count() == 0


def test_timestamps_read_compiled_are_the_ones_django_reads(alice, acme):
    at = datetime(2025, 3, 30, 0, 59, 59, 123456, tzinfo=UTC)
    order = order_for(acme, alice, 5, requested_at=at)
    fields = ("requested_at", "cancelled_at")
    read = LicenceOrder.objects.values_list(*fields).get(pk=order.pk)
    with compiled_timestamps():
        compiled = LicenceOrder.objects.values_list(*fields).get(pk=order.pk)
    assert compiled == read == (at, None)
    assert compiled[0].tzinfo == read[0].tzinfo and compiled[0].utcoffset() == timedelta(0)
    assert repr(compiled[0]) == repr(read[0])
