"""The vendor's scan page of a free stall (or of a move to it), drawn once per what it shows.

In the opening rush every vendor meets this page, and drawing it (the layout, the fee card,
the form's fields) was the larger half of the request. Apart from the stall's code and
poster token, what it shows is fixed by values the scan has already read: the zone and market
rows (the market's row carries its data_version, so hours and fee rules are in it too),
whether the stall has an outlet, tonight's session, the fee for this vendor, the stall of a
move, the language, whether the reader only supervises, and the script root the links
start with. Those values are the key, so a page can't be stale: anything shown that changes
is another entry. A market's stalls of one zone and fee share one page.

The page is drawn with markers for the stall's code and token; each answer's CSRF token and
form nonce are taken out of the first page drawn (long and random: nothing else on a page can
match them). All four are put in on every answer. Pages with a message to show (an error, a
flashed line) are never taken from here. Each app keeps its own (tests build many apps)."""

import re
import threading
import uuid
from collections import OrderedDict

from flask import current_app
from markupsafe import escape

# Random per process: no page's text can hold them by chance.
STALL_CODE, STALL_TOKEN, CSRF, NONCE = (
    f"{name}{uuid.uuid4().hex}" for name in ("code", "token", "csrf", "nonce")
)
# Poster tokens are URL-safe base64 (models.places): one goes into a link as it is.
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
SIZE = 512  # pages per worker: a market's zones, a few fee variants, both languages


class Pages:
    """A small LRU of drawn pages, shared by a worker's threads."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._pages: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: str) -> None:
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def plain_token(token: str) -> bool:
    return _PLAIN_TOKEN.fullmatch(token) is not None


def pages() -> Pages:
    kept = current_app.extensions.get("scan_pages")
    if kept is None:
        kept = current_app.extensions.setdefault("scan_pages", Pages())
    return kept


def key_of(situation, zone, market, *, locale: str, read_only: bool, root: str) -> tuple | None:
    """Everything the free or move page shows besides the stall's code and token and the
    answer's own values; None for any other page."""
    status = situation.status
    if situation.kind not in ("free", "move") or status is None or not status.is_open:
        return None
    b = situation.breakdown
    stall = situation.stall
    moving_from = situation.checkin.stall.code if situation.kind == "move" else None
    return (
        root,  # the script root every link starts with (a proxy's prefix)
        locale,
        read_only,
        situation.kind,
        stall.has_power,
        stall.status,
        zone,
        market,
        status.current.ends_at,
        (b.base_fen, b.extras_fen, b.relief_fen, tuple(b.lines)),
        situation.power_fen,
        moving_from,
    )


def page(key: tuple, draw, *, code: str, token: str, csrf: str, nonce: str) -> str:
    """The page for `key` filled in for this stall and answer. `draw()` draws it when it isn't
    kept yet: with the stall's markers, and this answer's CSRF token and nonce."""
    kept = pages()
    skeleton = kept.get(key)
    if skeleton is None:
        drawn = draw()  # two threads may draw one page at once: both alike
        if csrf not in drawn or nonce not in drawn:
            raise ValueError("a scan page drawn without its form")  # a template change
        skeleton = drawn.replace(csrf, CSRF).replace(nonce, NONCE)
        kept.put(key, skeleton)
    return (
        skeleton.replace(STALL_CODE, str(escape(code)))
        .replace(STALL_TOKEN, token)
        .replace(CSRF, csrf)
        .replace(NONCE, nonce)
    )
