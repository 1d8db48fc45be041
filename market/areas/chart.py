"""Small multiples of monthly net income, one SVG per community, drawn on the server."""

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 240, 80, 4


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    negative: bool
    title: str


@dataclass
class Multiple:
    name: str
    bars: list[Bar]
    zero_y: float
    last_fen: int | None


def small_multiples(series: list[tuple[str, list]]) -> list[Multiple]:
    """One chart per community, all on the same scale so they compare at a glance."""
    values = [v for _name, months in series for _m, v in months if v is not None]
    top = max([0, *values]) or 1
    bottom = min([0, *values])
    span = (top - bottom) or 1
    inner = HEIGHT - 2 * PAD
    zero_y = PAD + inner * top / span
    out = []
    for name, months in series:
        step = WIDTH / max(len(months), 1)
        bars = []
        for i, (month, fen) in enumerate(months):
            fen = fen or 0
            h = inner * abs(fen) / span
            y = zero_y - h if fen >= 0 else zero_y
            title = f"{month:%Y-%m}: ¥{fen / 100:,.2f}"
            bars.append(Bar(i * step + 1, y, step - 2, max(h, 0.5), fen < 0, title))
        out.append(Multiple(name, bars, zero_y, months[-1][1] if months else None))
    return out
