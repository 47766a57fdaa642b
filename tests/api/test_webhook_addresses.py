"""The SSRF guard: webhooks go to public https addresses only, checked after DNS
resolution, when an endpoint is saved and again before every attempt; loopback only
where the setting allows it (local development, the tests)."""

import pytest

from api.addresses import RefusedUrl, check_url
from api.error_codes import ApiError
from api.models import WebhookAttempt, WebhookDelivery
from tests.builders import WebhookReceiver, add_webhook_endpoint, order_for

REFUSED = [
    "http://127.0.0.1:8000/hook",  # loopback, setting off
    "https://localhost/hook",  # resolves to loopback
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "https://10.0.0.5/hook",  # private
    "https://172.16.3.4/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data",  # link-local: the cloud metadata service
    "https://100.64.0.1/hook",  # shared address space
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",  # multicast
    "https://[fd00::1]/hook",  # unique local IPv6
    "https://[fe80::1]/hook",
    "http://93.184.216.34/hook",  # public, but plain http
    "https://user:secret@93.184.216.34/hook",
    "ftp://93.184.216.34/hook",
    "https:///hook",
    "https://93.184.216.34:99999/hook",
    "not a url",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_without_loopback(url):
    with pytest.raises(RefusedUrl):
        check_url(url, allow_loopback=False)


def test_loopback_only_when_allowed():
    assert check_url("http://127.0.0.1:8000/hook", allow_loopback=True).address == "127.0.0.1"
    with pytest.raises(RefusedUrl):
        check_url("http://10.0.0.5/hook", allow_loopback=True)  # private stays refused


def test_a_public_https_address_is_taken_as_resolved():
    target = check_url("https://93.184.216.34:8443/hooks?x=1", allow_loopback=False)
    assert (target.address, target.port, target.path, target.host_header) == (
        "93.184.216.34",
        8443,
        "/hooks?x=1",
        "93.184.216.34:8443",
    )


def test_an_endpoint_is_checked_when_saved(settings, alice):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(ApiError) as refused:
        add_webhook_endpoint(alice, "https://localhost/hook", "order.requested")
    assert refused.value.code == "webhook_url_refused" and "loopback" in refused.value.message


def test_an_endpoint_is_checked_again_before_each_attempt(settings, alice, acme, django_capture_on_commit_callbacks):
    """Saved while allowed; by the time of the attempt it is not: nothing is sent."""
    with WebhookReceiver() as receiver:
        add_webhook_endpoint(alice, receiver.url, "order.requested")
        settings.WEBHOOKS_ALLOW_LOOPBACK = False
        with django_capture_on_commit_callbacks(execute=True):
            order_for(acme, alice, 4)
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("Refused")
    assert WebhookDelivery.objects.get().state == "failed"
