"""Complaints called directly: filing opens an incident (the board's flag), answering it
resolves the incident, the abuse checks, the stall card and the monthly figures."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Complaint, Incident, Role
from market.services.checkin import stall_card
from market.services.common.errors import Conflict, InvalidInput, NotFound
from market.services.complaints import filing as complaints
from market.services.complaints import guard as complaint_guard
from market.services.complaints import stats as complaint_stats
from market.services.complaints.guard import ChallengeFailed
from market.services.guide import incidents
from tests import builders as b

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai


@pytest.fixture
def world(ctx):
    zone = b.zone(code="A", name="熟食")
    market = zone.market
    stall = b.stall(zone, code="A-01")
    session = b.session(market, starts_at=NOW - timedelta(hours=1), state="open")
    vendor = b.vendor(
        market.organization,
        status="approved",
        category="cooked_food",
        goods="烧烤 电话13912345678",
        sells_food=True,
        health_cert_no="HC-2026-000123",
        health_cert_expires=date(2027, 3, 31),
    )
    vendor.user.name = "王德华"
    b.checkin(session, stall, vendor)
    guide = b.user(role=Role.GUIDE, organization=market.organization, mkt=market)
    db.session.flush()
    return {"market": market, "stall": stall, "vendor": vendor, "guide": guide, "zone": zone}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def file(w, ip="10.0.0.1", **kw):
    kw.setdefault("stall", w["stall"])
    kind = kw.pop("kind", "short_weight")
    text = kw.pop("text", "称不准，少了二两")
    return complaints.file_complaint(w["market"], kind, text, kw.pop("now", NOW), ip=ip, **kw)


def png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    out.seek(0)
    return out


def test_a_complaint_opens_an_incident_that_flags_the_stall(world):
    complaint, created = file(world)
    assert created and complaint.id
    incident = db.session.get(Incident, complaint.incident_id)
    assert (incident.source, incident.kind, incident.state) == ("complaint", "short_weight", "open")
    assert incident.checkin_id is not None  # who traded there tonight
    assert complaint.vendor_id == world["vendor"].id
    assert world["stall"].id in incidents.flagged_stall_ids(world["market"].id)
    assert complaints.status_of(complaint) == "received"
    # 128 random bits, URL-safe; the ip is kept only as a keyed hash
    assert len(complaint.tracking_code) >= 22
    assert complaint.ip_hash and "10.0.0.1" not in complaint.ip_hash


def test_answering_resolves_the_incident_and_the_status_follows(world):
    complaint, _ = file(world)
    complaints.respond(complaint, "已核秤，摊主已退差价", NOW, actor=world["guide"])
    assert complaints.status_of(complaint) == "handled"
    assert complaint.incident.resolution == "已核秤，摊主已退差价"
    assert world["stall"].id not in incidents.flagged_stall_ids(world["market"].id)
    with pytest.raises(Conflict):
        complaints.respond(complaint, "again", NOW, actor=world["guide"])


@pytest.mark.parametrize("text", ["", "   ", "长" * 1001, "x" * 10_000])
def test_empty_or_long_text_stores_nothing(world, text):
    with pytest.raises(InvalidInput) as e:
        file(world, text=text)
    assert e.value.field == "text"
    assert count(Complaint) == 0 and count(Incident) == 0


def test_a_long_complaint_keeps_its_text_and_shortens_the_board_note(world):
    complaint, _ = file(world, text="很" * 1000)
    assert len(complaint.text) == 1000
    assert len(complaint.incident.note) == incidents.NOTE_MAX


def test_kinds_are_those_of_a_stall_or_of_the_market(world):
    with pytest.raises(InvalidInput):
        file(world, kind="noise")  # a neighbour's kind, not a shopper's
    complaint, _ = file(world, kind="noise", stall=None)
    assert complaint.stall_id is None and complaint.incident.stall_id is None
    with pytest.raises(InvalidInput):
        file(world, kind="dispute", stall=None, ip="10.0.0.9")


def test_a_stall_of_another_market_is_not_found(world):
    other = b.stall(b.zone())
    with pytest.raises(NotFound):
        file(world, stall=other)


def test_photo_checked_and_stored(world):
    complaint, _ = file(world, photo=png())
    assert complaint.photo and complaint.photo == complaint.incident.photo
    with pytest.raises(InvalidInput) as e:
        file(world, photo=io.BytesIO(b"%PDF-1.4 not an image"), ip="10.0.0.2")
    assert e.value.code == "not_an_image"
    assert count(Complaint) == 1


def test_second_complaint_of_the_day_needs_the_sum(world):
    file(world)
    with pytest.raises(ChallengeFailed) as e:
        file(world, now=NOW + timedelta(minutes=5))
    assert e.value.code == "challenge_required" and count(Complaint) == 1
    challenge = e.value.challenge
    with pytest.raises(ChallengeFailed) as wrong:
        file(
            world,
            now=NOW + timedelta(minutes=6),
            challenge_token=challenge.token,
            challenge_answer=str(challenge.a + challenge.b + 1),
        )
    assert wrong.value.code == "challenge_failed"
    # A sum given to another address does not count for this one.
    other = complaint_guard.new_challenge(complaint_guard.ip_hash("10.9.9.9"))
    with pytest.raises(ChallengeFailed):
        file(
            world,
            now=NOW + timedelta(minutes=6),
            challenge_token=other.token,
            challenge_answer=str(other.a + other.b),
        )
    _, created = file(
        world,
        now=NOW + timedelta(minutes=7),
        challenge_token=challenge.token,
        challenge_answer=f" {challenge.a + challenge.b} ",
    )
    assert created and count(Complaint) == 2
    # Another address, or the same one a day later, files without a sum.
    assert file(world, ip="10.0.0.3", now=NOW + timedelta(minutes=8))[1]
    assert file(world, now=NOW + timedelta(days=1, minutes=8))[1]


def test_same_idempotency_key_and_content_gives_the_first_complaint(world):
    first, created = file(world, idempotency_key="k-1")
    again, created_again = file(world, idempotency_key="k-1")
    assert created and not created_again and again.id == first.id
    with pytest.raises(InvalidInput) as e:
        file(world, idempotency_key="k-1", text="别的内容")
    assert e.value.code == "idempotency_key_reused"
    assert count(Complaint) == 1


def test_tracking_codes_guessed_or_malformed_are_not_found(world):
    complaint, _ = file(world)
    assert complaints.by_tracking_code(complaint.tracking_code).id == complaint.id
    for guess in ("1", str(complaint.id), "A" * 22, complaint.tracking_code[:-1] + "x", "../x"):
        with pytest.raises(NotFound):
            complaints.by_tracking_code(guess)


def test_location_on_the_map_or_by_position(world):
    c, _ = file(world, stall=None, kind="smoke", where=complaints.Where(map_x=3, map_y=0))
    assert (c.map_x, c.map_y) == (3, 0)
    with pytest.raises(InvalidInput):
        file(world, stall=None, kind="smoke", where=complaints.Where(map_x=3), ip="10.0.0.4")
    with pytest.raises(InvalidInput):
        file(
            world,
            stall=None,
            kind="smoke",
            where=complaints.Where(latitude=91.0, longitude=0.0),
            ip="10.0.0.5",
        )


def test_staff_of_other_markets_do_not_find_a_complaint(world):
    complaint, _ = file(world)
    assert complaints.complaint_for_staff(world["guide"], complaint.id).id == complaint.id
    stranger = b.user(role=Role.CADRE, organization=b.org())
    with pytest.raises(NotFound):
        complaints.complaint_for_staff(stranger, complaint.id)


# --- the stall card ----------------------------------------------------------------------------


def test_card_masks_the_vendor_and_shows_the_certificate_month(world):
    card = stall_card.card_for(world["stall"], NOW)
    v = card.vendor
    assert v.display_name == "王**"
    assert v.cert_valid and v.cert_expires == date(2027, 3, 31)
    assert "13912345678" not in v.goods and "烧烤" in v.goods
    assert card.organization == world["market"].organization.short_name


def test_card_of_an_empty_stall(world):
    empty = b.stall(world["zone"], code="A-02")
    assert stall_card.card_for(empty, NOW).vendor is None


@pytest.mark.parametrize(
    ("name", "masked"), [("王德华", "王**"), ("李明", "李*"), ("欧阳娜娜", "欧***"), ("", "*")]
)
def test_mask_name(name, masked):
    assert stall_card.mask_name(name) == masked


# --- figures -----------------------------------------------------------------------------------


def test_monthly_counts_and_figures(world):
    fast, _ = file(world, now=NOW)
    complaints.respond(fast, "处理了", NOW + timedelta(hours=2), actor=world["guide"])
    slow, _ = file(world, ip="10.0.0.7", kind="price", now=NOW + timedelta(hours=1))
    complaints.respond(slow, "处理了", NOW + timedelta(hours=30), actor=world["guide"])
    file(world, ip="10.0.0.8", stall=None, kind="noise", now=NOW + timedelta(hours=2))
    # 2026-11-30 23:30 in Shanghai is still November; 16:30 UTC on the 30th is December there.
    file(world, ip="10.0.0.9", now=datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    market_id = world["market"].id
    assert complaint_stats.complaint_counts_for_month(market_id, date(2026, 11, 1)) == (3, 1)
    assert complaint_stats.complaint_counts_for_month(market_id, "2026-12") == (1, 0)
    stats = complaint_stats.month_stats(world["market"], date(2026, 11, 5))
    assert (stats.received, stats.handled, stats.handled_in_time) == (3, 2, 1)
    assert stats.by_kind == {"short_weight": 1, "price": 1, "noise": 1}
    assert stats.by_zone == {"熟食": 2, None: 1}
    assert stats.by_vendor == [(world["vendor"], 2)]
    # The last one came in when no session was open: nobody traded there, no vendor counted.
    assert complaint_stats.vendor_complaint_count(world["vendor"].id) == 2
