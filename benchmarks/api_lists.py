"""Server time of the API's two big lists, the partner's orders and a customer's
learners, at 1,000 and 100,000 rows, through the whole middleware stack with token
auth, beside a bare one-query view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences .venv/bin/python benchmarks/api_lists.py

Creates a throwaway database ``licences_bench_api`` on the server named by
DATABASE_URL (dropped at the end unless ``--keep``), migrates the public schema, and
makes one partner with 2,000 customers (1,960 of them the measured partner's; public
rows only) and one more customer with its own schema. Orders (over all customers) and
the schema customer's learners (each with a history row and a current seat: 9 in 10
valid, the rest expired) are inserted with a few SQL statements: first 1,000 of each,
then 99,000 more. At each size it times, through Django's test Client and every
middleware, ``GET /api/v1/orders`` (default, every status, two filters, a cursor page)
and ``GET /api/v1/customers/{id}/learners`` (first page, a search, a licence state, a
cursor page), each with ``Authorization: Bearer`` (the token checked, the rate limit
counted in Redis), beside a bare Django view that runs one query, and counts each
request's queries. Target: within 3x the bare view, the same number of queries at
1,000 and 100,000 rows.

The rate limit is raised for the run (the timing makes thousands of requests a minute);
it is still counted, in the Redis of ``API_CACHE_URL`` / ``CELERY_BROKER_URL``.
"""

import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BARE,
    install_urls,
    measure_pages,
    page_benchmark,
    print_table,
)
from benchmarks.requested_orders import fill_world as fill_partner  # noqa: E402
from benchmarks.requested_orders import insert_orders  # noqa: E402

BENCH_DATABASE = "licences_bench_api"
SIZES = (1_000, 100_000)


def fill_learner_customer(partner):
    """The customer whose learners are listed: its schema, its orders (a valid one, an
    expired one, one from a year before for the history rows)."""
    from django.utils import timezone

    from customers.services import create_customer
    from licences.models import LicenceOrder, OrderStatus

    customer = create_customer(name="Learners Ltd", partner=partner, schema_name="learners_ltd")
    manager = partner.managers.first()
    now = timezone.now()
    orders = {}
    for kind, expires_at in (
        ("history", now - timedelta(days=366)),
        ("expired", now - timedelta(days=1)),
        ("valid", now + timedelta(days=200)),
    ):
        orders[kind] = LicenceOrder.objects.create(
            customer=customer,
            quantity=max(SIZES),
            status=OrderStatus.ASSIGNED,
            requested_by=manager,
            requested_at=expires_at - timedelta(days=366),
            assigned_at=expires_at - timedelta(days=365),
            expires_at=expires_at,
        )
    return customer, orders


def insert_learners(customer, orders, first, last):
    """Learners ``first`` to ``last``, each with a history row and a current seat,
    expired for one in ten."""
    from django.db import connection

    schema = customer.schema_name
    history, expired, valid = orders["history"], orders["expired"], orders["valid"]
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
                   CASE WHEN l.id %% 10 = 0 THEN %s ELSE %s END,
                   CASE WHEN l.id %% 10 = 0 THEN %s::timestamptz ELSE %s END,
                   %s, NULL, NULL, ''
            FROM {schema}.learners_learner l WHERE l.id BETWEEN %s AND %s
            """,
            [expired.pk, valid.pk, expired.expires_at, valid.expires_at, history.expires_at, first, last],
        )
        cursor.execute(f"ANALYZE {schema}.learners_learner, {schema}.learners_allocation")


def bare_view(request):
    """The yardstick: the same middleware, one query, a tiny response."""
    from django.http import HttpResponse

    from licences.models import LicenceOrder

    latest = LicenceOrder.objects.order_by("-requested_at").values_list("pk", flat=True).first()
    return HttpResponse(f"latest order: {latest}")


def bare_view_with_token(request):
    """The same, after the API's token check (the token's query, the rate limit's
    Redis round trip): what any authenticated request costs, as the page benchmarks'
    bare view includes the session's sign-in."""
    from api.auth import authenticate

    authenticate(request)
    return bare_view(request)


BARE_WITH_TOKEN = "bare view + token check, one query"


def cursor_of(client, url, pages):
    """The cursor ``pages`` pages into ``url``'s list (walked once, before timing)."""
    cursor = None
    for _ in range(pages):
        separator = "&" if "?" in url else "?"
        response = client.get(url + (f"{separator}cursor={cursor}" if cursor else ""))
        cursor = response.json()["next_cursor"]
    return cursor


def pages(client, partner, manager, learners_customer):
    from customers.models import Customer

    customer = Customer.objects.filter(partner=partner).order_by("pk")[7]
    orders = "/api/v1/orders"
    learners = f"/api/v1/customers/{learners_customer.pk}/learners"
    any_status = f"{orders}?status=any"
    return [
        (BARE, "/bench/bare/"),
        (BARE_WITH_TOKEN, "/bench/bare-token/"),
        ("orders (default: requested)", orders),
        ("orders, any status", f"{orders}?status=any"),
        ("  2 filters: customer + requested from", f"{orders}?customer={customer.pk}&requested_from=2020-01-01"),
        ("  2 filters: licences from + requester", f"{orders}?quantity_min=250&requester={manager.pk}"),
        ("  any status, 20 pages in (cursor)", f"{orders}?status=any&cursor={cursor_of(client, any_status, 20)}"),
        ("learners: first page", learners),
        ("  search 'north0' (half the names)", f"{learners}?search=north0"),
        ("  licence=expired (1 in 10)", f"{learners}?licence=expired"),
        ("  20 pages in (cursor)", f"{learners}?cursor={cursor_of(client, learners, 20)}"),
    ]


def count_queries(client, url):
    from django.db import connection

    from benchmarks._common import QueryCounter

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return counter.queries, counter.search_path


def main():
    page_benchmark(__doc__, BENCH_DATABASE, run, runs=50)


def run(args):
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from api.tokens import create_token

    settings.API_RATE_LIMIT_PER_MINUTE = 10**9
    call_command("migrate_schemas", shared=True, verbosity=0)
    install_urls(bare_view)
    from django.urls import clear_url_caches, path

    settings.ROOT_URLCONF.urlpatterns.insert(0, path("bench/bare-token/", bare_view_with_token))
    clear_url_caches()
    partner, manager = fill_partner()
    learners_customer, learner_orders = fill_learner_customer(partner)
    token = create_token(partner, name="Benchmark", scope="read", acting_user=manager).secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    results, inserted = {}, 0
    for size in SIZES:
        started = time.perf_counter()
        insert_orders(size - inserted, first=inserted + 1)
        insert_learners(learners_customer, learner_orders, inserted + 1, size)
        inserted = size
        listed = pages(client, partner, manager, learners_customer)
        print(
            f"{size:,} orders and {size:,} learners inserted in {time.perf_counter() - started:.1f}s; "
            f"timing {args.runs} requests per list ...",
            flush=True,
        )
        times = measure_pages(client, [url for _, url in listed], args.runs)
        for label, url in listed:
            results[label, size] = (times[url], *count_queries(client, url))

    labels = [label for label, _ in listed]
    search_paths = print_table(labels, results, SIZES, "rows")
    print()
    print(f"Over the {BARE_WITH_TOKEN!r} (the same token check every list makes):")
    for label in labels[2:]:
        print(
            f"  {label:<44}"
            + "".join(f"{results[label, size][0] / results[BARE_WITH_TOKEN, size][0]:>8.2f}x" for size in SIZES)
        )
    print()
    print(
        f"Median of {args.runs} requests per list, the lists taking turns, through django.test.Client (all "
        "middleware, bearer token checked, rate limit counted in Redis, JSON rendering)."
    )
    print(f"Queries leave out django-tenants' SET search_path ({'/'.join(map(str, search_paths))} per request).")
    print("Target: within 3x the bare view, the same queries at both sizes.")


if __name__ == "__main__":
    main()
