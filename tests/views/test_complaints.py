"""The stall card and the complaint loop through the pages, as a phone with no login sees them."""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from bench.data import rush
from market.extensions import db
from market.models import Complaint, Incident, Market, Stall, User, Vendor
from market.services.checkin import checkins as checkin
from market.services.common.clock import FixedClock, now
from market.services.guide import incidents
from market.services.zoning import places as zoning
from tests.conftest import Auth, csrf_from

PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture
def evening(demo_app):
    """The demo market open now, with 王德华 (food, certificate valid) trading at A-01."""
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        stalls = {s.code: s for s in db.session.scalars(select(Stall))}
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13800000003")
        )
        checkin.check_in(stalls["A-01"], vendor, now(), actor=vendor.user)
        db.session.commit()
        return {code: s.qr_token for code, s in stalls.items()}


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "blue").save(out, "PNG")
    return out.getvalue()


def complain(client, url, ip="10.1.0.1", photo=None, **fields):
    page = client.get(url, environ_base={"REMOTE_ADDR": ip})
    assert page.status_code == 200
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]{32})"', page.text).group(1)
    data = {"csrf_token": csrf_from(page.text), "nonce": nonce, **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "p.png")
    return client.post(
        url, data=data, content_type="multipart/form-data", environ_base={"REMOTE_ADDR": ip}
    )


def stored(app, model=Complaint) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_anonymous_scan_shows_the_card_with_a_vendor_login_button(client, evening):
    page = client.get(f"/s/{evening['A-01']}")
    assert page.status_code == 200
    text = page.text
    assert "王**" in text and "熟食" in text and "登记于 金汇社区" in text
    assert "健康证有效" in text and "年" in text
    assert "王德华" not in text and "13800000003" not in text
    assert "我是摊主：登录入场" in text and "/login?next=/s/" in text
    assert f"/vendors/register?stall={evening['A-01']}" in text
    assert "举报这个摊位的问题" in text and "0812-3335566" in text
    assert "夜市" in text and "18:00–22:30" in text and "明码标价" in text


def test_empty_stall_says_so(client, evening):
    text = client.get(f"/s/{evening['A-02']}").text
    assert "本摊位本场空闲" in text
    assert "Who trades here tonight" in client.get(f"/s/{evening['A-02']}?lang=en").text


def test_a_vendor_gets_the_check_in_flow_with_a_link_to_the_card(client, auth, evening):
    auth.login("13800000004")
    page = client.get(f"/s/{evening['A-02']}")
    assert "确认入场" in page.text and f"/s/{evening['A-02']}/card" in page.text
    card = client.get(f"/s/{evening['A-02']}/card")
    assert card.status_code == 200 and "本摊位本场空闲" in card.text
    assert "我是摊主：登录入场" not in card.text  # already logged in


def test_staff_scanning_get_the_card(client, auth, evening):
    auth.login("13800000002")  # the guide: not a vendor
    page = client.get(f"/s/{evening['A-01']}")
    assert "王**" in page.text and "确认入场" not in page.text


def test_unknown_and_rotated_tokens(demo_app, client, evening):
    r = client.get("/s/nope-not-a-token-at-all/complain")
    assert r.status_code == 404 and "二维码" in r.text
    with demo_app.app_context():
        stall = db.session.scalar(select(Stall).where(Stall.code == "A-03"))
        zoning.rotate_token(stall)
        db.session.commit()
    for url in (f"/s/{evening['A-03']}/complain", f"/s/{evening['A-03']}/card"):
        r = client.get(url)
        assert r.status_code == 410 and "新二维码" in r.text
    assert stored(demo_app) == 0


def test_the_whole_loop(demo_app, client, evening):
    r = complain(
        client,
        f"/s/{evening['A-01']}/complain",
        kind="short_weight",
        text="<b>少了二两</b> 称有问题",
        photo=png_bytes(),
    )
    assert r.status_code == 303
    track_url = r.headers["Location"]
    assert re.fullmatch(r"/c/[A-Za-z0-9_-]{22,}", track_url)
    page = client.get(track_url)
    assert "已收到" in page.text and "正在处理" in page.text
    assert "少了二两" not in page.text  # what the complainant wrote is not shown, even here
    with demo_app.app_context():
        complaint = db.session.scalar(select(Complaint))
        assert complaint.photo is not None
        stall_id = db.session.scalar(select(Stall.id).where(Stall.code == "A-01"))
        assert stall_id in incidents.flagged_stall_ids(complaint.market_id)
        market_id, complaint_id = complaint.market_id, complaint.id

    guide = demo_app.test_client()
    Auth(guide).login("13800000002")
    listing = guide.get(f"/complaints/markets/{market_id}")
    assert listing.status_code == 200
    assert "&lt;b&gt;少了二两&lt;/b&gt;" in listing.text and "<b>少了二两" not in listing.text
    assert "王德华" in listing.text  # staff see who traded there
    photo = guide.get(f"/complaints/{complaint_id}/photo")
    assert photo.status_code == 200 and photo.mimetype.startswith("image/")
    photo.close()
    assert client.get(f"/complaints/{complaint_id}/photo").status_code in (302, 401)
    token = csrf_from(listing.text)
    empty = guide.post(
        f"/complaints/{complaint_id}/resolve",
        data={"csrf_token": token, f"r{complaint_id}-response": ""},
    )
    assert empty.status_code == 400
    done = guide.post(
        f"/complaints/{complaint_id}/resolve",
        data={"csrf_token": token, f"r{complaint_id}-response": "已核秤，退还差价"},
    )
    assert done.status_code == 303
    with demo_app.app_context():
        assert stall_id not in incidents.flagged_stall_ids(market_id)
    page = client.get(track_url)
    assert "已处理" in page.text and "已核秤，退还差价" in page.text
    # The card shows nothing of it.
    assert "少了二两" not in client.get(f"/s/{evening['A-01']}").text


def test_a_complaint_near_a_stall_reads_back_as_that_stall_for_the_cadre(demo_app, client, evening):
    url = "/p/jinhui/complain"
    assert complain(client, url, kind="smoke", text="油烟大", near="A-03").status_code == 303
    cadre = demo_app.test_client()
    Auth(cadre).login("13800000001")
    assert 'href="/complaints/markets/1"' in cadre.get("/admin/").text  # found from the office
    listing = cadre.get("/complaints/markets/1?lang=en").text
    assert "near stall A-03" in listing and "map cell" not in listing
    assert "the whole market" not in listing and 'href="/admin/"' in listing


@pytest.mark.parametrize(
    ("fields", "photo", "message"),
    [
        ({"kind": "price", "text": ""}, None, "请写下发生了什么"),
        ({"kind": "price", "text": "长" * 10_000}, None, "最多 1000 个字"),
        ({"kind": "noise", "text": "吵"}, None, "请选择问题的类型"),
        ({"kind": "price", "text": "贵"}, b"%PDF-1.7 not a picture", "不是 JPEG、PNG 或 WebP 图片"),
    ],
)
def test_bad_complaints_say_why_and_store_nothing(
    demo_app, client, evening, fields, photo, message
):
    r = complain(client, f"/s/{evening['A-01']}/complain", photo=photo, **fields)
    assert r.status_code == 422 and message in r.text
    assert stored(demo_app) == 0 and stored(demo_app, Incident) == 0


def test_second_complaint_of_the_day_asks_a_sum(demo_app, client, evening):
    url = "/p/jinhui/complain"
    assert complain(client, url, ip="10.2.0.1", kind="noise", text="太吵了").status_code == 303
    page = client.get(url, environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert re.search(r"请算一算：\d \+ \d = \?", page.text)
    # Another address is not asked.
    assert "请算一算" not in client.get(url, environ_base={"REMOTE_ADDR": "10.2.0.2"}).text
    r = complain(client, url, ip="10.2.0.1", kind="smoke", text="油烟大")
    assert r.status_code == 422 and stored(demo_app) == 1
    challenge = re.search(r'name="challenge" type="hidden" value="([^"]+)"', r.text).group(1)
    q = re.search(r"(\d) \+ (\d) = ", r.text)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]{32})"', r.text).group(1)
    ok = client.post(
        url,
        data={
            "csrf_token": csrf_from(r.text),
            "nonce": nonce,
            "kind": "smoke",
            "text": "油烟大",
            "near": "A-05",
            "challenge": challenge,
            "answer": str(int(q.group(1)) + int(q.group(2))),
        },
        environ_base={"REMOTE_ADDR": "10.2.0.1"},
    )
    assert ok.status_code == 303 and stored(demo_app) == 2
    with demo_app.app_context():
        last = db.session.scalar(select(Complaint).order_by(Complaint.id.desc()))
        a05 = db.session.scalar(select(Stall).where(Stall.code == "A-05"))
        assert last.stall_id is None and last.kind == "smoke"
        assert (last.map_x, last.map_y) == (a05.grid_col, a05.grid_row)


def test_thirty_complaints_a_minute_from_one_address_are_refused(demo_app, client, evening):
    url = f"/s/{evening['A-02']}/complain"
    page = client.get(url, environ_base={"REMOTE_ADDR": "10.3.0.1"})
    token = csrf_from(page.text)
    codes = [
        client.post(
            url,
            data={"csrf_token": token, "nonce": f"{i:032x}", "kind": "price", "text": "贵"},
            environ_base={"REMOTE_ADDR": "10.3.0.1"},
        ).status_code
        for i in range(30)
    ]
    assert codes.count(429) >= 25
    assert stored(demo_app) <= 1  # the first; the rest needed a sum or were refused
    r = client.post(url, data={"csrf_token": token}, environ_base={"REMOTE_ADDR": "10.3.0.1"})
    assert r.status_code == 429 and "请求太多" in r.text


def test_guessed_tracking_codes_are_not_found(client, evening):
    for guess in ("1", "2", "AAAAAAAAAAAAAAAAAAAAAA", "<script>"):
        r = client.get(f"/c/{guess}")
        assert r.status_code == 404 and "没有这个跟踪码的投诉" in r.text


def test_cadre_figures_and_vendor_count(demo_app, client, evening):
    complain(client, f"/s/{evening['A-01']}/complain", kind="price", text="太贵")
    cadre = demo_app.test_client()
    Auth(cadre).login("13800000001")
    with demo_app.app_context():
        market_id = db.session.scalar(select(Market.id))
        vendor_id = db.session.scalar(
            select(Vendor.id)
            .join(User, Vendor.user_id == User.id)
            .where(User.phone == "13800000003")
        )
    stats = cadre.get(f"/complaints/markets/{market_id}/stats")
    assert stats.status_code == 200
    assert re.search(r'class="n-received">1<', stats.text) and "王德华" in stats.text
    assert cadre.get(f"/complaints/markets/{market_id}/stats?month=2026-13").status_code == 400
    detail = cadre.get(f"/vendors/{vendor_id}")
    assert re.search(r'class="complaint-count">1<', detail.text)
    guide = demo_app.test_client()
    Auth(guide).login("13800000002")
    assert guide.get(f"/complaints/markets/{market_id}/stats").status_code == 403


def test_no_phone_full_name_or_certificate_number_on_public_pages(demo_app, client, evening):
    r = complain(client, f"/s/{evening['A-01']}/complain", kind="rude", text="态度差")
    track = r.headers["Location"]
    with demo_app.app_context():
        phones = set(db.session.scalars(select(User.phone)))
        names = {n for n in db.session.scalars(select(User.name)) if len(n) > 1}
        certs = {c for c in db.session.scalars(select(Vendor.health_cert_no)) if c}
    urls = [
        f"/s/{evening['A-01']}",
        f"/s/{evening['A-01']}?lang=en",
        f"/s/{evening['A-01']}/card",
        f"/s/{evening['A-02']}",
        f"/s/{evening['A-01']}/complain",
        "/p/jinhui/complain",
        track,
        f"/api/v1/stalls/by-token/{evening['A-01']}/card",
        f"/api/v1/complaints/{track.rsplit('/', 1)[1]}",
    ]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        assert not PHONE_RE.search(body), url
        for secret in phones | names | certs:
            assert secret not in body, (url, secret)


def test_a_short_code_to_read_aloud_finds_the_report_again(demo_app, client, evening):
    """ABCD-EFGH on the page, a copy button, the promised answer time; typed in lower case on
    the notice board it finds the report; the API names it and accepts it too."""
    r = complain(client, f"/s/{evening['A-01']}/complain", kind="price", text="价格不清楚")
    page = client.get(r.headers["Location"])
    with demo_app.app_context():
        complaint = db.session.scalar(select(Complaint))
        short, long = complaint.short_code, complaint.tracking_code
    shown = f"{short[:4]}-{short[4:]}"
    assert shown in page.text and f'data-copy="{shown}"' in page.text
    assert "24 小时内" in page.text or "24小时内" in page.text
    board = client.get("/p/jinhui")
    assert 'action="/c/"' in board.text
    found = client.get("/c/", query_string={"code": shown.lower()})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/c/{long}")
    slip = short[:-1] + ("0" if short[-1] != "0" else "1")
    assert client.get("/c/", query_string={"code": slip}).status_code == 404
    assert client.get(f"/c/{shown}").status_code == 200
    api = client.get(f"/api/v1/complaints/{short}")
    assert api.status_code == 200 and api.json["short_code"] == short
