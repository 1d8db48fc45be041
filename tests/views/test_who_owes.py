"""Who owes on the session page, the daily takings and the guide's shift: stall, vendor (the
phone masked for a guide), amount unpaid, since when."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Market, Stall
from market.services.common.clock import FixedClock
from tests import builders
from tests.trade import DAY1

NOW = datetime(2026, 11, 2, 11, 30, tzinfo=UTC)  # 19:30 in Shanghai, on DAY1


@pytest.fixture
def owed(demo_app):
    """Tonight in the demo market: 王五五 owes 13 yuan at A-01 (3 reported by code), and a
    fee paid in full at A-02."""
    demo_app.config["CLOCK"] = FixedClock(NOW)
    with demo_app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        stalls = {s.code: s for s in db.session.scalars(select(Stall))}
        s = builders.session(
            market,
            starts_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
            business_date=DAY1,
            state="open",
            opened_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        )
        debtor = builders.vendor(market.organization, status="approved")
        debtor.user.name, debtor.user.phone = "王五五", "13912345678"
        ci = builders.checkin(s, stalls["A-01"], debtor, arrived_at=NOW)
        c = builders.charge(ci, base_fen=1300)
        builders.payment(c, 300, method="collection_code", confirmed=False, by=debtor.user)
        paid = builders.charge(builders.checkin(s, stalls["A-02"]), base_fen=1000)
        builders.payment(paid, 1000)
        db.session.commit()
        return {"session": s.id, "market": market.id}


def _owes(html: str) -> str:
    assert "Who owes" in html
    return html.split("Who owes", 1)[1].split("</section>")[0]


def test_the_session_page_lists_who_owes_with_the_phone_for_a_cadre(client, auth, owed):
    auth.login("13800000001")
    part = _owes(client.get(f"/sessions/{owed['session']}?lang=en").text)
    assert "Stalls owing: 1, ¥13.00 in all." in part
    assert "A-01" in part and "王五五" in part and "13912345678" in part
    assert "¥13.00" in part and "To confirm ¥3.00" in part
    assert "11-02 19:30" in part  # since when, in the market's time
    assert "A-02" not in part  # paid in full


def test_a_guide_sees_the_number_masked(client, auth, owed):
    auth.login("13800000002")
    part = _owes(client.get(f"/sessions/{owed['session']}?lang=en").text)
    assert "王五五" in part and "139****5678" in part and "13912345678" not in part


def test_the_daily_takings_list_who_owes(client, auth, owed):
    auth.login("13800000001")
    page = client.get(f"/reports/markets/{owed['market']}/daily?date=2026-11-02&lang=en")
    part = _owes(page.text)
    assert "王五五" in part and "¥13.00" in part and "13912345678" in part
    empty = client.get(f"/reports/markets/{owed['market']}/daily?date=2026-11-01&lang=en")
    assert "Who owes" not in empty.text  # no session that day


def test_the_guides_shift_lists_who_owes_masked(client, auth, owed):
    auth.login("13800000002")
    page = client.get("/guide/shift?lang=en")
    assert page.status_code == 200
    part = _owes(page.text)
    assert f'id="who-owes-{owed["market"]}"' in page.text
    assert "A-01" in part and "139****5678" in part and "13912345678" not in part
    board = client.get(f"/guide/markets/{owed['market']}/board?lang=en").text
    assert f'href="/guide/shift#who-owes-{owed["market"]}"' in board


def test_nobody_owing_says_so(client, auth, owed, demo_app):
    with demo_app.app_context():
        s = builders.session(
            db.session.get(Market, owed["market"]),
            starts_at=datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
            business_date=DAY1.replace(day=3),
        )
        c = builders.charge(builders.checkin(s))
        builders.payment(c, 1000)
        db.session.commit()
        sid = s.id
    auth.login("13800000001")
    assert "Nobody owes anything." in _owes(client.get(f"/sessions/{sid}?lang=en").text)
