"""Sending webhooks: one attempt of one delivery, the backoff, the sweep, and
disabling an endpoint that keeps failing.

1. **Claim** the delivery with a conditional update (state waiting, and due within
   the queue's lease): a task delivered twice, or queued by both the commit and the
   sweep, sends once. The claim is a lease: if the worker dies, the sweep hands the
   delivery to another one when the lease ends.
2. **Send**, outside any transaction: the JSON body signed per Standard Webhooks
   (``webhook-id`` the message's stable id, ``webhook-timestamp``,
   ``webhook-signature`` ``v1,`` HMAC-SHA256 with the endpoint's secret), to the
   address the SSRF guard checked (api.addresses), no redirects followed.
3. **Record** the attempt (status, time taken, the first bytes of the answer) and
   the outcome: 2xx delivered; a timeout, a connection error, 408, 429 or a 5xx is
   retried with exponential backoff (30 s, 1 min, 2 min ... at most 4 h between
   tries) until the retry window (24 h) is over; anything else fails at once. An
   endpoint whose failures have gone on for five days, with no success in between,
   is disabled and its partner's managers are emailed."""

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from api import emails, events
from api.addresses import RefusedUrl, check_url
from api.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint

# A queued delivery is left to its task this long before the sweep queues it again.
QUEUE_LEASE = timedelta(minutes=2)

logger = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=4)
EXCERPT_BYTES = 1024
RETRIED_STATUSES = {408, 429}
USER_AGENT = "Licences-Webhooks/1"
SWEEP_BATCH = 500


def backoff(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt``: 30 s, doubling, at most 4 h."""
    return min(BACKOFF_FIRST * 2 ** max(attempt - 1, 0), BACKOFF_MAX)


def send_lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)


@dataclass(frozen=True)
class Claim:
    delivery: WebhookDelivery
    attempt: int
    by_hand: bool


@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt gave: a status, or an error; and whether to try again."""

    status_code: int | None
    excerpt: str
    error: str
    duration_ms: int
    retry: bool

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim(delivery_id: int, now: datetime) -> Claim | None:
    """Take the delivery for this attempt, or None when it is not this task's to send."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        state__in=(DeliveryState.PENDING, DeliveryState.RETRYING),
        next_attempt_at__lte=now + QUEUE_LEASE,
    ).update(
        state=DeliveryState.SENDING,
        attempt_count=F("attempt_count") + 1,
        next_attempt_at=now + send_lease(),
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("message", "endpoint__partner").get(pk=delivery_id)
    return Claim(delivery=delivery, attempt=delivery.attempt_count, by_hand=delivery.redelivered_by_hand)


def signed_request(delivery: WebhookDelivery, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers of one attempt."""
    message = delivery.message
    body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
    signature = Webhook(delivery.endpoint.secret).sign(msg_id=message.uid, timestamp=now, data=body)
    headers = {
        "webhook-id": message.uid,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    return body.encode(), headers


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST to ``url`` at the address the guard checked, within the timeout."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url)
    except RefusedUrl as refused:
        return Outcome(None, "", f"Refused: {refused}"[:300], took(), retry=False)
    timeout = urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS)
    options = {"host": target.address, "port": target.port, "timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            **options, server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED"
        )
    else:
        pool = urllib3.HTTPConnectionPool(**options)
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers={**headers, "host": target.host_header},
                redirect=False,
                assert_same_host=False,
                preload_content=False,
            )
            try:
                excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
            finally:
                response.release_conn()
    except urllib3.exceptions.NewConnectionError as error:  # a subclass of the timeout error, in urllib3 2
        return Outcome(None, "", f"Connection failed: {error}"[:300], took(), retry=True)
    except urllib3.exceptions.TimeoutError:
        return Outcome(None, "", f"Timed out after {settings.WEBHOOK_TIMEOUT_SECONDS} s.", took(), retry=True)
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(None, "", f"Connection failed: {type(error).__name__}: {error}"[:300], took(), retry=True)
    status = response.status
    retry = status >= 500 or status in RETRIED_STATUSES
    error = "" if 200 <= status < 300 else f"The endpoint answered {status}."
    return Outcome(status, excerpt, error, took(), retry=retry)


@transaction.atomic(durable=True)
def record(claim: Claim, outcome: Outcome, now: datetime) -> str:
    """Record the attempt and what follows it; returns the delivery's new state."""
    delivery, endpoint = claim.delivery, claim.delivery.endpoint
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=claim.attempt,
        trigger=WebhookAttempt.Trigger.MANUAL if claim.by_hand else WebhookAttempt.Trigger.AUTOMATIC,
        attempted_at=now,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        response_excerpt=outcome.excerpt,
        error=outcome.error,
    )
    finished = now + timedelta(milliseconds=outcome.duration_ms)
    changes = {"last_status_code": outcome.status_code, "redelivered_by_hand": False}
    if outcome.succeeded:
        state = DeliveryState.SUCCEEDED
        changes.update(next_attempt_at=None, succeeded_at=finished, failure_reason="")
    elif outcome.retry and finished + backoff(claim.attempt) <= delivery.retry_until:
        state = DeliveryState.RETRYING
        changes.update(next_attempt_at=finished + backoff(claim.attempt), failure_reason=outcome.error[:200])
    else:
        state = DeliveryState.FAILED
        changes.update(next_attempt_at=None, failure_reason=outcome.error[:200])
    ours = WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING, attempt_count=claim.attempt)
    if not ours.update(state=state, **changes):
        logger.warning("Webhook delivery %s was taken over while attempt %s ran.", delivery.pk, claim.attempt)
        return state
    if outcome.succeeded:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
    else:
        _note_failure(endpoint, now)
    return state


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Count the failure against the endpoint; disable it after days of them."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    disable_before = now - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    reason = f"Every delivery failed for {settings.WEBHOOK_DISABLE_AFTER_DAYS} days."
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True, failing_since__lte=disable_before).update(
        is_active=False, disabled_at=now, disabled_reason=reason
    )
    if disabled:
        endpoint.refresh_from_db()
        events.webhook_endpoint_disabled(endpoint, actor=None, reason=reason)
        transaction.on_commit(lambda: emails.webhook_endpoint_disabled(endpoint))


@transaction.atomic(durable=True)
def _give_up(claim: Claim, reason: str) -> str:
    WebhookDelivery.objects.filter(
        pk=claim.delivery.pk, state=DeliveryState.SENDING, attempt_count=claim.attempt
    ).update(state=DeliveryState.FAILED, next_attempt_at=None, failure_reason=reason, attempt_count=claim.attempt - 1)
    return DeliveryState.FAILED


def attempt(delivery_id: int, now: datetime | None = None) -> str | None:
    """One attempt of one delivery, if it is this call's to make; returns the
    delivery's new state, or None when there was nothing to do."""
    now = now or timezone.now()
    claimed = claim(delivery_id, now)
    if claimed is None:
        return None
    if not claimed.delivery.endpoint.is_active:
        # Nothing is sent to a disabled endpoint; Redeliver works once it is enabled.
        return _give_up(claimed, "Not sent: the endpoint is disabled.")
    body, headers = signed_request(claimed.delivery, now)
    outcome = post(claimed.delivery.endpoint.url, body, headers)
    return record(claimed, outcome, now)


# Due deliveries, oldest first, moved on by the queue's lease as they are taken, so
# two sweeps never queue the same one; a claim whose worker died is waiting again.
_SWEEP_SQL = """
UPDATE api_webhookdelivery AS d
SET next_attempt_at = %(lease_until)s,
    state = CASE WHEN d.state = 'sending' THEN 'retrying' ELSE d.state END
WHERE d.id IN (
    SELECT id FROM api_webhookdelivery
    WHERE next_attempt_at <= %(now)s
    ORDER BY next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING d.id
"""


def take_due(now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """The deliveries due now, for the sweep to queue (one indexed statement)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute(_SWEEP_SQL, {"now": now, "lease_until": now + QUEUE_LEASE, "limit": limit})
        return [row[0] for row in cursor.fetchall()]
