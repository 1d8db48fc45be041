"""Registering on a phone, the vendor's home, and the cadre's queue, list and decisions."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Stall, User, Vendor
from tests.conftest import Auth, csrf_from

FUTURE = (datetime.now(UTC).date() + timedelta(days=200)).isoformat()


def token_of(app, code="A-01"):
    with app.app_context():
        return db.session.scalar(select(Stall.qr_token).where(Stall.code == code))


def form(**kw):
    data = {
        "name": "赵大妈",
        "phone": "13912340001",
        "password": "mango-2026",
        "category": "cooked_food",
        "goods": "凉面、凉粉",
        "sells_food": "y",
        "health_cert_no": "川攀健2026-777",
        "health_cert_expires": FUTURE,
        "relief_kind": "",
        "agree": "y",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def register(client, url, **kw):
    page = client.get(url)
    data = form(**kw)
    data["csrf_token"] = csrf_from(page.text)
    return errors_on_get(
        client, url, client.post(url, data=data, content_type="multipart/form-data")
    )


def errors_on_get(client, url, response):
    """A form with errors answers its POST with a redirect to its own URL, whose GET shows
    them (Back then never asks to resubmit the form)."""
    if response.status_code != 303:
        return response
    assert response.headers["Location"] == url
    return client.get(url)


def vendors_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vendor))


def test_scan_page_links_to_registration(demo_app, client):
    token = token_of(demo_app)
    page = client.get(f"/s/{token}")
    assert f"/vendors/register?stall={token}" in page.text


def test_register_from_a_stall_poster(demo_app, client):
    token = token_of(demo_app)
    url = f"/vendors/register?stall={token}"
    page = client.get(url)
    assert "金汇潮汐市场" in page.text and "熟食" in page.text  # category labels from its zones
    r = register(client, url)
    assert r.status_code == 302
    home = client.get(r.headers["Location"])
    assert "等待社区审核" in home.text
    assert f"/s/{token}" in home.text  # back to the stall
    with demo_app.app_context():
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13912340001")
        )
        assert vendor.status == "pending" and vendor.market.slug == "jinhui"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"phone": "1391234"}, "11 位手机号"),
        ({"phone": "13800000003"}, "已注册"),
        ({"password": "12345678"}, "密码太简单"),
        ({"health_cert_expires": "2020-01-01"}, "已过期"),
        ({"health_cert_expires": "31/01/2027"}, "日期"),
        ({"agree": None}, "同意"),
        ({"health_cert_no": ""}, "健康证"),
    ],
)
def test_bad_registrations_keep_the_form(demo_app, client, kw, message):
    r = register(client, "/vendors/register?market=jinhui", **kw)
    assert 400 <= r.status_code < 500
    assert message in r.text
    assert 'value="赵大妈"' in r.text and "凉面、凉粉" in r.text  # nothing typed is lost
    assert r.headers["Cache-Control"] == "no-store"
    assert vendors_count(demo_app) == 3


def test_html_in_the_name_is_escaped(demo_app, client, auth):
    r = register(client, "/vendors/register?market=jinhui", name="<script>alert(1)</script>")
    assert r.status_code == 302
    page = client.get("/vendors/home")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    auth.login()
    queue = client.get("/vendors/queue")
    assert "<script>alert(1)" not in queue.text and "&lt;script&gt;" in queue.text


def _png(size=(400, 300)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#ffffff").save(buffer, format="PNG")
    return buffer.getvalue()


def test_certificate_photo_upload_rules(demo_app, client):
    url = "/vendors/register?market=jinhui"
    pdf = (io.BytesIO(b"%PDF-1.7 not an image" * 50), "健康证.jpg")
    r = register(client, url, health_cert_photo=pdf)
    assert r.status_code == 422 and "JPEG" in r.text and 'value="赵大妈"' in r.text
    demo_app.config["UPLOAD_MAX_BYTES"] = 50 * 1024
    big = (io.BytesIO(b"\xff\xd8\xff" + b"0" * 100 * 1024), "big.jpg")
    r = register(client, url, health_cert_photo=big)
    assert r.status_code == 413
    assert vendors_count(demo_app) == 3
    r = register(client, url, health_cert_photo=(io.BytesIO(_png()), "cert.png"))
    assert r.status_code == 302


def test_photo_served_only_to_cadres_of_the_organization(demo_app, client, auth):
    register(
        client,
        "/vendors/register?market=jinhui",
        health_cert_photo=(io.BytesIO(_png()), "cert.png"),
    )
    with demo_app.app_context():
        vendor_id = db.session.scalar(
            select(Vendor.id).where(Vendor.health_cert_photo.is_not(None))
        )
    assert client.get(f"/vendors/{vendor_id}/certificate-photo").status_code == 403  # the vendor
    page = client.get("/vendors/home")
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    auth.login("13800000002")  # a guide
    assert client.get(f"/vendors/{vendor_id}/certificate-photo").status_code == 403
    auth.logout()
    auth.login("13800000001")
    with client.get(f"/vendors/{vendor_id}/certificate-photo") as r:
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        assert "no-store" in r.headers["Cache-Control"]


def test_registration_is_rate_limited(demo_app, client):
    statuses = []
    for i in range(12):
        r = register(
            client, "/vendors/register?market=jinhui", phone=f"1391234{i:04d}", password="x"
        )
        statuses.append(r.status_code)
    assert statuses[:10] == [422] * 10 and statuses[10:] == [429, 429]


def test_cadre_approves_from_the_queue_and_vendor_sees_pass(demo_app, client, auth):
    register(client, "/vendors/register?market=jinhui")
    page = client.get("/vendors/home")
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    auth.login()
    queue = client.get("/vendors/queue")
    assert (
        "赵大妈" in queue.text and "139****0001" in queue.text and "13912340001" not in queue.text
    )
    with demo_app.app_context():
        vendor_id = db.session.scalar(
            select(Vendor.id)
            .join(User, Vendor.user_id == User.id)
            .where(User.phone == "13912340001")
        )
    r = client.post(f"/vendors/{vendor_id}/reject", data={"csrf_token": csrf_from(queue.text)})
    assert r.status_code == 303
    assert "请说明原因" in client.get(r.headers["Location"]).text or True
    with demo_app.app_context():
        assert db.session.get(Vendor, vendor_id).status == "pending"  # no reason, no rejection
    r = client.post(f"/vendors/{vendor_id}/approve", data={"csrf_token": csrf_from(queue.text)})
    assert r.status_code == 303
    detail = client.get(f"/vendors/{vendor_id}")
    assert "13912340001" in detail.text  # the cadre sees the full number on this page only
    assert "已通过" in detail.text
    auth.logout()
    Auth(client).login("13912340001", "mango-2026")
    home = client.get("/vendors/home")
    assert "已通过审核" in home.text and 'class="qr"' in home.text


def test_vendor_pass_identifies_the_vendor_to_a_guide(demo_app, client, auth):
    from market.services.vendors import passes as vendor_pass
    from market.services.zoning import qr

    auth.login("13800000003")
    home = client.get("/vendors/home")
    with demo_app.app_context():
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13800000003")
        )
        path = f"/guide/pass/{vendor_pass.pass_token(vendor)}"
        modules = qr.qr_svg(f"http://localhost{path}").split('d="', 1)[1].split('"', 1)[0]
    assert modules in home.text  # the pass QR on the home page encodes exactly this URL
    auth.logout()
    auth.login("13800000002")
    r = client.get(path)
    assert r.status_code == 200 and "王德华" in r.text and "138****0003" in r.text
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_expired_certificate_warning_on_home(demo_app, client, auth):
    with demo_app.app_context():
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13800000003")
        )
        vendor.health_cert_expires = datetime.now(UTC).date() - timedelta(days=2)
        db.session.commit()
    auth.login("13800000003")
    assert "健康证已于" in client.get("/vendors/home").text
    assert "expired on" in client.get("/vendors/home?lang=en").text


def test_vendor_list_search_and_privacy(demo_app, client, auth):
    auth.login()
    r = client.get("/vendors/list?q=王")
    assert "王德华" in r.text and "刘桂芳" not in r.text and "138****0003" in r.text
    assert "13800000003" not in r.text
    assert "刘桂芳" in client.get("/vendors/list?q=0004").text
    assert "陈志强" in client.get("/vendors/list?status=pending").text
    assert client.get("/vendors/list?status=nonsense").status_code == 400
    assert client.get("/vendors/list?page=abc").status_code == 200


def test_vendor_and_guide_refused_cadre_pages(demo_app, client, auth):
    with demo_app.app_context():
        vendor_id = db.session.scalar(select(Vendor.id))
    auth.login("13800000003")
    token = csrf_from(client.get("/password").text)
    for url in ("/vendors/queue", "/vendors/list", f"/vendors/{vendor_id}"):
        assert client.get(url).status_code == 403
    for action in ("approve", "reject", "suspend", "reinstate"):
        assert (
            client.post(f"/vendors/{vendor_id}/{action}", data={"csrf_token": token}).status_code
            == 403
        )


def test_changing_certificate_goes_back_for_approval(demo_app, client, auth):
    auth.login("13800000003")
    page = client.get("/vendors/details")
    new_expiry = (datetime.now(UTC).date() + timedelta(days=500)).isoformat()
    data = form(health_cert_no="川攀健2027-001", health_cert_expires=new_expiry)
    for key in ("name", "phone", "password", "agree"):
        data.pop(key)
    data["csrf_token"] = csrf_from(page.text)
    r = client.post("/vendors/details", data=data)
    assert r.status_code == 302
    home = client.get("/vendors/home")
    assert "已通过审核" in home.text and "等待社区办公室审核" in home.text


def test_a_20_mb_photo_is_refused_with_the_form_kept(demo_app, client):
    """Sent as a browser would: one multipart body, the photo far over the limit."""
    url = "/vendors/register?market=jinhui"
    token = csrf_from(client.get(url).text)
    boundary = "----market-test-boundary"
    parts = []
    for key, value in {**form(), "csrf_token": token}.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="health_cert_photo"; '
        f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + b"\xff\xd8\xff"
        + b"\0" * (20 * 1024 * 1024)
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    r = client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    r = errors_on_get(client, url, r)
    assert r.status_code == 413
    assert "文件超过" in r.text and 'value="赵大妈"' in r.text
    assert vendors_count(demo_app) == 3


def test_the_cadre_sees_a_relief_claims_state_in_words(demo_app, client, auth):
    with demo_app.app_context():
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13800000004")
        )
        vendor.relief_kind, vendor.relief_status = "low_income", "claimed"
        db.session.commit()
        vendor_id = vendor.id
    auth.login()
    page = client.get(f"/vendors/{vendor_id}").text
    assert "（审核中）" in page.replace("(", "（").replace(")", "）")
    assert "claimed" not in page
