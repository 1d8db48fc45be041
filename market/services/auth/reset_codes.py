"""One-time password reset codes, given in person.

A guide (for the vendors of her markets), a cadre or an admin (for everyone of their
organization) checks the last four digits of the person's phone and issues a code: 8 digits,
shown once, good for 24 hours and one use, kept only as a hash. The person types phone, code
and a new password on /login/reset; the password is set and every browser and API token of
theirs ends. Nobody issues a code for themselves, so a cadre's or admin's own reset takes a
second cadre or admin.

Limits: an issuer gives at most ISSUE_LIMIT_PER_HOUR codes an hour and a person gets at most
USER_LIMIT_PER_DAY a day (counted in the database every worker shares); wrong codes count with
wrong passwords against the phone and the address (login_limits). Issuing clears the phone's
wrong tries: its owner was just checked in person.
"""

import functools
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ...extensions import db
from ...models import Market, ResetCode, Role, RoleGrant, User, Vendor
from ..common import audit, clock
from ..common.errors import DomainError, Forbidden, InvalidInput, NotFound
from . import access, accounts, login_limits, signins

CODE_DIGITS = 8
VALID_FOR = timedelta(hours=24)
ISSUE_LIMIT_PER_HOUR = 30
USER_LIMIT_PER_DAY = 5


class TooManyCodes(DomainError):
    status = 429
    code = "too_many_reset_codes"


@dataclass(frozen=True)
class Issued:
    user: User
    code: str
    expires_at: datetime

    @property
    def shown(self) -> str:
        return display(self.code)


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def display(code: str) -> str:
    """ "4821 9037": two groups of four, easy to read aloud and to copy."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(typed: str) -> str:
    """Digits only: full-width digits become ASCII, spaces and dashes go."""
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", typed or ""))


# -- Who may issue a code for whom ----------------------------------------------------------


def _organization_ids(user: User) -> set[int]:
    ids = {g.organization_id for g in user.grants}
    ids.update(db.session.scalars(select(Vendor.organization_id).where(Vendor.user_id == user.id)))
    return ids


def _guide_may(staff: User, target: User) -> bool:
    """A guide: vendors of her markets (or of their organization, with no market of their own)
    who hold no staff role anywhere."""
    if any(g.role in Role.STAFF for g in target.grants):
        return False
    market_ids = access.guided_market_ids(staff)
    if not market_ids:
        return False
    org_ids = set(
        db.session.scalars(select(Market.organization_id).where(Market.id.in_(market_ids)))
    )
    return any(
        v.organization_id in org_ids and (v.market_id is None or v.market_id in market_ids)
        for v in access.vendor_profiles(target)
    )


def can_issue(staff: User, target: User) -> bool:
    if staff is None or target is None or staff.id == target.id:
        return False
    if access.managed_organization_ids(staff) & _organization_ids(target):
        return True
    return _guide_may(staff, target)


def check_can_issue(staff: User, target: User | None) -> User:
    """The target, if this staff member may issue a code for them. Their own account: 403
    with a way out; someone they may not reset: 404, telling nothing about them."""
    if target is not None and staff.id == target.id:
        raise Forbidden(
            _l(
                "You cannot issue a reset code for your own account. "
                "Ask another cadre or the admin."
            ),
            code="own_account",
        )
    if target is None or not can_issue(staff, target):
        raise NotFound()
    return target


def target_for(staff: User, user_id: int) -> User:
    return check_can_issue(staff, db.session.get(User, user_id))


def candidates(staff: User, q: str | None, limit: int = 20) -> list[User]:
    """People this staff member may issue a code for, matching a name or phone digits."""
    q = (q or "").strip()[:30]
    if not q:
        return []
    org_ids = access.managed_organization_ids(staff) | set(
        db.session.scalars(
            select(Market.organization_id).where(
                Market.id.in_(access.guided_market_ids(staff) or {-1})
            )
        )
    )
    in_org = or_(
        User.id.in_(select(Vendor.user_id).where(Vendor.organization_id.in_(org_ids))),
        User.grants.any(RoleGrant.organization_id.in_(org_ids)),
    )
    users = db.session.scalars(
        select(User)
        .where(
            in_org, User.name.contains(q, autoescape=True) | User.phone.contains(q, autoescape=True)
        )
        .order_by(User.name, User.id)
        .limit(limit * 3)
    )
    return [u for u in users if can_issue(staff, u)][:limit]


# -- Issuing and redeeming --------------------------------------------------------------------


def _hash(code: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(code, method=method)


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count(ResetCode.id)).where(*conditions)) or 0


def issue(staff: User, target: User, phone_last4: str, ip: str | None = None) -> Issued:
    check_can_issue(staff, target)
    last4 = normalise_code(phone_last4)
    if len(last4) != 4 or target.phone[-4:] != last4:
        raise InvalidInput(
            _l(
                "These are not the last four digits of this person's phone. "
                "Ask them to read the number from their phone again."
            ),
            code="phone_mismatch",
            field="phone_last4",
        )
    now = clock.now()
    issued_by_me = _count(
        ResetCode.issued_by_id == staff.id, ResetCode.created_at > now - timedelta(hours=1)
    )
    for_them = _count(ResetCode.user_id == target.id, ResetCode.created_at > now - VALID_FOR)
    if issued_by_me >= ISSUE_LIMIT_PER_HOUR or for_them >= USER_LIMIT_PER_DAY:
        raise TooManyCodes(
            _l("Too many reset codes were issued. Ask the community office."),
        )
    db.session.execute(
        update(ResetCode)
        .where(
            ResetCode.user_id == target.id,
            ResetCode.used_at.is_(None),
            ResetCode.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
    )
    code = new_code()
    row = ResetCode(
        user_id=target.id,
        issued_by_id=staff.id,
        code_hash=_hash(code),
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    db.session.add(row)
    login_limits.clear_phone(target.phone)
    shared = sorted({g.organization_id for g in staff.grants} & _organization_ids(target))
    audit.record(
        "user.reset_code_issued",
        target,
        actor=staff,
        organization_id=shared[0] if shared else None,
        ip=ip,
        expires_at=row.expires_at.isoformat(),
    )
    return Issued(user=target, code=code, expires_at=row.expires_at)


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(8), method=method)


def _dummy_check(code: str) -> None:
    """Checked against when no code is, so an unknown phone costs as long as a known one."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    check_password_hash(_dummy_hash(method), code)


def redeem(phone_typed: str, code_typed: str, new_password: str, address: str | None) -> User:
    """Set a new password with a reset code; every browser and API token of the user ends.
    Raises InvalidInput (a weak password: nothing counted), login_limits.TooManyAttempts or
    login_limits.WrongCredentials (counted and audited: commit before answering)."""
    phone = accounts.normalise_phone(phone_typed)
    accounts.check_password_strength(new_password, phone)
    code = normalise_code(code_typed)
    now = clock.now()
    found: dict = {}

    def verify() -> User | None:
        user = accounts.user_by_phone(phone) if accounts.PHONE_RE.fullmatch(phone) else None
        rows = []
        if user is not None and user.is_active and len(code) == CODE_DIGITS:
            rows = db.session.scalars(
                select(ResetCode)
                .where(ResetCode.user_id == user.id, ResetCode.created_at > now - 2 * VALID_FOR)
                .order_by(ResetCode.id.desc())
                .limit(USER_LIMIT_PER_DAY)
                .with_for_update()
            ).all()
        if not rows:
            _dummy_check(code)
        for row in rows:
            if check_password_hash(row.code_hash, code):
                found["row"] = row
                usable = row.used_at is None and row.cancelled_at is None and row.expires_at > now
                return user if usable else None
        return None

    try:
        user = login_limits.guarded(phone, address, verify, kind=login_limits.RESET_CODE)
    except login_limits.WrongCredentials as e:
        if row := found.get("row"):
            e.message = _stale_message(row, now)
        raise
    row = found["row"]
    row.used_at = now
    user.set_password(new_password)
    signins.end_all(user)
    audit.record("user.reset_code_used", user, actor=user, ip=address)
    return user


def _stale_message(row: ResetCode, now: datetime):
    if row.used_at is not None:
        return _l("This reset code was used already. Ask a guide or the office for a new one.")
    if row.cancelled_at is not None:
        return _l("A newer reset code was issued for you. Use the newest one.")
    return _l("This reset code has expired. Ask a guide or the office for a new one.")
