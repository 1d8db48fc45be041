"""帮摊主登记: a guide registers a phone-less vendor on her own phone and stays herself; the
registration rules every form shares (no default category, food needs a certificate, the
password never echoed, errors on a GET of the form's own URL); passes and suspended pages."""

import re

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import AuditEvent, User, Vendor
from market.services.auth import reset_codes
from tests.conftest import Auth, csrf_from
from tests.views.test_vendors import errors_on_get, form

GUIDE = "13800000002"  # 李秀英, guide of market 1 (金汇)
NEW = "/guide/markets/1/vendors/new?lang=en"
CODE_RE = re.compile(r'class="code-big"[^>]*>(\d{4} \d{4})<')


def guide_registers(client, url=NEW, **kw):
    page = client.get(url)
    data = {k: v for k, v in form(**kw).items() if k != "password"}
    data["csrf_token"] = csrf_from(page.text)
    r = client.post(url, data=data, content_type="multipart/form-data")
    return errors_on_get(client, url, r)


def vendor_id_of(app, phone="13912340001"):
    with app.app_context():
        return db.session.scalar(
            select(Vendor.id).join(User, Vendor.user_id == User.id).where(User.phone == phone)
        )


def test_the_guide_registers_a_vendor_and_stays_herself(demo_app, client, auth):
    auth.login(GUIDE)
    assert "/guide/markets/1/vendors/new" in client.get("/guide/").text
    assert "/guide/markets/1/vendors/new" in client.get("/guide/markets/1/board").text
    r = guide_registers(client)
    assert r.status_code == 302
    vendor_id = vendor_id_of(demo_app)
    assert r.headers["Location"] == f"/guide/markets/1/vendors/{vendor_id}"
    page = client.get(r.headers["Location"] + "?lang=en")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "赵大妈" in page.text and "waiting for approval" in page.text
    assert f"/guide/markets/1/vendors/{vendor_id}/pass" in page.text
    code = CODE_RE.search(page.text).group(1)
    # Shown once: a reload no longer has it.
    assert not CODE_RE.search(client.get(r.headers["Location"]).text)
    # Still the guide: her board answers, and nobody is logged in as the vendor.
    assert client.get("/guide/markets/1/board").status_code == 200
    home = client.get("/vendors/home?lang=en").text
    assert "李秀英" in home and "赵大妈" not in home
    with demo_app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        guide = db.session.scalar(select(User).where(User.phone == GUIDE))
        assert vendor.status == "pending" and vendor.sells_food
        assert not vendor.user.check_password("mango-2026")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == vendor_id))
        assert event.action == "vendor.registered" and event.actor_id == guide.id
    # The vendor sets a password with the code on /login/reset (the reset codes' own page).
    with demo_app.test_request_context():
        reset_codes.redeem("13912340001", code, "new-pass-2026", None)
        db.session.commit()
    auth.logout()
    assert Auth(client).login("13912340001", "new-pass-2026").status_code == 302


def test_the_cadre_sees_who_registered_the_vendor(demo_app, client, auth):
    auth.login(GUIDE)
    guide_registers(client)
    auth.logout()
    auth.login()
    page = client.get(f"/vendors/{vendor_id_of(demo_app)}?lang=en")
    assert "registered by 李秀英" in page.text


def test_the_printed_pass_and_no_pass_once_rejected(demo_app, client, auth):
    auth.login(GUIDE)
    guide_registers(client)
    vendor_id = vendor_id_of(demo_app)
    printed = client.get(f"/guide/markets/1/vendors/{vendor_id}/pass?lang=en")
    assert printed.status_code == 200 and "<svg" in printed.text and "139****0001" in printed.text
    with demo_app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        vendor.status, vendor.status_reason = "rejected", "证件照片看不清"
        db.session.commit()
    assert client.get(f"/guide/markets/1/vendors/{vendor_id}/pass").status_code == 404
    page = client.get(f"/guide/markets/1/vendors/{vendor_id}?lang=en")
    assert f"{vendor_id}/pass" not in page.text and "has no vendor pass" in page.text


def test_only_guides_of_the_market_register_there(demo_app, client, auth):
    auth.login("13800000003")  # a vendor
    assert client.get(NEW).status_code == 403
    auth.logout()
    auth.login(GUIDE)
    assert client.get("/guide/markets/999/vendors/new").status_code == 404
    with demo_app.app_context():
        other = db.session.scalar(select(Vendor.id).where(Vendor.market_id != 1))
    if other:
        assert client.get(f"/guide/markets/1/vendors/{other}").status_code == 404


@pytest.mark.parametrize("url", [NEW, "/vendors/register?market=jinhui&lang=en"])
def test_errors_come_back_on_a_get_of_the_form_own_url(demo_app, client, auth, url):
    """Back after an error never lands on a POST ("Confirm Form Resubmission")."""
    if url == NEW:
        auth.login(GUIDE)
    page = client.get(url)
    data = {**form(health_cert_no=""), "csrf_token": csrf_from(page.text)}
    r = client.post(url, data=data, content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"] == url
    again = client.get(url)
    assert again.status_code == 422 and "health certificate" in again.text
    assert 'value="赵大妈"' in again.text
    assert "mango-2026" not in again.text  # the password is never sent back
    fresh = client.get(url)  # shown once: Back or a reload gives the clean form
    assert fresh.status_code == 200 and 'value="赵大妈"' not in fresh.text


def test_there_is_no_default_category(demo_app, client, auth):
    page = client.get("/vendors/register?market=jinhui&lang=en").text
    select_html = page.split('id="category"', 1)[1].split("</select>", 1)[0]
    first = re.search(r"<option([^>]*)>", select_html).group(1)
    assert 'value=""' in first and "selected" not in select_html
    r = errors_on_get(
        client,
        "/vendors/register?market=jinhui&lang=en",
        client.post(
            "/vendors/register?market=jinhui&lang=en",
            data={**form(category=""), "csrf_token": csrf_from(page)},
            content_type="multipart/form-data",
        ),
    )
    assert "Choose what you sell" in r.text


def test_a_food_category_needs_the_certificate_even_unticked(demo_app, client):
    url = "/vendors/register?market=jinhui&lang=en"
    r = errors_on_get(
        client,
        url,
        client.post(
            url,
            data={
                **form(sells_food=None, health_cert_no="", health_cert_expires=""),
                "csrf_token": csrf_from(client.get(url).text),
            },
            content_type="multipart/form-data",
        ),
    )
    assert r.status_code == 422 and "health certificate" in r.text
    assert vendor_id_of(demo_app) is None


def test_a_suspended_vendor_sees_how_to_reach_the_office(demo_app, client, auth):
    with demo_app.app_context():
        vendor = db.session.get(Vendor, vendor_id_of(demo_app, "13800000004"))
        vendor.status, vendor.status_reason = "suspended", "多次占道经营"
        db.session.commit()
    auth.login("13800000004")
    home = client.get("/vendors/home?lang=en").text
    assert 'href="tel:0812-3335566"' in home and "Office phone" in home


def test_a_rejected_vendor_has_no_pass_on_their_home(demo_app, client, auth):
    with demo_app.app_context():
        vendor = db.session.get(Vendor, vendor_id_of(demo_app, "13800000005"))
        vendor.status, vendor.status_reason = "rejected", "证件照片看不清"
        db.session.commit()
    auth.login("13800000005")
    home = client.get("/vendors/home?lang=en").text
    assert "My vendor pass" not in home and 'class="qr"' not in home
