"""Reset codes as a rule: who may issue one for whom, the in-person phone check, one use
within 24 hours (on the injectable clock), hashed, and counted like wrong passwords."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import AuditEvent, LoginSession, ResetCode, Role
from market.services.auth import login_limits, reset_codes, signins
from market.services.common.clock import FixedClock
from market.services.common.errors import Forbidden, InvalidInput, NotFound
from tests import builders as b

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NEW_PASSWORD = "new-secret-42"


@pytest.fixture
def clock(ctx):
    at = FixedClock(T0)
    ctx.config["CLOCK"] = at
    return at


@pytest.fixture
def world(ctx, clock):
    org = b.org()
    market = b.market(org)
    other_market = b.market(org)
    cadre = b.user(role=Role.CADRE, organization=org)
    guide = b.user(role=Role.GUIDE, organization=org, mkt=market)
    vendor = b.vendor(org, market_id=market.id)
    elsewhere = b.vendor(org, market_id=other_market.id)
    db.session.commit()
    return {
        "org": org,
        "cadre": cadre,
        "guide": guide,
        "vendor": vendor.user,
        "elsewhere": elsewhere.user,
    }


def last4(user):
    return user.phone[-4:]


def redeem(user, code, password=NEW_PASSWORD, address="192.0.2.1"):
    """As a request does it: commit after a wrong code (the count), roll back on a refusal."""
    try:
        result = reset_codes.redeem(user.phone, code, password, address)
    except login_limits.WrongCredentials as e:
        db.session.commit()
        return e
    except (login_limits.TooManyAttempts, InvalidInput) as e:
        db.session.rollback()
        return e
    db.session.commit()
    return result


def test_a_guide_issues_for_a_vendor_of_her_market_who_then_sets_a_password(world):
    vendor = world["vendor"]
    key = signins.start(vendor)
    version = vendor.token_version
    issued = reset_codes.issue(world["guide"], vendor, last4(vendor), ip="192.0.2.9")
    db.session.commit()
    assert len(issued.code) == 8 and issued.code.isdigit()
    assert issued.shown == f"{issued.code[:4]} {issued.code[4:]}"
    assert issued.expires_at == T0 + timedelta(hours=24)
    row = db.session.scalar(select(ResetCode).where(ResetCode.user_id == vendor.id))
    assert issued.code not in row.code_hash  # kept hashed only

    # typed as people type it: with a space, in full-width digits
    typed = issued.shown.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert redeem(vendor, typed) == vendor
    assert vendor.check_password(NEW_PASSWORD)
    assert vendor.token_version == version + 1  # API tokens and browsers end
    assert signins.user_for(vendor.id, vendor.token_version, key) is None
    assert db.session.scalar(select(LoginSession).where(LoginSession.user_id == vendor.id)) is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["user.reset_code_issued", "user.reset_code_used"]


def test_a_code_works_once(world):
    vendor = world["vendor"]
    issued = reset_codes.issue(world["cadre"], vendor, last4(vendor))
    db.session.commit()
    assert redeem(vendor, issued.code) == vendor
    again = redeem(vendor, issued.code, password="another-pass-7")
    assert isinstance(again, login_limits.WrongCredentials)
    assert "已经用过" in str(again.message)
    assert vendor.check_password(NEW_PASSWORD)


def test_an_expired_code_is_refused(world, clock):
    vendor = world["vendor"]
    issued = reset_codes.issue(world["cadre"], vendor, last4(vendor))
    db.session.commit()
    clock.advance(hours=24, seconds=1)
    answer = redeem(vendor, issued.code)
    assert isinstance(answer, login_limits.WrongCredentials)
    assert "已过期" in str(answer.message)
    assert not vendor.check_password(NEW_PASSWORD)


def test_a_code_still_works_just_before_it_expires(world, clock):
    vendor = world["vendor"]
    issued = reset_codes.issue(world["cadre"], vendor, last4(vendor))
    db.session.commit()
    clock.advance(hours=23, minutes=59)
    assert redeem(vendor, issued.code) == vendor


def test_a_newer_code_cancels_the_earlier_one(world):
    vendor = world["vendor"]
    first = reset_codes.issue(world["guide"], vendor, last4(vendor))
    second = reset_codes.issue(world["guide"], vendor, last4(vendor))
    db.session.commit()
    answer = redeem(vendor, first.code)
    assert isinstance(answer, login_limits.WrongCredentials)
    assert "新的重置码" in str(answer.message)
    assert redeem(vendor, second.code) == vendor


def test_wrong_last_four_digits_are_refused(world):
    vendor = world["vendor"]
    wrong = "0000" if last4(vendor) != "0000" else "1111"
    with pytest.raises(InvalidInput) as e:
        reset_codes.issue(world["guide"], vendor, wrong)
    assert e.value.code == "phone_mismatch" and e.value.field == "phone_last4"
    with pytest.raises(InvalidInput):
        reset_codes.issue(world["guide"], vendor, vendor.phone[-3:])
    db.session.rollback()
    assert db.session.scalar(select(ResetCode)) is None


def test_a_guide_cannot_issue_for_a_cadre_or_another_markets_vendor(world):
    guide = world["guide"]
    for target in (world["cadre"], world["elsewhere"]):
        assert not reset_codes.can_issue(guide, target)
        with pytest.raises(NotFound):
            reset_codes.issue(guide, target, last4(target))
    other_org_vendor = b.vendor(b.org()).user
    with pytest.raises(NotFound):
        reset_codes.target_for(guide, other_org_vendor.id)
    other_guide = b.user(
        role=Role.GUIDE, organization=world["org"], mkt=world["guide"].grants[0].market
    )
    assert not reset_codes.can_issue(guide, other_guide)


def test_a_guide_may_issue_for_a_vendor_of_the_organization_without_a_market(world):
    roaming = b.vendor(world["org"]).user  # market_id None: trades in any market of it
    assert reset_codes.can_issue(world["guide"], roaming)


def test_a_cadre_cannot_issue_for_herself_but_a_second_cadre_can(world):
    cadre = world["cadre"]
    with pytest.raises(Forbidden) as e:
        reset_codes.issue(cadre, cadre, last4(cadre))
    assert e.value.code == "own_account"
    second = b.user(role=Role.ADMIN, organization=world["org"])
    issued = reset_codes.issue(second, cadre, last4(cadre))
    db.session.commit()
    assert redeem(cadre, issued.code) == cadre
    assert reset_codes.can_issue(cadre, world["guide"])
    assert not reset_codes.can_issue(cadre, b.vendor(b.org()).user)  # another organization


def test_wrong_codes_count_like_wrong_passwords_and_issuing_clears_them(world):
    vendor = world["vendor"]
    issued = reset_codes.issue(world["guide"], vendor, last4(vendor))
    db.session.commit()
    wrong = "12345678" if issued.code != "12345678" else "87654321"
    answers = [redeem(vendor, wrong) for _ in range(5)]
    assert all(isinstance(a, login_limits.WrongCredentials) for a in answers)
    assert answers[0].tries_left == 4
    locked = redeem(vendor, issued.code)  # even the right code waits
    assert isinstance(locked, login_limits.TooManyAttempts)
    failed = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("user.%_failed"))
    ).all()
    assert failed == ["user.reset_code_failed"] * 4
    fresh = reset_codes.issue(world["guide"], vendor, last4(vendor))  # checked in person again
    db.session.commit()
    assert redeem(vendor, fresh.code) == vendor


def test_a_weak_password_uses_nothing(world):
    vendor = world["vendor"]
    issued = reset_codes.issue(world["guide"], vendor, last4(vendor))
    db.session.commit()
    answer = redeem(vendor, issued.code, password="12345678")
    assert isinstance(answer, InvalidInput) and answer.code == "weak_password"
    assert redeem(vendor, issued.code) == vendor


def test_issuing_is_limited_per_person_a_day(world, clock):
    vendor = world["vendor"]
    for _ in range(reset_codes.USER_LIMIT_PER_DAY):
        reset_codes.issue(world["guide"], vendor, last4(vendor))
    with pytest.raises(reset_codes.TooManyCodes):
        reset_codes.issue(world["cadre"], vendor, last4(vendor))
    clock.advance(hours=24, seconds=1)
    reset_codes.issue(world["cadre"], vendor, last4(vendor))


def test_candidates_are_the_people_one_may_issue_for(world):
    vendor = world["vendor"]
    found = reset_codes.candidates(world["guide"], vendor.phone[-6:])
    assert found == [vendor]
    assert reset_codes.candidates(world["guide"], world["cadre"].phone[-6:]) == []
    assert reset_codes.candidates(world["guide"], "") == []
