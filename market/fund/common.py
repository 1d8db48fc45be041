"""What the cadres' and the residents' pages share."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Market, Organization
from ..services.common.errors import DomainError, InvalidInput
from ..services.common.money import parse_yuan

ID = "int(max=2147483647)"
SLUG = "string(maxlength=60)"


def form_text(name: str, limit: int = 4000) -> str:
    return (request.form.get(name) or "")[:limit]


def form_yuan(name: str) -> int:
    return parse_yuan(form_text(name, 40), field=name)


def form_int(name: str):
    text = form_text(name, 12).strip()
    try:
        return int(text)
    except ValueError:
        return text  # the service says what is wrong with it


def form_file(name: str):
    upload = request.files.get(name)
    return upload.stream if upload and upload.filename else None


def form_date(name: str):
    from datetime import date

    try:
        return date.fromisoformat(form_text(name, 10).strip())
    except ValueError:
        raise InvalidInput(_l("Give a date."), code="invalid_date", field=name) from None


def market_of(org: Organization) -> Market | None:
    return org.markets[0] if org.markets else None


def zone_of(org: Organization) -> ZoneInfo:
    market = market_of(org)
    return ZoneInfo(market.timezone if market else "Asia/Shanghai")


def form_local_time(name: str, org: Organization) -> datetime:
    try:
        local = datetime.fromisoformat(form_text(name, 20).strip())
    except ValueError:
        raise InvalidInput(_l("Give a date and time."), code="invalid_time", field=name) from None
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=zone_of(org)).astimezone(UTC)


def run(action):
    """(result, None) committed, or (None, error) rolled back."""
    try:
        result = action()
    except DomainError as e:
        db.session.rollback()
        return None, e
    db.session.commit()
    return result, None
