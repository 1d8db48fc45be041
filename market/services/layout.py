"""The market map: stall rectangles from grid positions, drawn as SVG by templates/_map.html.

Guides' board and the public page reuse it with their own colouring per stall."""

from dataclasses import dataclass

from ..models import Market, Stall, StallStatus, Zone

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
    colors = {z.id: z.color for z in zones}
    boxes = []
    for s in stalls:
        fill = "#d6d3d1" if s.status == StallStatus.DISABLED else colors.get(s.zone_id, "#888888")
        boxes.append(
            StallBox(
                stall=s,
                x=PAD + s.grid_col * CELL,
                y=PAD + s.grid_row * CELL,
                w=s.grid_w * CELL - GAP,
                h=s.grid_h * CELL - GAP,
                fill=fill,
                ink=ink_for(fill),
            )
        )
    width = max((b.x + b.w for b in boxes), default=CELL) + PAD
    height = max((b.y + b.h for b in boxes), default=CELL) + PAD
    return MapLayout(market, zones, boxes, width, height)
