"""Work a gunicorn worker does once when it starts, instead of in its first requests.

At opening time hundreds of phones reach the workers at once. Cold, each of a worker's threads
would compile the same templates (Jinja does not share a compile in progress), configure the
ORM mappers and compile the same SQL, and the first check-ins waited half a second behind them
(the whole p99 of the opening-rush benchmark), and all but one of them opened its database
connection then. Warming reads only: nothing is written."""

import gc
import logging

from flask import Flask
from flask_babel import force_locale, get_translations
from sqlalchemy import select
from sqlalchemy.orm import configure_mappers

from .dbsetup import write_intent
from .extensions import db
from .models import Stall, StallStatus, Vendor, VendorStatus

log = logging.getLogger(__name__)


def warm(app: Flask, connections: int = 1) -> int:
    """Compile every page template, load each catalog, walk a scan and leave `connections`
    database connections open in the pool (one per thread); the pages compiled."""
    env = app.jinja_env
    names = env.list_templates(filter_func=lambda name: name.endswith(".html"))
    for name in names:
        env.get_template(name)
    configure_mappers()
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                get_translations()
        token = write_intent.set(False)  # a reader: on SQLite it never takes the write lock
        try:
            _walk_a_scan()
            db.session.remove()  # its connection back to the pool: one of those wanted
            _fill_pool(connections)
        except Exception:  # noqa: BLE001  a worker must start even with its database down
            log.warning("warm-up could not read the database", exc_info=True)
        finally:
            db.session.rollback()
            db.session.remove()
            write_intent.reset(token)
    return len(names)


def freeze() -> int:
    """Take what the worker holds once warm (modules, templates, mappers, compiled SQL: some
    200,000 objects that live as long as the process) out of the garbage collector's
    generations. Otherwise every full collection walks them all again, and a page that builds
    thousands of objects triggers several: a 3,000-stall board took 509 ms instead of 151.
    Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _fill_pool(connections: int) -> None:
    pool = db.engine.pool
    wanted = min(connections, pool.size()) if hasattr(pool, "size") else 1
    held = [db.engine.connect() for _ in range(wanted)]  # those in the pool first, then new
    for conn in held:
        conn.close()  # back to the pool, still open


def _walk_a_scan() -> None:
    """What a stall's scan reads, for a shopper and for a vendor (the check-in reads the same)."""
    from .complaints.pages import card_page
    from .services.checkin import checkins as checkin
    from .services.common import clock
    from .services.zoning import places as zoning

    qr_token = db.session.scalar(
        select(Stall.qr_token).where(Stall.status == StallStatus.ACTIVE).limit(1)
    )
    if qr_token is None:  # a new install: nothing to walk yet
        return
    stall = zoning.stall_for_token(qr_token)
    card_page(stall)
    vendor = db.session.scalar(
        select(Vendor)
        .where(
            Vendor.organization_id == stall.market.organization_id,
            Vendor.status == VendorStatus.APPROVED,
        )
        .limit(1)
    )
    if vendor is not None:
        checkin.situation(stall, vendor, clock.now())
