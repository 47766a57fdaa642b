"""Who is calling: the bearer token, checked on every request, its scope, and its
rate limit.

The API never looks at the session: a browser signed in to the dashboard (in manage
mode or not) is nobody here, and the request runs in the public schema until an
endpoint enters the customer named in its path, after checking that the customer
is the token's partner's."""

import time

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from ninja.security import HttpBearer

from api import tokens
from api.models import ApiToken
from api.problems import InsufficientScope, NotAuthenticated, RateLimited
from api.schemas import MAX_ID

WINDOW_SECONDS = 60


def cache():
    return caches["api"]


# INCR, and EXPIRE on a window's first request, as one command (atomic, one round
# trip, and no MULTI/EXEC around it; EXPIRE NX would need Redis 7).
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _count_script(store):
    """The script, on a Redis client of the "api" cache made once per cache object
    (Django's ``get_client`` makes a client on every call)."""
    script = getattr(store, "_api_count_script", None)
    if script is None:
        client = store._cache.get_client(write=True)  # noqa: SLF001 (Django's Redis client)
        script = store._api_count_script = client.register_script(_COUNT_SCRIPT)
    return script


def check_rate(token: ApiToken, now: float | None = None) -> int:
    """Count this request against the token's limit for the current minute (a fixed
    window, in Redis, shared by every web process); RateLimited once it is over.
    Returns the request's number in its window.

    One round trip: a script that increments the window's key and, on its first
    request, sets the key to expire (each window has its own key)."""
    now = now if now is not None else time.time()
    window = int(now // WINDOW_SECONDS)
    store = cache()
    key = store.make_and_validate_key(f"rate:{token.key_id}:{window}")
    count = _count_script(store)(keys=[key], args=[WINDOW_SECONDS + 5])
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
        raise RateLimited(retry_after=retry_after, limit=limit)
    return count


def note_use(token: ApiToken) -> None:
    """Stamp the token's last use: on its first request of each minute's window, so
    at most once a minute (a write on every request would make every read a write)."""
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())


def _customer_in_path(request) -> int | None:
    """The customer id the request's path names (``/customers/{customer_id}/...``), to
    read with the token; the endpoint checks it all the same (api.routes._common)."""
    match = request.resolver_match
    value = match.kwargs.get("customer_id") if match is not None else None
    if isinstance(value, str) and value.isdigit() and len(value) <= len(str(MAX_ID)) and int(value) <= MAX_ID:
        return int(value)
    return None


def authenticate(request) -> ApiToken:
    """The request's live token, checked once per request (the idempotency layer
    may ask first); NotAuthenticated or RateLimited otherwise."""
    cached = getattr(request, "_api_token", None)
    if cached is not None:
        return cached
    # Whatever the tenant middleware chose from a session, the API starts in public.
    connection.set_schema_to_public()
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    token = None
    if scheme.lower() == "bearer":
        token = tokens.authenticate(raw.strip(), customer_id=_customer_in_path(request))
    if token is None:
        raise NotAuthenticated
    if check_rate(token) == 1:
        note_use(token)
    request._api_token = token
    return token


class TokenAuth(HttpBearer):
    """Authorization: Bearer lic_...; ``write`` tokens only for changes."""

    def __init__(self, *, write: bool = False):
        super().__init__()
        self.write = write

    def __call__(self, request):
        token = authenticate(request)
        if self.write and not token.can_write:
            raise InsufficientScope
        return token

    def authenticate(self, request, token):  # the header is read in __call__
        raise NotImplementedError


read_token = TokenAuth()
write_token = TokenAuth(write=True)
