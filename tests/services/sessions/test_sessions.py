"""Sessions: generation in the market's zone, reconcile with the clock, close effects once,
cadre actions, closures and template edits. Time is always given, never slept for."""

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, CheckInState, MarketSession
from market.services.common.errors import Conflict, InvalidInput
from market.services.sessions import actions as session_actions
from market.services.sessions import closures, takings
from market.services.sessions import templates as session_templates
from market.services.sessions import tide as sessions
from tests import builders as b

CST = "+08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def all_sessions(market) -> list[MarketSession]:
    return list(
        db.session.scalars(
            select(MarketSession)
            .where(MarketSession.market_id == market.id)
            .order_by(MarketSession.starts_at)
        )
    )


def on(market, day: date, kind="night") -> MarketSession:
    return db.session.scalar(
        select(MarketSession).where(
            MarketSession.market_id == market.id,
            MarketSession.business_date == day,
            MarketSession.kind == kind,
        )
    )


def audits(action: str, obj) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.object_id == obj.id)
    )


def refresh(obj):
    db.session.refresh(obj)
    return obj


@pytest.fixture
def night(ctx):
    """A Shanghai market with a night session 18:00–22:30 every day."""
    market = b.market()
    return market, b.template(market)


# --- generation ------------------------------------------------------------------------------


def test_generates_fourteen_days_ahead_and_only_once(night):
    market, _ = night
    report = sessions.reconcile(at(f"2026-11-23T10:00{CST}"))
    days = [s.business_date for s in all_sessions(market)]
    assert days == [date(2026, 11, 23) + timedelta(days=i) for i in range(15)]
    assert report.generated == 15
    again = sessions.reconcile(at(f"2026-11-23T10:01{CST}"))
    assert again.generated == 0 and again.lines()[1] == "generated 0 session(s)"
    assert len(all_sessions(market)) == 15


def test_times_are_stored_in_utc_and_business_date_is_local(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T10:00{CST}"))
    s = on(market, date(2026, 11, 24))
    assert s.starts_at == at("2026-11-24T10:00+00:00")
    assert s.ends_at == at("2026-11-24T14:30+00:00")
    assert s.cutoff_at == at("2026-11-24T10:30+00:00")


def test_cross_midnight_session_belongs_to_the_day_it_starts(ctx):
    market = b.market()
    b.template(market, end_local=time(1, 0), cutoff_minutes=60)
    sessions.reconcile(at(f"2026-11-23T12:00{CST}"))
    s = on(market, date(2026, 11, 23))
    assert s.starts_at == at(f"2026-11-23T18:00{CST}")
    assert s.ends_at == at(f"2026-11-24T01:00{CST}")
    # Half past midnight: still the 23rd's session, open; the 24th's is only scheduled.
    report = sessions.reconcile(at(f"2026-11-24T00:30{CST}"))
    assert refresh(s).state == "open" and len(report.opened) == 1
    assert on(market, date(2026, 11, 24)).state == "scheduled"
    status = sessions.market_status(market, at(f"2026-11-24T00:30{CST}"))
    assert status.is_open and status.current.business_date == date(2026, 11, 23)
    sessions.reconcile(at(f"2026-11-24T01:00{CST}"))
    assert refresh(s).state == "closed" and s.closed_at == s.ends_at


def test_no_sessions_created_after_the_fact(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T23:00{CST}"))  # tonight's is over: not created
    assert on(market, date(2026, 11, 23)) is None
    assert on(market, date(2026, 11, 24)).state == "scheduled"


def test_weekdays_and_active_dates(ctx):
    market = b.market()
    weekend = 32 | 64
    b.template(
        market,
        kind="morning",
        weekdays=weekend,
        start_local=time(6),
        end_local=time(8, 30),
        valid_from=date(2026, 11, 28),
        valid_until=date(2026, 12, 5),
    )
    sessions.reconcile(at(f"2026-11-23T05:00{CST}"))
    days = [s.business_date for s in all_sessions(market)]
    assert days == [date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 5)]


# --- time zones with daylight saving ---------------------------------------------------------


def test_europe_berlin_across_spring_forward(ctx):
    market = b.market(timezone="Europe/Berlin")
    b.template(market, end_local=time(1, 0))
    sessions.reconcile(at("2026-03-27T12:00+01:00"))
    before, after = on(market, date(2026, 3, 28)), on(market, date(2026, 3, 29))
    assert before.starts_at == at("2026-03-28T17:00+00:00")  # 18:00 CET
    assert before.ends_at == at("2026-03-29T00:00+00:00")  # 01:00 CET, before the change
    assert after.starts_at == at("2026-03-29T16:00+00:00")  # 18:00 CEST
    assert after.ends_at - after.starts_at == timedelta(hours=7)


def test_times_in_the_spring_forward_gap(ctx):
    """02:00–03:00 does not exist on 29 March in Berlin: a time in it moves an hour on (as
    the clocks do); a session that would end before it starts is left out that day."""
    shifted, reversed_ = b.market(timezone="Europe/Berlin"), b.market(timezone="Europe/Berlin")
    b.template(shifted, start_local=time(2, 15), end_local=time(2, 45), cutoff_minutes=0)
    b.template(reversed_, start_local=time(2, 30), end_local=time(3, 15), cutoff_minutes=0)
    sessions.reconcile(at("2026-03-27T12:00+01:00"))
    s = on(shifted, date(2026, 3, 29))
    assert (s.starts_at, s.ends_at) == (at("2026-03-29T03:15+02:00"), at("2026-03-29T03:45+02:00"))
    days = {s.business_date for s in all_sessions(reversed_)}
    assert date(2026, 3, 28) in days and date(2026, 3, 30) in days
    assert date(2026, 3, 29) not in days


def test_new_york_fall_back_makes_a_longer_night(ctx):
    market = b.market(timezone="America/New_York")
    b.template(market, start_local=time(22), end_local=time(2), cutoff_minutes=30)
    sessions.reconcile(at("2026-10-30T12:00-04:00"))
    s = on(market, date(2026, 10, 31))
    assert s.starts_at == at("2026-11-01T02:00+00:00")  # 22:00 EDT
    assert s.ends_at == at("2026-11-01T07:00+00:00")  # 02:00 EST: five hours of market
    # One tick at 01:30 (the second time round, EST) leaves it open, another at 02:00 closes it.
    sessions.reconcile(at("2026-11-01T01:30-05:00"))
    assert refresh(s).state == "open"
    sessions.reconcile(at("2026-11-01T02:00-05:00"))
    assert refresh(s).state == "closed"


# --- reconcile: catching up, close effects once ----------------------------------------------


def test_catch_up_after_thirty_hours_down_with_close_effects_once(night):
    market, _ = night
    t0 = at(f"2026-11-23T18:05{CST}")
    sessions.reconcile(t0)
    tonight = on(market, date(2026, 11, 23))
    assert tonight.state == "open" and tonight.opened_at == tonight.starts_at
    unpaid = b.charge(b.checkin(tonight), base_fen=1500)
    b.payment(unpaid, 500)
    paid = b.charge(b.checkin(tonight), base_fen=1000)
    b.payment(paid, 1000, method="collection_code")

    report = sessions.reconcile(t0 + timedelta(hours=30))  # 2026-11-25 00:05
    tomorrow = on(market, date(2026, 11, 24))
    assert [refresh(tonight).state, refresh(tomorrow).state] == ["closed", "closed"]
    assert tomorrow.opened_at == tomorrow.starts_at and tomorrow.closed_at == tomorrow.ends_at
    assert len(report.closed) == 2 and report.opened == []
    for c in (unpaid, paid):
        checkin = refresh(c.checkin)
        assert checkin.state == CheckInState.CHECKED_OUT and checkin.left_at == tonight.ends_at
    assert refresh(unpaid).receivable_at == tonight.ends_at
    assert refresh(paid).receivable_at is None

    for minutes in (1, 2, 60):
        assert sessions.reconcile(t0 + timedelta(hours=30, minutes=minutes)).closed == []
    assert audits("session.closed", tonight) == 1
    assert audits("session.closed", tomorrow) == 1
    assert audits("session.opened", tonight) == 1


def test_takings_of_a_session(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T18:05{CST}"))
    s = on(market, date(2026, 11, 23))
    a = b.charge(b.checkin(s), base_fen=1500, relief_fen=500)  # owes 1000
    wrong = b.payment(a, 600)
    b.payment(a, 600, reverses_id=wrong.id)  # a mistake undone
    b.payment(a, 500)
    b.payment(a, 300, method="collection_code", confirmed=False)  # reported, unconfirmed
    c = b.charge(b.checkin(s), base_fen=800)
    b.payment(c, 800, method="waiver", note="低保")
    t = takings.session_takings(s)
    assert t.charges == 2 and t.expected_fen == 1800 and t.relief_fen == 500
    assert t.collected_fen == {"cash": 500, "collection_code": 0}
    assert (t.waived_fen, t.pending_fen, t.unpaid_fen) == (800, 300, 500)
    assert t.as_dict()["collected_total_fen"] == 500


def test_reserved_stalls_are_released_once_past_the_cutoff(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T18:05{CST}"))
    s = on(market, date(2026, 11, 23))
    assert s.reservations_released_at is None
    report = sessions.reconcile(at(f"2026-11-23T18:31{CST}"))
    assert len(report.released) == 1 and s.reservations_released_at is not None
    assert sessions.reconcile(at(f"2026-11-23T18:45{CST}")).released == []


def test_a_market_with_a_broken_zone_does_not_stop_the_others(night):
    good, _ = night
    bad = b.market(timezone="Asia/Shangai")
    b.template(bad)
    report = sessions.reconcile(at(f"2026-11-23T10:00{CST}"))
    assert report.errors == [f"generate {bad.slug}"]
    assert len(all_sessions(good)) == 15 and all_sessions(bad) == []


# --- templates -------------------------------------------------------------------------------


def values(**kw) -> dict:
    v = {
        "name": "夜市",
        "kind": "night",
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "start_local": time(18),
        "end_local": time(22),
        "cutoff_minutes": 30,
        "valid_from": date(2026, 1, 1),
        "valid_until": None,
        "is_active": True,
    }
    v.update(kw)
    return v


NOW = at(f"2026-11-23T12:00{CST}")


@pytest.mark.parametrize(
    ("bad", "field", "code"),
    [
        ({"end_local": time(18)}, "end_local", "end_equals_start"),
        ({"weekdays": [1, 8]}, "weekdays", "invalid_weekday"),
        ({"weekdays": []}, "weekdays", "no_weekday"),
        ({"cutoff_minutes": 240}, "cutoff_minutes", "cutoff_after_end"),
        ({"kind": "evening"}, "kind", None),
        ({"valid_until": date(2025, 1, 1)}, "valid_until", None),
    ],
)
def test_bad_template_input(ctx, bad, field, code):
    market = b.market()
    with pytest.raises(InvalidInput) as e:
        session_templates.save_template(market, values(**bad), now=NOW)
    assert e.value.field == field
    assert code is None or e.value.code == code


def test_unknown_zone_name_is_refused_clearly(ctx):
    market = b.market(timezone="Asia/Shangai")
    with pytest.raises(InvalidInput) as e:
        session_templates.save_template(market, values(), now=NOW)
    assert e.value.code == "invalid_timezone" and "Asia/Shangai" in str(e.value.message)


def test_cutoff_may_fall_after_midnight_in_a_cross_midnight_session(ctx):
    market = b.market()
    t, plan = session_templates.save_template(
        market, values(end_local=time(1), cutoff_minutes=360), now=NOW
    )
    assert plan["generated"] == 15
    with pytest.raises(InvalidInput):
        session_templates.save_template(market, {"cutoff_minutes": 420}, t, now=NOW)


def test_overlapping_regular_templates_are_refused_but_special_replaces(ctx):
    market = b.market()
    session_templates.save_template(market, values(), now=NOW)
    with pytest.raises(Conflict) as e:
        session_templates.save_template(
            market, values(name="晚场", start_local=time(21), end_local=time(23)), now=NOW
        )
    assert e.value.code == "template_overlap"
    # Sunday night 23:00–01:00 wraps into Monday: still an overlap with a Monday 00:30 start.
    session_templates.save_template(
        market, values(name="周日", weekdays=[7], start_local=time(23), end_local=time(1)), now=NOW
    )
    with pytest.raises(Conflict):
        session_templates.save_template(
            market,
            values(name="早", weekdays=[1], start_local=time(0, 30), end_local=time(2)),
            now=NOW,
        )
    special, _ = session_templates.save_template(
        market,
        values(
            name="中秋",
            kind="special",
            start_local=time(17),
            end_local=time(23, 30),
            valid_from=date(2026, 11, 26),
            valid_until=date(2026, 11, 26),
        ),
        now=NOW,
    )
    thursday = [s for s in all_sessions(market) if s.business_date == date(2026, 11, 26)]
    assert [(s.kind, s.template_id) for s in thursday] == [("special", special.id)]
    assert on(market, date(2026, 11, 25)).kind == "night"


def test_template_edit_moves_only_untouched_future_sessions(ctx):
    market = b.market()
    t, _ = session_templates.save_template(market, values(), now=NOW)
    sessions.reconcile(at(f"2026-11-23T18:05{CST}"))
    open_now = on(market, date(2026, 11, 23))
    extended = on(market, date(2026, 11, 25))
    session_actions.extend(extended, at(f"2026-11-25T23:00{CST}"), now=NOW)
    cancelled = on(market, date(2026, 11, 26))
    session_actions.cancel(cancelled, "暴雨", now=NOW)

    edit_at = at(f"2026-11-23T18:10{CST}")
    _, plan = session_templates.save_template(
        market, {"start_local": time(19), "end_local": time(23)}, t, now=edit_at
    )
    assert plan["moved"] == 12 and plan["dropped"] == 0  # 24th, 27th … 7th
    assert refresh(open_now).starts_at == at(f"2026-11-23T18:00{CST}")
    assert refresh(extended).ends_at == at(f"2026-11-25T23:00{CST}")
    assert refresh(extended).starts_at == at(f"2026-11-25T18:00{CST}")
    assert refresh(cancelled).state == "cancelled"
    assert on(market, date(2026, 11, 24)).starts_at == at(f"2026-11-24T19:00{CST}")

    # Mondays off: the untouched Monday ahead goes, Monday the 23rd (open) stays.
    _, plan = session_templates.save_template(
        market, {"weekdays": [2, 3, 4, 5, 6, 7]}, t, now=edit_at
    )
    assert plan["dropped"] == 2  # 30 Nov and 7 Dec
    assert on(market, date(2026, 11, 30)) is None and refresh(open_now).state == "open"


def test_removing_a_template(ctx):
    market = b.market()
    unused, _ = session_templates.save_template(
        market, values(valid_from=date(2027, 1, 1)), now=NOW
    )
    assert session_templates.remove_template(unused, now=NOW) == "deleted"
    used, _ = session_templates.save_template(market, values(), now=NOW)
    sessions.reconcile(at(f"2026-11-23T23:00{CST}"))  # tonight's closes: now it has history
    assert session_templates.remove_template(used, now=at(f"2026-11-23T23:00{CST}")) == (
        "deactivated"
    )
    assert [s.state for s in all_sessions(market)] == ["closed"]
    assert sessions.reconcile(at(f"2026-11-24T10:00{CST}")).generated == 0


# --- cadre actions ---------------------------------------------------------------------------


def test_cancel_an_open_session_checks_everyone_out(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T18:05{CST}"))
    s = on(market, date(2026, 11, 23))
    c = b.charge(b.checkin(s), base_fen=1000)
    cadre = b.user()
    with pytest.raises(InvalidInput) as e:
        session_actions.cancel(s, "  ", now=at(f"2026-11-23T19:00{CST}"), actor=cadre)
    assert e.value.code == "reason_required"
    rain = at(f"2026-11-23T19:00{CST}")
    session_actions.cancel(s, "暴雨", now=rain, actor=cadre)
    assert (s.state, s.cancel_reason, s.closed_at, s.changed_by_id) == (
        "cancelled",
        "暴雨",
        rain,
        cadre.id,
    )
    assert refresh(c.checkin).left_at == rain and refresh(c).receivable_at == rain
    assert audits("session.cancelled", s) == 1
    with pytest.raises(Conflict):
        session_actions.cancel(s, "again", now=rain)
    sessions.reconcile(at(f"2026-11-23T23:00{CST}"))
    assert refresh(s).state == "cancelled" and audits("session.closed", s) == 0
    status = sessions.market_status(market, at(f"2026-11-23T20:00{CST}"))
    assert not status.is_open and status.cancelled.id == s.id
    assert status.day_word(status.cancelled) == "tonight"
    assert status.upcoming.business_date == date(2026, 11, 24)


def test_open_early_close_early_extend_reinstate(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T10:00{CST}"))
    s = on(market, date(2026, 11, 23))
    with pytest.raises(Conflict) as e:
        session_actions.open_now(s, now=at(f"2026-11-23T11:00{CST}"))
    assert e.value.code == "too_early"
    session_actions.open_now(s, now=at(f"2026-11-23T17:30{CST}"))
    assert s.state == "open" and s.opened_at == at(f"2026-11-23T17:30{CST}") and s.is_manual
    assert sessions.reconcile(at(f"2026-11-23T18:00{CST}")).opened == []

    with pytest.raises(Conflict) as e:  # 18:00 the next day is the next session
        session_actions.extend(s, at(f"2026-11-24T18:30{CST}"), now=at(f"2026-11-23T20:00{CST}"))
    assert e.value.code == "overlaps_next"
    later = session_actions.end_for_local_time(s, time(23, 30))
    assert later == at(f"2026-11-23T23:30{CST}")
    session_actions.extend(s, later, now=at(f"2026-11-23T20:00{CST}"))
    assert sessions.reconcile(at(f"2026-11-23T22:45{CST}")).closed == []
    session_actions.close_now(s, now=at(f"2026-11-23T23:00{CST}"))
    assert (s.state, s.closed_at, s.ends_at) == ("closed", at(f"2026-11-23T23:00{CST}"), later)
    with pytest.raises(Conflict):
        session_actions.close_now(s, now=at(f"2026-11-23T23:01{CST}"))

    tomorrow = on(market, date(2026, 11, 24))
    session_actions.cancel(tomorrow, "道路施工", now=at(f"2026-11-23T23:00{CST}"))
    session_actions.reinstate(tomorrow, now=at(f"2026-11-23T23:05{CST}"))
    assert (tomorrow.state, tomorrow.cancel_reason) == ("scheduled", None)


def test_extend_past_midnight_by_local_time(ctx):
    market = b.market()
    b.template(market, end_local=time(23))
    sessions.reconcile(at(f"2026-11-23T10:00{CST}"))
    s = on(market, date(2026, 11, 23))
    assert session_actions.end_for_local_time(s, time(0, 30)) == at(f"2026-11-24T00:30{CST}")


# --- closures and status ---------------------------------------------------------------------


def test_closure_over_dates_beyond_the_horizon_and_lifting_it(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T10:00{CST}"))
    closure, counts = closures.add_closure(
        market, date(2026, 12, 5), date(2026, 12, 12), "春节休市", now=NOW
    )
    assert counts == {"cancelled": 3, "left_open": 0}  # 5th–7th exist so far
    sessions.reconcile(at(f"2026-11-30T10:00{CST}"))  # the horizon now reaches the 14th
    states = {s.business_date: s.state for s in all_sessions(market)}
    assert all(states[date(2026, 12, d)] == "cancelled" for d in range(5, 13))
    assert states[date(2026, 12, 13)] == "scheduled"
    assert on(market, date(2026, 12, 9)).cancel_reason == "春节休市"
    status = sessions.market_status(market, at(f"2026-12-05T12:00{CST}"))
    assert status.cancelled.business_date == date(2026, 12, 5)
    assert status.upcoming.business_date == date(2026, 12, 13)

    restored = closures.lift_closure(closure, now=at(f"2026-12-06T12:00{CST}"))
    assert restored == 7  # the 6th (tonight) … the 12th; the 5th is past
    assert on(market, date(2026, 12, 5)).state == "cancelled"
    with pytest.raises(Conflict):
        closures.lift_closure(closure, now=NOW)


def test_closure_bad_input(night):
    market, _ = night
    with pytest.raises(InvalidInput):
        closures.add_closure(market, date(2026, 12, 5), date(2026, 12, 4), "x", now=NOW)
    with pytest.raises(InvalidInput):
        closures.add_closure(market, date(2026, 1, 5), date(2026, 1, 6), "x", now=NOW)
    with pytest.raises(InvalidInput):
        closures.add_closure(market, date(2026, 12, 5), date(2026, 12, 6), "", now=NOW)


def test_status_names_the_next_opening(night):
    market, _ = night
    sessions.reconcile(at(f"2026-11-23T10:00{CST}"))
    st = sessions.market_status(market, at(f"2026-11-23T10:00{CST}"))
    assert not st.is_open and st.day_word(st.upcoming) == "tonight"
    st = sessions.market_status(market, at(f"2026-11-23T18:00{CST}"))  # before the tick
    assert st.is_open and st.current.business_date == date(2026, 11, 23)
    st = sessions.market_status(market, at(f"2026-11-23T23:00{CST}"))
    assert st.day_word(st.upcoming) == "tomorrow"
    closures.add_closure(market, date(2026, 11, 24), date(2026, 11, 24), "检查", now=NOW)
    st = sessions.market_status(market, at(f"2026-11-23T23:00{CST}"))
    assert st.day_word(st.cancelled) == "tomorrow" and st.day_word(st.upcoming) == "other"
