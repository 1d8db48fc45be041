"""Fees: the pure arithmetic under property-based inputs, and which rule is in force."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.extensions import db
from market.models.fees import FeeRule, MonthlyPass, ReliefRule
from market.services.common.errors import InvalidInput
from market.services.common.money import parse_yuan, yuan
from market.services.fees import rules as fees
from tests import builders as b

FEN = st.integers(min_value=0, max_value=10_000_000)


@given(base=FEN, power=FEN, has_power=st.booleans(), pct=st.integers(0, 100), on_pass=st.booleans())
def test_no_charge_is_negative_and_relief_never_exceeds_the_base(
    base, power, has_power, pct, on_pass
):
    b_ = fees.compute(base, power, has_power, pct, on_pass)
    assert b_.amount_fen >= 0
    assert 0 <= b_.relief_fen <= b_.base_fen
    assert b_.amount_fen == b_.base_fen + b_.extras_fen - b_.relief_fen
    assert all(isinstance(v, int) for v in (b_.base_fen, b_.extras_fen, b_.relief_fen))
    if on_pass:
        assert b_.amount_fen == 0
    if pct == 100 and not on_pass:
        assert b_.amount_fen == b_.extras_fen


@given(st.integers(min_value=-10_000, max_value=-1))
def test_negative_fees_are_refused(value):
    with pytest.raises(ValueError):
        fees.compute(value, 0, False, 0, False)


def test_examples():
    assert fees.compute(1500, 300, True, 0, False).amount_fen == 1800
    assert fees.compute(1500, 300, False, 0, False).amount_fen == 1500
    assert fees.compute(1500, 300, True, 50, False).amount_fen == 750 + 300
    assert fees.compute(1505, 0, False, 50, False).relief_fen == 753  # rounds half up to a fen


@pytest.mark.parametrize(
    ("text", "fen"), [("15", 1500), ("15.5", 1550), ("0.01", 1), ("¥8.00", 800)]
)
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["-1", "1.234", "abc", "", "1e3", "15,00", "99999999"])
def test_parse_yuan_refuses(text):
    with pytest.raises(InvalidInput):
        parse_yuan(text)


def test_yuan():
    assert yuan(1500) == "¥15.00" and yuan(5) == "¥0.05" and yuan(-250) == "-¥2.50"


def test_most_specific_rule_in_force_at_the_session_start(ctx):
    zone = b.zone()
    other_zone = b.zone(zone.market)
    stall = b.stall(zone, has_power=True)
    session = b.session(zone.market, kind="night")
    start = session.starts_at
    add = lambda **kw: db.session.add(FeeRule(market_id=zone.market_id, **kw))  # noqa: E731
    add(base_fen=500, effective_from=start - timedelta(days=30))
    add(base_fen=800, session_kind="night", effective_from=start - timedelta(days=30))
    add(
        base_fen=1500,
        power_fen=300,
        zone_id=zone.id,
        session_kind="night",
        effective_from=start - timedelta(days=30),
    )
    add(base_fen=9900, zone_id=other_zone.id, effective_from=start - timedelta(days=30))
    db.session.flush()
    vendor = b.vendor(zone.market.organization)
    assert fees.charge_for(stall, session, vendor).amount_fen == 1500
    assert fees.charge_for(stall, session, vendor, uses_power=True).amount_fen == 1800
    # A change made during the session applies from the next one, not this one.
    add(
        base_fen=2000,
        power_fen=300,
        zone_id=zone.id,
        session_kind="night",
        effective_from=start + timedelta(minutes=5),
    )
    db.session.flush()
    assert fees.charge_for(stall, session, vendor, uses_power=True).amount_fen == 1800
    later = b.session(zone.market, kind="night", starts_at=start + timedelta(days=1))
    assert fees.charge_for(stall, later, vendor, uses_power=True).amount_fen == 2300


def test_relief_only_when_confirmed(ctx):
    zone = b.zone()
    stall = b.stall(zone)
    session = b.session(zone.market)
    db.session.add(
        FeeRule(
            market_id=zone.market_id,
            base_fen=1500,
            effective_from=session.starts_at - timedelta(days=1),
        )
    )
    db.session.add(
        ReliefRule(
            market_id=zone.market_id,
            relief_kind="low_income",
            percent_off=100,
            effective_from=session.starts_at - timedelta(days=1),
        )
    )
    vendor = b.vendor(zone.market.organization, relief_kind="low_income", relief_status="claimed")
    db.session.flush()
    assert fees.charge_for(stall, session, vendor).amount_fen == 1500
    vendor.relief_status = "confirmed"
    assert fees.charge_for(stall, session, vendor).amount_fen == 0


def test_monthly_pass_holder_pays_nothing_on_their_stall(ctx):
    zone = b.zone()
    stall = b.stall(zone)
    session = b.session(zone.market)
    db.session.add(
        FeeRule(
            market_id=zone.market_id,
            base_fen=1500,
            effective_from=session.starts_at - timedelta(days=1),
        )
    )
    holder = b.vendor(zone.market.organization)
    other = b.vendor(zone.market.organization)
    db.session.add(
        MonthlyPass(
            market_id=zone.market_id,
            stall_id=stall.id,
            vendor_id=holder.id,
            valid_from=session.business_date.replace(day=1),
            valid_until=session.business_date + timedelta(days=20),
            amount_fen=30000,
        )
    )
    db.session.flush()
    assert fees.charge_for(stall, session, holder).amount_fen == 0
    assert fees.charge_for(stall, session, other).amount_fen == 1500
