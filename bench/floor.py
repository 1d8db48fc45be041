"""The floor under the check-in (issue 20): what any logged-in page costs in this stack before
the check-in does anything, against `/healthz`, in process (the Flask test client, the app's
own cost, no network), warmed up and frozen as a gunicorn worker is.

- `/healthz`: one `SELECT 1`, no session, no template;
- logged-in, nothing else: the session cookie read and the user loaded (the server-side login
  check that logging out needs), the same hooks as every page, a one-word answer;
- logged-in base page: the same plus the site's layout rendered with one line in it;
- the vendor's scan page and the confirm POST (the page's own form), as the rush sends them.

The throughput target (0.25 × `/healthz` on SQLite) allows scan + confirm about 4 × `/healthz`
in time; the floor line says how much of that the two requests' framework part alone takes."""

import gc
import logging
import statistics
import tempfile
import time

from flask import render_template
from flask_login import current_user, login_required
from flask_migrate import upgrade
from jinja2 import ChoiceLoader, DictLoader

from bench.data import rush, scale
from market.demo.load import load_demo
from market.extensions import db
from market.warmup import freeze, warm

from .scale import _app, _confirm_form, _leave, _login
from .server import scratch_database

VENDORS = 60
REPEAT = 400
PAGE = '{% extends "base.html" %}{% block content %}<p>—</p>{% endblock %}'


def _floor_routes(app) -> None:
    """Two pages that exist only in this benchmark's app."""

    @app.route("/bench/user")
    @login_required
    def bench_user():
        return str(current_user.id)

    # A named template, compiled once and cached as the app's own are (render_template_string
    # would compile it on every request).
    app.jinja_env.loader = ChoiceLoader(
        [DictLoader({"bench_page.html": PAGE}), app.jinja_env.loader]
    )

    @app.route("/bench/page")
    @login_required
    def bench_page():
        return render_template("bench_page.html")


def _median_ms(ask, n: int) -> float:
    times = []
    for i in range(n):
        started = time.perf_counter()
        ask(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(server_url: str | None) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory(prefix="floor-") as instance,
        scratch_database(server_url, prefix="floor") as url,
    ):
        app = _app(url, instance)
        _floor_routes(app)
        with app.app_context():
            upgrade()
            load_demo()
            made = scale.evening(40, login_vendors=VENDORS)
            db.session.commit()
            free = made["free_tokens"][0]
            db.session.remove()
        warm(app)
        logging.getLogger("market.access").setLevel(logging.WARNING)
        freeze()
        try:
            clients = []
            for n in range(1, VENDORS + 1):
                client = app.test_client()
                _login(client, rush.rush_phone(n))
                clients.append(client)
            plain = app.test_client()
            figures = {
                "/healthz": _median_ms(lambda i: plain.get("/healthz"), REPEAT),
                "logged in, nothing else": _median_ms(
                    lambda i: clients[i % VENDORS].get("/bench/user"), REPEAT
                ),
                "logged in, base page": _median_ms(
                    lambda i: clients[i % VENDORS].get("/bench/page"), REPEAT
                ),
            }
            scans, confirms = [], []
            for client in clients:
                started = time.perf_counter()
                page = client.get(f"/s/{free}")
                scanned = time.perf_counter()
                action, fields = _confirm_form(page.text)
                done = client.post(action, data=fields)
                confirms.append((time.perf_counter() - scanned) * 1000)
                scans.append((scanned - started) * 1000)
                assert done.status_code == 303, done.status_code
                _leave(app, done.headers["Location"])
            figures["scan page"] = statistics.median(scans)
            figures["confirm"] = statistics.median(confirms)
        finally:
            gc.unfreeze()
            with app.app_context():
                db.engine.dispose()
    return figures


def run(server_url: str | None, label: str) -> None:
    f = measure(server_url)
    health = f["/healthz"]
    print(f"\n== the floor under a check-in on {label} (in process, medians) ==")
    for name, ms in f.items():
        print(f"{name:<26}{ms:8.2f} ms  {ms / health:5.1f} x /healthz")
    floor = f["logged in, base page"] + f["logged in, nothing else"]
    both = f["scan page"] + f["confirm"]
    print(
        f"scan + confirm {both / health:.1f} x /healthz (ratio {health / both:.2f}); their "
        f"framework floor (a base page + a logged-in no-op) {floor / health:.1f} x "
        f"(ratio {health / floor:.2f} at best)"
    )
