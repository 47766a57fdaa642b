"""Rule 1 through the API: every endpoint, called with one partner's token and the
other partner's ids, is refused with 404 (never 403: whether the id exists is not
told) and changes nothing. The endpoints come from the OpenAPI document itself, so
a new endpoint without a row here fails the test."""

import pytest

from accounts.models import AuditEvent
from api.v1 import api
from learners.models import Learner
from licences.models import LicenceOrder
from tests.builders import api_get, api_post, assigned_order, make_learners, order_for

# operation id: (method, path with {customer}, {order}, {learner} for the other partner's ids, body)
MATRIX = {
    "list_customers": None,  # no ids: see test_lists_show_only_the_partners_own_rows
    "add_customer": None,  # no ids: see test_a_customer_made_through_the_api_is_the_tokens_partners
    "get_customer": ("GET", "/customers/{customer}", None),
    "list_orders": ("GET", "/orders?customer={customer}&status=any", None),
    "get_order": ("GET", "/orders/{order}", None),
    "request_order": ("POST", "/customers/{customer}/orders", {"quantity": 3}),
    "assign_order": ("POST", "/orders/{order}/assign", None),
    "cancel_order": ("POST", "/orders/{order}/cancel", None),
    "list_learners": ("GET", "/customers/{customer}/learners", None),
    "list_expired_learners": ("GET", "/customers/{customer}/learners/expired", None),
    "get_learner": ("GET", "/customers/{customer}/learners/{learner}", None),
    "add_learner": ("POST", "/customers/{customer}/learners", {"email": "new@example.com"}),
    "deactivate_learner": ("POST", "/customers/{customer}/learners/{learner}/deactivate", None),
    "allocate": ("POST", "/customers/{customer}/allocations/allocate", {"learner_ids": ["{learner}"]}),
    "renew_expired": ("POST", "/customers/{customer}/allocations/renew-expired", {"select_all": True}),
    "renew_early": ("POST", "/customers/{customer}/allocations/renew-early", {"learner_ids": ["{learner}"]}),
    "list_expiring": ("GET", "/expiring?customer_id={customer}", None),
    "list_notifications": ("GET", "/customers/{customer}/notifications", None),
    "list_audit_events": ("GET", "/audit-events?customer_id={customer}", None),
}


def operation_ids():
    schema = api.get_openapi_schema(path_prefix="/api/")
    return {op["operationId"] for methods in schema["paths"].values() for op in methods.values()}


def test_every_endpoint_is_in_the_matrix(db):
    assert operation_ids() == set(MATRIX)


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


@pytest.fixture
def both_partners(world, alice_token, charlie_token):
    """Each partner's token, and ids in the other partner's customer: a requested
    order, an assigned one with a learner holding a seat."""
    alice, charlie, acme, initech = world["alice"], world["charlie"], world["acme"], world["initech"]
    ids = {}
    for customer, manager in ((acme, alice), (initech, charlie)):
        requested = order_for(customer, manager, 5)
        assigned_order(customer, 10, manager)
        (learner,) = make_learners(customer, 1, prefix="isolated")
        ids[customer.schema_name] = {"customer": customer.pk, "order": requested.pk, "learner": learner}
    return [(alice_token, ids["initech"], initech), (charlie_token, ids["acme"], acme)]


def _state():
    learners = {}
    for schema in ("acme", "initech"):
        from customers.models import Customer

        with Customer.objects.get(schema_name=schema):
            learners[schema] = list(Learner.objects.order_by("pk").values_list("pk", "status"))
    orders = list(LicenceOrder.objects.order_by("pk").values_list("pk", "status", "allocated_count"))
    return orders, learners, AuditEvent.objects.count()


@pytest.mark.parametrize("operation", [name for name, row in MATRIX.items() if row])
def test_the_other_partners_ids_are_not_found(client, both_partners, operation):
    method, path, body = MATRIX[operation]
    before = _state()
    for token, foreign, _ in both_partners:
        url = _fill(path, foreign)
        if method == "GET":
            response = client.get(f"/api/v1{url}", HTTP_AUTHORIZATION=f"Bearer {token}")
        else:
            response = api_post(client, url, token, _fill(body, foreign))
        problem = response.json()
        if operation == "list_orders":
            # A filter's choice, not a path: "Choose one of your customers", the same
            # message for another partner's customer as for one that does not exist.
            assert response.status_code == 422, response.content
            assert problem["errors"][0]["field"] == "query.customer"
        else:
            assert response.status_code == 404, (operation, response.content)
            assert problem["code"] == "not_found"
        assert response["Content-Type"] == "application/problem+json"
    assert _state() == before


def test_lists_show_only_the_partners_own_rows(client, both_partners):
    for token, foreign, _ in both_partners:
        customers = api_get(client, "/customers", token).json()["items"]
        assert customers and foreign["customer"] not in {c["id"] for c in customers}
        orders = api_get(client, "/orders", token, status="any").json()["items"]
        assert orders and foreign["customer"] not in {o["customer"]["id"] for o in orders}
        expiring = api_get(client, "/expiring", token, days=366).json()["items"]
        assert expiring and foreign["customer"] not in {o["customer"]["id"] for o in expiring}
        audit = api_get(client, "/audit-events", token).json()["items"]
        assert audit and foreign["customer"] not in {e["customer_id"] for e in audit}


def test_a_customer_made_through_the_api_is_the_tokens_partners(client, charlie_token, world):
    # Creating a schema runs the migrations: one customer, to keep the suite quick.
    response = api_post(client, "/customers", charlie_token, {"name": "Hooli Health", "time_zone": "Europe/Paris"})
    assert response.status_code == 201, response.content
    from customers.models import Customer

    customer = Customer.objects.get(pk=response.json()["id"])
    assert (customer.partner, customer.time_zone) == (world["charlie"].partner, "Europe/Paris")
    with customer:
        assert Learner.objects.count() == 0  # its schema exists, migrated
    event = AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_CREATED)
    assert (event.actor, event.customer) == (world["charlie"], customer)
    assert api_get(client, f"/customers/{customer.pk}", charlie_token).status_code == 200
    assert api_get(client, f"/customers/{customer.pk}", make_alice_token(world)).status_code == 404


def make_alice_token(world):
    from tests.builders import make_token

    return make_token(world["alice"], "read")
