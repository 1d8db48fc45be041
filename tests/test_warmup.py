"""A gunicorn worker warms itself before taking requests (market/warmup.py)."""

import gc
import os
from types import SimpleNamespace

from sqlalchemy import event

from market import create_app
from market.extensions import db
from market.warmup import warm
from tests.conftest import base_config


def _hook():
    settings = {}
    path = os.path.join(os.path.dirname(__file__), "..", "gunicorn.conf.py")
    with open(path) as f:
        exec(compile(f.read(), "gunicorn.conf.py", "exec"), settings)  # noqa: S102
    return settings["post_worker_init"]


def test_the_worker_hook_compiles_every_page_template(tmp_path):
    app = create_app(base_config(tmp_path, "sqlite://"))  # no tables: the reads fail, quietly
    pages = app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html"))
    assert len(pages) > 50 and not app.jinja_env.cache
    try:
        _hook()(SimpleNamespace(wsgi=app, cfg=SimpleNamespace(threads=4)))
        assert set(pages) <= {name for (_loader, name) in app.jinja_env.cache}
        # What the warm-up left is out of the collector's way (the test process's own
        # objects with it, hence the unfreeze).
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_warm_up_walks_a_scan_and_writes_nothing(demo_app):
    with demo_app.app_context():
        engine = db.engine
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        engine.dispose()  # an empty pool, as in a new worker
        assert warm(demo_app, connections=3) > 50
        assert engine.pool.checkedin() == 3  # one open for each of three threads
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert any("FROM STALLS" in s for s in seen)  # the stall behind a poster
    assert any("FROM SESSION_TEMPLATES" in s for s in seen)  # the card's opening hours
    assert any("FROM VENDORS" in s for s in seen)  # a vendor's view of it
    writes = ("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE", "SAVEPOINT")
    assert not [s for s in seen if s.startswith(writes)]
