"""Integration: a real Celery worker on a real Redis broker runs the periodic task,
dispatched from the beat schedule, and the email arrives.

The broker is CELERY_BROKER_URL (the project's test command starts an embedded Redis
and sets it). Without a Redis answering, the test is skipped locally and fails in CI."""

import os
import time
from datetime import timedelta

import pytest
import redis
from celery.beat import Scheduler
from celery.contrib.testing.worker import start_worker
from celery.worker import state as worker_state
from django.conf import settings
from django.utils import timezone

from config.celery import app
from notifications.models import EmailKind, EmailState, OrderEmail
from tests.builders import REMINDER_SUBJECT, assign, email_due_at, sent

pytestmark = pytest.mark.celery_worker

BEAT_ENTRY = "send-expiry-notifications"
TASK = "notifications.tasks.send_due_expiry_notifications"


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or settings.CELERY_BROKER_URL


@pytest.fixture
def redis_broker():
    url = broker_url()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping()
    except redis.RedisError as error:
        reason = f"No Redis answers at {url} ({error}); set CELERY_BROKER_URL or run the project's test command."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def celery_worker(redis_broker):
    """An in-process worker consuming from the real broker, tasks no longer eager."""
    overrides = {
        "broker_url": redis_broker,
        "task_always_eager": False,
        "worker_hijack_root_logger": False,
    }
    saved = {key: app.conf[key] for key in overrides}
    app.conf.update(overrides)
    app.control.purge()  # leftovers of an earlier run on this Redis database
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        app.conf.update(saved)


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_periodic_task_runs_on_a_real_worker_and_the_email_arrives(tenant_transactional_db, world, celery_worker):
    # An order assigned a year ago, less a day: it expires tomorrow, so its 72-hour
    # reminder is due now, on the real clock the worker reads.
    order = assign(world["acme"], world["alice"], at=timezone.now() - timedelta(days=364))
    assert email_due_at(order, EmailKind.REMINDER) <= timezone.now() < order.expires_at

    # Beat's own schedule entry, published as beat publishes it.
    scheduler = Scheduler(app)
    entry = scheduler.schedule[BEAT_ENTRY]
    assert entry.task == TASK
    assert entry.schedule.run_every == timedelta(seconds=settings.EXPIRY_SCAN_INTERVAL_SECONDS)
    scheduler.apply_async(entry)

    assert wait_for(lambda: sent(REMINDER_SUBJECT, order)), "the reminder did not arrive"
    reminder = sent(REMINDER_SUBJECT, order)
    assert len(reminder) == 1 and reminder[0].to == ["dana@acme.test"]
    assert wait_for(
        lambda: OrderEmail.objects.filter(order=order, kind=EmailKind.REMINDER, state=EmailState.SENT).exists()
    )

    # A second beat, once the worker has run it, has sent nothing more.
    runs = worker_state.total_count[TASK]
    scheduler.apply_async(entry)
    assert wait_for(lambda: worker_state.total_count[TASK] > runs), "the second beat did not run"
    assert len(sent(REMINDER_SUBJECT, order)) == 1
