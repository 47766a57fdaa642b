"""The customer picker (partners/picker.py): a search for one of the partner's own
customers, serving Requested Orders' Add Filter and Upcoming expiries. Suggestions
come from the lookup view; without JavaScript the box is a text search by name. No
other partner's customer ever appears or matches, and no page lists every customer."""

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.builders import REQUESTED_ORDERS, Statements, listed_ids, order_for

LOOKUP = reverse("partners:customer_lookup")
UPCOMING = reverse("notifications:upcoming_expiries")


@pytest.fixture
def as_alice(client, world):
    client.force_login(world["alice"])
    return client


def names(client, q):
    response = client.get(LOOKUP, {"q": q})
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


def test_suggestions_are_the_partners_own_customers_matching_in_any_case(as_alice):
    assert names(as_alice, "") == ["Acme Manufacturing", "Globex Retail"]
    assert names(as_alice, "GLOB") == ["Globex Retail"]
    assert names(as_alice, "e") == ["Acme Manufacturing", "Globex Retail"]
    # Another partner's customer never matches, by any part of its name.
    assert names(as_alice, "Initech") == names(as_alice, "Finance") == []


@pytest.mark.parametrize("odd", ["%", "_", "\\", "'", "a%c", "<script>", "x" * 500])
def test_odd_characters_are_text_not_patterns(as_alice, world, odd):
    Customer.objects.filter(pk=world["globex"].pk).update(name="Globex 100% _Retail_ <b>")
    found = names(as_alice, odd)
    assert all(odd.lower() in name.lower() for name in found)
    if odd in ("%", "_", "<script>"):
        assert found == (["Globex 100% _Retail_ <b>"] if odd != "<script>" else [])


def test_suggestions_need_a_partner_manager(client, world):
    assert client.get(LOOKUP, {"q": "a"}).status_code == 302
    client.force_login(world["dana"])  # a customer manager
    assert client.get(LOOKUP, {"q": "a"}).status_code == 403


def test_suggestions_cost_the_same_queries_at_20_and_200_customers(as_alice, world):
    def queries():
        with Statements() as captured:
            as_alice.get(LOOKUP, {"q": "cust"})
        return len(captured.statements)

    def add(first, last):
        Customer.objects.bulk_create(
            Customer(name=f"Cust {n:03d}", partner=world["alice"].partner, schema_name=f"pick_{n}")
            for n in range(first, last)
        )

    add(0, 20)
    as_alice.get(LOOKUP)  # the session row exists from here on
    few = queries()
    add(20, 200)
    assert queries() == few
    assert len(names(as_alice, "cust")) == 10  # the first ten, by name
    assert as_alice.get(LOOKUP, {"q": "cust"}).json()["more"] is True


def test_without_javascript_a_name_filters_requested_orders(as_alice, world):
    mine = order_for(world["acme"], world["dana"], 5)
    order_for(world["globex"], world["erin"], 6)
    response = as_alice.get(REQUESTED_ORDERS, {"customer_name": "acme"})
    assert listed_ids(response) == [mine.pk]
    page = response.content.decode()
    assert "Customer: <strong>Acme Manufacturing</strong>" in page
    # The chosen customer goes on in links by id.
    assert f'href="?customer={world["acme"].pk}&amp;filters=open"' in page


def test_without_javascript_several_matches_are_offered_to_choose_from(as_alice, world):
    globex = order_for(world["globex"], world["erin"], 6)
    order_for(world["initech"], world["frank"], 7)
    response = as_alice.get(REQUESTED_ORDERS, {"customer_name": "e"})
    page = response.content.decode()
    assert "Several of your customers match “e”: choose one." in page
    assert f'name="customer_pick" value="{world["globex"].pk}">Globex Retail</button>' in page
    assert "Initech" not in page
    assert listed_ids(response) == []
    # Choosing one of them (the typed text comes along).
    chosen = as_alice.get(REQUESTED_ORDERS, {"customer_name": "e", "customer_pick": world["globex"].pk})
    assert listed_ids(chosen) == [globex.pk]


def test_a_name_typed_over_a_chosen_customer_is_a_new_search(as_alice, world):
    globex = order_for(world["globex"], world["erin"], 6)
    order_for(world["acme"], world["dana"], 5)
    response = as_alice.get(REQUESTED_ORDERS, {"customer": world["acme"].pk, "customer_name": "glob"})
    assert listed_ids(response) == [globex.pk]


@pytest.mark.parametrize("text", ["Initech", "Initech Finance", "zzz"])
def test_another_partners_customer_never_matches(as_alice, world, text):
    order_for(world["initech"], world["frank"], 7)
    response = as_alice.get(REQUESTED_ORDERS, {"customer_name": text})
    page = response.content.decode()
    assert f"No customer of yours matches “{text}”." in page
    assert listed_ids(response) == []
    assert "Initech Finance</" not in page


def test_the_filter_form_lists_no_customers(as_alice, world):
    page = as_alice.get(REQUESTED_ORDERS, {"filters": "open"}).content.decode()
    assert "data-customer-picker" in page and f'data-lookup-url="{LOOKUP}"' in page
    assert "Globex Retail" not in page and "<option" not in page.split('id="id_customer"')[1].split("</div>")[0]


def test_upcoming_expiries_searches_by_name_too(as_alice, world):
    page = as_alice.get(UPCOMING, {"customer_name": "GLOBEX"}).content.decode()
    assert 'name="customer_name" value="Globex Retail"' in page
    assert f'name="customer" value="{world["globex"].pk}"' in page
    assert (
        "No customer of yours matches “Initech”."
        in as_alice.get(UPCOMING, {"customer_name": "Initech"}).content.decode()
    )


def test_a_nul_character_is_no_error(as_alice):
    assert as_alice.get(REQUESTED_ORDERS, {"customer_name": "ac\x00me"}).status_code == 200
    assert as_alice.get(UPCOMING, {"customer": "1\x00", "customer_name": "\x00"}).status_code == 200
    assert names(as_alice, "glo\x00bex") == ["Globex Retail"]
