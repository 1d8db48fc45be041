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
    "guide.register_vendor": {"market_id": "market"},
    "guide.registered_vendor": {"market_id": "market", "vendor_id": "vendor"},
    "guide.print_pass": {"market_id": "market", "vendor_id": "vendor"},
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
    "sessions.session_reopen": {"session_id": "session"},
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
    "auth.issue_code": {"user_id": "user"},
    "auth.code_issued": {"user_id": "user"},
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
    "api_v1.issue_reset_code": {"user_id": "user"},
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
    "api_v1.session_reopen": {"session_id": "session"},
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
    # the street office
    "areas.dashboard": {"area_id": "area"},
    "areas.dashboard_xlsx": {"area_id": "area"},
    "api_v1.area_summary": {"area_id": "area"},
    "areas.area_questions": {"area_id": "area"},
    "areas.ask": {"area_id": "area"},
    "areas.area_audit": {"area_id": "area"},
    "areas.question": {"question_id": "question"},
    "areas.answer": {"question_id": "question"},
    "areas.follow_up": {"question_id": "question"},
    "areas.accept": {"question_id": "question"},
    "api_v1.AreaQuestions": {"area_id": "area"},
    "api_v1.question": {"question_id": "question"},
    "api_v1.answer_question": {"question_id": "question"},
    "api_v1.accept_question": {"question_id": "question"},
    "api_v1.follow_up_question": {"question_id": "question"},
    # the governance fund
    "fund.index": {"org_id": "org"},
    "fund.create": {"org_id": "org"},
    "fund.households": {"org_id": "org"},
    "fund.rule": {"org_id": "org"},
    "fund.project": {"project_id": "fund_project"},
    "fund.step": {"project_id": "fund_project"},
    "fund.decline": {"project_id": "fund_project"},
    "fund.finish": {"project_id": "fund_project"},
    "fund.meeting": {"project_id": "fund_project"},
    "fund.open_vote": {"project_id": "fund_project"},
    "fund.expense": {"project_id": "fund_project"},
    "fund.minutes": {"meeting_id": "fund_meeting"},
    "fund.vote": {"vote_id": "fund_vote"},
    "fund.slips": {"vote_id": "fund_vote"},
    "fund.reissue": {"vote_id": "fund_vote", "household_id": "fund_household"},
    "api_v1.fund_summary": {"org_id": "org"},
    "api_v1.fund_create_project": {"org_id": "org"},
    "api_v1.fund_project": {"project_id": "fund_project"},
    "api_v1.fund_project_step": {"project_id": "fund_project"},
    "api_v1.fund_record_meeting": {"project_id": "fund_project"},
    "api_v1.fund_open_vote": {"project_id": "fund_project"},
    "api_v1.fund_issue_slips": {"vote_id": "fund_vote"},
    "api_v1.fund_register_households": {"org_id": "org"},
    "api_v1.fund_reissue_slip": {"vote_id": "fund_vote", "household_id": "fund_household"},
    # stall draws
    "draws.market_rounds": {"market_id": "market"},
    "draws.round_page": {"round_id": "draw_round"},
    "draws.forfeit": {"application_id": "draw_application"},
    "draws.vendor_round": {"round_id": "draw_round"},
    "draws.withdraw": {"round_id": "draw_round"},
    "draws.decline": {"round_id": "draw_round"},
    "api_v1.list_draws": {"market_id": "market"},
    "api_v1.create_draw": {"market_id": "market"},
    "api_v1.my_application": {"round_id": "draw_round"},
    "api_v1.apply_to_draw": {"round_id": "draw_round"},
    "api_v1.withdraw_from_draw": {"round_id": "draw_round"},
    "api_v1.decline_draw_stall": {"round_id": "draw_round"},
    "api_v1.forfeit_draw_stall": {"application_id": "draw_application"},
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
    "fund.public_fund": "the governance fund's public page: anyone with the slug, by design",
    "fund.public_fund_print": "the same page to print: anyone with the slug, by design",
    "fund.public_project": "a published fund project's public page (404 for another community's)",
    "fund.public_photo": "a published fund project's photo, shown on its public page",
    "fund.propose": "a resident's project proposal form: public by design, rate-limited",
    "fund.public_vote": "a household vote's page: voting needs a slip's code, by design",
    "api_v1.fund_public_summary": "the public fund page as JSON: public by design",
    "api_v1.fund_cast_ballot": "a vote with a slip's code: public by design, the code decides",
    "draws.public_round": "a stall draw's public proof: anyone with the slug, by design",
    "draws.public_json": "the same proof as JSON for the checking program: public by design",
    "api_v1.draw_proof": "the same public proof through the API: public by design",
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
    "fund.public_fund": {"slug": "market_slug"},
    "fund.public_fund_print": {"slug": "market_slug"},
    "fund.public_project": {"slug": "market_slug", "project_id": "fund_project"},
    "fund.public_photo": {"slug": "market_slug", "project_id": "fund_project"},
    "fund.propose": {"slug": "market_slug"},
    "fund.public_vote": {"slug": "market_slug", "vote_id": "fund_vote"},
    "api_v1.fund_public_summary": {"slug": "market_slug"},
    "api_v1.fund_cast_ballot": {"slug": "market_slug", "vote_id": "fund_vote"},
    "draws.public_round": {"slug": "market_slug", "round_id": "draw_round"},
    "draws.public_json": {"slug": "market_slug", "round_id": "draw_round"},
    "api_v1.draw_proof": {"round_id": "draw_round"},
}

# Schema-valid bodies for API writes: the API reads the body before it looks the object up, so
# an empty one would stop at 422 and prove nothing about who may touch the object.
API_BODIES = {
    ("api_v1.move_checkin", "POST"): {"stall_id": 1},
    ("api_v1.add_payment", "POST"): {"method": "cash", "amount_fen": 100},
    ("api_v1.void_payment", "POST"): {"reason": "试"},
    ("api_v1.issue_reset_code", "POST"): {"phone_last4": "0000"},
    ("api_v1.create_fee_rule", "POST"): {"base_fen": 500},
    ("api_v1.session_cancel", "POST"): {"reason": "试"},
    ("api_v1.session_reopen", "POST"): {"reason": "试"},
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
    ("api_v1.AreaQuestions", "POST"): {
        "organization_id": 1,
        "subject_kind": "flag",
        "subject": "books",
        "body": "试",
    },
    ("api_v1.answer_question", "POST"): {"body": "试"},
    ("api_v1.follow_up_question", "POST"): {"body": "试"},
    ("api_v1.create_draw", "POST"): {
        "title": "试",
        "stall_codes": ["Q-01"],
        "period": "2099-01",
        "months": 1,
        "fee_fen": 100,
        "opens_at": "2098-12-01T00:00:00Z",
        "closes_at": "2098-12-02T00:00:00Z",
        "draw_at": "2098-12-03T00:00:00Z",
    },
    ("api_v1.apply_to_draw", "POST"): {"preferences": []},
    ("api_v1.forfeit_draw_stall", "POST"): {"reason": "试"},
    ("api_v1.fund_create_project", "POST"): {
        "title": "试",
        "place": "试",
        "reason": "试",
        "budget_fen": 100,
    },
    ("api_v1.fund_record_meeting", "POST"): {
        "held_on": "2099-01-01",
        "total": 3,
        "present": 3,
        "votes_for": 3,
        "votes_against": 0,
        "votes_abstain": 0,
    },
    ("api_v1.fund_open_vote", "POST"): {"closes_at": "2099-01-01T00:00:00Z"},
    ("api_v1.fund_register_households", "POST"): {"households": ["1-1-101"]},
    ("api_v1.fund_cast_ballot", "POST"): {"code": "0000-0000-0000", "choice": "for"},
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
