"""Numbers read from a query string on the HTML pages: a bad or huge value falls back to a
sane one instead of reaching the database (SQLite stores at most 64-bit integers)."""

from flask import request

PAGE_MAX = 100_000  # far past any list's last page; keeps OFFSET small
ID_MAX = 2_147_483_647  # the largest id a route's int(max=…) converter accepts


def page_arg(name: str = "page") -> int:
    """`?page=`: 1 when missing or not a number, at most PAGE_MAX (a list past its end is
    empty, as with any page after the last)."""
    raw = (request.args.get(name) or "").strip()
    if not raw.isascii() or not raw.isdigit():
        return 1
    if len(raw) > len(str(PAGE_MAX)):
        return PAGE_MAX
    return min(max(int(raw), 1), PAGE_MAX)


def id_arg(name: str) -> int | None:
    """An optional id such as `?zone=`: None when missing or not a number, 0 (which matches
    nothing) when larger than any id."""
    raw = (request.args.get(name) or "").strip()
    if not raw.isascii() or not raw.isdigit():
        return None
    if len(raw) > len(str(ID_MAX)) or int(raw) > ID_MAX:
        return 0
    return int(raw)
