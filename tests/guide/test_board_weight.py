"""The board on weak 4G: the first load with every asset under 100 KB on the wire, a poll
under 5 KB, and an unchanged poll a few bytes (compression as a phone browser asks for it)."""

import re

from sqlalchemy import select

from bench.data import rush
from market.extensions import db
from market.models import Stall
from market.services.common.clock import FixedClock, now
from tests.views.test_checkin import confirm

PHONE = {"Accept-Encoding": "gzip, deflate, br"}
ASSET_RE = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def wire_bytes(response) -> int:
    """Body as sent (compressed) plus the header lines."""
    head = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    return len(response.get_data()) + head + 17


def test_first_load_poll_and_unchanged_poll_sizes(demo_app, client, auth):
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=300, vendors=0)
        db.session.commit()
        token = db.session.scalar(select(Stall.qr_token).where(Stall.code == "A-01"))
        market_id = db.session.scalar(select(Stall.market_id).limit(1))
    auth.login("13800000003")
    confirm(client, token)
    auth.logout()
    auth.login("13800000002")

    page = client.get(f"/guide/markets/{market_id}/board", headers=PHONE)
    assert page.status_code == 200
    assert page.headers["Content-Encoding"] in ("br", "gzip", "zstd", "deflate")
    html = page.get_data()  # the test client does not decompress: this is what was sent
    text = client.get(f"/guide/markets/{market_id}/board").text
    assets = sorted(set(ASSET_RE.findall(text)))
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    total = wire_bytes(page)
    for path in assets:
        with client.get(path, headers=PHONE) as asset:
            assert asset.status_code == 200, path
            total += wire_bytes(asset)
    assert len(html) < len(text.encode())  # really compressed
    assert total < 100 * 1024, f"first load is {total} bytes"

    poll = client.get(
        f"/guide/markets/{market_id}/board/live", headers={**PHONE, "HX-Request": "true"}
    )
    assert poll.status_code == 200 and wire_bytes(poll) < 5 * 1024, wire_bytes(poll)
    version = poll.headers["ETag"].split(":")[0].strip('"')
    unchanged = client.get(f"/guide/markets/{market_id}/board/live?v={version}", headers=PHONE)
    assert unchanged.status_code == 204 and unchanged.get_data() == b""
    assert wire_bytes(unchanged) < 1024
