"""The market map: stall rectangles from grid positions, drawn as SVG by templates/_map.html.

Guides' board and the public page reuse it with their own colouring per stall."""

from dataclasses import dataclass

from ...models import Market, Stall, StallStatus, Zone

CELL = 56  # px per grid cell at 100 % zoom: codes stay legible on a phone, the page scrolls
GAP = 4
PAD = 8


@dataclass(frozen=True)
class StallBox:
    stall: Stall
    x: int
    y: int
    w: int
    h: int
    fill: str
    ink: str

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class MapLayout:
    market: Market
    zones: list[Zone]
    boxes: list[StallBox]
    width: int
    height: int


def ink_for(hex_color: str) -> str:
    """Black or white text, whichever reads better on this fill (WCAG relative luminance)."""
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def build(market: Market, zones: list[Zone], stalls: list[Stall]) -> MapLayout:
    return _layout(market, zones, [(s, s.grid_row, s.grid_col) for s in stalls])


PHONE_WIDTH = 358  # a 390 px phone less the page's margins
MIN_SCALE = 0.75  # a zone up to a third wider than the phone is drawn smaller, not folded


def fold(market: Market, zones: list[Zone], stalls: list[Stall], width: int = PHONE_WIDTH):
    """One map per zone, each fitting a phone: the page scales a zone down to `width` (at least
    to MIN_SCALE); a wider zone is cut into bands of whole columns, as even as can be, laid one
    under the other, as a long street is folded on paper. Stalls keep their rows and
    neighbours within a band. Zones without stalls are left out."""
    fits = max(int((width / MIN_SCALE - 2 * PAD + GAP) // CELL), 1)
    maps = []
    for zone in zones:
        own = [s for s in stalls if s.zone_id == zone.id]
        if not own:
            continue
        first_col = min(s.grid_col for s in own)
        first_row = min(s.grid_row for s in own)
        rows = max(s.grid_row + s.grid_h for s in own) - first_row
        cols = max(s.grid_col + s.grid_w for s in own) - first_col
        bands = -(-cols // fits)
        per_band = -(-cols // bands)
        placed = []
        for s in own:
            band, col = divmod(s.grid_col - first_col, per_band)
            row = s.grid_row - first_row + band * (rows + 1)  # an empty row between bands
            placed.append((s, row, col))
        maps.append(_layout(market, [zone], placed))
    return maps


def _layout(market: Market, zones: list[Zone], placed) -> MapLayout:
    """Boxes for (stall, row, col) triples."""
    colors = {z.id: z.color for z in zones}
    boxes = []
    for s, row, col in placed:
        fill = "#d6d3d1" if s.status == StallStatus.DISABLED else colors.get(s.zone_id, "#888888")
        boxes.append(
            StallBox(
                stall=s,
                x=PAD + col * CELL,
                y=PAD + row * CELL,
                w=s.grid_w * CELL - GAP,
                h=s.grid_h * CELL - GAP,
                fill=fill,
                ink=ink_for(fill),
            )
        )
    width = max((b.x + b.w for b in boxes), default=CELL) + PAD
    height = max((b.y + b.h for b in boxes), default=CELL) + PAD
    return MapLayout(market, zones, boxes, width, height)
