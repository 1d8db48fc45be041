"""Stall zoning (科学划分摊位): markets, zones and stalls, their grid, and stall QR tokens."""

import re
from dataclasses import dataclass
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import (
    CheckIn,
    Market,
    Organization,
    RetiredStallToken,
    Stall,
    StallStatus,
    Zone,
    new_stall_token,
)
from ..common import audit, locks
from ..common.errors import Conflict, DomainError, InvalidInput, NotFound
from ..common.locks import advisory_xact_lock

SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,43}")
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}")
RANGE_RE = re.compile(
    r"\s*(?P<prefix>[A-Za-z]*-?)(?P<first>\d{1,4})\s*(?:\.\.|~|～|到|to|-|—|–)\s*"
    r"(?P<prefix2>[A-Za-z]*-?)(?P<last>\d{1,4})\s*",
    re.IGNORECASE,
)
MAX_BULK = 200
MAX_GRID = 200
MAX_CELL = 10


class TokenReplaced(DomainError):
    status = 410
    code = "token_replaced"
    default_message = _l("This code has been replaced. Please scan the new poster on the stall.")


# --- markets ---------------------------------------------------------------------------------


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.fullmatch(slug):
        raise InvalidInput(
            _l("Use lowercase letters, digits and hyphens only, e.g. jinhui-night."),
            code="invalid_slug",
            field="slug",
        )
    return slug


def validate_timezone(name: str) -> str:
    if name not in available_timezones():
        raise InvalidInput(
            _l("Unknown timezone; use a name like Asia/Shanghai."),
            code="invalid_timezone",
            field="timezone",
        )
    return name


def _check_geofence(latitude, longitude, radius) -> None:
    given = [v is not None for v in (latitude, longitude, radius)]
    if any(given) and not all(given):
        raise InvalidInput(
            _l("A geofence needs latitude, longitude and radius together."),
            code="incomplete_geofence",
            field="geofence_radius_m",
        )
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput(_l("Latitude or longitude out of range."), field="latitude")
    if radius is not None and not (10 <= radius <= 20_000):
        raise InvalidInput(
            _l("The radius must be between 10 and 20,000 metres."), field="geofence_radius_m"
        )


MARKET_FIELDS = (
    "name",
    "slug",
    "address",
    "timezone",
    "latitude",
    "longitude",
    "geofence_radius_m",
    "public_notice",
    "rules_text",
    "is_active",
)


def save_market(
    organization: Organization, values: dict, market: Market | None = None, *, actor=None, ip=None
) -> Market:
    """Create a market (market=None) or update one; `values` holds MARKET_FIELDS."""
    values = {k: v for k, v in values.items() if k in MARKET_FIELDS}
    if "slug" in values:
        values["slug"] = validate_slug(values["slug"])
        clash = db.session.scalar(
            select(Market.id).where(
                Market.slug == values["slug"], Market.id != (market and market.id)
            )
        )
        if clash:
            raise Conflict(_l("This short name is already used."), code="slug_taken", field="slug")
    if "timezone" in values:
        values["timezone"] = validate_timezone(values["timezone"])
    if "name" in values and not (values["name"] or "").strip():
        raise InvalidInput(_l("Enter a name."), field="name")
    current = {k: getattr(market, k) for k in MARKET_FIELDS} if market else {}
    merged = {**current, **values}
    _check_geofence(
        merged.get("latitude"), merged.get("longitude"), merged.get("geofence_radius_m")
    )
    created = market is None
    if created:
        market = Market(organization=organization)
        db.session.add(market)
    changed = {k: v for k, v in values.items() if current.get(k) != v}
    for key, value in values.items():
        setattr(market, key, value.strip() if isinstance(value, str) else value)
    audit.record(
        "market.created" if created else "market.updated",
        market,
        organization_id=organization.id,
        actor=actor,
        ip=ip,
        changed=sorted(changed),
    )
    return market


def set_collection_code(market: Market, filename: str, *, actor=None, ip=None) -> None:
    market.collection_code_path = filename
    audit.record(
        "market.collection_code_set",
        market,
        organization_id=market.organization_id,
        actor=actor,
        ip=ip,
    )


# --- zones -----------------------------------------------------------------------------------

ZONE_FIELDS = ("code", "name", "color", "sort_order", "categories", "goods_note", "is_active")


def normalise_categories(raw) -> str:
    """Category keys as a clean comma list: 'cooked_food, snacks' → 'cooked_food,snacks'."""
    items = raw if isinstance(raw, list | tuple) else re.split(r"[,，、\s]+", raw or "")
    seen = []
    for item in (i.strip() for i in items):
        if item and item not in seen:
            seen.append(item[:40])
    return ",".join(seen)[:200]


def save_zone(
    market: Market, values: dict, zone: Zone | None = None, *, actor=None, ip=None
) -> Zone:
    values = {k: v for k, v in values.items() if k in ZONE_FIELDS}
    if "code" in values:
        values["code"] = (values["code"] or "").strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{1,8}", values["code"]):
            raise InvalidInput(_l("Use 1–8 letters or digits, e.g. A."), field="code")
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise InvalidInput(_l("Enter a name."), field="name")
    if "color" in values and not COLOR_RE.fullmatch(values["color"] or ""):
        raise InvalidInput(_l("Pick a colour like #C2410C."), field="color")
    if "categories" in values:
        values["categories"] = normalise_categories(values["categories"])
    for key in ("code", "name"):
        if key in values:
            clash = db.session.scalar(
                select(Zone.id).where(
                    Zone.market_id == market.id,
                    getattr(Zone, key) == values[key],
                    Zone.id != (zone and zone.id),
                )
            )
            if clash:
                raise Conflict(_l("Another zone of this market already uses this."), field=key)
    created = zone is None
    if created:
        zone = Zone(market=market)
        db.session.add(zone)
    for key, value in values.items():
        setattr(zone, key, value)
    audit.record(
        "zone.created" if created else "zone.updated",
        zone,
        organization_id=market.organization_id,
        actor=actor,
        ip=ip,
        fields=sorted(values),
    )
    return zone


def zone_of_market(market: Market, zone_id: int | None) -> Zone:
    zone = db.session.get(Zone, zone_id) if zone_id else None
    if zone is None or zone.market_id != market.id:
        raise InvalidInput(
            _l("Choose a zone of this market."), code="invalid_zone", field="zone_id"
        )
    return zone


# --- stalls and the grid ---------------------------------------------------------------------

STALL_FIELDS = (
    "code",
    "zone_id",
    "width_cm",
    "depth_cm",
    "has_power",
    "grid_row",
    "grid_col",
    "grid_w",
    "grid_h",
)


def _validate_cells(row: int, col: int, w: int, h: int) -> None:
    if not (0 <= row < MAX_GRID and 0 <= col < MAX_GRID):
        raise InvalidInput(
            _l("Row and column must be between 0 and %(n)d.", n=MAX_GRID - 1), field="grid_row"
        )
    if not (1 <= w <= MAX_CELL and 1 <= h <= MAX_CELL):
        raise InvalidInput(
            _l("Width and height on the map must be between 1 and %(n)d cells.", n=MAX_CELL),
            field="grid_w",
        )


def _overlap(a: tuple, b: tuple) -> bool:
    (r1, c1, w1, h1), (r2, c2, w2, h2) = a, b
    return r1 < r2 + h2 and r2 < r1 + h1 and c1 < c2 + w2 and c2 < c1 + w1


def lock_map(market: Market) -> None:
    """Serialise placing stalls on one market's map until this transaction ends, so two cadres
    saving at once can't both find a place free. Overlap is a rule over many rows, which no
    unique index can hold."""
    advisory_xact_lock(locks.STALL_MAP, market.id)


def occupied_cells(market: Market, exclude_id: int | None = None) -> list[tuple]:
    """The stalls' rectangles on the map; a writer takes `lock_map` before reading them."""
    rows = db.session.execute(
        select(Stall.code, Stall.grid_row, Stall.grid_col, Stall.grid_w, Stall.grid_h).where(
            Stall.market_id == market.id, Stall.id != exclude_id
        )
    ).all()
    return [(code, (r, c, w, h)) for code, r, c, w, h in rows]


def check_free(market: Market, cells: tuple, exclude_id: int | None = None, taken=None) -> None:
    for code, other in taken if taken is not None else occupied_cells(market, exclude_id):
        if _overlap(cells, other):
            raise Conflict(
                _l("This place on the map overlaps stall %(code)s.", code=code),
                code="cells_overlap",
                field="grid_row",
            )


def _check_code(market: Market, code: str, exclude_id: int | None = None) -> str:
    code = (code or "").strip().upper()
    if not CODE_RE.fullmatch(code):
        raise InvalidInput(_l("Use letters, digits and hyphens, e.g. A-07."), field="code")
    clash = db.session.scalar(
        select(Stall.id).where(
            Stall.market_id == market.id, Stall.code == code, Stall.id != exclude_id
        )
    )
    if clash:
        raise Conflict(
            _l("Stall %(code)s already exists in this market.", code=code),
            code="duplicate_stall_code",
            field="code",
        )
    return code


def save_stall(
    market: Market, values: dict, stall: Stall | None = None, *, actor=None, ip=None
) -> Stall:
    values = {k: v for k, v in values.items() if k in STALL_FIELDS}
    exclude = stall.id if stall else None
    if "code" in values or stall is None:
        values["code"] = _check_code(market, values.get("code"), exclude)
    if "zone_id" in values or stall is None:
        values["zone_id"] = zone_of_market(market, values.get("zone_id")).id
    for size in ("width_cm", "depth_cm"):
        if size in values and not (50 <= values[size] <= 2000):
            raise InvalidInput(_l("Sizes must be between 0.5 m and 20 m."), field=size)
    geometry = {
        k: values.get(k, getattr(stall, k, None))
        for k in ("grid_row", "grid_col", "grid_w", "grid_h")
    }
    geometry["grid_w"] = geometry["grid_w"] or 1
    geometry["grid_h"] = geometry["grid_h"] or 1
    if geometry["grid_row"] is None or geometry["grid_col"] is None:
        raise InvalidInput(_l("Give the stall a row and a column on the map."), field="grid_row")
    cells = (geometry["grid_row"], geometry["grid_col"], geometry["grid_w"], geometry["grid_h"])
    _validate_cells(*cells)
    lock_map(market)
    check_free(market, cells, exclude)
    values.update(geometry)
    created = stall is None
    if created:
        stall = Stall(market_id=market.id)
        db.session.add(stall)
    for key, value in values.items():
        setattr(stall, key, value)
    audit.record(
        "stall.created" if created else "stall.updated",
        stall,
        organization_id=market.organization_id,
        actor=actor,
        ip=ip,
        code=stall.code,
    )
    return stall


@dataclass(frozen=True)
class CodeRange:
    prefix: str
    first: int
    last: int
    digits: int

    def codes(self) -> list[str]:
        return [f"{self.prefix}{n:0{self.digits}d}" for n in range(self.first, self.last + 1)]


def parse_code_range(text: str) -> CodeRange:
    """'A-01..A-24' (or 'A-01~A-24', 'A-01 到 A-24', '1-24' …) → the codes A-01 … A-24."""
    match = RANGE_RE.fullmatch(text or "")
    if not match:
        raise InvalidInput(
            _l("Write a range like A-01..A-24."), code="invalid_range", field="codes"
        )
    prefix, prefix2 = match["prefix"].upper(), match["prefix2"].upper()
    if prefix2 and prefix2 != prefix:
        raise InvalidInput(_l("Both ends of the range need the same prefix."), field="codes")
    first, last = int(match["first"]), int(match["last"])
    if last < first:
        raise InvalidInput(
            _l("The range runs backwards: the first number must be the smaller one."),
            code="reversed_range",
            field="codes",
        )
    if last - first + 1 > MAX_BULK:
        raise InvalidInput(
            _l("At most %(n)d stalls at once.", n=MAX_BULK), code="range_too_large", field="codes"
        )
    return CodeRange(prefix, first, last, max(len(match["first"]), len(match["last"]), 2))


def bulk_create_stalls(
    market: Market,
    zone: Zone,
    code_range: str,
    *,
    rows: int = 2,
    start_row: int = 0,
    start_col: int = 0,
    walkway: bool = True,
    has_power: bool = False,
    actor=None,
    ip=None,
) -> list[Stall]:
    """'Zone A, stalls A-01 to A-24 in two rows': rows facing each other across a walkway."""
    zone = zone_of_market(market, zone.id if zone else None)
    codes = parse_code_range(code_range).codes()
    if not 1 <= rows <= 10:
        raise InvalidInput(_l("Between 1 and 10 rows."), field="rows")
    per_row = -(-len(codes) // rows)
    step = 2 if walkway else 1
    lock_map(market)
    taken = occupied_cells(market)
    existing = set(
        db.session.scalars(
            select(Stall.code).where(Stall.market_id == market.id, Stall.code.in_(codes))
        )
    )
    if existing:
        raise Conflict(
            _l("These stalls already exist: %(codes)s", codes=", ".join(sorted(existing)[:10])),
            code="duplicate_stall_code",
            field="codes",
        )
    stalls = []
    for i, code in enumerate(codes):
        cells = (start_row + (i // per_row) * step, start_col + i % per_row, 1, 1)
        _validate_cells(*cells)
        check_free(market, cells, taken=taken)
        taken.append((code, cells))
        stall = Stall(
            market_id=market.id,
            zone_id=zone.id,
            code=code,
            grid_row=cells[0],
            grid_col=cells[1],
            has_power=has_power,
        )
        db.session.add(stall)
        stalls.append(stall)
    db.session.flush()
    audit.record(
        "stall.bulk_created",
        zone,
        organization_id=market.organization_id,
        actor=actor,
        ip=ip,
        codes=f"{codes[0]}..{codes[-1]}",
        count=len(codes),
    )
    return stalls


def has_history(stall: Stall) -> bool:
    return bool(db.session.scalar(select(exists().where(CheckIn.stall_id == stall.id))))


def disable_stall(stall: Stall, reason: str, *, actor=None, ip=None) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _l("Say why the stall is disabled (e.g. building work, fire lane)."),
            field="disabled_reason",
        )
    stall.status, stall.disabled_reason = StallStatus.DISABLED, reason[:100]
    audit.record(
        "stall.disabled",
        stall,
        organization_id=stall.market.organization_id,
        actor=actor,
        ip=ip,
        reason=reason,
    )


def enable_stall(stall: Stall, *, actor=None, ip=None) -> None:
    stall.status, stall.disabled_reason = StallStatus.ACTIVE, None
    audit.record(
        "stall.enabled", stall, organization_id=stall.market.organization_id, actor=actor, ip=ip
    )


def remove_stall(stall: Stall, reason: str | None = None, *, actor=None, ip=None) -> str:
    """Delete a stall nobody has used; one with check-ins is disabled, keeping its history."""
    org_id = stall.market.organization_id
    if has_history(stall):
        disable_stall(stall, reason or "已撤除", actor=actor, ip=ip)
        return "disabled"
    audit.record(
        "stall.deleted", stall, organization_id=org_id, actor=actor, ip=ip, code=stall.code
    )
    db.session.execute(
        RetiredStallToken.__table__.delete().where(RetiredStallToken.stall_id == stall.id)
    )
    db.session.delete(stall)
    return "deleted"


# --- QR tokens -------------------------------------------------------------------------------


def rotate_token(stall: Stall, *, actor=None, ip=None, record: bool = True) -> str:
    """Give the stall a new QR token; the old one then answers 'replaced' (410)."""
    db.session.add(RetiredStallToken(token=stall.qr_token, stall_id=stall.id))
    stall.qr_token = new_stall_token()
    if record:
        audit.record(
            "stall.token_rotated",
            stall,
            organization_id=stall.market.organization_id,
            actor=actor,
            ip=ip,
        )
    return stall.qr_token


def rotate_market_tokens(market: Market, *, actor=None, ip=None) -> int:
    stalls = db.session.scalars(select(Stall).where(Stall.market_id == market.id)).all()
    for stall in stalls:
        rotate_token(stall, record=False)
    audit.record(
        "market.tokens_rotated",
        market,
        organization_id=market.organization_id,
        actor=actor,
        ip=ip,
        count=len(stalls),
    )
    return len(stalls)


def stall_for_token(token: str) -> Stall:
    """The stall behind a scanned token: 404 when unknown (or malformed), 410 when replaced."""
    if not TOKEN_RE.fullmatch(token or ""):
        raise NotFound(_l("This QR code is not one of ours."), code="unknown_token")
    # Every scan shows the stall's market, its community and the zone: one query for the four.
    stall = db.session.scalar(
        select(Stall)
        .options(joinedload(Stall.market).joinedload(Market.organization), joinedload(Stall.zone))
        .where(Stall.qr_token == token)
    )
    if stall is not None:
        return stall
    if db.session.scalar(select(RetiredStallToken.id).where(RetiredStallToken.token == token)):
        raise TokenReplaced()
    raise NotFound(_l("This QR code is not one of ours."), code="unknown_token")


# --- reading the layout ----------------------------------------------------------------------


def stalls_of(market: Market, zone_id: int | None = None, status: str | None = None) -> list[Stall]:
    query = select(Stall).where(Stall.market_id == market.id)
    if zone_id:
        query = query.where(Stall.zone_id == zone_id)
    if status:
        query = query.where(Stall.status == status)
    return list(db.session.scalars(query.order_by(Stall.code)))


def stall_counts(market: Market) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(Stall.zone_id, func.count())
            .where(Stall.market_id == market.id)
            .group_by(Stall.zone_id)
        ).all()
    )
