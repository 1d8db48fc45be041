"""A few evenings of trade in one market, with every way a fee can be settled, and the
figures they must add up to (worked out by hand below)."""

from datetime import UTC, date, datetime, time, timedelta

from market.extensions import db
from market.models import CashHandover, Role, utcnow
from tests import builders

DAY1, DAY2, DAY3 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)

# By hand: s1 3000 expected (relief 500), cash 1500 + 600, code 500, 400 unpaid;
# s2 a waiver of 800; s3 2200 expected, 1200 only reported, cash 1000 voided then 400.
TOTALS = {
    "charges": 6,
    "expected": 6000,
    "cash": 2500,
    "code": 500,
    "collected": 3000,
    "relief": 500,
    "waived": 800,
    "pending": 1200,
    "unpaid": 2200,
}


def evening(mkt, day, kind="night", state="closed", hour=10, **kw):
    start = datetime.combine(day, time(hour), UTC)
    if state == "closed":
        kw.setdefault("closed_at", start + timedelta(hours=4))
    return builders.session(mkt, starts_at=start, business_date=day, kind=kind, state=state, **kw)


def _reverse(p, by):
    return builders.payment(p.charge, p.amount_fen, method=p.method, by=by, reverses_id=p.id)


def trade(mkt, vendor_names=("赵一", "钱二", "孙三")):
    """Three held sessions and a cancelled one on DAY1..DAY3; returns the objects made."""
    org = mkt.organization
    za = builders.zone(mkt, code="A", name="熟食")
    zb = builders.zone(mkt, code="B", name="果蔬")
    a1 = builders.stall(za, code="A-01")
    a2 = builders.stall(za, code="A-02")
    b1 = builders.stall(zb, code="B-01")
    vendors = []
    for name in vendor_names:
        v = builders.vendor(org, status="approved")
        v.user.name = name
        vendors.append(v)
    v1, v2, v3 = vendors
    guide = builders.user(role=Role.GUIDE, organization=org, mkt=mkt, name="引导员甲")
    cadre = builders.user(role=Role.CADRE, organization=org, name="干部乙")

    s1 = evening(mkt, DAY1)
    c = builders.charge(builders.checkin(s1, a1, v1), base_fen=1500)
    builders.payment(c, 1500, by=guide)
    c = builders.charge(builders.checkin(s1, a2, v2), base_fen=1000, relief_fen=500)
    builders.payment(c, 500, method="collection_code", by=guide)
    c = builders.charge(builders.checkin(s1, b1, v3), base_fen=1000)
    builders.payment(c, 600, by=guide)
    _reverse(builders.payment(c, 300, by=guide), guide)

    s2 = evening(mkt, DAY1, kind="morning", hour=0)
    c = builders.charge(builders.checkin(s2, a1, v1), base_fen=800)
    builders.payment(c, 800, method="waiver", by=cadre, note="助农")

    s3 = evening(mkt, DAY2)
    c = builders.charge(builders.checkin(s3, a1, v2), base_fen=1200)
    builders.payment(c, 1200, method="collection_code", confirmed=False, by=v2.user)
    c = builders.charge(builders.checkin(s3, b1, v1), base_fen=1000)
    _reverse(builders.payment(c, 1000, by=guide), guide)
    builders.payment(c, 400, by=guide)

    s4 = evening(mkt, DAY3, state="cancelled", cancel_reason="暴雨")
    db.session.flush()
    return {
        "sessions": [s1, s2, s3, s4],
        "stalls": [a1, a2, b1],
        "zones": [za, zb],
        "vendors": vendors,
        "guide": guide,
        "cadre": cadre,
    }


def handover(mkt, guide, expected, received=None, cadre=None, at=None):
    h = CashHandover(
        organization_id=mkt.organization_id,
        market_id=mkt.id,
        guide_id=guide.id,
        expected_fen=expected,
        declared_fen=expected,
        received_fen=received,
        state="confirmed" if received is not None else "pending",
        confirmed_by_id=cadre.id if received is not None else None,
        confirmed_at=utcnow() if received is not None else None,
        created_at=at or datetime.combine(DAY1, time(15), UTC),
    )
    db.session.add(h)
    db.session.flush()
    return h
