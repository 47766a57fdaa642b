"""Idempotency-Key on POSTs: a retry acts once and gets the first answer again, even
when the two requests arrive at the same moment."""

import threading

from django.db import connection
from django.test import Client

from accounts.models import AuditEvent
from licences.models import LicenceOrder
from tests.builders import api_post, assigned_order, make_learners, make_token


def test_a_retried_request_acts_once_and_replays_the_first_answer(client, acme, alice_token):
    url = f"/customers/{acme.pk}/orders"
    first = api_post(client, url, alice_token, {"quantity": 5}, key="order-42")
    again = api_post(client, url, alice_token, {"quantity": 5}, key="order-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert LicenceOrder.objects.count() == 1
    other = api_post(client, url, alice_token, {"quantity": 5}, key="order-43")
    assert other.status_code == 201 and LicenceOrder.objects.count() == 2


def test_a_key_is_the_partners_whichever_token_sends_it(client, alice, bob, acme, alice_token):
    url = f"/customers/{acme.pk}/orders"
    api_post(client, url, alice_token, {"quantity": 5}, key="shared")
    replay = api_post(client, url, make_token(bob), {"quantity": 5}, key="shared")
    assert replay["Idempotent-Replayed"] == "true" and LicenceOrder.objects.count() == 1


def test_the_same_key_for_another_request_is_refused(client, acme, alice_token):
    url = f"/customers/{acme.pk}/orders"
    api_post(client, url, alice_token, {"quantity": 5}, key="k")
    response = api_post(client, url, alice_token, {"quantity": 6}, key="k")
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert LicenceOrder.objects.count() == 1


def test_refusals_are_replayed_too(client, alice, acme, alice_token):
    order = assigned_order(acme, 5, alice)
    first = api_post(client, f"/orders/{order.pk}/assign", alice_token, key="assign-1")
    again = api_post(client, f"/orders/{order.pk}/assign", alice_token, key="assign-1")
    assert first.status_code == again.status_code == 409 and again["Idempotent-Replayed"] == "true"


def test_an_unusable_key_is_refused(client, acme, alice_token):
    response = api_post(client, f"/customers/{acme.pk}/orders", alice_token, {"quantity": 5}, key="has space")
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_invalid"
    assert not LicenceOrder.objects.exists()


def _at_once(requests):
    """Send the requests from threads released together; their responses."""
    barrier, responses = threading.Barrier(len(requests)), [None] * len(requests)

    def send(n, request):
        try:
            barrier.wait()
            responses[n] = request(Client())
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n, r)) for n, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_two_identical_requests_at_once_act_once(tenant_transactional_db, alice, acme):
    token = make_token(alice)
    url = f"/customers/{acme.pk}/orders"
    first, second = _at_once([lambda c: api_post(c, url, token, {"quantity": 7}, key="same")] * 2)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert LicenceOrder.objects.count() == 1
    assert AuditEvent.objects.filter(action="order.requested").count() == 1
    assert sorted(r.get("Idempotent-Replayed", "no") for r in (first, second)) == ["no", "true"]


def test_two_identical_allocations_at_once_act_once(tenant_transactional_db, alice, acme):
    token = make_token(alice)
    assigned_order(acme, 10, alice)
    ids = make_learners(acme, 3)
    url = f"/customers/{acme.pk}/allocations/allocate"
    first, second = _at_once([lambda c: api_post(c, url, token, {"learner_ids": ids}, key="alloc")] * 2)
    assert first.json() == second.json() and first.json()["allocated"] == 3
    assert AuditEvent.objects.filter(action="licences.allocated").count() == 1
