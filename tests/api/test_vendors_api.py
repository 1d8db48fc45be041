"""The vendors API: public registration, the vendor's own record, a cadre's decisions."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Stall, User, Vendor
from tests.api.test_api import assert_error, bearer, token_for

FUTURE = (datetime.now(UTC).date() + timedelta(days=100)).isoformat()


def body(**kw):
    data = {
        "market_slug": "jinhui",
        "name": "赵大妈",
        "phone": "13912340001",
        "password": "mango-2026",
        "category": "cooked_food",
        "goods": "凉面",
        "sells_food": True,
        "health_cert_no": "川攀健2026-1",
        "health_cert_expires": FUTURE,
        "agree_to_rules": True,
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vendor))


def test_register_logs_in_and_me(client):
    r = client.post("/api/v1/vendors", json=body())
    assert r.status_code == 201, r.json
    assert r.json["vendor"]["status"] == "pending"
    assert r.json["vendor"]["phone"] == "139****0001"
    me = client.get("/api/v1/vendors/me", headers=bearer(r.json["token"]["access_token"]))
    assert me.status_code == 200 and me.json["name"] == "赵大妈"


def test_register_from_a_stall_token(demo_app, client):
    with demo_app.app_context():
        token = db.session.scalar(select(Stall.qr_token).where(Stall.code == "B-03"))
    r = client.post("/api/v1/vendors", json=body(market_slug=None, stall_token=token))
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("kw", "status", "code"),
    [
        ({"phone": "1391234"}, 422, "invalid_phone"),
        ({"phone": "13800000003"}, 409, "phone_taken"),
        ({"password": "12345678"}, 422, "weak_password"),
        ({"health_cert_expires": "2020-01-01"}, 422, "certificate_expired"),
        ({"health_cert_expires": "01/31/2027"}, 422, "validation_error"),
        ({"agree_to_rules": False}, 422, "rules_not_accepted"),
        ({"market_slug": None}, 422, "validation_error"),
        ({"market_slug": "nowhere"}, 422, "unknown_market"),
        ({"category": "guns"}, 422, None),
        ({"extra": 1}, 422, "validation_error"),
        ({"name": "x" * 31}, 422, "validation_error"),
    ],
)
def test_bad_registrations(demo_app, client, kw, status, code):
    r = client.post("/api/v1/vendors", json=body(**kw))
    assert_error(r, status, code)
    assert count(demo_app) == 3


def test_stale_stall_token_is_410(demo_app, client):
    r = client.post("/api/v1/vendors", json=body(market_slug=None, stall_token="y" * 22))
    assert_error(r, 404, "unknown_token")


def test_registration_rate_limit(client):
    codes = [
        client.post("/api/v1/vendors", json=body(password="bad")).status_code for _ in range(12)
    ]
    assert codes[-1] == 429 and codes[:10] == [422] * 10


def test_list_for_cadres_only(client):
    cadre = bearer(token_for(client))
    r = client.get("/api/v1/vendors?status=approved", headers=cadre)
    assert r.status_code == 200 and r.json["total"] == 2
    assert all("****" in v["phone"] for v in r.json["items"])
    assert client.get("/api/v1/vendors?q=陈", headers=cadre).json["total"] == 1
    assert_error(client.get("/api/v1/vendors?status=odd", headers=cadre), 422)
    assert_error(
        client.get("/api/v1/vendors", headers=bearer(token_for(client, "13800000002"))), 403
    )
    assert_error(client.get("/api/v1/vendors"), 401)


def test_decisions(demo_app, client):
    cadre = bearer(token_for(client))
    with demo_app.app_context():
        pending = db.session.scalar(
            select(Vendor.id)
            .join(User, Vendor.user_id == User.id)
            .where(User.phone == "13800000005")
        )
    assert_error(client.post(f"/api/v1/vendors/{pending}/reject", headers=cadre, json={}), 422)
    r = client.post(f"/api/v1/vendors/{pending}/approve", headers=cadre, json={})
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert_error(client.post(f"/api/v1/vendors/{pending}/approve", headers=cadre, json={}), 409)
    r = client.post(f"/api/v1/vendors/{pending}/suspend", headers=cadre, json={"reason": "占道"})
    assert r.json["status"] == "suspended" and r.json["status_reason"] == "占道"
    guide = bearer(token_for(client, "13800000002"))
    assert_error(client.post(f"/api/v1/vendors/{pending}/reinstate", headers=guide, json={}), 403)
    assert_error(client.post("/api/v1/vendors/999999/approve", headers=cadre, json={}), 404)


def test_me_for_a_non_vendor_is_404(client):
    assert_error(
        client.get("/api/v1/vendors/me", headers=bearer(token_for(client))), 404, "not_a_vendor"
    )
