"""The public card and complaint API, and the guides' side of it."""

import base64
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from bench.data import rush
from market.extensions import db
from market.models import Complaint, Incident, Market, Stall, User, Vendor
from market.services.checkin import checkins as checkin
from market.services.common.clock import FixedClock, now
from market.services.guide import incidents
from market.services.zoning import places as zoning
from tests.api.test_api import assert_error, bearer, token_for


@pytest.fixture
def evening(demo_app):
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        stalls = {s.code: s for s in db.session.scalars(select(Stall))}
        vendor = db.session.scalar(
            select(Vendor).join(User, Vendor.user_id == User.id).where(User.phone == "13800000003")
        )
        checkin.check_in(stalls["A-01"], vendor, now(), actor=vendor.user)
        db.session.commit()
        return {code: s.qr_token for code, s in stalls.items()}


def stored(app, model=Complaint) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def post(client, body, ip="10.5.0.1", **headers):
    return client.post(
        "/api/v1/complaints", json=body, headers=headers, environ_base={"REMOTE_ADDR": ip}
    )


def png_b64() -> str:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), "green").save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_card_by_token(client, evening):
    r = client.get(f"/api/v1/stalls/by-token/{evening['A-01']}/card")
    assert r.status_code == 200
    card = r.json
    assert card["vendor"]["display_name"] == "王**"
    assert card["vendor"]["health_certificate_valid"] is True
    assert len(card["vendor"]["health_certificate_expires_month"]) == 7
    assert card["registered_with"] == "金汇社区" and card["empty_tonight"] is False
    assert card["hours"][0]["weekdays"] == [1, 2, 3, 4, 5, 6, 7]
    empty = client.get(f"/api/v1/stalls/by-token/{evening['A-02']}/card").json
    assert empty["vendor"] is None and empty["empty_tonight"] is True
    assert_error(client.get("/api/v1/stalls/by-token/not-a-token-at-all-xx/card"), 404)


def test_file_follow_list_resolve(demo_app, client, evening):
    r = post(
        client,
        {
            "stall_token": evening["A-01"],
            "kind": "hygiene",
            "text": "没戴口罩",
            "photo_base64": png_b64(),
        },
    )
    assert r.status_code == 201, r.json
    code = r.json["tracking_code"]
    assert r.json["status"] == "received" and r.json["tracking_url"].endswith(f"/c/{code}")
    public = client.get(f"/api/v1/complaints/{code}").json
    assert public["status"] == "received" and "text" not in public
    with demo_app.app_context():
        stall_id = db.session.scalar(select(Stall.id).where(Stall.code == "A-01"))
        market_id = db.session.scalar(select(Market.id))
        assert stall_id in incidents.flagged_stall_ids(market_id)

    guide = bearer(token_for(client, "13800000002"))
    listing = client.get(f"/api/v1/complaints?market_id={market_id}&state=open", headers=guide)
    assert listing.status_code == 200 and listing.json["total"] == 1
    item = listing.json["items"][0]
    assert item["text"] == "没戴口罩" and item["has_photo"] is True and item["vendor_id"]
    assert_error(client.get(f"/api/v1/complaints?market_id={market_id}"), 401)
    vendor = bearer(token_for(client, "13800000004"))
    assert_error(client.get(f"/api/v1/complaints?market_id={market_id}", headers=vendor), 403)
    assert_error(client.get("/api/v1/complaints?market_id=999", headers=guide), 404)

    url = f"/api/v1/complaints/{item['id']}/resolve"
    assert_error(client.post(url, headers=guide, json={"response": ""}), 422)
    done = client.post(url, headers=guide, json={"response": "已提醒摊主佩戴口罩"})
    assert done.status_code == 200 and done.json["status"] == "handled"
    assert_error(client.post(url, headers=guide, json={"response": "again"}), 409)
    public = client.get(f"/api/v1/complaints/{code}").json
    assert public["status"] == "handled" and public["response"] == "已提醒摊主佩戴口罩"
    with demo_app.app_context():
        assert stall_id not in incidents.flagged_stall_ids(market_id)


def test_market_complaint_with_a_map_cell(demo_app, client, evening):
    r = post(
        client,
        {
            "market_slug": "jinhui",
            "kind": "after_hours",
            "text": "23点还在营业",
            "map_x": 4,
            "map_y": 1,
        },
    )
    assert r.status_code == 201 and r.json["stall_code"] is None
    assert_error(
        post(client, {"market_slug": "nowhere", "kind": "noise", "text": "x"}, ip="10.5.0.9"), 404
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "price", "text": ""}, 422, "text_required"),
        ({"kind": "price", "text": "长" * 10_000}, 422, "too_long"),
        ({"kind": "noise", "text": "吵"}, 422, "bad_kind"),
        (
            {
                "kind": "price",
                "text": "贵",
                "photo_base64": base64.b64encode(b"MZ\x90\x00").decode(),
            },
            422,
            "not_an_image",
        ),
        ({"kind": "price", "text": "贵", "photo_base64": "!!!not base64!!!"}, 422, "not_an_image"),
        ({"kind": "price", "text": "贵", "map_x": 3}, 422, "bad_location"),
        ({"kind": "price", "text": "贵", "market_slug": "jinhui"}, 422, None),
    ],
)
def test_bad_input_stores_nothing(demo_app, client, evening, body, status, code):
    r = post(client, {"stall_token": evening["A-01"], **body})
    error = assert_error(r, status, code)
    assert "Traceback" not in error["message"]
    assert stored(demo_app) == 0 and stored(demo_app, Incident) == 0


def test_unknown_and_rotated_tokens(demo_app, client, evening):
    assert_error(post(client, {"stall_token": "x" * 22, "kind": "price", "text": "贵"}), 404)
    with demo_app.app_context():
        zoning.rotate_token(db.session.scalar(select(Stall).where(Stall.code == "A-04")))
        db.session.commit()
    assert_error(post(client, {"stall_token": evening["A-04"], "kind": "price", "text": "贵"}), 410)
    assert_error(client.get(f"/api/v1/stalls/by-token/{evening['A-04']}/card"), 410)
    assert stored(demo_app) == 0


def test_idempotency_key(demo_app, client, evening):
    body = {"stall_token": evening["A-02"], "kind": "price", "text": "价格不清"}
    first = post(client, body, **{"Idempotency-Key": "abc-1"})
    again = post(client, body, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert first.json["tracking_code"] == again.json["tracking_code"]
    assert_error(
        post(client, {**body, "text": "别的"}, **{"Idempotency-Key": "abc-1"}),
        422,
        "idempotency_key_reused",
    )
    # The same key from another address is another sender's: it finds nothing of the first.
    other = post(client, body, ip="10.5.0.77", **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 201 and other.json["tracking_code"] != first.json["tracking_code"]
    assert stored(demo_app) == 2


def test_second_complaint_needs_the_sum(demo_app, client, evening):
    body = {"stall_token": evening["A-02"], "kind": "price", "text": "贵"}
    assert post(client, body, ip="10.6.0.1").status_code == 201
    error = assert_error(post(client, body, ip="10.6.0.1"), 422, "challenge_required")
    challenge = error["details"]["challenge"]
    a, b = (int(x) for x in challenge["question"].split(" = ")[0].split(" + "))
    wrong = post(
        client,
        {**body, "challenge_token": challenge["token"], "challenge_answer": str(a + b + 1)},
        ip="10.6.0.1",
    )
    assert_error(wrong, 422, "challenge_failed")
    ok = post(
        client,
        {**body, "challenge_token": challenge["token"], "challenge_answer": str(a + b)},
        ip="10.6.0.1",
    )
    assert ok.status_code == 201 and stored(demo_app) == 2


def test_thirty_a_minute_from_one_address_are_429(demo_app, client, evening):
    body = {"stall_token": evening["A-05"], "kind": "price", "text": "贵"}
    answers = [post(client, body, ip="10.7.0.1") for _ in range(30)]
    assert sum(r.status_code == 429 for r in answers) >= 25
    assert_error(answers[-1], 429, "rate_limited")
    assert stored(demo_app) == 1


def test_per_stall_limit_whoever_sends(demo_app, client, evening):
    demo_app.config["COMPLAINT_PLACE_LIMIT"] = "3 per hour"
    body = {"stall_token": evening["A-06"], "kind": "price", "text": "贵"}
    codes = [post(client, body, ip=f"10.8.0.{i}").status_code for i in range(1, 6)]
    assert codes == [201, 201, 201, 429, 429]
    # Another stall is not affected.
    assert post(client, {**body, "stall_token": evening["A-07"]}, ip="10.8.0.9").status_code == 201


def test_guessed_tracking_codes(client, evening):
    for guess in ("1", "2", "AAAAAAAAAAAAAAAAAAAAAA"):
        assert_error(client.get(f"/api/v1/complaints/{guess}"), 404, "unknown_tracking_code")
