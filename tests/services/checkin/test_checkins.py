"""Check-in rules called directly: every state of the scan page, races, moves, payments."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Charge, CheckIn, FeeRule, MonthlyPass, Role
from market.services.checkin import checkins as checkin
from market.services.checkin import payments
from market.services.common.errors import Conflict, Forbidden, InvalidInput
from tests import builders as b

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai


@pytest.fixture
def world(ctx):
    zone = b.zone(code="A")
    market = zone.market
    stalls = [
        b.stall(zone, code=f"A-0{i}", grid_row=0, grid_col=i, has_power=True) for i in range(1, 6)
    ]
    other_zone = b.zone(market, code="B")
    far = b.stall(other_zone, code="B-01", grid_row=0, grid_col=2)
    session = b.session(
        market,
        starts_at=NOW - timedelta(hours=1),
        state="open",
        cutoff_at=NOW - timedelta(minutes=30),
    )
    db.session.add(
        FeeRule(
            market_id=market.id,
            zone_id=zone.id,
            base_fen=1500,
            power_fen=300,
            effective_from=NOW - timedelta(days=1),
        )
    )
    cadre = b.user(role=Role.CADRE, organization=market.organization)
    guide = b.user(role=Role.GUIDE, organization=market.organization, mkt=market)
    vendors = [b.vendor(market.organization, status="approved") for _ in range(3)]
    db.session.flush()
    return {
        "market": market,
        "stalls": stalls,
        "far": far,
        "session": session,
        "cadre": cadre,
        "guide": guide,
        "vendors": vendors,
    }


def go(w, stall, vendor, **kw):
    return checkin.check_in(stall, vendor, NOW, actor=vendor.user, **kw)


def test_free_stall_shows_the_fee_and_checks_in_with_one_charge(world):
    stall, vendor = world["stalls"][0], world["vendors"][0]
    sit = checkin.situation(stall, vendor, NOW)
    assert sit.kind == "free" and sit.breakdown.amount_fen == 1500
    ci = go(world, stall, vendor, uses_power=True)
    assert ci.charge.amount_fen == 1800 and ci.charge.extras_fen == 300
    assert checkin.situation(stall, vendor, NOW).kind == "here"
    # Doing it again (a double tap) gives the same check-in and still one charge.
    assert go(world, stall, vendor).id == ci.id
    assert db.session.scalar(select(func.count()).select_from(Charge)) == 1


def test_taken_stall_offers_nearest_free_same_zone_first(world):
    s1, s2, s3 = world["stalls"][:3]
    go(world, s2, world["vendors"][0])
    sit = checkin.situation(s2, world["vendors"][1], NOW)
    assert sit.kind == "taken"
    codes = [o.stall.code for o in sit.alternatives]
    assert codes[:2] in (["A-01", "A-03"], ["A-03", "A-01"]) and "B-01" not in codes[:4]
    with pytest.raises(checkin.CheckInRefused) as e:
        go(world, s2, world["vendors"][1])
    assert e.value.code == "stall_taken" and e.value.status == 409
    assert s2 not in e.value.alternatives and e.value.alternatives


def test_one_stall_per_vendor_and_moving_keeps_one_checkin(world):
    s1, s2 = world["stalls"][:2]
    vendor = world["vendors"][0]
    ci = go(world, s1, vendor)
    assert checkin.situation(s2, vendor, NOW).kind == "move"
    with pytest.raises(checkin.CheckInRefused) as e:
        go(world, s2, vendor)
    assert e.value.code == "holds_other_stall"
    moved = checkin.move(ci, s2, NOW, actor=vendor.user)
    assert moved.id == ci.id and moved.stall_id == s2.id
    assert [(m.from_stall_id, m.to_stall_id) for m in checkin.moves_of(ci)] == [(s1.id, s2.id)]
    assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1


def test_states_for_vendors_who_may_not_trade(world):
    stall = world["stalls"][0]
    pending = b.vendor(world["market"].organization)
    assert checkin.situation(stall, pending, NOW).kind == "not_allowed"
    with pytest.raises(checkin.NotAllowedToTrade) as e:
        go(world, stall, pending)
    assert e.value.code == "not_approved" and e.value.status == 403
    stranger = b.vendor(status="approved")
    assert checkin.situation(stall, stranger, NOW).reason == "other_organization"
    assert checkin.situation(stall, None, NOW).kind == "anonymous"


def test_closed_and_cancelled_sessions_refuse(world):
    session = world["session"]
    session.state, session.cancel_reason = "cancelled", "暴雨"
    db.session.flush()
    stall, vendor = world["stalls"][0], world["vendors"][0]
    assert checkin.situation(stall, vendor, NOW).kind == "closed"
    with pytest.raises(checkin.MarketClosed):
        go(world, stall, vendor)


def test_disabled_stall_says_why_and_offers_others(world):
    stall = world["stalls"][0]
    stall.status, stall.disabled_reason = "disabled", "消防通道"
    db.session.flush()
    sit = checkin.situation(stall, world["vendors"][0], NOW)
    assert sit.kind == "disabled" and sit.alternatives[0].stall.code == "A-02"
    with pytest.raises(checkin.CheckInRefused) as e:
        go(world, stall, world["vendors"][0])
    assert e.value.code == "stall_disabled"


def test_monthly_pass_stall_held_until_cutoff(world):
    stall = world["stalls"][0]
    holder, other = world["vendors"][:2]
    session = world["session"]
    session.cutoff_at = NOW + timedelta(minutes=20)
    db.session.add(
        MonthlyPass(
            market_id=stall.market_id,
            stall_id=stall.id,
            vendor_id=holder.id,
            valid_from=session.business_date - timedelta(days=3),
            valid_until=session.business_date + timedelta(days=20),
            amount_fen=30000,
        )
    )
    db.session.flush()
    sit = checkin.situation(stall, other, NOW)
    assert sit.kind == "reserved" and sit.held_until == session.cutoff_at
    with pytest.raises(checkin.CheckInRefused) as e:
        go(world, stall, other)
    assert e.value.code == "stall_reserved"
    ci = go(world, stall, holder)
    assert ci.charge.amount_fen == 0  # the pass covers it
    # After the cutoff a free pass stall is anybody's.
    checkin.check_out(ci, NOW, actor=holder.user)
    later = NOW + timedelta(minutes=30)
    assert checkin.situation(stall, other, later).kind == "free"


def test_geofence_flags_but_never_refuses(world):
    market = world["market"]
    market.latitude, market.longitude, market.geofence_radius_m = 26.5823, 101.7186, 300
    near = go(world, world["stalls"][0], world["vendors"][0], position=(26.5825, 101.7188))
    far = go(world, world["stalls"][1], world["vendors"][1], position=(26.6, 101.8))
    assert near.outside_geofence is False and far.outside_geofence is True


def test_check_out_is_idempotent(world):
    ci = go(world, world["stalls"][0], world["vendors"][0])
    checkin.check_out(ci, NOW, actor=world["guide"])
    checkin.check_out(ci, NOW + timedelta(minutes=5), actor=world["guide"])
    assert ci.state == "checked_out" and ci.left_at == NOW
    # The stall is free again for anyone.
    assert checkin.situation(world["stalls"][0], world["vendors"][1], NOW).kind == "free"


def test_back_the_same_evening_resumes_the_check_in_and_its_one_charge(world):
    """A vendor who checked out (or tapped 离场 by mistake) and comes back pays no second fee."""
    first, other = world["stalls"][0], world["stalls"][1]
    vendor = world["vendors"][0]
    ci = go(world, first, vendor)
    payments.record_cash(ci.charge, 1000, world["guide"])
    checkin.check_out(ci, NOW, actor=vendor.user)
    sit = checkin.situation(other, vendor, NOW)
    assert sit.kind == "back" and sit.checkin.id == ci.id and sit.unpaid_fen == 500
    back = go(world, other, vendor)
    assert back.id == ci.id and back.state == "active" and back.left_at is None
    assert back.stall_id == other.id and back.arrived_at == NOW
    assert [(m.from_stall_id, m.to_stall_id) for m in checkin.moves_of(back)] == [
        (first.id, other.id)
    ]
    assert db.session.scalar(select(func.count()).select_from(Charge)) == 1
    assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1
    assert checkin.situation(other, vendor, NOW).kind == "here"
    # Back on a stall someone else took meanwhile: refused with the free ones nearby.
    checkin.check_out(back, NOW, actor=vendor.user)
    go(world, first, world["vendors"][1])
    with pytest.raises(checkin.CheckInRefused) as e:
        go(world, first, vendor)
    assert e.value.code == "stall_taken" and e.value.alternatives
    assert db.session.get(CheckIn, ci.id).state == "checked_out"


def test_the_scan_page_prices_electricity_before_the_vendor_ticks_it(world):
    sit = checkin.situation(world["stalls"][0], world["vendors"][0], NOW)
    assert sit.kind == "free" and sit.breakdown.amount_fen == 1500 and sit.power_fen == 300
    assert checkin.situation(world["far"], world["vendors"][0], NOW).power_fen == 0  # no socket


def test_payments_partial_no_overpayment_and_voids(world):
    vendor, guide, cadre = world["vendors"][0], world["guide"], world["cadre"]
    charge = go(world, world["stalls"][0], vendor).charge  # ¥15
    payments.record_cash(charge, 1000, guide)
    assert payments.unpaid_fen(charge) == 500
    with pytest.raises(InvalidInput) as e:
        payments.record_cash(charge, 501, guide)
    assert e.value.code == "overpayment"
    for bad in (0, -100):
        with pytest.raises(InvalidInput):
            payments.record_cash(charge, bad, guide)
    reported = payments.report_collection_code(charge, 500, "4200001234", vendor.user)
    assert payments.unpaid_fen(charge) == 500 and payments.owed_fen(charge) == 0
    with pytest.raises(Forbidden) as e:
        payments.confirm(reported, vendor.user)  # a vendor never confirms their own payment
    payments.confirm(reported, guide)
    assert payments.unpaid_fen(charge) == 0
    first = charge.payments[0]
    reversal = payments.void(first, cadre, "记错了金额")
    assert reversal.reverses_id == first.id and payments.unpaid_fen(charge) == 1000
    with pytest.raises(Conflict):
        payments.void(first, cadre, "again")
    with pytest.raises(Conflict):
        payments.void(reversal, cadre, "reverse the reversal")
    with pytest.raises(Forbidden):
        payments.waive(charge, 1000, "困难", guide)  # guides don't waive
    payments.waive(charge, 1000, "困难户", cadre)
    assert payments.unpaid_fen(charge) == 0


def test_concurrent_checkins_on_one_stall_exactly_one_wins(world, app):
    """Threads with their own connections race for one stall: one check-in, one charge."""
    import threading

    from market.services.common.clock import FixedClock

    stall_id = world["stalls"][0].id
    vendor_ids = [b.vendor(world["market"].organization, status="approved").id for _ in range(8)]
    db.session.commit()
    app.config["CLOCK"] = FixedClock(NOW)
    barrier = threading.Barrier(len(vendor_ids))
    outcomes = []

    def attempt(vendor_id):
        from market.models import Stall, Vendor

        with app.app_context():
            try:
                barrier.wait(timeout=10)
                ci = checkin.check_in(
                    db.session.get(Stall, stall_id),
                    db.session.get(Vendor, vendor_id),
                    NOW,
                    actor=db.session.get(Vendor, vendor_id).user,
                )
                db.session.commit()
                outcomes.append(("ok", ci.id))
            except checkin.CheckInRefused as e:
                db.session.rollback()
                outcomes.append((e.code, None))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(v,)) for v in vendor_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o[0] for o in outcomes) == ["ok"] + ["stall_taken"] * (len(vendor_ids) - 1)
    assert db.session.scalar(select(func.count()).select_from(Charge)) == 1


def test_a_session_opened_early_takes_check_ins_before_its_start(ctx):
    """A cadre opens tonight's session an hour early: every page says open, and check-in
    agrees (it once asked for starts_at <= now and refused with market_closed)."""
    from market.services.sessions import actions as session_actions
    from market.services.sessions import tide as sessions

    zone = b.zone(code="A")
    stall = b.stall(zone, code="A-01", grid_row=0, grid_col=1)
    session = b.session(zone.market, starts_at=NOW + timedelta(hours=1), state="scheduled")
    vendor = b.vendor(zone.market.organization, status="approved")
    db.session.flush()
    assert checkin.situation(stall, vendor, NOW).kind == "closed"
    session_actions.open_now(session, now=NOW)
    assert sessions.market_status(zone.market, NOW).current == session
    assert sessions.current_session(zone.market.id, NOW) == session
    ci = checkin.check_in(stall, vendor, NOW, actor=vendor.user)
    assert ci.session_id == session.id and ci.charge is not None
