"""Every rule the database holds, proven by a row that breaks it (on each backend)."""

from datetime import date, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from market.extensions import db
from market.models import (
    Charge,
    CheckIn,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    Organization,
    Payment,
    Role,
    RoleGrant,
    Stall,
    User,
    Vendor,
    utcnow,
)
from tests import builders as b

HASH = "a" * 64


def _checkin(**kw):
    s = b.stall()
    sess = b.session(s.market)
    v = b.vendor(s.market.organization)
    c = CheckIn(market_id=s.market_id, session_id=sess.id, stall_id=s.id, vendor_id=v.id, **kw)
    db.session.add(c)
    db.session.flush()
    return c


def _charge(**kw):
    values = {"base_fen": 1500, "extras_fen": 300, "relief_fen": 0, "amount_fen": 1800}
    values.update(kw)
    ch = Charge(checkin_id=_checkin().id, **values)
    db.session.add(ch)
    db.session.flush()
    return ch


def _payment(**kw):
    values = {"method": "cash", "amount_fen": 1500, "status": "confirmed", "confirmed_at": utcnow()}
    values.update(kw)
    ch = _charge()
    recorder = b.user()
    p = Payment(charge_id=ch.id, recorded_by_id=recorder.id, **values)
    db.session.add(p)
    db.session.flush()
    return p


def _entry(seq=1, source="test:1", entry_hash=HASH, organization=None):
    organization = organization or b.org()
    e = LedgerEntry(
        organization_id=organization.id,
        seq=seq,
        entry_date=date(2026, 11, 23),
        description="测试",
        source_key=source,
        entry_hash=entry_hash,
    )
    db.session.add(e)
    db.session.flush()
    return e


def _line(debit=0, credit=0):
    e = _entry()
    acct = LedgerAccount(
        organization_id=e.organization_id, code="1001", name="库存现金", kind="asset"
    )
    db.session.add(acct)
    db.session.flush()
    db.session.add(
        LedgerLine(entry_id=e.id, account_id=acct.id, debit_fen=debit, credit_fen=credit)
    )
    db.session.flush()


def _dup_stall_code():
    s = b.stall(code="A-01")
    b.stall(b.zone(s.market), code="A-01")


def _dup_token():
    s = b.stall()
    b.stall(qr_token=s.qr_token)


def _zone_of_other_market():
    s = b.zone()
    other = b.zone()
    db.session.add(
        Stall(market_id=s.market_id, zone_id=other.id, code="X-1", grid_row=0, grid_col=0)
    )
    db.session.flush()


def _guide_other_org_market():
    o = b.org()
    other_market = b.market()
    u = b.user()
    db.session.add(
        RoleGrant(user_id=u.id, organization_id=o.id, market_id=other_market.id, role=Role.GUIDE)
    )
    db.session.flush()


def _dup_org_role():
    o = b.org()
    u = b.user(role=Role.CADRE, organization=o)
    db.session.add(RoleGrant(user_id=u.id, organization_id=o.id, role=Role.CADRE))
    db.session.flush()


def _grant(role, with_market):
    m = b.market()
    u = b.user()
    db.session.add(
        RoleGrant(
            user_id=u.id,
            organization_id=m.organization_id,
            role=role,
            market_id=m.id if with_market else None,
        )
    )
    db.session.flush()


def _dup_phone():
    b.user(phone="13900000001")
    db.session.add(User(phone="13900000001", name="x", password_hash="x"))
    db.session.flush()


def _two_active(same):
    c = _checkin()
    other_stall = b.stall(b.zone(c.stall.market))
    other_vendor = b.vendor(c.stall.market.organization)
    db.session.add(
        CheckIn(
            market_id=c.market_id,
            session_id=c.session_id,
            stall_id=c.stall_id if same == "stall" else other_stall.id,
            vendor_id=c.vendor_id if same == "vendor" else other_vendor.id,
        )
    )
    db.session.flush()


def _checkin_stall_other_market():
    s = b.stall()
    sess = b.session()  # another market
    v = b.vendor(s.market.organization)
    db.session.add(
        CheckIn(market_id=s.market_id, session_id=sess.id, stall_id=s.id, vendor_id=v.id)
    )
    db.session.flush()


def _second_charge():
    ch = _charge()
    db.session.add(Charge(checkin_id=ch.checkin_id, base_fen=1, amount_fen=1))
    db.session.flush()


def _dup_source_key():
    e = _entry()
    _entry(seq=2, organization=db.session.get(Organization, e.organization_id))


def _dup_seq():
    e = _entry()
    _entry(seq=1, source="test:2", organization=db.session.get(Organization, e.organization_id))


def _dup_template_date():
    t = b.template()
    start = utcnow()
    b.session(t.market, template_id=t.id, business_date=date(2026, 11, 23), starts_at=start)
    b.session(
        t.market,
        template_id=t.id,
        business_date=date(2026, 11, 23),
        starts_at=start + timedelta(days=1),
    )


CASES = {
    "stall code unique per market": _dup_stall_code,
    "stall qr token unique": _dup_token,
    "stall qr token too short": lambda: b.stall(qr_token="short"),
    "stall zone of another market": _zone_of_other_market,
    "stall status enum": lambda: b.stall(status="broken", disabled_reason="x"),
    "disabled stall needs reason": lambda: b.stall(status="disabled"),
    "stall grid position non-negative": lambda: b.stall(grid_row=-1),
    "stall grid size positive": lambda: b.stall(grid_w=0),
    "stall size positive": lambda: b.stall(width_cm=0),
    "stall market foreign key": lambda: (
        db.session.add(Stall(market_id=999999, zone_id=999999, code="Z", grid_row=0, grid_col=0)),
        db.session.flush(),
    ),
    "zone colour is hex": lambda: b.zone(color="red"),
    "zone code unique per market": lambda: (lambda z: b.zone(z.market, code=z.code))(b.zone()),
    "market slug unique": lambda: (b.market(slug="same"), b.market(slug="same")),
    "market geofence radius positive": lambda: b.market(geofence_radius_m=0),
    "market latitude range": lambda: b.market(latitude=91.0),
    "organization governance share 0-100": lambda: b.org(governance_fund_pct=140),
    "organization threshold non-negative": lambda: b.org(expense_approval_threshold_fen=-1),
    "user phone unique": _dup_phone,
    "user phone 11 digits": lambda: (
        db.session.add(User(phone="1380000", name="x", password_hash="x")),
        db.session.flush(),
    ),
    "role enum": lambda: _grant("boss", False),
    "guide needs a market": lambda: _grant(Role.GUIDE, False),
    "cadre has no market": lambda: _grant(Role.CADRE, True),
    "guide market in same organization": _guide_other_org_market,
    "organization role unique": _dup_org_role,
    "vendor status enum": lambda: b.vendor(status="maybe"),
    "food vendor needs health certificate": lambda: b.vendor(sells_food=True),
    "rejection needs a reason": lambda: b.vendor(status="rejected"),
    "relief kind enum": lambda: b.vendor(relief_status="claimed", relief_kind="rich"),
    "relief claim needs a kind": lambda: b.vendor(relief_status="claimed"),
    "vendor unique per organization": lambda: (
        lambda v: (
            db.session.add(
                Vendor(
                    organization_id=v.organization_id,
                    user_id=v.user_id,
                    category="goods",
                    goods="x",
                )
            ),
            db.session.flush(),
        )
    )(b.vendor()),
    "template weekdays mask": lambda: b.template(weekdays=128),
    "template weekdays not empty": lambda: b.template(weekdays=0),
    "template start differs from end": lambda: b.template(start_local=time(18), end_local=time(18)),
    "template kind enum": lambda: b.template(kind="afternoon"),
    "template cutoff non-negative": lambda: b.template(cutoff_minutes=-5),
    "template valid range": lambda: b.template(valid_until=date(2025, 1, 1)),
    "session ends after start": lambda: b.session(ends_at=utcnow() - timedelta(hours=1)),
    "session state enum": lambda: b.session(state="half-open"),
    "cancelled session needs reason": lambda: b.session(state="cancelled"),
    "closed session needs time": lambda: b.session(state="closed"),
    "one session per template and date": _dup_template_date,
    "checkin state enum": lambda: _checkin(state="gone", left_at=utcnow() + timedelta(hours=1)),
    "checked-out needs left_at": lambda: _checkin(state="checked_out"),
    "active has no left_at": lambda: _checkin(left_at=utcnow() + timedelta(hours=1)),
    "one active check-in per stall": lambda: _two_active("stall"),
    "one active check-in per vendor": lambda: _two_active("vendor"),
    "check-in stall and session in one market": _checkin_stall_other_market,
    "charge non-negative": lambda: _charge(base_fen=-100, amount_fen=200),
    "charge relief within base": lambda: _charge(
        relief_fen=2000, base_fen=1500, extras_fen=500, amount_fen=0
    ),
    "charge amount is its breakdown": lambda: _charge(amount_fen=1),
    "one charge per check-in": _second_charge,
    "payment amount positive": lambda: _payment(amount_fen=0),
    "payment method enum": lambda: _payment(method="iou"),
    "payment status enum": lambda: _payment(status="maybe"),
    "waiver needs a reason": lambda: _payment(method="waiver"),
    "confirmed payment has time": lambda: _payment(confirmed_at=None),
    "ledger account kind enum": lambda: (
        db.session.add(LedgerAccount(organization_id=b.org().id, code="1", name="x", kind="misc")),
        db.session.flush(),
    ),
    "ledger line debit xor credit (both)": lambda: _line(debit=100, credit=100),
    "ledger line debit xor credit (zero)": lambda: _line(),
    "ledger line non-negative": lambda: _line(debit=-100, credit=100),
    "ledger entry hash is sha256": lambda: _entry(entry_hash="abc"),
    "ledger entry source key unique": _dup_source_key,
    "ledger entry seq unique": _dup_seq,
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_database_rejects(ctx, case):
    with pytest.raises(IntegrityError):
        CASES[case]()


def test_valid_rows_are_accepted(ctx):
    """The baseline the cases above break, so each failure is the rule and not the builder."""
    _checkin()
    _payment()
    _payment(method="waiver", note="困难户减免")
    _line(debit=100)
    b.vendor(sells_food=True, health_cert_no="川攀健2026-1", health_cert_expires=date(2027, 1, 1))
    b.vendor(status="rejected", status_reason="资料不全")
    b.vendor(relief_status="claimed", relief_kind="low_income")
    b.template(start_local=time(18), end_local=time(1))  # across midnight
    c = _checkin()
    c.state, c.left_at = "checked_out", utcnow() + timedelta(hours=1)
    db.session.flush()
    # A checked-out vendor may check in again in the same session.
    db.session.add(
        CheckIn(
            market_id=c.market_id,
            session_id=c.session_id,
            stall_id=c.stall_id,
            vendor_id=c.vendor_id,
        )
    )
    db.session.flush()


def test_pending_certificate_is_complete(ctx):
    with pytest.raises(IntegrityError):
        b.vendor(pending_cert_no="川攀健2027-1")
