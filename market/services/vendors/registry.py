"""Vendors (摊主): registration, their details, a cadre's decisions, and whether they may trade."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import AuditEvent, Market, Relief, Role, User, Vendor, VendorStatus, utcnow
from ..auth import accounts, reset_codes
from ..common import audit
from ..common.errors import Conflict, InvalidInput

CERT_WARNING_DAYS = 7
PAGE_MAX = 100_000  # a page far past the last: OFFSET stays within what SQLite stores

# Category keys used by zones (Zone.categories) and chosen at registration.
CATEGORY_LABELS = {
    "cooked_food": _l("Cooked food"),
    "snacks": _l("Snacks"),
    "produce": _l("Fruit and vegetables"),
    "farmer": _l("Farmer's own produce"),
    "goods": _l("Daily goods"),
    "clothing": _l("Clothing"),
    "toys": _l("Toys"),
    "other": _l("Other"),
}
FOOD_CATEGORIES = {"cooked_food", "snacks"}
RELIEF_LABELS = {
    "low_income": _l("Minimum living allowance (低保户)"),
    "disability": _l("Person with a disability (残疾人)"),
    "veteran": _l("Veteran (退役军人)"),
    "poverty_alleviated": _l("Lifted out of poverty (脱贫户)"),
    "farmer": _l("Farmer selling own produce (助农)"),
    "other": _l("Other"),
}
# Why someone may not trade: stable codes for the check-in issue and the API.
NOT_APPROVED = "not_approved"
SUSPENDED = "suspended"
CERT_EXPIRED = "certificate_expired"
OTHER_ORGANIZATION = "other_organization"


def category_label(key: str) -> str:
    return str(CATEGORY_LABELS.get(key, key))


def categories_for(market: Market | None) -> list[str]:
    """The categories a vendor can choose: those of the market's active zones."""
    keys: list[str] = []
    zones = market.zones if market else []
    for zone in zones:
        if zone.is_active:
            keys += [k for k in zone.categories.split(",") if k and k not in keys]
    return keys or list(CATEGORY_LABELS)


@dataclass
class Details:
    """What a vendor tells us about their trade, already parsed by the form or the API."""

    category: str
    goods: str
    sells_food: bool = False
    health_cert_no: str | None = None
    health_cert_expires: date | None = None
    relief_kind: str | None = None
    relief_note: str | None = None


def _market_today(market: Market | None, at: datetime | None = None) -> date:
    zone = ZoneInfo(market.timezone if market else "Asia/Shanghai")
    return (at or utcnow()).astimezone(zone).date()


def _check_details(details: Details, market: Market | None, today: date) -> Details:
    if details.category not in categories_for(market):
        raise InvalidInput(_l("Choose what you sell from the list."), field="category")
    details.goods = (details.goods or "").strip()
    if not details.goods:
        raise InvalidInput(_l("Say what you sell, e.g. barbecue, cold noodles."), field="goods")
    if details.category in FOOD_CATEGORIES:
        details.sells_food = True  # cooked food and snacks are food, whatever box was ticked
    if details.sells_food:
        details.health_cert_no = (details.health_cert_no or "").strip()
        if not 4 <= len(details.health_cert_no) <= 40:
            raise InvalidInput(
                _l("Food sellers need the number on their health certificate (健康证)."),
                code="health_cert_required",
                field="health_cert_no",
            )
        if details.health_cert_expires is None:
            raise InvalidInput(
                _l("Give the date the health certificate expires."),
                code="health_cert_required",
                field="health_cert_expires",
            )
        if details.health_cert_expires < today:
            raise InvalidInput(
                _l("This health certificate has expired. Please renew it first."),
                code="certificate_expired",
                field="health_cert_expires",
            )
    else:
        details.health_cert_no = details.health_cert_expires = None
    if details.relief_kind and details.relief_kind not in Relief.KINDS:
        raise InvalidInput(_l("Choose a fee relief from the list."), field="relief_kind")
    details.relief_note = (details.relief_note or "").strip()[:500] or None
    return details


def register(
    market: Market,
    *,
    name: str,
    phone: str,
    password: str,
    details: Details,
    agreed_to_rules: bool,
    photo: str | None = None,
    ip: str | None = None,
) -> Vendor:
    """A new vendor from a stall poster: a user, the vendor role and a pending vendor."""
    name = _checked_name(name, agreed_to_rules)
    details = _check_details(details, market, _market_today(market))
    user = accounts.create_user(phone, name, password)
    vendor = _new_vendor(market, user, details, photo)
    audit.record(
        "vendor.registered", vendor, actor=user, organization_id=vendor.organization_id, ip=ip
    )
    return vendor


@dataclass(frozen=True)
class RegisteredFor:
    vendor: Vendor
    # The one-time code the vendor sets a password with; None when the guide's hourly
    # allowance of codes is used up (she issues one later on the reset-code page).
    code: reset_codes.Issued | None


def register_for(
    market: Market,
    *,
    guide: User,
    name: str,
    phone: str,
    details: Details,
    agreed_to_rules: bool,
    photo: str | None = None,
    ip: str | None = None,
) -> RegisteredFor:
    """A guide registers a vendor without a smartphone, on the guide's own phone.

    The same rules as `register`. The account gets a random password nobody knows; the vendor
    sets one later with the one-time reset code issued here, and the history names the guide
    as who registered them. The guide stays logged in as herself."""
    name = _checked_name(name, agreed_to_rules)
    details = _check_details(details, market, _market_today(market))
    user = accounts.create_user(phone, name, secrets.token_urlsafe(32), check_strength=False)
    vendor = _new_vendor(market, user, details, photo)
    audit.record(
        "vendor.registered",
        vendor,
        actor=guide,
        organization_id=vendor.organization_id,
        ip=ip,
    )
    try:
        # The guide has the vendor and the phone in front of her: the in-person check is done.
        code = reset_codes.issue(guide, user, user.phone[-4:], ip=ip)
    except reset_codes.TooManyCodes:
        code = None  # refused before writing anything: the registration stands
    return RegisteredFor(vendor, code)


def _checked_name(name: str, agreed_to_rules: bool) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 30:
        raise InvalidInput(_l("Enter your name (at most 30 characters)."), field="name")
    if not agreed_to_rules:
        raise InvalidInput(
            _l("Please read and agree to the market rules."),
            code="rules_not_accepted",
            field="agree",
        )
    return name


def _new_vendor(market: Market, user: User, details: Details, photo: str | None) -> Vendor:
    accounts.grant_role(user, market.organization, Role.VENDOR)
    vendor = Vendor(
        organization_id=market.organization_id,
        market_id=market.id,
        user=user,
        status=VendorStatus.PENDING,
        category=details.category,
        goods=details.goods,
        sells_food=details.sells_food,
        health_cert_no=details.health_cert_no,
        health_cert_expires=details.health_cert_expires,
        health_cert_photo=photo if details.sells_food else None,
        relief_kind=details.relief_kind,
        relief_note=details.relief_note,
        relief_status="claimed" if details.relief_kind else "none",
        rules_accepted_at=utcnow(),
    )
    db.session.add(vendor)
    db.session.flush()
    return vendor


def update_details(
    vendor: Vendor, details: Details, *, photo: str | None = None, actor: User, ip=None
) -> bool:
    """A vendor edits their details. Returns True when a certificate now awaits approval."""
    details = _check_details(details, vendor.market, _market_today(vendor.market))
    vendor.category, vendor.goods = details.category, details.goods
    cert_changed = details.sells_food and (
        details.health_cert_no != vendor.health_cert_no
        or details.health_cert_expires != vendor.health_cert_expires
        or photo is not None
    )
    waiting = False
    if vendor.status == VendorStatus.APPROVED and cert_changed:
        # Trading goes on with the approved certificate until a cadre confirms the new one.
        vendor.pending_cert_no = details.health_cert_no
        vendor.pending_cert_expires = details.health_cert_expires
        vendor.pending_cert_photo = photo or vendor.health_cert_photo
        vendor.cert_change_requested_at = utcnow()
        vendor.sells_food = True
        waiting = True
    else:
        vendor.sells_food = details.sells_food
        vendor.health_cert_no = details.health_cert_no
        vendor.health_cert_expires = details.health_cert_expires
        if photo is not None:
            vendor.health_cert_photo = photo
        if vendor.status == VendorStatus.REJECTED:
            vendor.status, vendor.status_reason = VendorStatus.PENDING, None
    if details.relief_kind != vendor.relief_kind:
        vendor.relief_kind = details.relief_kind
        vendor.relief_status = "claimed" if details.relief_kind else "none"
    vendor.relief_note = details.relief_note
    audit.record(
        "vendor.details_updated",
        vendor,
        actor=actor,
        organization_id=vendor.organization_id,
        ip=ip,
        certificate_waiting=waiting,
    )
    return waiting


# --- a cadre's decisions ---------------------------------------------------------------------

TRANSITIONS = {
    "approve": ({VendorStatus.PENDING, VendorStatus.REJECTED}, VendorStatus.APPROVED),
    "reject": ({VendorStatus.PENDING}, VendorStatus.REJECTED),
    "suspend": ({VendorStatus.APPROVED}, VendorStatus.SUSPENDED),
    "reinstate": ({VendorStatus.SUSPENDED}, VendorStatus.APPROVED),
}
NEEDS_REASON = {"reject", "suspend"}


def decide(vendor: Vendor, action: str, *, actor: User, reason: str | None = None, ip=None) -> None:
    """approve / reject / suspend / reinstate, with the reason shown to the vendor."""
    if action not in TRANSITIONS:
        raise InvalidInput(_l("Unknown action."), code="invalid_action")
    allowed_from, target = TRANSITIONS[action]
    if vendor.status not in allowed_from:
        raise Conflict(
            _l(
                "This vendor is %(status)s; that cannot be done now.",
                status=status_label(vendor.status),
            ),
            code="invalid_transition",
        )
    reason = (reason or "").strip()[:200] or None
    if action in NEEDS_REASON and not reason:
        raise InvalidInput(_l("Give a reason; the vendor will see it."), field="reason")
    if target == VendorStatus.APPROVED:
        _apply_pending_certificate(vendor)
        if vendor.sells_food and certificate_state(vendor) == "expired":
            raise InvalidInput(
                _l("The health certificate has expired: it cannot be approved."),
                code="certificate_expired",
            )
    vendor.status, vendor.status_reason = target, reason
    vendor.decided_at, vendor.decided_by_id = utcnow(), actor.id
    audit.record(
        f"vendor.{action}",
        vendor,
        actor=actor,
        organization_id=vendor.organization_id,
        ip=ip,
        reason=reason,
    )


def _apply_pending_certificate(vendor: Vendor) -> None:
    if vendor.pending_cert_no:
        vendor.health_cert_no = vendor.pending_cert_no
        vendor.health_cert_expires = vendor.pending_cert_expires
        vendor.health_cert_photo = vendor.pending_cert_photo
        clear_pending_certificate(vendor)


def clear_pending_certificate(vendor: Vendor) -> None:
    vendor.pending_cert_no = vendor.pending_cert_expires = vendor.pending_cert_photo = None
    vendor.cert_change_requested_at = None


def decide_certificate(vendor: Vendor, accept: bool, *, actor: User, reason=None, ip=None) -> None:
    """Confirm or decline a renewed certificate of an approved vendor."""
    if not vendor.pending_cert_no:
        raise Conflict(_l("No new certificate is waiting."), code="no_pending_certificate")
    if accept:
        if vendor.pending_cert_expires < _market_today(vendor.market):
            raise InvalidInput(
                _l("The new certificate has already expired."), code="certificate_expired"
            )
        _apply_pending_certificate(vendor)
    else:
        if not (reason or "").strip():
            raise InvalidInput(_l("Give a reason; the vendor will see it."), field="reason")
        clear_pending_certificate(vendor)
    audit.record(
        "vendor.certificate_" + ("accepted" if accept else "declined"),
        vendor,
        actor=actor,
        organization_id=vendor.organization_id,
        ip=ip,
        reason=reason,
    )


def decide_relief(vendor: Vendor, confirm: bool, *, actor: User, reason=None, ip=None) -> None:
    if vendor.relief_status == "none":
        raise Conflict(_l("This vendor has not claimed any fee relief."), code="no_relief_claim")
    vendor.relief_status = "confirmed" if confirm else "declined"
    audit.record(
        "vendor.relief_" + vendor.relief_status,
        vendor,
        actor=actor,
        organization_id=vendor.organization_id,
        ip=ip,
        kind=vendor.relief_kind,
        reason=reason,
    )


# --- reading ---------------------------------------------------------------------------------


def status_label(status: str) -> str:
    return str(
        {
            VendorStatus.PENDING: _l("waiting for approval"),
            VendorStatus.APPROVED: _l("approved"),
            VendorStatus.REJECTED: _l("not approved"),
            VendorStatus.SUSPENDED: _l("suspended"),
        }.get(status, status)
    )


def certificate_state(vendor: Vendor, at: datetime | None = None) -> str | None:
    """'expired', 'expiring' (within 7 days) or None, in the market's local date."""
    if not vendor.sells_food or vendor.health_cert_expires is None:
        return None
    today = _market_today(vendor.market, at)
    if vendor.health_cert_expires < today:
        return "expired"
    if vendor.health_cert_expires <= today + timedelta(days=CERT_WARNING_DAYS):
        return "expiring"
    return None


def can_trade(vendor: Vendor | None, market: Market, at: datetime | None = None) -> str | None:
    """None when this vendor may trade in this market at this time, else a reason code."""
    if vendor is None or vendor.organization_id != market.organization_id:
        return OTHER_ORGANIZATION
    if vendor.status == VendorStatus.SUSPENDED:
        return SUSPENDED
    if vendor.status != VendorStatus.APPROVED:
        return NOT_APPROVED
    if vendor.sells_food:
        expires = vendor.health_cert_expires
        local = (at or utcnow()).astimezone(ZoneInfo(market.timezone)).date()
        if expires is None or expires < local:
            return CERT_EXPIRED
    return None


def search(
    organization_ids,
    *,
    q: str | None = None,
    status: str | None = None,
    category: str | None = None,
    page: int = 1,
    per_page: int = 30,
):
    """Vendors of these organizations, newest first; q matches name or phone digits."""
    query = (
        select(Vendor)
        .join(User, Vendor.user_id == User.id)
        .where(Vendor.organization_id.in_(organization_ids))
    )
    if q := (q or "").strip()[:30]:
        # autoescape: a "%" or "_" typed in the box is a character to find, not a wildcard.
        query = query.where(
            or_(User.name.contains(q, autoescape=True), User.phone.contains(q, autoescape=True))
        )
    if status:
        query = query.where(Vendor.status == status)
    if category:
        query = query.where(Vendor.category == category)
    page = min(max(page, 1), PAGE_MAX)  # an OFFSET the database can hold, whoever asks
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.options(selectinload(Vendor.user))
        .order_by(Vendor.created_at.desc(), Vendor.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return items, total


HISTORY_LABELS = {
    "vendor.registered": _l("registered"),
    "vendor.details_updated": _l("changed their details"),
    "vendor.approve": _l("approved"),
    "vendor.reject": _l("rejected"),
    "vendor.suspend": _l("suspended"),
    "vendor.reinstate": _l("reinstated"),
    "vendor.certificate_accepted": _l("new certificate accepted"),
    "vendor.certificate_declined": _l("new certificate declined"),
    "vendor.relief_confirmed": _l("fee relief confirmed"),
    "vendor.relief_declined": _l("fee relief declined"),
}


def history_label(action: str) -> str:
    return str(HISTORY_LABELS.get(action, action))


def history_line(vendor: Vendor, event: AuditEvent) -> str:
    """One line of a vendor's history: what happened, and who did it. Registered by someone
    else than the vendor: a guide did it for them (帮摊主登记)."""
    actor = event.actor.name if event.actor else None
    if event.action == "vendor.registered" and event.actor_id not in (None, vendor.user_id):
        # A plain str, not the lazy string: Jinja escapes it (the name is user text).
        return str(_l("registered by %(name)s", name=actor or "?"))
    return history_label(event.action) + (f" · {actor}" if actor else "")


def history(vendor: Vendor) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "vendors", AuditEvent.object_id == vendor.id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        )
    )


def awaiting_review(organization_ids) -> list[Vendor]:
    """Approved vendors with a renewed certificate or an undecided relief claim."""
    return list(
        db.session.scalars(
            select(Vendor)
            .where(
                Vendor.organization_id.in_(organization_ids),
                Vendor.status != VendorStatus.PENDING,
                or_(Vendor.pending_cert_no.is_not(None), Vendor.relief_status == "claimed"),
            )
            .options(selectinload(Vendor.user))
            .order_by(Vendor.created_at.desc())
        )
    )
