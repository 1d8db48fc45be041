"""Another organization's objects are out of reach: every route with URL arguments (pages and
API, enumerated from app.url_map and classified in tests/security/routes.py), asked by the
staff and a vendor of organization A with organization B's objects, answers 403 or 404 —
never 200, never 500 — and writes nothing."""

import pytest
from sqlalchemy import func, select

from market.extensions import db
from tests.conftest import Auth

from .objects import other_organization
from .routes import API_BODIES, API_FORMS, NOT_OBJECT_ROUTES, requests_for, unclassified

USERS = {"cadre": "13800000001", "guide": "13800000002", "vendor": "13800000003"}


def row_counts(app) -> dict:
    with app.app_context():
        return {
            t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables
        }


def test_every_route_with_arguments_is_classified(demo_app):
    problems = unclassified(demo_app)
    assert not problems, "\n".join(problems)


def _api_token(client, phone):
    r = client.post("/api/v1/auth/token", json={"phone": phone, "password": "demo1234"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


@pytest.mark.parametrize("who", sorted(USERS))
def test_other_organizations_objects_answer_403_or_404(demo_app, who):
    assert not unclassified(demo_app), "classify the routes first (see the test above)"
    with demo_app.app_context():
        objects = other_organization()
    page, api = demo_app.test_client(), demo_app.test_client()
    assert Auth(page).login(USERS[who]).status_code == 302
    bearer = _api_token(api, USERS[who])
    demo_app.config["WTF_CSRF_ENABLED"] = False  # reach the views' own checks, not the CSRF one
    before = row_counts(demo_app)

    wrong = []
    for rule in demo_app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint in NOT_OBJECT_ROUTES:
            continue
        for method, url in requests_for(rule, objects):
            if url.startswith("/api/") and (rule.endpoint, method) in API_FORMS:
                form = API_FORMS[(rule.endpoint, method)]
                r = api.open(url, method=method, headers=bearer, data=form)
            elif url.startswith("/api/"):
                body = API_BODIES.get((rule.endpoint, method), {})
                r = api.open(url, method=method, headers=bearer, json=body)
            else:
                r = page.open(url, method=method, data={})
            if r.status_code not in (403, 404):
                hint = ""
                if r.status_code == 422 and url.startswith("/api/"):
                    hint = f" (add a schema-valid body for {(rule.endpoint, method)} to API_BODIES"
                    " or API_FORMS)"
                wrong.append(f"{method} {url} ({rule.endpoint}) → {r.status_code}{hint}")
    assert not wrong, f"{who} of organization A reached organization B:\n" + "\n".join(wrong)
    assert row_counts(demo_app) == before


def test_a_new_route_without_an_entry_is_named(demo_app):
    demo_app.add_url_rule("/ledger/entries/<int:entry_id>", "ledger.entry", lambda entry_id: "")
    problems = unclassified(demo_app)
    assert len(problems) == 1
    assert "'ledger.entry'" in problems[0] and "OBJECT_ROUTES" in problems[0]
    assert "entry_id" in problems[0]
