"""Projects (专项) of the governance fund: proposed by a cadre or a resident, published for
deliberation, decided (decisions.py), carried out and reported on. Every change is audited."""

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature
from sqlalchemy import func, select

from ...extensions import db
from ...models import FundProject, Market, Organization, ProjectState, Role, User
from ..auth import access
from ..common import audit, uploads
from ..common.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..common.money import check_fen
from ..complaints import guard

TITLE_MAX, PLACE_MAX, REASON_MAX, REPORT_MAX, DECLINE_MAX = 80, 200, 2000, 2000, 200
# A resident's proposal is at most this much: larger works come from the community office.
PUBLIC_BUDGET_MAX_FEN = 100_000_000
FREE_PROPOSALS_PER_DAY = 1

STATE_LABELS = {
    ProjectState.PROPOSED: _l("Proposed by a resident, waiting for review"),
    ProjectState.DRAFT: _l("Draft"),
    ProjectState.PUBLISHED: _l("Under deliberation"),
    ProjectState.APPROVED: _l("Approved"),
    ProjectState.REJECTED: _l("Not approved"),
    ProjectState.IN_PROGRESS: _l("In progress"),
    ProjectState.DONE: _l("Done"),
    ProjectState.CANCELLED: _l("Cancelled"),
    ProjectState.DECLINED: _l("Not published"),
}


def photos_dir():
    return uploads.uploads_dir() / "fund"


def _text(value, limit: int, field: str, message) -> str:
    value = " ".join((value or "").split()) if field != "reason" else (value or "").strip()
    if not value or len(value) > limit:
        raise InvalidInput(message, code=f"{field}_invalid", field=field)
    return value


def _validate(title, place, reason, budget_fen, max_fen=None):
    title = _text(title, TITLE_MAX, "title", _l("Give the project a title of up to 80 characters."))
    place = _text(
        place, PLACE_MAX, "place", _l("Say what will be done and where, in up to 200 characters.")
    )
    reason = _text(
        reason, REASON_MAX, "reason", _l("Say why it is needed, in up to 2,000 characters.")
    )
    check_fen(budget_fen, "budget")
    if budget_fen <= 0:
        raise InvalidInput(_l("Enter a budget above zero."), code="budget_invalid", field="budget")
    if max_fen is not None and budget_fen > max_fen:
        raise InvalidInput(
            _l("A resident's proposal can ask for at most ¥1,000,000."),
            code="budget_too_large",
            field="budget",
        )
    return title, place, reason


def _save_photo(photo, field="photo"):
    return uploads.save_image(photo, photos_dir(), field=field) if photo is not None else None


def create_project(
    org: Organization, cadre: User, *, title, place, reason, budget_fen, at, photo=None, ip=None
) -> FundProject:
    """A cadre's project, as a draft to publish when it is ready."""
    if not access.has_org_role(cadre, org.id, Role.MANAGERS):
        raise Forbidden()
    title, place, reason = _validate(title, place, reason, budget_fen)
    project = FundProject(
        organization_id=org.id,
        title=title,
        place=place,
        reason=reason,
        budget_fen=budget_fen,
        state=ProjectState.DRAFT,
        photo=_save_photo(photo),
        proposed_by_id=cadre.id,
        created_at=at,
        updated_at=at,
    )
    db.session.add(project)
    db.session.flush()
    audit.record(
        "fund.project_created",
        project,
        actor=cadre,
        organization_id=org.id,
        ip=ip,
        budget_fen=budget_fen,
    )
    return project


def address_hash(ip: str | None) -> str | None:
    if not ip:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"fund-proposal-ip:" + ip.encode(), hashlib.sha256).hexdigest()


def needs_challenge(ip_hash: str | None, now: datetime) -> bool:
    if ip_hash is None:
        return False
    sent = db.session.scalar(
        select(func.count())
        .select_from(FundProject)
        .where(FundProject.ip_hash == ip_hash, FundProject.created_at > now - timedelta(days=1))
    )
    return sent >= FREE_PROPOSALS_PER_DAY


def _check_challenge(ip_hash, token, answer, now) -> None:
    """The complaints' small sum, from the second proposal of a day from one address."""
    if not needs_challenge(ip_hash, now):
        return
    fresh = guard.new_challenge(ip_hash)
    if not token or answer in (None, ""):
        raise guard.ChallengeFailed(
            _l("You have sent a proposal today already. Please answer the sum below."), fresh
        )
    try:
        data = guard._serializer().loads(token, max_age=guard.CHALLENGE_MAX_AGE)
        right = data["ip"] == (ip_hash or "") and int(str(answer).strip()) == data["s"]
    except (BadSignature, KeyError, TypeError, ValueError):
        right = False
    if not right:
        raise guard.ChallengeFailed(
            _l("The answer to the sum is not right. Please try the new one."),
            fresh,
            code="challenge_failed",
        )


def propose(
    market: Market,
    *,
    title,
    place,
    reason,
    budget_fen,
    at,
    photo=None,
    ip=None,
    challenge_token=None,
    challenge_answer=None,
) -> FundProject:
    """A resident's proposal from the public page: no login; a cadre publishes or declines it."""
    title, place, reason = _validate(title, place, reason, budget_fen, PUBLIC_BUDGET_MAX_FEN)
    ip_hash = address_hash(ip)
    _check_challenge(ip_hash, challenge_token, challenge_answer, at)
    project = FundProject(
        organization_id=market.organization_id,
        title=title,
        place=place,
        reason=reason,
        budget_fen=budget_fen,
        state=ProjectState.PROPOSED,
        photo=_save_photo(photo),
        ip_hash=ip_hash,
        created_at=at,
        updated_at=at,
    )
    db.session.add(project)
    db.session.flush()
    audit.record(
        "fund.project_proposed",
        project,
        organization_id=market.organization_id,
        budget_fen=budget_fen,
    )
    return project


def lock(project: FundProject) -> FundProject:
    """The project row, locked for this transaction (its state and budget decide what follows)."""
    db.session.flush()  # a refresh drops unflushed changes
    db.session.refresh(project, with_for_update=True)
    return project


def _move(project, cadre, allowed, to, action, at, ip=None, **detail):
    if not access.has_org_role(cadre, project.organization_id, Role.MANAGERS):
        raise Forbidden()
    lock(project)
    if project.state not in allowed:
        raise Conflict(
            _l(
                "This project is %(state)s: it cannot be changed that way.",
                state=STATE_LABELS[project.state],
            ),
            code="wrong_state",
        )
    before = project.state
    project.state = to
    project.updated_at = at
    audit.record(
        action,
        project,
        actor=cadre,
        organization_id=project.organization_id,
        ip=ip,
        from_state=before,
        to_state=to,
        **detail,
    )
    return project


def publish(project: FundProject, cadre: User, *, at, ip=None) -> FundProject:
    return _move(
        project,
        cadre,
        (ProjectState.DRAFT, ProjectState.PROPOSED),
        ProjectState.PUBLISHED,
        "fund.project_published",
        at,
        ip,
    )


def decline(project: FundProject, cadre: User, reason, *, at, ip=None) -> FundProject:
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > DECLINE_MAX:
        raise InvalidInput(
            _l("Say in up to 200 characters why it is not published."),
            code="reason_required",
            field="reason",
        )
    _move(
        project,
        cadre,
        (ProjectState.PROPOSED,),
        ProjectState.DECLINED,
        "fund.project_declined",
        at,
        ip,
        reason=reason,
    )
    project.decline_reason = reason
    return project


def start(project: FundProject, cadre: User, *, at, ip=None) -> FundProject:
    return _move(
        project,
        cadre,
        (ProjectState.APPROVED,),
        ProjectState.IN_PROGRESS,
        "fund.project_started",
        at,
        ip,
    )


def finish(project: FundProject, cadre: User, report, *, at, photo=None, ip=None) -> FundProject:
    report = (report or "").strip()
    if not report or len(report) > REPORT_MAX:
        raise InvalidInput(
            _l("Say in up to 2,000 characters what was done."),
            code="report_required",
            field="report",
        )
    name = _save_photo(photo, field="done_photo")
    _move(project, cadre, ProjectState.SPENDING, ProjectState.DONE, "fund.project_done", at, ip)
    project.report = report
    if name:
        project.done_photo = name
    return project


def cancel(project: FundProject, cadre: User, *, at, ip=None) -> FundProject:
    """What is left of its budget goes back to the fund (an expense already booked stays)."""
    return _move(
        project,
        cadre,
        (
            ProjectState.DRAFT,
            ProjectState.PUBLISHED,
            ProjectState.APPROVED,
            ProjectState.IN_PROGRESS,
        ),
        ProjectState.CANCELLED,
        "fund.project_cancelled",
        at,
        ip,
    )


def projects_of(organization_id: int, states=None) -> list[FundProject]:
    query = select(FundProject).where(FundProject.organization_id == organization_id)
    if states is not None:
        query = query.where(FundProject.state.in_(states))
    return list(db.session.scalars(query.order_by(FundProject.created_at.desc(), FundProject.id)))


def project_for_cadre(user: User, project_id: int) -> FundProject:
    project = db.session.get(FundProject, project_id)
    if project is None or not access.has_org_role(user, project.organization_id, Role.MANAGERS):
        raise NotFound()
    return project


def project_for_reader(user: User, project_id: int) -> FundProject:
    """Its cadres and the street office's supervisors."""
    project = db.session.get(FundProject, project_id)
    if project is None or not access.can_read_org(user, project.organization_id):
        raise NotFound()
    return project


def public_project(market: Market, project_id: int) -> FundProject:
    project = db.session.get(FundProject, project_id)
    if (
        project is None
        or project.organization_id != market.organization_id
        or project.state not in ProjectState.PUBLIC
    ):
        raise NotFound()
    return project
