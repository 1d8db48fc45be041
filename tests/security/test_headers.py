"""What the browser is told: security headers on every kind of answer, cookies HttpOnly,
SameSite and Secure behind an HTTPS proxy (ProxyFix, PROXY_COUNT), and no inline script a
CSP without 'unsafe-inline' would block (or need)."""

import re
from pathlib import Path

import pytest

from market import create_app
from market.extensions import db
from tests.conftest import base_config, csrf_from

ROOT = Path(__file__).resolve().parents[2]


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in csp.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login",
        "/healthz",
        "/static/css/app.css",
        "/static/img/icon.svg",
        "/no-such-page",
        "/api/v1/openapi.json",
        "/api/v1/me",
        "/s/not-a-token-at-all-0000000",
    ],
)
def test_every_answer_carries_the_security_headers(client, path):
    with client.get(path) as r:
        headers = r.headers
        assert r.status_code < 500
    csp = _directives(headers["Content-Security-Policy"])
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts == ["'self'"], csp  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_templates_hold_no_inline_script_or_handler():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
    javascript_url = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (inline_script, handler, javascript_url):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found, "inline script (CSP blocks it):\n" + "\n".join(found)


@pytest.fixture
def proxied_app(demo_app, tmp_path):
    """The same database behind one HTTPS-terminating reverse proxy (PROXY_COUNT=1)."""
    config = base_config(tmp_path, demo_app.config["SQLALCHEMY_DATABASE_URI"])
    app = create_app({**config, "PROXY_COUNT": 1})
    yield app
    with app.app_context():
        db.engine.dispose()


HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def _login(client, headers):
    page = client.get("/login?lang=en", headers=headers)
    return page, client.post(
        "/login",
        headers={**headers, "Referer": "https://localhost/login"},
        data={"phone": "13800000001", "password": "demo1234", "csrf_token": csrf_from(page.text)},
    )


def _cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_behind_an_https_proxy_every_cookie_is_secure(proxied_app):
    client = proxied_app.test_client()
    page, login = _login(client, HTTPS)
    assert login.status_code == 302
    cookies = {**_cookies(page), **_cookies(login)}
    assert {"market_session", "lang"} <= set(cookies), cookies
    for name, header in cookies.items():
        assert "; Secure" in header, name
        assert "; HttpOnly" in header, name
        assert "SameSite=Lax" in header, name
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_forwarded_headers_are_ignored_without_a_configured_proxy(demo_app):
    """PROXY_COUNT=0 (the default): anyone could send X-Forwarded-Proto, so it means nothing."""
    client = demo_app.test_client()
    page, login = _login(client, HTTPS)
    assert login.status_code == 302
    for name, header in {**_cookies(page), **_cookies(login)}.items():
        assert "; Secure" not in header, name
        assert "; HttpOnly" in header and "SameSite=Lax" in header, name
    assert "Strict-Transport-Security" not in page.headers
