"""Stalls offered instead of a taken one are stalls the vendor may take, each priced; and where
a fee stands once a collection-code report waits or is turned down."""

from datetime import UTC, datetime, timedelta

import pytest

from market.extensions import db
from market.models import FeeRule, Role
from market.services.checkin import checkins as checkin
from market.services.checkin import payments
from tests import builders as b

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


@pytest.fixture
def world(ctx):
    market = b.market()
    food = b.zone(market, code="A", categories="cooked_food,snacks")
    goods = b.zone(market, code="C", categories="goods,clothing")
    anyone = b.zone(market, code="D")  # no categories listed: any vendor
    closed = b.zone(market, code="E", categories="goods", is_active=False)
    a = [b.stall(food, code=f"A-0{i}", grid_row=0, grid_col=i) for i in range(1, 4)]
    c = [
        b.stall(goods, code=f"C-0{i}", grid_row=0, grid_col=10 + i, has_power=True) for i in (1, 2)
    ]
    d = b.stall(anyone, code="D-01", grid_row=0, grid_col=20)
    b.stall(closed, code="E-01", grid_row=0, grid_col=4)
    session = b.session(market, starts_at=NOW - timedelta(hours=1), state="open")
    since = NOW - timedelta(days=1)
    db.session.add_all(
        [
            FeeRule(market_id=market.id, base_fen=1000, power_fen=300, effective_from=since),
            FeeRule(market_id=market.id, zone_id=food.id, base_fen=1500, effective_from=since),
        ]
    )
    cook = b.vendor(market.organization, status="approved", category="cooked_food")
    socks = b.vendor(market.organization, status="approved", category="goods")
    guide = b.user(role=Role.GUIDE, organization=market.organization, mkt=market)
    db.session.flush()
    return {"a": a, "c": c, "d": d, "session": session, "cook": cook, "socks": socks,
            "guide": guide}  # fmt: skip


def test_a_goods_vendor_is_offered_goods_stalls_with_their_fee(world):
    a1 = world["a"][0]
    checkin.check_in(a1, world["cook"], NOW, actor=world["cook"].user)
    sit = checkin.situation(a1, world["socks"], NOW)
    assert sit.kind == "taken"
    offered = {o.stall.code: (o.amount_fen, o.power_fen) for o in sit.alternatives}
    # Not A-02 (cooked food, ¥15), not E-01 (a zone out of use); C and the open zone D.
    assert offered == {"C-01": (1000, 300), "C-02": (1000, 300), "D-01": (1000, 0)}
    # The cook is offered the food row first, at the food fee.
    cook2 = b.vendor(a1.market.organization, status="approved", category="cooked_food")
    mine = checkin.situation(a1, cook2, NOW).alternatives
    assert [o.stall.code for o in mine[:2]] == ["A-02", "A-03"] and mine[0].amount_fen == 1500


def test_a_refused_check_in_names_only_stalls_the_vendor_may_take(world):
    a1 = world["a"][0]
    checkin.check_in(a1, world["cook"], NOW, actor=world["cook"].user)
    with pytest.raises(checkin.CheckInRefused) as refused:
        checkin.check_in(a1, world["socks"], NOW, actor=world["socks"].user)
    codes = {s.code for s in refused.value.alternatives}
    assert codes == {"C-01", "C-02", "D-01"}
    assert {a["code"] for a in refused.value.details["alternatives"]} == codes


def test_where_a_fee_stands_while_reported_and_once_turned_down(world):
    socks, guide = world["socks"], world["guide"]
    charge = checkin.check_in(world["c"][0], socks, NOW, actor=socks.user).charge
    fresh = payments.standing(charge)
    assert (fresh.paid_fen, fresh.pending_fen, fresh.owed_fen, fresh.rejected) == (0, 0, 1000, None)
    report = payments.report_collection_code(charge, 1000, "8812", socks.user)
    waiting = payments.standing(charge)
    assert (waiting.paid_fen, waiting.pending_fen, waiting.owed_fen) == (0, 1000, 0)
    assert not waiting.settled and waiting.rejected is None
    payments.reject_report(report, guide, "账单里没有")
    down = payments.standing(charge)
    assert (down.paid_fen, down.pending_fen, down.owed_fen) == (0, 0, 1000)
    assert down.rejected.reason == "账单里没有" and down.rejected.by.id == guide.id
    assert down.rejected.amount_fen == 1000
    assert payments.is_rejected_report(report) and payments.reversal_of(report).note == "账单里没有"
    again = payments.report_collection_code(charge, 1000, None, socks.user)
    assert payments.standing(charge).rejected is None  # nothing owed: the wait is what shows
    payments.confirm(again, guide)
    assert payments.standing(charge).settled
    assert not payments.is_rejected_report(again)
