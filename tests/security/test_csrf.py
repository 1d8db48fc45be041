"""Every form refuses a request without its CSRF token: each POST/PUT/PATCH/DELETE route of the
pages (enumerated from app.url_map; the JSON API under /api/ authenticates by bearer token,
never by cookie, and is exempt) answers 400 with the expired-form page and writes nothing."""

import pytest

from market.extensions import db
from market.models import Organization
from tests.conftest import Auth

from .objects import one_of_everything
from .routes import WRITE_METHODS, any_arguments, requests_for, unclassified
from .test_object_access import row_counts

ENGLISH = {"Accept-Language": "en"}


def _page_write_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.methods & WRITE_METHODS and not rule.rule.startswith("/api/")
    ]


def _requests(rule, objects):
    if rule.arguments:
        yield from ((m, u) for m, u in requests_for(rule, objects) if m in WRITE_METHODS)
    else:
        assert not any_arguments(rule)
        for method in sorted(rule.methods & WRITE_METHODS):
            yield method, rule.rule


@pytest.mark.parametrize("logged_in", [True, False], ids=["cadre", "anonymous"])
def test_every_form_refuses_a_missing_csrf_token(demo_app, logged_in):
    assert not unclassified(demo_app), "classify the routes first (test_object_access)"
    with demo_app.app_context():  # the cadre's own objects: only the token is missing
        objects = one_of_everything(db.session.scalars(db.select(Organization)).one())
    client = demo_app.test_client()
    if logged_in:
        assert Auth(client).login().status_code == 302
    before = row_counts(demo_app)
    rules = _page_write_rules(demo_app)
    assert len(rules) > 20  # the forms of every area, not an empty list

    wrong = []
    for rule in rules:
        # A step that must survive an expired login (errors.comes_back_to) sends the visitor
        # to log in, or back to its page, to do it again: still nothing written.
        comes_back = getattr(demo_app.view_functions[rule.endpoint], "comes_back_to", None)
        for method, url in _requests(rule, objects):
            r = client.open(url, method=method, data={"name": "x", "reason": "x"}, headers=ENGLISH)
            if comes_back:
                refused = r.status_code == 303 and (
                    r.headers["Location"].startswith("/login?next=/") != logged_in
                )
            else:
                refused = r.status_code == 400 and "reload the page" in r.text
            if not refused:
                wrong.append(f"{method} {url} ({rule.endpoint}) → {r.status_code}")
    assert not wrong, "accepted without a CSRF token:\n" + "\n".join(wrong)
    assert row_counts(demo_app) == before


def test_the_api_takes_no_cookie_authentication(client, auth):
    """Why the API may be exempt: a logged-in browser's cookie does not authenticate it."""
    auth.login()
    assert client.get("/api/v1/me").status_code == 401
    assert (
        client.post("/api/v1/markets/1/zones", json={"code": "X", "name": "x"}).status_code == 401
    )
