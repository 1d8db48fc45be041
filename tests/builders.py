"""Builders for test data: each returns a flushed object with sensible defaults."""

import itertools
from datetime import date, time, timedelta

from market.extensions import db
from market.models import (
    Market,
    MarketSession,
    Organization,
    SessionTemplate,
    Stall,
    Vendor,
    Zone,
    utcnow,
)
from market.services.auth import accounts

_seq = itertools.count(1)


def org(name=None, **kw):
    n = next(_seq)
    o = Organization(name=name or f"测试社区{n}股份经济合作社", short_name=f"测试{n}", **kw)
    db.session.add(o)
    db.session.flush()
    return o


def market(organization=None, **kw):
    n = next(_seq)
    organization = organization or org()
    m = Market(
        organization=organization,
        name=kw.pop("name", f"测试市场{n}"),
        slug=kw.pop("slug", f"m{n}"),
        **kw,
    )
    db.session.add(m)
    db.session.flush()
    return m


def zone(mkt=None, code=None, **kw):
    mkt = mkt or market()
    z = Zone(
        market=mkt,
        code=code or f"Z{next(_seq)}",
        name=kw.pop("name", f"片区{next(_seq)}"),
        color=kw.pop("color", "#123456"),
        **kw,
    )
    db.session.add(z)
    db.session.flush()
    return z


def stall(z=None, code=None, **kw):
    z = z or zone()
    s = Stall(
        market_id=z.market_id,
        zone_id=z.id,
        code=code or f"S-{next(_seq):03d}",
        grid_row=kw.pop("grid_row", 0),
        grid_col=kw.pop("grid_col", next(_seq)),
        **kw,
    )
    db.session.add(s)
    db.session.flush()
    return s


def user(
    phone=None, role=None, organization=None, mkt=None, password="secret-pass-1", name="测试用户"
):
    phone = phone or f"139{next(_seq):08d}"
    u = accounts.create_user(phone, name, password)
    if role:
        accounts.grant_role(u, organization, role, market=mkt)
    db.session.flush()
    return u


def vendor(organization=None, **kw):
    organization = organization or org()
    u = user(organization=organization)
    v = Vendor(
        organization_id=organization.id,
        user_id=u.id,
        category=kw.pop("category", "goods"),
        goods=kw.pop("goods", "日用百货"),
        **kw,
    )
    db.session.add(v)
    db.session.flush()
    return v


def template(mkt=None, **kw):
    mkt = mkt or market()
    defaults = {
        "name": "夜市",
        "kind": "night",
        "weekdays": 127,
        "start_local": time(18),
        "end_local": time(22, 30),
        "valid_from": date(2026, 1, 1),
    }
    defaults.update(kw)
    t = SessionTemplate(market=mkt, **defaults)
    db.session.add(t)
    db.session.flush()
    return t


def session(mkt=None, **kw):
    mkt = mkt or market()
    start = kw.pop("starts_at", utcnow().replace(microsecond=0))
    s = MarketSession(
        market=mkt,
        kind=kw.pop("kind", "night"),
        business_date=kw.pop("business_date", start.date()),
        starts_at=start,
        ends_at=kw.pop("ends_at", start + timedelta(hours=4)),
        **kw,
    )
    db.session.add(s)
    db.session.flush()
    return s


# --- a session's trade (sessions issue) ------------------------------------------------------


def checkin(sess, stall_=None, vendor_=None, **kw):
    """An active check-in of a vendor on a stall of the session's market."""
    from market.models import CheckIn

    stall_ = stall_ or stall(zone(sess.market))
    vendor_ = vendor_ or vendor(sess.market.organization)
    c = CheckIn(
        market_id=sess.market_id,
        session_id=sess.id,
        stall_id=stall_.id,
        vendor_id=vendor_.id,
        arrived_at=kw.pop("arrived_at", sess.starts_at),
        **kw,
    )
    db.session.add(c)
    db.session.flush()
    return c


def charge(checkin_, base_fen=1000, relief_fen=0, extras_fen=0):
    from market.models import Charge

    c = Charge(
        checkin_id=checkin_.id,
        base_fen=base_fen,
        relief_fen=relief_fen,
        extras_fen=extras_fen,
        amount_fen=base_fen + extras_fen - relief_fen,
    )
    db.session.add(c)
    db.session.flush()
    return c


def payment(charge_, amount_fen, method="cash", confirmed=True, by=None, **kw):
    from market.models import Payment

    by = by or user()
    p = Payment(
        charge_id=charge_.id,
        method=method,
        amount_fen=amount_fen,
        status="confirmed" if confirmed else "pending",
        recorded_by_id=by.id,
        confirmed_by_id=by.id if confirmed else None,
        confirmed_at=utcnow() if confirmed else None,
        **kw,
    )
    db.session.add(p)
    db.session.flush()
    return p
