"""Sign-in protection and two-factor: fixtures (helpers: tests.builders).

The throttle counts in the real Redis that the test command starts (its
CELERY_BROKER_URL); every test here starts and ends with no counts and no pauses.
Codes are computed as an authenticator app computes them (django_otp.oath.totp)."""

import os

import pytest
import redis
from django.conf import settings

from accounts.models import User
from tests.builders import OPERATOR_PASSWORD, forget_all_counts


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
