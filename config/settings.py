"""Settings for the licence platform.

Everything comes from environment variables, each with a default that works for local
development (the embedded servers started by ``scripts/dev.py``). Production sets
``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL``, ``CELERY_BROKER_URL``
and an email provider; see README.md.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or ("dev-only-insecure-key-set-SECRET_KEY-in-production" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Applications ------------------------------------------------------------------
# django-tenants migrates per app: an app lives either in the public schema (shared)
# or in every customer's schema (tenant), never both.
SHARED_APPS = [
    # Before django_tenants, so the admin keeps its own templates: django-tenants'
    # admin templates expect a request.tenant in the public schema, which this
    # project leaves None (the tenant comes from the user, not the host).
    "django.contrib.admin",
    "django_tenants",
    "common",
    "accounts",
    "partners",
    "customers",
    "licences",
    "notifications",
    "demo",
    "api",
    "insight",
    "ninja",  # its bundled Swagger UI files, served by the project (no CDN)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "django_htmx",
]
TENANT_APPS = ["learners"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "customers.Customer"
TENANT_DOMAIN_MODEL = "customers.Domain"
PUBLIC_SCHEMA_NAME = "public"
# migrate_schemas migrates only the schemas behind, TENANT_MIGRATION_WORKERS at a
# time (--parallel N overrides), and keeps the template schema that new customers
# are copied from current (customers/migration_executor.py, customers/schemas.py).
GET_EXECUTOR_FUNCTION = "customers.migration_executor.get_executor"
TENANT_MIGRATION_WORKERS = envint("TENANT_MIGRATION_WORKERS", 2)
CUSTOMER_TEMPLATE_SCHEMA = "customer_template"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Decides the schema of every request from the signed-in user and the session.
    "customers.middleware.TenantContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "customers.context_processors.tenant_context",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/licences"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Statements kept prepared (common.db.prepared_cursor: the API's lists) are planned for
# their own parameters each time, never with a plan kept for any: a partner, a
# requester or a search can match a handful of rows or nearly all, and a plan kept
# for one took 17 ms instead of 1 for another. They are still parsed only once.
_options = DATABASES["default"].setdefault("OPTIONS", {})
_options["options"] = f"{_options.get('options', '')} -c plan_cache_mode=force_custom_plan".strip()
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# One SET search_path when the schema changes, not one before every query (a round
# trip each). Safe from django-tenants 4.0.1 on: a ROLLBACK or ROLLBACK TO SAVEPOINT
# undoes a SET, and the backend then forgets what it had set (tests/tenancy).
TENANT_LIMIT_SET_CALLS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and sign-in ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# --- Internationalisation: the product's locale is en-GB ----------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_CUSTOMER_TIME_ZONE = "Europe/London"

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic writes, and WhiteNoise serves from when DEBUG is off.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Cache: tenant-aware keys, so no customer can read another's entries -------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Security (check --deploy is clean when DEBUG is off) ------------------------------
HTTPS = envbool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 60 * 60 * 12)
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Content Security Policy (django-csp 4), its middleware included -------------------
# Scripts, styles, images and fetches from this site only: no inline script or style (the
# pages' behaviour lives in static/js/app.js), no plugins, no framing, forms post here only.
# tests/production drives the pages under it with a violation listener. The middleware
# comes right after SecurityMiddleware, so WhiteNoise's static files carry the policy too.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- Email: Django's API, any django-anymail backend chosen by environment -----------
# Locally, mail is written to files in .data/outbox and listed at /outbox/.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / ".data" / "outbox"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Licences <licences@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# ANYMAIL_POSTMARK_SERVER_TOKEN=... becomes ANYMAIL["POSTMARK_SERVER_TOKEN"], and so on.
ANYMAIL = {key.removeprefix("ANYMAIL_"): v for key, v in os.environ.items() if key.startswith("ANYMAIL_")}
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
# A hung SMTP send must fail well within the expiry notices' claim timeout.
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
LOCAL_OUTBOX_ENABLED = envbool("LOCAL_OUTBOX_ENABLED", DEBUG)

# --- Celery ------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The queue the web sends tasks to and the worker takes them from: give each deployment
# sharing one Redis database its own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE") or "celery"
EXPIRY_SCAN_INTERVAL_SECONDS = envint("EXPIRY_SCAN_INTERVAL_SECONDS", 300)
# Orders one scan takes at most; a full batch queues the next scan straight away.
EXPIRY_SCAN_BATCH_SIZE = envint("EXPIRY_SCAN_BATCH_SIZE", 200)
# A claim older than this was left by a dead worker and is taken over. Keep it well
# above the longest a single email send can take.
EXPIRY_CLAIM_TIMEOUT_SECONDS = envint("EXPIRY_CLAIM_TIMEOUT_SECONDS", 900)
# Transient provider errors are retried with backoff (5 min doubling, at most 2 h)
# up to this many attempts, then recorded as failed.
EXPIRY_MAX_SEND_ATTEMPTS = envint("EXPIRY_MAX_SEND_ATTEMPTS", 8)
CELERY_BEAT_SCHEDULE = {
    "send-expiry-notifications": {
        "task": "notifications.tasks.send_due_expiry_notifications",
        "schedule": timedelta(seconds=EXPIRY_SCAN_INTERVAL_SECONDS),
        # Scans queued while no worker was up are dropped, not run back to back.
        "options": {"expires": EXPIRY_SCAN_INTERVAL_SECONDS},
    },
}

# --- Sign-in protection and two-factor sign-in ---------------------------------------
# One block on purpose (apps, middleware, caches and limits together), so it merges
# beside other edits of the sections above.
#
# The admin is the operators' site from accounts.admin_site (it requires a verified
# code); django-otp and its TOTP devices live in the public schema.
SHARED_APPS[SHARED_APPS.index("django.contrib.admin")] = "accounts.apps.OperatorAdminConfig"
SHARED_APPS += ["django_otp", "django_otp.plugins.otp_totp"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
# OTPMiddleware tells whether this session passed a code; the gate then keeps anyone
# who must give one (or must first set up an authenticator) away from every other page.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1, "accounts.middleware.TwoFactorGateMiddleware"
)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "SAT Licences")
# The TOTP admin pages never show a device's secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Wrong codes are limited by accounts.signin_guard (per account, with a cool-off, a
# message and an audit row), so django-otp's own per-device back-off is off: one
# limit, one message.
OTP_TOTP_THROTTLE_FACTOR = 0

# Failure counters live in Redis, so every web process counts the same attempts.
# CACHE_URL (or REDIS_URL) names the server; otherwise Celery's broker is used.
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or CELERY_BROKER_URL
CACHES["default"] = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": CACHE_URL,
    "KEY_PREFIX": "licences",
    "KEY_FUNCTION": "django_tenants.cache.make_key",
    "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
}
# The throttle's own alias: its keys name an account or an address, never tenant data,
# so they are the same in every schema (no tenant key function).
CACHES["signin"] = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": CACHE_URL,
    "KEY_PREFIX": "licences-signin",
    "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
}
# Wrong passwords: per account and per address, counted over the cool-off period; at
# the limit, signing in is paused for the cool-off period. Codes likewise per account.
SIGN_IN_MAX_FAILURES_PER_ACCOUNT = envint("SIGN_IN_MAX_FAILURES_PER_ACCOUNT", 5)
SIGN_IN_MAX_FAILURES_PER_ADDRESS = envint("SIGN_IN_MAX_FAILURES_PER_ADDRESS", 20)
SIGN_IN_COOL_OFF_SECONDS = envint("SIGN_IN_COOL_OFF_SECONDS", 15 * 60)
TWO_FACTOR_MAX_FAILURES = envint("TWO_FACTOR_MAX_FAILURES", 5)
# Password reset requests per email and per address, within the window.
PASSWORD_RESET_MAX_PER_EMAIL = envint("PASSWORD_RESET_MAX_PER_EMAIL", 3)
PASSWORD_RESET_MAX_PER_ADDRESS = envint("PASSWORD_RESET_MAX_PER_ADDRESS", 10)
PASSWORD_RESET_WINDOW_SECONDS = envint("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)
# How many proxies in front of the app append to X-Forwarded-For: 0 trusts only the
# socket's address (gunicorn facing the internet, or the local server).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
# --- Partner API and webhooks (api/) ---------------------------------------------------
# The API's own cache, in Redis: the per-token rate limit and last-use stamps must be
# shared by every web process. A cache alias of its own ("api", with plain keys: a
# token's count is the same whichever schema a request ends in), kept apart from
# CACHES["default"] and whatever else uses it.
CACHES["api"] = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": os.environ.get("API_CACHE_URL") or CELERY_BROKER_URL,
    "KEY_PREFIX": "api",
    "TIMEOUT": 120,
}
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", 600)
# Webhook URLs on loopback (http://127.0.0.1:...) are refused unless this is on: it is
# on locally (DEBUG) and in the tests, never by default in production.
WEBHOOKS_ALLOW_LOOPBACK = envbool("WEBHOOKS_ALLOW_LOOPBACK", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 10)
# Failed deliveries are retried with exponential backoff for this long...
WEBHOOK_RETRY_HOURS = envint("WEBHOOK_RETRY_HOURS", 24)
# ... and an endpoint failing for this long is disabled (its partner's managers are emailed).
WEBHOOK_DISABLE_AFTER_DAYS = envint("WEBHOOK_DISABLE_AFTER_DAYS", 5)
WEBHOOK_SWEEP_INTERVAL_SECONDS = envint("WEBHOOK_SWEEP_INTERVAL_SECONDS", 30)
CELERY_BEAT_SCHEDULE["send-due-webhooks"] = {
    "task": "api.tasks.send_due_webhooks",
    "schedule": timedelta(seconds=WEBHOOK_SWEEP_INTERVAL_SECONDS),
    "options": {"expires": WEBHOOK_SWEEP_INTERVAL_SECONDS},
}
# The partners' weekly digest (Monday 08:00 in each partner's time zone): a beat
# every 15 minutes finds the partners whose moment has come; each is sent once.
CELERY_BEAT_SCHEDULE["send-partner-digests"] = {
    "task": "notifications.tasks.send_partner_digests",
    "schedule": timedelta(minutes=15),
    "options": {"expires": 15 * 60},
}
CELERY_BEAT_SCHEDULE["forget-idempotency-keys"] = {
    "task": "api.tasks.forget_old_idempotency_keys",
    "schedule": timedelta(hours=1),
    "options": {"expires": 3600},
}

# --- Product limits ----------------------------------------------------------------------
LICENCE_ORDER_MAX_QUANTITY = envint("LICENCE_ORDER_MAX_QUANTITY", 100_000)
LICENCE_VALIDITY_MONTHS = 12
CSV_UPLOAD_MAX_BYTES = envint("CSV_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
CSV_UPLOAD_MAX_ROWS = envint("CSV_UPLOAD_MAX_ROWS", 200_000)
CSV_UPLOAD_MAX_COLUMNS = envint("CSV_UPLOAD_MAX_COLUMNS", 200)
# Imports with more rows than this run as a Celery task with a progress bar.
CSV_BACKGROUND_MIN_ROWS = envint("CSV_BACKGROUND_MIN_ROWS", 2_000)
FILE_UPLOAD_HANDLERS = [
    "common.uploads.SizeCappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
PAGE_SIZE = envint("PAGE_SIZE", 25)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Charts: the daily record of seats in use (licences.seat_use) --------------------
# Every hour, so the last run of each customer's day stands for that day's end.
CELERY_BEAT_SCHEDULE["record-seats-in-use"] = {
    "task": "licences.tasks.record_seats_in_use",
    "schedule": timedelta(hours=1),
    "options": {"expires": 3600},
}

# --- Lapses: the Expired Licences list's index (learners.lapses) ----------------------
# As often as the expiry scan: until a customer's lapses are recorded after one of its
# orders expired, its list reads the allocations themselves (right, only slower).
CELERY_BEAT_SCHEDULE["record-lapses"] = {
    "task": "learners.tasks.record_lapses",
    "schedule": timedelta(seconds=EXPIRY_SCAN_INTERVAL_SECONDS),
    "options": {"expires": EXPIRY_SCAN_INTERVAL_SECONDS},
}
