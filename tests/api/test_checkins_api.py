"""The check-in, payment and fee-rule API on the demo with a session open now."""

import pytest
from sqlalchemy import func, select

from bench.data import rush
from market.extensions import db
from market.models import Charge, Stall
from market.services.common.clock import FixedClock, now
from tests.api.test_api import assert_error, bearer, token_for


@pytest.fixture
def open_market(demo_app):
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        db.session.commit()
        return dict(db.session.execute(select(Stall.code, Stall.id)).all())


def charges(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Charge))


def test_check_in_pay_confirm_checkout(demo_app, client, open_market):
    vendor = bearer(token_for(client, "13800000004"))
    guide = bearer(token_for(client, "13800000002"))
    r = client.post("/api/v1/checkins", headers=vendor, json={"stall_id": open_market["C-01"]})
    assert r.status_code == 201, r.json
    ci = r.json
    assert ci["charge"]["amount_fen"] == 1000 and ci["charge"]["unpaid_fen"] == 1000
    assert ci["receipt_url"].endswith(f"/receipts/{ci['id']}")
    p = client.post(
        f"/api/v1/checkins/{ci['id']}/payments",
        headers=vendor,
        json={"method": "collection_code", "amount_fen": 1000, "reference": "77"},
    )
    assert p.status_code == 201 and p.json["status"] == "pending"
    assert_error(
        client.post(f"/api/v1/payments/{p.json['id']}/confirm", headers=vendor),
        403,
        "separation_of_duties",
    )
    assert client.post(f"/api/v1/payments/{p.json['id']}/confirm", headers=guide).status_code == 200
    got = client.get(f"/api/v1/checkins/{ci['id']}", headers=vendor).json
    assert got["charge"]["unpaid_fen"] == 0
    out = client.post(f"/api/v1/checkins/{ci['id']}/checkout", headers=vendor)
    assert out.json["state"] == "checked_out"
    listing = client.get(f"/api/v1/checkins?session={ci['session_id']}", headers=guide)
    assert listing.status_code == 200 and listing.json["total"] == 1


@pytest.mark.parametrize(
    ("payment", "status", "code"),
    [
        ({"method": "cash", "amount_fen": 99999}, 422, "overpayment"),
        ({"method": "cash", "amount_fen": -5}, 422, "validation_error"),
        ({"method": "cash", "amount_fen": 10.555}, 422, "validation_error"),
        ({"method": "cash", "amount_fen": "1000"}, 422, "validation_error"),
        ({"method": "barter", "amount_fen": 100}, 422, "validation_error"),
        ({"method": "waiver", "amount_fen": 100}, 403, None),  # guides don't waive
    ],
)
def test_bad_payments_write_nothing(demo_app, client, open_market, payment, status, code):
    vendor = bearer(token_for(client, "13800000004"))
    guide = bearer(token_for(client, "13800000002"))
    ci = client.post(
        "/api/v1/checkins", headers=vendor, json={"stall_id": open_market["C-02"]}
    ).json
    r = client.post(f"/api/v1/checkins/{ci['id']}/payments", headers=guide, json=payment)
    assert_error(r, status, code)
    assert client.get(f"/api/v1/checkins/{ci['id']}", headers=vendor).json["payments"] == []


def test_taken_stall_is_409_with_alternatives(demo_app, client, open_market):
    first = bearer(token_for(client, "13800000003"))
    second = bearer(token_for(client, "13800000004"))
    client.post("/api/v1/checkins", headers=first, json={"stall_id": open_market["A-05"]})
    r = client.post("/api/v1/checkins", headers=second, json={"stall_id": open_market["A-05"]})
    error = assert_error(r, 409, "stall_taken")
    assert {a["code"] for a in error["details"]["alternatives"]} and all(
        a["code"] != "A-05" for a in error["details"]["alternatives"]
    )
    assert charges(demo_app) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"stall_token": "short"}, 404, "unknown_token"),
        ({"stall_token": "!" * 22}, 404, "unknown_token"),
        ({}, 422, "validation_error"),
        ({"stall_id": 1, "stall_token": "x" * 22}, 422, "validation_error"),
        ({"stall_id": 99999999}, 404, None),
    ],
)
def test_bad_checkins(demo_app, client, open_market, body, status, code):
    r = client.post("/api/v1/checkins", headers=bearer(token_for(client, "13800000004")), json=body)
    assert_error(r, status, code)
    assert charges(demo_app) == 0


def test_pending_vendor_and_closed_market(demo_app, client, open_market):
    r = client.post(
        "/api/v1/checkins",
        headers=bearer(token_for(client, "13800000005")),
        json={"stall_id": open_market["B-01"]},
    )
    assert_error(r, 403, "not_approved")
    demo_app.config["CLOCK"] = FixedClock(now() + __import__("datetime").timedelta(hours=6))
    r = client.post(
        "/api/v1/checkins",
        headers=bearer(token_for(client, "13800000004")),
        json={"stall_id": open_market["B-01"]},
    )
    assert_error(r, 409, "market_closed")


def test_idempotency_key_reused_with_another_body(demo_app, client, open_market):
    vendor = {**bearer(token_for(client, "13800000004")), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/checkins", headers=vendor, json={"stall_id": open_market["C-05"]})
    again = client.post("/api/v1/checkins", headers=vendor, json={"stall_id": open_market["C-05"]})
    assert first.status_code == again.status_code == 201 and first.json == again.json
    other = client.post("/api/v1/checkins", headers=vendor, json={"stall_id": open_market["C-06"]})
    assert_error(other, 422, "idempotency_key_reused")
    assert charges(demo_app) == 1


def test_guide_checks_in_a_vendor_without_a_smartphone(demo_app, client, open_market):
    from market.models import User, Vendor

    with demo_app.app_context():
        vendor_id = db.session.scalar(
            select(Vendor.id)
            .join(User, Vendor.user_id == User.id)
            .where(User.phone == "13800000004")
        )
    guide = bearer(token_for(client, "13800000002"))
    r = client.post(
        "/api/v1/checkins",
        headers=guide,
        json={"stall_id": open_market["C-07"], "vendor_id": vendor_id},
    )
    assert r.status_code == 201 and r.json["vendor_id"] == vendor_id
    other = bearer(token_for(client, "13800000003"))  # a vendor can't check in someone else
    r = client.post(
        "/api/v1/checkins",
        headers=other,
        json={"stall_id": open_market["C-08"], "vendor_id": vendor_id},
    )
    assert_error(r, 404)


def test_fee_rules(demo_app, client, open_market):
    cadre = bearer(token_for(client))
    r = client.get("/api/v1/markets/1/fee-rules", headers=cadre)
    assert r.status_code == 200 and r.json["total"] == 3
    r = client.post(
        "/api/v1/markets/1/fee-rules",
        headers=cadre,
        json={"zone_id": None, "session_kind": "night", "base_fen": 1200},
    )
    assert r.status_code == 201
    guide = bearer(token_for(client, "13800000002"))
    assert_error(
        client.post("/api/v1/markets/1/fee-rules", headers=guide, json={"base_fen": 1}), 403
    )
    assert_error(
        client.post("/api/v1/markets/1/fee-rules", headers=cadre, json={"base_fen": -1}), 422
    )
    # The new rule is for sessions starting from now: tonight's open session keeps its fee.
    vendor = bearer(token_for(client, "13800000004"))
    ci = client.post(
        "/api/v1/checkins", headers=vendor, json={"stall_id": open_market["C-09"]}
    ).json
    assert ci["charge"]["amount_fen"] == 1000
