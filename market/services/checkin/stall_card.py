"""The stall card (亮码): what anyone who scans a stall's poster may know about it tonight.

Only what a shopper needs: a masked name, the category and goods, the community that registered
the vendor and whether the health certificate is valid (the month it runs out). Never the phone
number, the full name or the certificate number."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from ...models import Market, Stall, Vendor
from ..common.errors import DomainError
from ..sessions import plan as session_plan
from ..sessions import tide as sessions
from ..vendors import registry as vendors
from . import checkins as checkin
from . import market_cache

PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_name(name: str) -> str:
    """王德华 -> 王**: the family name and one star per other character."""
    name = (name or "").strip()
    if not name:
        return "*"
    return name[0] + "*" * max(len(name) - 1, 1)


def scrub(text: str | None) -> str:
    """Text a vendor typed, shown publicly: mobile numbers in it are hidden."""
    return PHONE_RE.sub("***********", text or "")


@dataclass(frozen=True)
class VendorFace:
    display_name: str
    category: str
    goods: str
    sells_food: bool
    cert_valid: bool
    cert_expires: date | None  # only its month is shown


@dataclass(frozen=True)
class Hours:
    name: str
    kind: str
    weekdays: list[int]  # 0 = Monday
    start: str
    end: str


@dataclass
class StallCard:
    stall: Stall
    market: Market
    status: sessions.MarketStatus | None
    vendor: VendorFace | None
    organization: str
    contact_phone: str | None
    rules: str
    hours: list[Hours] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status is not None and self.status.is_open


def vendor_face(vendor: Vendor, market: Market, now: datetime) -> VendorFace:
    valid = vendors.can_trade(vendor, market, now) != vendors.CERT_EXPIRED
    return VendorFace(
        display_name=mask_name(vendor.user.name),
        category=vendors.category_label(vendor.category),
        goods=scrub(vendor.goods),
        sells_food=vendor.sells_food,
        cert_valid=vendor.sells_food and valid,
        cert_expires=vendor.health_cert_expires if vendor.sells_food else None,
    )


def hours_of(market: Market, templates=None) -> list[Hours]:
    """The market's opening hours, from its active templates (or those given, already read)."""
    if templates is None:
        templates = session_plan.active_templates(market)
    return [
        Hours(
            name=t.name,
            kind=t.kind,
            weekdays=[d for d in range(7) if t.weekdays & (1 << d)],
            start=t.start_local.strftime("%H:%M"),
            end=t.end_local.strftime("%H:%M"),
        )
        for t in sorted(templates, key=lambda t: (t.kind != "night", t.start_local))
    ]


def card_for(stall: Stall, now: datetime) -> StallCard:
    """The card; the market's sessions, hours, rules and organization from the worker's
    cache (checkin.market_cache)."""
    market = stall.market
    data = market_cache.market_data(market.id, market.data_version, now)
    try:
        status = data.status(market, now)
    except DomainError:  # a market with a broken timezone: the card still shows
        status = None
    face = None
    if status is not None and status.current is not None:
        active = checkin.active_checkin(status.current, stall=stall)
        if active is not None:
            face = vendor_face(active.vendor, market, now)
    return StallCard(
        stall=stall,
        market=market,
        status=status,
        vendor=face,
        organization=data.organization_short_name or data.organization_name,
        contact_phone=data.contact_phone,
        rules=scrub(data.rules_text),
        hours=hours_of(market, data.templates),
    )
