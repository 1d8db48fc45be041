"""Reopening a session closed too early: the close's effects undone by new records, the books
still verifying, and the scheduler leaving it open until its planned end."""

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import AuditEvent, CheckInState, LedgerEntry
from market.services.checkin import payments
from market.services.common.errors import Conflict, InvalidInput
from market.services.ledger import entries as ledger
from market.services.sessions import actions as session_actions
from market.services.sessions import takings
from market.services.sessions import tide as sessions
from tests import builders as b
from tests.ledger_helpers import NOW, balance, charged, community, entries, lines_of

CST = "+08:00"


@pytest.fixture
def w(ctx):
    return community()


def guide_key(w):
    return ledger.guide_cash_account(w["org"].id, w["guide"]).code


def refresh(obj):
    db.session.refresh(obj)
    return obj


def reopen_events(session) -> list[dict]:
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "session.reopened", AuditEvent.object_id == session.id
        )
    ).all()
    return [json.loads(e.detail) | {"actor_id": e.actor_id} for e in events]


def test_reopen_after_an_early_close_undoes_it_by_new_records(w):
    org_id, s, cadre = w["org"].id, w["session"], w["cadre"]
    s.opened_at = s.starts_at
    paid = charged(w, base_fen=1500)
    payments.record_cash(paid, 1500, w["guide"])
    owing = charged(w, base_fen=1500, relief_fen=500)  # asks 1000
    payments.record_cash(owing, 250, w["guide"])
    left = b.checkin(
        s, b.stall(w["zone"]), state="checked_out", left_at=NOW - timedelta(minutes=30)
    )
    left_charge = b.charge(left, base_fen=1000)  # left early without paying
    before = takings.session_takings(s)

    session_actions.close_now(s, now=NOW + timedelta(minutes=10), actor=cadre)
    close = entries(org_id)[-1]
    assert close.source_key == f"session-close:{s.id}"
    assert balance(org_id, "receivables") == 750 + 1000
    assert refresh(owing).receivable_at is not None
    assert refresh(owing.checkin).state == CheckInState.CHECKED_OUT

    reopened_at = NOW + timedelta(minutes=20)
    session_actions.reopen(s, "  关错了  ", now=reopened_at, actor=cadre)
    assert (s.state, s.closed_at, s.change_note, s.changed_by_id) == (
        "open",
        None,
        "reopened",
        cadre.id,
    )
    assert s.opened_at == s.starts_at  # the evening's own opening is kept
    # Who the close checked out is on the stall again; who had left stays gone.
    for c in (paid, owing):
        checkin = refresh(c.checkin)
        assert (checkin.state, checkin.left_at, checkin.checked_out_by_id) == ("active", None, None)
    assert refresh(left).state == CheckInState.CHECKED_OUT
    # Receivables are unpaid charges again, and the takings read as before the close.
    assert refresh(owing).receivable_at is None and refresh(left_charge).receivable_at is None
    assert takings.session_takings(s) == before
    # The ledger: a new entry reversing the close, the close itself untouched.
    reopen_entry = entries(org_id)[-1]
    assert reopen_entry.source_key == f"session-reopen:{s.id}"
    assert reopen_entry.reverses_id == close.id
    assert lines_of(reopen_entry) == {
        ("fee_income", 1750 + 500, 0),
        ("receivables", 0, 1750),
        ("fee_relief", 0, 500),
    }
    assert lines_of(refresh(close)) == {
        ("receivables", 1750, 0),
        ("fee_relief", 500, 0),
        ("fee_income", 0, 2250),
    }
    assert balance(org_id, "receivables") == 0 and balance(org_id, "fee_relief") == 0
    assert balance(org_id, "fee_income") == 1500 + 250  # only what was paid
    assert ledger.verify().ok
    [event] = reopen_events(s)
    assert event["reason"] == "关错了" and event["actor_id"] == cadre.id
    assert event["resumed"] == sorted([paid.checkin_id, owing.checkin_id])
    assert event["unmarked"] == sorted([owing.id, left_charge.id])

    # Open again: money taken now is plain fee income, and the tick leaves it open.
    payments.record_cash(owing, 750, w["guide"])
    assert lines_of(entries(org_id)[-1]) == {(guide_key(w), 750, 0), ("fee_income", 0, 750)}
    assert sessions.reconcile(reopened_at + timedelta(minutes=5)).closed == []
    assert refresh(s).state == "open"
    # At its planned end it closes as any evening does, posting a close of its own.
    report = sessions.reconcile(s.ends_at)
    assert len(report.closed) == 1 and refresh(s).state == "closed"
    second = entries(org_id)[-1]
    assert second.source_key == f"session-close:{s.id}/2"
    assert lines_of(second) == {
        ("receivables", 1000, 0),
        ("fee_relief", 500, 0),
        ("fee_income", 0, 1500),
    }
    assert balance(org_id, "receivables") == 1000  # the one who left without paying
    assert balance(org_id, "fee_income") == 1500 + 1500 + 1000  # every charge's base, once
    assert ledger.verify().ok


def test_money_booked_against_receivables_before_the_reopen_is_kept(w):
    """Paid and voided while closed: the reversal takes back what receivables still hold, not
    what the close debited, so nothing is counted twice."""
    org_id, s, cadre = w["org"].id, w["session"], w["cadre"]
    a = charged(w, base_fen=1000)
    early = payments.record_cash(a, 200, w["guide"])
    c = charged(w, base_fen=800)
    session_actions.close_now(s, now=NOW, actor=cadre)
    assert balance(org_id, "receivables") == 800 + 800
    payments.record_cash(c, 300, w["guide"])  # pays part of a receivable
    payments.void(early, cadre, "假币")  # the debit goes to receivables: owed again
    assert balance(org_id, "receivables") == 1000 + 500

    session_actions.reopen(s, "误关", now=NOW + timedelta(minutes=5), actor=cadre)
    assert balance(org_id, "receivables") == 0
    assert balance(org_id, "fee_income") == 300  # what is really paid
    assert refresh(a).receivable_at is None and refresh(c).receivable_at is None
    session_actions.close_now(s, now=NOW + timedelta(minutes=30), actor=cadre)
    assert balance(org_id, "receivables") == 1000 + 500
    assert balance(org_id, "fee_income") == 1800
    assert ledger.verify().ok


def test_reopen_is_refused_after_the_planned_end(w):
    s, cadre = w["session"], w["cadre"]
    c = charged(w)
    session_actions.close_now(s, now=NOW, actor=cadre)
    count = len(entries(w["org"].id))
    with pytest.raises(Conflict) as e:
        session_actions.reopen(s, "太晚了", now=s.ends_at + timedelta(minutes=1), actor=cadre)
    assert e.value.code == "session_over"
    assert refresh(s).state == "closed" and refresh(c).receivable_at is not None
    assert refresh(c.checkin).state == CheckInState.CHECKED_OUT
    assert len(entries(w["org"].id)) == count and reopen_events(s) == []


def test_reopen_is_refused_for_a_session_closed_at_its_normal_time(w):
    s, cadre = w["session"], w["cadre"]
    charged(w)
    sessions.reconcile(s.ends_at)  # the scheduler closes it at its end, as every evening
    assert refresh(s).state == "closed" and s.closed_at == s.ends_at
    with pytest.raises(Conflict) as e:
        session_actions.reopen(s, "再开", now=s.ends_at + timedelta(minutes=2), actor=cadre)
    assert e.value.code == "session_over" and refresh(s).state == "closed"


def test_reopen_needs_a_reason_and_a_closed_session(w):
    s, cadre = w["session"], w["cadre"]
    with pytest.raises(Conflict) as e:
        session_actions.reopen(s, "开着呢", now=NOW, actor=cadre)
    assert e.value.code == "not_closed"
    session_actions.close_now(s, now=NOW, actor=cadre)
    with pytest.raises(InvalidInput) as e:
        session_actions.reopen(s, " ", now=NOW, actor=cadre)
    assert e.value.code == "reason_required" and refresh(s).state == "closed"
    assert (
        db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.source_key.like("session-reopen:%"))
        ).all()
        == []
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_clock_days_ahead_closed_tonight_and_the_next_evenings(ctx):
    """What the issue saw: a tick at the 9th on the 6th. Tonight's session reopens as open;
    a later one whose start is still ahead goes back to the plan and opens on time."""
    market = b.market()
    b.template(market)
    sessions.reconcile(at(f"2026-12-06T18:05{CST}"))
    tonight = sessions.current_session(market.id, at(f"2026-12-06T18:05{CST}"))
    owing = b.charge(b.checkin(tonight), base_fen=1200)
    sessions.reconcile(at(f"2026-12-09T12:00{CST}"))  # the wrong clock
    tomorrow = db.session.scalar(
        sessions.sessions_between(market, date(2026, 12, 7), date(2026, 12, 7))
    )
    assert refresh(tonight).state == "closed" and refresh(tomorrow).state == "closed"
    assert refresh(owing).receivable_at is not None
    cadre = b.user(organization=market.organization)
    real = at(f"2026-12-06T18:30{CST}")
    session_actions.reopen(tonight, "时钟错了", now=real, actor=cadre)
    session_actions.reopen(tomorrow, "时钟错了", now=real, actor=cadre)
    assert tonight.state == "open" and refresh(owing.checkin).state == CheckInState.ACTIVE
    assert (tomorrow.state, tomorrow.opened_at, tomorrow.closed_at) == ("scheduled", None, None)
    assert sessions.reconcile(real + timedelta(minutes=1)).closed == []
    report = sessions.reconcile(at(f"2026-12-07T18:01{CST}"))
    assert refresh(tonight).state == "closed" and refresh(tomorrow).state == "open"
    assert len(report.closed) == 1 and len(report.opened) == 1


def test_a_future_session_a_wrong_tick_opened_goes_back_to_the_plan(ctx):
    """A wrong tick in the evening also opens the evening it believes is tonight: the cadre
    closes it now and reopens it, and it is planned again (then tonight can reopen)."""
    market = b.market()
    b.template(market)
    sessions.reconcile(at(f"2026-12-06T18:05{CST}"))
    tonight = sessions.current_session(market.id, at(f"2026-12-06T18:05{CST}"))
    sessions.reconcile(at(f"2026-12-09T19:00{CST}"))
    ninth = sessions.current_session(market.id, at(f"2026-12-09T19:00{CST}"))
    assert ninth.state == "open" and refresh(tonight).state == "closed"
    cadre = b.user(organization=market.organization)
    real = at(f"2026-12-06T18:30{CST}")
    with pytest.raises(Conflict) as e:
        session_actions.reopen(tonight, "时钟错了", now=real, actor=cadre)
    assert e.value.code == "other_session_open"
    session_actions.close_now(ninth, now=real, actor=cadre)
    session_actions.reopen(ninth, "时钟错了", now=real, actor=cadre)
    assert (ninth.state, ninth.opened_at) == ("scheduled", None)
    session_actions.reopen(tonight, "时钟错了", now=real, actor=cadre)
    assert tonight.state == "open"
