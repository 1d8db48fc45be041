"""Session templates: when a market opens, week by week. Saving one re-plans the future.

Weekdays are ISO numbers, 1 = Monday … 7 = Sunday, stored as the bitmask of the model.
An end before the start means the session runs past midnight (18:00–01:00).
"""

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from ...extensions import db
from ...models import SESSION_KINDS, Market, MarketSession, SessionTemplate
from ..auth import access
from ..common import audit
from ..common.errors import Conflict, InvalidInput, NotFound
from .plan import refresh_plan, zone_of

TEMPLATE_FIELDS = (
    "name",
    "kind",
    "weekdays",
    "start_local",
    "end_local",
    "cutoff_minutes",
    "valid_from",
    "valid_until",
    "is_active",
)
WEEK_MINUTES = 7 * 24 * 60


def weekdays_mask(days) -> int:
    try:
        numbers = {int(d) for d in days or ()}
    except (TypeError, ValueError):
        numbers = {0}
    if not numbers:
        raise InvalidInput(_l("Choose at least one weekday."), code="no_weekday", field="weekdays")
    if not numbers <= set(range(1, 8)):
        raise InvalidInput(
            _l("Weekdays are 1 (Monday) to 7 (Sunday)."), code="invalid_weekday", field="weekdays"
        )
    return sum(1 << (d - 1) for d in numbers)


def weekdays_list(mask: int) -> list[int]:
    return [d for d in range(1, 8) if mask >> (d - 1) & 1]


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def duration_minutes(start: time, end: time) -> int:
    """Length on the wall clock; an end at or before the start is on the next day."""
    return (_minutes(end) - _minutes(start)) % (24 * 60)


def _check_times(v: dict) -> None:
    start, end = v["start_local"], v["end_local"]
    if not isinstance(start, time) or not isinstance(end, time):
        raise InvalidInput(_l("Give the start and end as times, e.g. 18:00."), field="start_local")
    if (start.second, start.microsecond, end.second, end.microsecond) != (0, 0, 0, 0):
        raise InvalidInput(_l("Times are whole minutes, e.g. 18:00."), field="start_local")
    if start == end:
        raise InvalidInput(
            _l("The end must differ from the start (an earlier end means past midnight)."),
            code="end_equals_start",
            field="end_local",
        )
    cutoff = v["cutoff_minutes"]
    if not isinstance(cutoff, int) or cutoff < 0:
        raise InvalidInput(
            _l("The cutoff is a number of minutes, 0 or more."), field="cutoff_minutes"
        )
    if cutoff >= duration_minutes(start, end):
        raise InvalidInput(
            _l("The check-in cutoff must fall before the session ends."),
            code="cutoff_after_end",
            field="cutoff_minutes",
        )


def validate(values: dict) -> dict:
    """Normalised values for a template, or an InvalidInput naming the field."""
    v = {"cutoff_minutes": 30, "valid_until": None, "is_active": True, **values}
    for required in ("start_local", "end_local", "valid_from"):
        v.setdefault(required, None)
    v["name"] = (v.get("name") or "").strip()
    if not v["name"] or len(v["name"]) > 60:
        raise InvalidInput(_l("Enter a name of at most 60 characters."), field="name")
    if v.get("kind") not in SESSION_KINDS:
        raise InvalidInput(_l("Choose morning, night or special."), field="kind")
    v["weekdays"] = weekdays_mask(v.get("weekdays"))
    _check_times(v)
    if not isinstance(v.get("valid_from"), date):
        raise InvalidInput(_l("Give the first date."), field="valid_from")
    if v.get("valid_until") is not None and v["valid_until"] < v["valid_from"]:
        raise InvalidInput(_l("The last date must not be before the first."), field="valid_until")
    v["is_active"] = bool(v.get("is_active", True))
    return v


def _week_intervals(t: dict) -> list[tuple[int, int]]:
    """The template's minutes of the week (Monday 00:00 = 0), split where the week wraps."""
    length = duration_minutes(t["start_local"], t["end_local"])
    out = []
    for day in weekdays_list(t["weekdays"]):
        start = (day - 1) * 24 * 60 + _minutes(t["start_local"])
        end = start + length
        out.append((start, min(end, WEEK_MINUTES)))
        if end > WEEK_MINUTES:
            out.append((0, end - WEEK_MINUTES))
    return out


def _dates_meet(a: dict, b: dict) -> bool:
    far = date.max
    return a["valid_from"] <= (b["valid_until"] or far) and b["valid_from"] <= (
        a["valid_until"] or far
    )


def _check_overlap(market: Market, v: dict, template: SessionTemplate | None) -> None:
    """Two regular templates (or two specials) may not run at once: a market has one session
    at a time. A special one may overlap regular ones: on its days it replaces them."""
    if not v["is_active"]:
        return
    others = db.session.scalars(
        select(SessionTemplate).where(
            SessionTemplate.market_id == market.id,
            SessionTemplate.is_active.is_(True),
            SessionTemplate.id != (template.id if template else None),
        )
    )
    mine = _week_intervals(v)
    for other in others:
        o = {f: getattr(other, f) for f in TEMPLATE_FIELDS}
        if (o["kind"] == "special") != (v["kind"] == "special") or not _dates_meet(v, o):
            continue
        if any(a < d and c < b for a, b in mine for c, d in _week_intervals(o)):
            raise Conflict(
                _l(
                    "These hours overlap the template “%(name)s” on the same weekday.",
                    name=other.name,
                ),
                code="template_overlap",
                field="start_local",
            )


def save_template(
    market: Market,
    values: dict,
    template: SessionTemplate | None = None,
    *,
    now: datetime,
    actor=None,
    ip=None,
) -> tuple[SessionTemplate, dict]:
    """Create or update a template (`values` holds TEMPLATE_FIELDS; on update, the missing
    ones keep their value), then re-plan: untouched future sessions follow, generated ones
    appear. Returns the template and what the re-planning did."""
    zone_of(market)  # a market with an unknown zone can't have sessions: say so now
    before = {f: getattr(template, f) for f in TEMPLATE_FIELDS} if template else {}
    current = {**before, "weekdays": weekdays_list(template.weekdays)} if template else {}
    given = {k: v for k, v in values.items() if k in TEMPLATE_FIELDS}
    v = validate({**current, **given})
    _check_overlap(market, v, template)
    created = template is None
    if created:
        template = SessionTemplate(market=market)
        db.session.add(template)
    changed = sorted(k for k in TEMPLATE_FIELDS if before.get(k) != v[k])
    for key in TEMPLATE_FIELDS:
        setattr(template, key, v[key])
    db.session.flush()
    plan = refresh_plan(market, now)
    audit.record(
        "session_template.created" if created else "session_template.updated",
        template,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
        changed=changed,
        **plan,
    )
    return template, plan


def remove_template(template: SessionTemplate, *, now: datetime, actor=None, ip=None) -> str:
    """Delete a template that never had a session; otherwise deactivate it (its history
    stays). Its untouched future sessions go either way. Returns "deleted" or "deactivated"."""
    market = template.market
    template.is_active = False
    db.session.flush()
    refresh_plan(market, now)
    used = db.session.scalar(select(exists().where(MarketSession.template_id == template.id)))
    outcome = "deactivated" if used else "deleted"
    audit.record(
        f"session_template.{outcome}",
        template,
        actor=actor,
        organization_id=market.organization_id,
        ip=ip,
        name=template.name,
    )
    if not used:
        db.session.delete(template)
    return outcome


def template_for_staff(user, template_id: int) -> SessionTemplate:
    template = db.session.get(SessionTemplate, template_id)
    if template is None or not access.can_guide_market(user, template.market):
        raise NotFound()
    return template


def template_for_manager(user, template_id: int) -> SessionTemplate:
    template = db.session.get(SessionTemplate, template_id)
    if template is None or not access.can_manage_market(user, template.market):
        raise NotFound()
    return template


def templates_of(market: Market) -> list[SessionTemplate]:
    return list(
        db.session.scalars(
            select(SessionTemplate)
            .where(SessionTemplate.market_id == market.id)
            .order_by(SessionTemplate.is_active.desc(), SessionTemplate.start_local)
        )
    )
