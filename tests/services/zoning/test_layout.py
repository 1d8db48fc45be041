"""The guide's map folded to a phone: one map per zone, none wider than the page can draw."""

from types import SimpleNamespace

from market.services.zoning import layout


def street(zone_id: int, rows: int, cols: int, first_col: int = 0):
    return [
        SimpleNamespace(
            id=zone_id * 1000 + r * 100 + c,
            zone_id=zone_id,
            grid_row=r * 2,  # an aisle between the rows, as in the demo
            grid_col=first_col + c,
            grid_w=1,
            grid_h=1,
            status="active",
        )
        for r in range(rows)
        for c in range(cols)
    ]


def zones(*ids):
    return [SimpleNamespace(id=i, color="#fb923c", code=str(i), name="") for i in ids]


def test_a_market_strip_becomes_one_map_per_zone_that_fits_the_phone():
    # Three zones side by side along one street: 7 + 7 + 6 columns = a 1,100 px strip.
    stalls = street(1, 2, 7) + street(2, 2, 7, first_col=7) + street(3, 2, 6, first_col=14)
    assert layout.build(None, zones(1, 2, 3), stalls).width > 1000
    maps = layout.fold(None, zones(1, 2, 3), stalls)
    assert [m.zones[0].id for m in maps] == [1, 2, 3]
    assert sorted(b.stall.id for m in maps for b in m.boxes) == sorted(s.id for s in stalls)
    for m in maps:  # drawn at most a quarter smaller: codes stay legible
        assert m.width * layout.MIN_SCALE <= layout.PHONE_WIDTH
        assert m.boxes[0].x == layout.PAD  # each zone starts at its own left edge


def test_a_long_zone_is_folded_into_even_bands_keeping_neighbours():
    stalls = street(1, 2, 20)
    (folded,) = layout.fold(None, zones(1), stalls)
    assert folded.width * layout.MIN_SCALE <= layout.PHONE_WIDTH
    columns = {b.x for b in folded.boxes}
    assert len(columns) == 7  # 20 columns in three bands of 7, 7 and 6
    at = {b.stall.id: (b.x, b.y) for b in folded.boxes}
    first, second = at[1000], at[1001]  # neighbours in a row stay side by side
    assert second[0] - first[0] == layout.CELL and second[1] == first[1]


def test_a_zone_without_stalls_is_left_out():
    assert [m.zones[0].id for m in layout.fold(None, zones(1, 2), street(2, 1, 3))] == [2]
