"""API of the governance fund: projects, meetings, household votes and slips for the cadres of
the organization (supervisors read); the public summary and the vote with a slip's code for
anyone (rate-limited)."""

import marshmallow as ma
from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from ..extensions import db, limiter
from ..models import Organization, ProjectState, Role
from ..services.auth import access
from ..services.common.clock import now
from ..services.common.errors import InvalidInput, NotFound
from ..services.fund import ballots, codes, decisions, money, projects
from ..services.ledger import entries as ledger
from ..services.public import notice
from . import bp
from .common import allowed, errors, managers_only
from .routes import BEARER, MAX_ID
from .schemas import fen_range

readers_only = allowed(Role.READERS)
COUNT = ma.validate.Range(min=0, max=decisions.MAX_REPRESENTATIVES)

# --- shapes ----------------------------------------------------------------------------------


class MeetingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    held_on = ma.fields.Date(required=True)
    total = ma.fields.Integer(required=True)
    present = ma.fields.Integer(required=True)
    votes_for = ma.fields.Integer(required=True)
    votes_against = ma.fields.Integer(required=True)
    votes_abstain = ma.fields.Integer(required=True)
    quorum_num = ma.fields.Integer(required=True)
    quorum_den = ma.fields.Integer(required=True)
    majority_pct = ma.fields.Integer(required=True)
    outcome = ma.fields.String(required=True)


class VoteSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True)
    opens_at = ma.fields.DateTime(required=True)
    closes_at = ma.fields.DateTime(required=True)
    state = ma.fields.String(required=True)
    households_voted = ma.fields.Integer(required=True)
    slips = ma.fields.Integer(required=True)
    votes_for = ma.fields.Integer(allow_none=True, metadata={"description": "once closed"})
    votes_against = ma.fields.Integer(allow_none=True)
    votes_abstain = ma.fields.Integer(allow_none=True)
    outcome = ma.fields.String(allow_none=True)


class ProjectSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    place = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    budget_fen = ma.fields.Integer(required=True)
    spent_fen = ma.fields.Integer(required=True, metadata={"description": "booked expenses"})
    committed_fen = ma.fields.Integer(
        required=True, metadata={"description": "booked and waiting for approval"}
    )
    state = ma.fields.String(required=True, metadata={"enum": list(ProjectState.ALL)})
    decided_by = ma.fields.String(allow_none=True)
    report = ma.fields.String(allow_none=True)
    meetings = ma.fields.List(ma.fields.Nested(MeetingSchema), required=True)
    votes = ma.fields.List(ma.fields.Nested(VoteSchema), required=True)


class FundSchema(ma.Schema):
    balance_fen = ma.fields.Integer(required=True)
    shares_fen = ma.fields.Integer(required=True)
    spent_fen = ma.fields.Integer(required=True)
    reserved_fen = ma.fields.Integer(required=True)
    months = ma.fields.List(ma.fields.Dict(), required=True)
    projects = ma.fields.List(ma.fields.Nested(ProjectSchema), required=True)


class ProjectRequestSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(max=projects.TITLE_MAX))
    place = ma.fields.String(required=True, validate=ma.validate.Length(max=projects.PLACE_MAX))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(max=projects.REASON_MAX))
    budget_fen = ma.fields.Integer(required=True, strict=True, validate=fen_range(1))


class MeetingRequestSchema(ma.Schema):
    held_on = ma.fields.Date(required=True)
    total = ma.fields.Integer(required=True, strict=True, validate=COUNT)
    present = ma.fields.Integer(required=True, strict=True, validate=COUNT)
    votes_for = ma.fields.Integer(required=True, strict=True, validate=COUNT)
    votes_against = ma.fields.Integer(required=True, strict=True, validate=COUNT)
    votes_abstain = ma.fields.Integer(required=True, strict=True, validate=COUNT)


class VoteRequestSchema(ma.Schema):
    closes_at = ma.fields.AwareDateTime(required=True)


class SlipSchema(ma.Schema):
    household = ma.fields.String(required=True, metadata={"example": "3-2-301"})
    code = ma.fields.String(required=True, metadata={"example": "7BVT-1QHB-NV18"})


class SlipListSchema(ma.Schema):
    slips = ma.fields.List(ma.fields.Nested(SlipSchema), required=True)


class HouseholdsRequestSchema(ma.Schema):
    households = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=40)),
        required=True,
        validate=ma.validate.Length(min=1, max=ballots.MAX_HOUSEHOLDS),
        metadata={"description": "building-unit-room, such as 3-2-301"},
    )


class HouseholdsSchema(ma.Schema):
    added = ma.fields.Integer(required=True)
    households = ma.fields.Integer(required=True)


class BallotRequestSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(max=40))
    choice = ma.fields.String(required=True, validate=ma.validate.OneOf(ballots.CHOICES))
    change_code = ma.fields.String(
        validate=ma.validate.Length(max=20),
        metadata={"description": "to change a vote: the change code given when it was cast"},
    )


class BallotSchema(ma.Schema):
    changed = ma.fields.Boolean(required=True)
    change_code = ma.fields.String(
        allow_none=True, metadata={"description": "a new vote's change code: keep it"}
    )
    households_voted = ma.fields.Integer(required=True)
    slips = ma.fields.Integer(required=True)


# --- helpers ---------------------------------------------------------------------------------


def _vote_out(v) -> dict:
    t = ballots.turnout(v)
    return {
        "id": v.id,
        "project_id": v.project_id,
        "opens_at": v.opens_at,
        "closes_at": v.closes_at,
        "state": v.state,
        "households_voted": t.voted,
        "slips": t.slips,
        "votes_for": v.votes_for,
        "votes_against": v.votes_against,
        "votes_abstain": v.votes_abstain,
        "outcome": v.outcome,
    }


def _project_out(p, spent: dict | None = None) -> dict:
    if spent is None:
        spent = money.spent_by_project(p.organization_id)
    return {
        "id": p.id,
        "title": p.title,
        "place": p.place,
        "reason": p.reason,
        "budget_fen": p.budget_fen,
        "spent_fen": spent.get(p.id, 0),
        "committed_fen": money.committed_fen(p),
        "state": p.state,
        "decided_by": p.decided_by,
        "report": p.report,
        "meetings": p.meetings,
        "votes": [_vote_out(v) for v in p.votes],
    }


def _fund_out(org_id: int, states=None) -> dict:
    b = money.balance(org_id)
    spent = money.spent_by_project(org_id)
    return {
        "balance_fen": b.balance_fen,
        "shares_fen": b.shares_fen,
        "spent_fen": b.spent_fen,
        "reserved_fen": b.reserved_fen,
        "months": [
            {"month": m.month.strftime("%Y-%m"), "governance_fund_fen": m.governance_fund_fen}
            for m in money.month_shares(org_id)
        ],
        "projects": [_project_out(p, spent) for p in projects.projects_of(org_id, states)],
    }


def _reader_org(org_id: int) -> Organization:
    return access.organization_for_reader(g.api_user, org_id)


# --- cadres ----------------------------------------------------------------------------------


@bp.route(f"/organizations/<{MAX_ID}:org_id>/fund")
@readers_only
@bp.doc(security=BEARER)
@bp.response(200, FundSchema)
@errors(401, 403, 404)
def fund_summary(org_id):
    """The fund's balance, month shares and every project (cadres and supervisors)."""
    return _fund_out(_reader_org(org_id).id)


@bp.route(f"/organizations/<{MAX_ID}:org_id>/fund/projects", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(ProjectRequestSchema)
@bp.response(201, ProjectSchema)
@errors(400, 401, 403, 404, 422)
def fund_create_project(data, org_id):
    org = ledger.organization_for_cadre(g.api_user, org_id)
    p = projects.create_project(org, g.api_user, at=now(), ip=request.remote_addr, **data)
    db.session.commit()
    return _project_out(p)


@bp.route(f"/fund/projects/<{MAX_ID}:project_id>")
@readers_only
@bp.doc(security=BEARER)
@bp.response(200, ProjectSchema)
@errors(401, 403, 404)
def fund_project(project_id):
    return _project_out(projects.project_for_reader(g.api_user, project_id))


@bp.route(
    f"/fund/projects/<{MAX_ID}:project_id>/<any(publish,start,cancel):step>", methods=["POST"]
)
@managers_only
@bp.doc(security=BEARER)
@bp.response(200, ProjectSchema)
@errors(401, 403, 404, 409)
def fund_project_step(project_id, step):
    p = projects.project_for_cadre(g.api_user, project_id)
    do = {"publish": projects.publish, "start": projects.start, "cancel": projects.cancel}[step]
    do(p, g.api_user, at=now(), ip=request.remote_addr)
    db.session.commit()
    return _project_out(p)


@bp.route(f"/fund/projects/<{MAX_ID}:project_id>/meetings", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(MeetingRequestSchema)
@bp.response(201, MeetingSchema)
@errors(400, 401, 403, 404, 409, 422)
def fund_record_meeting(data, project_id):
    """The outcome is computed from the figures and the organization's rule."""
    p = projects.project_for_cadre(g.api_user, project_id)
    m = decisions.record_meeting(p, g.api_user, at=now(), ip=request.remote_addr, **data)
    db.session.commit()
    return m


@bp.route(f"/fund/projects/<{MAX_ID}:project_id>/votes", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(VoteRequestSchema)
@bp.response(201, VoteSchema)
@errors(400, 401, 403, 404, 409, 422)
def fund_open_vote(data, project_id):
    p = projects.project_for_cadre(g.api_user, project_id)
    v = ballots.open_vote(
        p, g.api_user, closes_at=data["closes_at"], at=now(), ip=request.remote_addr
    )
    db.session.commit()
    return _vote_out(v)


@bp.route(f"/fund/votes/<{MAX_ID}:vote_id>/slips", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.response(201, SlipListSchema)
@errors(401, 403, 404, 409)
def fund_issue_slips(vote_id):
    """Slips for the registered households that have none: the codes are in this answer only
    (the database keeps their hashes)."""
    v = ballots.vote_for_cadre(g.api_user, vote_id)
    slips = ballots.issue_slips(v, g.api_user, at=now(), ip=request.remote_addr)
    db.session.commit()
    return {"slips": [{"household": s.household, "code": s.shown} for s in slips]}


@bp.route(f"/organizations/<{MAX_ID}:org_id>/fund/households", methods=["POST"])
@managers_only
@bp.doc(security=BEARER)
@bp.arguments(HouseholdsRequestSchema)
@bp.response(201, HouseholdsSchema)
@errors(400, 401, 403, 404, 422)
def fund_register_households(data, org_id):
    """Register the households that vote (building-unit-room only; known ones are skipped)."""
    org = ledger.organization_for_cadre(g.api_user, org_id)
    added = ballots.register_households(
        org, g.api_user, " ".join(data["households"]), at=now(), ip=request.remote_addr
    )
    db.session.commit()
    return {"added": added, "households": len(ballots.households_of(org.id))}


@bp.route(
    f"/fund/votes/<{MAX_ID}:vote_id>/households/<{MAX_ID}:household_id>/slip", methods=["POST"]
)
@managers_only
@bp.doc(security=BEARER)
@bp.response(201, SlipSchema)
@errors(401, 403, 404, 409)
def fund_reissue_slip(vote_id, household_id):
    """A lost slip: void it and issue a new code (409 once it has voted)."""
    v = ballots.vote_for_cadre(g.api_user, vote_id)
    slip = ballots.reissue_slip(v, household_id, g.api_user, at=now(), ip=request.remote_addr)
    db.session.commit()
    return {"household": slip.household, "code": slip.shown}


# --- the public ------------------------------------------------------------------------------


def _vote_limit() -> str:
    return current_app.config.get("FUND_VOTE_LIMIT", "20/minute;300/day")


@bp.route("/public/<string(maxlength=60):slug>/fund")
@bp.response(200, FundSchema)
@errors(404)
def fund_public_summary(slug):
    """The public fund page as JSON: no login, no personal data."""
    market = notice.market_by_slug(slug)
    return _fund_out(market.organization_id, ProjectState.PUBLIC)


@bp.route(
    f"/public/<string(maxlength=60):slug>/fund/votes/<{MAX_ID}:vote_id>/ballots",
    methods=["POST"],
)
@limiter.limit(_vote_limit, scope="api-fund-vote")
@bp.arguments(BallotRequestSchema)
@bp.response(200, BallotSchema)
@errors(404, 409, 422, 429)
def fund_cast_ballot(data, slug, vote_id):
    """Vote with a slip's code; the answer's change_code (kept by the voter) with the same
    code changes the vote until it closes. The code alone a second time: 409 slip_used."""
    market = notice.market_by_slug(slug)
    vote = ballots.public_vote(market.organization_id, vote_id)
    if vote is None:
        raise NotFound()
    change = data.get("change_code")
    if change is not None and codes.normalize_receipt(change) is None:
        raise InvalidInput(_l("This is not a change code."), code="invalid_change_code")
    result = ballots.cast(vote, data["code"], data["choice"], at=now(), receipt_text=change)
    db.session.commit()
    t = ballots.turnout(vote)
    return {
        "changed": result.changed,
        "change_code": result.receipt,
        "households_voted": t.voted,
        "slips": t.slips,
    }
