"""Webhooks to a real HTTP server on loopback: signed per Standard Webhooks (checked
with the ``standardwebhooks`` package), queued on commit, retried with backoff on
503 and timeouts, each attempt recorded, redeliverable by hand, never sent twice
under one claim, the same id on every attempt, and the endpoint disabled after five
days of failures with an email to the partner's managers."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import AuditEvent
from api.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from api.tasks import deliver_webhook, send_due_webhooks
from api.webhooks import redeliver
from learners import seats
from licences.services import assign_order, request_order
from tests.builders import (
    EXPIRES,
    REMINDER_DUE,
    WebhookReceiver,
    add_webhook_endpoint,
    api_post,
    assign,
    assigned_order,
    expired_learners_of,
    order_for,
    run_scheduler,
)


def about(moment, expected) -> bool:
    """Within the second an attempt may take."""
    return expected <= moment <= expected + timedelta(seconds=1)


def verified(endpoint, request) -> dict:
    return Webhook(endpoint.secret).verify(request["body"], request["headers"])


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the callbacks deferred to the commit (the deliveries queued), as a real
    commit would; Celery runs the task in place (eager) in the tests."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def test_an_assigned_order_is_delivered_signed(client, alice, acme, alice_token, on_commit):
    order = order_for(acme, alice, 12)
    with WebhookReceiver() as receiver:
        endpoint = add_webhook_endpoint(alice, receiver.url, "order.assigned")
        response = on_commit(lambda: api_post(client, f"/orders/{order.pk}/assign", alice_token))
        assert response.status_code == 200
    (request,) = receiver.requests
    payload = verified(endpoint, request)
    assert payload["type"] == "order.assigned"
    assert payload["data"]["order"] == {**payload["data"]["order"], "id": order.pk, "status": "assigned"}
    assert request["headers"]["webhook-id"].startswith("msg_")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempt_count, delivery.next_attempt_at) == (DeliveryState.SUCCEEDED, 1, None)
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.response_excerpt) == (200, "ok")
    # A forged or altered body does not verify.
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request["body"].replace(b"assigned", b"cancelled"), request["headers"])


def test_only_the_events_an_endpoint_picked_reach_it(alice, acme, on_commit):
    with WebhookReceiver() as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.cancelled")
        on_commit(lambda: assigned_order(acme, 5, alice))
        on_commit(lambda: order_for(acme, alice, 3, status="cancelled"))
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["order.cancelled"]


def test_a_503_is_retried_with_backoff_until_it_succeeds(alice, acme, on_commit):
    start = timezone.now()
    with WebhookReceiver((503, "busy, try later", 0), (503, "still busy", 0)) as receiver:
        endpoint = add_webhook_endpoint(alice, receiver.url, "order.requested")
        with time_machine.travel(start, tick=False):
            on_commit(lambda: order_for(acme, alice, 4))
        delivery = WebhookDelivery.objects.get()
        assert delivery.state == DeliveryState.RETRYING
        assert about(delivery.next_attempt_at, start + timedelta(seconds=30))  # after the attempt, 30 s
        with time_machine.travel(start + timedelta(seconds=20), tick=False):
            assert send_due_webhooks.delay().get() == 0  # not due yet
        with time_machine.travel(start + timedelta(seconds=31), tick=False):
            send_due_webhooks.delay().get()
        delivery.refresh_from_db()
        assert about(delivery.next_attempt_at, start + timedelta(seconds=31 + 60))  # the backoff doubled
        with time_machine.travel(start + timedelta(seconds=92), tick=False):
            send_due_webhooks.delay().get()
            for request in receiver.requests:
                assert verified(endpoint, request)["type"] == "order.requested"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    assert len(set(receiver.ids())) == 1 and len(receiver.requests) == 3  # one id, three attempts
    attempts = list(WebhookAttempt.objects.order_by("number").values_list("number", "status_code", "response_excerpt"))
    assert attempts == [(1, 503, "busy, try later"), (2, 503, "still busy"), (3, 200, "ok")]
    assert WebhookEndpoint.objects.get().failing_since is None  # the success cleared it


def test_a_timeout_is_retried(settings, alice, acme, on_commit):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with WebhookReceiver((200, "too late", 2)) as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.requested")
        on_commit(lambda: order_for(acme, alice, 4))
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.RETRYING
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("Timed out")
    assert 900 <= attempt.duration_ms < 2000


def test_a_refused_connection_is_retried_and_a_4xx_is_not(alice, acme, on_commit):
    closed = WebhookReceiver()
    closed.server.server_close()  # nothing listens there any more
    add_webhook_endpoint(alice, closed.url, "order.requested")
    on_commit(lambda: order_for(acme, alice, 4))
    assert WebhookDelivery.objects.get().state == DeliveryState.RETRYING
    assert WebhookAttempt.objects.get().error.startswith("Connection failed")
    WebhookEndpoint.objects.all().delete()
    with WebhookReceiver((410, "gone", 0)) as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.requested")
        on_commit(lambda: order_for(acme, alice, 4))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code, delivery.next_attempt_at) == (DeliveryState.FAILED, 410, None)


def test_retries_stop_after_24_hours(alice, acme, on_commit):
    start = timezone.now()
    with WebhookReceiver(*[(500, "down", 0)] * 30) as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.requested")
        with time_machine.travel(start, tick=False):
            on_commit(lambda: order_for(acme, alice, 4))
        moment = start
        for _ in range(30):
            delivery = WebhookDelivery.objects.get()
            if delivery.next_attempt_at is None:
                break
            moment = delivery.next_attempt_at
            with time_machine.travel(moment, tick=False):
                send_due_webhooks.delay().get()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert moment - start <= timedelta(hours=24)
    assert 10 <= len(receiver.requests) <= 16  # 30 s doubling to 4 h apart, for a day


def test_a_task_delivered_twice_sends_once(alice, acme, on_commit):
    with WebhookReceiver() as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.requested")
        on_commit(lambda: order_for(acme, alice, 4))
        delivery = WebhookDelivery.objects.get()
        assert deliver_webhook.delay(delivery.pk).get() is None  # Redis redelivered it: nothing to do
        assert send_due_webhooks.delay().get() == 0
    assert len(receiver.requests) == 1


def test_every_event_has_its_own_stable_id(alice, acme, on_commit):
    with WebhookReceiver() as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.requested", "order.assigned")
        order = on_commit(lambda: order_for(acme, alice, 4))
        on_commit(lambda: assign_order(order.pk, acting_user=alice))
        delivery = WebhookDelivery.objects.get(message__event_type="order.assigned")
        on_commit(lambda: redeliver(alice.partner, delivery.pk, acting_user=alice))
    ids = receiver.ids()
    assert len(ids) == 3 and len(set(ids)) == 2 and ids[1] == ids[2]  # the redelivery kept its id
    assert WebhookAttempt.objects.filter(delivery=delivery).order_by("number").last().trigger == "manual"
    assert AuditEvent.objects.filter(action="webhook.redelivered", actor=alice).count() == 1


def test_a_lost_queue_message_is_picked_up_by_the_sweep(alice, acme):
    with WebhookReceiver() as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.requested")
        # Requested inside the test's transaction: its on-commit task never runs, as
        # when a queued message is lost.
        request_order(acme, 4, acting_user=alice, in_manage_mode=True)
        assert receiver.requests == []
        with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=False):
            assert send_due_webhooks.delay().get() == 1
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.get().state == DeliveryState.SUCCEEDED


def test_five_days_of_failures_disable_the_endpoint_and_tell_the_managers(alice, bob, acme, on_commit):
    start = timezone.now()
    with WebhookReceiver(*[(503, "down", 0)] * 3) as receiver:
        endpoint = add_webhook_endpoint(alice, receiver.url, "order.requested")
        with time_machine.travel(start, tick=False):
            on_commit(lambda: order_for(acme, alice, 4))
        assert WebhookEndpoint.objects.get().failing_since == start
        with time_machine.travel(start + timedelta(days=4, hours=23), tick=False):
            on_commit(lambda: order_for(acme, alice, 4))
        assert WebhookEndpoint.objects.get().is_active
        with time_machine.travel(start + timedelta(days=5), tick=False):
            on_commit(lambda: order_for(acme, alice, 4))
        endpoint.refresh_from_db()
        assert not endpoint.is_active and endpoint.disabled_at == start + timedelta(days=5)
        (email,) = mail.outbox
        assert sorted(email.to) == [alice.email, bob.email] and endpoint.url in email.body
        assert "disabled" in email.subject.lower()
        event = AuditEvent.objects.get(action="webhook_endpoint.disabled")
        assert event.actor is None and event.partner == alice.partner
        # Nothing more is published to it, and its waiting deliveries are not sent.
        on_commit(lambda: order_for(acme, alice, 4))
        assert WebhookMessage.objects.count() == 3
        with time_machine.travel(start + timedelta(days=6), tick=False):
            send_due_webhooks.delay().get()
    assert len(receiver.requests) == 3
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.FAILED}


def test_each_event_type_is_published_from_its_service(alice, acme):
    endpoint_types = [
        "order.requested",
        "order.assigned",
        "order.cancelled",
        "licences.expiring",
        "licences.expired",
        "learners.renewed",
        "seats.exhausted",
    ]
    add_webhook_endpoint(alice, "http://127.0.0.1:9/never-called", *endpoint_types)
    order_for(acme, alice, 3, status="cancelled")
    ids, _ = expired_learners_of(acme, 3, alice)
    seats.renew_expired(acme, acting_user=alice, learner_ids=ids)  # no free seat: renews none, all waiting
    assigned_order(acme, 2, alice)
    seats.renew_expired(acme, acting_user=alice, learner_ids=ids)  # renews 2, and the last seat is gone
    expiring = assign(acme, alice)  # assigned on 10 June 2025, on a travelled clock
    run_scheduler(REMINDER_DUE + timedelta(minutes=1))  # its 72-hour reminder
    run_scheduler(REMINDER_DUE + timedelta(minutes=2))  # nothing new: once per reminder
    run_scheduler(EXPIRES + timedelta(minutes=1))  # and its expiry
    messages = list(WebhookMessage.objects.order_by("created_at", "id").values_list("event_type", "payload"))
    types = [event_type for event_type, _ in messages]
    assert set(types) == set(endpoint_types)
    renewed = next(payload["data"] for event_type, payload in messages if event_type == "learners.renewed")
    assert (renewed["renewed"], renewed["not_renewed"], renewed["selection"]) == (2, 1, "one_by_one")
    exhausted = [payload["data"] for event_type, payload in messages if event_type == "seats.exhausted"]
    assert [(data["waiting"], data["pool"]["free"]) for data in exhausted] == [(3, 0), (1, 0)]
    expiring_event = next(payload["data"] for event_type, payload in messages if event_type == "licences.expiring")
    assert (expiring_event["order"]["id"], expiring_event["hours_before_expiry"]) == (expiring.pk, 72)
    assert types.count("licences.expiring") == 1 and types.count("licences.expired") == 1
