"""Counting attempts and pausing whatever has had too many: the engine under the
sign-in and password-reset limits (accounts.signin_guard says what is limited).

Counters live in Django's ``signin`` cache, which is Redis, so every web process
counts the same attempts. A counter covers one fixed window of our clock; a pause
stores the moment it ends, and that moment, read against our clock, decides. Redis's
own expiry only forgets old keys, so a pause ends exactly when the message said.

Subjects (an email, an address) are hashed into the keys: Redis holds no addresses.
"""

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.core.cache import caches
from django.utils import timezone

CACHE_ALIAS = "signin"
# Redis keeps a key this long after it stops counting, then forgets it.
GRACE_SECONDS = 60


class ThrottleUnavailable(Exception):
    """The counters cannot be read or written (Redis is down or unreachable)."""


@dataclass(frozen=True)
class Limit:
    name: str
    max_attempts: int
    window_seconds: int
    pause_seconds: int


@dataclass(frozen=True)
class Pause:
    limit: Limit
    until: datetime

    @property
    def minutes_left(self) -> int:
        """Whole minutes, rounded up: "try again in 1 minute" while any time is left."""
        return max(1, math.ceil((self.until - timezone.now()).total_seconds() / 60))


def paused(limit: Limit, subject: str) -> Pause | None:
    """The pause on this subject, while it lasts."""
    until = _safely(lambda: _cache().get(_pause_key(limit, subject)))
    if until is None or until <= time.time():
        return None
    return Pause(limit, datetime.fromtimestamp(until, tz=UTC))


def count(limit: Limit, subject: str) -> Pause | None:
    """Count one attempt. The one that reaches the limit starts a pause, returned;
    the count starts again from nothing when the pause ends."""
    now = time.time()
    key = _count_key(limit, subject, now)
    attempts = _safely(lambda: _increment(key, limit.window_seconds + GRACE_SECONDS))
    if attempts < limit.max_attempts:
        return None
    until = now + limit.pause_seconds
    _safely(lambda: _cache().set(_pause_key(limit, subject), until, timeout=limit.pause_seconds + GRACE_SECONDS))
    _safely(lambda: _cache().delete(key))
    return Pause(limit, datetime.fromtimestamp(until, tz=UTC))


def forget(limit: Limit, subject: str) -> None:
    """Drop the subject's count in the current window (a success clears the slate)."""
    _safely(lambda: _cache().delete(_count_key(limit, subject, time.time())))


def _increment(key: str, timeout: int) -> int:
    cache = _cache()
    for _ in range(3):
        cache.add(key, 0, timeout=timeout)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr: add it again
            continue
    raise ThrottleUnavailable(f"could not count {key}")


def _cache():
    return caches[CACHE_ALIAS]


def _digest(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()[:32]


def _pause_key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:pause:{_digest(subject)}"


def _count_key(limit: Limit, subject: str, now: float) -> str:
    return f"{limit.name}:count:{_digest(subject)}:{int(now // limit.window_seconds)}"


def _safely(operation):
    try:
        return operation()
    except (redis.RedisError, OSError) as error:
        raise ThrottleUnavailable(str(error)) from error
