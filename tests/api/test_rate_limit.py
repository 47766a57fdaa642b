"""The per-token rate limit, counted in Redis through Django's cache: past it, 429
with Retry-After; other tokens keep their own count."""

import redis
from django.core.cache import caches

from tests.builders import api_get, make_token


def test_past_the_limit_a_token_gets_429_with_retry_after(client, settings, alice, charlie, acme):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    token, other = make_token(alice), make_token(charlie)
    statuses = [api_get(client, "/customers", token).status_code for _ in range(3)]
    refused = api_get(client, "/customers", token)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json" and refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert api_get(client, "/customers", other).status_code == 200


def test_the_count_lives_in_redis(settings, alice, acme, client):
    """Shared by every web process: read back from the Redis server itself."""
    token = make_token(alice)
    api_get(client, "/customers", token)
    api_get(client, "/customers", token)
    server = redis.Redis.from_url(settings.CACHES["api"]["LOCATION"])
    prefix = settings.CACHES["api"]["KEY_PREFIX"]
    (key,) = server.keys(f"{prefix}:*:rate:{token.split('_')[1]}:*")
    assert caches["api"].get(key.decode().split(":", 2)[2]) == 2
    assert 0 < server.ttl(key) <= 65  # the window's key goes when the window has passed
