"""The JSON API (v1): the same services as the pages, for a mini-program and integrations."""

import marshmallow as ma
from flask_smorest import Api as _Api
from flask_smorest import Blueprint


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "not_found"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class Api(_Api):
    """flask-smorest without its app-wide JSON error handler: market.errors routes errors,
    JSON under /api/ and translated HTML pages elsewhere."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


api = Api()
bp = Blueprint("api_v1", __name__, url_prefix="/api/v1", description="Tidal market API v1")


def init_app(app):
    from . import checkins, routes, sessions, vendors, zoning  # noqa: F401  (registers the operations on bp)

    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "signed token"}
    )
    api.register_blueprint(bp)
