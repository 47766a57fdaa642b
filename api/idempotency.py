"""Idempotency-Key on every POST: a retried request acts once and gets the first
response again.

The first request with a key takes a PostgreSQL advisory lock on (partner, key), runs,
and stores its response (anything but a server error); a second one with the same key
waits for the lock, then replays the stored response, marked ``Idempotent-Replayed``.
So two identical requests sent at once act once. The same key with another method,
path or body is refused (422), and a key still held after ``WAIT_SECONDS`` gets 409.

The services each run in their own durable transaction, so the response is stored
just after the action commits: a process killed between the two is the one case in
which a retry acts again."""

import functools
import hashlib
import re
import time
from contextlib import contextmanager

from django.db import connection
from django.http import HttpResponse

from api import auth
from api.error_codes import ApiErrorCode
from api.models import IdempotentRequest
from api.problems import InsufficientScope, problem, respond_to

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces
KEY = re.compile(KEY_PATTERN)
WAIT_SECONDS = 30
POLL_SECONDS = 0.02


def _lock_id(partner_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{partner_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _key_lock(partner_id: int, key: str):
    """Hold the key's advisory lock (a session lock: the action's transactions come
    and go inside it), or yield False if another request holds it for too long."""
    lock_id = _lock_id(partner_id, key)
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() > deadline:
                yield False
                return
            time.sleep(POLL_SECONDS)
    try:
        yield True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def fingerprint(request) -> str:
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.body).hexdigest()


def _replay(stored: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(stored.body), status=stored.status_code, content_type=stored.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(run):
    """A decorator of every operation's run (api.v1): POSTs with the header act once."""

    @functools.wraps(run)
    def wrapped(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return run(request, *args, **kwargs)
        try:
            token = auth.authenticate(request)
            if not token.can_write:
                raise InsufficientScope
        except Exception as error:  # not authenticated, over the limit, read-only
            return respond_to(request, error)
        if not KEY.match(key):
            return problem(
                422,
                ApiErrorCode.IDEMPOTENCY_KEY_INVALID,
                "An Idempotency-Key is 1 to 255 printable characters, without spaces.",
                errors=[{"field": f"header.{HEADER}", "message": "Not a valid key.", "code": "invalid"}],
            )
        request_fingerprint = fingerprint(request)
        with _key_lock(token.partner_id, key) as locked:
            if not locked:
                return problem(
                    409, ApiErrorCode.IDEMPOTENCY_KEY_IN_USE, "A request with this Idempotency-Key is still running."
                )
            stored = IdempotentRequest.objects.filter(partner_id=token.partner_id, key=key).first()
            if stored is not None:
                if stored.fingerprint != request_fingerprint:
                    return problem(
                        422,
                        ApiErrorCode.IDEMPOTENCY_KEY_REUSED,
                        "This Idempotency-Key was used for another request. Use a new key for each request.",
                    )
                return _replay(stored)
            response = run(request, *args, **kwargs)
            if response.status_code < 500:
                IdempotentRequest.objects.create(
                    partner_id=token.partner_id,
                    key=key,
                    fingerprint=request_fingerprint,
                    status_code=response.status_code,
                    content_type=response.get("Content-Type", "application/json"),
                    body=response.content,
                )
            return response

    return wrapped
