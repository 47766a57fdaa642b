"""TENANT_LIMIT_SET_CALLS: a request sets the search_path when its schema changes,
not before every query; and a rolled-back transaction or savepoint, which undoes a
SET in PostgreSQL, never leaves a connection reading another customer's rows."""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from learners.models import Learner
from tests.builders import make_learners


class Undo(Exception):
    pass


def emails():
    return sorted(Learner.objects.values_list("email", flat=True))


@pytest.fixture
def learners_of_two(acme, globex):
    make_learners(acme, 1, prefix="acme")
    make_learners(globex, 1, prefix="globex")
    return ["acme00000@acme.test"], ["globex00000@globex.test"]


def test_a_page_sets_the_search_path_once_per_schema(client, dana, acme):
    assert settings.TENANT_LIMIT_SET_CALLS
    client.force_login(dana)
    client.get("/licences/")  # warm
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/licences/").status_code == 200
    sets = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET search_path")]
    queries = len(captured.captured_queries) - len(sets)
    assert queries >= 4 and len(sets) <= 2, sets  # public (session, user), then the customer's


def test_a_savepoint_rolled_back_after_a_schema_change_reads_the_schema_now_set(acme, globex, learners_of_two):
    theirs_acme, theirs_globex = learners_of_two
    with transaction.atomic():
        connection.set_tenant(acme)
        assert emails() == theirs_acme
        with pytest.raises(Undo), transaction.atomic():
            connection.set_tenant(globex)
            assert emails() == theirs_globex
            raise Undo  # ROLLBACK TO SAVEPOINT: PostgreSQL is back on acme's search_path
        assert connection.schema_name == globex.schema_name
        assert emails() == theirs_globex  # the SET is sent again, not trusted


@pytest.mark.django_db(transaction=True)
def test_a_transaction_rolled_back_after_a_schema_change_reads_the_schema_now_set(
    tenant_transactional_db, acme, globex, learners_of_two
):
    theirs_acme, theirs_globex = learners_of_two
    connection.set_tenant(acme)
    assert emails() == theirs_acme  # in autocommit: this SET stays
    with pytest.raises(Undo), transaction.atomic():
        connection.set_tenant(globex)
        assert emails() == theirs_globex
        raise Undo  # ROLLBACK: PostgreSQL is back on acme's search_path
    assert emails() == theirs_globex
