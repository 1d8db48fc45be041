"""Abuse controls for public complaints that need no third-party service: the address kept only
as a keyed hash, and a small sum to answer from the second complaint of a day on."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from ...extensions import db
from ...models import Complaint
from ..common.errors import InvalidInput

CHALLENGE_MAX_AGE = 30 * 60  # seconds: long enough for someone slow to type a complaint
FREE_PER_DAY = 1  # complaints from one address in 24 hours before the sum is asked


def ip_hash(ip: str | None) -> str | None:
    """A keyed hash of the address: counts repeat senders without keeping who they are."""
    if not ip:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"complaint-ip:" + ip.encode(), hashlib.sha256).hexdigest()


def needs_challenge(address_hash: str | None, now: datetime) -> bool:
    if address_hash is None:
        return False
    sent = db.session.scalar(
        select(func.count())
        .select_from(Complaint)
        .where(Complaint.ip_hash == address_hash, Complaint.created_at > now - timedelta(days=1))
    )
    return sent >= FREE_PER_DAY


@dataclass(frozen=True)
class Challenge:
    a: int
    b: int
    token: str

    @property
    def question(self) -> str:
        return f"{self.a} + {self.b} = ?"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="complaint-challenge")


def new_challenge(address_hash: str | None) -> Challenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    token = _serializer().dumps({"s": a + b, "ip": address_hash or ""})
    # The signed token carries the sum: the check needs no server state, only the secret.
    return Challenge(a, b, token)


class ChallengeFailed(InvalidInput):
    code = "challenge_required"

    def __init__(self, message, challenge: Challenge, code: str | None = None):
        super().__init__(message, code=code, field="answer")
        self.challenge = challenge

    @property
    def details(self) -> dict:
        return {"challenge": {"question": self.challenge.question, "token": self.challenge.token}}


def check_challenge(address_hash: str | None, token: str | None, answer, now: datetime) -> None:
    """Raise ChallengeFailed (with a fresh sum) unless this address needs no sum today or it
    answered one it was given within the last half hour."""
    if not needs_challenge(address_hash, now):
        return
    fresh = new_challenge(address_hash)
    if not token or answer in (None, ""):
        raise ChallengeFailed(
            _l("You have sent a complaint today already. Please answer the sum below."), fresh
        )
    try:
        data = _serializer().loads(token, max_age=CHALLENGE_MAX_AGE)
        right = data["ip"] == (address_hash or "") and int(str(answer).strip()) == data["s"]
    except (BadSignature, KeyError, TypeError, ValueError):
        right = False
    if not right:
        raise ChallengeFailed(
            _l("The answer to the sum is not right. Please try the new one."),
            fresh,
            code="challenge_failed",
        )
