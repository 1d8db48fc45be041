"""Reports add up to what services.takings says, in SQL, for any range."""

import inspect
from datetime import date

import pytest

from market.services.common.errors import InvalidInput, NotFound
from market.services.reports import histories, occupancy
from market.services.reports import summaries as reports
from market.services.sessions import takings
from tests import builders
from tests.trade import DAY1, DAY2, DAY3, TOTALS, handover, trade

SPAN = reports.DateRange(DAY1, DAY3)


@pytest.fixture
def market(ctx):
    mkt = builders.market()
    return mkt, trade(mkt)


def _from_takings(t: takings.SessionTakings) -> dict:
    return {
        "charges": t.charges,
        "expected": t.expected_fen,
        "cash": t.collected_fen["cash"],
        "code": t.collected_fen["collection_code"],
        "collected": t.collected_total_fen,
        "relief": t.relief_fen,
        "waived": t.waived_fen,
        "pending": t.pending_fen,
        "unpaid": t.unpaid_fen,
    }


def test_each_session_matches_session_takings(market):
    mkt, made = market
    rows = {r["session_id"]: r for r in reports.session_rows(mkt, SPAN)}
    held, cancelled = made["sessions"][:3], made["sessions"][3]
    # The cancelled session is a row, as on the daily page: its state and nothing in it.
    assert set(rows) == {s.id for s in made["sessions"]}
    assert rows[cancelled.id]["state"] == "cancelled" and rows[cancelled.id]["charges"] == 0
    assert rows[cancelled.id]["expected"] == rows[cancelled.id]["unpaid"] == 0
    for s in held:
        expected = _from_takings(takings.session_takings(s))
        assert {k: rows[s.id][k] for k in expected} == expected


def test_monthly_totals_match_the_hand_worked_figures_and_takings(market):
    mkt, made = market
    summary = reports.monthly_summary(mkt, reports.parse_month("2026-11", DAY1))
    assert [d["date"] for d in summary.days] == [DAY1, DAY2]
    assert summary.days[0]["sessions"] == 2
    assert {k: summary.totals[k] for k in TOTALS} == TOTALS
    by_takings = reports.totals_of(
        [reports.SessionDay(s, takings.session_takings(s)) for s in made["sessions"]]
    )
    assert {k: summary.totals[k] for k in by_takings} == by_takings


def test_daily_takings_lists_every_session_of_the_day(market):
    mkt, made = market
    found = reports.daily_takings(mkt, DAY1)
    assert [d.session.id for d in found] == [made["sessions"][1].id, made["sessions"][0].id]
    totals = reports.totals_of(found)
    assert totals["expected"] == 3800 and totals["waived"] == 800 and totals["unpaid"] == 400


def test_other_markets_and_dates_are_left_out(market):
    mkt, made = market
    other = builders.market(organization=mkt.organization)
    trade(other, vendor_names=("周四", "吴五", "郑六"))
    assert reports.monthly_summary(mkt, SPAN).totals["expected"] == 6000
    on_day3 = list(reports.session_rows(mkt, reports.DateRange(DAY3, DAY3)))
    assert [(r["state"], r["charges"]) for r in on_day3] == [("cancelled", 0)]


def test_occupancy_by_stall_and_zone(market):
    mkt, made = market
    assert occupancy.held_sessions(mkt, SPAN) == 3  # the cancelled one does not count
    stalls = {r["stall"]: r for r in occupancy.stall_rows(mkt, SPAN)}
    assert {k: (r["used"], r["held"]) for k, r in stalls.items()} == {
        "A-01": (3, 3),
        "A-02": (1, 3),
        "B-01": (2, 3),
    }
    zones = {z["zone"]: z for z in occupancy.zone_rows(mkt, SPAN)}
    assert zones["A 熟食"]["used"] == 4 and zones["A 熟食"]["possible"] == 6
    assert zones["B 果蔬"]["rate"] == pytest.approx(2 / 3)


def test_vendor_history(market):
    mkt, made = market
    v1 = made["vendors"][0]
    rows = list(histories.vendor_rows(mkt, v1, SPAN))
    assert [(r["date"], r["stall"], r["expected"], r["unpaid"]) for r in rows] == [
        (DAY1, "A-01", 800, 0),  # the morning session starts first
        (DAY1, "A-01", 1500, 0),
        (DAY2, "B-01", 1000, 600),
    ]
    assert rows[0]["waived"] == 800
    with pytest.raises(NotFound):
        histories.vendor_of(mkt, builders.vendor().id)  # another community's vendor


def test_handovers_with_differences(market):
    mkt, made = market
    handover(mkt, made["guide"], 2100, received=2000, cadre=made["cadre"]).note = "少一元"
    handover(mkt, made["guide"], 400)
    table = histories.handovers_table(mkt, SPAN)
    rows = list(table.walk())
    assert [(r["expected"], r["received"], r["difference"], r["note"]) for r in rows] == [
        (2100, 2000, -100, "少一元"),  # the shortfall note is in the report
        (400, None, None, ""),
    ]
    assert table.totals["expected"] == 2500 and table.totals["difference"] == -100


def test_rows_are_generated_not_listed(market):
    mkt, _made = market
    for table in (reports.sessions_table(mkt, SPAN), reports.days_table(mkt, SPAN)):
        assert inspect.isgenerator(table.rows)


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        ("2026-13-01", None, "invalid_date"),
        ("yesterday", None, "invalid_date"),
        ("1900-01-01", None, "invalid_date"),
        ("2026-11-05", "2026-11-01", "invalid_range"),
        ("2020-01-01", "2026-01-01", "invalid_range"),
    ],
)
def test_bad_ranges_are_refused(first, last, code):
    with pytest.raises(InvalidInput) as caught:
        reports.parse_range(first, last, date(2026, 11, 23))
    assert caught.value.code == code


@pytest.mark.parametrize("text", ["2026-13", "2026", "26-11", "abcd-ef", "2026-1-1", "9999-01"])
def test_bad_months_are_refused(text):
    with pytest.raises(InvalidInput):
        reports.parse_month(text, date(2026, 11, 23))


def test_month_and_default_range():
    assert reports.parse_month("2024-02", date(2026, 1, 1)) == reports.DateRange(
        date(2024, 2, 1), date(2024, 2, 29)
    )
    span = reports.parse_range(None, None, date(2026, 11, 23))
    assert span.last == date(2026, 11, 23) and span.days == 30
