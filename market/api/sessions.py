"""API operations for market sessions, their templates and closures.

Reads are for the market's guides and the cadres of its organization; writes for the cadres
and admins (vendors get 403, other organizations' objects 404). The rules live in
services.session_templates, session_actions and closures, as for the pages.
"""

from datetime import UTC, date, datetime, timedelta

import marshmallow as ma
from flask import g, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import MarketClosure
from ..services.auth import access
from ..services.common.clock import now as clock_now
from ..services.common.errors import DomainError
from ..services.sessions import actions as session_actions
from ..services.sessions import closures
from ..services.sessions import notes as session_notes
from ..services.sessions import templates as session_templates
from ..services.sessions import tide as sessions
from . import bp
from .common import READ_ERRORS, WRITE_ERRORS, errors, managers_only, page_of, staff_only
from .routes import BEARER, MAX_ID
from .schemas import PageArgsSchema, PageSchema

MAX_RANGE_DAYS = 62
DEFAULT_RANGE_DAYS = 14
# Dates and instants a market can mean; outside them date arithmetic would overflow.
# The patterns say the same in the OpenAPI document (which has no date ranges): any instant of
# the years 2000–2099 with any UTC offset lies inside SANE_INSTANTS.
SANE_DATES = ma.validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
SANE_DATE_DOC = {"pattern": r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"}
SANE_INSTANTS = ma.validate.Range(
    min=datetime(1999, 12, 31, tzinfo=UTC), max=datetime(2100, 12, 31, tzinfo=UTC)
)
SANE_INSTANT_DOC = {"pattern": r"^20[0-9]{2}-"}
HHMM = {"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}
KINDS = ma.validate.OneOf(("morning", "night", "special"))


def _local(attr):
    def get(session):
        value = getattr(session, attr)
        return value and value.astimezone(sessions.zone_of(session.market)).isoformat()

    return ma.fields.Function(
        get, metadata={"type": "string", "format": "date-time", "description": "market time"}
    )


class SessionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(required=True)
    template_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.Function(
        lambda s: s.template.name if s.template else None,
        metadata={"type": "string", "nullable": True, "description": "the template's name"},
    )
    kind = ma.fields.String(required=True, metadata={"enum": ["morning", "night", "special"]})
    business_date = ma.fields.Date(
        required=True, metadata={"description": "the local date on which it starts"}
    )
    state = ma.fields.String(
        required=True, metadata={"enum": ["scheduled", "open", "closed", "cancelled"]}
    )
    starts_at = ma.fields.DateTime(required=True, metadata={"description": "planned, UTC"})
    ends_at = ma.fields.DateTime(required=True, metadata={"description": "planned, UTC"})
    cutoff_at = ma.fields.DateTime(allow_none=True)
    starts_local = _local("starts_at")
    ends_local = _local("ends_at")
    timezone = ma.fields.Function(lambda s: s.market.timezone, metadata={"type": "string"})
    opened_at = ma.fields.DateTime(allow_none=True, metadata={"description": "when it opened"})
    closed_at = ma.fields.DateTime(allow_none=True, metadata={"description": "when it ended"})
    cancel_reason = ma.fields.String(allow_none=True)
    changed_by_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "null: the scheduler moved it last"}
    )
    change_note = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "why it last changed, a code: " + ", ".join(sorted(session_notes.LABELS))
        },
    )
    is_manual = ma.fields.Boolean(required=True, metadata={"description": "changed by hand"})
    closure_id = ma.fields.Integer(allow_none=True)


class SessionPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(SessionSchema), required=True)


class SessionRangeArgsSchema(PageArgsSchema):
    first = ma.fields.Date(
        data_key="from",
        validate=SANE_DATES,
        metadata={"description": "business date; today", **SANE_DATE_DOC},
    )
    last = ma.fields.Date(
        data_key="to",
        validate=SANE_DATES,
        metadata={"description": "business date; from + 13", **SANE_DATE_DOC},
    )

    @ma.validates_schema
    def bounded(self, data, **kwargs):
        first, last = data.get("first"), data.get("last")
        if first and last and last < first:
            raise ma.ValidationError(str(_l("“to” is before “from”.")), field_name="to")
        if first and last and (last - first).days >= MAX_RANGE_DAYS:
            raise ma.ValidationError(
                str(_l("Ask for at most %(n)d days at a time.", n=MAX_RANGE_DAYS)),
                field_name="to",
            )


class CancelSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class ReopenSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class ExtendSchema(ma.Schema):
    ends_at = ma.fields.AwareDateTime(
        required=True,
        validate=SANE_INSTANTS,
        metadata={"example": "2026-11-23T23:30+08:00", **SANE_INSTANT_DOC},
    )


class TemplateSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    weekdays = ma.fields.Function(
        lambda t: session_templates.weekdays_list(t.weekdays),
        metadata={"type": "array", "items": {"type": "integer"}, "description": "1 = Monday"},
    )
    start_local = ma.fields.Time(format="%H:%M", required=True)
    end_local = ma.fields.Time(format="%H:%M", required=True)
    cutoff_minutes = ma.fields.Integer(required=True)
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(allow_none=True)
    is_active = ma.fields.Boolean(required=True)


class TemplatePageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(TemplateSchema), required=True)


class TemplateUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=60))
    kind = ma.fields.String(validate=KINDS)
    weekdays = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1, max=7)),
        validate=ma.validate.Length(min=1, max=7),
        metadata={"description": "ISO weekdays, 1 = Monday … 7 = Sunday"},
    )
    start_local = ma.fields.Time(format="%H:%M", metadata={"example": "18:00", **HHMM})
    end_local = ma.fields.Time(
        format="%H:%M",
        metadata={"example": "01:00", "description": "before start: next day", **HHMM},
    )
    cutoff_minutes = ma.fields.Integer(validate=ma.validate.Range(min=0, max=24 * 60))
    valid_from = ma.fields.Date(validate=SANE_DATES, metadata=SANE_DATE_DOC)
    valid_until = ma.fields.Date(allow_none=True, validate=SANE_DATES, metadata=SANE_DATE_DOC)
    is_active = ma.fields.Boolean()


class TemplateCreateSchema(TemplateUpdateSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=60))
    kind = ma.fields.String(required=True, validate=KINDS)
    weekdays = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1, max=7)),
        required=True,
        validate=ma.validate.Length(min=1, max=7),
    )
    start_local = ma.fields.Time(format="%H:%M", required=True, metadata=HHMM)
    end_local = ma.fields.Time(format="%H:%M", required=True, metadata=HHMM)


class RemovedSchema(ma.Schema):
    outcome = ma.fields.String(required=True, metadata={"enum": ["deleted", "deactivated"]})


class ClosureSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(required=True)
    first_date = ma.fields.Date(required=True)
    last_date = ma.fields.Date(required=True)
    reason = ma.fields.String(required=True)
    lifted_at = ma.fields.DateTime(allow_none=True)


class ClosureListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ClosureSchema), required=True)


class ClosureCreateSchema(ma.Schema):
    first_date = ma.fields.Date(required=True, validate=SANE_DATES, metadata=SANE_DATE_DOC)
    last_date = ma.fields.Date(required=True, validate=SANE_DATES, metadata=SANE_DATE_DOC)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


def _kw() -> dict:
    return {"now": clock_now(), "actor": g.api_user, "ip": request.remote_addr}


# --- sessions --------------------------------------------------------------------------------


@bp.route(f"/markets/<{MAX_ID}:market_id>/sessions")
@staff_only
@bp.doc(security=BEARER)
@bp.arguments(SessionRangeArgsSchema, location="query")
@bp.response(200, SessionPageSchema)
@errors(*READ_ERRORS)
def market_sessions(args, market_id: int):
    """A market's sessions by business date, from `from` (today) to `to` (13 days on),
    at most 62 days at a time."""
    market = access.market_for_guide(g.api_user, market_id)
    first = args.get("first") or sessions.local_today(market, clock_now())
    last = args.get("last") or first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        raise DomainError(
            _l("Ask for at most %(n)d days, “from” before “to”.", n=MAX_RANGE_DAYS),
            code="invalid_range",
            field="to",
        )
    return page_of(sessions.sessions_between(market, first, last), args)


@bp.route(f"/sessions/<{MAX_ID}:session_id>")
@staff_only
@bp.doc(security=BEARER)
@bp.response(200, SessionSchema)
@errors(401, 403, 404)
def session_detail(session_id: int):
    """One session, for the guides of its market and the cadres of its organization."""
    return sessions.session_for_staff(g.api_user, session_id)


def _act(session_id: int, action):
    session = sessions.session_for_manager(g.api_user, session_id)
    action(session)
    db.session.commit()
    return session


ACTION_ERRORS = (400, 401, 403, 404, 409, 422)
ACTION_URL = f"/sessions/<{MAX_ID}:session_id>"


@bp.route(f"{ACTION_URL}/open", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, SessionSchema)
@errors(*ACTION_ERRORS)
def session_open(session_id: int):
    """Open a scheduled session now (at most 6 hours before its start)."""
    return _act(session_id, lambda s: session_actions.open_now(s, **_kw()))


@bp.route(f"{ACTION_URL}/close", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, SessionSchema)
@errors(*ACTION_ERRORS)
def session_close(session_id: int):
    """Close an open session now: vendors are checked out, unpaid fees become receivables."""
    return _act(session_id, lambda s: session_actions.close_now(s, **_kw()))


@bp.route(f"{ACTION_URL}/cancel", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(CancelSchema)
@bp.response(200, SessionSchema)
@errors(*ACTION_ERRORS)
def session_cancel(data, session_id: int):
    """Cancel a scheduled or open session, with the reason people will see."""
    return _act(session_id, lambda s: session_actions.cancel(s, data["reason"], **_kw()))


@bp.route(f"{ACTION_URL}/extend", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(ExtendSchema)
@bp.response(200, SessionSchema)
@errors(*ACTION_ERRORS)
def session_extend(data, session_id: int):
    """Move the end of a scheduled or open session later (not into the next session)."""
    return _act(session_id, lambda s: session_actions.extend(s, data["ends_at"], **_kw()))


@bp.route(f"{ACTION_URL}/reinstate", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, SessionSchema)
@errors(*ACTION_ERRORS)
def session_reinstate(session_id: int):
    """Schedule again a cancelled session that never opened and is not over."""
    return _act(session_id, lambda s: session_actions.reinstate(s, **_kw()))


@bp.route(f"{ACTION_URL}/reopen", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(ReopenSchema)
@bp.response(200, SessionSchema)
@errors(*ACTION_ERRORS)
def session_reopen(data, session_id: int):
    """Undo the close of a session closed before its planned end (by hand, or by a clock
    ahead), while its planned hours have not passed: check-ins resume, receivables go back to
    unpaid charges and the ledger gets a reversing entry."""
    return _act(session_id, lambda s: session_actions.reopen(s, data["reason"], **_kw()))


# --- templates -------------------------------------------------------------------------------


@bp.route(f"/markets/<{MAX_ID}:market_id>/session-templates")
class MarketTemplatesView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.arguments(PageArgsSchema, location="query")
    @bp.response(200, TemplatePageSchema)
    @errors(*READ_ERRORS)
    def get(self, args, market_id: int):
        """The session templates of a market, active ones first."""
        market = access.market_for_guide(g.api_user, market_id)
        items = session_templates.templates_of(market)
        page, per = args["page"], args["per_page"]
        return {
            "items": items[(page - 1) * per : page * per],
            "page": page,
            "per_page": per,
            "total": len(items),
        }

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(TemplateCreateSchema)
    @bp.response(201, TemplateSchema)
    @errors(*WRITE_ERRORS)
    def post(self, data, market_id: int):
        """Add a template; the sessions of the next 14 days are generated at once."""
        market = access.market_for_manager(g.api_user, market_id)
        data.setdefault("valid_from", sessions.local_today(market, clock_now()))
        data.setdefault("cutoff_minutes", 30)
        template, _plan = session_templates.save_template(market, data, **_kw())
        db.session.commit()
        return template


@bp.route(f"/session-templates/<{MAX_ID}:template_id>")
class TemplateView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.response(200, TemplateSchema)
    @errors(401, 403, 404)
    def get(self, template_id: int):
        """One session template."""
        template = session_templates.template_for_staff(g.api_user, template_id)
        return template

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(TemplateUpdateSchema)
    @bp.response(200, TemplateSchema)
    @errors(*WRITE_ERRORS)
    def patch(self, data, template_id: int):
        """Change a template: its untouched future sessions follow, others stay."""
        template = session_templates.template_for_manager(g.api_user, template_id)
        if data:
            session_templates.save_template(template.market, data, template, **_kw())
            db.session.commit()
        return template

    @managers_only
    @bp.doc(security=BEARER)
    @bp.response(200, RemovedSchema)
    @errors(401, 403, 404)
    def delete(self, template_id: int):
        """Delete a template, or deactivate it when it already has sessions."""
        template = session_templates.template_for_manager(g.api_user, template_id)
        outcome = session_templates.remove_template(template, **_kw())
        db.session.commit()
        return {"outcome": outcome}


# --- closures --------------------------------------------------------------------------------


@bp.route(f"/markets/<{MAX_ID}:market_id>/closures")
class MarketClosuresView(MethodView):
    @staff_only
    @bp.doc(security=BEARER)
    @bp.response(200, ClosureListSchema)
    @errors(401, 403, 404)
    def get(self, market_id: int):
        """The closures of a market that are in force (not lifted)."""
        market = access.market_for_guide(g.api_user, market_id)
        return {"items": closures.active_closures(market)}

    @managers_only
    @bp.doc(security=BEARER)
    @bp.arguments(ClosureCreateSchema)
    @bp.response(201, ClosureSchema)
    @errors(*WRITE_ERRORS)
    def post(self, data, market_id: int):
        """Close the market for a range of business dates: their sessions are cancelled."""
        market = access.market_for_manager(g.api_user, market_id)
        closure, _counts = closures.add_closure(
            market, data["first_date"], data["last_date"], data["reason"], **_kw()
        )
        db.session.commit()
        return closure


@bp.route(f"/closures/<{MAX_ID}:closure_id>/lift", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, ClosureSchema)
@errors(401, 403, 404, 409)
def closure_lift(closure_id: int) -> MarketClosure:
    """Lift a closure: the sessions it cancelled that have not begun are scheduled again."""
    closure = closures.closure_for_manager(g.api_user, closure_id)
    closures.lift_closure(closure, **_kw())
    db.session.commit()
    return closure
