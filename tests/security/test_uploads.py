"""Uploaded files (vendors' certificate photos, markets' collection codes) can't come back as
a page or a script: HTML, SVG and other non-images are refused and nothing is stored; an image
with a page hidden inside (a polyglot) is re-encoded, the hidden part dropped; what is served is
an image type, with nosniff, never inline HTML."""

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from market.extensions import db
from market.models import Market, Vendor
from tests.conftest import Auth, csrf_from
from tests.views.test_vendors import register

PAYLOAD = b"<script>alert(document.cookie)</script>"
HTML = b"<!doctype html><html><body>" + PAYLOAD + b"</body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    + PAYLOAD
    + b"</svg>"
)
GIF_HTML = b"GIF89a/*\x01\x00\x01\x00*/=1;" + PAYLOAD  # a GIF header that is also a script


def _png_with_page() -> bytes:
    """A real PNG followed by an HTML page: image viewers show the picture, a sniffing
    browser might run the page."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "#c2410c").save(buffer, format="PNG")
    return buffer.getvalue() + HTML


HOSTILE = {
    "html": (HTML, "cert.html"),
    "html-named-jpg": (HTML, "cert.jpg"),
    "svg": (SVG, "cert.svg"),
    "svg-named-png": (SVG, "cert.png"),
    "gif-script": (GIF_HTML, "cert.gif"),
}


def _uploads(app) -> list[Path]:
    root = Path(app.instance_path) / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_non_images_are_refused_and_nothing_is_kept(demo_app, client, kind):
    data, name = HOSTILE[kind]
    r = register(
        client, "/vendors/register?market=jinhui", health_cert_photo=(io.BytesIO(data), name)
    )
    assert r.status_code == 422 and "JPEG" in r.text
    assert _uploads(demo_app) == []
    with demo_app.app_context():
        assert db.session.scalar(select(Vendor.id).where(Vendor.goods == "凉面、凉粉")) is None


def test_a_polyglot_certificate_is_re_encoded_and_served_as_an_image(demo_app, client):
    r = register(
        client,
        "/vendors/register?market=jinhui",
        health_cert_photo=(io.BytesIO(_png_with_page()), "cert.html"),
    )
    assert r.status_code == 302
    (stored,) = _uploads(demo_app)
    assert stored.suffix in (".jpg", ".png") and stored.name != "cert.html"
    assert b"<script" not in stored.read_bytes()
    with demo_app.app_context():
        vendor_id = db.session.scalar(select(Vendor.id).where(Vendor.goods == "凉面、凉粉"))
    page = client.get("/vendors/home")
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    Auth(client).login()
    with client.get(f"/vendors/{vendor_id}/certificate-photo") as r:
        assert r.status_code == 200
        assert r.mimetype in ("image/jpeg", "image/png")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert b"<script" not in r.data
        Image.open(io.BytesIO(r.data)).verify()


def test_a_collection_code_polyglot_is_re_encoded(demo_app, client, auth):
    auth.login()
    with demo_app.app_context():
        market_id = db.session.scalar(select(Market.id).where(Market.slug == "jinhui"))
    url = f"/zoning/markets/{market_id}/edit"
    fields = {"name": "金汇潮汐市场", "slug": "jinhui", "timezone": "Asia/Shanghai"}
    for data, name in (HOSTILE["svg"], HOSTILE["html"]):
        fields["csrf_token"] = csrf_from(client.get(url).text)
        files = {"collection_code": (io.BytesIO(data), name)}
        r = client.post(url, data={**fields, **files}, content_type="multipart/form-data")
        assert r.status_code == 422
    assert _uploads(demo_app) == []
    fields["csrf_token"] = csrf_from(client.get(url).text)
    files = {"collection_code": (io.BytesIO(_png_with_page()), "code.png")}
    r = client.post(url, data={**fields, **files}, content_type="multipart/form-data")
    assert r.status_code == 302
    with client.get(f"/markets/{market_id}/collection-code") as r:
        assert r.status_code == 200 and r.mimetype in ("image/jpeg", "image/png")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert b"<script" not in r.data


def test_uploads_live_outside_the_static_folder(demo_app):
    static = Path(demo_app.static_folder).resolve()
    uploads = (Path(demo_app.instance_path) / "uploads").resolve()
    assert static not in uploads.parents and uploads != static
