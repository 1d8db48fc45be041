"""The scheduler's other work: each feature with something due at a set time (a household vote
that closes, a draw that is revealed) registers a job here, and every tick — the scheduler's and
`flask market tick` — runs them after the sessions, in the same transaction.

A job is `job(now) -> list[str]`: lines for the tick's report, empty when nothing was due. It
must be idempotent (a tick may run twice, or late after downtime) and raise nothing it can
handle itself: an exception is reported as an ERROR line and the other jobs still run."""

import logging
from collections.abc import Callable
from datetime import datetime

from ...extensions import db

log = logging.getLogger(__name__)
_JOBS: list[tuple[str, Callable[[datetime], list[str]]]] = []


def register(name: str):
    """Decorator: run this function at every tick (registering twice is harmless)."""

    def decorator(job):
        if all(n != name for n, _j in _JOBS):
            _JOBS.append((name, job))
        return job

    return decorator


def run(now: datetime) -> list[str]:
    """Every job's lines; a failing job is rolled back to its savepoint and reported."""
    lines: list[str] = []
    for name, job in _JOBS:
        try:
            with db.session.begin_nested():
                lines += job(now) or []
        except Exception as e:  # noqa: BLE001  (one feature's fault must not stop the others)
            log.exception("tick job %s failed", name)
            lines.append(f"ERROR {name}: {e}")
    return lines
