"""The cadre's zoning pages, the poster sheet, and /s/<token> as everyone sees it."""

import io
import re

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, Stall, Zone
from tests.conftest import csrf_from


@pytest.fixture
def cadre(client, auth):
    auth.login("13800000001")
    return client


def ids(app):
    with app.app_context():
        market = db.session.scalar(select(Market).where(Market.slug == "jinhui"))
        zone = db.session.scalar(select(Zone).where(Zone.market_id == market.id, Zone.code == "A"))
        stall = db.session.scalar(select(Stall).where(Stall.code == "A-01"))
        return market.id, zone.id, stall.id, stall.qr_token


def post_form(client, page_url, data, url=None, files=None):
    page = client.get(page_url)
    data = {**data, "csrf_token": csrf_from(page.text)}
    if files:
        data.update(files)
    return client.post(
        url or page_url, data=data, content_type="multipart/form-data" if files else None
    )


def stall_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Stall))


def test_market_page_shows_map_with_zone_colours(demo_app, cadre):
    market_id, *_ = ids(demo_app)
    r = cadre.get(f"/zoning/markets/{market_id}")
    assert r.status_code == 200
    assert r.text.count("<rect") >= 40
    for colour in ("#C2410C", "#15803D", "#1D4ED8"):
        assert colour in r.text
    assert ">A-01</text>" in r.text


def test_add_zone_and_ten_stalls(demo_app, cadre):
    market_id, *_ = ids(demo_app)
    r = post_form(
        cadre,
        f"/zoning/markets/{market_id}/zones/new",
        {"code": "D", "name": "小吃", "color": "#7C3AED", "sort_order": 4, "is_active": "y"},
    )
    assert r.status_code == 302
    with demo_app.app_context():
        zone_id = db.session.scalar(select(Zone.id).where(Zone.code == "D"))
    r = post_form(
        cadre,
        f"/zoning/markets/{market_id}/stalls/bulk",
        {
            "zone_id": zone_id,
            "codes": "D-01..D-10",
            "rows": 2,
            "start_row": 4,
            "start_col": 0,
            "walkway": "y",
        },
    )
    assert r.status_code == 302, r.text
    assert stall_count(demo_app) == 50
    page = cadre.get(r.headers["Location"])
    assert "D-10" in page.text and "#7C3AED" in page.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"codes": "A-10..A-02"}, "范围"),
        ({"codes": "E-1..E-5000"}, "200"),
        ({"codes": "A-01..A-03", "start_row": 9}, "A-01"),  # codes exist already
        ({"codes": "E-1..E-3", "start_row": 0, "start_col": 0}, "A-01"),  # cells taken
        ({"codes": "E-1..E-3", "start_row": "abc"}, "E-1..E-3"),  # form kept
    ],
)
def test_bulk_bad_input_is_4xx_with_form_kept(demo_app, cadre, data, message):
    market_id, zone_id, *_ = ids(demo_app)
    form = {"zone_id": zone_id, "rows": 1, "start_row": 9, "start_col": 30, **data}
    r = post_form(cadre, f"/zoning/markets/{market_id}/stalls/bulk", form)
    assert 400 <= r.status_code < 500
    assert message in r.text
    assert stall_count(demo_app) == 40


def test_stall_form_errors(demo_app, cadre):
    market_id, zone_id, *_ = ids(demo_app)
    url = f"/zoning/markets/{market_id}/stalls/new"
    base = {
        "zone_id": zone_id,
        "width_cm": 200,
        "depth_cm": 200,
        "grid_row": 10,
        "grid_col": 0,
        "grid_w": 1,
        "grid_h": 1,
    }
    r = post_form(cadre, url, {**base, "code": "A-01"})
    assert r.status_code == 409 and "A-01" in r.text
    r = post_form(cadre, url, {**base, "code": "A-99", "grid_row": 0})
    assert r.status_code == 409 and "重叠" in r.text
    r = post_form(cadre, url, {**base, "code": "A-99", "grid_row": "一"})
    assert r.status_code == 400 and 'value="A-99"' in r.text
    assert "数值" not in r.text  # one message for "一", not a range message beside it
    r = post_form(cadre, url, {**base, "code": "A-99", "depth_cm": 0})
    assert r.status_code == 422 and "0.5" in r.text and "此项必填" not in r.text
    r = post_form(cadre, url, {**base, "code": "A-99", "width_cm": ""})
    assert r.status_code == 400 and r.text.count("此项必填") == 1
    with demo_app.app_context():
        other = Zone(market_id=market_id, code="Q", name="其他", color="#000000")
        db.session.add(other)
        db.session.flush()
        foreign = Market(organization_id=1, name="别处", slug="elsewhere")
        db.session.add(foreign)
        db.session.flush()
        foreign_zone = Zone(market_id=foreign.id, code="Z", name="外", color="#000000")
        db.session.add(foreign_zone)
        db.session.commit()
        foreign_zone_id = foreign_zone.id
    r = post_form(cadre, url, {**base, "code": "A-99", "zone_id": foreign_zone_id})
    assert r.status_code in (400, 422) and "片区" in r.text
    assert stall_count(demo_app) == 40


def test_market_form_errors(demo_app, cadre):
    url = "/zoning/orgs/1/markets/new"
    r = post_form(cadre, url, {"name": "新市场", "slug": "has space", "timezone": "Asia/Shanghai"})
    assert r.status_code == 422 and "小写字母" in r.text and 'value="新市场"' in r.text
    r = post_form(cadre, url, {"name": "新市场", "slug": "jinhui", "timezone": "Asia/Shanghai"})
    assert r.status_code == 409
    r = post_form(
        cadre,
        url,
        {"name": "新市场", "slug": "new-one", "timezone": "Asia/Shanghai", "latitude": "north"},
    )
    assert r.status_code == 400
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Market)) == 1


def _image(fmt="PNG", size=(120, 120)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#07c160").save(buffer, format=fmt)
    return buffer.getvalue()


def test_collection_code_upload(demo_app, cadre):
    market_id, *_ = ids(demo_app)
    url = f"/zoning/markets/{market_id}/edit"
    fields = {"name": "金汇潮汐市场", "slug": "jinhui", "timezone": "Asia/Shanghai"}
    pdf = b"%PDF-1.4 fake document" + b"0" * 100
    r = post_form(cadre, url, fields, files={"collection_code": (io.BytesIO(pdf), "code.jpg")})
    assert r.status_code == 422 and "JPEG" in r.text
    demo_app.config["UPLOAD_MAX_BYTES"] = 100 * 1024  # keeps the test body small
    big = b"\xff\xd8\xff" + b"0" * (200 * 1024)
    r = post_form(cadre, url, fields, files={"collection_code": (io.BytesIO(big), "big.jpg")})
    assert r.status_code == 413
    with demo_app.app_context():
        assert db.session.get(Market, market_id).collection_code_path is None
    r = post_form(
        cadre, url, fields, files={"collection_code": (io.BytesIO(_image()), "我的收款码.png")}
    )
    assert r.status_code == 302
    with demo_app.app_context():
        stored = db.session.get(Market, market_id).collection_code_path
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", stored)  # random name, re-encoded
    with cadre.get(f"/zoning/markets/{market_id}/collection-code") as r:
        assert r.status_code == 200 and r.mimetype == "image/jpeg"


def test_png_download_decodes_to_the_stalls_scan_page(demo_app, cadre):
    _, _, stall_id, token = ids(demo_app)
    r = cadre.get(f"/zoning/stalls/{stall_id}/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert "attachment" in r.headers["Content-Disposition"]
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.data)))
    assert [d.text for d in decoded] == [f"http://localhost/s/{token}"]
    page = cadre.get(decoded[0].text.replace("http://localhost", ""))
    assert page.status_code == 200 and "A-01" in page.text and "熟食" in page.text


def test_public_base_url_is_used_in_codes(demo_app, cadre):
    demo_app.config["PUBLIC_BASE_URL"] = "https://jinhui.example.cn"
    _, _, stall_id, token = ids(demo_app)
    r = cadre.get(f"/zoning/stalls/{stall_id}/qr.png")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.data)))
    assert decoded[0].text == f"https://jinhui.example.cn/s/{token}"


def test_poster_sheet(demo_app, cadre):
    market_id, zone_id, *_ = ids(demo_app)
    r = cadre.get(f"/zoning/markets/{market_id}/posters?zone={zone_id}&per_page=2")
    assert r.status_code == 200
    assert r.text.count('class="poster"') == 14  # zone A only
    assert "微信或相机扫码" in r.text and "确认摊位" in r.text and "缴费" in r.text
    assert "per-page-2" in r.text
    # English UI, Chinese poster
    r = cadre.get(f"/zoning/markets/{market_id}/posters?zone={zone_id}&lang=en")
    assert "QR posters" in r.text and "微信或相机扫码" in r.text
    assert cadre.get(f"/zoning/markets/{market_id}/posters?zone=999999").status_code in (400, 422)


def test_rotated_token_answers_410_in_chinese(demo_app, cadre):
    _, _, stall_id, token = ids(demo_app)
    page = cadre.get(f"/zoning/stalls/{stall_id}/edit")
    r = cadre.post(
        f"/zoning/stalls/{stall_id}/rotate-token", data={"csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 302
    old = cadre.get(f"/s/{token}")
    assert old.status_code == 410 and "请扫描摊位上的新二维码" in old.text
    with demo_app.app_context():
        new_token = db.session.get(Stall, stall_id).qr_token
    assert cadre.get(f"/s/{new_token}").status_code == 200


@pytest.mark.parametrize("token", ["nope", "x" * 22, "<script>alert(1)</script>", "a" * 64])
def test_unknown_token_is_a_chinese_404(client, token):
    r = client.get(f"/s/{token}")
    assert r.status_code == 404
    assert "二维码" in r.text and "Traceback" not in r.text and "<script>alert" not in r.text


def test_scan_page_for_anyone(demo_app, client):
    *_, token = ids(demo_app)
    r = client.get(f"/s/{token}")
    assert r.status_code == 200
    assert "A-01" in r.text and "金汇潮汐市场" in r.text and "熟食" in r.text
    assert "/login?next=/s/" in r.text


def test_disable_enable_delete(demo_app, cadre):
    market_id, _, stall_id, _ = ids(demo_app)
    url = f"/zoning/stalls/{stall_id}/edit"
    r = post_form(cadre, url, {"d-reason": ""}, url=f"/zoning/stalls/{stall_id}/disable")
    assert r.status_code == 400
    r = post_form(cadre, url, {"d-reason": "消防通道"}, url=f"/zoning/stalls/{stall_id}/disable")
    assert r.status_code == 302
    assert "消防通道" in cadre.get(url).text
    r = post_form(cadre, url, {}, url=f"/zoning/stalls/{stall_id}/enable")
    assert r.status_code == 302
    r = post_form(cadre, url, {}, url=f"/zoning/stalls/{stall_id}/delete")
    assert r.status_code == 302
    assert stall_count(demo_app) == 39


WRITES = [
    "/zoning/orgs/1/markets/new",
    "/zoning/markets/{m}/edit",
    "/zoning/markets/{m}/zones/new",
    "/zoning/zones/{z}/edit",
    "/zoning/markets/{m}/stalls/new",
    "/zoning/markets/{m}/stalls/bulk",
    "/zoning/stalls/{s}/edit",
    "/zoning/stalls/{s}/disable",
    "/zoning/stalls/{s}/enable",
    "/zoning/stalls/{s}/delete",
    "/zoning/stalls/{s}/rotate-token",
    "/zoning/markets/{m}/rotate-tokens",
]


@pytest.mark.parametrize("phone", ["13800000002", "13800000003"])
def test_guides_and_vendors_get_403_on_every_write(demo_app, client, auth, phone):
    m, z, s, _ = ids(demo_app)
    auth.login(phone)
    token = csrf_from(client.get("/password").text)
    for url in WRITES:
        r = client.post(url.format(m=m, z=z, s=s), data={"csrf_token": token})
        assert r.status_code == 403, url
    assert stall_count(demo_app) == 40


def test_cadre_of_another_organization_sees_nothing(demo_app, client):
    from market.models import Role
    from tests import builders as b
    from tests.conftest import Auth

    m, z, s, _ = ids(demo_app)
    with demo_app.app_context():
        b.user("13977776666", Role.CADRE, b.org(), password="other-cadre-1")
        db.session.commit()
    Auth(client).login("13977776666", "other-cadre-1")
    for url in (
        "/zoning/markets/{m}",
        "/zoning/markets/{m}/posters",
        "/zoning/stalls/{s}/qr.png",
        "/zoning/zones/{z}/edit",
        "/zoning/stalls/{s}/edit",
        "/zoning/orgs/1/markets/new",
    ):
        assert client.get(url.format(m=m, z=z, s=s)).status_code == 404, url


@pytest.mark.parametrize(
    "base",
    [
        "http://localhost/",
        "http://127.0.0.1:5000/",
        "http://192.168.1.20:5000",
        "http://10.0.0.7/",
        "http://[::1]:5000/",
        "http://169.254.1.1/",
        "http://market.local/",
    ],
)
def test_codes_to_this_machine_or_its_network_are_only_here(base):
    from market.services.zoning import qr

    assert qr.reachable_only_here(base)


@pytest.mark.parametrize("base", ["https://jinhui.example.cn/", "http://8.8.8.8/", "https://a.b"])
def test_public_addresses_are_reachable(base):
    from market.services.zoning import qr

    assert not qr.reachable_only_here(base)


def test_posters_stall_page_and_notice_warn_before_printing_a_local_address(demo_app, cadre):
    """`make run` on a laptop prints codes for localhost: the pages that print them say so."""
    market_id, zone_id, stall_id, _ = ids(demo_app)
    pages = (
        f"/zoning/markets/{market_id}/posters?zone={zone_id}",
        f"/zoning/stalls/{stall_id}/edit",
        "/p/jinhui/print",
    )
    for path in pages:
        r = cadre.get(path)  # the test client's host is localhost
        assert r.status_code == 200
        assert "PUBLIC_BASE_URL" in r.text and "http://localhost/" in r.text, path
    demo_app.config["PUBLIC_BASE_URL"] = "https://jinhui.example.cn"
    for path in pages:
        assert "PUBLIC_BASE_URL" not in cadre.get(path).text
