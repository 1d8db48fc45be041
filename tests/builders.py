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
from market.services import accounts

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
