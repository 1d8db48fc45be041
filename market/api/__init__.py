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
    from . import (  # noqa: F401  (registers the operations on bp)
        areas,
        checkins,
        complaints,
        draws,
        fund,
        guide,
        ledger,
        reports,
        reset_codes,
        routes,
        sessions,
        vendors,
        zoning,
    )

    api.init_app(app)
    _document_cross_field_rules()
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "signed token"}
    )
    api.register_blueprint(bp)


def _document_cross_field_rules():
    """Rules between fields (the schemas' @validates_schema) in JSON Schema words too, so the
    document promises no more than the API accepts. Registered before the operations, which
    then refer to these components."""
    from .complaints import ComplaintRequestSchema
    from .schemas import CheckInRequestSchema, StallUpdateSchema

    rules = {
        "CheckInRequest": (
            CheckInRequestSchema,
            {"oneOf": [{"required": ["stall_token"]}, {"required": ["stall_id"]}]},
        ),
        "ComplaintRequest": (
            ComplaintRequestSchema,
            {"oneOf": [{"required": ["stall_token"]}, {"required": ["market_slug"]}]},
        ),
        "StallUpdate": (
            StallUpdateSchema,
            {
                "anyOf": [
                    {"properties": {"disabled_reason": {"enum": [None, ""]}}},
                    {"required": ["status"], "properties": {"status": {"enum": ["disabled"]}}},
                ]
            },
        ),
    }
    for name, (schema, extra) in rules.items():
        api.spec.components.schema(name, component=extra, schema=schema)
