"""Reset codes through the API: staff issue one, the person redeems it for a fresh token;
the old tokens die; both operations are in the OpenAPI document."""

from sqlalchemy import select

from market.extensions import db
from market.models import User
from tests.api.test_api import assert_error, bearer, token_for

GUIDE, ADMIN, VENDOR = "13800000002", "13800000001", "13800000003"
NEW_PASSWORD = "new-secret-42"


def user_id(app, phone):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.phone == phone))


def issue(client, token, target_id, last4):
    return client.post(
        f"/api/v1/users/{target_id}/reset-codes",
        json={"phone_last4": last4},
        headers=bearer(token),
    )


def test_a_guide_issues_a_code_and_the_vendor_redeems_it(demo_app, client):
    vendor_token = token_for(client, VENDOR)
    r = issue(client, token_for(client, GUIDE), user_id(demo_app, VENDOR), VENDOR[-4:])
    assert r.status_code == 201, r.json
    assert set(r.json) == {"user_id", "code", "expires_at"}
    code = r.json["code"]
    assert len(code) == 8 and code.isdigit()

    done = client.post(
        "/api/v1/auth/reset",
        json={"phone": VENDOR, "code": code, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 200, done.json
    assert client.get("/api/v1/me", headers=bearer(done.json["access_token"])).status_code == 200
    assert_error(client.get("/api/v1/me", headers=bearer(vendor_token)), 401, "invalid_token")
    assert token_for(client, VENDOR, NEW_PASSWORD)

    again = client.post(
        "/api/v1/auth/reset",
        json={"phone": VENDOR, "code": code, "new_password": "another-pass-7"},
    )
    assert_error(again, 401, "invalid_reset_code")


def test_refusals(demo_app, client):
    guide, admin = token_for(client, GUIDE), token_for(client, ADMIN)
    vendor_id, admin_id = user_id(demo_app, VENDOR), user_id(demo_app, ADMIN)
    error = assert_error(issue(client, guide, vendor_id, "9999"), 422, "phone_mismatch")
    assert "phone_last4" in error["details"]
    assert_error(issue(client, guide, admin_id, ADMIN[-4:]), 404)
    assert_error(issue(client, admin, admin_id, ADMIN[-4:]), 403, "own_account")
    assert_error(issue(client, token_for(client, VENDOR), vendor_id, VENDOR[-4:]), 403)
    assert_error(issue(client, guide, 2147483647, "0000"), 404)
    weak = client.post(
        "/api/v1/auth/reset", json={"phone": VENDOR, "code": "12345678", "new_password": "123"}
    )
    assert_error(weak, 422, "weak_password")


def test_wrong_codes_lock_the_phone_with_retry_after(client):
    for _ in range(5):
        r = client.post(
            "/api/v1/auth/reset",
            json={"phone": VENDOR, "code": "00000000", "new_password": NEW_PASSWORD},
        )
        assert_error(r, 401, "invalid_reset_code")
    locked = client.post(
        "/api/v1/auth/reset",
        json={"phone": VENDOR, "code": "00000000", "new_password": NEW_PASSWORD},
    )
    assert_error(locked, 429, "too_many_attempts")
    assert int(locked.headers["Retry-After"]) > 0


def test_both_operations_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json
    issue_op = spec["paths"]["/api/v1/users/{user_id}/reset-codes"]["post"]
    assert {"201", "401", "403", "404", "422", "429"} <= set(issue_op["responses"])
    assert issue_op["security"] == [{"bearerAuth": []}]
    reset_op = spec["paths"]["/api/v1/auth/reset"]["post"]
    assert {"200", "401", "422", "429"} <= set(reset_op["responses"])
