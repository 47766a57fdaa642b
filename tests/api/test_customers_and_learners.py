"""Customers with their pool figures, and a customer's learners: list (search,
licence state, expiry window), add, deactivate, the Expired Licences list; all
through the services, in the customer's own schema."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import AuditEvent
from learners.models import Learner
from tests.builders import (
    api_get,
    api_post,
    assigned_order,
    expired_learners_of,
    give_seats,
    make_learners,
)


def test_customers_with_their_pool_figures(client, alice, acme, globex, alice_token):
    order = assigned_order(acme, 10, alice)
    give_seats(acme, order, make_learners(acme, 4))
    listed = {c["name"]: c["pool"] for c in api_get(client, "/customers", alice_token).json()["items"]}
    assert listed["Acme Manufacturing"]["free"] == 6 and listed["Globex Retail"]["total"] == 0
    assert [c["name"] for c in api_get(client, "/customers", alice_token, search="glob").json()["items"]] == [
        "Globex Retail"
    ]
    one = api_get(client, f"/customers/{acme.pk}", alice_token).json()
    assert one["pool"] == {**one["pool"], "total": 10, "allocated": 4, "free": 6}


def test_a_deactivated_customer_is_not_found_from_the_next_request(client, alice, acme, alice_token):
    make_learners(acme, 1)
    paths = [f"/customers/{acme.pk}", f"/customers/{acme.pk}/learners", f"/customers/{acme.pk}/learners/expired"]
    assert [api_get(client, path, alice_token).status_code for path in paths] == [200, 200, 200]
    acme.is_active = False
    acme.save()
    for path in paths:
        response = api_get(client, path, alice_token)
        assert response.status_code == 404 and response.json()["code"] == "not_found", path
    added = api_post(client, f"/customers/{acme.pk}/learners", alice_token, {"email": "late@acme.test"})
    assert added.status_code == 404


def test_add_a_learner_who_gets_a_free_seat(client, alice, acme, alice_token):
    assigned_order(acme, 1, alice)
    response = api_post(
        client, f"/customers/{acme.pk}/learners", alice_token, {"email": " Ann@Acme.test ", "name": "Ann"}
    )
    assert response.status_code == 422  # spaces are not part of an address (the schema's pattern)
    response = api_post(
        client, f"/customers/{acme.pk}/learners", alice_token, {"email": "Ann@Acme.test", "name": "Ann"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["got_licence"] is True
    assert (body["learner"]["email"], body["learner"]["licence"]["state"]) == ("ann@acme.test", "valid")
    again = api_post(client, f"/customers/{acme.pk}/learners", alice_token, {"email": "ann@acme.test"})
    assert again.status_code == 409 and again.json()["code"] == "already_learner"
    assert AuditEvent.objects.filter(action="learners.added", customer=acme, actor=alice).count() == 1


def test_deactivate_frees_the_seat(client, alice, acme, alice_token):
    order = assigned_order(acme, 5, alice)
    (learner,) = make_learners(acme, 1)
    give_seats(acme, order, [learner])
    response = api_post(client, f"/customers/{acme.pk}/learners/{learner}/deactivate", alice_token)
    assert response.status_code == 200
    assert response.json()["freed_seat_of_order"] == order.pk
    assert response.json()["learner"]["licence"]["state"] == "deactivated"
    again = api_post(client, f"/customers/{acme.pk}/learners/{learner}/deactivate", alice_token)
    assert again.status_code == 409 and again.json()["code"] == "already_deactivated"
    assert api_post(client, f"/customers/{acme.pk}/learners/999999/deactivate", alice_token).status_code == 404


def test_learners_by_licence_state_search_and_window(client, alice, acme, alice_token):
    soon = assigned_order(acme, 5, alice, expires_at=timezone.now() + timedelta(days=3))
    later = assigned_order(acme, 5, alice)
    a, b, c = make_learners(acme, 3)
    give_seats(acme, soon, [a])
    give_seats(acme, later, [b])
    expired_ids, _ = expired_learners_of(acme, 2, alice)

    def emails(**params):
        response = api_get(client, f"/customers/{acme.pk}/learners", alice_token, **params)
        assert response.status_code == 200, response.content
        return [learner["email"] for learner in response.json()["items"]]

    with acme:
        email = dict(Learner.objects.values_list("pk", "email"))
    assert emails(licence="none") == [email[c]]
    assert emails(licence="valid") == sorted([email[a], email[b]])
    assert emails(licence="expired") == sorted(email[i] for i in expired_ids)
    assert emails(expires_within_days=7) == [email[a]]
    assert emails(search="expired00001") == [email[expired_ids[1]]]
    expired = api_get(client, f"/customers/{acme.pk}/learners/expired", alice_token).json()["items"]
    assert [x["id"] for x in expired] == expired_ids
    assert api_get(client, f"/customers/{acme.pk}/learners/{a}", alice_token).json()["licence"]["state"] == "valid"
