"""Stall draws through the API: a cadre announces, a vendor applies (and is refused clearly),
the tick draws, the proof verifies, the vendor reads the outcome; a cadre forfeits."""

from datetime import timedelta

import pytest

from market.extensions import db
from market.models import Market
from market.services.common.clock import FixedClock, now
from market.services.draws import drawing
from tests.api.test_api import bearer, token_for
from tests.services.draws.test_canonical import verifier


@pytest.fixture
def clock(demo_app):
    fixed = FixedClock(now().replace(microsecond=0))
    demo_app.config["CLOCK"] = fixed
    yield fixed
    demo_app.config.pop("CLOCK", None)


def body(at, **change):
    data = {
        "title": "API round",
        "stall_codes": ["C-10", "C-11"],
        "period": (at + timedelta(days=40)).strftime("%Y-%m"),
        "months": 1,
        "fee_fen": 20000,
        "opens_at": (at - timedelta(hours=1)).isoformat(),
        "closes_at": (at + timedelta(hours=1)).isoformat(),
        "draw_at": (at + timedelta(hours=2)).isoformat(),
        "ranked": True,
    }
    data.update(change)
    return data


def test_round_trip(client, demo_app, clock):
    with demo_app.app_context():
        market_id = db.session.scalar(db.select(Market.id).where(Market.slug == "jinhui"))
    cadre = bearer(token_for(client))
    made = client.post(f"/api/v1/markets/{market_id}/draws", json=body(clock()), headers=cadre)
    assert made.status_code == 201, made.json
    round_id = made.json["id"]
    assert len(made.json["commitment"]) == 64
    listed = client.get(f"/api/v1/markets/{market_id}/draws", headers=cadre)
    assert [r["id"] for r in listed.json["items"]] == [round_id] and listed.json["total"] == 1
    again = client.post(f"/api/v1/markets/{market_id}/draws", json=body(clock()), headers=cadre)
    assert again.status_code == 409 and again.json["error"]["code"] == "stalls_held"
    bad = client.post(
        f"/api/v1/markets/{market_id}/draws",
        json=body(clock(), draw_at=clock().isoformat(), stall_codes=["C-01"]),
        headers=cadre,
    )
    assert bad.status_code == 422 and bad.json["error"]["code"] == "times_out_of_order"

    goods = bearer(token_for(client, "13800000004"))
    url = f"/api/v1/draws/{round_id}/application"
    assert client.get(url, headers=goods).status_code == 404
    first = client.post(url, json={"preferences": ["C-11"]}, headers=goods)
    assert first.status_code == 201 and first.json["number"] == 1
    twice = client.post(url, json={}, headers=goods)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_applied"
    odd = client.post(url, json={"preferences": ["Z-99"]}, headers=goods)
    assert odd.status_code in (409, 422)
    food = bearer(token_for(client, "13800000003"))
    wrong = client.post(url, json={}, headers=food)
    assert wrong.status_code == 422 and wrong.json["error"]["code"] == "wrong_category"
    assert client.post(url, json={}, headers=cadre).status_code == 403  # not a vendor

    clock.advance(hours=3)
    late = client.post(url, json={}, headers=food)
    assert late.status_code == 409 and late.json["error"]["code"] == "window_closed"
    with demo_app.app_context():
        assert drawing.tick(clock()) == [
            f"draw {round_id}: applicant list frozen",
            f"draw {round_id}: drawn",
        ]
        db.session.commit()
    mine = client.get(url, headers=goods)
    assert mine.json["state"] == "won" and mine.json["stall"] == "C-11"
    proof = client.get(f"/api/v1/draws/{round_id}")
    assert proof.status_code == 200 and verifier().check(proof.json) is None
    assert proof.json == client.get(f"/p/jinhui/draws/{round_id}.json").json

    application_id = None
    with demo_app.app_context():
        from market.models import DrawApplication

        application_id = db.session.scalar(
            db.select(DrawApplication.id).where(DrawApplication.round_id == round_id)
        )
    forfeit = f"/api/v1/draw-applications/{application_id}/forfeit"
    assert client.post(forfeit, json={"reason": "x"}, headers=goods).status_code == 403
    done = client.post(forfeit, json={"reason": "连续三晚未出摊"}, headers=cadre)
    assert done.status_code == 200 and done.json["state"] == "forfeited"
    assert client.post(forfeit, json={"reason": "again"}, headers=cadre).status_code == 409
    assert client.get("/api/v1/draws/999999").status_code == 404
