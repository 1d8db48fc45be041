"""The zoning rules, called directly: codes, ranges, the grid, tokens, history."""

import io
import time
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, CheckIn, Market, RetiredStallToken, Stall, utcnow
from market.services.common.errors import Conflict, InvalidInput, NotFound
from market.services.zoning import places as zoning
from market.services.zoning import qr
from tests import builders as b


def test_parse_code_range():
    r = zoning.parse_code_range("A-01..A-24")
    assert r.codes()[:2] == ["A-01", "A-02"] and r.codes()[-1] == "A-24"
    assert zoning.parse_code_range("b-1~b-3").codes() == ["B-01", "B-02", "B-03"]
    assert zoning.parse_code_range("C-001 到 C-003").codes() == ["C-001", "C-002", "C-003"]
    assert zoning.parse_code_range("1..3").codes() == ["01", "02", "03"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("A-10..A-02", "reversed_range"),
        ("A-1..A-5000", "range_too_large"),
        ("A-01..B-03", "invalid_input"),
        ("hello", "invalid_range"),
        ("", "invalid_range"),
    ],
)
def test_bad_ranges(text, code):
    with pytest.raises(InvalidInput) as e:
        zoning.parse_code_range(text)
    assert e.value.code == code and e.value.field == "codes"


def test_bulk_creates_two_facing_rows(ctx):
    zone = b.zone(code="A")
    stalls = zoning.bulk_create_stalls(zone.market, zone, "A-01..A-24", rows=2)
    assert len(stalls) == 24
    positions = {(s.code, s.grid_row, s.grid_col) for s in stalls}
    assert ("A-01", 0, 0) in positions and ("A-12", 0, 11) in positions
    assert ("A-13", 2, 0) in positions and ("A-24", 2, 11) in positions  # walkway on row 1
    assert len({s.qr_token for s in stalls}) == 24
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "stall.bulk_created"))
    assert '"count": 24' in event.detail


def test_bulk_refuses_existing_codes_and_overlaps_without_writing(ctx):
    zone = b.zone(code="A")
    zoning.bulk_create_stalls(zone.market, zone, "A-01..A-04", rows=1)
    with pytest.raises(Conflict) as e:
        zoning.bulk_create_stalls(zone.market, zone, "A-03..A-06", rows=1, start_row=5)
    assert "A-03" in str(e.value.message)
    with pytest.raises(Conflict) as e:
        zoning.bulk_create_stalls(zone.market, zone, "A-05..A-08", rows=1)  # same cells
    assert e.value.code == "cells_overlap"
    db.session.rollback()


def test_stall_code_unique_and_grid_overlap(ctx):
    zone = b.zone()
    market = zone.market
    zoning.save_stall(
        market, {"code": "a-07", "zone_id": zone.id, "grid_row": 0, "grid_col": 0, "grid_w": 2}
    )
    with pytest.raises(Conflict) as e:
        zoning.save_stall(
            market, {"code": "A-07", "zone_id": zone.id, "grid_row": 5, "grid_col": 5}
        )
    assert e.value.code == "duplicate_stall_code"
    with pytest.raises(Conflict) as e:
        zoning.save_stall(
            market, {"code": "A-08", "zone_id": zone.id, "grid_row": 0, "grid_col": 1}
        )
    assert e.value.code == "cells_overlap"
    ok = zoning.save_stall(
        market, {"code": "A-08", "zone_id": zone.id, "grid_row": 0, "grid_col": 2}
    )
    assert ok.code == "A-08"


def test_two_cadres_placing_stalls_at_once_never_overlap(app):
    """The first save holds its transaction open; the second, on the same cells, waits for it
    and then sees the first stall (without the map lock PostgreSQL lets both in)."""
    import threading

    with app.app_context():
        zone = b.zone()
        market_id, zone_id = zone.market_id, zone.id
        db.session.commit()
    first_saved, second_started = threading.Event(), threading.Event()
    outcome = {}

    def save(code, hold):
        with app.app_context():
            try:
                market = db.session.get(Market, market_id)
                values = {"code": code, "zone_id": zone_id, "grid_row": 0, "grid_col": 0}
                zoning.save_stall(market, values)
                db.session.flush()
                if hold:
                    first_saved.set()
                    second_started.wait(10)
                    time.sleep(0.5)  # the second is now waiting, or (unlocked) done
                db.session.commit()
                outcome[code] = "saved"
            except Conflict as e:
                db.session.rollback()
                outcome[code] = e.code
            finally:
                db.session.remove()

    first = threading.Thread(target=save, args=("A-01", True))
    first.start()
    assert first_saved.wait(10)
    second = threading.Thread(target=save, args=("A-02", False))
    second.start()
    second_started.set()
    first.join(20)
    second.join(20)
    assert outcome == {"A-01": "saved", "A-02": "cells_overlap"}


def test_zone_of_another_market_is_refused(ctx):
    zone = b.zone()
    other = b.zone()
    with pytest.raises(InvalidInput) as e:
        zoning.save_stall(
            zone.market, {"code": "X-1", "zone_id": other.id, "grid_row": 0, "grid_col": 0}
        )
    assert e.value.field == "zone_id"


@pytest.mark.parametrize("slug", ["with space", "UPPER CASE", "-dash", "a" * 61, "", "中文"])
def test_bad_slugs(ctx, slug):
    org = b.org()
    with pytest.raises(InvalidInput):
        zoning.save_market(org, {"name": "x", "slug": slug, "timezone": "Asia/Shanghai"})


def test_market_rules(ctx):
    org = b.org()
    m = zoning.save_market(org, {"name": "夜市", "slug": "Night-1", "timezone": "Asia/Shanghai"})
    assert m.slug == "night-1"
    with pytest.raises(Conflict):
        zoning.save_market(org, {"name": "夜市2", "slug": "night-1", "timezone": "Asia/Shanghai"})
    with pytest.raises(InvalidInput):
        zoning.save_market(org, {"name": "x", "slug": "x2", "timezone": "Mars/Olympus"})
    with pytest.raises(InvalidInput):  # half a geofence
        zoning.save_market(org, {"name": "x", "slug": "x3", "timezone": "UTC", "latitude": 26.5})


def test_token_rotation_and_lookup(ctx):
    stall = b.stall()
    old = stall.qr_token
    assert zoning.stall_for_token(old) is stall
    new = zoning.rotate_token(stall)
    assert new != old and len(new) >= 22
    with pytest.raises(zoning.TokenReplaced) as e:
        zoning.stall_for_token(old)
    assert e.value.status == 410
    assert zoning.stall_for_token(new) is stall
    with pytest.raises(NotFound):
        zoning.stall_for_token("x" * 22)
    with pytest.raises(NotFound):
        zoning.stall_for_token("../../etc/passwd")


def test_rotate_all_tokens_of_a_market(ctx):
    zone = b.zone()
    stalls = zoning.bulk_create_stalls(zone.market, zone, "A-1..A-5", rows=1)
    before = {s.id: s.qr_token for s in stalls}
    assert zoning.rotate_market_tokens(zone.market) == 5
    assert all(s.qr_token != before[s.id] for s in stalls)
    retired = db.session.scalar(select(func.count()).select_from(RetiredStallToken))
    assert retired == 5


def test_tokens_are_128_bits_of_randomness(ctx):
    tokens = {b.stall().qr_token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) == 22 for t in tokens)  # 16 random bytes, URL-safe base64


def test_stall_with_history_is_disabled_not_deleted(ctx):
    stall = b.stall()
    assert zoning.remove_stall(b.stall(b.zone(stall.market))) == "deleted"
    session = b.session(stall.market)
    vendor = b.vendor(stall.market.organization)
    db.session.add(
        CheckIn(
            market_id=stall.market_id,
            session_id=session.id,
            stall_id=stall.id,
            vendor_id=vendor.id,
            state="checked_out",
            left_at=utcnow() + timedelta(hours=1),
        )
    )
    db.session.flush()
    assert zoning.remove_stall(stall) == "disabled"
    assert db.session.get(Stall, stall.id).status == "disabled"


def test_disable_needs_a_reason(ctx):
    stall = b.stall()
    with pytest.raises(InvalidInput):
        zoning.disable_stall(stall, "  ")
    zoning.disable_stall(stall, "消防通道")
    assert stall.status == "disabled" and stall.disabled_reason == "消防通道"
    zoning.enable_stall(stall)
    assert stall.status == "active" and stall.disabled_reason is None


def test_qr_png_decodes_to_the_stall_url():
    url = qr.stall_url("https://market.example.cn/", "AbCdEfGhIjKlMnOpQrStUv")
    assert url == "https://market.example.cn/s/AbCdEfGhIjKlMnOpQrStUv"
    image = Image.open(io.BytesIO(qr.qr_png(url)))
    assert image.width >= 900  # print resolution
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [url]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    assert results[0].ec_level in ("M", "Q", "H")


def test_qr_svg_keeps_the_quiet_zone():
    url = "https://x.cn/s/AbCdEfGhIjKlMnOpQrStUv"
    svg = qr.qr_svg(url, "A-01")
    assert svg.startswith("<svg") and 'aria-label="A-01"' in svg
    # the viewBox covers the modules plus the white quiet zone on each side
    modules = 17 + 4 * qr._code(url).version
    size = int(svg.split('viewBox="0 0 ')[1].split(" ")[0])
    assert size == modules + 2 * qr.QUIET_ZONE
    assert 'd="M4,4' in svg  # the first dark module starts after the quiet zone
