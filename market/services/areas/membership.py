"""Areas, the organizations attached to them, and the supervisors granted per area."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Area, AreaGrant, Organization, Role, User
from ..common import audit
from ..common.errors import Conflict, InvalidInput, NotFound


def area_by_name(name: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.name == name.strip()))


def create_area(name: str) -> Area:
    """A new area; the same name again is the same area (idempotent)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput(_l("An area needs a name of at most 120 characters."), code="bad_name")
    area = area_by_name(name)
    if area is None:
        area = Area(name=name)
        db.session.add(area)
        audit.record("area.created", area, name=name)
    return area


def attach(area: Area, org: Organization) -> None:
    """Put an organization under an area; it belongs to at most one."""
    if org.area_id == area.id:
        return
    if org.area_id is not None:
        raise Conflict(
            _l("This organization already belongs to another area."), code="org_in_other_area"
        )
    if area.id is None:
        db.session.flush()
    org.area_id = area.id
    audit.record("area.organization_attached", area, organization_id=org.id)


def grant_supervisor(user: User, area: Area) -> AreaGrant:
    """Make the user a supervisor of the area (idempotent)."""
    for g in user.area_grants:
        if (g.area is area or g.area_id == area.id) and g.role == Role.SUPERVISOR:
            return g
    grant = AreaGrant(area=area, role=Role.SUPERVISOR)
    user.area_grants.append(grant)
    return grant


def organization_by_name(name: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.name == name.strip()))
    if org is None:
        raise NotFound(_l("No organization of this name."), code="no_organization")
    return org
