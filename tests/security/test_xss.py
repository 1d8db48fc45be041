"""Hostile text in every free-text column comes back escaped on every page that shows it.

Every string column of the models is classified below: free text (a person can type it) or
not (validated codes, enums, tokens, hashes). A new string column fails the first test until it
is classified. The second fills every free-text value with markup, then fetches every page of
the app (GET routes from app.url_map, full and htmx partial) as cadre, guide, vendor and
visitor: the raw markup must never appear, and the values staff read must appear escaped."""

from urllib.parse import urlencode

from sqlalchemy import String, Text, cast, literal, update
from sqlalchemy.exc import IntegrityError

from market.extensions import db
from market.guide.views import VIEWS
from market.models import (
    IncidentState,
    Market,
    Organization,
    Stall,
    StallStatus,
    User,
    Vendor,
    VendorStatus,
)
from tests.conftest import Auth

from .objects import one_of_everything
from .routes import OBJECT_ROUTES, PUBLIC_FILLS, requests_for

FREE_TEXT = {
    "organizations": ["name", "short_name", "contact_phone", "address"],
    "users": ["name"],
    "markets": ["name", "address", "public_notice", "rules_text"],
    "zones": ["name", "categories", "goods_note"],
    "stalls": ["disabled_reason"],
    "vendors": ["status_reason", "goods", "health_cert_no", "pending_cert_no", "relief_note"],
    "session_templates": ["name"],
    "market_sessions": ["cancel_reason", "change_note"],
    "market_closures": ["reason"],
    "fee_rules": ["note"],
    "payments": ["reference", "note"],
    "cash_handovers": ["note"],
    "incidents": ["note", "resolution"],
    "ledger_accounts": ["name"],
    "ledger_entries": ["description"],
    "ledger_lines": ["memo"],
    "complaints": ["text"],
    "expenses": ["description", "rejection_reason"],
    "areas": ["name"],
    "question_messages": ["body"],
    "fund_projects": ["title", "place", "reason", "decline_reason", "report"],
    "draw_rounds": ["title"],
}
NOT_FREE_TEXT = {
    "validated by a service rule (digits, codes, slugs, zones, colours)": [
        "users.phone", "users.locale", "markets.slug", "markets.timezone", "zones.code",
        "zones.color", "stalls.code", "ledger_accounts.code",
        "fund_households.label",
    ],
    "one of a fixed set of values": [
        "role_grants.role", "session_templates.kind", "market_sessions.kind",
        "market_sessions.state", "vendors.status", "vendors.category", "vendors.relief_kind",
        "vendors.relief_status", "relief_rules.relief_kind", "fee_rules.session_kind",
        "stalls.status", "checkins.state", "monthly_passes.status", "payments.method",
        "payments.status", "cash_handovers.state", "incidents.kind", "incidents.source",
        "incidents.state", "ledger_accounts.kind", "complaints.kind", "expenses.paid_from",
        "expenses.state", "ledger_accounts.key", "area_grants.role",
        "questions.state", "questions.subject_kind", "question_messages.kind",
        "fund_projects.state", "fund_projects.decided_by", "fund_meetings.outcome",
        "fund_votes.state", "fund_votes.outcome", "fund_ballots.choice",
        "draw_rounds.state", "draw_rounds.priority_kinds", "draw_applications.state",
    ],
    "stall codes of the round, checked by the draw service": ["draw_applications.preferences"],
    "a flag's key or a date the app writes from the record asked about": [
        "questions.subject_key",
    ],
    "random names and tokens the app makes": [
        "stalls.qr_token", "retired_stall_tokens.token", "markets.collection_code_path",
        "vendors.health_cert_photo", "vendors.pending_cert_photo", "incidents.photo",
        "scheduler_leases.name", "scheduler_leases.holder", "complaints.tracking_code",
        "complaints.short_code", "complaints.photo", "expenses.receipt_photo",
        "fund_projects.photo", "fund_projects.done_photo", "fund_meetings.minutes_photo",
        "fund_ballots.id",
    ],
    "hashes and machine records, never shown as text": [
        "users.password_hash", "ledger_entries.source_key", "ledger_entries.prev_hash",
        "ledger_entries.entry_hash", "idempotency_records.scope", "idempotency_records.key",
        "idempotency_records.request_hash", "idempotency_records.response_body",
        "audit_events.action", "audit_events.object_type", "audit_events.detail",
        "audit_events.ip", "charges.breakdown", "complaints.ip_hash",
        "complaints.idempotency_key", "complaints.request_hash",
        "ledger_month_closes.expenses_detail", "login_failures.key",
        "login_sessions.key_hash", "reset_codes.code_hash",
        "ledger_chain_checkpoints.entry_hash", "ledger_chain_checkpoints.balances",
        "fund_projects.ip_hash", "fund_ballot_codes.code_hash", "fund_ballots.receipt_hash",
        "draw_rounds.commitment", "draw_rounds.sealed_secret", "draw_rounds.list_hash",
        "draw_rounds.revealed_secret", "draw_rounds.frozen_list", "draw_rounds.result",
    ],
}  # fmt: skip
MUST_BE_SHOWN = {
    "users.name", "markets.name", "zones.name", "vendors.goods", "session_templates.name",
    "market_closures.reason", "stalls.disabled_reason", "organizations.name",
}  # fmt: skip
# What vendors, guides and complainants type, on the staff pages that show it (the demo's
# guide and cadre see every page of the crawl).
PEOPLES_TEXT = {
    "users.name", "vendors.goods", "vendors.status_reason", "vendors.relief_note",
    "vendors.health_cert_no", "cash_handovers.note", "incidents.note", "complaints.text",
}  # fmt: skip
# Report pages and the people they name: the vendor's name is the title of their history,
# formatted into a translated string (where Flask-Babel's lazy strings let markup through).
REPORTS_SHOW = {"reports.vendor_history": {"users.name"}, "reports.handovers": {"users.name"}}
USERS = {"cadre": "13800000001", "guide": "13800000002", "vendor": "13800000003"}


def _queries(objects) -> dict[str, list[dict]]:
    """Pages that show a person's text only when the query string asks for it (a report for
    one vendor, the board as a list, a filtered list): each is fetched bare and with these."""
    return {
        "reports.vendor_history": [{"vendor": objects["vendor"]}],
        "reports.handovers": [{"from": "2000-01-01"}],
        "guide.board": [{"view": v} for v in VIEWS],
        "guide.board_live": [{"view": v} for v in VIEWS],
        "guide.stall_panel": [{"q": "q7"}],
        "vendors.listing": [{"q": "q7"}] + [{"status": s} for s in VendorStatus.ALL],
        "complaints.market_complaints": [{"state": s} for s in IncidentState.ALL],
        "zoning.market": [{"zone": objects["zone"]}],
    }


def _string_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text):
                yield f"{table.name}.{column.name}"


def test_every_string_column_is_classified():
    free = {f"{t}.{c}" for t, cols in FREE_TEXT.items() for c in cols}
    other = {name for names in NOT_FREE_TEXT.values() for name in names}
    columns = set(_string_columns())
    missing = sorted(columns - free - other)
    assert not missing, (
        "string columns not classified in tests/security/test_xss.py: add each to FREE_TEXT "
        f"(people type it) or NOT_FREE_TEXT (with the reason): {missing}"
    )
    assert not (free | other) - columns, sorted((free | other) - columns)


def _poison(app) -> dict[str, str]:
    """Markup in every free-text value of every row (empty ones too, where the constraints
    let them be filled alone); returns marker → column."""
    markers = {}
    with app.app_context():
        for n, (table_name, columns) in enumerate(FREE_TEXT.items()):
            table = db.metadata.tables[table_name]
            for m, column in enumerate(columns):
                marker = f"{n}x{m}"
                markers[marker] = f"{table_name}.{column}"
                # the row id keeps values unique where the schema wants them unique
                value = literal(f"<q7>{marker}\"'&") + cast(table.c.id, String)
                try:
                    with db.session.begin_nested():
                        db.session.execute(update(table).values({column: value}))
                except IntegrityError:  # e.g. a pending certificate number needs its photo
                    db.session.execute(
                        update(table).where(table.c[column].is_not(None)).values({column: value})
                    )
        db.session.commit()
    return markers


def _pages(app, objects):
    queries = _queries(objects)
    assert set(queries) <= {r.endpoint for r in app.url_map.iter_rules()}, "a stale query"
    for endpoint, url in _bare_pages(app, objects):
        yield endpoint, url
        for query in queries.get(endpoint, []):
            yield endpoint, f"{url}?{urlencode(query)}"


def _bare_pages(app, objects):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static/")):
            continue
        if not rule.arguments:
            yield rule.endpoint, rule.rule
        elif rule.endpoint in OBJECT_ROUTES or rule.endpoint in PUBLIC_FILLS:
            for method, url in requests_for(rule, objects):
                if method == "GET":
                    yield rule.endpoint, url


def test_markup_in_every_text_field_comes_back_escaped(demo_app):
    with demo_app.app_context():
        organization = db.session.scalars(db.select(Organization)).one()
        objects = one_of_everything(organization)
        db.session.execute(  # a disabled stall shows its reason
            update(Stall)
            .where(Stall.id == objects["stall"])
            .values(status=StallStatus.DISABLED, disabled_reason="修")
        )
        db.session.commit()
    clients = {"visitor": demo_app.test_client()}
    for who, phone in USERS.items():
        clients[who] = demo_app.test_client()
        assert Auth(clients[who]).login(phone).status_code == 302
    markers = _poison(demo_app)
    pages = sorted(set(_pages(demo_app, objects)))
    assert len(pages) > 25

    raw, errors, shown, shown_on = [], [], set(), {}
    for who, client in clients.items():
        for endpoint, url in pages:
            for headers in ({}, {"HX-Request": "true"}):
                with client.get(url, headers=headers) as r:
                    if r.status_code >= 500:
                        errors.append(f"{who} GET {url} → {r.status_code}")
                    if r.mimetype != "text/html":
                        continue
                    text = r.get_data(as_text=True)
                if "<q7>" in text:
                    at = text.index("<q7>")
                    raw.append(f"{who} GET {url} ({endpoint}): …{text[at - 60 : at + 20]}…")
                here = {col for m, col in markers.items() if f"&lt;q7&gt;{m}&#34;" in text}
                shown |= here
                shown_on.setdefault(endpoint, set()).update(here)
    assert not errors, "\n".join(errors)
    assert not raw, "markup came back unescaped:\n" + "\n".join(raw)
    assert shown >= MUST_BE_SHOWN, f"never shown (the crawl missed them): {MUST_BE_SHOWN - shown}"
    assert shown >= PEOPLES_TEXT, f"people's text never shown: {PEOPLES_TEXT - shown}"
    for endpoint, columns in REPORTS_SHOW.items():
        missed = columns - shown_on.get(endpoint, set())
        assert not missed, f"{endpoint} never showed {missed} (escaped)"


PAYLOAD = "坏'\"><b>x</b>"


def test_a_vendor_named_with_markup_on_their_report(demo_app):
    """The name of issue 19, on the report of the vendor's own history (page and htmx)."""
    with demo_app.app_context():
        user = db.session.scalars(db.select(User).where(User.phone == USERS["vendor"])).one()
        user.name = PAYLOAD
        vendor_id = db.session.scalar(db.select(Vendor.id).where(Vendor.user_id == user.id))
        market_id = db.session.scalar(db.select(Market.id).where(Market.slug == "jinhui"))
        db.session.commit()
    client = demo_app.test_client()
    assert Auth(client).login(USERS["cadre"]).status_code == 302
    url = f"/reports/markets/{market_id}/vendors?vendor={vendor_id}"
    for headers in ({}, {"HX-Request": "true"}, {"Cookie": "lang=en"}):
        r = client.get(url, headers=headers)
        assert r.status_code == 200
        assert "<b>x</b>" not in r.text
        title = r.text.split("<h2>", 1)[1].split("</h2>", 1)[0]
        assert "坏&#39;&#34;&gt;&lt;b&gt;x&lt;/b&gt;" in title, title


def test_a_lazy_translation_is_text_in_pages_and_in_json(demo_app):
    """Flask-Babel's lazy string called itself safe HTML: now Jinja escapes it like a str,
    while str() and the JSON API keep the plain text."""
    from flask import jsonify, render_template_string
    from flask_babel import lazy_gettext as _l

    with demo_app.test_request_context("/?lang=en"):
        message = _l("History of %(name)s", name=PAYLOAD)
        assert str(message) == f"History of {PAYLOAD}"
        page = render_template_string("{{ m }}", m=message)
        assert "<b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
        assert jsonify({"m": message}).json == {"m": f"History of {PAYLOAD}"}
