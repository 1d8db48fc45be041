from flask import jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from ..extensions import db
from ..models import Role, utcnow
from ..services.auth import access
from ..services.common import redis_store, uploads
from . import bp

ROLE_HOMES = {
    Role.ADMIN: "admin.dashboard",
    Role.CADRE: "admin.dashboard",
    Role.SUPERVISOR: "areas.index",
    Role.GUIDE: "guide.index",
    Role.VENDOR: "vendors.home",
}


@bp.route("/")
def index():
    if current_user.is_authenticated:
        role = access.primary_role(current_user)
        if role:
            return redirect(url_for(ROLE_HOMES[role]))
    return render_template("main/index.html")


@bp.route("/healthz")
def healthz():
    """For load balancers and Docker: is the app up, and can it reach its database?"""
    body = {"status": "ok", "db": "ok", "time": utcnow().isoformat()}
    body["disk"] = uploads.disk_state()  # "low" still trades: a warning, not a 503
    if (redis := redis_store.status()) is not None:
        body["redis"] = redis  # "down" only weakens rate limits: the market trades on (200)
    try:
        db.session.execute(text("SELECT 1"))
        body["db_backend"] = db.engine.dialect.name
    except Exception as e:  # noqa: BLE001  any failure here means "not healthy"
        db.session.rollback()
        body.update(status="degraded", db="unavailable", detail=type(e).__name__)
        return jsonify(body), 503
    return jsonify(body)
