"""Bar charts as plain geometry for templates/reports/_chart.html to draw as SVG.

Server-drawn: no chart library and no JavaScript, so a phone gets a few hundred bytes."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    css: str
    y: float
    h: float


@dataclass(frozen=True)
class Bar:
    x: float
    w: float
    label: str
    title: str
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    base: float  # y of the zero line
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label) of the value gridlines


def _nice_top(value: int) -> int:
    """1, 2 or 5 times a power of ten, at or above the largest value."""
    magnitude = 10 ** (len(str(max(value, 1))) - 1)
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= value)


def stacked(items, width=360, height=200, fmt=str, label_every=1) -> Chart:
    """items: (label, title, [(css class, value ≥ 0), …]) per bar, left to right."""
    left, bottom, top_pad = 40, 20, 8
    plot_h = height - bottom - top_pad
    largest = max((sum(v for _c, v in parts) for _l, _t, parts in items), default=0)
    top = _nice_top(max(largest, 1))
    slot = (width - left - 8) / max(len(items), 1)
    bars = []
    for i, (text, title, parts) in enumerate(items):
        y = top_pad + plot_h
        segments = []
        for css, value in parts:
            h = plot_h * value / top
            y -= h
            segments.append(Segment(css, round(y, 1), round(h, 1)))
        shown = text if i % label_every == 0 else ""
        bars.append(
            Bar(
                round(left + i * slot + slot * 0.15, 1),
                round(slot * 0.7, 1),
                shown,
                title,
                segments,
            )
        )
    ticks = [(round(top_pad + plot_h * (1 - f), 1), fmt(int(top * f))) for f in (0, 0.5, 1)]
    return Chart(width, height, top_pad + plot_h, bars, ticks)
