"""Vendor rules called directly: registration, decisions, certificates, can_trade."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, Role, User, Vendor
from market.services.auth import reset_codes
from market.services.common.errors import Conflict, InvalidInput, NotFound
from market.services.vendors import passes
from market.services.vendors import registry as vendors
from tests import builders as b

TODAY = datetime.now(UTC).date()


def food(**kw):
    values = {
        "category": "cooked_food",
        "goods": "凉面",
        "sells_food": True,
        "health_cert_no": "川攀健2026-1",
        "health_cert_expires": TODAY + timedelta(days=200),
    }
    values.update(kw)
    return vendors.Details(**values)


def market_with_zones():
    market = b.market()
    b.zone(market, code="A", categories="cooked_food,snacks")
    b.zone(market, code="B", categories="goods")
    db.session.refresh(market)
    return market


def register(market, phone="13912345670", **kw):
    values = {
        "name": "赵大妈",
        "phone": phone,
        "password": "mango-2026",
        "details": food(),
        "agreed_to_rules": True,
    }
    values.update(kw)
    return vendors.register(market, **values)


def test_register_creates_pending_vendor_with_role_and_audit(ctx):
    market = market_with_zones()
    vendor = register(market)
    assert vendor.status == "pending" and vendor.market_id == market.id
    assert [(g.role, g.organization_id) for g in vendor.user.grants] == [
        (Role.VENDOR, market.organization_id)
    ]
    assert vendor.user.check_password("mango-2026")
    assert db.session.scalar(
        select(AuditEvent.action).where(AuditEvent.object_id == vendor.id)
    ) == ("vendor.registered")


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "23912345670"}, "phone"),
        ({"password": "12345678"}, "password"),
        ({"password": "short"}, "password"),
        ({"name": "  "}, "name"),
        ({"agreed_to_rules": False}, "agree"),
        ({"details": food(category="weapons")}, "category"),
        ({"details": food(category="goods")}, None),  # goods is fine without a certificate
        ({"details": food(health_cert_no="")}, "health_cert_no"),
        ({"details": food(health_cert_expires=None)}, "health_cert_expires"),
        ({"details": food(health_cert_expires=TODAY - timedelta(days=1))}, "health_cert_expires"),
        ({"details": food(goods="")}, "goods"),
        ({"details": food(relief_kind="rich")}, "relief_kind"),
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(ctx, kw, field):
    market = market_with_zones()
    if field is None:
        register(market, **kw)
        return
    with pytest.raises(InvalidInput) as e:
        register(market, **kw)
    assert e.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_duplicate_phone(ctx):
    market = market_with_zones()
    register(market)
    with pytest.raises(Conflict) as e:
        register(market)
    assert e.value.code == "phone_taken"


def test_decisions_follow_the_transitions(ctx):
    market = market_with_zones()
    cadre = b.user(role=Role.CADRE, organization=market.organization)
    vendor = register(market)
    with pytest.raises(InvalidInput):
        vendors.decide(vendor, "reject", actor=cadre)  # reason required
    vendors.decide(vendor, "reject", actor=cadre, reason="证件照片看不清")
    assert vendor.status == "rejected" and vendor.status_reason == "证件照片看不清"
    vendors.decide(vendor, "approve", actor=cadre)
    assert vendor.status == "approved" and vendor.status_reason is None
    with pytest.raises(Conflict):
        vendors.decide(vendor, "reinstate", actor=cadre)
    vendors.decide(vendor, "suspend", actor=cadre, reason="多次占道经营")
    assert vendor.status == "suspended"
    vendors.decide(vendor, "reinstate", actor=cadre)
    assert vendor.status == "approved"
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == vendor.id).order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "vendor.registered",
        "vendor.reject",
        "vendor.approve",
        "vendor.suspend",
        "vendor.reinstate",
    ]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "vendor.suspend"))
    assert event.actor_id == cadre.id and "多次占道经营" in event.detail


def test_expired_certificate_cannot_be_approved_or_trade(ctx):
    market = market_with_zones()
    cadre = b.user(role=Role.CADRE, organization=market.organization)
    vendor = register(market)
    vendor.health_cert_expires = TODAY - timedelta(days=3)
    with pytest.raises(InvalidInput) as e:
        vendors.decide(vendor, "approve", actor=cadre)
    assert e.value.code == "certificate_expired"
    vendor.status = "approved"
    assert vendors.can_trade(vendor, market) == vendors.CERT_EXPIRED


def test_can_trade_reasons(ctx):
    market = market_with_zones()
    other = b.market()
    vendor = register(market, details=food(category="goods", sells_food=False))
    assert vendors.can_trade(vendor, market) == vendors.NOT_APPROVED
    vendor.status = "approved"
    assert vendors.can_trade(vendor, market) is None
    assert vendors.can_trade(vendor, other) == vendors.OTHER_ORGANIZATION
    vendor.status, vendor.status_reason = "suspended", "x"
    assert vendors.can_trade(vendor, market) == vendors.SUSPENDED
    assert vendors.can_trade(None, market) == vendors.OTHER_ORGANIZATION


def test_can_trade_uses_the_markets_local_date(ctx):
    """A certificate valid 'until 23 Nov' is still valid at 23:30 Beijing time (15:30 UTC)."""
    market = market_with_zones()
    vendor = register(market)
    vendor.status = "approved"
    vendor.health_cert_expires = date(2026, 11, 23)
    assert vendors.can_trade(vendor, market, datetime(2026, 11, 23, 15, 30, tzinfo=UTC)) is None
    # 00:30 on the 24th in Beijing is still the 23rd in UTC, but the market's day has turned.
    late = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert vendors.can_trade(vendor, market, late) == vendors.CERT_EXPIRED


def test_certificate_warning(ctx):
    market = market_with_zones()
    vendor = register(market)
    assert vendors.certificate_state(vendor) is None
    vendor.health_cert_expires = TODAY + timedelta(days=7)
    assert vendors.certificate_state(vendor) == "expiring"
    vendor.health_cert_expires = TODAY - timedelta(days=1)
    assert vendors.certificate_state(vendor) == "expired"


def test_renewed_certificate_waits_for_approval(ctx):
    market = market_with_zones()
    cadre = b.user(role=Role.CADRE, organization=market.organization)
    vendor = register(market)
    vendors.decide(vendor, "approve", actor=cadre)
    old = vendor.health_cert_no
    new_expiry = TODAY + timedelta(days=400)
    waiting = vendors.update_details(
        vendor,
        food(health_cert_no="川攀健2027-9", health_cert_expires=new_expiry),
        actor=vendor.user,
    )
    assert waiting and vendor.status == "approved" and vendor.health_cert_no == old
    assert vendor.pending_cert_no == "川攀健2027-9"
    assert vendor in vendors.awaiting_review([market.organization_id])
    vendors.decide_certificate(vendor, True, actor=cadre)
    assert vendor.health_cert_no == "川攀健2027-9" and vendor.health_cert_expires == new_expiry
    assert vendor.pending_cert_no is None


def test_relief_claim_confirmed_separately(ctx):
    market = market_with_zones()
    cadre = b.user(role=Role.CADRE, organization=market.organization)
    vendor = register(market, details=food(relief_kind="low_income", relief_note="低保证号 123"))
    assert vendor.relief_status == "claimed"
    vendors.decide(vendor, "approve", actor=cadre)
    assert vendor.relief_status == "claimed"  # approval does not confirm relief
    vendors.decide_relief(vendor, True, actor=cadre)
    assert vendor.relief_status == "confirmed"


def test_search(ctx):
    market = market_with_zones()
    register(market, phone="13912340001", name="王德华")
    register(
        market, phone="13912340002", name="刘桂芳", details=food(category="goods", sells_food=False)
    )
    org = [market.organization_id]
    assert vendors.search(org, q="王")[1] == 1
    assert vendors.search(org, q="0002")[1] == 1
    assert vendors.search(org, category="goods")[1] == 1
    assert vendors.search(org, status="approved")[1] == 0
    assert vendors.search([b.org().id])[1] == 0
    assert db.session.scalar(select(func.count()).select_from(Vendor)) == 2


def test_a_food_category_needs_a_health_certificate_even_unticked(ctx):
    """Cooked food is food whether or not "I sell food" was ticked: no certificate, no vendor."""
    market = market_with_zones()
    details = food(sells_food=False, health_cert_no=None, health_cert_expires=None)
    with pytest.raises(InvalidInput) as e:
        register(market, details=details)
    assert e.value.code == "health_cert_required"
    vendor = register(market, details=food(sells_food=False))
    assert vendor.sells_food and vendor.health_cert_no == "川攀健2026-1"


def test_there_is_no_default_category(ctx):
    market = market_with_zones()
    with pytest.raises(InvalidInput) as e:
        register(market, details=food(category=""))
    assert e.value.field == "category"


def test_a_guide_registers_a_vendor_who_sets_a_password_later(ctx):
    market = market_with_zones()
    guide = b.user(role=Role.GUIDE, organization=market.organization, mkt=market, name="王引导")
    done = vendors.register_for(
        market,
        guide=guide,
        name="赵大妈",
        phone="13912345670",
        details=food(),
        agreed_to_rules=True,
    )
    vendor = done.vendor
    assert vendor.status == "pending" and vendor.market_id == market.id
    assert [g.role for g in vendor.user.grants] == [Role.VENDOR]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == vendor.id))
    assert event.action == "vendor.registered" and event.actor_id == guide.id
    assert vendors.history_line(vendor, event) == "由 王引导 代为登记"
    # Nobody knows the password: not a weak default, not the phone, not empty.
    for guess in ("", "13912345670", "12345678", "mango-2026"):
        assert not vendor.user.check_password(guess)
    # The one-time code is the password reset code: redeemed with the phone, it sets one.
    assert done.code is not None and len(done.code.code) == 8
    user = reset_codes.redeem("13912345670", done.code.code, "new-pass-2026", None)
    assert user.id == vendor.user_id and user.check_password("new-pass-2026")


def test_a_guide_registration_follows_the_same_rules(ctx):
    market = market_with_zones()
    guide = b.user(role=Role.GUIDE, organization=market.organization, mkt=market)
    with pytest.raises(InvalidInput):
        vendors.register_for(
            market,
            guide=guide,
            name="赵大妈",
            phone="13912345670",
            details=food(health_cert_no=""),
            agreed_to_rules=True,
        )
    assert db.session.scalar(select(func.count()).select_from(Vendor)) == 0


def test_a_rejected_vendor_has_no_pass(ctx):
    market = market_with_zones()
    cadre = b.user(role=Role.CADRE, organization=market.organization)
    vendor = register(market)
    token = passes.pass_token(vendor)  # printed while pending
    assert passes.vendor_from_pass(token) == vendor
    vendors.decide(vendor, "reject", actor=cadre, reason="证件照片看不清")
    assert not passes.has_pass(vendor)
    with pytest.raises(Conflict):
        passes.pass_token(vendor)
    with pytest.raises(NotFound) as e:
        passes.vendor_from_pass(token)
    assert e.value.code == "no_pass"
