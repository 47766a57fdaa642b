"""The two big lists compiled once per shape (api.cursors.CompiledPages) and rendered
from their rows (api.schemas.list_response): page for page, byte for byte in JSON,
what the filter set or learners.reads gives through the ORM and ninja's own
rendering would give; and the compiling refuses SQL it cannot vouch for."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from api.cursors import CompiledPages, Ordering, page
from api.routes.learners import BY_EMAIL
from api.routes.orders import NEWEST_FIRST
from api.schemas import LEARNER_VALUES, ORDER_VALUES, LearnerList, OrderList, json_time, learner_dict, order_dict
from learners import reads
from learners.models import Learner, LearnerStatus
from licences.filters import RequestedOrderFilter
from licences.services import partner_orders
from partners.services import customers_of, partner_managers
from tests.builders import CaptureStatements, api_get, assigned_order, give_seats, make_learners, move_expiry, order_for


def _walk(client, path, token, **params) -> list[dict]:
    bodies, cursor = [], None
    while True:
        response = api_get(client, path, token, limit=2, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, (params, response.content)
        assert response["Content-Type"] == "application/json; charset=utf-8"
        bodies.append(response.json())
        cursor = bodies[-1]["next_cursor"]
        if cursor is None:
            return bodies


def _walk_queryset(queryset, ordering, schema, as_item) -> list[dict]:
    """The same pages through the ORM (api.cursors.page) and ninja's own rendering:
    the response schema's check and dump, then its JSON encoder."""
    bodies, cursor = [], None
    while True:
        found = page(queryset, ordering, cursor, 2)
        body = {"items": [as_item(row) for row in found.rows], "next_cursor": found.next_cursor}
        bodies.append(json.loads(json.dumps(schema.model_validate(body).model_dump(), cls=NinjaJSONEncoder)))
        cursor = found.next_cursor
        if cursor is None:
            return bodies


def test_every_learners_list_is_the_querysets_own(client, alice, acme, alice_token):
    valid = assigned_order(acme, 20, alice)
    soon = assigned_order(acme, 20, alice)
    move_expiry(acme, soon, timezone.now() + timedelta(days=3))
    soon.refresh_from_db()
    give_seats(acme, valid, make_learners(acme, 4, prefix="valid"))
    give_seats(acme, soon, make_learners(acme, 3, prefix="Soon_50%"))
    make_learners(acme, 3, prefix="new")
    gone = make_learners(acme, 2, prefix="gone")
    with acme:
        Learner.objects.filter(pk__in=gone).update(status=LearnerStatus.DEACTIVATED, deactivated_at=timezone.now())
    expired = assigned_order(acme, 5, alice)
    give_seats(acme, expired, make_learners(acme, 3, prefix="expired"))
    move_expiry(acme, expired, timezone.now() - timedelta(days=2))

    path = f"/customers/{acme.pk}/learners"
    searches = ("", "e", "so", "SOON", "0%", "n_5", "_50%", "valid0000", "nobody")
    cases = [{"search": s} for s in searches]
    cases += [
        {"licence": state, "search": s} for state in ("valid", "expired", "none", "deactivated") for s in ("", "0")
    ]
    cases += [{"expires_within_days": 7}, {"expires_within_days": 30, "search": "soon"}, {"expires_within_days": 1}]
    for params in cases:
        with acme:
            learners = reads.learners_with_licence(params.get("search", "").strip(), params.get("licence", ""))
            if "expires_within_days" in params:
                learners = learners.filter(reads.expiring_within(params["expires_within_days"]))
            expected = _walk_queryset(learners.values(*LEARNER_VALUES), BY_EMAIL, LearnerList, learner_dict)
        assert _walk(client, path, alice_token, **params) == expected, params
    assert sum(len(body["items"]) for body in _walk(client, path, alice_token)) == 15


def test_every_orders_filter_is_the_filter_sets_own(
    client, alice, bob, charlie, dana, acme, globex, initech, alice_token
):
    # Orders around midnight on both customers' calendars (London and Berlin), ties on
    # the request time, every status, a deactivated customer's, another partner's.
    midnight = datetime(2026, 3, 10, tzinfo=UTC)
    tie = midnight - timedelta(minutes=30)
    for n in range(12):
        customer, requester = [(acme, alice), (globex, bob), (acme, dana), (initech, charlie)][n % 4]
        at = tie if n % 3 == 0 else midnight + timedelta(minutes=40 * (n - 6))
        order_for(customer, requester, 10 * (n + 1), requested_at=at, status=["requested", "cancelled"][n % 5 == 4])
        if customer is not initech:
            assigned_order(customer, n + 1, alice)
    globex.is_active = False
    globex.save()

    cases = [
        {},
        {"customer": acme.pk},
        {"requested_from": "2026-03-10"},
        {"requested_to": "2026-03-09"},
        {"requested_from": "2026-03-09", "requested_to": "2026-03-10"},
        {"quantity_min": 30, "quantity_max": 90},
        {"requester": "customers"},
        {"requester": alice.pk},
        {"requester": bob.pk, "quantity_min": 20},
        {"customer": acme.pk, "requester": alice.pk, "requested_from": "2026-03-09", "quantity_max": 100},
    ]
    for status in ("requested", "assigned", "cancelled", "any"):
        for params in cases:
            params = {"status": status, **params}
            data = QueryDict(mutable=True)
            data.update({name: str(value) for name, value in params.items()})
            partner = alice.partner
            filterset = RequestedOrderFilter(
                data, partner_orders(partner), customers=customers_of(partner), managers=partner_managers(partner)
            )
            assert filterset.is_valid(), filterset.form.errors
            expected = _walk_queryset(filterset.qs.values(*ORDER_VALUES), NEWEST_FIRST, OrderList, order_dict)
            assert _walk(client, "/orders", alice_token, **params) == expected, params
            customers = {order["customer"]["id"] for body in expected for order in body["items"]}
            assert initech.pk not in customers


def test_the_filter_sets_refusals_are_its_own(client, alice, charlie, dana, acme, globex, initech, alice_token):
    """Whatever the page's statement or the form checks first, a refusal is the filter
    set's, with every field's error."""
    order_for(acme, alice, 5)
    globex.is_active = False
    globex.save()

    def errors(**params):
        response = api_get(client, "/orders", alice_token, **params)
        assert response.status_code == 422, params
        assert response["Content-Type"] == "application/problem+json"
        return [(e["field"], e["code"]) for e in response.json()["errors"]]

    assert errors(requested_from="1999-12-31") == [("query.requested_from", "invalid")]
    assert errors(requested_from="2026-03-02", requested_to="2026-03-01") == [("query.requested_to", "invalid")]
    for customer in (globex.pk, initech.pk, 99999999):
        assert errors(customer=customer) == [("query.customer", "invalid_choice")]
        assert errors(customer=customer, requester=alice.pk) == [("query.customer", "invalid_choice")]
        assert errors(customer=customer, quantity_min=3, quantity_max=2) == [
            ("query.customer", "invalid_choice"),
            ("query.quantity_max", "invalid"),
        ]
    for requester in (charlie.pk, dana.pk):
        assert errors(requester=requester, customer=acme.pk) == [("query.requester", "invalid_choice")]


def test_an_empty_page_of_a_choice_is_told_from_a_refused_choice(client, alice, acme, globex, alice_token):
    """The customer and requester are conditions of the page's statement, which tells
    an empty page from a refused choice itself: two queries either way."""
    order_for(acme, alice, 5)
    order_for(globex, alice, 7)
    api_get(client, "/orders", alice_token)  # the token's first use is stamped (once a minute)

    def listed(**params):
        with CaptureStatements() as captured:
            response = api_get(client, "/orders", alice_token, **params)
        return response.status_code, [o["quantity"] for o in response.json().get("items", [])], len(captured.statements)

    assert listed(customer=acme.pk, requester=alice.pk) == (200, [5], 2)
    assert listed(customer=acme.pk, requester=alice.pk, quantity_min=6) == (200, [], 2)
    assert listed(customer=acme.pk, requested_from="2999-12-31") == (200, [], 2)
    assert listed(customer=acme.pk, requester=alice.pk, status="any", limit=1)[:2] == (200, [5])
    globex.is_active = False
    globex.save()
    assert listed(customer=globex.pk)[0] == 422


def test_the_compiling_refuses_what_it_cannot_vouch_for(db):
    by_email = Ordering("email", "id")

    def listed(search):
        return Learner.objects.filter(email__contains=search).values("id", "email")

    pages = CompiledPages(listed, by_email, [lambda v: v["search"]], first_sample="zz@sample.invalid", tables={})
    with pytest.raises(ValueError, match="whose schema is not known"):
        pages.page((), {}, {"search": "x"}, {"search": "qjxq"}, None, 25, schema="acme")
    pages = CompiledPages(
        listed, by_email, [lambda v: v["search"]], first_sample="zz@sample.invalid", tables={Learner: None}
    )
    # The LIKE pattern is made of the search, but no function here says how.
    with pytest.raises(ValueError, match="carries a sample"):
        pages.page((), {}, {"search": "x"}, {"search": "qjxq"}, None, 25, schema="acme")


def test_a_page_of_the_compiled_sql_reads_the_customers_own_schema(client, alice, acme, globex, alice_token):
    """The SQL is compiled once, for every customer: each page names its own
    customer's tables."""
    make_learners(acme, 2, prefix="acme")
    make_learners(globex, 3, prefix="globex")
    for customer, prefix, count in ((acme, "acme", 2), (globex, "globex", 3), (acme, "acme", 2)):
        items = api_get(client, f"/customers/{customer.pk}/learners", alice_token).json()["items"]
        assert len(items) == count and all(item["email"].startswith(prefix) for item in items)


def test_moments_are_written_as_djangos_encoder_writes_them():
    assert json_time(datetime(2026, 3, 10, 9, 5, 1, 123456, tzinfo=UTC)) == "2026-03-10T09:05:01.123Z"
    assert json_time(datetime(2026, 3, 10, 9, 5, 1, tzinfo=UTC)) == "2026-03-10T09:05:01Z"
    assert json_time(None) is None


def test_the_shapes_kept_are_bounded(client, alice, acme, alice_token):
    from api.routes.learners import LEARNER_PAGES

    make_learners(acme, 3)
    LEARNER_PAGES._templates.clear()
    bound, LEARNER_PAGES.MAX_SHAPES = LEARNER_PAGES.MAX_SHAPES, 4
    try:
        for limit in range(1, 8):
            body = api_get(client, f"/customers/{acme.pk}/learners", alice_token, limit=limit).json()
            assert len(body["items"]) == min(limit, 3)
        assert len(LEARNER_PAGES._templates) == 4
        assert [key[-1] for key in LEARNER_PAGES._templates] == [4, 5, 6, 7]  # the newest kept
    finally:
        LEARNER_PAGES.MAX_SHAPES = bound


def test_prepared_statements_are_planned_for_their_own_parameters(db):
    """A requester, a partner or a search matches a handful of rows or nearly all: a
    plan PostgreSQL kept for one was six times as slow for another (the benchmark's
    requester filter). The connection asks for a plan per execution."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_custom_plan",)
