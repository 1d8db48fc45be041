from flask import render_template
from flask_login import current_user, login_required

from ..services import access
from . import bp


@bp.route("/home")
@login_required
def home():
    return render_template("vendors/home.html", vendors=access.vendor_profiles(current_user))
