"""Accounts: mobile numbers, passwords, logging in, roles."""

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ...extensions import db
from ...models import Organization, Role, RoleGrant, User, utcnow
from ..common import audit
from ..common.errors import Conflict, InvalidInput

PHONE_RE = re.compile(r"1[3-9]\d{9}")
MIN_PASSWORD_LENGTH = 8
# The passwords people pick first; a vendor's stall fees are behind this one.
COMMON_PASSWORDS = frozenset(
    {
        "12345678",
        "123456789",
        "1234567890",
        "11111111",
        "88888888",
        "66666666",
        "00000000",
        "87654321",
        "password",
        "password1",
        "qwertyui",
        "abcd1234",
        "a1234567",
        "iloveyou",
        "woaini1314",
    }
)


def normalise_phone(raw: str) -> str:
    """Digits only, without the +86 / 0086 prefix people paste from contacts."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_phone(raw: str) -> str:
    phone = normalise_phone(raw)
    if not PHONE_RE.fullmatch(phone):
        raise InvalidInput(
            _l("Enter an 11-digit mainland mobile number starting with 13–19."),
            code="invalid_phone",
            field="phone",
        )
    return phone


def password_problem(password: str, phone: str | None = None):
    """Why a password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > 128:
        return _l("Use at most 128 characters.")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        return _l("This password is too easy to guess.")
    if phone and phone in password:
        return _l("Do not use your phone number in your password.")
    return None


def check_password_strength(password: str, phone: str | None = None) -> None:
    if problem := password_problem(password, phone):
        raise InvalidInput(problem, code="weak_password", field="password")


def user_by_phone(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def authenticate(phone: str, password: str) -> User | None:
    """The user for these credentials, or None. Same work either way, so timing tells nothing."""
    user = user_by_phone(normalise_phone(phone))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str, ip: str | None = None) -> None:
    if not user.check_password(current):
        raise InvalidInput(
            _l("The current password is not correct."), code="wrong_password", field="current"
        )
    check_password_strength(new, user.phone)
    user.set_password(new)
    user.token_version += 1
    audit.record("user.password_changed", user, actor=user, ip=ip)


def create_user(phone: str, name: str, password: str, *, check_strength: bool = True) -> User:
    phone = validate_phone(phone)
    if check_strength:
        check_password_strength(password, phone)
    if user_by_phone(phone) is not None:
        raise Conflict(
            _l("This phone number is already registered."), code="phone_taken", field="phone"
        )
    user = User(phone=phone, name=name.strip())
    user.set_password(password)
    db.session.add(user)
    return user


def grant_role(user: User, organization: Organization, role: str, market=None) -> RoleGrant:
    """Give a role if the user does not have it yet (idempotent)."""
    if role not in Role.ALL:
        raise InvalidInput(_l("Unknown role."), code="invalid_role", field="role")
    market_id = market.id if market is not None else None
    for g in user.grants:
        if g.organization_id == organization.id and g.role == role and g.market_id == market_id:
            return g
    grant = RoleGrant(organization=organization, role=role, market_id=market_id)
    user.grants.append(grant)
    return grant


# Checked against when the phone is unknown, so a miss costs as long as a hit.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))
