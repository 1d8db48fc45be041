"""Password guessing is cut off at 429, on the login page and on the API token endpoint,
whichever account is tried and whatever X-Forwarded-For the guesser sends.

One phone locks after LOGIN_PHONE_LIMIT wrong passwords (tests/services/auth); one address
after LOGIN_ADDRESS_LIMIT, higher, so a market's vendors on one Wi-Fi do not lock each other
out: the guesses below go to a new phone each, as a guesser's would."""

import pytest

from market import create_app
from market.extensions import db
from tests.conftest import base_config, csrf_from


def _web_try(client, phone, password, headers=None):
    page = client.get("/login", headers=headers)
    data = {"phone": phone, "password": password, "csrf_token": csrf_from(page.text)}
    return client.post("/login", data=data, headers=headers).status_code


def _api_try(client, phone, password, headers=None):
    body = {"phone": phone, "password": password}
    return client.post("/api/v1/auth/token", json=body, headers=headers).status_code


TRIES = {"web": _web_try, "api": _api_try}


def _phones(n: int) -> list[str]:
    return [f"139{k:08d}" for k in range(1, n + 1)]


@pytest.mark.parametrize("where", sorted(TRIES))
def test_guessing_many_accounts_from_one_address_is_429(client, where):
    attempt = TRIES[where]
    limit = client.application.config["LOGIN_ADDRESS_LIMIT"]
    phones = ["13800000002", *_phones(limit)]  # a real account among them
    statuses = [attempt(client, phone, "guess-123") for phone in phones]
    assert statuses == [401] * limit + [429]
    assert attempt(client, "13800000001", "demo1234") == 429  # the right one waits too


@pytest.mark.parametrize("where", sorted(TRIES))
def test_a_spoofed_forwarded_for_does_not_reset_the_count(client, where):
    attempt = TRIES[where]
    limit = client.application.config["LOGIN_ADDRESS_LIMIT"]
    statuses = [
        attempt(client, phone, "guess-123", {"X-Forwarded-For": f"198.51.100.{n}"})
        for n, phone in enumerate(_phones(limit + 1))
    ]
    assert statuses == [401] * limit + [429]


@pytest.mark.parametrize("where", sorted(TRIES))
def test_behind_a_proxy_the_client_address_is_counted(demo_app, tmp_path, where):
    """PROXY_COUNT=1: the address the proxy appended counts; what the client put before it
    does not, and another client is not blocked by the guesser."""
    config = base_config(tmp_path, demo_app.config["SQLALCHEMY_DATABASE_URI"])
    app = create_app({**config, "PROXY_COUNT": 1})
    client = app.test_client()
    attempt = TRIES[where]
    limit = app.config["LOGIN_ADDRESS_LIMIT"]
    statuses = [
        attempt(client, phone, "guess", {"X-Forwarded-For": f"10.0.0.{n}, 203.0.113.9"})
        for n, phone in enumerate(["13800000001", *_phones(limit)])
    ]
    assert statuses == [401] * limit + [429]
    other_client = attempt(client, "13800000001", "demo1234", {"X-Forwarded-For": "203.0.113.10"})
    with app.app_context():
        db.engine.dispose()
    assert other_client in (200, 302)
