"""API for the street office: one area's communities side by side, as on /areas/<id>/.

The same service as the page (services.areas.dashboard): figures in integer fen, a month's
money as booked by its month close (null while the month is not closed), flags by name. The
questions' four POSTs take an Idempotency-Key, as check-ins do: a phone resending on weak 4G
asks (or answers) once and gets the first answer back."""

import marshmallow as ma
from flask import current_app, g
from flask.views import MethodView
from sqlalchemy import select

from ..extensions import db
from ..models import QUESTION_SUBJECTS, Area, QuestionState, Role
from ..services.areas import dashboard, questions
from ..services.auth import access
from ..services.common.clock import now as clock_now
from ..services.common.errors import NotFound
from . import bp
from .checkins import IDEMPOTENCY_HEADER, idempotent
from .common import READ_ERRORS, WRITE_ERRORS, allowed, errors
from .reports import MonthlyArgsSchema
from .routes import BEARER, MAX_ID

supervisors_only = allowed(Role.SUPERVISOR)
MONEY_NOTE = (
    "fen, as booked by the month close; while month_closed is false, what closing it now would book"
)
BY_NAME = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)


CommunitySchema = ma.Schema.from_dict(
    {
        "organization_id": ma.fields.Integer(required=True),
        "community": ma.fields.String(required=True),
        "month_closed": ma.fields.Boolean(required=True),
        **{
            key: ma.fields.Integer(required=True, metadata={"description": MONEY_NOTE})
            for key in dashboard.MONEY
        },
        "expenses_by_category": BY_NAME,
        "mtd_income_fen": ma.fields.Integer(
            required=True, metadata={"description": "this month so far, fen"}
        ),
        "mtd_net_fen": ma.fields.Integer(
            required=True, metadata={"description": "this month so far, fen"}
        ),
        "incidents": ma.fields.Integer(required=True),
        "incidents_by_kind": BY_NAME,
        "open_questions": ma.fields.Integer(required=True),
        "occupancy": ma.fields.Float(allow_none=True, metadata={"description": "0..1"}),
        "held": ma.fields.Integer(required=True, metadata={"description": "sessions held"}),
        "cancelled": ma.fields.Integer(required=True),
        "complaints": ma.fields.Integer(required=True),
        "answered_in_time": ma.fields.Float(allow_none=True, metadata={"description": "0..1"}),
        "flags": ma.fields.Dict(
            keys=ma.fields.String(),
            values=ma.fields.Integer(),
            required=True,
            metadata={"description": "raised flags and how many times; rules in `rules`"},
        ),
    },
    name="AreaCommunity",
)


class AreaSummarySchema(ma.Schema):
    area_id = ma.fields.Integer(required=True)
    area = ma.fields.String(required=True)
    month = ma.fields.String(required=True)
    communities = ma.fields.List(ma.fields.Nested(CommunitySchema), required=True)
    rules = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


def _supervised_area(area_id: int) -> Area:
    area = db.session.get(Area, area_id)
    if area is None or area.id not in access.supervised_area_ids(g.api_user):
        raise NotFound()
    return area


@bp.route(f"/areas/<{MAX_ID}:area_id>/summary")
@supervisors_only
@bp.doc(security=BEARER)
@bp.arguments(MonthlyArgsSchema, location="query")
@bp.response(200, AreaSummarySchema)
@errors(*READ_ERRORS)
def area_summary(args, area_id: int):
    """The street office's dashboard rows for a month (default: the last full one), for the
    area's supervisors."""
    area = _supervised_area(area_id)
    now = clock_now()
    today = dashboard.local_today(area, now, current_app.config["MARKET_TIMEZONE"])
    month = dashboard.month_of(args.get("month"), dashboard.default_month(area, today))
    rows = dashboard.rows_for(area, month, now, today)
    return {
        "area_id": area.id,
        "area": area.name,
        "month": month.strftime("%Y-%m"),
        "communities": [
            {
                "organization_id": r.org.id,
                "month_closed": r.closed is not None,
                **{k: v for k, v in r.values.items() if k != "flags"},
                "flags": r.flags,
                "expenses_by_category": r.expenses_by_category,
                "incidents_by_kind": r.incidents_by_kind,
            }
            for r in rows
        ],
        "rules": {key: str(rule) for key, rule in dashboard.FLAG_RULES.items()},
    }


class AreaSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    organizations = ma.fields.List(
        ma.fields.Dict(), required=True, metadata={"description": "[{id, name}]"}
    )


@bp.route("/areas")
@supervisors_only
@bp.doc(security=BEARER)
@bp.response(200, AreaSchema(many=True))
@errors(401, 403)
def areas():
    """The areas (街道 / 区) the caller supervises, with their communities."""
    ids = access.supervised_area_ids(g.api_user)
    found = db.session.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.id)).all()
    return [
        {
            "id": a.id,
            "name": a.name,
            "organizations": [{"id": o.id, "name": o.name} for o in a.organizations],
        }
        for a in found
    ]


class MessageSchema(ma.Schema):
    kind = ma.fields.String(
        required=True, metadata={"description": "ask, answer, follow_up, accept"}
    )
    author = ma.fields.String(required=True)
    body = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)


class QuestionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    area_id = ma.fields.Integer(required=True)
    organization_id = ma.fields.Integer(required=True)
    subject_kind = ma.fields.String(required=True)
    subject_id = ma.fields.Integer(allow_none=True)
    subject_key = ma.fields.String(allow_none=True)
    state = ma.fields.String(required=True, metadata={"description": "open, answered, accepted"})
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    messages = ma.fields.List(ma.fields.Nested(MessageSchema), required=True)


class QuestionArgsSchema(ma.Schema):
    state = ma.fields.String(validate=ma.validate.OneOf(QuestionState.ALL))


class AskSchema(ma.Schema):
    organization_id = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1))
    subject_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(QUESTION_SUBJECTS))
    subject = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=40),
        metadata={"description": "the record's id, or the flag's key when subject_kind is flag"},
    )
    body = ma.fields.String(required=True, validate=ma.validate.Length(max=questions.BODY_MAX))


class TextSchema(ma.Schema):
    body = ma.fields.String(required=True, validate=ma.validate.Length(max=questions.BODY_MAX))


def question_out(q) -> dict:
    return {
        "id": q.id,
        "area_id": q.area_id,
        "organization_id": q.organization_id,
        "subject_kind": q.subject_kind,
        "subject_id": q.subject_id,
        "subject_key": q.subject_key,
        "state": q.state,
        "created_at": q.created_at,
        "updated_at": q.updated_at,
        "messages": [
            {"kind": m.kind, "author": m.author.name, "body": m.body, "created_at": m.created_at}
            for m in q.messages
        ],
    }


@bp.route(f"/areas/<{MAX_ID}:area_id>/questions")
class AreaQuestions(MethodView):
    decorators = [supervisors_only]

    @bp.doc(security=BEARER)
    @bp.arguments(QuestionArgsSchema, location="query")
    @bp.response(200, QuestionSchema(many=True))
    @errors(*READ_ERRORS)
    def get(self, args, area_id: int):
        """The area's questions (质询) to its communities, newest first."""
        area = _supervised_area(area_id)
        return [question_out(q) for q in questions.for_area(area.id, args.get("state"))]

    @bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
    @bp.arguments(AskSchema)
    @bp.response(201, QuestionSchema)
    @errors(*WRITE_ERRORS)
    def post(self, data, area_id: int):
        """Ask a community about a month close, an expense, a cash hand-over, a trading day
        (session) or a dashboard flag. It changes nothing: the community's cadres answer."""
        area = _supervised_area(area_id)

        def run():
            q = questions.ask(
                g.api_user,
                area,
                data["organization_id"],
                data["subject_kind"],
                data["subject"],
                data["body"],
                clock_now(),
            )
            db.session.flush()
            return question_out(q), 201

        return idempotent("question-ask", data, run, QuestionSchema)


@bp.route(f"/questions/<{MAX_ID}:question_id>")
@allowed(Role.READERS)
@bp.doc(security=BEARER)
@bp.response(200, QuestionSchema)
@errors(*READ_ERRORS)
def question(question_id: int):
    """One question and its thread, for the area's supervisors and the community's cadres."""
    return question_out(questions.readable(g.api_user, question_id))


def _turn(scope: str, data: dict, act):
    """One turn of a question (answer, accept, follow-up), once per Idempotency-Key: the path
    in the key's request hash names the question, so the key is refused for another one."""
    return idempotent(scope, data, lambda: (question_out(act()), 200), QuestionSchema)


@bp.route(f"/questions/<{MAX_ID}:question_id>/answer", methods=["POST"])
@allowed(Role.MANAGERS)
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.arguments(TextSchema)
@bp.response(200, QuestionSchema)
@errors(*WRITE_ERRORS)
def answer_question(data, question_id: int):
    """A cadre of the community answers an open question; it then waits for the supervisor."""
    q = questions.readable(g.api_user, question_id)
    return _turn(
        "question-answer", data, lambda: questions.answer(g.api_user, q, data["body"], clock_now())
    )


@bp.route(f"/questions/<{MAX_ID}:question_id>/accept", methods=["POST"])
@supervisors_only
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.response(200, QuestionSchema)
@errors(*WRITE_ERRORS)
def accept_question(question_id: int):
    """The supervisor accepts an answered question."""
    q = questions.readable(g.api_user, question_id)
    return _turn("question-accept", {}, lambda: questions.accept(g.api_user, q, clock_now()))


@bp.route(f"/questions/<{MAX_ID}:question_id>/follow-up", methods=["POST"])
@supervisors_only
@bp.doc(security=BEARER, parameters=IDEMPOTENCY_HEADER)
@bp.arguments(TextSchema)
@bp.response(200, QuestionSchema)
@errors(*WRITE_ERRORS)
def follow_up_question(data, question_id: int):
    """The answer is not enough: ask again; the question waits for the community."""
    q = questions.readable(g.api_user, question_id)
    return _turn(
        "question-follow-up",
        data,
        lambda: questions.follow_up(g.api_user, q, data["body"], clock_now()),
    )
