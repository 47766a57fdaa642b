"""Sign-in protection and two-factor: fixtures and helpers.

The throttle counts in the real Redis that the test command starts (its
CELERY_BROKER_URL); every test here starts and ends with no counts and no pauses.
Codes are computed as an authenticator app computes them (django_otp.oath.totp)."""

import os

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import User
from accounts.throttle import CACHE_ALIAS

OPERATOR_PASSWORD = "a-long-operator-password"


def forget_all_counts():
    """Delete the throttle's keys only (the same Redis holds Celery's queues)."""
    cache = caches[CACHE_ALIAS]
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES[CACHE_ALIAS]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _no_counts():
    try:
        forget_all_counts()
    except redis.RedisError as error:
        reason = f"No Redis answers at {settings.CACHE_URL} ({error}); run the project's test command."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield
    forget_all_counts()


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@platform.test", OPERATOR_PASSWORD)


def code_for(device, *, steps_ahead=0) -> str:
    """The code an authenticator app shows for the device now (or that many 30-second
    steps ahead: a code is accepted once, so a second sign-in in the same step needs
    the next one, which the device's tolerance of one step accepts)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, steps_ahead):06d}"


def set_up_authenticator(user) -> TOTPDevice:
    """What the set-up page does, through the same service functions."""
    device = two_factor.device_being_set_up(user)
    confirmed = two_factor.confirm_device(user, code_for(device))
    assert confirmed is not None
    return confirmed


def sign_in_with_code(client, user) -> TOTPDevice:
    """force_login, plus a session that has passed the code step (setting up an
    authenticator first if the user has none): what operators need for the admin."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or set_up_authenticator(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
