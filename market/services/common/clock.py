"""The one source of "now": the real time, or a clock a test (or a demo) put in the config.

Everything that asks what time it is (the scheduler, the pages, the services when the caller
gives no instant) asks here, so tests move time forward instead of sleeping.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: give an aware instant")
    return value.astimezone(UTC)


def now() -> datetime:
    """The current instant, aware UTC. app.config["CLOCK"] may hold a datetime or a callable."""
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    if clock is None:
        return datetime.now(UTC)
    return as_utc(clock() if callable(clock) else clock)


class FixedClock:
    """A clock that stands still until told to move: `app.config["CLOCK"] = FixedClock(t)`."""

    def __init__(self, at: datetime):
        self.at = as_utc(at)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = as_utc(at)

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def parse_instant(text: str, default_zone: str) -> datetime:
    """An ISO-8601 instant ("2026-11-23T18:05+08:00", "…Z"); one without an offset is read
    on the clocks of `default_zone`. ValueError with a readable message otherwise."""
    try:
        zone = ZoneInfo(default_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone: {default_zone!r}") from None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO-8601 date and time: {text!r}") from None
    return as_utc(value if value.tzinfo else value.replace(tzinfo=zone))
