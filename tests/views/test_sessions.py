"""The cadre's session pages, the guide's read-only view, and the stall page's status line."""

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, MarketClosure, MarketSession, SessionTemplate, Stall
from market.services.common.clock import FixedClock
from market.services.sessions import closures
from market.services.sessions import tide as sessions
from tests import builders as b
from tests.conftest import csrf_from

MORNING_OF_MONDAY = datetime.fromisoformat("2026-11-23T10:00+08:00")


@pytest.fixture
def clock(demo_app):
    demo_app.config["CLOCK"] = clock = FixedClock(MORNING_OF_MONDAY)
    return clock


@pytest.fixture
def ids(demo_app):
    with demo_app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        stall = db.session.scalar(select(Stall).where(Stall.code == "A-01"))
        night = db.session.scalar(select(SessionTemplate).where(SessionTemplate.kind == "night"))
        return {"market": market.id, "token": stall.qr_token, "night": night.id}


def tick(app, at):
    with app.app_context():
        sessions.reconcile(at)
        db.session.commit()


def session_on(app, day, kind="night") -> MarketSession:
    with app.app_context():
        s = db.session.scalar(
            select(MarketSession).where(
                MarketSession.business_date == day, MarketSession.kind == kind
            )
        )
        db.session.expunge_all()
        return s


def post_form(client, page_url, data, url=None):
    page = client.get(page_url)
    return client.post(url or page_url, data={**data, "csrf_token": csrf_from(page.text)})


@pytest.fixture
def cadre(client, auth, clock):
    auth.login("13800000001")
    return client


# --- the overview ----------------------------------------------------------------------------


def test_demo_cadre_sees_two_weeks_of_night_and_weekend_morning_sessions(demo_app, cadre, ids):
    r = demo_app.test_cli_runner().invoke(
        args=["market", "tick", "--now", MORNING_OF_MONDAY.isoformat()]
    )
    assert r.exit_code == 0
    dashboard = cadre.get("/admin/?lang=en")
    assert f'href="/sessions/markets/{ids["market"]}"' in dashboard.text
    page = cadre.get(f"/sessions/markets/{ids['market']}?lang=en")
    assert page.status_code == 200
    assert page.text.count("<td>18:00–22:30</td>") == 15  # today and the 14 days after it
    assert page.text.count("<td>06:00–08:30</td>") == 4  # 28, 29 Nov, 5, 6 Dec
    assert "Closed now. Opens tonight at 18:00" in page.text
    assert "China (Shanghai) Time" in page.text and "Asia/Shanghai" not in page.text
    zh = cadre.get(f"/sessions/markets/{ids['market']}?lang=zh").text
    assert "中国（上海）时间" in zh
    cadre.get(f"/sessions/markets/{ids['market']}?lang=en")
    later = cadre.get(f"/sessions/markets/{ids['market']}?from=2026-12-08&lang=en")
    assert "No sessions on these dates." in later.text


@pytest.mark.parametrize("bad", ["2026-13-40", "9999-12-31", "x"])
def test_bad_from_date_is_a_4xx(cadre, ids, bad):
    r = cadre.get(f"/sessions/markets/{ids['market']}?from={bad}&lang=en")
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text


def test_guide_reads_without_buttons_vendor_is_refused(demo_app, client, auth, clock, ids):
    tick(demo_app, MORNING_OF_MONDAY)
    tonight = session_on(demo_app, date(2026, 11, 23))
    auth.login("13800000002")
    assert client.get(f"/sessions/markets/{ids['market']}").status_code == 200
    page = client.get(f"/sessions/{tonight.id}?lang=en")
    assert page.status_code == 200 and "Cancel the session" not in page.text
    r = post_form(client, f"/sessions/{tonight.id}", {}, url=f"/sessions/{tonight.id}/open")
    assert r.status_code == 403
    auth.logout()
    auth.login("13800000003")
    assert client.get(f"/sessions/markets/{ids['market']}").status_code == 403


def test_another_organizations_market_is_404(demo_app, cadre):
    with demo_app.app_context():
        other = b.market()
        db.session.commit()
        other_id = other.id
    assert cadre.get(f"/sessions/markets/{other_id}").status_code == 404
    assert cadre.get(f"/sessions/markets/{other_id}/templates/new").status_code == 404


# --- templates -------------------------------------------------------------------------------

GOOD = {
    "name": "周五晚场",
    "kind": "special",
    "weekdays": ["5"],
    "start_local": "18:00",
    "end_local": "01:00",
    "cutoff_minutes": "30",
    "valid_from": "2026-11-27",
    "valid_until": "",
    "is_active": "y",
}


def test_add_a_cross_midnight_template(demo_app, cadre, ids):
    url = f"/sessions/markets/{ids['market']}/templates/new"
    r = post_form(cadre, url, GOOD)
    assert r.status_code == 302, r.text
    friday = session_on(demo_app, date(2026, 11, 27), kind="special")
    assert friday.ends_at == datetime.fromisoformat("2026-11-28T01:00+08:00")
    # The special evening replaces the regular night of that Friday.
    assert session_on(demo_app, date(2026, 11, 27)) is None


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"end_local": "18:00"}, 422, "The end must differ from the start"),
        ({"weekdays": ["1", "8"]}, 422, "Weekdays are 1 (Monday) to 7 (Sunday)."),
        ({"weekdays": []}, 422, "Choose at least one weekday."),
        ({"cutoff_minutes": "500"}, 422, "The check-in cutoff must fall before the session ends."),
        ({"start_local": "25:00"}, 400, "Not a valid time value."),
        ({"valid_until": "2026-01-01"}, 422, "The last date must not be before the first."),
    ],
)
def test_bad_template_input_is_a_4xx_next_to_the_field(
    demo_app, cadre, ids, change, status, message
):
    before = _count(demo_app, SessionTemplate)
    r = post_form(cadre, f"/sessions/markets/{ids['market']}/templates/new?lang=en", GOOD | change)
    assert r.status_code == status
    assert message in r.text and 'class="error"' in r.text
    assert _count(demo_app, SessionTemplate) == before


def test_overlapping_template_is_a_409(cadre, ids):
    night = GOOD | {"kind": "night", "weekdays": ["1"], "start_local": "20:00"}
    r = post_form(cadre, f"/sessions/markets/{ids['market']}/templates/new?lang=en", night)
    assert r.status_code == 409 and "overlap" in r.text


def test_unknown_zone_name_on_the_market_is_refused(demo_app, cadre, ids):
    r = post_form(
        cadre,
        f"/zoning/markets/{ids['market']}/edit?lang=en",
        {"name": "金汇潮汐市场", "slug": "jinhui", "timezone": "Asia/Shangai"},
    )
    assert r.status_code == 422 and "Unknown timezone" in r.text
    with demo_app.app_context():  # a bad zone that got in some other way
        market = db.session.get(Market, ids["market"])
        market.timezone = "Asia/Shangai"
        db.session.commit()
    r = post_form(cadre, f"/sessions/markets/{ids['market']}/templates/new?lang=en", GOOD)
    assert r.status_code == 422 and "Asia/Shangai" in r.text


def test_edit_template_moves_future_sessions(demo_app, cadre, ids):
    tick(demo_app, MORNING_OF_MONDAY)
    url = f"/sessions/templates/{ids['night']}/edit"
    page = cadre.get(url)
    assert 'value="18:00"' in page.text and page.text.count('checked id="weekdays-') == 7
    r = post_form(
        cadre,
        url,
        {
            "name": "夜市",
            "kind": "night",
            "weekdays": [str(d) for d in range(1, 8)],
            "start_local": "18:30",
            "end_local": "22:30",
            "cutoff_minutes": "30",
            "valid_from": "2026-01-01",
            "is_active": "y",
        },
    )
    assert r.status_code == 302
    assert session_on(demo_app, date(2026, 11, 25)).starts_at == datetime.fromisoformat(
        "2026-11-25T18:30+08:00"
    )


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- one session -----------------------------------------------------------------------------


def test_cancel_an_open_session_from_its_page(demo_app, cadre, clock, ids):
    tick(demo_app, datetime.fromisoformat("2026-11-23T18:05+08:00"))
    clock.set(datetime.fromisoformat("2026-11-23T19:00+08:00"))
    s = session_on(demo_app, date(2026, 11, 23))
    page_url = f"/sessions/{s.id}?lang=en"
    r = post_form(cadre, page_url, {"c-reason": ""}, url=f"/sessions/{s.id}/cancel?lang=en")
    assert r.status_code == 400 and "Say why." in r.text
    r = post_form(cadre, page_url, {"c-reason": "暴雨"}, url=f"/sessions/{s.id}/cancel")
    assert r.status_code == 302
    s = session_on(demo_app, date(2026, 11, 23))
    assert (s.state, s.cancel_reason) == ("cancelled", "暴雨")
    scan = cadre.get(f"/s/{ids['token']}?lang=en")
    assert "Tonight" in scan.text and "market is cancelled: 暴雨" in scan.text
    assert "Opens tomorrow at 18:00" in scan.text
    # Cancelling again: the page says why not.
    r = post_form(cadre, page_url, {"c-reason": "x"}, url=f"/sessions/{s.id}/cancel?lang=en")
    assert r.status_code == 409 and "already closed or cancelled" in r.text


def test_open_extend_close_and_reinstate_from_the_page(demo_app, cadre, clock):
    tick(demo_app, MORNING_OF_MONDAY)
    clock.set(datetime.fromisoformat("2026-11-23T17:40+08:00"))
    s = session_on(demo_app, date(2026, 11, 23))
    page = f"/sessions/{s.id}?lang=en"
    assert post_form(cadre, page, {}, url=f"/sessions/{s.id}/open").status_code == 302
    assert session_on(demo_app, date(2026, 11, 23)).state == "open"
    r = post_form(cadre, page, {"e-until": "23:30"}, url=f"/sessions/{s.id}/extend")
    assert r.status_code == 302
    assert session_on(demo_app, date(2026, 11, 23)).ends_at == datetime.fromisoformat(
        "2026-11-23T23:30+08:00"
    )
    r = post_form(cadre, page, {"e-until": "21:00"}, url=f"/sessions/{s.id}/extend?lang=en")
    assert r.status_code == 422 and "must be later" in r.text
    clock.set(datetime.fromisoformat("2026-11-23T21:00+08:00"))
    assert post_form(cadre, page, {}, url=f"/sessions/{s.id}/close").status_code == 302
    closed = session_on(demo_app, date(2026, 11, 23))
    assert closed.state == "closed" and closed.is_manual
    r = post_form(cadre, page, {}, url=f"/sessions/{s.id}/close?lang=en")
    assert r.status_code == 409 and "Only an open session can be closed." in r.text

    tomorrow = session_on(demo_app, date(2026, 11, 24))
    url = f"/sessions/{tomorrow.id}"
    post_form(cadre, url, {"c-reason": "道路施工"}, url=f"{url}/cancel")
    assert post_form(cadre, url, {}, url=f"{url}/reinstate").status_code == 302
    assert session_on(demo_app, date(2026, 11, 24)).state == "scheduled"


def test_close_for_a_range_and_lift(demo_app, cadre, ids):
    tick(demo_app, MORNING_OF_MONDAY)
    url = f"/sessions/markets/{ids['market']}/closures/new?lang=en"
    bad = post_form(
        cadre, url, {"first_date": "2026-12-02", "last_date": "2026-12-01", "reason": "x"}
    )
    assert bad.status_code == 422 and "must not be before" in bad.text
    r = post_form(
        cadre, url, {"first_date": "2026-11-30", "last_date": "2026-12-02", "reason": "道路施工"}
    )
    assert r.status_code == 302
    assert session_on(demo_app, date(2026, 12, 1)).cancel_reason == "道路施工"
    with demo_app.app_context():
        closure_id = db.session.scalar(select(MarketClosure.id))
    overview = f"/sessions/markets/{ids['market']}"
    r = post_form(cadre, overview, {}, url=f"/sessions/closures/{closure_id}/lift")
    assert r.status_code == 302
    assert session_on(demo_app, date(2026, 12, 1)).state == "scheduled"


# --- the stall page --------------------------------------------------------------------------


def test_stall_page_says_when_the_market_opens(demo_app, client, clock, ids):
    url = f"/s/{ids['token']}?lang=en"
    assert "no opening is scheduled yet" in client.get(url).text  # no tick yet
    tick(demo_app, MORNING_OF_MONDAY)
    assert "Closed now. Opens tonight at 18:00" in client.get(url).text
    clock.set(datetime.fromisoformat("2026-11-23T18:05+08:00"))
    assert "Open now, until 22:30" in client.get(url).text
    clock.set(datetime.fromisoformat("2026-11-23T23:00+08:00"))
    assert "Opens tomorrow at 18:00" in client.get(url).text
    with demo_app.app_context():
        market = db.session.get(Market, ids["market"])
        closures.add_closure(market, date(2026, 11, 25), date(2026, 11, 25), "检修", now=clock())
        db.session.commit()
    clock.set(datetime.fromisoformat("2026-11-24T23:00+08:00"))
    page = client.get(url).text
    assert "Tomorrow" in page and "market is cancelled: 检修" in page
    assert "Opens Thu, Nov 26 at 18:00" in page
    zh = client.get(f"/s/{ids['token']}?lang=zh")
    assert zh.status_code == 200 and "11月26日" in zh.text


@pytest.mark.parametrize(
    ("lang", "message"), [("", "不是有效的时间值"), ("?lang=en", "Not a valid")]
)
def test_wtforms_own_messages_speak_the_pages_language(cadre, ids, lang, message):
    # WTForms' catalog is loaded once per process and language (market/i18n.py), not per
    # request: the language of each request must still win.
    for _ in range(2):
        url = f"/sessions/markets/{ids['market']}/templates/new{lang}"
        r = post_form(cadre, url, GOOD | {"start_local": "25:00"})
        assert r.status_code == 400 and message in r.text
