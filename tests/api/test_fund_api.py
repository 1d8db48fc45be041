"""The fund's API: a cadre drafts, publishes and puts a project to a household vote, issues the
slips; a resident votes with a code, changes with the change code; the code alone again is a
409; the public summary shows the project without anyone's data."""

from datetime import timedelta

from market.extensions import db
from market.models import Organization
from market.services.common.clock import now
from market.services.fund import ballots
from tests.api.test_api import bearer, token_for


def test_a_project_to_a_household_vote_through_the_api(demo_app, client):
    headers = bearer(token_for(client))
    with demo_app.app_context():
        org = db.session.get(Organization, 1)
        cadre_id = 1
        from market.models import User

        ballots.register_households(
            org, db.session.get(User, cadre_id), "1-1-101 1-1-102", at=now()
        )
        db.session.commit()
        closes = (now() + timedelta(days=3)).isoformat()
    made = client.post(
        "/api/v1/organizations/1/fund/projects",
        json={
            "title": "健身器材更新",
            "place": "小广场",
            "reason": "器材老化",
            "budget_fen": 800_000,
        },
        headers=headers,
    )
    assert made.status_code == 201 and made.json["state"] == "draft"
    pid = made.json["id"]
    assert client.post(f"/api/v1/fund/projects/{pid}/publish", headers=headers).status_code == 200
    vote = client.post(
        f"/api/v1/fund/projects/{pid}/votes", json={"closes_at": closes}, headers=headers
    )
    assert vote.status_code == 201, vote.json
    slips = client.post(f"/api/v1/fund/votes/{vote.json['id']}/slips", headers=headers)
    assert slips.status_code == 201 and len(slips.json["slips"]) == 2
    code = slips.json["slips"][0]["code"]
    url = f"/api/v1/public/jinhui/fund/votes/{vote.json['id']}/ballots"
    first = client.post(url, json={"code": code, "choice": "for"})
    assert first.status_code == 200 and first.json["households_voted"] == 1
    change = first.json["change_code"]
    again = client.post(url, json={"code": code, "choice": "against"})
    assert again.status_code == 409 and again.json["error"]["code"] == "slip_used"
    changed = client.post(url, json={"code": code, "choice": "against", "change_code": change})
    assert changed.status_code == 200 and changed.json["changed"] is True
    guessed = client.post(url, json={"code": "0000-0000-0000", "choice": "for"})
    assert guessed.status_code == 422
    summary = client.get("/api/v1/public/jinhui/fund")
    assert summary.status_code == 200
    [shown] = [p for p in summary.json["projects"] if p["id"] == pid]
    assert shown["votes"][0]["households_voted"] == 1 and shown["votes"][0]["votes_for"] is None
    # A meeting cannot decide while the vote is open.
    meeting = client.post(
        f"/api/v1/fund/projects/{pid}/meetings",
        json={
            "held_on": now().date().isoformat(),
            "total": 3,
            "present": 3,
            "votes_for": 3,
            "votes_against": 0,
            "votes_abstain": 0,
        },
        headers=headers,
    )
    assert meeting.status_code == 409
    assert client.get("/api/v1/organizations/1/fund").status_code == 401
    more = client.post(
        "/api/v1/organizations/1/fund/households",
        json={"households": ["1-1-102", "2-1-101"]},
        headers=headers,
    )
    assert more.status_code == 201 and more.json == {"added": 1, "households": 3}
    bad = client.post(
        "/api/v1/organizations/1/fund/households", json={"households": ["王家"]}, headers=headers
    )
    assert bad.status_code == 422
    voted = client.post(f"/api/v1/fund/votes/{vote.json['id']}/households/1/slip", headers=headers)
    assert voted.status_code == 409  # 1-1-101 voted: its vote stands
    new = client.post(f"/api/v1/fund/votes/{vote.json['id']}/households/2/slip", headers=headers)
    assert new.status_code == 201 and new.json["household"] == "1-1-102"
    old = slips.json["slips"][1]["code"]
    assert client.post(url, json={"code": old, "choice": "for"}).status_code == 422
