"""Settings for the test suite: the real settings, made fast and deterministic."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from config.settings import *  # noqa: E402,F403

HTTPS = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tasks run in-process unless a test starts a real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Request threads of the live server must not keep connections open past the test.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Webhook tests deliver to a real HTTP receiver on 127.0.0.1.
WEBHOOKS_ALLOW_LOOPBACK = True
# Under pytest-xdist each worker has its own test database (pytest-django's suffix);
# its Redis keys and Celery queue get the same suffix, so workers never share a
# throttle counter, an idempotency key or a task.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    for cache in CACHES.values():  # noqa: F405
        if "KEY_PREFIX" in cache:
            cache["KEY_PREFIX"] = f"{cache['KEY_PREFIX']}-{XDIST_WORKER}"
    CELERY_TASK_DEFAULT_QUEUE = f"celery-{XDIST_WORKER}"
