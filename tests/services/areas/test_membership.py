"""Areas, attaching organizations, supervisors: the service and `flask market` commands."""

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Area, Organization, Role, User
from market.services.areas import membership
from market.services.auth import access
from market.services.common.errors import Conflict
from tests import builders as b


def test_an_organization_belongs_to_at_most_one_area(ctx):
    first, second = membership.create_area("炳草岗街道"), membership.create_area("东胜区")
    org = b.org()
    membership.attach(first, org)
    membership.attach(first, org)  # again: nothing changes
    assert org.area_id == first.id
    with pytest.raises(Conflict):
        membership.attach(second, org)
    assert membership.create_area(" 炳草岗街道 ") is first


def test_a_supervisor_reads_the_areas_organizations_and_manages_none(ctx):
    area = membership.create_area("炳草岗街道")
    inside, outside = b.org(), b.org()
    membership.attach(area, inside)
    user = b.user(role=Role.GUIDE, organization=outside, mkt=b.market(outside))
    plain = User(phone="13912340000", name="监督", password_hash="x")
    db.session.add(plain)
    membership.grant_supervisor(plain, area)
    membership.grant_supervisor(plain, area)
    db.session.flush()
    assert len(plain.area_grants) == 1
    assert access.can_read_org(plain, inside.id)
    assert not access.can_read_org(plain, outside.id)
    assert not access.has_org_role(plain, inside.id)
    assert access.masks_phones(plain, inside.id)
    assert access.is_read_only(plain) and not access.is_read_only(user)
    assert access.primary_role(plain) == Role.SUPERVISOR


def _invoke(app, *args):
    return app.test_cli_runner().invoke(args=["market", *args])


def test_cli_creates_area_attaches_and_grants(app):
    assert _invoke(app, "create-area", "炳草岗街道").exit_code == 0
    with app.app_context():
        db.session.add(Organization(name="金汇社区股份经济合作社", short_name="金汇"))
        db.session.commit()
    r = _invoke(
        app, "attach-org", "--area", "炳草岗街道", "--organization", "金汇社区股份经济合作社"
    )
    assert r.exit_code == 0, r.output
    base = [
        "create-user",
        "--phone",
        "13912345678",
        "--name",
        "王监督",
        "--password",
        "strong-pass-1",
    ]
    r = _invoke(app, *base, "--area", "炳草岗街道", "--role", "supervisor")
    assert r.exit_code == 0, r.output
    assert _invoke(app, *base, "--role", "supervisor").exit_code != 0  # no area
    r = _invoke(app, *base, "--area", "无此街道", "--role", "supervisor")
    assert r.exit_code != 0 and "create-area" in r.output
    r = _invoke(app, "attach-org", "--area", "炳草岗街道", "--organization", "无此社区")
    assert r.exit_code != 0
    with app.app_context():
        area = db.session.scalar(select(Area))
        assert [o.name for o in area.organizations] == ["金汇社区股份经济合作社"]
        user = db.session.scalar(select(User).where(User.phone == "13912345678"))
        assert [(g.role, g.area.name) for g in user.area_grants] == [("supervisor", "炳草岗街道")]
        assert user.grants == []
