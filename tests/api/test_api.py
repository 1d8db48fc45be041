"""The API base: tokens, bearer auth, and one error format for every failure."""

import pytest

from market.extensions import db
from market.models import Market
from tests import builders as b


def token_for(client, phone="13800000001", password="demo1234"):
    r = client.post("/api/v1/auth/token", json={"phone": phone, "password": password})
    assert r.status_code == 200, r.json
    return r.json["access_token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_error(r, status, code=None):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.is_json
    error = r.json["error"]
    assert set(error) <= {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    return error


def test_token_issue(client):
    r = client.post("/api/v1/auth/token", json={"phone": "13800000001", "password": "demo1234"})
    assert r.status_code == 200
    assert r.json["token_type"] == "Bearer"
    assert r.json["expires_in"] > 0
    me = client.get("/api/v1/me", headers=bearer(r.json["access_token"]))
    assert me.status_code == 200
    assert me.json["phone"] == "138****0001"
    assert {"role": "admin", "organization_id": 1, "market_id": None} in me.json["roles"]


def test_wrong_credentials_401(client):
    r = client.post("/api/v1/auth/token", json={"phone": "13800000001", "password": "nope-nope"})
    assert_error(r, 401, "invalid_credentials")


def test_missing_token_401(client):
    assert_error(client.get("/api/v1/me"), 401, "missing_token")


def test_invalid_token_401(client):
    assert_error(client.get("/api/v1/me", headers=bearer("not.a.token")), 401, "invalid_token")


def test_expired_token_401(demo_app, client):
    token = token_for(client)
    demo_app.config["API_TOKEN_TTL"] = -1
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "token_expired")


def test_token_signed_by_another_key_is_refused(demo_app, client):
    token = token_for(client)
    demo_app.config["SECRET_KEY"] = "another-key"
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")


def test_password_change_revokes_tokens(demo_app, client):
    token = token_for(client, "13800000004")
    with demo_app.app_context():
        from market.services.auth import accounts

        user = accounts.user_by_phone("13800000004")
        accounts.change_password(user, "demo1234", "a-new-pass-77")
        db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")
    assert (
        client.get(
            "/api/v1/me", headers=bearer(token_for(client, "13800000004", "a-new-pass-77"))
        ).status_code
        == 200
    )


def test_400_malformed_json(client):
    r = client.post(
        "/api/v1/auth/token", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code in (400, 422)
    assert_error(r, r.status_code)


def test_422_validation_details(client):
    r = client.post("/api/v1/auth/token", json={"phone": "13800000001"})
    error = assert_error(r, 422, "validation_error")
    assert "password" in str(error["details"])


def test_404_unknown_route_and_object(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    token = token_for(client)
    assert_error(client.get("/api/v1/markets/424242", headers=bearer(token)), 404, "not_found")
    r = client.get("/api/v1/markets/99999999999999999999", headers=bearer(token))
    assert_error(r, 404, "not_found")


def test_405_keeps_allow_header(client):
    r = client.delete("/api/v1/me")
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]


def test_403_for_a_vendor_on_staff_data(demo_app, client):
    with demo_app.app_context():
        market_id = db.session.scalar(db.select(Market.id))
    token = token_for(client, "13800000003")
    assert_error(
        client.get(f"/api/v1/markets/{market_id}", headers=bearer(token)), 403, "forbidden"
    )


def test_guide_of_another_market_gets_404(demo_app, client):
    with demo_app.app_context():
        other = b.market(slug="other-api")
        db.session.commit()
        other_id = other.id
        own_id = db.session.scalar(db.select(Market.id).where(Market.slug == "jinhui"))
    token = token_for(client, "13800000002")
    assert client.get(f"/api/v1/markets/{own_id}", headers=bearer(token)).status_code == 200
    assert_error(client.get(f"/api/v1/markets/{other_id}", headers=bearer(token)), 404)


def test_token_endpoint_is_rate_limited(client):
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"phone": "13800000001", "password": "bad-pass"})
    r = client.post("/api/v1/auth/token", json={"phone": "13800000001", "password": "bad-pass"})
    assert_error(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) > 0


def test_errors_are_translated(client):
    r = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert "Authorization" in r.json["error"]["message"]
    r = client.get("/api/v1/me?lang=zh")
    assert "请在请求头中提供" in r.json["error"]["message"]


def test_api_needs_no_csrf_token(client):
    r = client.post("/api/v1/auth/token", json={"phone": "13800000001", "password": "demo1234"})
    assert r.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/openapi.json"])
def test_openapi_document(client, path):
    r = client.get(path)
    assert r.status_code == 200
    spec = r.json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/auth/token", "/api/v1/me"} <= set(spec["paths"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]
