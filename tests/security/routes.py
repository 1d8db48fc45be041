"""Every route of the app, classified: which object of an organization fills each URL argument.

A route added without an entry here fails tests/security/test_object_access.py (and the CSRF
test) with a message naming it: add it to OBJECT_ROUTES (arguments → kind of object, the kinds
of tests/security/objects.py) or, with the reason, to NOT_OBJECT_ROUTES.
`any(...)` arguments (approve/reject…) need no entry: every value is tried."""

from werkzeug.routing import AnyConverter

OBJECT_ROUTES = {
    # pages
    "fees.market": {"market_id": "market"},
    "fees.add_pass": {"market_id": "market"},
    "fees.add_relief": {"market_id": "market"},
    "fees.add_rule": {"market_id": "market"},
    "guide.board": {"market_id": "market"},
    "guide.identify": {"token": "vendor_pass"},
    "checkin.collection_code": {"market_id": "market"},
    "checkin.confirm_payment": {"payment_id": "payment"},
    "checkin.void_payment": {"payment_id": "payment"},
    "checkin.receipt": {"checkin_id": "checkin"},
    "checkin.record_cash": {"checkin_id": "checkin"},
    "checkin.check_out": {"checkin_id": "checkin"},
    "checkin.report_payment": {"checkin_id": "checkin"},
    "checkin.waive": {"checkin_id": "checkin"},
    "checkin.back_to_receipt": {"checkin_id": "checkin"},
    "checkin.check_in": {"token": "stall_token"},
    "checkin.move_here": {"token": "stall_token"},
    "sessions.session": {"session_id": "session"},
    "sessions.session_cancel": {"session_id": "session"},
    "sessions.session_close": {"session_id": "session"},
    "sessions.session_extend": {"session_id": "session"},
    "sessions.session_open": {"session_id": "session"},
    "sessions.session_reinstate": {"session_id": "session"},
    "sessions.closure_lift": {"closure_id": "closure"},
    "sessions.market": {"market_id": "market"},
    "sessions.closure_new": {"market_id": "market"},
    "sessions.template_new": {"market_id": "market"},
    "sessions.template_edit": {"template_id": "template"},
    "sessions.template_remove": {"template_id": "template"},
    "vendors.detail": {"vendor_id": "vendor"},
    "vendors.decide": {"vendor_id": "vendor"},
    "vendors.certificate_photo": {"vendor_id": "vendor"},
    "vendors.certificate": {"vendor_id": "vendor"},
    "vendors.relief": {"vendor_id": "vendor"},
    "zoning.market": {"market_id": "market"},
    "zoning.collection_code": {"market_id": "market"},
    "zoning.market_edit": {"market_id": "market"},
    "zoning.posters": {"market_id": "market"},
    "zoning.rotate_market_tokens": {"market_id": "market"},
    "zoning.stall_bulk": {"market_id": "market"},
    "zoning.stall_new": {"market_id": "market"},
    "zoning.zone_new": {"market_id": "market"},
    "zoning.market_new": {"org_id": "org"},
    "zoning.stall_delete": {"stall_id": "stall"},
    "zoning.stall_disable": {"stall_id": "stall"},
    "zoning.stall_edit": {"stall_id": "stall"},
    "zoning.stall_enable": {"stall_id": "stall"},
    "zoning.stall_png": {"stall_id": "stall"},
    "zoning.stall_rotate": {"stall_id": "stall"},
    "zoning.zone_edit": {"zone_id": "zone"},
    "guide.board_live": {"market_id": "market"},
    "guide.hand_over": {"market_id": "market"},
    "guide.confirm_handover": {"handover_id": "handover"},
    "guide.hand_over_again": {"market_id": "market"},
    "guide.confirm_handover_again": {"handover_id": "handover"},
    "guide.stall_panel": {"stall_id": "stall"},
    "guide.stall_cash": {"stall_id": "stall"},
    "guide.stall_confirm": {"stall_id": "stall", "payment_id": "payment"},
    "guide.stall_reject": {"stall_id": "stall", "payment_id": "payment"},
    "guide.stall_move_here": {"stall_id": "stall"},
    "guide.stall_checkout": {"stall_id": "stall"},
    "guide.stall_move": {"stall_id": "stall"},
    "guide.stall_checkin": {"stall_id": "stall"},
    "guide.stall_incident": {"stall_id": "stall"},
    "guide.resolve_incident": {"incident_id": "incident"},
    "ledger.overview": {"org_id": "org"},
    "ledger.accounts": {"org_id": "org"},
    "ledger.account_active": {"account_id": "ledger_account"},
    "ledger.expenses": {"org_id": "org"},
    "ledger.approve_expense": {"expense_id": "expense"},
    "ledger.reject_expense": {"expense_id": "expense"},
    "ledger.receipt": {"expense_id": "expense"},
    "ledger.periods": {"org_id": "org"},
    "ledger.close_month": {"org_id": "org"},
    "ledger.reconcile": {"session_id": "session"},
    "complaints.market_complaints": {"market_id": "market"},
    "complaints.resolve": {"complaint_id": "complaint"},
    "complaints.photo": {"complaint_id": "complaint"},
    "complaints.stats": {"market_id": "market"},
    "reports.daily": {"market_id": "market"},
    "reports.monthly": {"market_id": "market"},
    "reports.occupancy": {"market_id": "market"},
    "reports.vendor_history": {"market_id": "market"},
    "reports.handovers": {"market_id": "market"},
    "reports.export_csv": {"market_id": "market", "kind": "export_kind"},
    "reports.export_xlsx": {"market_id": "market", "kind": "export_kind"},
    "reports.audit": {"org_id": "org"},
    "reports.audit_csv": {"org_id": "org"},
    # JSON API
    "api_v1.get_checkin": {"checkin_id": "checkin"},
    "api_v1.checkout_checkin": {"checkin_id": "checkin"},
    "api_v1.move_checkin": {"checkin_id": "checkin"},
    "api_v1.add_payment": {"checkin_id": "checkin"},
    "api_v1.closure_lift": {"closure_id": "closure"},
    "api_v1.MarketView": {"market_id": "market"},
    "api_v1.MarketClosuresView": {"market_id": "market"},
    "api_v1.list_fee_rules": {"market_id": "market"},
    "api_v1.create_fee_rule": {"market_id": "market"},
    "api_v1.MarketTemplatesView": {"market_id": "market"},
    "api_v1.market_sessions": {"market_id": "market"},
    "api_v1.MarketStallsView": {"market_id": "market"},
    "api_v1.MarketZonesView": {"market_id": "market"},
    "api_v1.confirm_payment": {"payment_id": "payment"},
    "api_v1.void_payment": {"payment_id": "payment"},
    "api_v1.TemplateView": {"template_id": "template"},
    "api_v1.session_detail": {"session_id": "session"},
    "api_v1.session_cancel": {"session_id": "session"},
    "api_v1.session_close": {"session_id": "session"},
    "api_v1.session_extend": {"session_id": "session"},
    "api_v1.session_open": {"session_id": "session"},
    "api_v1.session_reinstate": {"session_id": "session"},
    "api_v1.StallView": {"stall_id": "stall"},
    "api_v1.stall_rotate_token": {"stall_id": "stall"},
    "api_v1.vendor_decide": {"vendor_id": "vendor"},
    "api_v1.ZoneView": {"zone_id": "zone"},
    "api_v1.resolve_complaint": {"complaint_id": "complaint"},
    "api_v1.occupancy": {"market_id": "market"},
    "api_v1.daily_report": {"market_id": "market"},
    "api_v1.monthly_report": {"market_id": "market"},
    "api_v1.log_incident": {"stall_id": "stall"},
    "api_v1.session_cash": {"session_id": "session"},
    "api_v1.confirm_handover": {"handover_id": "handover"},
    "api_v1.ledger_accounts": {"org_id": "org"},
    "api_v1.ledger_entries": {"org_id": "org"},
    "api_v1.ledger_post_entry": {"org_id": "org"},
    "api_v1.ledger_verify": {"org_id": "org"},
    "api_v1.ledger_record_expense": {"org_id": "org"},
    "api_v1.ledger_approve_expense": {"expense_id": "expense"},
    "api_v1.ledger_reject_expense": {"expense_id": "expense"},
    "api_v1.ledger_close_month": {"org_id": "org"},
    "api_v1.ledger_closed_months": {"org_id": "org"},
}

# Routes with URL arguments that name no object of an organization, and why they may answer.
NOT_OBJECT_ROUTES = {
    "static": "the app's own CSS/JS/icons",
    "checkin.scan": "the stall poster page: public by design, shows what the poster shows",
    "checkin.check_in_again": "a GET of the check-in form's address: redirects to the poster page",
    "checkin.move_here_again": "a GET of the move form's address: redirects to the poster page",
    # Public by design (tests/security/test_public_pages.py checks they show nothing private):
    "public.board": "the market's public board: anyone with the slug, by design",
    "public.printable": "the printable public board: anyone with the slug, by design",
    "complaints.card": "the stall card a neighbour opens from the poster's QR: public by design",
    "api_v1.stall_card_by_token": "the same stall card as JSON: public by design",
    "complaints.complain_stall": "a neighbour's complaint form for a stall: public by design",
    "complaints.complain_market": "a neighbour's complaint form for a market: public by design",
    "complaints.track": "a complaint's status for whoever holds its 128-bit tracking code",
    "api_v1.complaint_status": "the same status as JSON, for the holder of the tracking code",
}

# The routes above that still need URL arguments for the tests that fetch every page and post
# every form (XSS, CSRF): the public pages of the market, filled with its own values.
PUBLIC_FILLS = {
    "checkin.scan": {"token": "stall_token"},
    "checkin.check_in_again": {"token": "stall_token"},
    "checkin.move_here_again": {"token": "stall_token"},
    "public.board": {"slug": "market_slug"},
    "public.printable": {"slug": "market_slug"},
    "complaints.card": {"token": "stall_token"},
    "api_v1.stall_card_by_token": {"token": "stall_token"},
    "complaints.complain_stall": {"token": "stall_token"},
    "complaints.complain_market": {"slug": "market_slug"},
    "complaints.track": {"code": "complaint_code"},
    "api_v1.complaint_status": {"tracking_code": "complaint_code"},
}

# Schema-valid bodies for API writes: the API reads the body before it looks the object up, so
# an empty one would stop at 422 and prove nothing about who may touch the object.
API_BODIES = {
    ("api_v1.move_checkin", "POST"): {"stall_id": 1},
    ("api_v1.add_payment", "POST"): {"method": "cash", "amount_fen": 100},
    ("api_v1.void_payment", "POST"): {"reason": "试"},
    ("api_v1.create_fee_rule", "POST"): {"base_fen": 500},
    ("api_v1.session_cancel", "POST"): {"reason": "试"},
    ("api_v1.ledger_reject_expense", "POST"): {"reason": "试"},
    ("api_v1.session_extend", "POST"): {"ends_at": "2099-01-01T00:00:00Z"},
    ("api_v1.MarketTemplatesView", "POST"): {
        "name": "试",
        "kind": "night",
        "weekdays": [1],
        "start_local": "18:00",
        "end_local": "22:00",
    },
    ("api_v1.MarketClosuresView", "POST"): {
        "first_date": "2099-02-01",
        "last_date": "2099-02-02",
        "reason": "试",
    },
    ("api_v1.MarketZonesView", "POST"): {"code": "X", "name": "试", "color": "#123456"},
    ("api_v1.MarketStallsView", "POST"): {
        "code": "X-1",
        "zone_id": 1,
        "grid_row": 0,
        "grid_col": 0,
    },
    ("api_v1.resolve_complaint", "POST"): {"response": "试"},
    ("api_v1.log_incident", "POST"): {"kind": "hygiene", "note": "试"},
    ("api_v1.confirm_handover", "POST"): {"received_fen": 300},
    ("api_v1.ledger_post_entry", "POST"): {
        "entry_date": "2099-01-01",
        "description": "试",
        "lines": [
            {"account_id": 1, "debit_fen": 100},
            {"account_id": 2, "credit_fen": 100},
        ],
    },
    ("api_v1.ledger_close_month", "POST"): {"month": "2099-01"},
}

# The same for API writes that read a multipart form rather than JSON.
API_FORMS = {
    ("api_v1.ledger_record_expense", "POST"): {
        "account_id": "1",
        "amount_fen": "100",
        "spent_on": "2099-01-01",
        "description": "试",
        "paid_from": "office_cash",
    },
}

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def any_arguments(rule) -> dict[str, list[str]]:
    return {
        name: sorted(conv.items)
        for name, conv in rule._converters.items()
        if isinstance(conv, AnyConverter)
    }


def unclassified(app) -> list[str]:
    """Problems with the tables: routes missing from them, arguments not filled, stale rows."""
    problems, seen = [], set()
    for rule in app.url_map.iter_rules():
        if not rule.arguments:
            continue
        seen.add(rule.endpoint)
        if rule.endpoint in NOT_OBJECT_ROUTES:
            continue
        needed = set(rule.arguments) - set(any_arguments(rule))
        table = OBJECT_ROUTES.get(rule.endpoint)
        if table is None:
            problems.append(
                f"{rule.rule} (endpoint {rule.endpoint!r}) is not classified: add "
                f"{rule.endpoint!r}: {{…}} to OBJECT_ROUTES in tests/security/routes.py, saying "
                f"which object kind fills each of {sorted(needed)} (or to NOT_OBJECT_ROUTES "
                "with the reason it is not an object route)"
            )
        elif set(table) != needed:
            problems.append(
                f"{rule.endpoint!r} in OBJECT_ROUTES fills {sorted(table)} but the route "
                f"{rule.rule} takes {sorted(needed)}"
            )
    for endpoint in (set(OBJECT_ROUTES) | set(NOT_OBJECT_ROUTES)) - seen:
        problems.append(f"{endpoint!r} is in tests/security/routes.py but no such route exists")
    return problems


def requests_for(rule, objects: dict):
    """(method, url) for every method of the rule and every value of its any() arguments."""
    table = OBJECT_ROUTES.get(rule.endpoint) or PUBLIC_FILLS[rule.endpoint]
    fills = {arg: objects[kind] for arg, kind in table.items()}
    combos = [{}]
    for name, values in any_arguments(rule).items():
        combos = [{**c, name: v} for c in combos for v in values]
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        for combo in combos:
            yield method, rule.build({**fills, **combo}, append_unknown=False)[1]
