"""Replaying the first answer to a retried write (API Idempotency-Key, page form nonce).

The same key with the same request gives back the stored answer; with another request it is a
422. Two identical requests racing are settled by the unique index on (user, scope, key)."""

import hashlib
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ...extensions import db
from ...models import IdempotencyRecord, User
from ...models.types import utcnow
from . import inserts
from .errors import Conflict, InvalidInput

KEY_MAX = 100


@dataclass(frozen=True)
class Stored:
    status: int
    body: dict


def request_hash(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not 1 <= len(key) <= KEY_MAX or not key.isprintable():
        raise InvalidInput(
            _l("The Idempotency-Key must be 1–100 printable characters."),
            code="invalid_idempotency_key",
        )
    return key


def _find(user: User, scope: str, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id,
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
        )
    )


def replay(user: User, scope: str, key: str, digest: str) -> Stored | None:
    record = _find(user, scope, key)
    if record is None:
        return None
    if record.request_hash != digest:
        raise InvalidInput(
            _l("This Idempotency-Key was used for a different request."),
            code="idempotency_key_reused",
        )
    return Stored(record.response_status, json.loads(record.response_body))


def judge(found, digest: str) -> Stored | None:
    """The stored answer a read already fetched (request_hash, status, body: see
    checkin.stall_read), or None; a 422 when the key was used for another request."""
    if found is None:
        return None
    if found.request_hash != digest:
        raise InvalidInput(
            _l("This Idempotency-Key was used for a different request."),
            code="idempotency_key_reused",
        )
    return Stored(found.status, json.loads(found.body))


def _claim(user: User, scope: str, key: str, digest: str, status: int, body: dict):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the id, or None when an identical request
    stored its answer first (on PostgreSQL the INSERT waits for that request's commit)."""
    return db.session.execute(
        inserts.or_nothing(IdempotencyRecord.__table__, returning="id"),
        {
            "user_id": user.id,
            "scope": scope,
            "key": key,
            "request_hash": digest,
            "response_status": status,
            "response_body": json.dumps(body, default=str),
            "created_at": utcnow(),
        },
    ).scalar()


def remember(user: User, scope: str, key: str, digest: str, status: int, body: dict) -> Stored:
    """Store the answer in the same transaction as the write. If an identical request stored
    one first (the unique index on user, scope and key says so), that one is the answer."""
    if _claim(user, scope, key, digest, status, body) is None:
        return replay(user, scope, key, digest) or Stored(status, body)
    return Stored(status, body)


def once(user: User, scope: str, key: str, payload: dict, run, status: int = 200) -> dict:
    """The answer of `run()` (a JSON-able dict) for this key and payload: computed the first
    time, the stored one for every repeat (a page form's nonce, a double tap).

    The key is claimed before `run()` writes anything: two identical requests at the same
    instant both miss the lookup, and the second one's claim then waits on the unique index
    for the first to commit and gets its answer, instead of writing a second payment and
    only then finding the first's record."""
    digest = request_hash(payload)
    if stored := replay(user, scope, key, digest):
        return stored.body
    claimed = _claim(user, scope, key, digest, status, {})
    if claimed is None:
        if stored := replay(user, scope, key, digest):
            return stored.body
        raise Conflict(_l("This form is being sent already. Reload the page."), "in_flight")
    body = run()
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claimed)
        .values(response_body=json.dumps(body, default=str))
    )
    return body
