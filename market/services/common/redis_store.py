"""The optional Redis (REDIS_URL): one client per app with short timeouts, and a pause after a
failure so a Redis that is down or hangs costs one short timeout, not one per request.

Callers fall back to what every worker also shares, the database, when `available()` gives
None or a command raises `redis.RedisError` (then they call `mark_down`)."""

import logging
import time

import redis
from flask import current_app

log = logging.getLogger("market.redis")

# After a failure this process leaves Redis alone this long (per URL), then tries again.
PAUSE_SECONDS = 30.0
_down_until: dict[str, float] = {}


def _url() -> str | None:
    return current_app.config.get("REDIS_URL") or None


def client() -> redis.Redis | None:
    """This app's client, or None without REDIS_URL. No retries: a timeout is an answer."""
    url = _url()
    if url is None:
        return None
    clients = current_app.extensions.setdefault("market_redis", {})
    if url not in clients:
        timeout = current_app.config.get("REDIS_TIMEOUT_SECONDS", 0.3)
        clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
    return clients[url]


def available() -> redis.Redis | None:
    """The client, unless Redis failed in this process within the last PAUSE_SECONDS."""
    url = _url()
    if url is None or _down_until.get(url, 0.0) > time.monotonic():
        return None
    return client()


def mark_down(error: Exception) -> None:
    url = _url()
    if url is None:
        return
    log.warning(
        "Redis unavailable (%s: %s); using the database for %d s",
        type(error).__name__,
        error,
        PAUSE_SECONDS,
    )
    _down_until[url] = time.monotonic() + PAUSE_SECONDS


def status() -> str | None:
    """ "ok" or "down" with REDIS_URL set (a fresh ping, whatever the pause), else None."""
    c = client()
    if c is None:
        return None
    try:
        c.ping()
    except redis.RedisError:
        return "down"
    _down_until.pop(_url(), None)  # it answers again: no need to wait out the pause
    return "ok"
