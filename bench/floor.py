"""The floor under the check-in (issue 20): what any logged-in page costs in this stack before
the check-in does anything, against `/healthz`, in process (the Flask test client, the app's
own cost, no network), warmed up and frozen as a gunicorn worker is.

- `/healthz`: one `SELECT 1`, no session, no template;
- logged-in, nothing else: the session cookie read and the user loaded (the server-side login
  check that logging out needs), the same hooks as every page, a one-word answer;
- logged-in base page: the same plus the site's layout rendered with one line in it;
- token POST, nothing else: a bearer token's user read and the write guard, a little JSON;
- the vendor's scan page, then the confirm: through the API with an Idempotency-Key, as the
  rush sends it (half the vendors), or by the page's own form (the other half).

The throughput target (0.25 × `/healthz` on SQLite) allows scan + confirm about 4 × `/healthz`
in time; the floor line says how much of that the rush's two requests' framework part alone
takes (the base page and the token POST)."""

import gc
import logging
import statistics
import tempfile
import time

from flask import g, render_template
from flask_login import current_user, login_required
from flask_migrate import upgrade
from jinja2 import ChoiceLoader, DictLoader

from bench.data import rush, scale
from market.api.tokens import token_required
from market.demo.load import load_demo
from market.extensions import csrf, db
from market.warmup import freeze, warm

from .scale import _app, _confirm_form, _leave, _login, _token
from .server import scratch_database

VENDORS = 60
REPEAT = 400
PAGE = '{% extends "base.html" %}{% block content %}<p>—</p>{% endblock %}'


def _floor_routes(app) -> None:
    """Three pages that exist only in this benchmark's app."""

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

    # The API confirm's floor: a POST with a bearer token (through the same write guard) that
    # writes nothing and answers a little JSON, as the API confirm does.
    @app.route("/bench/token", methods=["POST"])
    @token_required
    def bench_token():
        return {"id": g.api_user.id}, 201

    csrf.exempt(bench_token)  # as the API blueprint is


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
            clients, bearers = [], []
            for n in range(1, VENDORS + 1):
                client = app.test_client()
                _login(client, rush.rush_phone(n))
                clients.append(client)
                bearers.append({"Authorization": f"Bearer {_token(client, rush.rush_phone(n))}"})
            plain = app.test_client()
            figures = {
                "/healthz": _median_ms(lambda i: plain.get("/healthz"), REPEAT),
                "logged in, nothing else": _median_ms(
                    lambda i: clients[i % VENDORS].get("/bench/user"), REPEAT
                ),
                "logged in, base page": _median_ms(
                    lambda i: clients[i % VENDORS].get("/bench/page"), REPEAT
                ),
                "token POST, nothing else": _median_ms(
                    lambda i: clients[i % VENDORS].post(
                        "/bench/token", json={}, headers=bearers[i % VENDORS]
                    ),
                    REPEAT,
                ),
            }
            scans, confirms = [], {"api": [], "form": []}
            for n, (client, bearer) in enumerate(zip(clients, bearers, strict=True)):
                started = time.perf_counter()
                page = client.get(f"/s/{free}")
                scanned = time.perf_counter()
                action, fields = _confirm_form(page.text)
                if n % 2:
                    done = client.post(action, data=fields)
                    assert done.status_code == 303, done.status_code
                    confirms["form"].append((time.perf_counter() - scanned) * 1000)
                    _leave(app, done.headers["Location"])
                else:
                    headers = {**bearer, "Idempotency-Key": f"floor-{n}"}
                    done = client.post(
                        "/api/v1/checkins", json={"stall_token": free}, headers=headers
                    )
                    assert done.status_code == 201, done.status_code
                    confirms["api"].append((time.perf_counter() - scanned) * 1000)
                    _leave(app, f"/{done.json['id']}")
                scans.append((scanned - started) * 1000)
            figures["scan page"] = statistics.median(scans)
            figures["confirm (API)"] = statistics.median(confirms["api"])
            figures["confirm (page form)"] = statistics.median(confirms["form"])
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
    floor = f["logged in, base page"] + f["token POST, nothing else"]
    both = f["scan page"] + f["confirm (API)"]
    print(
        f"scan + API confirm {both / health:.1f} x /healthz (ratio {health / both:.2f}); their "
        f"framework floor (a base page + a token POST that does nothing) {floor / health:.1f} x "
        f"(ratio {health / floor:.2f} at best); the check-in's own work "
        f"{(both - floor) / health:.1f} x /healthz"
    )
