"""Settings, read from the environment only, with safe defaults."""

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "on", "yes"}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def from_environment(instance_path: str) -> dict:
    default_db = "sqlite:///" + str(Path(instance_path) / "market.db")
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL") or default_db
        ),
        "MARKET_TIMEZONE": os.environ.get("MARKET_TIMEZONE", "Asia/Shanghai"),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "SCHEDULER": os.environ.get("SCHEDULER", "on").lower() != "off",
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or None,
        # How many reverse proxies in front of us may set X-Forwarded-* (0: trust none).
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "LOG_JSON": _bool("LOG_JSON", True),
        **_scheduler_timing(),
    }


def _scheduler_timing() -> dict:
    """SCHEDULER_TICK_SECONDS (default 60, on the minute; a divisor of 60): drills and fault
    tests tick every few seconds. The lease and the grace time follow it."""
    raw = os.environ.get("SCHEDULER_TICK_SECONDS")
    if not raw:
        return {}
    tick = int(raw)
    if tick <= 0 or 60 % tick:
        raise ValueError(f"SCHEDULER_TICK_SECONDS={raw}: give a divisor of 60")
    return {
        "SCHEDULER_TICK_SECONDS": tick,
        "SCHEDULER_LEASE_SECONDS": tick * 3 // 2,
        "SCHEDULER_MISFIRE_GRACE_SECONDS": max(1, tick * 5 // 6),
    }


class Defaults:
    """Values that do not come from the environment."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # turned on per request when served over HTTPS
    SESSION_COOKIE_NAME = "market_session"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 30  # vendors stay logged in for a month
    # The CSRF token lives as long as the session: an older vendor may take a while to fill a form.
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    # Large enough that an oversized photo reaches the form (which explains and keeps the rest);
    # UPLOAD_MAX_BYTES is the real limit per image.
    # Brotli 5 shrinks the board's map a quarter more than the default 4 for little CPU.
    COMPRESS_BR_LEVEL = 5
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    # /healthz says "disk": "low" under this much free space where uploads and SQLite live.
    DISK_FREE_FLOOR_MB = 200
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "fixed-window"
    # Redis is optional, so its failure must be too: give up on it within a third of a second
    # and count in this process's memory until it answers again (flask-limiter checks back).
    REDIS_TIMEOUT_SECONDS = 0.3
    RATELIMIT_STORAGE_OPTIONS = {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    }
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Wrong passwords (market/services/auth/login_limits.py): per phone, and a higher count per
    # client address so one vendor's typos on a market's shared Wi-Fi lock out nobody else.
    LOGIN_PHONE_LIMIT = 5
    LOGIN_ADDRESS_LIMIT = 30
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_LIMIT_REDIS_PREFIX = "market:login-failures:"
    # Public complaints: per sending address, per stall (or market), and tracking-page reads.
    COMPLAINT_ADDRESS_LIMIT = "5 per minute;60 per day"
    COMPLAINT_PLACE_LIMIT = "20 per hour"
    TRACKING_RATE_LIMIT = "30 per minute"
    API_TOKEN_TTL = 12 * 60 * 60
    # The scheduler (market/scheduler.py): a SQLite lease outlives one missed tick, so a live
    # holder keeps it and a dead one is replaced within two ticks; the PostgreSQL advisory
    # lock key is any constant shared by every process of one deployment.
    SCHEDULER_TICK_SECONDS = 60
    SCHEDULER_LEASE_SECONDS = 90
    SCHEDULER_LOCK_KEY = 0x7469_6465_0001
    SCHEDULER_MISFIRE_GRACE_SECONDS = 50
    # On PostgreSQL a tick whose clock is ahead of the database's by more than this does
    # nothing (services.sessions.clockguard): a clock days ahead would end evenings early.
    SCHEDULER_CLOCK_SKEW_MINUTES = 5
    # flask-smorest
    API_TITLE = "Tidal market API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
