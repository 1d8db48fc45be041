"""What anyone may read about a round: the commitment from the start, the frozen list and its
hash after the window, the secret, seed, order and result after the draw. No phone, no full
name, no relief kind (the list says only "priority" or "general")."""

import json
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import ApplicationState, DrawRound, Market
from ..common.errors import NotFound
from . import canonical, rounds


def round_for_public(slug: str, round_id: int) -> DrawRound:
    rnd = db.session.get(DrawRound, round_id)
    if rnd is None or rnd.market.slug != slug or not rnd.market.is_active:
        raise NotFound(_l("There is no such draw."), code="draw_not_found")
    return rnd


def rounds_on_board(market: Market, limit: int = 5) -> list[DrawRound]:
    return list(
        db.session.scalars(
            select(DrawRound)
            .where(DrawRound.market_id == market.id)
            .order_by(DrawRound.draw_at.desc(), DrawRound.id.desc())
            .limit(limit)
        )
    )


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def payload(rnd: DrawRound) -> dict:
    """The public JSON (/p/<slug>/draws/<id>.json): what scripts/verify_draw.py reads. The list
    and the result are the exact canonical texts, as strings, so their bytes survive."""
    after = [
        {"number": a.number, "stall": a.stall.code if a.stall else None, "state": a.state}
        for a in rnd.applications
        if a.state in (ApplicationState.DECLINED, ApplicationState.FORFEITED)
    ]
    holders = [
        {"number": a.number, "stall": a.stall.code}
        for a in sorted(rnd.applications, key=lambda a: a.position or 0)
        if a.state == ApplicationState.WON
    ]
    return {
        "format": canonical.FORMAT,
        "market": rnd.market.slug,
        "round": rnd.id,
        "title": rnd.title,
        "period": {
            "from": rnd.period_start.isoformat(),
            "until": rounds.period_end(rnd).isoformat(),
        },
        "fee_fen_per_month": rnd.fee_fen,
        "opens_at": _iso(rnd.opens_at),
        "closes_at": _iso(rnd.closes_at),
        "draw_at": _iso(rnd.draw_at),
        "priority_kinds": [k for k in rnd.priority_kinds.split(",") if k],
        "quota_percent": rnd.quota_percent,
        "ranked": rnd.ranked,
        "stalls": rounds.stall_codes(rnd),
        "state": rnd.state,
        "commitment": rnd.commitment,
        "list": rnd.frozen_list,
        "list_hash": rnd.list_hash,
        "secret": rnd.revealed_secret,
        "result": rnd.result,
        "holders_now": holders if rnd.result else [],
        "given_up": after,
    }


def parsed(rnd: DrawRound) -> tuple[dict | None, dict | None]:
    """The frozen list and the result as data, for the page."""
    return (
        json.loads(rnd.frozen_list) if rnd.frozen_list else None,
        json.loads(rnd.result) if rnd.result else None,
    )
