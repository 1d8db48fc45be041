"""The public pages (market board, stall card, complaint forms, tracking page and their JSON)
are open by design, so they must show nothing private: no vendor's phone or full name, no
staff notes, no cash hand-over, no expense — asked by an anonymous visitor."""

import json

from market.extensions import db
from market.models import User, Vendor

from .objects import other_organization
from .routes import PUBLIC_FILLS, requests_for


def test_public_pages_show_nothing_private(demo_app):
    with demo_app.app_context():
        objects = other_organization()
        vendor = db.session.get(Vendor, objects["vendor"])
        user = db.session.get(User, vendor.user_id)
        user.name = "乙摊主全名"
        db.session.commit()
        private = {
            "vendor phone": user.phone,
            "vendor full name": user.name,
            "hand-over note": "乙交款",
            "expense": "乙买扫帚",
            "guide's incident note": "乙的事",
        }
    visitor = demo_app.test_client()
    leaks, fetched = [], 0
    for rule in demo_app.url_map.iter_rules():
        if rule.endpoint not in PUBLIC_FILLS:
            continue
        for method, url in requests_for(rule, objects):
            if method != "GET":
                continue
            r = visitor.get(url)
            assert r.status_code < 500, f"GET {url} → {r.status_code}"
            fetched += r.status_code == 200
            # JSON escapes Chinese as \uXXXX: compare the decoded text
            text = json.dumps(r.get_json(), ensure_ascii=False) if r.is_json else r.text
            leaks += [f"GET {url}: {what}" for what, s in private.items() if s in text]
    assert fetched >= 6  # the pages answered: the check above looked at real pages
    assert not leaks, "a public page shows private data:\n" + "\n".join(leaks)
