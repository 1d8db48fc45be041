"""简体中文 first, English complete, chosen by ?lang=, a cookie or Accept-Language."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).parents[2] / "market/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
POT = Path(__file__).parents[2] / "market/translations/messages.pot"


CJK = r"[\u4e00-\u9fff]"


def test_default_is_simplified_chinese(client):
    r = client.get("/login")
    assert '<html lang="zh-CN">' in r.text
    assert "登录" in r.text and "手机号" in r.text


def test_lang_parameter_switches_to_english_and_is_remembered(client):
    r = client.get("/login?lang=en")
    assert '<html lang="en">' in r.text
    assert "Mobile number" in r.text and "手机号" not in r.text
    assert "lang=en" in r.headers["Set-Cookie"]
    r = client.get("/login")  # the cookie remembers
    assert '<html lang="en">' in r.text
    r = client.get("/login?lang=zh")
    assert '<html lang="zh-CN">' in r.text


def test_accept_language(client):
    r = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in r.text
    r = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in r.text


def test_unknown_lang_falls_back_to_chinese(client):
    r = client.get("/login?lang=xx")
    assert '<html lang="zh-CN">' in r.text


def test_error_pages_in_both_languages(client, auth):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "找不到页面" in r.text
    r = client.get("/no-such-page?lang=en")
    assert r.status_code == 404 and "Not found" in r.text
    auth.login("13800000003")
    r = client.get("/admin/?lang=zh")
    assert r.status_code == 403 and "无权访问" in r.text
    r = client.get("/admin/?lang=en")
    assert r.status_code == 403 and "Not allowed" in r.text


def test_405_page(client):
    r = client.get("/logout")
    assert r.status_code == 405 and "该地址不支持此操作" in r.text


def test_every_message_has_a_chinese_translation():
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh)
    with POT.open("rb") as fh:
        template = read_po(fh)
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    missing = {m.id for m in template if m.id} - {m.id for m in catalog if m.id}
    assert missing == set(), "run `make messages` and translate the new strings"


def test_english_text_holds_chinese_only_as_a_glossed_term():
    # "Health certificate number (健康证)" names the paper a vendor holds; an example such as
    # "e.g. 暴雨" would leave English readers with Chinese they may not read.
    with POT.open("rb") as fh:
        ids = [i for m in read_po(fh) for i in (m.id if isinstance(m.id, tuple) else (m.id,)) if i]
    stray = [i for i in ids if re.search(CJK, re.sub(rf"\(({CJK})+\)", "", i))]
    assert stray == []


def test_the_template_holds_every_string_in_the_code(tmp_path):
    """A string wrapped in _() but not extracted would silently stay English."""
    out = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(out),
            "--no-location",
            ".",
        ],
        check=True,
        capture_output=True,
        cwd=Path(__file__).parents[2],
    )
    with out.open("rb") as fh:
        fresh = {m.id for m in read_po(fh) if m.id}
    with POT.open("rb") as fh:
        known = {m.id for m in read_po(fh) if m.id}
    assert fresh - known == set(), "run `make messages` and translate the new strings"


def test_short_times_read_day_month_year_in_english_and_24_hours(app):
    """US "12/6/26, 12:23 AM" reads as June to most; the market's clock, 24-hour, day first."""
    from datetime import UTC, datetime

    from flask import render_template_string

    moment = datetime(2026, 12, 5, 16, 23, tzinfo=UTC)  # 00:23 on the 6th in Shanghai
    page = "{{ t|datetimeformat('short') }}"
    with app.test_request_context("/?lang=en"):
        assert render_template_string(page, t=moment) == "6 Dec 2026 00:23"
    with app.test_request_context("/"):
        assert render_template_string(page, t=moment) == "2026/12/6 00:23"
