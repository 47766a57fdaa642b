"""The API page without a browser: partner managers only, their own partner's
tokens and endpoints only, the secret never kept, endpoints checked and audited."""

import io

from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from tests.builders import WebhookReceiver, add_webhook_endpoint, make_token, order_for


def test_only_partner_managers_see_it(client, dana, alice):
    url = reverse("api_page:index")
    client.force_login(dana)
    assert client.get(url).status_code == 403
    client.force_login(alice)
    page = client.get(url)
    assert page.status_code == 200 and b'href="/partner/api/"' in page.content  # in the dashboard's nav


def test_creating_a_token_shows_the_secret_this_once(client, alice):
    client.force_login(alice)
    made = client.post(reverse("api_page:create_token"), {"name": "Billing", "scope": "read", "expires": "90"})
    assert made.status_code == 201 and "no-store" in made["Cache-Control"]
    token = ApiToken.objects.get()
    secret = made.context["new_token"].secret
    assert secret.encode() in made.content and token.expires_at is not None
    assert secret.encode() not in client.get(reverse("api_page:index")).content


def test_another_partners_rows_are_not_found(client, alice, charlie, acme):
    make_token(charlie)
    endpoint = add_webhook_endpoint(charlie, "http://127.0.0.1:9/hook", "order.requested")
    client.force_login(alice)
    token = ApiToken.objects.get()
    assert client.post(reverse("api_page:revoke_token", args=[token.pk])).status_code == 404
    assert client.get(reverse("api_page:endpoint", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("api_page:remove_endpoint", args=[endpoint.pk])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None and WebhookEndpoint.objects.exists()


def test_endpoints_are_added_changed_and_removed_with_audit(client, settings, alice, acme):
    client.force_login(alice)
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    refused = client.post(
        reverse("api_page:add_endpoint"), {"url": "https://169.254.169.254/", "event_types": ["order.requested"]}
    )
    assert refused.status_code == 422 and b"private or reserved" in refused.content
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    added = client.post(
        reverse("api_page:add_endpoint"), {"url": "http://127.0.0.1:9/hook", "event_types": ["order.requested"]}
    )
    endpoint = WebhookEndpoint.objects.get()
    assert added.status_code == 302 and endpoint.secret.startswith("whsec_")
    page = client.get(reverse("api_page:endpoint", args=[endpoint.pk]))
    assert endpoint.secret.encode() in page.content
    client.post(
        reverse("api_page:change_endpoint", args=[endpoint.pk]),
        {"url": "http://127.0.0.1:9/other", "event_types": ["order.assigned"]},
    )
    client.post(reverse("api_page:disable_endpoint", args=[endpoint.pk]))
    client.post(reverse("api_page:enable_endpoint", args=[endpoint.pk]))
    client.post(reverse("api_page:remove_endpoint", args=[endpoint.pk]))
    actions = list(AuditEvent.objects.filter(partner=alice.partner).order_by("id").values_list("action", flat=True))
    assert [a for a in actions if a.startswith("webhook")] == [
        "webhook_endpoint.added",
        "webhook_endpoint.changed",
        "webhook_endpoint.disabled",
        "webhook_endpoint.enabled",
        "webhook_endpoint.removed",
    ]
    assert not WebhookEndpoint.objects.exists()


def test_redeliver_from_the_endpoint_page(client, alice, acme, django_capture_on_commit_callbacks):
    with WebhookReceiver((500, "oops", 0), (500, "oops", 0)) as receiver:
        endpoint = add_webhook_endpoint(alice, receiver.url, "order.requested")
        with django_capture_on_commit_callbacks(execute=True):
            order_for(acme, alice, 3)
        client.force_login(alice)
        delivery = WebhookDelivery.objects.get()
        page = client.get(reverse("api_page:endpoint", args=[endpoint.pk]))
        assert b"Waiting to retry" in page.content and b"oops" in page.content
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("api_page:redeliver", args=[delivery.pk]))
    assert len(receiver.requests) == 2
    page = client.get(reverse("api_page:endpoint", args=[endpoint.pk]))
    assert b"by hand" in page.content


def test_the_local_receiver_verifies_signatures(client, settings, alice, acme):
    from api.delivery import signed_request
    from api.webhooks import new_secret, publish

    endpoint = WebhookEndpoint.objects.create(
        partner=alice.partner,
        url="http://testserver/api/local-webhook-receiver/",
        event_types=["order.requested"],
        secret=new_secret(),
        created_by=alice,
    )
    publish("order.requested", partner_id=alice.partner_id, data={"hello": "world"})
    body, headers = signed_request(WebhookDelivery.objects.get(endpoint=endpoint), now=timezone.now())
    meta = {
        f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items() if name != "content-type"
    }
    url = "/api/local-webhook-receiver/"
    settings.LOCAL_OUTBOX_ENABLED = False
    assert client.post(url, body, content_type="application/json", **meta).status_code == 404
    settings.LOCAL_OUTBOX_ENABLED = True
    answer = client.post(url, body, content_type="application/json", **meta)
    assert answer.status_code == 200 and answer.json()["verified"] is True
    assert (
        client.post(url, body.replace(b"world", b"earth"), content_type="application/json", **meta).status_code == 400
    )


def test_the_demo_has_a_webhook_endpoint_at_the_local_receiver(alice, acme):
    """seed_demo makes it before its licence stories, whose events then reach it."""
    from demo.management.commands.seed_demo import Command

    command = Command(stdout=io.StringIO())
    command._webhook_endpoint(alice.partner)
    command._webhook_endpoint(alice.partner)  # idempotent, as the whole command is
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url.endswith("/api/local-webhook-receiver/") and len(endpoint.event_types) == 7
    order_for(acme, alice, 3)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
