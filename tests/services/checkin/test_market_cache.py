"""Each worker keeps a market's sessions, hours and fee rules (checkin.market_cache) under
markets.data_version: a change made in one worker is seen by every other at its next scan.
Two apps on one database stand for two gunicorn workers: each has its own cache."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bench.data import rush
from market import create_app
from market.extensions import db
from market.models import CheckIn, FeeRule, Market, MarketSession, SessionState, Stall, User
from market.services.common.clock import FixedClock, now
from market.services.fees import rules as fees
from market.services.sessions import actions
from tests.conftest import Auth, base_config, csrf_from


@pytest.fixture
def workers(demo_app, tmp_path):
    clock = FixedClock(now())
    demo_app.config["CLOCK"] = clock
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        db.session.commit()
        tokens = dict(db.session.execute(select(Stall.code, Stall.qr_token)).all())
    other = create_app(
        {
            **base_config(tmp_path / "other", demo_app.config["SQLALCHEMY_DATABASE_URI"]),
            "CLOCK": clock,
        }
    )
    clients = []
    for app in (demo_app, other):
        client = app.test_client()
        Auth(client).login("13800000003")
        clients.append(client)
    yield demo_app, other, clients, tokens, clock
    with other.app_context():
        db.engine.dispose()


def _cadre_and_market(app):
    cadre = db.session.scalar(select(User).where(User.phone == "13800000001"))
    return cadre, db.session.get(Market, 1)


def test_a_new_fee_rule_reaches_the_other_worker_at_its_next_scan(workers):
    first, second, (a, b), tokens, clock = workers
    page = a.get(f"/s/{tokens['A-06']}")
    assert "¥15.00" in page.text
    assert "¥15.00" in b.get(f"/s/{tokens['A-06']}").text  # both workers hold the market now

    with second.app_context():  # a cadre on the second worker raises the fee
        cadre, market = _cadre_and_market(second)
        zone_a = next(z.id for z in market.zones if z.code == "A")
        values = {"base_fen": 2500, "zone_id": zone_a, "session_kind": "night"}
        rule = fees.add_rule(market, values, actor=cadre, now=clock())
        db.session.commit()
        rule_id = rule.id
    with first.app_context():
        before = first.extensions["market_data_cache"].reads
    a.get(f"/s/{tokens['A-06']}")
    with first.app_context():
        entry = first.extensions["market_data_cache"].entries[1]
        assert first.extensions["market_data_cache"].reads == before + 1
        assert rule_id in {r.id for r in entry.fee_rules}  # read again at once

    # From the next session on it prices the stall: the evening open now keeps its fee.
    assert "¥15.00" in a.get(f"/s/{tokens['A-06']}").text
    with first.app_context():
        db.session.execute(
            FeeRule.__table__.update()
            .where(FeeRule.id == rule_id)
            .values(effective_from=clock() - timedelta(days=1))
        )
        db.session.commit()
    # A write behind the ORM's back is not seen (nothing bumped the version) ...
    assert "¥15.00" in a.get(f"/s/{tokens['A-06']}").text
    with second.app_context():  # ... until a write through it does, as every service's does
        db.session.get(FeeRule, rule_id).note = "backdated"
        db.session.commit()
    assert "¥25.00" in a.get(f"/s/{tokens['A-06']}").text
    assert "¥25.00" in b.get(f"/s/{tokens['A-06']}").text


def test_a_cancelled_session_closes_check_in_on_the_other_worker(workers):
    first, second, (a, b), tokens, clock = workers
    before = a.get(f"/s/{tokens['A-06']}")
    assert "确认入场" in before.text
    assert "确认入场" in b.get(f"/s/{tokens['A-07']}").text
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]{32})"', before.text).group(1)
    form = {"csrf_token": csrf_from(before.text), "nonce": nonce}
    with second.app_context():
        cadre, market = _cadre_and_market(second)
        session = db.session.scalar(
            select(MarketSession).where(
                MarketSession.market_id == market.id, MarketSession.state == SessionState.OPEN
            )
        )
        actions.cancel(session, "暴雨", now=clock(), actor=cadre)
        db.session.commit()
    page = a.get(f"/s/{tokens['A-06']}")
    assert "确认入场" not in page.text and "开市后才能入场登记" in page.text
    # A confirm sent from the page shown before is refused: the market is not open.
    r = a.post(f"/s/{tokens['A-06']}/checkin", data=form)
    assert r.status_code == 409 and "市场现在没有开市" in r.text
    with first.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 0
