"""Who may see and do what: roles checked against the object's organization and market."""

from sqlalchemy import select

from ...extensions import db
from ...models import (
    AreaGrant,
    Incident,
    Market,
    Organization,
    Role,
    RoleGrant,
    Stall,
    User,
    Vendor,
    Zone,
)
from ..common.errors import Forbidden, NotFound


def grants(user: User) -> list[RoleGrant]:
    return list(user.grants) if user and user.is_authenticated else []


def area_grants(user: User) -> list[AreaGrant]:
    return list(user.area_grants) if user and user.is_authenticated else []


def supervised_area_ids(user: User) -> set[int]:
    return {g.area_id for g in area_grants(user) if g.role == Role.SUPERVISOR}


def supervised_organization_ids(user: User) -> set[int]:
    areas = supervised_area_ids(user)
    if not areas:
        return set()
    return set(db.session.scalars(select(Organization.id).where(Organization.area_id.in_(areas))))


def is_read_only(user: User) -> bool:
    """A supervisor and nothing else: may read, never write (beyond their own password)."""
    return bool(area_grants(user)) and not grants(user)


def can_read_org(user: User, organization_id: int) -> bool:
    """What a cadre reads (reports, ledger, sessions, vendors): its managers, and the
    supervisors of its area. Writes keep asking has_org_role / *_for_manager."""
    return has_org_role(user, organization_id) or (
        organization_id in supervised_organization_ids(user)
    )


def readable_organization_ids(user: User) -> set[int]:
    return managed_organization_ids(user) | supervised_organization_ids(user)


def masks_phones(user: User, organization_id: int) -> bool:
    """Supervisors read vendors' names as cadres do, but their phones masked."""
    return not has_org_role(user, organization_id)


def has_org_role(user: User, organization_id: int, roles=Role.MANAGERS) -> bool:
    return any(
        g.organization_id == organization_id and g.market_id is None and g.role in roles
        for g in grants(user)
    )


def managed_organization_ids(user: User) -> set[int]:
    return {g.organization_id for g in grants(user) if g.role in Role.MANAGERS}


def guided_market_ids(user: User) -> set[int]:
    return {g.market_id for g in grants(user) if g.role == Role.GUIDE}


def can_manage_market(user: User, market: Market) -> bool:
    return has_org_role(user, market.organization_id)


def can_guide_market(user: User, market: Market) -> bool:
    """Guides of this market, and the cadres of its organization."""
    return market.id in guided_market_ids(user) or can_manage_market(user, market)


def vendor_profiles(user: User) -> list[Vendor]:
    return list(db.session.scalars(select(Vendor).where(Vendor.user_id == user.id)))


def vendor_in(user: User, organization_id: int) -> Vendor | None:
    """The user's vendor record with this organization, if they have one."""
    if not user or not user.is_authenticated:
        return None
    return db.session.scalar(
        select(Vendor).where(Vendor.user_id == user.id, Vendor.organization_id == organization_id)
    )


def primary_role(user: User) -> str | None:
    """The role whose home page a user lands on after logging in."""
    roles = {g.role for g in grants(user)} | {g.role for g in area_grants(user)}
    for role in (Role.ADMIN, Role.CADRE, Role.SUPERVISOR, Role.GUIDE, Role.VENDOR):
        if role in roles:
            return role
    return None


def require_role(user: User, roles) -> None:
    """403 for someone who holds none of these roles anywhere (a vendor on staff data)."""
    if not any(g.role in roles for g in [*grants(user), *area_grants(user)]):
        raise Forbidden()


def can_view_market(user: User, market: Market) -> bool:
    """Read-only pages a guide sees too (sessions, complaints): staff and the supervisors."""
    return can_guide_market(user, market) or can_read_org(user, market.organization_id)


def market_for_viewer(user: User, market_id: int) -> Market:
    market = db.session.get(Market, market_id)
    if market is None or not can_view_market(user, market):
        raise NotFound()
    return market


def market_for_guide(user: User, market_id: int) -> Market:
    """The market if the user may work in it; else 404, so other markets' ids reveal nothing."""
    market = db.session.get(Market, market_id)
    if market is None or not can_guide_market(user, market):
        raise NotFound()
    return market


def market_for_manager(user: User, market_id: int) -> Market:
    market = db.session.get(Market, market_id)
    if market is None or not can_manage_market(user, market):
        raise NotFound()
    return market


def market_for_reader(user: User, market_id: int) -> Market:
    """The market if the user may read it as its cadres do (supervisors too); else 404."""
    market = db.session.get(Market, market_id)
    if market is None or not can_read_org(user, market.organization_id):
        raise NotFound()
    return market


def organization_for_reader(user: User, organization_id: int):
    org = db.session.get(Organization, organization_id)
    if org is None or not can_read_org(user, org.id):
        raise NotFound()
    return org


def zone_for_manager(user: User, zone_id: int):
    zone = db.session.get(Zone, zone_id)
    if zone is None or not can_manage_market(user, zone.market):
        raise NotFound()
    return zone


def stall_for_manager(user: User, stall_id: int):
    stall = db.session.get(Stall, stall_id)
    if stall is None or not can_manage_market(user, stall.market):
        raise NotFound()
    return stall


def organization_for_manager(user: User, organization_id: int):
    org = db.session.get(Organization, organization_id)
    if org is None or not has_org_role(user, org.id):
        raise NotFound()
    return org


def stall_for_guide(user: User, stall_id: int):
    stall = db.session.get(Stall, stall_id)
    if stall is None or not can_guide_market(user, stall.market):
        raise NotFound()
    return stall


def incident_for_guide(user: User, incident_id: int):
    incident = db.session.get(Incident, incident_id)
    if incident is None or not can_guide_market(user, db.session.get(Market, incident.market_id)):
        raise NotFound()
    return incident
