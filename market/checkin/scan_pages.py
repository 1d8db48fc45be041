"""The vendor's scan page of a free stall (or of a move to it), rendered once per what it shows.

In the opening rush every vendor meets this page, and rendering it (the layout, the fee card,
the form's fields) was the larger half of the request. What it shows is fixed by values the
scan has already read: the stall, zone and market rows (the market's row carries its
data_version, so hours and fee rules are in it too), tonight's session, the fee for this
vendor, the stall of a move, the language, and whether the reader only supervises. Those
values are the key, so a page can't be stale: anything shown that changes is another entry.

The two values of each answer, the CSRF token and the form's nonce, are taken out of the
first page drawn (they are long and random: nothing else on a page can match them) and put
back in on every answer. Pages with a message to show (an error, a flashed line) are never
taken from here. Each app has its own pages (tests build many apps in one process)."""

import threading
import uuid
from collections import OrderedDict

from flask import current_app

# Random per process: no page's text can hold them.
CSRF_MARK = f"csrf{uuid.uuid4().hex}"
NONCE_MARK = f"nonce{uuid.uuid4().hex}"
SIZE = 1024  # pages per worker: a market's stalls in a few fee variants and both languages


class Pages:
    """A small LRU of rendered pages, shared by a worker's threads."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._pages: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, render, csrf: str, nonce: str) -> str:
        """The page for `key` with this answer's CSRF token and nonce; `render()` draws it
        with them when it isn't here yet (a page without both is never kept)."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
        if page is not None:
            return page.replace(CSRF_MARK, csrf).replace(NONCE_MARK, nonce)
        html = render()  # two threads may draw one page at once: both alike
        if csrf in html and nonce in html:
            with self._lock:
                self._pages[key] = html.replace(csrf, CSRF_MARK).replace(nonce, NONCE_MARK)
                while len(self._pages) > self.size:
                    self._pages.popitem(last=False)
        return html

    def __len__(self) -> int:
        return len(self._pages)


def pages() -> Pages:
    return current_app.extensions.setdefault("scan_pages", Pages())


def key_of(situation, zone, market, *, locale: str, read_only: bool) -> tuple | None:
    """Everything the free or move page shows besides the markers; None for any other page."""
    status = situation.status
    if situation.kind not in ("free", "move") or status is None or not status.is_open:
        return None
    b = situation.breakdown
    moving_from = situation.checkin.stall.code if situation.kind == "move" else None
    return (
        locale,
        read_only,
        situation.kind,
        situation.stall,
        zone,
        market,
        status.current.ends_at,
        (b.base_fen, b.extras_fen, b.relief_fen, tuple(b.lines)),
        situation.power_fen,
        moving_from,
    )
