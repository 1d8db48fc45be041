"""潮汐集市: the system that runs a community's tidal market."""

import json
import os
from pathlib import Path

from flask import Flask, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from . import assets, config, dbsetup, errors, i18n, security, weblog
from .extensions import babel, compress, csrf, db, htmx, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("MARKET_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.json = i18n.JSONProvider(app)  # lazy strings as plain text, never as HTML
    app.config.from_object(config.Defaults)
    if test_config is not None and "INSTANCE_PATH" in test_config:
        app.instance_path = test_config["INSTANCE_PATH"]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config.from_environment(app.instance_path))
    if test_config is not None:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.load_secret_key(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = config.normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations")
    )
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)

    _init_extensions(app)
    _register_blueprints(app)
    errors.init_app(app)
    weblog.init_app(app)

    from . import cli, scheduler

    cli.init_app(app)
    scheduler.init_app(app)  # attached, not started: see market/scheduler.py
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    # Every flush bumps markets.data_version when it wrote what workers cache per market.
    from .services.common import versions  # noqa: F401

    # Registered after the extension, so it runs before it (teardowns run in reverse order):
    # a ROLLBACK on a connection the database dropped must not escape as a bare 500.
    app.teardown_appcontext(errors.release_session)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    htmx.init_app(app)
    compress.init_app(app)
    assets.init_app(app)  # digest names for static files (a year in caches)

    @app.after_request
    def static_in_memory(response):
        # Runs before compression (after_request runs last-registered first). Our static files
        # are small: read whole, flask-compress takes its buffered path, which closes the
        # file and offers gzip too, instead of streaming and leaving the handle open.
        if request.endpoint == "static" and response.status_code == 200:
            response.direct_passthrough = False
            response.make_sequence()
        return response

    limiter.init_app(app)
    app.session_interface = security.SessionInterface()

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(errors.unauthorized)

    from .auth import browser

    browser.init_app(login_manager)  # the session cookie is checked against the server

    @app.before_request
    def _declare_write_intent():
        reads = request.method in ("GET", "HEAD", "OPTIONS")
        # SQLite: only requests that may write take the write lock up front.
        dbsetup.write_intent.set(not reads)
        # PostgreSQL: a page read may end with COMMIT (errors.release_session). In g, which
        # ends with the app context, unlike the context variable a thread keeps.
        g.page_read = reads

    app.after_request(security.add_security_headers)
    app.after_request(i18n.remember_choice)

    app.jinja_env.filters["fromjson"] = json.loads
    app.jinja_env.filters["zone_name"] = i18n.zone_name
    app.jinja_env.filters["datetimeformat"] = i18n.datetimeformat

    @app.context_processor
    def _template_globals():
        from .services.auth import access

        return {"html_lang": i18n.html_lang, "access": access}


def _register_blueprints(app: Flask) -> None:
    from . import api
    from .admin import bp as admin_bp
    from .areas import bp as areas_bp
    from .auth import bp as auth_bp
    from .checkin import bp as checkin_bp
    from .complaints import bp as complaints_bp
    from .draws import bp as draws_bp
    from .fees import bp as fees_bp
    from .fund import bp as fund_bp
    from .guide import bp as guide_bp
    from .ledger import bp as ledger_bp
    from .main import bp as main_bp
    from .public import bp as public_bp
    from .reports import bp as reports_bp
    from .sessions import bp as sessions_bp
    from .vendors import bp as vendors_bp
    from .zoning import bp as zoning_bp

    for bp in (main_bp, auth_bp, admin_bp, zoning_bp, guide_bp, vendors_bp, checkin_bp, fees_bp):
        app.register_blueprint(bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(complaints_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(areas_bp)
    app.register_blueprint(fund_bp)
    app.register_blueprint(draws_bp)
    api.init_app(app)
    csrf.exempt(api.bp)
