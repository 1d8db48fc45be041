"""Login limits: wrong passwords counted per phone and per client address, shared by every
worker (Redis with REDIS_URL, else the database; the database too while Redis fails).

LOGIN_PHONE_LIMIT wrong passwords for one phone within LOGIN_WINDOW_SECONDS lock that phone
until the oldest of them leaves the window; LOGIN_ADDRESS_LIMIT (higher: a market's vendors
share one Wi-Fi) lock an address the same way. A locked phone or address is refused before
the password is looked at, so the right password waits too. Unknown phones count like known
ones: the answers tell nobody which numbers have accounts. A successful login clears its
phone's count, not its address's.

The web page and the API both call `attempt`; they commit after a WrongCredentials (the
count and the audit event are in the session) and answer TooManyAttempts with Retry-After.

Two requests for one phone in the same instant are serialised on PostgreSQL by an advisory
lock and on SQLite by its single writer; with Redis two workers may each let one more
guess through, at most one per worker.
"""

import math
import secrets
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ...extensions import db
from ...models import LoginFailure, User, mask_phone
from ..common import audit, clock, locks, redis_store
from ..common.errors import DomainError
from . import accounts

PHONE = "p:"
ADDRESS = "a:"
KEY_LENGTH = 64  # LoginFailure.key


def _phone_key(phone_typed: str) -> str:
    return (PHONE + accounts.normalise_phone(phone_typed))[:KEY_LENGTH]


def _address_key(address: str | None) -> str | None:
    return (ADDRESS + address)[:KEY_LENGTH] if address else None


def local_time(at: datetime) -> str:
    """The hour and minute on the market's clock, as a vendor reads it ("21:45")."""
    zone = ZoneInfo(current_app.config.get("MARKET_TIMEZONE", "Asia/Shanghai"))
    return at.astimezone(zone).strftime("%H:%M")


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _try_again(retry_at: datetime, now: datetime, by_phone: bool):
    seconds = max(1, math.ceil((retry_at - now).total_seconds()))
    when = {"time": local_time(retry_at), "minutes": _minutes(seconds)}
    if by_phone:
        return _l(
            "Too many wrong passwords for this phone number. "
            "Try again after %(time)s (in %(minutes)s min).",
            **when,
        )
    return _l(
        "Too many wrong passwords from this network. "
        "Try again after %(time)s (in %(minutes)s min).",
        **when,
    )


class TooManyAttempts(DomainError):
    """Refused without looking at the password; `headers` carries Retry-After."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_at: datetime, now: datetime, by_phone: bool):
        self.retry_at = retry_at
        self.retry_after = max(1, math.ceil((retry_at - now).total_seconds()))
        self.headers = {"Retry-After": str(self.retry_after)}
        super().__init__(_try_again(retry_at, now, by_phone))


class WrongCredentials(DomainError):
    """A wrong phone or password, now counted. `warning` says how many tries are left, or
    until when the phone (or the address) is now locked."""

    status = 401
    code = "invalid_credentials"

    def __init__(self, tries_left: int, warning, message=None):
        self.tries_left = tries_left
        self.warning = warning
        super().__init__(message or _l("Wrong phone number or password."))


@dataclass(frozen=True)
class Rules:
    phone_limit: int
    address_limit: int
    window: timedelta


def rules() -> Rules:
    config = current_app.config
    return Rules(
        phone_limit=int(config["LOGIN_PHONE_LIMIT"]),
        address_limit=int(config["LOGIN_ADDRESS_LIMIT"]),
        window=timedelta(seconds=int(config["LOGIN_WINDOW_SECONDS"])),
    )


def locked_until(times_newest_first: list[datetime], limit: int, window: timedelta):
    """When a key with these failures (within the window) is free again, or None if it is."""
    if len(times_newest_first) < limit:
        return None
    return times_newest_first[limit - 1] + window


# -- Where the failures are kept ------------------------------------------------------------


class _Database:
    """The login_failures table: in the request's transaction, committed by the caller."""

    def recent(self, key: str, since: datetime, limit: int) -> list[datetime]:
        return list(
            db.session.scalars(
                select(LoginFailure.at)
                .where(LoginFailure.key == key, LoginFailure.at > since)
                .order_by(LoginFailure.at.desc())
                .limit(limit)
            )
        )

    def add(self, keys: list[str], at: datetime, window: timedelta) -> None:
        # Old rows of every key go as new ones come: the table holds one window at most.
        db.session.execute(delete(LoginFailure).where(LoginFailure.at <= at - window))
        db.session.add_all(LoginFailure(key=key, at=at) for key in keys)
        db.session.flush()

    def clear(self, key: str) -> None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))


class _Redis:
    """A sorted set per key, scored by the failure's instant (from the injectable clock)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self.prefix = current_app.config["LOGIN_LIMIT_REDIS_PREFIX"]

    def recent(self, key: str, since: datetime, limit: int) -> list[datetime]:
        rows = self.client.zrevrangebyscore(
            self.prefix + key, "+inf", f"({since.timestamp()}", start=0, num=limit, withscores=True
        )
        return [datetime.fromtimestamp(score, UTC) for _member, score in rows]

    def add(self, keys: list[str], at: datetime, window: timedelta) -> None:
        score = at.timestamp()
        pipe = self.client.pipeline()
        for key in keys:
            name = self.prefix + key
            pipe.zadd(name, {f"{score}:{secrets.token_hex(4)}": score})
            pipe.zremrangebyscore(name, "-inf", score - window.total_seconds())
            pipe.expire(name, int(window.total_seconds()) + 60)
        pipe.execute()

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


def _store(operation: str, *args):
    """Run `operation` on Redis when configured and answering, else on the database."""
    client = redis_store.available()
    if client is not None:
        try:
            return getattr(_Redis(client), operation)(*args)
        except redis.RedisError as e:
            redis_store.mark_down(e)
    return getattr(_Database(), operation)(*args)


# -- The rule -------------------------------------------------------------------------------


def attempt(phone_typed: str, password: str, address: str | None) -> User:
    """The user these credentials belong to. Raises TooManyAttempts (nothing was checked or
    counted) or WrongCredentials (counted and audited: commit before answering)."""
    return guarded(phone_typed, address, lambda: accounts.authenticate(phone_typed, password))


# What a wrong secret is called, and its audit action (a lock is "user.login_locked" for all).
PASSWORD, RESET_CODE = "password", "reset_code"
FAILURES = {
    PASSWORD: (_l("Wrong phone number or password."), "user.login_failed"),
    RESET_CODE: (_l("Wrong phone number or reset code."), "user.reset_code_failed"),
}


def clear_phone(phone_typed: str) -> None:
    """Forget a phone's wrong tries (a reset code was just given to its owner in person)."""
    _store("clear", _phone_key(phone_typed))


def guarded(phone_typed: str, address: str | None, verify, kind: str = PASSWORD) -> User:
    """`verify()` (the user, or None for a wrong secret) under the limits of this phone and
    address: wrong passwords and wrong reset codes count together."""
    now = clock.now()
    r = rules()
    phone_key, address_key = _phone_key(phone_typed), _address_key(address)
    locks.advisory_xact_lock(locks.LOGIN_PHONE, zlib.crc32(phone_key.encode()) & 0x7FFFFFFF)
    since = now - r.window
    phone_times = _store("recent", phone_key, since, r.phone_limit)
    address_times = _store("recent", address_key, since, r.address_limit) if address_key else []
    _refuse_if_locked(now, r, phone_times, address_times)

    user = verify()
    if user is not None:
        _store("clear", phone_key)
        return user

    _store("add", [k for k in (phone_key, address_key) if k], now, r.window)
    phone_times, address_times = [now, *phone_times], [now, *address_times]
    phone_locked = locked_until(phone_times, r.phone_limit, r.window)
    address_locked = locked_until(address_times, r.address_limit, r.window) if address_key else None
    message, action = FAILURES[kind]
    locked = phone_locked is not None
    _audit_failure(
        phone_typed, address, len(phone_times), "user.login_locked" if locked else action
    )
    tries_left = max(0, r.phone_limit - len(phone_times))
    warning = _warning(now, tries_left, phone_locked, address_locked)
    raise WrongCredentials(tries_left, warning, message)


def _lock(phone_until, address_until) -> tuple[datetime, bool] | None:
    """(until when, whether it is the phone's lock) of the lock that holds longer, or None.
    Both locked: the later time is the one that lets this login through."""
    if phone_until is None and address_until is None:
        return None
    by_phone = address_until is None or (phone_until is not None and phone_until >= address_until)
    return (phone_until if by_phone else address_until), by_phone


def _refuse_if_locked(now, r: Rules, phone_times, address_times) -> None:
    lock = _lock(
        locked_until(phone_times, r.phone_limit, r.window),
        locked_until(address_times, r.address_limit, r.window),
    )
    if lock is not None:
        raise TooManyAttempts(lock[0], now, by_phone=lock[1])


def _warning(now, tries_left: int, phone_locked, address_locked):
    lock = _lock(phone_locked, address_locked)
    if lock is None:
        return _l("%(n)s tries left before this phone is locked for a while.", n=tries_left)
    return _try_again(lock[0], now, by_phone=lock[1])


def _audit_failure(phone_typed: str, address: str | None, failures: int, action: str) -> None:
    """Known phones under their user (and organisation, when they belong to one); unknown ones
    under nothing. The phone is masked: the log must not become a list of numbers."""
    phone = accounts.normalise_phone(phone_typed)
    user = accounts.user_by_phone(phone) if accounts.PHONE_RE.fullmatch(phone) else None
    organizations = {g.organization_id for g in user.grants} if user is not None else set()
    audit.record(
        action,
        user,
        organization_id=organizations.pop() if len(organizations) == 1 else None,
        ip=address,
        phone=mask_phone(phone),
        failures=failures,
    )
