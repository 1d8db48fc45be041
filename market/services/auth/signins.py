"""Logged-in browsers the server can end.

A login stores a random key in the session cookie and its SHA-256 in login_sessions; every
request's user loader looks the key up with the user (one query). Logging out deletes the
row, so a copied cookie stops working at once. `end_all` ends every browser and every API
token of a user (token_version): "log out everywhere", a password reset.
"""

import hashlib
import secrets

from flask import current_app
from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions import db
from ...models import AreaGrant, LoginSession, User
from ..common import clock


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(user: User) -> str:
    """A new logged-in browser of this user; returns the key its cookie keeps. Rows older than
    the cookie's own lifetime go as new ones come."""
    now = clock.now()
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.created_at < now - current_app.permanent_session_lifetime,
        )
    )
    key = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, key_hash=_hash(key), created_at=now))
    return key


def _with_grants():
    return select(User, exists().where(AreaGrant.user_id == User.id))


# Every logged-in request runs this one: built once, not per request.
_BY_BROWSER = (
    _with_grants()
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.token_version == bindparam("version"),
        LoginSession.key_hash == bindparam("key_hash"),
    )
)


# An API token names its user by id: every API request runs this one, built once too.
_BY_ID = _with_grants().where(User.id == bindparam("user_id"))


def user_by_id(user_id: int) -> User | None:
    """The user of an API token, knowing whether they hold an area grant (see user_where)."""
    return _user_of(db.session.execute(_BY_ID, {"user_id": user_id}).first())


def user_for(user_id: int, version: int, key: str | None) -> User | None:
    """The user of a session cookie while its browser is still logged in, else None."""
    if not key:
        return None
    params = {"user_id": user_id, "version": version, "key_hash": _hash(key)}
    return _user_of(db.session.execute(_BY_BROWSER, params).first())


def user_where(*conditions, join=None) -> User | None:
    """The user the conditions find, knowing in the same query whether they hold any area
    grant: every write asks whether the user only supervises (areas.guard), and for nearly
    everyone the answer "none" then needs no query of its own."""
    query = _with_grants()
    if join is not None:
        query = query.join(join, join.user_id == User.id)
    return _user_of(db.session.execute(query.where(*conditions)).first())


def _user_of(row) -> User | None:
    if row is None:
        return None
    user, supervises = row
    if not supervises and "area_grants" not in user.__dict__:
        set_committed_value(user, "area_grants", [])
    return user


def is_live(user: User, key: str | None) -> bool:
    return bool(key) and user_for(user.id, user.token_version, key) is not None


def end(key: str | None) -> None:
    """Log out this one browser."""
    if key:
        db.session.execute(delete(LoginSession).where(LoginSession.key_hash == _hash(key)))


def end_all(user: User) -> None:
    """Log out every browser of this user and revoke their API tokens."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    user.token_version += 1
