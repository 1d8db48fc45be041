"""Static files under digest names: what pages print, what the app answers for them, and the
nginx rule (deploy/nginx/) that serves the same names from disk for a year."""

import hashlib
import re
from pathlib import Path

from market.assets import DIGEST_NAME

ROOT = Path(__file__).resolve().parent.parent
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def test_pages_name_assets_by_content_and_those_names_are_cached_for_a_year(sqlite_app):
    client = sqlite_app.test_client()
    html = client.get("/login").text
    assets = ASSET.findall(html)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for url in assets:
        name = url.removeprefix("/static/")
        match = DIGEST_NAME.match(name)
        assert match, url
        plain = ROOT / "static" / (match["stem"] + match["ext"])
        assert match["digest"] == hashlib.sha256(plain.read_bytes()).hexdigest()[:12]
        with client.get(url) as r:
            assert r.status_code == 200 and r.data == plain.read_bytes()
            assert r.cache_control.max_age == 365 * 24 * 3600 and r.cache_control.immutable
            assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_plain_and_stale_names_still_answer_but_are_revalidated(sqlite_app):
    client = sqlite_app.test_client()
    for url in ("/static/css/app.css", "/static/css/app.000000000000.css"):
        with client.get(url) as r:
            assert r.status_code == 200, url
            assert r.data == (ROOT / "static/css/app.css").read_bytes()
            assert not r.cache_control.max_age and not r.cache_control.immutable
    assert client.get("/static/css/nothing.0123456789ab.css").status_code == 404
    assert client.get("/static/../market/config.0123456789ab.py").status_code == 404


def test_nginx_serves_the_same_digest_names_from_disk():
    snippet = (ROOT / "deploy/nginx/snippets/tidal-market.conf").read_text()
    pattern = re.search(r'location ~ "(\^/static/[^"]+)"', snippet)
    assert pattern, "the digest-name location is gone from the nginx snippet"
    # nginx's named captures are PCRE's (?<name>…); Python spells them (?P<name>…)
    rule = re.compile(pattern.group(1).replace("(?<", "(?P<"))
    match = rule.match("/static/vendor/htmx-2.0.11.min.0123456789ab.js")
    assert match and match["asset"] == "vendor/htmx-2.0.11.min" and match["ext"] == "js"
    assert rule.match("/static/css/app.css") is None
