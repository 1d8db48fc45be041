"""Wording a cadre or vendor reads: session notes, the scheduler line, flash messages,
amount errors, the complaint challenge, zone categories (QA pass)."""

import re
from datetime import date, datetime

import pytest

from market.extensions import db
from market.models import MarketSession
from tests.conftest import csrf_from
from tests.views import test_sessions
from tests.views.test_checkin import confirm
from tests.views.test_sessions import MORNING_OF_MONDAY, post_form, session_on, tick

# Fixtures of those modules, shared here.
cadre, clock = test_sessions.cadre, test_sessions.clock


def test_opened_early_note_is_translated_and_stored_as_a_code(demo_app, cadre, clock):
    tick(demo_app, MORNING_OF_MONDAY)
    clock.set(datetime.fromisoformat("2026-11-23T17:40+08:00"))
    s = session_on(demo_app, date(2026, 11, 23))
    assert post_form(cadre, f"/sessions/{s.id}", {}, url=f"/sessions/{s.id}/open").status_code
    assert session_on(demo_app, date(2026, 11, 23)).change_note == "opened_early"
    zh = cadre.get(f"/sessions/{s.id}?lang=zh").text
    assert "opened early" not in zh and "opened_early" not in zh
    assert "提前开市" in zh and "由排班程序调整" not in zh
    en = cadre.get(f"/sessions/{s.id}?lang=en").text
    assert "opened early" in en


def test_notes_stored_before_the_codes_still_read(demo_app, cadre, clock):
    tick(demo_app, MORNING_OF_MONDAY)
    s = session_on(demo_app, date(2026, 11, 24))
    with demo_app.app_context():
        db.session.get(MarketSession, s.id).change_note = "closed early"
        db.session.commit()
    assert "提前收市" in cadre.get(f"/sessions/{s.id}?lang=zh").text


def test_scheduler_line_only_when_the_scheduler_changed_something(demo_app, cadre, clock):
    tick(demo_app, MORNING_OF_MONDAY)
    untouched = session_on(demo_app, date(2026, 11, 25))
    page = cadre.get(f"/sessions/{untouched.id}?lang=en").text
    assert "Moved by the scheduler" not in page and "Last changed by" not in page
    tick(demo_app, datetime.fromisoformat("2026-11-23T18:05+08:00"))
    opened = session_on(demo_app, date(2026, 11, 23))
    assert opened.state == "open"
    assert "Moved by the scheduler" in cadre.get(f"/sessions/{opened.id}?lang=en").text


def test_vendor_who_reported_a_payment_is_told_to_wait_for_the_guide(client, auth, evening):
    auth.login("13800000004")
    r, _, _ = confirm(client, evening["C-03"])
    receipt_url = r.headers["Location"]
    page = client.get(receipt_url)
    ok = client.post(
        receipt_url + "/pay",
        data={"csrf_token": csrf_from(page.text), "pay-amount": "10", "pay-reference": "8812"},
    )
    assert ok.status_code == 303
    text = client.get(receipt_url).text
    assert "已告诉引导员，请等待确认" in text and "已保存。" not in text


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        ("-5", "不能是负数", "cannot be negative"),
        ("99999999999", "金额太大", "too large"),
        ("10.005", "最多两位小数", "at most two decimals"),
        ("abc", "请输入以元为单位的金额", "Enter an amount in yuan"),
    ],
)
def test_each_amount_mistake_gets_its_own_message(client, auth, evening, amount, zh, en):
    auth.login("13800000004")
    r, _, _ = confirm(client, evening["C-02"])
    receipt_url = r.headers["Location"]
    auth.logout()
    auth.login("13800000002")  # the guide
    for lang, expected in (("zh", zh), ("en", en)):
        page = client.get(f"{receipt_url}?lang={lang}", follow_redirects=True)
        bad = client.post(
            receipt_url + "/cash", data={"csrf_token": csrf_from(page.text), "cash-amount": amount}
        )
        assert bad.status_code == 422 and expected in bad.text
        if amount != "10.005":
            assert ("最多两位小数" if lang == "zh" else "two decimals") not in bad.text


def test_repeat_complaint_page_says_you_already_reported_once(client, evening):
    from tests.views.test_complaints import complain

    url = "/p/jinhui/complain"
    assert complain(client, url, ip="10.3.0.1", kind="noise", text="太吵了").status_code == 303
    page = client.get(url, environ_base={"REMOTE_ADDR": "10.3.0.1"})
    assert page.text.count("您今天已经反映过一次了") == 1
    r = complain(client, url, ip="10.3.0.1", kind="smoke", text="油烟大")
    assert r.status_code == 422 and r.text.count("您今天已经反映过一次了") == 1
    assert "这道算术题用来防止自动提交" in r.text


def test_zone_categories_are_ticked_by_name_not_typed_as_codes(demo_app, client, auth):
    from market.models import Zone
    from tests.views.test_zoning import ids as zoning_ids

    auth.login("13800000001")
    _market_id, zone_id, stall_id, _token = zoning_ids(demo_app)
    with demo_app.app_context():
        db.session.get(Zone, zone_id).categories = "cooked_food,snacks,night_bbq"
        db.session.commit()
    r = client.get(f"/zoning/zones/{zone_id}/edit?lang=zh")
    assert r.status_code == 200, r.text[-1500:]
    page = r.text
    assert "cooked_food, snacks" not in page
    assert "熟食" in page and "小吃" in page and "果蔬" in page
    assert re.search(r'<input checked [^>]*type="checkbox" value="cooked_food">', page)
    assert re.search(r'<input checked [^>]*value="night_bbq">', page)  # no longer offered
    form = {
        "csrf_token": csrf_from(page),
        "code": "A",
        "name": "熟食",
        "color": "#C2410C",
        "sort_order": "1",
        "categories": ["produce", "snacks"],
        "is_active": "y",
    }
    assert client.post(f"/zoning/zones/{zone_id}/edit", data=form).status_code == 302
    with demo_app.app_context():
        assert db.session.get(Zone, zone_id).categories == "produce,snacks"
    en = client.get(f"/zoning/stalls/{stall_id}/edit?lang=en").text
    assert "施工" not in en and "construction / fire lane" in en
    assert "施工 / 消防通道" in client.get(f"/zoning/stalls/{stall_id}/edit?lang=zh").text


def test_no_chinese_string_says_tonight():
    """The morning market reads the same strings as the night market: 本场, never 今晚."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).parents[2] / "market/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    tonight = [m.id for m in catalog if m.id and "今晚" in str(m.string)]
    assert tonight == []
