"""Server time of a customer's Expired Licences tab at 1,000 and 100,000 learners.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/expired_tab.py

Creates a throwaway database ``licences_bench_expired`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``) and two customers, each with its
own schema and manager:

- **Mostly expired**: 3 in 4 learners' licences expired yesterday, the rest valid;
- **Mostly valid**: 1 in 100 learners' licences expired yesterday, the rest valid:
  the tab has to find the few expired learners among many.

The customers' lapses (the Expired Licences list's index, learners.lapses) are
recorded after each insert, as the beat records them after an order expires.
Every learner also has one history row (a seat renewed a year ago), as after a
year of use, so the allocations table holds two rows per learner. Learners and
allocations are inserted with a few SQL statements: first 1,000 per customer, then
99,000 more. At each size it times, through Django's test Client and the whole
middleware stack, the tab's first page, a search, and a deep page, and the same of
the Learners list (every learner, with the same searches), beside a bare Django
view that runs one query in the same customer's schema, and counts each page's
queries. Target: within a small multiple (3x) of the bare view, and the same
number of queries at 1,000 and at 100,000 learners.
"""

import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    count_queries,
    deep_url,
    install_urls,
    measure_pages,
    page_benchmark,
    print_table,
)

BENCH_DATABASE = "licences_bench_expired"
SIZES = (1_000, 100_000)
# (schema, company, one learner in how many has an expired licence)
CUSTOMERS = (("mostly_expired", "Mostly Expired Ltd", 4 / 3), ("mostly_valid", "Mostly Valid Ltd", 100))


def fill_world():
    """A partner, and per customer: its schema, a manager, an order that expired
    yesterday, a valid one, and one that expired a year ago (the history's)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Role, User
    from customers.services import create_customer
    from licences.models import LicenceOrder, OrderStatus
    from partners.models import Partner

    partner = Partner.objects.create(name="Bench Partner")
    password = make_password("bench-password")
    now = timezone.now()
    world = []
    for schema, name, one_in in CUSTOMERS:
        customer = create_customer(name=name, partner=partner, schema_name=schema)
        manager = User.objects.create(
            email=f"manager@{schema}.bench", role=Role.CUSTOMER_MANAGER, customer=customer, password=password
        )

        expiries = {
            "history": now - timedelta(days=366),
            "expired": now - timedelta(days=1),
            "valid": now + timedelta(days=200),
        }
        orders = {
            kind: LicenceOrder.objects.create(
                customer=customer,
                quantity=max(SIZES),
                status=OrderStatus.ASSIGNED,
                requested_by=manager,
                requested_at=expires_at - timedelta(days=366),
                assigned_at=expires_at - timedelta(days=365),
                expires_at=expires_at,
            )
            for kind, expires_at in expiries.items()
        }
        world.append((customer, manager, orders, one_in))
    return world


def insert_learners(customer, orders, one_in, first, last):
    """Learners ``first`` to ``last`` (``north…`` and ``south…`` addresses in turn),
    each with a history row and a current seat, expired for one in ``one_in``."""
    from django.db import connection

    schema = customer.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {schema}.learners_learner (email, name, status, created_at)
            SELECT CASE WHEN g %% 2 = 0 THEN 'north' ELSE 'south' END || lpad(g::text, 6, '0') || '@bench.example',
                   'Learner ' || g, 'active', now() - interval '2 years'
            FROM generate_series(%s::bigint, %s::bigint) AS g
            """,
            [first, last],
        )
        history, expired, valid = orders["history"], orders["expired"], orders["valid"]
        cursor.execute(
            f"""
            INSERT INTO {schema}.learners_allocation
                (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
            SELECT l.id, %s, %s, %s - interval '1 year', NULL, %s, 'renewed'
            FROM {schema}.learners_learner l WHERE l.id BETWEEN %s AND %s
            """,
            [history.pk, history.expires_at, history.expires_at, history.expires_at, first, last],
        )
        cursor.execute(
            f"""
            INSERT INTO {schema}.learners_allocation
                (learner_id, order_id, expires_at, allocated_at, allocated_by_id, ended_at, end_reason)
            SELECT l.id,
                   CASE WHEN floor(l.id * %s) <> floor((l.id - 1) * %s) THEN %s ELSE %s END,
                   CASE WHEN floor(l.id * %s) <> floor((l.id - 1) * %s) THEN %s::timestamptz ELSE %s END,
                   %s, NULL, NULL, ''
            FROM {schema}.learners_learner l WHERE l.id BETWEEN %s AND %s
            """,
            [
                *(1 / one_in, 1 / one_in, expired.pk, valid.pk),
                *(1 / one_in, 1 / one_in, expired.expires_at, valid.expires_at),
                history.expires_at,
                first,
                last,
            ],
        )
        cursor.execute(f"ANALYZE {schema}.learners_learner, {schema}.learners_allocation")


def bare_view(request):
    """The yardstick: the same middleware (a customer manager in their schema), one
    query, a tiny response."""
    from django.http import HttpResponse

    from learners.models import Learner

    first = Learner.objects.order_by("email").values_list("pk", flat=True).first()
    return HttpResponse(f"first learner: {first}")


def pages():
    expired, learners = "/licences/expired/", "/learners/"
    return [
        ("mostly_expired", BARE, "/bench/bare/"),
        ("mostly_expired", "Mostly expired: first page", expired),
        ("mostly_expired", "  search 'north0' (half the names)", f"{expired}?q=north0"),
        ("mostly_expired", "  search one learner's address", f"{expired}?q=north000046"),
        ("mostly_expired", "  page 40", f"{expired}?page=40"),
        ("mostly_valid", "Mostly valid (1% expired): first page", expired),
        ("mostly_valid", "  search 'north0'", f"{expired}?q=north0"),
        ("mostly_valid", "  search 'Learner 5' (a name)", f"{expired}?q=Learner+5"),
        ("mostly_valid", "  page 10", f"{expired}?page=10"),
        ("mostly_expired", "Learners list: first page", learners),
        ("mostly_expired", "  search 'north0', every learner", f"{learners}?q=north0"),
        ("mostly_expired", "  search one address, every learner", f"{learners}?q=north000046"),
        ("mostly_expired", "  page 40 of every learner", f"{learners}?page=40"),
    ]


def main():
    page_benchmark(__doc__, BENCH_DATABASE, run, runs=50)


def run(args):
    from django.core.management import call_command
    from django.test import Client

    from learners import lapses, reads

    call_command("migrate_schemas", shared=True, verbosity=0)
    install_urls(bare_view)
    world = fill_world()
    clients = {}
    for customer, manager, _, _ in world:
        clients[customer.schema_name] = Client()
        clients[customer.schema_name].force_login(manager)
    listed = pages()
    assert len({label for _, label, _ in listed}) == len(listed), "labels name the rows: each once"

    results, inserted = {}, 0
    for size in SIZES:
        started = time.perf_counter()
        for customer, _, orders, one_in in world:
            insert_learners(customer, orders, one_in, inserted + 1, size)
        inserted = size
        with world[0][0]:
            expired = reads.expired_learners().count()
        print(
            f"{size:,} learners per customer inserted in {time.perf_counter() - started:.1f}s "
            f"({expired:,} expired in the first)",
            flush=True,
        )
        # The seats were written behind the product's back, into an order that had
        # expired already: the beat's recording of lapses (learners.lapses) is what
        # would have followed that expiry.
        for customer, *_ in world:
            started = time.perf_counter()
            recorded = lapses.record(customer)
            print(f"  lapses of {customer.schema_name} recorded in {time.perf_counter() - started:.2f}s ({recorded:,})")
        print(f"timing {args.runs} requests per page ...", flush=True)
        for schema in clients:
            # Deep pages as reached by Next (keyset cursors), at this size.
            deep = {url: deep_url(clients[schema], url) for page_schema, _, url in listed if page_schema == schema}
            times = measure_pages(clients[schema], list(deep.values()), args.runs)
            for page_schema, label, url in listed:
                if page_schema == schema:
                    results[label, size] = (times[deep[url]], *count_queries(clients[schema], deep[url]))

    search_paths = print_table([label for _, label, _ in listed], results, SIZES, "learners")
    print()
    print(
        f"Median of {args.runs} requests per page, the pages of one customer taking turns, through "
        "django.test.Client (all middleware, session, auth, template rendering); both customers' pages are "
        "compared with the bare view in the first customer's schema."
    )
    print(f"Queries leave out django-tenants' SET search_path ({'/'.join(map(str, search_paths))} per request).")
    print(
        "Each learner has a history row and a current seat. Target: within 3x the bare view, the same queries "
        "at both sizes."
    )


if __name__ == "__main__":
    main()
