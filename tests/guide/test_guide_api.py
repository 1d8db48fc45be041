"""The guide's API: occupancy with its version (304), incidents, a session's cash, hand-overs."""

import pytest
from sqlalchemy import func, select

from bench.data import rush
from market.extensions import db
from market.models import CashHandover, Incident, Stall
from market.services.common.clock import FixedClock, now
from tests.api.test_api import assert_error, bearer, token_for


@pytest.fixture
def open_market(demo_app):
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        db.session.commit()
        stalls = dict(db.session.execute(select(Stall.code, Stall.id)).all())
        market_id = db.session.scalar(select(Stall.market_id).limit(1))
    return market_id, stalls


def test_occupancy_versions_and_304(client, open_market):
    market_id, stalls = open_market
    guide = bearer(token_for(client, "13800000002"))
    vendor = bearer(token_for(client, "13800000003"))
    first = client.get(f"/api/v1/markets/{market_id}/occupancy", headers=guide)
    assert first.status_code == 200 and first.json["counts"]["occupied"] == 0
    etag = first.headers["ETag"]
    assert etag.strip('"') == first.json["version"]
    same = client.get(
        f"/api/v1/markets/{market_id}/occupancy", headers={**guide, "If-None-Match": etag}
    )
    assert same.status_code == 304 and same.data == b""
    ci = client.post("/api/v1/checkins", headers=vendor, json={"stall_id": stalls["A-01"]}).json
    changed = client.get(
        f"/api/v1/markets/{market_id}/occupancy", headers={**guide, "If-None-Match": etag}
    )
    assert changed.status_code == 200
    a01 = next(s for s in changed.json["stalls"] if s["code"] == "A-01")
    assert a01["state"] == "unpaid" and a01["checkin_id"] == ci["id"] and a01["unpaid_fen"] == 1500
    assert changed.json["counts"]["unpaid_fen"] == 1500
    assert_error(client.get(f"/api/v1/markets/{market_id}/occupancy", headers=vendor), 403)
    assert_error(client.get("/api/v1/markets/99999/occupancy", headers=guide), 404)


def test_incident_is_idempotent_and_flags(demo_app, client, open_market):
    market_id, stalls = open_market
    guide = bearer(token_for(client, "13800000002"))
    key = {**guide, "Idempotency-Key": "inc-1"}
    body = {"kind": "noise", "note": "音响太大"}
    r1 = client.post(f"/api/v1/stalls/{stalls['B-02']}/incidents", headers=key, json=body)
    r2 = client.post(f"/api/v1/stalls/{stalls['B-02']}/incidents", headers=key, json=body)
    assert r1.status_code == 201 and r2.json == r1.json
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
    occ = client.get(f"/api/v1/markets/{market_id}/occupancy", headers=guide).json
    assert next(s for s in occ["stalls"] if s["code"] == "B-02")["flagged"] is True
    assert_error(
        client.post(
            f"/api/v1/stalls/{stalls['B-02']}/incidents", headers=guide, json={"kind": "arson"}
        ),
        422,
    )
    assert_error(
        client.post(
            f"/api/v1/stalls/{stalls['B-02']}/incidents",
            headers=guide,
            json={"kind": "other", "note": ""},
        ),
        422,
        "note_required",
    )
    assert_error(
        client.post(
            f"/api/v1/stalls/{stalls['B-02']}/incidents",
            headers=guide,
            json={"kind": "noise", "note": "x" * 501},
        ),
        422,
    )


def test_cash_and_handover_through_the_api(demo_app, client, open_market):
    market_id, stalls = open_market
    guide = bearer(token_for(client, "13800000002"))
    cadre = bearer(token_for(client, "13800000001"))
    vendor = bearer(token_for(client, "13800000003"))
    ci = client.post("/api/v1/checkins", headers=vendor, json={"stall_id": stalls["A-02"]}).json
    paid = client.post(
        f"/api/v1/checkins/{ci['id']}/payments",
        headers=guide,
        json={"method": "cash", "amount_fen": 1500},
    )
    assert paid.status_code == 201
    cash = client.get(f"/api/v1/sessions/{ci['session_id']}/cash", headers=guide).json
    assert cash["total_fen"] == 1500 and cash["guides"][0]["cash_fen"] == 1500
    assert_error(
        client.post(
            "/api/v1/handovers", headers=guide, json={"market_id": market_id, "declared_fen": -1}
        ),
        422,
    )
    h = client.post(
        "/api/v1/handovers",
        headers={**guide, "Idempotency-Key": "h1"},
        json={"market_id": market_id, "declared_fen": 1500},
    )
    again = client.post(
        "/api/v1/handovers",
        headers={**guide, "Idempotency-Key": "h1"},
        json={"market_id": market_id, "declared_fen": 1500},
    )
    assert h.status_code == 201 and again.json == h.json and h.json["expected_fen"] == 1500
    assert_error(
        client.post(
            "/api/v1/handovers", headers=guide, json={"market_id": market_id, "declared_fen": 0}
        ),
        409,
        "nothing_to_hand_over",
    )
    assert_error(
        client.post(
            f"/api/v1/handovers/{h.json['id']}/confirm", headers=guide, json={"received_fen": 1500}
        ),
        403,
    )
    # A count that differs from the records says why.
    assert_error(
        client.post(
            f"/api/v1/handovers/{h.json['id']}/confirm", headers=cadre, json={"received_fen": 1400}
        ),
        422,
        "difference_note_required",
    )
    done = client.post(
        f"/api/v1/handovers/{h.json['id']}/confirm",
        headers=cadre,
        json={"received_fen": 1400, "note": "少一元"},
    )
    assert done.status_code == 200 and done.json["difference_fen"] == -100
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CashHandover)) == 1
