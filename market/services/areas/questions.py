"""Questions (质询): a supervisor asks a community about a month close, an expense, a cash
hand-over, a trading day or a dashboard flag; the community's cadres answer; the supervisor
accepts the answer or asks again. Each turn is audited in the community's log (which the
area's audit page also lists). A question never edits what it is about."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Area,
    AuditEvent,
    CashHandover,
    Expense,
    Market,
    MarketSession,
    MonthClose,
    Organization,
    Question,
    QuestionMessage,
    QuestionState,
    User,
)
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, Forbidden, InvalidInput, NotFound
from .dashboard import FLAG_RULES

BODY_MAX = 1000

# The record a subject names, and the column saying which organization it belongs to.
_RECORDS = {
    "month_close": (MonthClose, MonthClose.organization_id),
    "expense": (Expense, Expense.organization_id),
    "handover": (CashHandover, CashHandover.organization_id),
    "session": (MarketSession, Market.organization_id),
}

SUBJECT_LABELS = {
    "month_close": _l("Month close"),
    "expense": _l("Expense"),
    "handover": _l("Cash hand-over"),
    "session": _l("Trading day"),
    "flag": _l("Flag"),
}

MESSAGE_LABELS = {
    "ask": _l("Asked"),
    "answer": _l("Answered"),
    "follow_up": _l("Asked again"),
    "accept": _l("Accepted the answer"),
}

STATE_LABELS = {
    QuestionState.OPEN: _l("Waiting for the community"),
    QuestionState.ANSWERED: _l("Answered, to be accepted"),
    QuestionState.ACCEPTED: _l("Accepted"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def _body(text: str | None) -> str:
    body = (text or "").strip()
    if not body:
        raise InvalidInput(_l("Write what you want to know."), code="empty_body", field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(
            _l("At most %(n)d characters.", n=BODY_MAX), code="body_too_long", field="body"
        )
    return body


def _subject(org: Organization, kind: str, subject: str | None) -> tuple[int | None, str | None]:
    """(subject_id, subject_key) after checking the subject exists in this organization."""
    if kind == "flag":
        if subject not in FLAG_RULES:
            raise InvalidInput(_l("No such flag."), code="bad_subject", field="subject")
        return None, subject
    if kind not in _RECORDS:
        raise InvalidInput(_l("No such kind of subject."), code="bad_subject", field="kind")
    try:
        subject_id = int(subject or "")
    except ValueError:
        subject_id = 0
    model, org_column = _RECORDS[kind]
    query = select(model).where(model.id == subject_id, org_column == org.id)
    if kind == "session":
        query = query.join(Market, Market.id == MarketSession.market_id)
    record = db.session.scalar(query) if 0 < subject_id < 2**31 else None
    if record is None:
        raise InvalidInput(
            _l("That record is not one of this community's."), code="bad_subject", field="subject"
        )
    key = {
        "month_close": lambda r: r.month.strftime("%Y-%m"),
        "session": lambda r: r.business_date.isoformat(),
    }.get(kind, lambda r: None)(record)
    return record.id, key


def _supervises(user: User, area_id: int) -> bool:
    return area_id in access.supervised_area_ids(user)


def ask(
    user: User, area: Area, org_id: int, kind: str, subject: str | None, text: str, at: datetime
) -> Question:
    if not _supervises(user, area.id):
        raise Forbidden()
    org = db.session.get(Organization, org_id) if 0 < org_id < 2**31 else None
    if org is None or org.area_id != area.id:
        raise InvalidInput(
            _l("That community is not in this area."), code="bad_organization", field="org"
        )
    body = _body(text)
    subject_id, key = _subject(org, kind, subject)
    question = Question(
        area_id=area.id,
        organization_id=org.id,
        subject_kind=kind,
        subject_id=subject_id,
        subject_key=key,
        asked_by_id=user.id,
        state=QuestionState.OPEN,
        created_at=at,
        updated_at=at,
    )
    question.messages.append(
        QuestionMessage(author_id=user.id, kind="ask", body=body, created_at=at)
    )
    db.session.add(question)
    audit.record(
        "question.asked", question, actor=user, organization_id=org.id, subject=kind, body=body
    )
    return question


def _turn(question: Question, user: User, kind: str, body: str | None, at: datetime, state: str):
    question.messages.append(
        QuestionMessage(author_id=user.id, kind=kind, body=body, created_at=at)
    )
    question.state = state
    question.updated_at = at
    audit.record(
        f"question.{kind}",
        question,
        actor=user,
        organization_id=question.organization_id,
        **({"body": body} if body else {}),
    )


def _locked(question: Question) -> Question:
    """The question re-read under a row lock: two turns at once (a cadre answering while the
    supervisor asks again) must not both pass the state check."""
    db.session.refresh(question, with_for_update=True)
    return question


def answer(user: User, question: Question, text: str, at: datetime) -> Question:
    """A cadre of the community answers; the question then waits for the supervisor."""
    if not access.has_org_role(user, question.organization_id):
        raise Forbidden()
    body = _body(text)
    if _locked(question).state != QuestionState.OPEN:
        raise Conflict(_l("This question is not waiting for an answer."), code="not_open")
    _turn(question, user, "answer", body, at, QuestionState.ANSWERED)
    return question


def accept(user: User, question: Question, at: datetime) -> Question:
    if not _supervises(user, question.area_id):
        raise Forbidden()
    if _locked(question).state != QuestionState.ANSWERED:
        raise Conflict(_l("Only an answered question can be accepted."), code="not_answered")
    _turn(question, user, "accept", None, at, QuestionState.ACCEPTED)
    return question


def follow_up(user: User, question: Question, text: str, at: datetime) -> Question:
    """The answer is not enough: the supervisor asks again and it waits for the community."""
    if not _supervises(user, question.area_id):
        raise Forbidden()
    body = _body(text)
    if _locked(question).state != QuestionState.ANSWERED:
        raise Conflict(_l("Only an answered question can be asked again."), code="not_answered")
    _turn(question, user, "follow_up", body, at, QuestionState.OPEN)
    return question


def readable(user: User, question_id: int) -> Question:
    """The question if the user supervises its area or manages its community."""
    question = db.session.get(Question, question_id) if 0 < question_id < 2**31 else None
    if question is None or not (
        _supervises(user, question.area_id) or access.has_org_role(user, question.organization_id)
    ):
        raise NotFound()
    return question


def _listed(query, state: str | None):
    if state in QuestionState.ALL:
        query = query.where(Question.state == state)
    return db.session.scalars(
        query.options(
            selectinload(Question.messages).selectinload(QuestionMessage.author),
            selectinload(Question.organization),
        ).order_by(Question.updated_at.desc(), Question.id.desc())
    ).all()


def for_area(area_id: int, state: str | None = None) -> list[Question]:
    return _listed(select(Question).where(Question.area_id == area_id), state)


def for_organization(org_id: int, state: str | None = None) -> list[Question]:
    return _listed(select(Question).where(Question.organization_id == org_id), state)


def open_counts(org_ids) -> dict[int, int]:
    """Questions waiting for each community's answer."""
    ids = list(org_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Question.organization_id, func.count())
            .where(Question.organization_id.in_(ids), Question.state == QuestionState.OPEN)
            .group_by(Question.organization_id)
        ).all()
    )


def audit_trail(area_id: int, limit: int = 200) -> list[AuditEvent]:
    """The area's side of the audit log: every turn of its questions, newest first."""
    ids = select(Question.id).where(Question.area_id == area_id).scalar_subquery()
    return db.session.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .where(AuditEvent.object_type == Question.__tablename__, AuditEvent.object_id.in_(ids))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
