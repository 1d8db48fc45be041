"""A report as a table: typed columns and a stream of rows, shown as HTML, CSV or XLSX.

Rows are an iterator (often a generator reading the database in chunks): whoever shows the
table walks it once, adding up the totals as it goes, so nothing holds every row."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from .money import yuan

# Kinds whose values add up into a totals row.
SUMMABLE = ("fen", "int")
LABELS = {
    "kind": {"night": _l("Night market"), "morning": _l("Morning market")},
    "handover_state": {"pending": _l("not counted yet"), "confirmed": _l("counted")},
    "state": {
        "scheduled": _l("scheduled"),
        "open": _l("open"),
        "closed": _l("closed"),
        "cancelled": _l("cancelled"),
    },
}
SPECIAL = _l("Special session")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    # text, int, fen (money), pct (0..1), date, datetime, or a key of LABELS
    kind: str = "text"
    total: bool = True

    @property
    def sums(self) -> bool:
        return self.total and self.kind in SUMMABLE


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: Iterator[dict]
    totals: dict = field(default_factory=dict)

    def walk(self) -> Iterator[dict]:
        """The rows, once; `totals` holds their sums when the walk is over."""
        sums = {c.key: 0 for c in self.columns if c.sums}
        for row in self.rows:
            for key in sums:
                sums[key] += row.get(key) or 0
            yield row
        self.totals = sums


def label(kind: str, value) -> str:
    if kind == "kind":
        return str(LABELS["kind"].get(value, SPECIAL))
    if kind in LABELS:
        return str(LABELS[kind].get(value, value))
    return str(value)


def display(column: Column, value) -> str:
    """A cell as people read it on the page and in a CSV (money in yuan, 2 decimals)."""
    if value is None:
        return ""
    if column.kind == "fen":
        return yuan(value).replace("¥", "")
    if column.kind == "pct":
        return f"{value * 100:.1f}%"
    if column.kind == "date" and isinstance(value, date):
        return value.isoformat()
    if column.kind == "datetime" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if column.kind in ("text", "int"):
        return str(value)
    return label(column.kind, value)
