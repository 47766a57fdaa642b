"""Orders through the API: the Requested Orders filters, cursor pages, request,
assign and cancel through the services (so the audit log and the emails are the
pages'), and their refusals as problem+json with the service's code."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent
from licences.models import LicenceOrder
from tests.builders import api_get, api_post, order_for


def test_request_assign_and_cancel_go_through_the_services(
    client, alice, acme, dana, alice_token, django_capture_on_commit_callbacks
):
    requested = api_post(client, f"/customers/{acme.pk}/orders", alice_token, {"quantity": 25})
    assert requested.status_code == 201
    order = requested.json()
    assert (order["status"], order["quantity"], order["requested_by"]["email"]) == ("requested", 25, alice.email)
    with django_capture_on_commit_callbacks(execute=True):
        assigned = api_post(client, f"/orders/{order['id']}/assign", alice_token)
    assert assigned.status_code == 200
    assert assigned.json()["status"] == "assigned" and assigned.json()["expires_at"]
    # The page's side effects: the audit log and the licences-ready email.
    actions = list(AuditEvent.objects.filter(customer=acme).order_by("at").values_list("action", "actor"))
    assert actions == [("order.requested", alice.pk), ("order.assigned", alice.pk)]
    assert [m.to for m in mail.outbox] == [[dana.email]]

    again = api_post(client, f"/orders/{order['id']}/cancel", alice_token)
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["code"] == "order_not_requested"
    assert LicenceOrder.objects.get(pk=order["id"]).status == "assigned"


def test_cancel(client, alice, acme, alice_token):
    order = order_for(acme, alice, 5)
    response = api_post(client, f"/orders/{order.pk}/cancel", alice_token)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert AuditEvent.objects.filter(action="order.cancelled", actor=alice).count() == 1


def test_a_bad_quantity_is_a_field_error_and_orders_nothing(client, acme, alice_token):
    for quantity in (0, -5, 10**12, "5", 1.5, None):
        response = api_post(client, f"/customers/{acme.pk}/orders", alice_token, {"quantity": quantity})
        assert response.status_code == 422, (quantity, response.content)
        problem = response.json()
        assert problem["code"] == "validation_failed"
        assert problem["errors"][0]["field"] == "body.quantity"
    assert not LicenceOrder.objects.exists()


def test_malformed_json_is_a_400_problem(client, acme, alice_token):
    response = client.post(
        f"/api/v1/customers/{acme.pk}/orders",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {alice_token}",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_the_requested_orders_filters(client, alice, bob, acme, globex, dana, alice_token):
    long_ago = timezone.now() - timedelta(days=100)
    small = order_for(acme, dana, 3, requested_at=long_ago)
    big = order_for(globex, bob, 300)
    cancelled = order_for(acme, alice, 50, status="cancelled")

    def ids(**params):
        response = api_get(client, "/orders", alice_token, **params)
        assert response.status_code == 200, response.content
        return [o["id"] for o in response.json()["items"]]

    assert ids() == [big.pk, small.pk]  # requested, newest first
    assert ids(status="any") == [cancelled.pk, big.pk, small.pk]
    assert ids(customer=acme.pk) == [small.pk]
    assert ids(quantity_min=100) == [big.pk]
    assert ids(requester="customers") == [small.pk]
    assert ids(requester=bob.pk) == [big.pk]
    assert ids(requested_from=(timezone.now() - timedelta(days=1)).date().isoformat()) == [big.pk]

    refused = api_get(client, "/orders", alice_token, quantity_min=10, quantity_max=5)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query.quantity_max"


def test_a_requester_not_the_partners_is_the_forms_refusal(client, alice, charlie, acme, dana, alice_token):
    """The customers' managers and the partner's own are checked without the form
    (api.routes.orders); anyone else, another partner's manager or a customer's, is
    the form's refusal, beside the other filters' errors."""
    order_for(acme, alice, 5)
    for who in (charlie.pk, dana.pk, 999999):
        refused = api_get(client, "/orders", alice_token, requester=who, quantity_min=9, quantity_max=3)
        assert refused.status_code == 422, who
        errors = [(e["field"], e["code"]) for e in refused.json()["errors"]]
        assert errors == [("query.requester", "invalid_choice"), ("query.quantity_max", "invalid")], who
    assert [o["quantity"] for o in api_get(client, "/orders", alice_token, requester=alice.pk).json()["items"]] == [5]


def test_cursor_pages_walk_the_whole_list_once(client, alice, acme, alice_token):
    made = [order_for(acme, alice, n + 1).pk for n in range(7)]
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api_get(client, "/orders", alice_token, **params).json()
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    bad = api_get(client, "/orders", alice_token, cursor="bm90LWEtY3Vyc29y")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"


def test_one_order(client, alice, acme, alice_token):
    order = order_for(acme, alice, 8)
    body = api_get(client, f"/orders/{order.pk}", alice_token).json()
    assert (body["id"], body["customer"], body["free"]) == (order.pk, {"id": acme.pk, "name": acme.name}, 8)


def test_an_unknown_api_path_is_a_problem(client, alice_token):
    response = client.get("/api/v2/nothing", HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
